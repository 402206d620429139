"""Web Push: subscriptions, the outbox, and sending to a push service that checks the protocol."""

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from bleep.transitions import IllegalMove, next_state
from messaging import push
from messaging.actions import Action, PushAction
from messaging.exceptions import IllegalTransition, InvalidPushSubscription
from messaging.models import (
    Bleep,
    Device,
    HistoryEntry,
    Priority,
    PushMessage,
    PushStatus,
    PushSubscription,
)
from messaging.push import outbox, sender
from messaging.selectors import next_push_due
from messaging.services.answers import acknowledge_bleep, decline_delivery, handle_bleep
from messaging.services.bleeps import BleepDraft, add_deliveries, create_bleep
from messaging.services.devices import revoke_device
from messaging.validators import check_auth_secret, check_p256dh, check_push_endpoint
from rota.models import Person
from tests.conftest import Ward
from tests.factories import draft, make_device, make_location, make_person, on_call_now
from tests.push_service import STALL, BrowserSubscription, PushService, b64url

TTL = timedelta(minutes=5)


def subscribe(service: PushService, device: Device) -> BrowserSubscription:
    """Subscribe a new browser on `device`, as the app does after signing in."""
    browser = service.subscribe()
    push.register_push_subscription(
        device=device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=timezone.now(),
    )
    return browser


def bleep_for(ward: Ward, **overrides: Any) -> Bleep:
    """Send a bleep from the nurse to the ward's role at ward.now."""
    return create_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=draft(ward.role, **overrides),
        now=ward.now,
    )


def queue(ward: Ward, bleep: Bleep, kind: str = "new", ttl: timedelta = TTL) -> list[PushMessage]:
    return push.queue_pushes(
        bleep=bleep, recipient_ids=[ward.doctor.pk], kind=kind, ttl=ttl, now=ward.now
    )


def status_of(message: PushMessage) -> str:
    return PushMessage.objects.get(pk=message.pk).status


async def until(check: Callable[[], bool], patience: float = 5.0) -> None:
    """Wait until `check` (which may read the database) holds; fail after `patience` s."""
    test = database_sync_to_async(check)
    for _ in range(int(patience / 0.02)):
        if await test():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the test's patience")


@pytest.fixture
def small_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the sender room for six pushes, two in the slow lane, and short waits."""
    monkeypatch.setattr(sender, "PUSH_IN_FLIGHT", 6)
    monkeypatch.setattr(sender, "SLOW_LANE", 2)
    monkeypatch.setattr(sender, "OTHER_HOSTS_ROOM", 0)
    monkeypatch.setattr(sender, "PUSH_TIMEOUT", timedelta(seconds=2))
    monkeypatch.setattr(sender, "STOP_GRACE", timedelta(seconds=0.1))


def stalled_phones(ward: Ward, service: PushService, count: int) -> list[BrowserSubscription]:
    """Subscribe `count` browsers of the ward's doctor whose push service never answers."""
    browsers = []
    for n in range(0, count, push.MAX_SUBSCRIPTIONS_PER_DEVICE):
        device, _ = make_device(ward.doctor, f"phone {n}")
        for _ in range(min(push.MAX_SUBSCRIPTIONS_PER_DEVICE, count - n)):
            browsers.append(subscribe(service, device))
            service.answer(browsers[-1], STALL)
    return browsers


def push_to_consultant(ward: Ward, service: PushService, *, now: datetime) -> PushMessage:
    """Queue a push, due at `now` but after those already queued, to a consultant whose
    phone answers at once."""
    consultant = make_person("ada.okoye")
    subscribe(service, make_device(consultant)[0])
    bleep = bleep_for(ward)
    add_deliveries(bleep=bleep, people=[(consultant, None)], actor=None, device=None, now=now)
    [message] = push.queue_pushes(
        bleep=bleep, recipient_ids=[consultant.pk], kind="new", ttl=TTL, now=now
    )
    return message


