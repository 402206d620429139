"""Switchboard brought into a clinician's bleep takes it on; it does not acknowledge it. The
escalation to clinicians goes on until one of them acknowledges (HZ-12)."""

from datetime import timedelta

import pytest

from escalation.models import Deadline
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import decline_bleep, send_bleep
from messaging.exceptions import SwitchboardCannotAcknowledge
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    HistoryEntry,
    Priority,
    PushMessage,
    StreamEvent,
)
from messaging.push import register_push_subscription
from messaging.services.answers import acknowledge_bleep, handle_bleep
from rota.models import Person, Role
from tests import factories
from tests.conftest import Ward
from tests.escalation.test_steps import make_policy
from tests.push_service import PushService

MINUTE = timedelta(minutes=1)


def consultant_above(ward: Ward) -> tuple[Person, Device]:
    """Put a consultant, on call now, between the registrar and switchboard."""
    consultant_role = factories.make_role(
        "Consultant physician on call", bleep_number="2350", fallback=ward.switchboard_role
    )
    Role.objects.filter(pk=ward.role.pk).update(fallback=consultant_role)
    consultant = factories.make_person("helen.carter")
    factories.on_call_now(consultant_role, consultant, ward.now)
    return consultant, factories.make_device(consultant)[0]


def subscribe(push_service: PushService, *devices: Device) -> None:
    for device in devices:
        browser = push_service.subscribe()
        register_push_subscription(
            device=device,
            endpoint=browser.endpoint,
            p256dh=browser.p256dh,
            auth=browser.auth,
            now=device.created_at,
        )


def emergency(ward: Ward) -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role, "Cardiac arrest, bay 2", priority=Priority.EMERGENCY),
        now=ward.now,
    ).bleep


def status_of(bleep: Bleep, person: Person) -> str:
    return Delivery.objects.get(bleep=bleep, recipient=person).status


def events_of(person: Person, bleep: Bleep, after: int = 0) -> list[str]:
    stream = StreamEvent.objects.filter(user=person, data__bleep_id=bleep.pk, seq__gt=after)
    return list(stream.order_by("seq").values_list("type", flat=True))


def pushes_to(person: Person, bleep: Bleep) -> list[str]:
    pushed = PushMessage.objects.filter(bleep=bleep, subscription__device__user=person)
    return [message.payload["kind"] for message in pushed.order_by("pk")]


def stored(bleep: Bleep) -> tuple[object, ...]:
    deliveries = tuple(bleep.deliveries.order_by("pk").values_list("status", flat=True))
    bleep.refresh_from_db()
    return bleep.status, deliveries, HistoryEntry.objects.count(), StreamEvent.objects.count()


