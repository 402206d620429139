"""The worker loop on a real event loop: it sleeps until the next deadline, a hint wakes it
for a deadline moved nearer, and it stops when told. The poll is made ten minutes long, so
only the behaviour under test can make a step fire within the test's patience."""

import asyncio
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
from messaging.models import Bleep
from messaging.push import register_push_subscription
from tests import factories
from tests.conftest import Ward
from tests.push_service import PushService

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
def send(ward: Ward) -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role),
        now=timezone.now(),
    ).bleep


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
