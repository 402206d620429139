"""Top-level HTTP routes."""

from django.contrib import admin
from django.urls import include, path

from api.health import healthz
from bleep import views

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