@pytest.mark.hazard("HZ-07")
def test_a_queued_push_is_delivered_encrypted_signed_and_with_a_ttl(
    ward: Ward, push_service: PushService
) -> None:
    subscribe(push_service, ward.doctor_device)
    bleep = bleep_for(ward)
    [message] = queue(ward, bleep)

    assert push.send_due_pushes(now=ward.now) == 1

    [received] = push_service.delivered()
    assert received.payload == {
        "bleep_id": bleep.pk,
        "kind": "new",
        "priority": "routine",
        "title": "Routine bleep",
        "body": f"Medical Registrar on call ({ward.role.bleep_number})",
        "tag": f"bleep-{bleep.pk}",
        "url": f"/bleeps/{bleep.pk}",
    }
    assert received.ttl == TTL.total_seconds()
    assert received.topic == f"bleep-{bleep.pk}"
    assert received.claims["sub"].startswith("mailto:")
    stored = PushMessage.objects.get(pk=message.pk)
    assert (stored.status, stored.attempts) == (PushStatus.SENT, 1)
    # Stamped when the push service answered, a moment after it was claimed.
    assert stored.sent_at is not None
    assert ward.now < stored.sent_at < ward.now + push.PUSH_TIMEOUT


@pytest.mark.parametrize(
    ("priority", "urgency"),
    [(Priority.ROUTINE, "normal"), (Priority.URGENT, "high"), (Priority.EMERGENCY, "high")],
)
def test_urgent_and_emergency_bleeps_are_pushed_with_high_urgency_routine_with_normal(
    ward: Ward, push_service: PushService, priority: Priority, urgency: str
) -> None:
    subscribe(push_service, ward.doctor_device)
    queue(ward, bleep_for(ward, priority=priority))
    push.send_due_pushes(now=ward.now)
    assert [received.urgency for received in push_service.delivered()] == [urgency]


@pytest.mark.parametrize("kind", ["new", "reminder", "escalated"])
@pytest.mark.hazard("HZ-07")
def test_no_patient_identifier_ever_appears_in_a_push_payload(
    ward: Ward, push_service: PushService, kind: str
) -> None:
    subscribe(push_service, ward.doctor_device)
    patient: dict[str, Any] = {
        "message": "Mrs Jane Doe chest pain NEWS 7",
        "location": make_location("Acorn Ward"),
        "bed": "B12",
        "callback_extension": "7788",
        "nhs_number": "9434765919",
    }
    to_role = bleep_for(ward, priority=Priority.URGENT, **patient)
    to_person = create_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=BleepDraft(person=ward.doctor, **patient),
        now=ward.now,
    )
    queue(ward, to_role, kind=kind)
    queue(ward, to_person, kind=kind)
    push.send_due_pushes(now=ward.now)

    payloads = [json.dumps(r.payload) for r in push_service.delivered()]
    payloads += [json.dumps(m.payload) for m in PushMessage.objects.all()]
    assert len(payloads) == 4
    secrets = ["Jane", "Doe", "chest", "NEWS", "Acorn", "B12", "7788", "9434765919"]
    for payload in payloads:
        assert not [secret for secret in secrets if secret in payload], payload


def test_every_live_device_of_each_recipient_gets_one_push_per_subscription(
    ward: Ward, push_service: PushService
) -> None:
    tablet, _ = make_device(ward.doctor, "tablet")
    phone_browser = subscribe(push_service, ward.doctor_device)
    tablet_browser = subscribe(push_service, tablet)
    subscribe(push_service, ward.nurse_device)

    queue(ward, bleep_for(ward))
    assert push.send_due_pushes(now=ward.now) == 2

    endpoints = {received.endpoint for received in push_service.delivered()}
    assert endpoints == {phone_browser.endpoint, tablet_browser.endpoint}


def test_a_revoked_device_gets_no_pushes(ward: Ward, push_service: PushService) -> None:
    subscribe(push_service, ward.doctor_device)
    revoke_device(device=ward.doctor_device, now=ward.now)
    assert queue(ward, bleep_for(ward)) == []


def test_a_device_signed_out_after_its_push_was_queued_is_not_pushed(
    ward: Ward, push_service: PushService
) -> None:
    subscribe(push_service, ward.doctor_device)
    [message] = queue(ward, bleep_for(ward))
    revoke_device(device=ward.doctor_device, now=ward.now)

    assert not PushSubscription.objects.exists(), "signing out drops the device's subscriptions"
    assert push.send_due_pushes(now=ward.now) == 0
    assert push_service.received == []
    assert status_of(message) == PushStatus.GONE