@pytest.mark.hazard("HZ-12")
def test_switchboard_brought_into_an_emergency_takes_it_on_and_the_escalation_reaches_a_clinician(
    ward: Ward, push_service: PushService
) -> None:
    consultant, consultant_device = consultant_above(ward)
    operator_device, _ = factories.make_device(ward.operator)
    subscribe(push_service, ward.doctor_device, operator_device, consultant_device)
    make_policy(("notify_switchboard", 60), ("escalate", 60), ("renotify", 60), role=ward.role)
    bleep = emergency(ward)
    fire_due_deadlines(now=ward.now + MINUTE)
    assert status_of(bleep, ward.operator) == DeliveryStatus.SENT
    before = stored(bleep)

    with pytest.raises(SwitchboardCannotAcknowledge):
        acknowledge_bleep(
            device=operator_device, bleep_id=bleep.pk, eta_minutes=None, comment="", now=ward.now
        )
    assert stored(bleep) == before

    taken_on = ward.now + MINUTE + timedelta(seconds=20)
    handle_bleep(device=operator_device, bleep_id=bleep.pk, note="phoning the team", now=taken_on)
    assert status_of(bleep, ward.operator) == DeliveryStatus.HANDLING
    assert Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN
    for person in (ward.nurse, ward.doctor, ward.operator):
        event = StreamEvent.objects.get(user=person, type="bleep.handling")
        assert event.data["by"]["id"] == ward.operator.pk
        assert event.data["note"] == "phoning the team"
        assert event.data["bleep"]["status"] == "open"
        assert event.data["bleep"]["handling"][0]["by"]["id"] == ward.operator.pk
    entry = HistoryEntry.objects.get(bleep=bleep, action="handle")
    assert (entry.actor, entry.device, entry.at) == (ward.operator, operator_device, taken_on)
    assert (entry.from_status, entry.to_status) == ("sent", "handling")
    assert entry.detail == {"reason": "phoning the team"}
    operator_seq = StreamEvent.objects.filter(user=ward.operator).order_by("-seq")[0].seq
    operator_pushes = pushes_to(ward.operator, bleep)

    fire_due_deadlines(now=ward.now + 2 * MINUTE)  # escalate: the consultant is brought in
    fire_due_deadlines(now=ward.now + 3 * MINUTE)  # renotify: the clinicians are reminded
    assert status_of(bleep, consultant) == DeliveryStatus.SENT
    assert pushes_to(consultant, bleep) == ["escalated", "reminder"]
    assert pushes_to(ward.doctor, bleep) == ["new", "reminder"]
    assert "bleep.renotified" in events_of(ward.doctor, bleep)
    assert "bleep.renotified" not in events_of(ward.operator, bleep, after=operator_seq)
    assert pushes_to(ward.operator, bleep) == operator_pushes == ["escalated"]

    acknowledge_bleep(
        device=consultant_device,
        bleep_id=bleep.pk,
        eta_minutes=2,
        comment="coming",
        now=ward.now + 3 * MINUTE,
    )
    bleep.refresh_from_db()
    assert (bleep.status, bleep.acknowledged_by) == (BleepStatus.ACKNOWLEDGED, consultant)


@pytest.mark.hazard("HZ-12")
def test_a_step_with_nobody_new_to_bring_in_reminds_the_clinicians_still_waiting_not_switchboard(
    ward: Ward,
) -> None:
    operator_device, _ = factories.make_device(ward.operator)
    bleep = emergency(ward)
    # The built-in plan: remind, escalate (up to switchboard), bring in switchboard.
    fire_due_deadlines(now=ward.now + MINUTE)
    fire_due_deadlines(now=ward.now + 2 * MINUTE)
    handle_bleep(device=operator_device, bleep_id=bleep.pk, note="", now=ward.now + 2 * MINUTE)
    operator_seq = StreamEvent.objects.filter(user=ward.operator).order_by("-seq")[0].seq
    doctor_seq = StreamEvent.objects.filter(user=ward.doctor).order_by("-seq")[0].seq

    fire_due_deadlines(now=ward.now + 3 * MINUTE)
    fire_due_deadlines(now=ward.now + 4 * MINUTE)

    steps = HistoryEntry.objects.filter(bleep=bleep, delivery__isnull=True, detail__step__gte=3)
    assert list(steps.values_list("action", flat=True)) == ["renotify", "renotify"]
    assert events_of(ward.doctor, bleep, after=doctor_seq) == ["bleep.renotified"] * 2
    assert events_of(ward.operator, bleep, after=operator_seq) == []
    assert Bleep.objects.get(pk=bleep.pk).status == BleepStatus.OPEN


@pytest.mark.hazard("HZ-12")
def test_when_the_last_clinician_declines_while_switchboard_handles_it_the_next_step_is_due_now(
    ward: Ward,
) -> None:
    operator_device, _ = factories.make_device(ward.operator)
    make_policy(("notify_switchboard", 60), ("escalate", 600), role=ward.role)
    bleep = emergency(ward)
    fire_due_deadlines(now=ward.now + MINUTE)
    handle_bleep(device=operator_device, bleep_id=bleep.pk, note="", now=ward.now + MINUTE)
    declined_at = ward.now + 2 * MINUTE

    decline_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=declined_at
    )

    assert Deadline.objects.get(bleep=bleep, fired_at__isnull=True).due_at == declined_at
