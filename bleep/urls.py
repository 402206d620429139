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