@pytest.mark.hazard("HZ-06")
def test_a_push_queued_before_the_bleep_was_acknowledged_is_never_sent(
    ward: Ward, push_service: PushService
) -> None:
    subscribe(push_service, ward.doctor_device)
    bleep = bleep_for(ward)
    [message] = queue(ward, bleep)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=ward.now
    )

    assert push.send_due_pushes(now=ward.now) == 1
    assert push_service.received == []
    assert status_of(message) == PushStatus.SKIPPED


@pytest.mark.hazard("HZ-06")
def test_a_push_queued_before_its_recipient_declined_is_never_sent_while_others_still_ring(
    ward: Ward, push_service: PushService
) -> None:
    registrar = make_person("lena.park")
    on_call_now(ward.role, registrar, ward.now)
    registrar_device, _ = make_device(registrar)
    subscribe(push_service, ward.doctor_device)
    subscribe(push_service, registrar_device)
    bleep = bleep_for(ward)
    declined, waiting = push.queue_pushes(
        bleep=bleep, recipient_ids=[ward.doctor.pk, registrar.pk], kind="new", ttl=TTL, now=ward.now
    )
    decline_delivery(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=ward.now
    )

    assert push.send_due_pushes(now=ward.now) == 2
    assert status_of(declined) == PushStatus.SKIPPED
    assert status_of(waiting) == PushStatus.SENT
    assert len(push_service.received) == 1


