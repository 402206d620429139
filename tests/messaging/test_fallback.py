"""Text messages through GOV.UK Notify and pages through a WCTP gateway, for bleeps no device
confirmed in time: against fakes that speak each protocol, moved by the clock argument."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.fallback.sender import send_due_messages
from messaging.models import (
    ChannelMessage,
    ChannelStatus,
    ContactKind,
    ContactPoint,
    HistoryEntry,
    Priority,
    StreamEvent,
)
from messaging.services.answers import acknowledge_bleep, record_receipt
from messaging.services.bleeps import cancel_bleep
from tests import factories
from tests.conftest import Ward
from tests.notify_service import NotifyService
from tests.wctp_gateway import WctpGateway

pytestmark = pytest.mark.django_db

MOBILE = "+447700900123"
PAGER = "4455"


def verified(person: Any, kind: ContactKind, address: str, now: datetime) -> ContactPoint:
    return ContactPoint.objects.create(
        person=person, kind=kind, address=address, created_at=now, verified_at=now
    )


def send(ward: Ward, priority: str = Priority.URGENT, **fields: Any) -> Any:
    draft = factories.draft(ward.role, priority=priority, **fields)
    return send_bleep(sender=ward.nurse, device=ward.nurse_device, draft=draft, now=ward.now).bleep


@pytest.mark.hazard("HZ-27")
def test_an_urgent_bleep_no_device_confirmed_is_texted_after_two_minutes(
    ward: Ward, notify: NotifyService
) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    bleep = send(ward)
    send_due_messages(now=ward.now + timedelta(seconds=119))
    assert notify.texts == []
    send_due_messages(now=ward.now + timedelta(seconds=120))
    [text] = notify.texts
    assert text.phone_number == MOBILE
    assert "URGENT for Medical Registrar on call (2345), waiting 2 min" in text.body
    assert "ext 4321" in text.body
    assert text.reference == f"bleep-channel-{ChannelMessage.objects.get().pk}"
    entry = HistoryEntry.objects.get(bleep=bleep, action=Action.FALLBACK)
    assert entry.detail == {"channel": "sms", "outcome": "sent"}


@pytest.mark.parametrize(
    ("priority", "seconds"),
    [(Priority.EMERGENCY, 30), (Priority.URGENT, 120), (Priority.ROUTINE, 300)],
)
def test_each_priority_falls_back_after_its_own_wait(
    ward: Ward, notify: NotifyService, priority: str, seconds: int
) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    send(ward, priority=priority)
    send_due_messages(now=ward.now + timedelta(seconds=seconds - 1))
    assert notify.texts == []
    send_due_messages(now=ward.now + timedelta(seconds=seconds))
    assert len(notify.texts) == 1


def test_the_pager_follows_the_text_after_as_long_again(
    ward: Ward, notify: NotifyService, pager_gateway: WctpGateway
) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    verified(ward.doctor, ContactKind.PAGER, PAGER, ward.now)
    send(ward, priority=Priority.EMERGENCY)
    send_due_messages(now=ward.now + timedelta(seconds=30))
    assert len(notify.texts) == 1 and pager_gateway.pages == []
    send_due_messages(now=ward.now + timedelta(seconds=60))
    [page] = pager_gateway.pages
    assert page.pager == PAGER
    assert page.text.startswith("Bleep: EMERGENCY for Medical Registrar on call (2345)")


def test_an_emergency_goes_on_every_channel_at_once_when_so_configured(
    ward: Ward, notify: NotifyService, pager_gateway: WctpGateway, settings: Any
) -> None:
    settings.FALLBACK_EMERGENCY_AT_ONCE = True
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    verified(ward.doctor, ContactKind.PAGER, PAGER, ward.now)
    send(ward, priority=Priority.EMERGENCY)
    send_due_messages(now=ward.now)
    assert len(notify.texts) == 1 and len(pager_gateway.pages) == 1


@pytest.mark.hazard("HZ-27")
def test_a_receipt_from_the_app_cancels_the_pending_text(ward: Ward, notify: NotifyService) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    bleep = send(ward)
    record_receipt(
        device=ward.doctor_device, bleep_id=bleep.pk, action=Action.DELIVER, now=ward.now
    )
    send_due_messages(now=ward.now + timedelta(minutes=5))
    assert notify.texts == []
    assert ChannelMessage.objects.get().status == ChannelStatus.SKIPPED


@pytest.mark.hazard("HZ-27")
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answer_at=st.integers(min_value=0, max_value=90),
    answer=st.sampled_from(["acknowledge", "cancel"]),
    sweeps=st.lists(st.integers(min_value=0, max_value=120), min_size=1, max_size=4),
)
def test_no_text_or_page_goes_after_an_acknowledgement_or_a_cancel(
    ward: Ward,
    notify: NotifyService,
    pager_gateway: WctpGateway,
    answer_at: int,
    answer: str,
    sweeps: list[int],
) -> None:
    ChannelMessage.objects.all().delete()
    ContactPoint.objects.all().delete()
    notify.texts.clear()
    pager_gateway.pages.clear()
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    verified(ward.doctor, ContactKind.PAGER, PAGER, ward.now)
    # Emergencies, which the send limit never holds back, however many examples run.
    bleep = send(ward, priority=Priority.EMERGENCY)
    answered = ward.now + timedelta(seconds=answer_at)
    before = [s for s in sorted(sweeps) if ward.now + timedelta(seconds=s) < answered]
    for second in before:
        send_due_messages(now=ward.now + timedelta(seconds=second))
    sent_before = len(notify.texts) + len(pager_gateway.pages)
    if answer == "acknowledge":
        acknowledge_bleep(
            device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=answered
        )
    else:
        cancel_bleep(actor=ward.nurse, device=ward.nurse_device, bleep_id=bleep.pk, now=answered)
    for second in range(answer_at, 600, 30):
        send_due_messages(now=ward.now + timedelta(seconds=second))
    assert len(notify.texts) + len(pager_gateway.pages) == sent_before


@pytest.mark.hazard("HZ-27")
def test_a_text_carries_no_patient_identifier(ward: Ward, notify: NotifyService) -> None:
    location = factories.make_location("Ward 7")
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    identifiers: dict[str, Any] = {
        "message": "Mr Zebedee Quartermaine chest pain troponin",
        "nhs_number": "9434765919",
        "bed": "B17X",
        "location": location,
    }
    send(ward, **identifiers)
    send_due_messages(now=ward.now + timedelta(minutes=2))
    [text] = notify.texts
    for word in ["Zebedee", "Quartermaine", "troponin", "9434765919", "B17X", "Ward 7"]:
        assert word not in text.body


@pytest.mark.hazard("HZ-27")
def test_notify_saying_the_number_failed_for_good_stops_using_it_and_tells_switchboard(
    ward: Ward, notify: NotifyService
) -> None:
    notify.plan(MOBILE, delivery="permanent-failure")
    contact = verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    bleep = send(ward)
    sent = ward.now + timedelta(minutes=2)
    send_due_messages(now=sent)
    send_due_messages(now=sent + timedelta(seconds=30))
    contact.refresh_from_db()
    assert contact.unusable_at is not None
    message = ChannelMessage.objects.get()
    assert (message.status, message.provider_status) == (ChannelStatus.FAILED, "permanent-failure")
    told = StreamEvent.objects.filter(type="contact.unusable")
    assert set(told.values_list("user_id", flat=True)) == {ward.doctor.pk, ward.operator.pk}
    outcomes = HistoryEntry.objects.filter(bleep=bleep, action=Action.FALLBACK)
    assert [e.detail["outcome"] for e in outcomes.order_by("pk")] == ["sent", "not delivered"]


def test_notify_reporting_delivery_is_recorded_in_the_history(
    ward: Ward, notify: NotifyService
) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    bleep = send(ward)
    send_due_messages(now=ward.now + timedelta(minutes=2))
    send_due_messages(now=ward.now + timedelta(minutes=2, seconds=30))
    assert ChannelMessage.objects.get().status == ChannelStatus.DELIVERED
    outcomes = HistoryEntry.objects.filter(bleep=bleep, action=Action.FALLBACK).order_by("pk")
    assert [e.detail["outcome"] for e in outcomes] == ["sent", "delivered"]


def test_a_number_notify_refuses_is_marked_unusable(ward: Ward, notify: NotifyService) -> None:
    notify.plan(MOBILE, status=400)
    contact = verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    send(ward)
    send_due_messages(now=ward.now + timedelta(minutes=2))
    contact.refresh_from_db()
    assert contact.unusable_at is not None
    assert "Not a UK mobile number" in contact.unusable_reason


def test_a_rate_limited_text_is_retried_and_then_sent(ward: Ward, notify: NotifyService) -> None:
    notify.plan(MOBILE, status=429)
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    send(ward)
    due = ward.now + timedelta(minutes=2)
    send_due_messages(now=due)
    message = ChannelMessage.objects.get()
    assert (message.status, message.attempts) == (ChannelStatus.PENDING, 1)
    notify.plan(MOBILE, status=201)
    send_due_messages(now=due + timedelta(seconds=5))
    assert len(notify.texts) == 1


def test_an_unknown_pager_is_marked_unusable(ward: Ward, pager_gateway: WctpGateway) -> None:
    pager_gateway.failures[PAGER] = 403
    contact = verified(ward.doctor, ContactKind.PAGER, PAGER, ward.now)
    send(ward, priority=Priority.EMERGENCY)
    send_due_messages(now=ward.now + timedelta(seconds=30))
    contact.refresh_from_db()
    assert "WCTP 403 invalid recipientID" in contact.unusable_reason


def test_a_busy_paging_gateway_is_asked_again(ward: Ward, pager_gateway: WctpGateway) -> None:
    pager_gateway.failures[PAGER] = 604
    verified(ward.doctor, ContactKind.PAGER, PAGER, ward.now)
    send(ward, priority=Priority.EMERGENCY)
    due = ward.now + timedelta(seconds=30)
    send_due_messages(now=due)
    del pager_gateway.failures[PAGER]
    send_due_messages(now=due + timedelta(seconds=5))
    assert len(pager_gateway.pages) == 1


@pytest.mark.hazard("HZ-27")
def test_an_unverified_number_is_never_used_for_a_bleep(ward: Ward, notify: NotifyService) -> None:
    ContactPoint.objects.create(
        person=ward.doctor, kind=ContactKind.SMS, address=MOBILE, created_at=ward.now
    )
    send(ward)
    send_due_messages(now=ward.now + timedelta(minutes=10))
    assert notify.texts == []


def test_with_no_channel_configured_nothing_is_queued(ward: Ward) -> None:
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    send(ward)
    assert not ChannelMessage.objects.exists()


@pytest.mark.parametrize("status", ["temporary-failure", "technical-failure"])
def test_a_text_notify_could_not_deliver_for_now_is_recorded_and_the_number_kept(
    ward: Ward, notify: NotifyService, status: str
) -> None:
    notify.plan(MOBILE, delivery=status)
    contact = verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    bleep = send(ward)
    send_due_messages(now=ward.now + timedelta(minutes=2))
    send_due_messages(now=ward.now + timedelta(minutes=2, seconds=30))
    contact.refresh_from_db()
    assert contact.unusable_at is None
    last = HistoryEntry.objects.filter(bleep=bleep, action=Action.FALLBACK).latest("pk")
    assert last.detail == {"channel": "sms", "outcome": "not delivered", "why": status}


def test_a_text_still_on_its_way_is_asked_about_again_later(
    ward: Ward, notify: NotifyService
) -> None:
    notify.plan(MOBILE, delivery="sending")
    verified(ward.doctor, ContactKind.SMS, MOBILE, ward.now)
    send(ward)
    sent = ward.now + timedelta(minutes=2)
    send_due_messages(now=sent)
    send_due_messages(now=sent + timedelta(seconds=30))
    message = ChannelMessage.objects.get()
    assert (message.status, message.provider_status) == (ChannelStatus.SENT, "sending")
    assert message.check_at == sent + timedelta(seconds=60)
