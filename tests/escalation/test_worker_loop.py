"""The worker loop on a real event loop: it sleeps until the next deadline, a hint wakes it
for a deadline moved nearer, and it stops when told. The poll is made ten minutes long, so
only the behaviour under test can make a step fire within the test's patience."""

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from escalation import worker
from escalation.models import Deadline, WorkerHeartbeat
from escalation.services import firing
from escalation.services.sending import decline_bleep, send_bleep
from messaging.models import Bleep, Device, PushMessage, PushStatus
from messaging.push import MAX_SUBSCRIPTIONS_PER_DEVICE, RETRY_FIRST, register_push_subscription
from messaging.push import sender as push_sender
from rota.models import Role
from tests import factories
from tests.conftest import Ward
from tests.push_service import STALL, BrowserSubscription, PushService

pytestmark = pytest.mark.django_db(transaction=True)

PATIENCE_SECONDS = 5.0
# Far more than a worker's first turn takes, far less than the 5 s a failed turn used to
# cost every step in it.
AT_ONCE_SECONDS = 2.0


@pytest.fixture(autouse=True)
def slow_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "POLL_INTERVAL", timedelta(minutes=10))


async def eventually(check: Callable[[], bool]) -> None:
    test = database_sync_to_async(check)
    for _ in range(int(PATIENCE_SECONDS / 0.02)):
        if await test():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the test's patience")


def first_step_fired(bleep: Bleep) -> bool:
    return Deadline.objects.filter(bleep=bleep, step=1, fired_at__isnull=False).exists()


@database_sync_to_async
def send(ward: Ward, role: Role | None = None) -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(role or ward.role),
        now=timezone.now(),
    ).bleep


def subscribe(service: PushService, device: Device) -> BrowserSubscription:
    browser = service.subscribe()
    register_push_subscription(
        device=device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=timezone.now(),
    )
    return browser


@pytest.mark.hazard("HZ-10")
async def test_a_deadline_brought_forward_wakes_a_sleeping_worker_at_once(ward: Ward) -> None:
    bleep = await send(ward)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    await eventually(WorkerHeartbeat.objects.exists)

    await database_sync_to_async(decline_bleep)(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=timezone.now()
    )

    await eventually(lambda: first_step_fired(bleep))
    stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)


async def test_a_worker_sleeps_only_until_the_soonest_deadline(ward: Ward) -> None:
    bleep = await send(ward)
    await database_sync_to_async(Deadline.objects.filter(bleep=bleep).update)(
        due_at=timezone.now() + timedelta(milliseconds=300)
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))

    await eventually(lambda: first_step_fired(bleep))
    stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)


async def test_a_stopped_worker_finishes_at_once_however_long_its_sleep(ward: Ward) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    await eventually(WorkerHeartbeat.objects.exists)

    stop.set()

    await asyncio.wait_for(running, PATIENCE_SECONDS)


async def test_the_worker_pushes_a_new_bleep_to_the_recipients_subscribed_phone(
    ward: Ward, push_service: PushService
) -> None:
    browser = push_service.subscribe()
    await database_sync_to_async(register_push_subscription)(
        device=ward.doctor_device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=timezone.now(),
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    await eventually(WorkerHeartbeat.objects.exists)

    bleep = await send(ward)

    await eventually(lambda: len(push_service.delivered()) == 1)
    [pushed] = push_service.delivered()
    assert pushed.payload["bleep_id"] == bleep.pk
    assert pushed.payload["kind"] == "new"
    assert pushed.ttl >= 15 * 60
    stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)


@pytest.mark.hazard("HZ-15")
@pytest.mark.hazard("HZ-20")
async def test_a_step_that_fails_holds_up_no_other_and_fires_again_soon(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, fine = await send(ward), await send(ward)
    failures: list[datetime] = []
    real = firing._fire

    def fail_once(*, deadline: Deadline, now: datetime) -> Deadline | None:
        if deadline.bleep_id == broken.pk and not failures:
            failures.append(now)
            raise RuntimeError("bad data")
        return real(deadline=deadline, now=now)

    monkeypatch.setattr(firing, "_fire", fail_once)
    await database_sync_to_async(Deadline.objects.update)(due_at=timezone.now())
    stop = asyncio.Event()
    started = time.monotonic()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))

    await eventually(lambda: first_step_fired(fine))
    fine_after = time.monotonic() - started
    await eventually(lambda: first_step_fired(broken))
    stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)

    assert failures
    assert fine_after < AT_ONCE_SECONDS
    steps = await database_sync_to_async(list)(
        Deadline.objects.filter(step=1).values_list("fired_at", "took_effect_at")
    )
    # The worker stamps each step with the real clock as its turn commits, after it began.
    assert all(took_effect > fired for fired, took_effect in steps)