@pytest.mark.hazard("HZ-06", "HZ-12")
def test_a_push_queued_before_switchboard_took_the_bleep_on_is_never_sent(
    ward: Ward, push_service: PushService
) -> None:
    operator_device, _ = make_device(ward.operator)
    subscribe(push_service, operator_device)
    bleep = bleep_for(ward)
    add_deliveries(
        bleep=bleep, people=[(ward.operator, None)], actor=None, device=None, now=ward.now
    )
    [message] = push.queue_pushes(
        bleep=bleep, recipient_ids=[ward.operator.pk], kind="escalated", ttl=TTL, now=ward.now
    )
    handle_bleep(device=operator_device, bleep_id=bleep.pk, note="phoning", now=ward.now)

    assert push.send_due_pushes(now=ward.now) == 1
    assert status_of(message) == PushStatus.SKIPPED
    assert push_service.received == []


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_deleted_with_its_pending_pushes(
    ward: Ward, push_service: PushService, status: int
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, status)
    [first] = queue(ward, bleep_for(ward))
    [second] = push.queue_pushes(
        bleep=bleep_for(ward),
        recipient_ids=[ward.doctor.pk],
        kind="new",
        ttl=TTL,
        now=ward.now + timedelta(seconds=1),
    )

    assert push.send_due_pushes(now=ward.now) == 1

    assert (status_of(first), status_of(second)) == (PushStatus.GONE, PushStatus.GONE)
    assert not PushSubscription.objects.filter(endpoint=browser.endpoint).exists()
    assert push.send_due_pushes(now=ward.now + timedelta(seconds=1)) == 0
    assert queue(ward, bleep_for(ward)) == []


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_a_429_waits_for_retry_after_before_trying_again(
    ward: Ward, push_service: PushService, form: str
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    later = ward.now + timedelta(seconds=120)
    retry_after = "120" if form == "seconds" else format_datetime(later, usegmt=True)
    push_service.answer(browser, 429, retry_after=retry_after)
    [message] = queue(ward, bleep_for(ward))

    assert push.send_due_pushes(now=ward.now) == 1
    retry_at = PushMessage.objects.get(pk=message.pk).due_at
    # An HTTP date has whole seconds; a number of seconds counts from the answer.
    assert later - timedelta(seconds=1) <= retry_at <= later + timedelta(seconds=1)
    assert next_push_due() == retry_at
    assert push.send_due_pushes(now=retry_at - timedelta(seconds=1)) == 0

    assert push.send_due_pushes(now=retry_at) == 1
    assert len(push_service.delivered()) == 1
    assert status_of(message) == PushStatus.SENT


def test_a_retry_after_longer_than_the_cap_is_cut_to_the_cap(
    ward: Ward, push_service: PushService
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, 429, retry_after=str(24 * 3600))
    [message] = queue(ward, bleep_for(ward), ttl=timedelta(hours=1))
    push.send_due_pushes(now=ward.now)
    retry_at = PushMessage.objects.get(pk=message.pk).due_at - push.RETRY_AFTER_MAX
    assert ward.now < retry_at < ward.now + push.PUSH_TIMEOUT


def test_a_payload_too_large_fails_at_once_and_is_logged_as_our_error(
    ward: Ward, push_service: PushService, caplog: pytest.LogCaptureFixture
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, 413)
    [message] = queue(ward, bleep_for(ward))

    with caplog.at_level(logging.ERROR, logger="messaging.push"):
        assert push.send_due_pushes(now=ward.now) == 1

    assert status_of(message) == PushStatus.FAILED
    assert "payload too large" in caplog.text
    assert next_push_due() is None


@pytest.mark.hazard("HZ-14")
def test_a_stalled_push_times_out_alone_and_is_retried_only_after_its_attempt_ended(
    ward: Ward, push_service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "PUSH_TIMEOUT", timedelta(seconds=0.5))
    stalled = subscribe(push_service, ward.doctor_device)
    tablet, _ = make_device(ward.doctor, "tablet")
    healthy = subscribe(push_service, tablet)
    push_service.answer(stalled, STALL)
    messages = queue(ward, bleep_for(ward))

    assert push.send_due_pushes(now=ward.now) == 2

    assert [received.endpoint for received in push_service.delivered()] == [healthy.endpoint]
    waiting = PushMessage.objects.get(pk__in=[m.pk for m in messages], status=PushStatus.PENDING)
    assert waiting.last_error == "timed out"
    # Not due again as soon as it is recorded: its wait starts when the attempt ended.
    assert waiting.due_at >= ward.now + sender.PUSH_TIMEOUT + push.RETRY_FIRST
    assert push.send_due_pushes(now=waiting.due_at - timedelta(milliseconds=1)) == 0
    assert push.send_due_pushes(now=waiting.due_at) == 1
    assert {received.endpoint for received in push_service.delivered()} == {
        stalled.endpoint,
        healthy.endpoint,
    }


def test_a_failing_push_service_is_retried_with_backoff_until_the_ttl_has_passed(
    ward: Ward, push_service: PushService
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, 503, 503, 503)
    [message] = queue(ward, bleep_for(ward), ttl=timedelta(seconds=20))

    push.send_due_pushes(now=ward.now)
    first_retry = next_push_due()
    assert first_retry is not None
    assert ward.now + timedelta(seconds=5) < first_retry < ward.now + timedelta(seconds=6)
    push.send_due_pushes(now=first_retry)
    second_retry = next_push_due()
    assert second_retry is not None
    assert first_retry + timedelta(seconds=10) < second_retry < first_retry + timedelta(seconds=11)
    push.send_due_pushes(now=second_retry)

    stored = PushMessage.objects.get(pk=message.pk)
    assert (stored.status, stored.attempts) == (PushStatus.FAILED, 3)
    assert stored.last_error == "503 Service Unavailable"
    assert next_push_due() is None


def test_a_retried_push_asks_the_push_service_to_keep_it_only_until_the_original_expiry(
    ward: Ward, push_service: PushService
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, 500)
    queue(ward, bleep_for(ward), ttl=timedelta(seconds=60))
    push.send_due_pushes(now=ward.now)
    retry_at = next_push_due()
    assert retry_at is not None and retry_at < ward.now + timedelta(seconds=6)
    push.send_due_pushes(now=retry_at)
    assert [received.ttl for received in push_service.received] == [60, 55]


class Crash(BaseException):
    """A sender process dying half-way, as far as the code under test can tell."""


def test_pushes_claimed_by_a_sender_that_died_are_sent_after_the_lease(
    ward: Ward, push_service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscribe(push_service, ward.doctor_device)
    [message] = queue(ward, bleep_for(ward))

    def die(*args: object, **kwargs: object) -> None:
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(sender, "post_push", die)
        with pytest.raises(Crash):
            push.send_due_pushes(now=ward.now)

    assert push.send_due_pushes(now=ward.now + push.CLAIM_LEASE / 2) == 0
    assert push.send_due_pushes(now=ward.now + push.CLAIM_LEASE) == 1
    assert status_of(message) == PushStatus.SENT
    assert len(push_service.delivered()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_never_send_one_push_twice(
    ward: Ward, push_service: PushService
) -> None:
    for name in ("a", "b", "c", "d"):
        device, _ = make_device(ward.doctor, name)
        for _ in range(push.MAX_SUBSCRIPTIONS_PER_DEVICE):
            subscribe(push_service, device)
    messages = queue(ward, bleep_for(ward))
    assert len(messages) == 20
    start = threading.Barrier(2)
    handled: list[int] = []

    def sender() -> None:
        try:
            start.wait()
            handled.append(push.send_due_pushes(now=ward.now, limit=12))
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Neither may take more than 12, so both take part. The two claims may interleave row
    # by row, so the split varies; what holds is that between them they took every row,
    # and no row twice.
    assert sum(handled) == 20
    assert max(handled) <= 12
    endpoints = [received.endpoint for received in push_service.received]
    assert len(endpoints) == len(set(endpoints)) == 20
    assert set(PushMessage.objects.values_list("status", "attempts")) == {(PushStatus.SENT, 1)}


def test_next_push_due_is_the_earliest_pending_push(ward: Ward, push_service: PushService) -> None:
    assert next_push_due() is None
    subscribe(push_service, ward.doctor_device)
    queue(ward, bleep_for(ward))
    assert next_push_due() == ward.now
    push.send_due_pushes(now=ward.now)
    assert next_push_due() is None


@pytest.mark.parametrize(
    ("kind", "ttl"),
    [("new", timedelta(0)), ("new", timedelta(days=29)), ("panic", TTL)],
)
def test_a_push_needs_a_known_kind_and_a_ttl_between_a_second_and_28_days(
    ward: Ward, kind: str, ttl: timedelta
) -> None:
    with pytest.raises(ValueError):
        queue(ward, bleep_for(ward), kind=kind, ttl=ttl)


@pytest.mark.parametrize("status", list(PushStatus))
@pytest.mark.parametrize("action", list(PushAction))
def test_only_a_pending_push_moves_and_each_action_has_one_outcome(
    status: PushStatus, action: PushAction
) -> None:
    expected = {
        PushAction.ACCEPT: PushStatus.SENT,
        PushAction.RETRY: PushStatus.PENDING,
        PushAction.FORGET: PushStatus.GONE,
        PushAction.FAIL: PushStatus.FAILED,
        PushAction.SKIP: PushStatus.SKIPPED,
    }
    if status == PushStatus.PENDING:
        moved = next_state(push.PUSH_TRANSITIONS, status, action, IllegalTransition)
        assert moved == expected[action]
    else:
        with pytest.raises(IllegalMove):
            next_state(push.PUSH_TRANSITIONS, status, action, IllegalTransition)


def test_registering_the_same_endpoint_again_updates_it_and_moves_it_to_the_new_device(
    ward: Ward, push_service: PushService
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    renewed = BrowserSubscription(browser.endpoint)
    again, created = push.register_push_subscription(
        device=ward.doctor_device,
        endpoint=browser.endpoint,
        p256dh=renewed.p256dh,
        auth=renewed.auth,
        now=ward.now,
    )
    assert not created and again.p256dh == renewed.p256dh
    moved, created = push.register_push_subscription(
        device=ward.nurse_device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=ward.now,
    )
    assert created and moved.pk == again.pk and moved.device == ward.nurse_device
    assert PushSubscription.objects.count() == 1


def test_a_device_keeps_only_its_newest_subscriptions(
    ward: Ward, push_service: PushService
) -> None:
    browsers = [subscribe(push_service, ward.doctor_device) for _ in range(7)]
    kept = set(PushSubscription.objects.values_list("endpoint", flat=True))
    assert kept == {browser.endpoint for browser in browsers[2:]}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/abc",
        "https://push.example.org/abc",
        "https://127.0.0.1/abc",
        "https://[::1]/abc",
        "https://2130706433/abc",
        "https://user:secret@fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com@169.254.169.254/abc",
        "https://fcm.googleapis.com:8443/fcm/send/abc",
        "https://fcm.googleapis.com.evil.example/abc",
        "https://evilfcm.googleapis.com/abc",
        "https://notify.windows.com/abc",
        "https://fcm.googleapis.com/fcm send/abc",
        "https://fcm.googleapis.com\\@10.0.0.1/abc",
        "fcm.googleapis.com/fcm/send/abc",
        "https://fcm.googleapis.com/" + "a" * 2048,
    ],
)
@pytest.mark.hazard("HZ-07")
def test_an_endpoint_off_the_push_service_allowlist_is_refused(endpoint: str) -> None:
    with pytest.raises(InvalidPushSubscription) as refused:
        check_push_endpoint(endpoint)
    assert refused.value.field == "endpoint"


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABn",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
        "https://web.push.apple.com/QGx1c3Q",
        "https://FCM.googleapis.com:443/fcm/send/abc",
    ],
)
def test_the_real_push_services_are_allowed_by_default(endpoint: str) -> None:
    assert check_push_endpoint(endpoint) == endpoint


