"""The worker's sender of text and pager messages: a gateway that stalls holds up nothing
but its own messages."""

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from escalation import worker
from escalation.models import Deadline
from escalation.services.sending import send_bleep
from messaging.fallback.sender import ChannelSender
from messaging.models import ContactKind, ContactPoint, Priority
from tests import factories
from tests.notify_service import NotifyService
from tests.wctp_gateway import WctpGateway

STALLED = "+447700900001"
HEALTHY = "+447700900002"


def world() -> None:
    now = timezone.now()
    role = factories.make_role("Crash team", bleep_number="2222")
    nurse = factories.make_person("amina.okafor", job="nurse")
    nurse_device, _ = factories.make_device(nurse)
    for name, number in [("omar.haddad", STALLED), ("lena.price", HEALTHY)]:
        doctor = factories.make_person(name)
        factories.on_call_now(role, doctor, now)
        for kind, address in [(ContactKind.SMS, number), (ContactKind.PAGER, number[-4:])]:
            ContactPoint.objects.create(
                person=doctor, kind=kind, address=address, created_at=now, verified_at=now
            )
    draft = factories.draft(role, priority=Priority.EMERGENCY)
    send_bleep(sender=nurse, device=nurse_device, draft=draft, now=now)


@pytest.mark.hazard("HZ-27")
@pytest.mark.django_db(transaction=True)
async def test_a_stalled_gateway_holds_up_no_other_message(
    notify: NotifyService, pager_gateway: WctpGateway, settings: Any
) -> None:
    settings.FALLBACK_EMERGENCY_AT_ONCE = True
    notify.plan(STALLED, stall=True)
    await database_sync_to_async(world)()
    started = time.monotonic()
    async with ChannelSender(clock=lambda: timezone.now() + timedelta(seconds=1)) as sender:
        await sender.start_due()
        while len(notify.texts) + len(pager_gateway.pages) < 3 and time.monotonic() - started < 5:
            await asyncio.sleep(0.02)
    # The healthy number's text and both pages went while Notify held the other text.
    assert [text.phone_number for text in notify.texts] == [HEALTHY]
    assert len(pager_gateway.pages) == 2
    arrivals = [text.at for text in notify.texts] + [page.at for page in pager_gateway.pages]
    assert max(arrivals) - started < 2


@pytest.mark.hazard("HZ-27")
@pytest.mark.django_db(transaction=True)
async def test_a_stalled_gateway_holds_up_no_escalation_step_in_the_real_worker(
    notify: NotifyService, pager_gateway: WctpGateway, settings: Any
) -> None:
    settings.FALLBACK_EMERGENCY_AT_ONCE = True
    notify.plan(STALLED, stall=True)
    notify.plan(HEALTHY, stall=True)
    pager_gateway.failures = {STALLED[-4:]: 0, HEALTHY[-4:]: 0}
    await database_sync_to_async(world)()
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_worker(stop=stop, name="test"))
    # Every text and page is stalled at its gateway; then the first step falls due.
    await asyncio.sleep(0.5)
    due = timezone.now()
    await database_sync_to_async(Deadline.objects.update)(due_at=due)
    started = time.monotonic()
    fired = database_sync_to_async(
        lambda: Deadline.objects.filter(step=1, took_effect_at__isnull=False).exists()
    )
    while not await fired() and time.monotonic() - started < 5:
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(running, 10)
    took_effect = await database_sync_to_async(
        lambda: Deadline.objects.get(step=1).took_effect_at
    )()
    assert took_effect is not None and (took_effect - due).total_seconds() < 1
