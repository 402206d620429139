"""Writes of escalation: start a bleep's clock, fire due deadlines, keep the heartbeat."""

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction

from escalation.models import Deadline, WorkerHeartbeat
from messaging.models import Bleep, BleepStatus, Device, Priority
from messaging.selectors import find_sent_bleep
from messaging.services.bleeps import BleepDraft, create_bleep, renotify_bleep
from rota.models import Person

logger = logging.getLogger(__name__)

# How long a recipient has before everyone unanswered is reminded. Short enough that a
# missed emergency is re-sent within a minute; long enough not to drown a busy registrar.
RENOTIFY_AFTER = {
    Priority.ROUTINE: timedelta(minutes=5),
    Priority.URGENT: timedelta(minutes=2),
    Priority.EMERGENCY: timedelta(minutes=1),
}
# Deadlines one worker claims per transaction; the rest wait for its next turn or another worker.
CLAIM_BATCH = 50


class Sent(NamedTuple):
    """The bleep a send returned, and whether this send created it (not a retry)."""

    bleep: Bleep
    created: bool


def send_bleep(*, sender: Person, device: Device | None, draft: BleepDraft, now: datetime) -> Sent:
    """Send a bleep to whoever holds its role now and start its escalation clock, atomically.

    Idempotent by the draft's key: the same sender sending the same key again, even at the
    same moment from a retrying phone, gets the first bleep back and nobody is bleeped twice.
    """
    if draft.idempotency_key:
        earlier = find_sent_bleep(sender=sender, idempotency_key=draft.idempotency_key)
        if earlier is not None:
            return Sent(earlier, created=False)
    try:
        with transaction.atomic():
            bleep = create_bleep(sender=sender, device=device, draft=draft, now=now)
            priority = Priority(bleep.priority)
            Deadline.objects.create(bleep=bleep, step=1, due_at=now + RENOTIFY_AFTER[priority])
    except IntegrityError:
        earlier = find_sent_bleep(sender=sender, idempotency_key=draft.idempotency_key)
        if not draft.idempotency_key or earlier is None:
            raise
        return Sent(earlier, created=False)
    return Sent(bleep, created=True)


def fire_due_deadlines(*, now: datetime) -> int:
    """Claim due deadlines, run each step once and set the next; return how many fired.

    Owns its transaction: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED on
    PostgreSQL, so any number of workers share the work and none runs a step twice.
    """
    with transaction.atomic():
        due = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(fired_at__isnull=True, due_at__lte=now)
            .order_by("due_at")[:CLAIM_BATCH]
        )
        for deadline in due:
            _fire(deadline=deadline, now=now)
    return len(due)


def _fire(*, deadline: Deadline, now: datetime) -> None:
    # Locking the bleep means an acknowledgement either commits first (and we stop) or
    # waits for us: a reminder never goes out after someone said they are coming.
    bleep = Bleep.objects.select_for_update().get(pk=deadline.bleep_id)
    deadline.fired_at = now
    deadline.save(update_fields=["fired_at"])
    if bleep.status != BleepStatus.OPEN:
        return
    renotify_bleep(bleep=bleep, step=deadline.step, now=now)
    Deadline.objects.create(
        bleep=bleep, step=deadline.step + 1, due_at=now + RENOTIFY_AFTER[Priority(bleep.priority)]
    )


def beat_heartbeat(*, worker: str, now: datetime) -> WorkerHeartbeat:
    """Record that `worker` is alive at `now`."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(name=worker, defaults={"beat_at": now})
    return heartbeat