def test_an_ip_literal_is_allowed_only_when_listed_with_its_port(settings: Any) -> None:
    settings.PUSH_HOSTS = ["127.0.0.1:8443", "*.0.0.1"]
    assert check_push_endpoint("https://127.0.0.1:8443/push") == "https://127.0.0.1:8443/push"
    for refused in ("https://127.0.0.1/push", "https://10.0.0.1/push"):
        with pytest.raises(InvalidPushSubscription):
            check_push_endpoint(refused)


def test_subscription_keys_must_be_a_p256_point_and_a_16_byte_secret() -> None:
    browser = BrowserSubscription("https://fcm.googleapis.com/x")
    assert check_p256dh(browser.p256dh + "=") == browser.p256dh
    assert check_auth_secret(browser.auth) == browser.auth
    off_curve = b64url(b"\x04" + bytes(range(64)))
    standard_alphabet = b64url(b"\x04" + b"\xfb" * 64).replace("-", "+").replace("_", "/")
    for bad in (off_curve, standard_alphabet, browser.p256dh[:-4], browser.auth, "", "k!"):
        with pytest.raises(InvalidPushSubscription) as refused:
            check_p256dh(bad)
        assert refused.value.field == "keys.p256dh"
    for bad in (browser.p256dh, b64url(bytes(15)), b64url(bytes(17)), "a" * 21 + "*"):
        with pytest.raises(InvalidPushSubscription) as refused:
            check_auth_secret(bad)
        assert refused.value.field == "keys.auth"


