"""Top-level HTTP routes."""

from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

from api.health import healthz
from bleep import views

# The admin asks for an authenticator code as well as the password, as sign-in to the API
# does for superusers (docs/security.md): an administrator's password alone opens nothing.
# Replacing the default site's class is how django-otp's documentation enables it.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", views.app_page, name="app"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("healthz", healthz, name="healthz"),
]

# An uncaught exception under /api/ answers in the API's JSON shape (503 when the database
# failed), not Django's HTML page: a phone app cannot read that page.
handler500 = "api.exceptions.server_error"
