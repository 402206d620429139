"""Top-level HTTP routes."""

from django.contrib import admin
from django.urls import include, path

from api.admin_site import BleepAdminSite
from api.health import healthz, livez, readyz
from api.metrics import metrics
from api.views import sso
from bleep import views

# The admin asks for an authenticator code as well as the password, as sign-in to the API
# does for superusers (docs/security.md): an administrator's password alone opens nothing.
# Replacing the default site's class is how django-otp's documentation enables it; Bleep's
# subclass also lets in an administrator signed in at the identity provider with two
# factors (docs/sso.md).
admin.site.__class__ = BleepAdminSite

urlpatterns = [
    path("", views.app_page, name="app"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Other hospital systems, as themselves (docs/fhir.md).
    path("fhir/", include("api.fhir.urls")),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # Single sign-on's browser pages (docs/sso.md); the app's part is under /api/auth/sso.
    path("auth/sso/start", sso.start, name="sso-start"),
    path("auth/sso/callback", sso.callback, name="sso-callback"),
    path("auth/sso/logout", sso.logout, name="sso-logout"),
    path("auth/sso/backchannel-logout", sso.backchannel_logout, name="sso-backchannel-logout"),
]

# An uncaught exception under /api/ answers in the API's JSON shape (503 when the database
# failed), not Django's HTML page: a phone app cannot read that page.
handler500 = "api.exceptions.server_error"
