"""The worker loop on a real event loop: it sleeps until the next deadline, a hint wakes it
for a deadline moved nearer, and it stops when told. The poll is made ten minutes long, so
only the behaviour under test can make a step fire within the test's patience."""

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from escalation import worker
from escalation.models import Deadline, WorkerHeartbeat
from escalation.services.sending import decline_bleep, send_bleep
from messaging.models import Bleep
from messaging.push import register_push_subscription
from tests import factories
from tests.conftest import Ward
from tests.push_service import PushService

pytestmark = pytest.mark.django_db(transaction=True)

PATIENCE_SECONDS = 5.0


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