@pytest.mark.hazard("HZ-07")
def test_a_push_to_a_person_by_name_says_so_without_naming_a_patient(
    ward: Ward, push_service: PushService
) -> None:
    subscribe(push_service, ward.doctor_device)
    direct = create_bleep(
        sender=ward.nurse,
        device=None,
        draft=BleepDraft(person=ward.doctor, message="Bed 4"),
        now=ward.now,
    )
    [message] = queue(ward, direct, kind="reminder")
    assert (message.payload["title"], message.payload["body"]) == (
        "Reminder: routine bleep",
        "To you by name",
    )


def test_an_inactive_account_gets_no_pushes(ward: Ward, push_service: PushService) -> None:
    subscribe(push_service, ward.doctor_device)
    Person.objects.filter(pk=ward.doctor.pk).update(is_active=False)
    assert queue(ward, bleep_for(ward)) == []


@pytest.mark.hazard("HZ-14")
def test_a_retry_is_due_its_backoff_after_the_attempt_ended_and_each_wait_is_longer(
    ward: Ward, push_service: PushService
) -> None:
    subscribe(push_service, ward.doctor_device)
    [message] = queue(ward, bleep_for(ward), ttl=timedelta(hours=1))
    no_answer = outbox.PushAnswer(None, detail="timed out", timed_out=True)
    started, took = ward.now, timedelta(seconds=10)
    for wait in (5, 10, 20, 40):
        [claim], _ = outbox.claim_due_pushes(now=started, limit=1)
        outbox.record_push_answer(claim=claim, answer=no_answer, now=started + took)
        due_at = PushMessage.objects.get(pk=message.pk).due_at
        assert due_at == started + took + timedelta(seconds=wait)
        started = due_at


