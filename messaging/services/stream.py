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
    # Sorted, so two transactions that number the same streams lock them in the same order.
    people = sorted(set(user_ids))
    if not people:
        return []
    numbers = _next_seqs(people)
    stored = StreamEvent.objects.bulk_create(
        StreamEvent(
            user_id=user_id, seq=numbers[user_id], type=event["type"], data=event, created_at=now
        )
        for user_id in people
    )
    events.send_events_on_commit(stored)
    return stored


def _next_seqs(user_ids: list[int]) -> dict[int, int]:
    # Django's ORM has no atomic increment-and-return; this upsert takes each row's lock
    # (in the given order) until commit, so numbers are gap-free and commit in order for
    # each person. One statement for everyone in the event, however many they are.
    rows = ", ".join(["(%s, 1)"] * len(user_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO messaging_streamhead (user_id, last_seq) VALUES {rows} "
            "ON CONFLICT (user_id) DO UPDATE SET last_seq = messaging_streamhead.last_seq + 1 "
            "RETURNING user_id, last_seq",
            user_ids,
        )
        numbered = {int(user_id): int(seq) for user_id, seq in cursor.fetchall()}
    assert len(numbered) == len(user_ids)
    return numbered
