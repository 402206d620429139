"""Fallback channels: how long after it falls due a text reaches the gateway, with 1,000
due at once and a tenth of them to numbers the gateway stalls on, beside the same run with
none stalled (so that healthy texts are seen not to queue behind stalled ones) and the
floor: Notify's client alone sending the same texts from as many threads.

The gateway is the tests' GOV.UK Notify (it checks each request's JWT as Notify does),
reached through Notify's own client by the worker's real `ChannelSender`.
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from notifications_python_client.notifications import NotificationsAPIClient
from requests.adapters import HTTPAdapter

from bench.stats import summary_ms
from messaging.fallback.sender import FIRST_LANE, ChannelSender
from messaging.models import ChannelMessage, ChannelPurpose, ContactKind, ContactPoint
from rota.models import Person
from tests import notify_service
from tests.notify_service import NotifyService

STALLED_SHARE = 0.1
# Time for the sender to start before the messages fall due.
WARM_UP = timedelta(seconds=1)
# However long the healthy texts take, the run ends after this.
GIVE_UP_SECONDS = 30.0


def measure(*, pending: int) -> dict[str, Any]:
    """Send `pending` texts due at once, a tenth stalled, and again none; report both, and
    the bare client's floor: the same texts from as many threads, with no database."""
    stalled = _run(pending=pending, stalled_share=STALLED_SHARE)
    floor = _run(pending=pending, stalled_share=0.0)
    return {
        "pending": pending,
        "stalled_share": STALLED_SHARE,
        **stalled,
        **{f"none_stalled_{key}": value for key, value in floor.items()},
        **{f"floor_{key}": value for key, value in _bare_client(pending=pending).items()},
    }


def _bare_client(*, pending: int) -> dict[str, Any]:
    """Send `pending` texts with Notify's client alone from FIRST_LANE threads at once."""
    service = NotifyService().start()
    try:
        client = NotificationsAPIClient(notify_service.API_KEY, base_url=service.url)
        client.request_session.mount("http://", HTTPAdapter(pool_maxsize=FIRST_LANE))

        def send(n: int) -> None:
            client.send_sms_notification(
                phone_number=f"+4477009{n:05d}",
                template_id=notify_service.TEMPLATE_ID,
                personalisation={"message": "Bleep benchmark"},
                reference=f"bench-{n}",
            )

        started = time.time()
        with ThreadPoolExecutor(FIRST_LANE) as pool:
            list(pool.map(send, range(pending)))
        waits = [text.wall - started for text in service.texts]
        return {"arrived": len(waits), **summary_ms(waits)}
    finally:
        service.stop()


def _run(*, pending: int, stalled_share: float) -> dict[str, Any]:
    service = NotifyService().start()
    settings.NOTIFY_API_KEY = notify_service.API_KEY
    settings.NOTIFY_BASE_URL = service.url
    settings.NOTIFY_SMS_TEMPLATE_ID = notify_service.TEMPLATE_ID
    try:
        due = timezone.now() + WARM_UP
        healthy = _seed(service, pending=pending, stalled_share=stalled_share, due=due)
        asyncio.run(_send(service, healthy=healthy))
        waits = [text.wall - due.timestamp() for text in service.texts]
        return {"healthy": healthy, "arrived": len(waits), **summary_ms(waits)}
    finally:
        service.stop()


def _seed(service: NotifyService, *, pending: int, stalled_share: float, due: Any) -> int:
    ChannelMessage.objects.all().delete()
    ContactPoint.objects.filter(person__username__startswith="bench.text.").delete()
    people = Person.objects.filter(username__startswith="bench.text.")
    have = people.count()
    Person.objects.bulk_create(
        Person(username=f"bench.text.{n}", job=Person.Job.DOCTOR, password="!")
        for n in range(have, pending)
    )
    now = timezone.now()
    stalled_every = round(1 / stalled_share) if stalled_share else 0
    contacts = []
    for n, person in enumerate(people.order_by("pk")[:pending]):
        number = f"+4477009{n:05d}"
        if stalled_every and n % stalled_every == 0:
            service.plan(number, stall=True)
        contacts.append(
            ContactPoint(
                person=person, kind=ContactKind.SMS, address=number, created_at=now, verified_at=now
            )
        )
    ContactPoint.objects.bulk_create(contacts)
    ChannelMessage.objects.bulk_create(
        ChannelMessage(
            contact=contact,
            kind=ContactKind.SMS,
            purpose=ChannelPurpose.NOTICE,
            recipient=contact.person,
            text="Bleep benchmark",
            created_at=now,
            due_at=due,
        )
        for contact in ContactPoint.objects.filter(person__username__startswith="bench.text.")
    )
    return pending - (len(range(0, pending, stalled_every)) if stalled_every else 0)


async def _send(service: NotifyService, *, healthy: int) -> None:
    started = time.monotonic()
    async with ChannelSender(clock=timezone.now) as sender:
        while len(service.texts) < healthy and time.monotonic() - started < GIVE_UP_SECONDS:
            await sender.start_due()
            await asyncio.sleep(0.005)