@pytest.mark.hazard("HZ-14")
@pytest.mark.django_db(transaction=True)
async def test_however_many_subscriptions_stall_a_first_push_to_another_starts_at_once(
    ward: Ward, push_service: PushService, small_sender: None
) -> None:
    @database_sync_to_async
    def queue_stalled_retries_then_one_healthy_push() -> PushMessage:
        stalled_phones(ward, push_service, 10)
        queue(ward, bleep_for(ward))
        # Pushes that stalled before, at another sender: more than this one has room for.
        PushMessage.objects.update(attempts=1)
        return push_to_consultant(ward, push_service, now=ward.now)

    healthy = await queue_stalled_retries_then_one_healthy_push()
    async with sender.PushSender(clock=timezone.now) as pushes:
        started = timezone.now()
        await pushes.start_due()

        await until(lambda: len(push_service.delivered()) == 1)
        [received] = push_service.delivered()
        assert received.payload["bleep_id"] == healthy.bleep_id
        assert received.arrived_at - started < timedelta(seconds=1)
        await until(lambda: push_service.held == sender.SLOW_LANE)
        retried = PushMessage.objects.filter(attempts=2)
        assert await database_sync_to_async(retried.count)() == sender.SLOW_LANE


@pytest.mark.hazard("HZ-14")
@pytest.mark.django_db(transaction=True)
async def test_a_new_push_to_a_subscription_that_just_stalled_goes_in_the_slow_lane(
    ward: Ward, push_service: PushService, small_sender: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender, "PUSH_TIMEOUT", timedelta(seconds=0.5))
    stalled = await database_sync_to_async(stalled_phones)(ward, push_service, 4)
    await database_sync_to_async(queue)(ward, await database_sync_to_async(bleep_for)(ward))
    async with sender.PushSender(clock=timezone.now) as pushes:
        await pushes.start_due()
        await until(lambda: PushMessage.objects.filter(last_error="timed out").count() == 4)
        for browser in stalled:
            push_service.answer(browser, STALL)
        reminders = await database_sync_to_async(queue)(
            ward, await database_sync_to_async(bleep_for)(ward), "reminder"
        )

        await pushes.start_due()

        # The service still holds the first four, long after the sender gave up on them.
        await until(lambda: push_service.held == len(stalled) + sender.SLOW_LANE)
        waiting = PushMessage.objects.filter(pk__in=[m.pk for m in reminders], attempts=0)
        assert await database_sync_to_async(waiting.count)() == 4 - sender.SLOW_LANE


@pytest.mark.hazard("HZ-14")
@pytest.mark.django_db(transaction=True)
async def test_a_push_service_that_stalls_for_everyone_holds_only_its_share_of_the_first_lane(
    ward: Ward,
    push_service: PushService,
    small_sender: None,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    # Of the first lane's four, one host may take two.
    monkeypatch.setattr(sender, "OTHER_HOSTS_ROOM", 2)
    (tmp_path / "other").mkdir()
    other = PushService(tmp_path / "other", vapid_public_key=push.application_server_key())
    settings.PUSH_HOSTS = [*settings.PUSH_HOSTS, other.host]
    bundle = tmp_path / "both-cas.pem"
    bundle.write_bytes(push_service.ca_path.read_bytes() + other.ca_path.read_bytes())
    settings.PUSH_CA_BUNDLE = str(bundle)
    other.start()
    try:

        @database_sync_to_async
        def queue_stalled_then_healthy() -> PushMessage:
            stalled_phones(ward, push_service, 4)
            queue(ward, bleep_for(ward))
            return push_to_consultant(ward, other, now=ward.now)

        healthy = await queue_stalled_then_healthy()
        async with sender.PushSender(clock=timezone.now) as pushes:
            started = timezone.now()
            await pushes.start_due()

            await until(lambda: len(other.delivered()) == 1)
            [received] = other.delivered()
            assert received.payload["bleep_id"] == healthy.bleep_id
            assert received.arrived_at - started < timedelta(seconds=1)
            await until(lambda: push_service.held == 2)
    finally:
        other.stop()
    assert other.violations == []


@pytest.mark.hazard("HZ-27")
@pytest.mark.parametrize(("status", "outcome"), [(201, "accepted"), (410, "gone"), (400, "failed")])
def test_what_became_of_each_push_is_in_its_bleeps_history_on_the_recipients_copy(
    ward: Ward, push_service: PushService, status: int, outcome: str
) -> None:
    browser = subscribe(push_service, ward.doctor_device)
    push_service.answer(browser, status)
    bleep = bleep_for(ward)
    queue(ward, bleep)
    push.send_due_pushes(now=ward.now)
    [entry] = HistoryEntry.objects.filter(bleep=bleep, action=Action.PUSH)
    assert entry.detail["outcome"] == outcome
    assert entry.delivery is not None and entry.delivery.recipient == ward.doctor
