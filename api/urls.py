"""REST routes under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import views

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="login"),
    path("auth/logout", views.LogoutView.as_view(), name="logout"),
    path("auth/devices", views.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<int:device_id>", views.DeviceDetailView.as_view(), name="device"),
    path("me", views.MeView.as_view(), name="me"),
    path("on-call", views.OnCallView.as_view(), name="on-call"),
    path("bleeps", views.BleepListView.as_view(), name="bleeps"),
    path("bleeps/<int:bleep_id>", views.BleepDetailView.as_view(), name="bleep"),
    path(
        "bleeps/<int:bleep_id>/acknowledge",
        views.AcknowledgeView.as_view(),
        name="bleep-acknowledge",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
