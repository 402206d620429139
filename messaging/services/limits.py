"""Send limits, and the flood alerts that tell switchboard when one is passed.

Counted from the bleeps already stored (PostgreSQL is the truth), so every web process and
the socket see the same count. Routine and urgent bleeps past a sender's limit are refused;
an emergency never is, but it counts, and a flood raises one alert to switchboard.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from messaging import events
from messaging.exceptions import SendLimitReached
from messaging.models import FloodAlert, Priority
from messaging.selectors import (
    bleeps_to_role_since,
    recent_send_times,
    sends_since,
    switchboard_operator_ids,
)
from messaging.services.stream import append_events
from rota.models import Person, Role

# The sustained limit (SEND_LIMIT_PER_MINUTE) counts this far back; so does a role's flood.
SEND_WINDOW = timedelta(minutes=1)
# The burst limit (SEND_LIMIT_BURST) counts this far back.
BURST_WINDOW = timedelta(seconds=10)
# Switchboard's board shows a flood alert this long after its latest bleep.
FLOOD_ALERT_SHOWN_FOR = timedelta(minutes=15)


def lock_sender(*, sender: Person) -> None:
    """Lock the sender's row until the caller's transaction ends.

    One sender's sends are counted one at a time, so two web processes cannot each see room
    for one more and both send. Runs first in a send's transaction (docs: stream.py's lock
    order), before any bleep of it exists. FOR NO KEY UPDATE, not FOR UPDATE: every row that
    names a person (a bleep, a delivery, a stream event) takes FOR KEY SHARE on that person's
    row when written, which FOR UPDATE would block, and sends, answers and the workers' turns
    deadlocked on it (tests/escalation/test_lock_order.py).
    """
    Person.objects.select_for_update(no_key=True).filter(pk=sender.pk).exists()


def send_limit_wait(*, sender: Person, now: datetime) -> timedelta | None:
    """Return how long before one more send from `sender` fits both limits; None if it fits now.

    A limit of N in a window means the N-th newest send must have left the window first.
    """
    per_minute, burst = settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST
    times = recent_send_times(sender=sender, since=now - SEND_WINDOW, newest=per_minute)
    waits = []
    if len(times) >= per_minute:
        waits.append(times[per_minute - 1] + SEND_WINDOW - now)
    if len(times) >= burst and times[burst - 1] > now - BURST_WINDOW:
        waits.append(times[burst - 1] + BURST_WINDOW - now)
    # Another process's clock may run ahead of this one's; never ask for more than a window.
    return min(max(waits), SEND_WINDOW) if waits else None


def apply_send_limit(*, sender: Person, priority: str, now: datetime) -> SendLimitReached | None:
    """Return the refusal for a send past `sender`'s limit, or None; alert switchboard if past it.

    Runs in the send's transaction, after `lock_sender`. The refusal is returned, not raised,
    so the caller commits the flood alert and raises it after: a refused send stores nothing
    else. An emergency is never refused (patient safety: HZ-25), but it counts and alerts.
    """
    wait = send_limit_wait(sender=sender, now=now)
    if wait is None:
        return None
    goes = priority == Priority.EMERGENCY
    count, first_at = sends_since(sender=sender, since=now - SEND_WINDOW)
    note_flood(
        kind=FloodAlert.Kind.SENDER,
        subject=f"sender:{sender.pk}",
        count=count + 1 if goes else count,  # an emergency counts itself: it is sent
        first_at=first_at or now,
        now=now,
        sender=sender,
    )
    return None if goes else SendLimitReached(retry_after=wait)


def note_role_flood(*, role: Role, now: datetime) -> FloodAlert | None:
    """Alert switchboard if `role` got more than FLOOD_ROLE_PER_MINUTE bleeps in the last minute.

    Runs in the send's transaction, after its bleep is stored, so that bleep counts.
    """
    count, first_at = bleeps_to_role_since(role=role, since=now - SEND_WINDOW)
    if count <= settings.FLOOD_ROLE_PER_MINUTE or first_at is None:
        return None
    return note_flood(
        kind=FloodAlert.Kind.ROLE,
        subject=f"role:{role.pk}",
        count=count,
        first_at=first_at,
        now=now,
        role=role,
    )


def note_flood(
    *,
    kind: str,
    subject: str,
    count: int,
    first_at: datetime,
    now: datetime,
    sender: Person | None = None,
    role: Role | None = None,
) -> FloodAlert:
    """Keep the subject's open flood alert current, or raise a new one and tell switchboard.

    Runs in the caller's `stream_transaction`. A flood goes on while bleeps come within a
    minute of each other: one alert and one event for all of it, not one per bleep. The
    partial unique index keeps one open per subject when two processes raise it at once.
    """
    alert = FloodAlert.objects.select_for_update().filter(subject=subject, closed_at=None).first()
    if alert is not None and alert.last_at > now - SEND_WINDOW:
        alert.count, alert.last_at = max(alert.count, count), max(alert.last_at, now)
        alert.save(update_fields=["count", "last_at"])
        return alert
    if alert is not None:
        alert.closed_at = now
        alert.save(update_fields=["closed_at"])
    fields = {"count": count, "first_at": first_at, "last_at": now, "raised_at": now}
    try:
        with transaction.atomic():
            alert = FloodAlert.objects.create(
                kind=kind, subject=subject, sender=sender, role=role, **fields
            )
    except IntegrityError:
        # Another send raised it a moment ago, and told switchboard.
        return FloodAlert.objects.get(subject=subject, closed_at=None)
    append_events(user_ids=switchboard_operator_ids(), event=events.flood_alert(alert), now=now)
    return alert
