"""Each person's numbered event stream, and the one order in which writers take their locks.

**Lock order.** Every service transaction takes its row locks in this order, so no two
transactions can each wait for the other:

0. a send only: its sender's person row, FOR NO KEY UPDATE (`limits.lock_sender`), so one
   sender's send limit is counted one send at a time;
1. the bleep row it changes, `SELECT … FOR UPDATE`, before anything of that bleep (a
   worker's turn holds many, but claims them with SKIP LOCKED, so it never waits for one);
2. that bleep's deliveries, by pk;
3. everything else it writes: plan, deadlines, history, replies, pushes;
4. the stream heads of everyone it tells, last, all at once, in one statement sorted by
   person.

Step 4 holds because an event is not numbered when it is appended: `append_events` queues
it on the open `stream_transaction`, and the outermost one numbers and stores everything
queued as its last writes, then publishes it after commit. A worker's turn firing fifty
steps so takes each head once, in order, as its last lock; numbering per statement, as
before, crossed the heads of a send or a cancel and deadlocked under load. A head stays
locked until commit, so each person's numbers are gap-free and commit in order.

A deadlock or serialization failure that still happens is retried by `retry_on_conflict`
around the service's whole transaction; a nurse never sees it.
"""

import functools
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, connection, transaction

from messaging import events
from messaging.models import StreamEvent

logger = logging.getLogger(__name__)

# PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back
# whole and the same work run again succeeds.
CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})
CONFLICT_ATTEMPTS = 4
# The pause before a retry is random up to this, doubled each time: the two sides of a
# deadlock must not meet again in step. A few of them stay well inside a request's patience.
CONFLICT_PAUSE = timedelta(milliseconds=50)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Queued:
    user_ids: list[int]
    event: events.Event
    now: datetime


@dataclass
class _Batch:
    """The events a stream transaction has queued, not yet numbered or stored."""

    queued: list[_Queued] = field(default_factory=list)
    # Savepoints open where the innermost stream transaction started: an event appended in
    # a deeper one would outlive that savepoint's rollback.
    depth: int = 0


_batch: ContextVar[_Batch | None] = ContextVar("stream_batch", default=None)


@contextmanager
def stream_transaction(*, savepoint: bool = True) -> Iterator[None]:
    """Run a block in `transaction.atomic`, numbering and storing its events at the very end.

    Every service that appends events opens its transaction with this. Nested, it is an
    ordinary atomic block whose events are dropped if it rolls back; the outermost numbers
    and stores all of them, after everything else the transaction wrote.
    """
    batch = _batch.get()
    if batch is None:
        with transaction.atomic(savepoint=savepoint):
            batch = _Batch(depth=_savepoint_depth())
            token = _batch.set(batch)
            try:
                yield
                if not transaction.get_rollback():
                    store_events()
            finally:
                _batch.reset(token)
        return
    outer_depth, mark = batch.depth, len(batch.queued)
    try:
        with transaction.atomic(savepoint=savepoint):
            batch.depth = _savepoint_depth()
            yield
    except BaseException:
        del batch.queued[mark:]
        raise
    finally:
        batch.depth = outer_depth


def append_events(*, user_ids: Iterable[int], event: events.Event, now: datetime) -> None:
    """Queue `event` for each person's stream; it is numbered and stored at the transaction's end.

    Runs inside a `stream_transaction` (and no savepoint of another kind within it), so the
    event commits with the change it describes, or not at all.
    """
    batch = _batch.get()
    if batch is None:
        raise RuntimeError("append_events runs inside stream_transaction()")
    if _savepoint_depth() != batch.depth:
        raise RuntimeError("events appended in a savepoint must open it with stream_transaction()")
    people = sorted(set(user_ids))
    if people:
        batch.queued.append(_Queued(people, event, now))


def store_events() -> list[StreamEvent]:
    """Number and store every event queued so far, publishing them after commit; return them.

    The outermost stream transaction calls this as it ends. A service may call it earlier
    to make it the last write but one (a worker stamps when its steps took effect after it).
    """
    batch = _batch.get()
    if batch is None:
        raise RuntimeError("store_events runs inside stream_transaction()")
    queued, batch.queued = batch.queued, []
    if not queued:
        return []
    counts: dict[int, int] = {}
    for item in queued:
        for user_id in item.user_ids:
            counts[user_id] = counts.get(user_id, 0) + 1
    last = _take_seqs(counts)
    next_seq = {user_id: last[user_id] - count + 1 for user_id, count in counts.items()}
    rows = []
    for item in queued:
        for user_id in item.user_ids:
            rows.append(_stored(item, user_id=user_id, seq=next_seq[user_id]))
            next_seq[user_id] += 1
    stored = StreamEvent.objects.bulk_create(rows)
    events.send_events_on_commit(stored)
    return stored


def _stored(item: _Queued, *, user_id: int, seq: int) -> StreamEvent:
    return StreamEvent(
        user_id=user_id, seq=seq, type=item.event["type"], data=item.event, created_at=item.now
    )


def _take_seqs(counts: dict[int, int]) -> dict[int, int]:
    """Move each person's head on by their count; return each head's new last number."""
    # Django's ORM has no atomic increment-and-return; this upsert locks each head row until
    # commit, in the order of its VALUES list, so the people go in sorted: every writer then
    # takes heads in one order, and all in one statement.
    people = sorted(counts)
    rows = ", ".join(["(%s, %s)"] * len(people))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO messaging_streamhead (user_id, last_seq) VALUES {rows} "
            "ON CONFLICT (user_id) DO UPDATE "
            "SET last_seq = messaging_streamhead.last_seq + excluded.last_seq "
            "RETURNING user_id, last_seq",
            [value for user_id in people for value in (user_id, counts[user_id])],
        )
        numbered = {int(user_id): int(seq) for user_id, seq in cursor.fetchall()}
    assert len(numbered) == len(people)
    return numbered


def _savepoint_depth() -> int:
    # Django's connection lists the savepoints of its open atomic blocks (`savepoint_ids`,
    # an attribute kept since Django 1.6; test_an_event_appended_in_a_savepoint_of_another_
    # kind_is_refused fails if that changes), None for a block without one (savepoint=False),
    # whose failure dooms the whole transaction anyway.
    return sum(1 for sid in connection.savepoint_ids if sid is not None)


def retry_on_conflict(service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` again, after a short random pause, when PostgreSQL rolls it back for a
    deadlock or a serialization failure; a few times, then let the error through.

    Only a call that owns the outermost transaction is retried: inside a caller's
    transaction the error goes up to the caller, whose whole transaction was lost.
    """

    # Written here rather than taken from a retry library: the loop is a few lines, and the
    # two conditions that matter (the SQLSTATE, and that the whole transaction is gone) are
    # ours to state either way.
    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                return service(*args, **kwargs)
            except DatabaseError as error:
                sqlstate = getattr(error.__cause__, "sqlstate", None)
                if (
                    sqlstate not in CONFLICT_SQLSTATES
                    or connection.in_atomic_block
                    or attempt == CONFLICT_ATTEMPTS
                ):
                    raise
                pause = random.uniform(0, CONFLICT_PAUSE.total_seconds() * 2 ** (attempt - 1))
                logger.warning(
                    "%s rolled back by %s (attempt %d); retrying in %.0f ms",
                    service.__qualname__,
                    sqlstate,
                    attempt,
                    pause * 1000,
                )
                time.sleep(pause)
        raise AssertionError("unreachable: the last attempt returns or raises")

    return run
