"""REST routes under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import auth, bleeps, directory, patterns

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="login"),
    path("auth/logout", auth.LogoutView.as_view(), name="logout"),
    path("auth/devices", auth.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<int:device_id>", auth.DeviceDetailView.as_view(), name="device"),
    path("me", auth.MeView.as_view(), name="me"),
    path("on-call", directory.OnCallView.as_view(), name="on-call"),
    path("bleeps", bleeps.BleepListView.as_view(), name="bleeps"),
    path("bleeps/<int:bleep_id>", bleeps.BleepDetailView.as_view(), name="bleep"),
    path(
        "bleeps/<int:bleep_id>/acknowledge",
        bleeps.AcknowledgeView.as_view(),
        name="bleep-acknowledge",
    ),
    # rota: patterns
    path("rota/patterns", patterns.PatternListView.as_view(), name="patterns"),
    path("rota/patterns/<int:pattern_id>", patterns.PatternDetailView.as_view(), name="pattern"),
    path(
        "rota/patterns/<int:pattern_id>/expand",
        patterns.ExpandPatternView.as_view(),
        name="pattern-expand",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
