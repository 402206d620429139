"""Two workers firing many steps while nurses send and cancel and doctors acknowledge, all at
once on real PostgreSQL: no deadlock, nothing lost, nothing doubled; and a deadlock forced on
purpose is retried, not handed to a nurse as an error.

These need real row locks and PostgreSQL's deadlock detector, so they run in the
PostgreSQL pass only.
"""

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.models import Count, Max
from django.utils import timezone

from escalation.models import BleepPlan, Deadline
from escalation.plans import default_steps
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    HistoryEntry,
    Priority,
    StreamEvent,
    StreamHead,
)
from messaging.services.answers import acknowledge_bleep, record_receipt
from messaging.services.bleeps import BleepDraft, cancel_bleep
from messaging.services.stream import retry_on_conflict
from rota.models import Person
from tests import factories

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks: PostgreSQL pass"
    ),
]

PAIRS = 6
DUE_STEPS = 150
SENDS_PER_NURSE = 6
ANSWERS_PER_DOCTOR = 12
THREAD_TIMEOUT_SECONDS = 60
LOCK_WAIT_TIMEOUT_SECONDS = 10


@dataclass
class Crowd:
    nurses: list[Person]
    doctors: list[Person]
    errors: list[BaseException] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)


def deadlocks_so_far() -> int:
    """Return the deadlocks PostgreSQL has counted in the test database, every session's."""
    # A session's counts reach the shared statistics when it ends: close every pooled
    # connection and wait for their sessions to end before reading. Only client sessions:
    # an autovacuum worker tidying the test database after a busy test shows in
    # pg_stat_activity too, may take longer than the wait, and never counts a deadlock.
    connection.close_pool()  # type: ignore[attr-defined]  # PostgreSQL's wrapper has it
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT application_name, state, left(query, 80) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            )
            others = cursor.fetchall()
            if not others:
                break
            assert time.monotonic() < deadline, f"other sessions did not end: {others}"
            time.sleep(0.02)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def make_crowd() -> Crowd:
    nurses = [factories.make_person(f"nurse.{n}", job=Person.Job.NURSE) for n in range(PAIRS)]
    doctors = [factories.make_person(f"doctor.{n}") for n in range(PAIRS)]
    return Crowd(nurses, doctors)


def due_bleeps(crowd: Crowd, now: datetime, rng: random.Random) -> list[Bleep]:
    """Store open bleeps between random nurses and doctors whose first step is due."""
    pairs = [(rng.choice(crowd.nurses), rng.choice(crowd.doctors)) for _ in range(DUE_STEPS)]
    bleeps = Bleep.objects.bulk_create(
        Bleep(sender=nurse, person=doctor, message="due", created_at=now - timedelta(minutes=5))
        for nurse, doctor in pairs
    )
    Delivery.objects.bulk_create(
        Delivery(bleep=bleep, recipient=doctor, updated_at=now)
        for bleep, (_, doctor) in zip(bleeps, pairs, strict=True)
    )
    steps = [step.as_json() for step in default_steps(Priority.ROUTINE)]
    BleepPlan.objects.bulk_create(
        BleepPlan(bleep=bleep, source="default", steps=steps, repeat=0) for bleep in bleeps
    )
    Deadline.objects.bulk_create(
        Deadline(bleep=bleep, step=1, due_at=now - timedelta(seconds=1)) for bleep in bleeps
    )
    return bleeps


