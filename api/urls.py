"""REST routes under /api/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from api.views import (
    auth,
    bleeps,
    calendars,
    directory,
    escalation,
    gaps,
    patterns,
    push,
    rota,
    swaps,
)

urlpatterns = [
    path("auth/login", auth.LoginView.as_view(), name="login"),
    path("auth/logout", auth.LogoutView.as_view(), name="logout"),
    path("auth/devices", auth.DeviceListView.as_view(), name="devices"),
    path("auth/devices/<int:device_id>", auth.DeviceDetailView.as_view(), name="device"),
    path("auth/lockouts/<str:username>", auth.SignInLockoutView.as_view(), name="sign-in-lockout"),
    path("me", auth.MeView.as_view(), name="me"),
    path("on-call", directory.OnCallView.as_view(), name="on-call"),
    path("push/key", push.PushKeyView.as_view(), name="push-key"),
    path("push/subscriptions", push.PushSubscriptionListView.as_view(), name="push-subscriptions"),
    path(
        "push/subscriptions/<int:subscription_id>",
        push.PushSubscriptionDetailView.as_view(),
        name="push-subscription",
    ),
    path("bleeps", bleeps.BleepListView.as_view(), name="bleeps"),
    path("bleeps/sent", bleeps.SentBleepListView.as_view(), name="bleeps-sent"),
    path("switchboard/bleeps", bleeps.SwitchboardBoardView.as_view(), name="switchboard-board"),
    path("switchboard/alerts", bleeps.FloodAlertListView.as_view(), name="switchboard-alerts"),
    path("bleeps/<int:bleep_id>", bleeps.BleepDetailView.as_view(), name="bleep"),
    path("bleeps/<int:bleep_id>/delivered", bleeps.DeliveredView.as_view(), name="bleep-delivered"),
    path("bleeps/<int:bleep_id>/read", bleeps.ReadView.as_view(), name="bleep-read"),
    path("bleeps/<int:bleep_id>/escalate", bleeps.EscalateView.as_view(), name="bleep-escalate"),
    path("bleeps/<int:bleep_id>/redirect", bleeps.RedirectView.as_view(), name="bleep-redirect"),
    path("bleeps/<int:bleep_id>/handle", bleeps.HandleView.as_view(), name="bleep-handle"),
    path("bleeps/<int:bleep_id>/decline", bleeps.DeclineView.as_view(), name="bleep-decline"),
    path("bleeps/<int:bleep_id>/cancel", bleeps.CancelView.as_view(), name="bleep-cancel"),
    path("bleeps/<int:bleep_id>/replies", bleeps.ReplyView.as_view(), name="bleep-replies"),
    path(
        "bleeps/<int:bleep_id>/acknowledge",
        bleeps.AcknowledgeView.as_view(),
        name="bleep-acknowledge",
    ),
    path("team-calls", escalation.TeamCallView.as_view(), name="team-calls"),
    # escalation policies
    path("escalation/policies", escalation.PolicyListView.as_view(), name="policies"),
    path(
        "escalation/policies/effective",
        escalation.EffectivePolicyView.as_view(),
        name="policy-effective",
    ),
    path(
        "escalation/policies/<int:policy_id>",
        escalation.PolicyDetailView.as_view(),
        name="policy",
    ),
    # rota: records
    path("rota/sites", rota.SiteListView.as_view(), name="sites"),
    path("rota/sites/<int:record_id>", rota.SiteDetailView.as_view(), name="site"),
    path("rota/locations", rota.LocationListView.as_view(), name="locations"),
    path("rota/locations/<int:record_id>", rota.LocationDetailView.as_view(), name="location"),
    path("rota/teams", rota.TeamListView.as_view(), name="teams"),
    path("rota/teams/<int:record_id>", rota.TeamDetailView.as_view(), name="team"),
    path("rota/roles", rota.RoleListView.as_view(), name="roles"),
    path("rota/roles/<int:record_id>", rota.RoleDetailView.as_view(), name="role"),
    path("rota/shifts", rota.ShiftListView.as_view(), name="shifts"),
    path("rota/shifts/<int:record_id>", rota.ShiftDetailView.as_view(), name="shift"),
    path("rota/changes", rota.RotaChangeListView.as_view(), name="rota-changes"),
    # rota: swaps, cover, gaps
    path("rota/swaps", swaps.SwapListView.as_view(), name="swaps"),
    path("rota/swaps/<int:swap_id>", swaps.SwapDetailView.as_view(), name="swap"),
    path("rota/swaps/<int:swap_id>/accept", swaps.AcceptSwapView.as_view(), name="swap-accept"),
    path("rota/swaps/<int:swap_id>/decline", swaps.DeclineSwapView.as_view(), name="swap-decline"),
    path("rota/swaps/<int:swap_id>/approve", swaps.ApproveSwapView.as_view(), name="swap-approve"),
    path("rota/swaps/<int:swap_id>/reject", swaps.RejectSwapView.as_view(), name="swap-reject"),
    path("rota/swaps/<int:swap_id>/cancel", swaps.CancelSwapView.as_view(), name="swap-cancel"),
    path("rota/shifts/<int:shift_id>/cover", swaps.CoverShiftView.as_view(), name="shift-cover"),
    path("rota/gaps", gaps.GapsView.as_view(), name="gaps"),
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
    # rota: patterns
    path("rota/patterns", patterns.PatternListView.as_view(), name="patterns"),
    path("rota/patterns/<int:pattern_id>", patterns.PatternDetailView.as_view(), name="pattern"),
    path(
        "rota/patterns/<int:pattern_id>/expand",
        patterns.ExpandPatternView.as_view(),
        name="pattern-expand",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
]
