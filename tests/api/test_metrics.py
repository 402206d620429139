"""`/metrics`: Prometheus's text, refused without its token, and each counter and histogram
moving by the right amount over a bleep's life."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from escalation.models import Deadline
from escalation.services.firing import beat_heartbeat, fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.services.answers import acknowledge_bleep, record_receipt
from messaging.services.history import record_channel_outcome
from tests import factories
from tests.conftest import Ward
from tests.messaging.test_consumers import open_socket, read_until_caught_up

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "scrape-me-please"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(token: str | None = TOKEN) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return Client().get("/metrics", headers=headers)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_off_without_a_token_and_refused_without_the_right_one(
    settings: Any, db: None
) -> None:
    assert scrape().status_code == 404
    settings.METRICS_TOKEN = TOKEN
    assert scrape(None).status_code == 401
    assert scrape("wrong").status_code == 401
    answer = scrape()
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=")


def test_a_bleeps_life_moves_each_counter_and_histogram_by_the_right_amount(
    ward: Ward, settings: Any
) -> None:
    before = {
        "sent": value("bleep_bleeps_sent_total", priority="urgent"),
        "acknowledged": value("bleep_bleeps_acknowledged_total", priority="urgent"),
        "delivered": value("bleep_delivery_seconds_count", priority="urgent"),
        "answer": value("bleep_acknowledge_seconds_count", priority="urgent"),
        "answer_sum": value("bleep_acknowledge_seconds_sum", priority="urgent"),
        "steps": value("bleep_escalation_steps_fired_total"),
        "late": value("bleep_escalation_lateness_seconds_count"),
        "push": value("bleep_channel_sends_total", channel="push", outcome="sent"),
    }
    sent_at = timezone.now()
    bleep = send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role, priority="urgent"),
        now=sent_at,
    ).bleep
    record_receipt(
        device=ward.doctor_device,
        bleep_id=bleep.pk,
        action=Action.DELIVER,
        now=sent_at + timedelta(seconds=2),
    )
    # Its first step falls due; the worker fires it 3 s late.
    first = Deadline.objects.get(bleep=bleep, step=1)
    fire_due_deadlines(now=first.due_at + timedelta(seconds=3))
    with transaction.atomic():  # as the push sender records it: in its own transaction
        record_channel_outcome(
            bleep_id=bleep.pk,
            recipient_id=ward.doctor.pk,
            action=Action.PUSH,
            channel="push",
            outcome="sent",
            why="",
            now=sent_at,
        )
    acknowledge_bleep(
        device=ward.doctor_device,
        bleep_id=bleep.pk,
        eta_minutes=5,
        comment="",
        now=sent_at + timedelta(seconds=90),
    )
    assert value("bleep_bleeps_sent_total", priority="urgent") == before["sent"] + 1
    assert value("bleep_bleeps_acknowledged_total", priority="urgent") == before["acknowledged"] + 1
    assert value("bleep_delivery_seconds_count", priority="urgent") == before["delivered"] + 1
    assert value("bleep_acknowledge_seconds_count", priority="urgent") == before["answer"] + 1
    assert value("bleep_acknowledge_seconds_sum", priority="urgent") == pytest.approx(
        before["answer_sum"] + 90
    )
    assert value("bleep_escalation_steps_fired_total") == before["steps"] + 1
    assert value("bleep_escalation_lateness_seconds_count") == before["late"] + 1
    assert value("bleep_channel_sends_total", channel="push", outcome="sent") == before["push"] + 1


def test_the_scrape_says_the_workers_heartbeat_age_the_outboxes_and_the_open_bleeps(
    ward: Ward, settings: Any
) -> None:
    settings.METRICS_TOKEN = TOKEN
    beat_heartbeat(worker="test:1", now=timezone.now() - timedelta(seconds=20))
    send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role, priority="emergency"),
        now=timezone.now(),
    )
    found = samples(scrape().content.decode())
    assert found[("bleep_worker_heartbeat_age_seconds", ())] >= 20
    assert found[("bleep_open_bleeps", (("priority", "emergency"),))] == 1
    assert ("bleep_outbox_depth", (("outbox", "push"),)) in found
    assert ("bleep_outbox_depth", (("outbox", "texts_and_pages"),)) in found


async def test_open_sockets_count_signed_in_sockets(ward: Ward) -> None:
    before = value("bleep_open_sockets")
    sockets = [await open_socket(ward.doctor_token), await open_socket(ward.nurse_token)]
    assert value("bleep_open_sockets") == before + 2
    for socket in sockets:
        await read_until_caught_up(socket)
        await socket.disconnect()
    assert value("bleep_open_sockets") == before
