"""Each person's numbered event stream: store an event for its people, publish after commit."""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from messaging import events
from messaging.models import StreamEvent


def append_events(
    *, user_ids: Iterable[int], event: events.Event, now: datetime
) -> list[StreamEvent]:
    """Store `event` in each person's stream with their next number; publish after commit.

    Runs inside the caller's transaction: the number and the event commit together.
    """
    stored = []
    # Sorted, so two transactions that number the same streams lock them in the same order.
    for user_id in sorted(set(user_ids)):
        seq = _next_seq(user_id)
        stored.append(
            StreamEvent.objects.create(
                user_id=user_id, seq=seq, type=event["type"], data=event, created_at=now
            )
        )
    events.send_events_on_commit(stored)
    return stored


def _next_seq(user_id: int) -> int:
    # Django's ORM has no atomic increment-and-return; this upsert takes the row lock
    # until commit, so numbers are gap-free and commit in order for each person.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_streamhead (user_id, last_seq) VALUES (%s, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET last_seq = messaging_streamhead.last_seq + 1 "
            "RETURNING last_seq",
            [user_id],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
