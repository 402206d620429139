"""`GET /metrics`: Prometheus's text format, for the engineer's monitoring (docs/operations.md).

Off unless METRICS_TOKEN is set; then only a scrape that sends it (`Authorization: Bearer`)
is answered. The events are counted where they happen (bleep.metrics); the state of things
is read here, at each scrape, with a few small queries.
"""

import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bleep.metrics import exposition
from escalation.selectors import latest_heartbeat
from messaging.models import Bleep, BleepStatus, ChannelMessage, ChannelStatus
from messaging.selectors import push_backlog


@dataclass(frozen=True)
class State:
    heartbeat_age: float | None
    outboxes: dict[str, int]
    open_bleeps: dict[str, int]


def read_state() -> State:
    now = timezone.now()
    beat_at, _ = latest_heartbeat(now=now)
    texts = ChannelMessage.objects.filter(status=ChannelStatus.PENDING, due_at__lte=now).count()
    open_bleeps = dict(
        Bleep.objects.filter(status=BleepStatus.OPEN)
        .values_list("priority")
        .annotate(n=Count("pk"))
        .values_list("priority", "n")
    )
    return State(
        heartbeat_age=(now - beat_at).total_seconds() if beat_at else None,
        outboxes={"push": push_backlog(now=now).due, "texts_and_pages": texts},
        open_bleeps=open_bleeps,
    )


class DatabaseState(Collector):
    """What is true now: the worker's heartbeat age, what waits in each outbox, and the
    open bleeps by priority."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = read_state()
        heartbeat = GaugeMetricFamily(
            "bleep_worker_heartbeat_age_seconds",
            "Seconds since an escalation worker last beat (absent if none ever has)",
        )
        if state.heartbeat_age is not None:
            heartbeat.add_metric([], state.heartbeat_age)
        yield heartbeat
        outbox = GaugeMetricFamily(
            "bleep_outbox_depth",
            "Messages due and waiting to be sent, by outbox",
            labels=["outbox"],
        )
        for name, depth in state.outboxes.items():
            outbox.add_metric([name], depth)
        yield outbox
        open_bleeps = GaugeMetricFamily(
            "bleep_open_bleeps", "Bleeps not yet answered or cancelled", labels=["priority"]
        )
        for priority, count in sorted(state.open_bleeps.items()):
            open_bleeps.add_metric([priority], count)
        yield open_bleeps


@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse("metrics are off: set METRICS_TOKEN", status=404)
    sent = request.headers.get("Authorization", "")
    if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("send Authorization: Bearer <METRICS_TOKEN>", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(exposition(DatabaseState()), content_type=CONTENT_TYPE_LATEST)