def in_thread(crowd: Crowd, work: Callable[[], None]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as error:
            crowd.errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def worker_turns(web_done: threading.Event) -> Callable[[], None]:
    """Fire due steps until the nurses and doctors are done and no step is due."""

    def work() -> None:
        while True:
            if fire_due_deadlines(now=timezone.now(), clock=timezone.now):
                continue
            due = Deadline.objects.filter(fired_at__isnull=True, due_at__lte=timezone.now())
            if web_done.is_set() and not due.exists():
                return
            time.sleep(0.01)

    return work


def nurses_send_and_cancel(crowd: Crowd, nurses: list[Person], seed: int) -> Callable[[], None]:
    """Each nurse in turn sends bleeps to random doctors, cancels every other one, and
    cancels a few of hers whose step is due."""
    rng = random.Random(seed)

    def work() -> None:
        for n in range(SENDS_PER_NURSE):
            for nurse in nurses:
                draft = BleepDraft(
                    person=rng.choice(crowd.doctors), message=f"send {n}", idempotency_key=f"{n}"
                )
                sent = send_bleep(sender=nurse, device=None, draft=draft, now=timezone.now())
                if n % 2:
                    cancel_bleep(
                        actor=nurse, device=None, bleep_id=sent.bleep.pk, now=timezone.now()
                    )
        for nurse in nurses:
            due = Bleep.objects.filter(sender=nurse, message="due", status=BleepStatus.OPEN)
            for bleep_id in due.values_list("pk", flat=True)[:3]:
                cancel_bleep(actor=nurse, device=None, bleep_id=bleep_id, now=timezone.now())

    return work


def doctors_answer(crowd: Crowd, doctors: list[Person]) -> Callable[[], None]:
    """Each doctor in turn confirms receipt of their bleeps whose step is due, or acknowledges
    those marked for it, from their own phone."""
    devices = {doctor: factories.make_device(doctor)[0] for doctor in doctors}

    def work() -> None:
        for doctor in doctors:
            due = Bleep.objects.filter(person=doctor, message__in=["due", "acknowledge"])
            due = due.order_by("pk")
            for bleep_id, message in due.values_list("pk", "message")[:ANSWERS_PER_DOCTOR]:
                device, now = devices[doctor], timezone.now()
                if message == "acknowledge":
                    acknowledge_bleep(
                        device=device, bleep_id=bleep_id, eta_minutes=5, comment="", now=now
                    )
                    crowd.acknowledged.append(bleep_id)
                else:
                    record_receipt(device=device, bleep_id=bleep_id, action=Action.DELIVER, now=now)

    return work


def assert_each_stream_is_numbered_without_gaps() -> None:
    per_person = StreamEvent.objects.values("user").annotate(n=Count("id"), top=Max("seq"))
    heads = dict(StreamHead.objects.values_list("user_id", "last_seq"))
    for row in per_person:
        assert row["n"] == row["top"] == heads[row["user"]], row


def assert_every_change_reached_its_streams() -> None:
    """Each reminder, cancel and acknowledgement in the history has its event in the streams."""
    events = {
        (user_id, kind, data["bleep_id"] if "bleep_id" in data else data["bleep"]["id"])
        for user_id, kind, data in StreamEvent.objects.values_list("user_id", "type", "data")
    }
    for bleep in Bleep.objects.prefetch_related("history", "deliveries"):
        people = {bleep.sender_id, *(d.recipient_id for d in bleep.deliveries.all())}
        actions = [entry.action for entry in bleep.history.all() if entry.delivery_id is None]
        assert actions.count("renotify") <= 1, f"bleep {bleep.pk} reminded twice"
        expected = {"renotify": "bleep.renotified", "cancel": "bleep.cancelled"}
        for action in actions:
            if action in expected:
                assert (bleep.sender_id, expected[action], bleep.pk) in events
        if bleep.status == BleepStatus.ACKNOWLEDGED:
            assert all((p, "bleep.acknowledged", bleep.pk) in events for p in people)


@pytest.mark.hazard("HZ-15")
def test_two_workers_sends_cancels_and_acknowledgements_at_once_never_deadlock() -> None:
    rng = random.Random(15)
    crowd = make_crowd()
    bleeps = due_bleeps(crowd, timezone.now(), rng)
    acknowledged = [b.pk for b in bleeps[1::4]]
    Bleep.objects.filter(pk__in=acknowledged).update(message="acknowledge")
    half = PAIRS // 2
    # Seven threads and the test's own: the pool holds ten connections.
    web = [
        *(
            nurses_send_and_cancel(crowd, crowd.nurses[n : n + 2], seed=n)
            for n in range(0, PAIRS, 2)
        ),
        doctors_answer(crowd, crowd.doctors[:half]),
        doctors_answer(crowd, crowd.doctors[half:]),
    ]
    web_done = threading.Event()
    before = deadlocks_so_far()

    workers = [in_thread(crowd, worker_turns(web_done)) for _ in range(2)]
    threads = [in_thread(crowd, job) for job in web]
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    web_done.set()
    for thread in workers:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)
    threads += workers

    assert not any(thread.is_alive() for thread in threads)
    assert deadlocks_so_far() == before, "PostgreSQL detected a deadlock"
    assert crowd.errors == []
    seeded = Deadline.objects.filter(step=1, bleep__message__in=["due", "acknowledge"])
    assert not seeded.filter(fired_at__isnull=True).exists()
    assert crowd.acknowledged
    answered = Bleep.objects.filter(pk__in=crowd.acknowledged)
    assert set(answered.values_list("status", flat=True)) == {BleepStatus.ACKNOWLEDGED}
    sent = Bleep.objects.exclude(message__in=["due", "acknowledge"])
    assert sent.count() == PAIRS * SENDS_PER_NURSE
    assert sent.filter(status=BleepStatus.CANCELLED).count() == PAIRS * SENDS_PER_NURSE // 2
    assert HistoryEntry.objects.filter(action="renotify").count() <= DUE_STEPS
    assert_each_stream_is_numbered_without_gaps()
    assert_every_change_reached_its_streams()


@pytest.mark.hazard("HZ-15")
def test_a_deadlock_forced_on_purpose_is_retried_and_succeeds() -> None:
    first, second = (factories.make_person(name) for name in ("first.row", "second.row"))
    errors: list[BaseException] = []
    attempts: list[int] = []
    retrier_waits, other_waits = threading.Event(), threading.Event()

    def lock(person: Person) -> None:
        Person.objects.select_for_update().get(pk=person.pk)

    @retry_on_conflict
    def retried() -> None:
        attempts.append(len(attempts) + 1)
        with transaction.atomic():
            lock(second)
            if len(attempts) == 1:
                # The deadlock check runs once, this long after a session starts to wait:
                # by then the other is waiting too, so this one finds the cycle and is
                # the one PostgreSQL cancels.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL deadlock_timeout = '300ms'")
                retrier_waits.set()
            lock(first)

    def other() -> None:
        with transaction.atomic():
            lock(first)
            assert retrier_waits.wait(timeout=LOCK_WAIT_TIMEOUT_SECONDS)
            other_waits.set()
            lock(second)

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as error:
                errors.append(error)
            finally:
                connection.close()

        return run

    before = deadlocks_so_far()
    threads = [threading.Thread(target=guarded(other))]
    threads[0].start()
    wait_until_locked(first)
    threads.append(threading.Thread(target=guarded(retried)))
    threads[1].start()
    for thread in threads:
        thread.join(timeout=THREAD_TIMEOUT_SECONDS)

    assert errors == []
    assert attempts == [1, 2]
    assert other_waits.is_set()
    assert deadlocks_so_far() == before + 1


def wait_until_locked(person: Person) -> None:
    """Return once another session holds a row lock on `person`."""
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_SECONDS
    while True:
        with transaction.atomic():
            free = Person.objects.select_for_update(skip_locked=True).filter(pk=person.pk)
            if not free.exists():
                return
        assert time.monotonic() < deadline, "the row was never locked"
        time.sleep(0.01)
