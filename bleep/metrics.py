"""Prometheus metrics (docs/operations.md), with the official client, prometheus-client.

Events are counted where they happen, once their transaction commits (a rolled-back send
counts nothing); the state of things (the worker's heartbeat, what waits in each outbox,
open bleeps) is read from the database when `/metrics` is scraped, so it is true in every
process. Where web processes and workers are separate, set PROMETHEUS_MULTIPROC_DIR to a
directory they share (the client's multiprocess mode) so one scrape adds them all up.
"""

import os
from collections.abc import Iterator
from datetime import datetime

from django.db import transaction
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

PRIORITY = ["priority"]
# Seconds, from a quarter of a second (a phone on Wi-Fi) to ten minutes (a bleep unanswered).
DELIVERY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)
ANSWER_BUCKETS = (5, 15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600)
LATENESS_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120)

BLEEPS_SENT = Counter("bleep_bleeps_sent", "Bleeps sent, by priority", PRIORITY)
BLEEPS_ACKNOWLEDGED = Counter(
    "bleep_bleeps_acknowledged", "Bleeps acknowledged, by priority", PRIORITY
)
DELIVERY_SECONDS = Histogram(
    "bleep_delivery_seconds",
    "From a copy of a bleep being sent to a device of its recipient confirming it",
    PRIORITY,
    buckets=DELIVERY_BUCKETS,
)
ACKNOWLEDGE_SECONDS = Histogram(
    "bleep_acknowledge_seconds",
    "From a bleep being sent to its acknowledgement",
    PRIORITY,
    buckets=ANSWER_BUCKETS,
)
STEPS_FIRED = Counter("bleep_escalation_steps_fired", "Escalation steps fired")
ESCALATION_LATENESS_SECONDS = Histogram(
    "bleep_escalation_lateness_seconds",
    "How long after it fell due an escalation step took effect",
    buckets=LATENESS_BUCKETS,
)
CHANNEL_SENDS = Counter(
    "bleep_channel_sends",
    "Pushes, text messages and pages, by channel and what became of them",
    ["channel", "outcome"],
)
OPEN_SOCKETS = Gauge(
    "bleep_open_sockets", "Devices' sockets open and signed in", multiprocess_mode="livesum"
)


def count_sent(*, priority: str) -> None:
    transaction.on_commit(lambda: BLEEPS_SENT.labels(priority).inc())


def count_acknowledged(*, priority: str, sent_at: datetime, at: datetime) -> None:
    seconds = max((at - sent_at).total_seconds(), 0)

    def count() -> None:
        BLEEPS_ACKNOWLEDGED.labels(priority).inc()
        ACKNOWLEDGE_SECONDS.labels(priority).observe(seconds)

    transaction.on_commit(count)


def count_delivered(*, priority: str, sent_at: datetime, at: datetime) -> None:
    seconds = max((at - sent_at).total_seconds(), 0)
    transaction.on_commit(lambda: DELIVERY_SECONDS.labels(priority).observe(seconds))


def count_steps_fired(*, due: list[datetime], took_effect_at: datetime) -> None:
    """Count fired steps and their lateness; called after their transaction committed."""
    for due_at in due:
        STEPS_FIRED.inc()
        ESCALATION_LATENESS_SECONDS.observe(max((took_effect_at - due_at).total_seconds(), 0))


def count_channel_send(*, channel: str, outcome: str) -> None:
    transaction.on_commit(lambda: CHANNEL_SENDS.labels(channel, outcome).inc())


def exposition(state: Collector) -> bytes:
    """The scrape's text: every process's events (multiprocess mode when configured), and
    `state`, what the database says now (api.metrics)."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(state)
    return generate_latest(registry)


class _ThisProcess(Collector):
    """This process's own metrics from the default registry, without its process_* and
    python_* collectors, which are about one process of several."""

    def collect(self) -> Iterator[object]:  # type: ignore[override]
        for family in REGISTRY.collect():
            if family.name.startswith("bleep_"):
                yield family