@pytest.mark.hazard("HZ-14")
async def test_a_healthy_push_leaves_within_a_second_of_due_beside_fifty_stalled_ones(
    ward: Ward, push_service: PushService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long enough that a sender waiting for the stalled pushes could not make the second.
    monkeypatch.setattr(push_sender, "PUSH_TIMEOUT", timedelta(seconds=4))
    stalled = 50

    @database_sync_to_async
    def subscribe_phones() -> Role:
        for n in range(stalled // MAX_SUBSCRIPTIONS_PER_DEVICE):
            device, _ = factories.make_device(ward.doctor, f"phone {n}")
            for _ in range(MAX_SUBSCRIPTIONS_PER_DEVICE):
                push_service.answer(subscribe(push_service, device), STALL)
        consultant = factories.make_person("ada.okoye")
        subscribe(push_service, factories.make_device(consultant)[0])
        role = factories.make_role("Consultant on call", bleep_number="3456")
        factories.on_call_now(role, consultant)
        return role

    consultant_role = await subscribe_phones()
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    try:
        await eventually(WorkerHeartbeat.objects.exists)
        stalling = await send(ward)
        # All fifty claimed and posted at once, not a batch at a time: each holds only itself.
        await eventually(lambda: claimed(stalling) == stalled)
        await eventually(lambda: push_service.held > 0)

        urgent = await send(ward, consultant_role)

        await eventually(lambda: len(push_service.delivered()) == 1)
        [pushed] = push_service.delivered()
        assert pushed.payload["bleep_id"] == urgent.pk
        late = pushed.arrived_at - urgent.created_at
        assert late < timedelta(seconds=1), f"the push arrived {late} after it fell due"
        await eventually(lambda: claimed(stalling, last_error="timed out") == stalled)
        retries = await database_sync_to_async(list)(PushMessage.objects.filter(bleep=stalling))
        for retry in retries:
            assert (retry.status, retry.attempts) == (PushStatus.PENDING, 1)
            # Due its backoff after the attempt ended: never ahead of pushes queued meanwhile.
            assert retry.due_at >= stalling.created_at + push_sender.PUSH_TIMEOUT + RETRY_FIRST
    finally:
        stop.set()
        await asyncio.wait_for(running, PATIENCE_SECONDS)


def claimed(bleep: Bleep, **having: str) -> int:
    """Count the bleep's pushes that were claimed once and are still pending."""
    pushes = PushMessage.objects.filter(bleep=bleep, attempts=1, status=PushStatus.PENDING)
    return pushes.filter(**having).count()


async def test_a_stopping_worker_gives_up_a_stalled_push_for_a_retry_rather_than_wait_for_it(
    ward: Ward, push_service: PushService
) -> None:
    await database_sync_to_async(
        lambda: push_service.answer(subscribe(push_service, ward.doctor_device), STALL)
    )()
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    await eventually(WorkerHeartbeat.objects.exists)
    bleep = await send(ward)
    await eventually(lambda: push_service.held == 1)

    stop.set()

    # Well before PUSH_TIMEOUT (10 s): the stalled push is abandoned, not waited for.
    await asyncio.wait_for(running, PATIENCE_SECONDS)
    [abandoned] = await database_sync_to_async(list)(PushMessage.objects.filter(bleep=bleep))
    assert (abandoned.status, abandoned.attempts) == (PushStatus.PENDING, 1)
    assert abandoned.last_error == "the sender stopped"
    assert abandoned.due_at > timezone.now()


@pytest.mark.hazard("HZ-08")
async def test_the_worker_ends_a_device_whose_token_expired_unused(ward: Ward) -> None:
    idle_since = timezone.now() - timedelta(days=31)
    await database_sync_to_async(Device.objects.filter(pk=ward.doctor_device.pk).update)(
        created_at=idle_since, last_seen_at=idle_since
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))

    def ended() -> bool:
        return Device.objects.filter(pk=ward.doctor_device.pk, revoked_at__isnull=False).exists()

    await eventually(ended)
    stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)
    assert await database_sync_to_async(
        Device.objects.filter(pk=ward.nurse_device.pk, revoked_at__isnull=True).exists
    )()


@pytest.mark.hazard("HZ-24")
async def test_an_escalation_step_fires_while_the_worker_applies_a_long_rota_import(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    importing, release, imported = threading.Event(), threading.Event(), threading.Event()

    def long_import(*, now: datetime) -> None:
        importing.set()
        release.wait(PATIENCE_SECONDS * 2)  # ten thousand shifts still being written
        imported.set()

    monkeypatch.setattr(worker, "run_next_import", long_import)
    bleep = await send(ward)
    await database_sync_to_async(Deadline.objects.filter(bleep=bleep).update)(
        due_at=timezone.now() + timedelta(milliseconds=500)
    )
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))

    try:
        await eventually(importing.is_set)
        await eventually(lambda: first_step_fired(bleep))
        assert not imported.is_set()
    finally:
        release.set()
        stop.set()
    await asyncio.wait_for(running, PATIENCE_SECONDS)


async def test_a_loop_busy_when_the_stop_rings_does_not_then_sleep_through_it() -> None:
    # Two chores share an alarm: one asleep when the stop rings wakes (and used to clear the
    # hint); the other, busy then, must not sleep its whole interval once it is done.
    alarm, stop = worker.Alarm(), asyncio.Event()
    ringer = asyncio.create_task(worker._ring_on_stop(stop, [alarm]))
    asleep = asyncio.create_task(alarm.sleep(timedelta(minutes=10)))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(asleep, PATIENCE_SECONDS)
    await asyncio.wait_for(alarm.sleep(timedelta(minutes=10)), PATIENCE_SECONDS)
    await ringer
