"""How escalation reaches people: a push for a new bleep, each reminder and each newcomer,
and for each newcomer their text and pager messages, sent if no device of theirs confirms
the bleep in time (messaging.fallback)."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from escalation.events import wake_workers_on_commit
from escalation.models import BleepPlan
from messaging.fallback.outbox import queue_fallbacks
from messaging.models import Bleep
from messaging.push import queue_pushes

# A push outlives the wait for the next step, and never less than this: a phone out of
# signal in a stairwell for a few minutes must still ring when it comes back.
MIN_PUSH_TTL = timedelta(minutes=15)


def push_to(
    *, bleep: Bleep, plan: BleepPlan, recipient_ids: Iterable[int], kind: str, now: datetime
) -> None:
    """Queue a push to each of `recipient_ids` and wake the workers to send it after commit.

    Runs in the caller's transaction. The push is only a wake-up: the WebSocket carries
    the bleep, and only the device's receipt counts as delivered. Someone new to the bleep
    (not a reminder) also gets its fallbacks queued, each checked again when due.
    """
    recipients = sorted(set(recipient_ids))
    if not recipients:
        return
    fallbacks = []
    if kind != "reminder":
        fallbacks = queue_fallbacks(bleep=bleep, recipient_ids=recipients, now=now)
    longest_wait = max(timedelta(seconds=step["after_seconds"]) for step in plan.steps)
    ttl = max(MIN_PUSH_TTL, longest_wait)
    pushes = queue_pushes(bleep=bleep, recipient_ids=recipients, kind=kind, ttl=ttl, now=now)
    if pushes or any(message.due_at <= now for message in fallbacks):
        wake_workers_on_commit()
