"""REST routes under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api.views import auth, bleeps, calendars, directory

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
    # rota: calendars
    path("rota/imports/csv", calendars.CsvImportView.as_view(), name="rota-import-csv"),
    path("rota/imports/ical", calendars.IcalImportView.as_view(), name="rota-import-ical"),
    path("rota/exports/shifts.csv", calendars.CsvExportView.as_view(), name="rota-export-csv"),
    path("rota/exports/shifts.ics", calendars.IcalExportView.as_view(), name="rota-export-ical"),
    path("rota/feeds", calendars.FeedListView.as_view(), name="rota-feeds"),
    path("rota/feeds/<int:feed_id>", calendars.FeedDetailView.as_view(), name="rota-feed"),
    path(
        "rota/feeds/<slug:token>.ics",
        calendars.FeedCalendarView.as_view(),
        name="rota-feed-calendar",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
