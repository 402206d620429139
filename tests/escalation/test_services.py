"""The escalation clock: deadlines as rows, each step fired once (a failing one alone rolled
back), when a step took effect, the order writers take the stream heads in, and the worker
heartbeat."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.escalation import lateness_seconds
from escalation.models import Deadline, WorkerHeartbeat
from escalation.selectors import HEARTBEAT_STALE_AFTER, latest_heartbeat, next_deadline_due
from escalation.services import firing
from escalation.services.firing import beat_heartbeat, fire_due_deadlines
from escalation.services.sending import decline_bleep, send_bleep
from messaging.actions import Action
from messaging.models import Bleep, HistoryEntry, Priority, StreamEvent
from messaging.services.answers import acknowledge_bleep, record_receipt, reply_to_bleep
from messaging.services.bleeps import cancel_bleep
from rota.models import Person
from tests.conftest import Ward
from tests.escalation import RENOTIFY_AFTER
from tests.factories import draft, make_device, make_person, on_call_now

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# What one send may cost the database, transaction statements included (17 on both passes):
# three of them lock the sender and count their last minute and their role's (send limits).
SEND_STATEMENTS = 17


def send(ward: Ward, priority: Priority = Priority.ROUTINE) -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=draft(ward.role, priority=priority),
        now=ward.now,
    ).bleep


def deadlines(bleep: Bleep) -> list[tuple[int, datetime, datetime | None]]:
    return list(bleep.deadlines.order_by("step").values_list("step", "due_at", "fired_at"))


def renotified(person: Person) -> list[int]:
    """Return the steps of the reminders in `person`'s stream, in order."""
    events = StreamEvent.objects.filter(user=person, type="bleep.renotified").order_by("seq")
    return [event.data["step"] for event in events]


@pytest.mark.parametrize("priority", list(Priority), ids=str)
@pytest.mark.hazard("HZ-04")
def test_sending_a_bleep_starts_its_clock_at_step_one(ward: Ward, priority: Priority) -> None:
    bleep = send(ward, priority)

    assert deadlines(bleep) == [(1, ward.now + RENOTIFY_AFTER[priority], None)]


def test_a_send_costs_the_same_statements_however_many_people_hold_the_role(
    ward: Ward, django_assert_max_num_queries: Any
) -> None:
    with CaptureQueriesContext(connection) as to_one:
        send(ward)
    for n in range(3):
        on_call_now(ward.role, make_person(f"second.holder.{n}"), ward.now)

    # Deliveries and their history are written in bulk, and nothing just written is read back.
    with django_assert_max_num_queries(len(to_one)):
        bleep = send(ward)
    assert bleep.deliveries.count() == 4
    assert len(to_one) <= SEND_STATEMENTS


def test_an_emergency_is_reminded_sooner_than_a_routine_bleep() -> None:
    assert (
        RENOTIFY_AFTER[Priority.EMERGENCY]
        < RENOTIFY_AFTER[Priority.URGENT]
        < RENOTIFY_AFTER[Priority.ROUTINE]
    )


def test_nothing_fires_before_the_deadline_is_due(ward: Ward) -> None:
    bleep = send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]

    assert fire_due_deadlines(now=due - timedelta(microseconds=1)) == 0

    assert deadlines(bleep) == [(1, due, None)]
    assert renotified(ward.doctor) == []


def test_a_due_deadline_reminds_the_recipients_and_the_sender_and_sets_the_next_step(
    ward: Ward,
) -> None:
    sara = make_person("sara.lind")
    on_call_now(ward.role, sara, ward.now)
    bleep = send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]

    assert fire_due_deadlines(now=due) == 1

    assert deadlines(bleep) == [(1, due, due), (2, due + RENOTIFY_AFTER[Priority.ROUTINE], None)]
    for person in [ward.nurse, ward.doctor, sara]:
        assert renotified(person) == [1]
    assert renotified(ward.operator) == []
    reminder = StreamEvent.objects.get(user=ward.doctor, type="bleep.renotified")
    assert (reminder.seq, reminder.data["bleep_id"], reminder.created_at) == (2, bleep.pk, due)
    entry = HistoryEntry.objects.get(bleep=bleep, action="renotify")
    assert (entry.actor, entry.at, entry.detail) == (None, due, {"step": 1})


@pytest.mark.hazard("HZ-04")
def test_a_late_worker_still_fires_an_overdue_deadline_once(ward: Ward) -> None:
    bleep = send(ward)
    late = ward.now + timedelta(hours=1)

    assert fire_due_deadlines(now=late) == 1

    assert deadlines(bleep)[0][2] == late
    assert renotified(ward.doctor) == [1]


@pytest.mark.hazard("HZ-04")
def test_each_step_fires_once_however_often_the_worker_looks(ward: Ward) -> None:
    bleep = send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]
    fire_due_deadlines(now=due)

    assert fire_due_deadlines(now=due) == 0
    assert fire_due_deadlines(now=due + timedelta(seconds=1)) == 0

    assert renotified(ward.doctor) == [1]
    assert [step for step, _, _ in deadlines(bleep)] == [1, 2]


def test_the_default_plan_reminds_then_escalates_up_the_chain_then_keeps_reminding(
    ward: Ward,
) -> None:
    bleep = send(ward, Priority.EMERGENCY)
    every = RENOTIFY_AFTER[Priority.EMERGENCY]

    for step in range(1, 4):
        assert fire_due_deadlines(now=ward.now + step * every) == 1

    # Step 2 went up the fallback chain to switchboard, so step 3 (bring switchboard in)
    # had nobody new to reach and reminded everyone waiting instead.
    assert renotified(ward.doctor) == [1, 3]
    escalated = StreamEvent.objects.get(user=ward.doctor, type="bleep.escalated")
    assert escalated.data["step"] == 2
    assert escalated.data["added"] == [{"id": ward.operator.pk, "name": str(ward.operator)}]
    assert renotified(ward.operator) == [3]
    assert [(step, fired) for step, _, fired in deadlines(bleep)] == [
        (1, ward.now + every),
        (2, ward.now + 2 * every),
        (3, ward.now + 3 * every),
        (4, None),
    ]


@pytest.mark.hazard("HZ-06")
def test_an_acknowledged_bleeps_deadline_fires_quietly_and_sets_no_next_step(
    ward: Ward,
) -> None:
    bleep = send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=ward.now
    )
    events_before = StreamEvent.objects.count()
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]

    assert fire_due_deadlines(now=due) == 1

    assert deadlines(bleep) == [(1, due, due)]
    assert StreamEvent.objects.count() == events_before
    assert not HistoryEntry.objects.filter(bleep=bleep, action="renotify").exists()
    assert fire_due_deadlines(now=due + timedelta(hours=1)) == 0


def test_only_the_due_bleep_is_reminded(ward: Ward) -> None:
    routine = send(ward, Priority.ROUTINE)
    emergency = send(ward, Priority.EMERGENCY)

    assert fire_due_deadlines(now=ward.now + RENOTIFY_AFTER[Priority.EMERGENCY]) == 1

    reminders = StreamEvent.objects.filter(user=ward.doctor, type="bleep.renotified")
    assert [event.data["bleep_id"] for event in reminders] == [emergency.pk]
    assert deadlines(routine)[0][2] is None


def test_a_heartbeat_just_beaten_is_fresh(db: None) -> None:
    beat_heartbeat(worker="host:1", now=T0)

    assert latest_heartbeat(now=T0) == (T0, True)


def test_a_heartbeat_is_fresh_up_to_the_stale_limit_and_stale_after_it(db: None) -> None:
    beat_heartbeat(worker="host:1", now=T0)

    assert latest_heartbeat(now=T0 + HEARTBEAT_STALE_AFTER) == (T0, True)
    assert latest_heartbeat(now=T0 + HEARTBEAT_STALE_AFTER + timedelta(seconds=1)) == (T0, False)


def test_with_no_heartbeat_no_worker_is_trusted_to_be_running(db: None) -> None:
    assert latest_heartbeat(now=T0) == (None, False)


def test_a_worker_beating_again_moves_its_one_heartbeat_on(db: None) -> None:
    beat_heartbeat(worker="host:1", now=T0)
    later = T0 + timedelta(minutes=5)

    beat_heartbeat(worker="host:1", now=later)

    assert WorkerHeartbeat.objects.get().beat_at == later
    assert latest_heartbeat(now=later) == (later, True)


def test_the_newest_heartbeat_of_any_worker_counts(db: None) -> None:
    beat_heartbeat(worker="host:1", now=T0)
    beat_heartbeat(worker="host:2", now=T0 + timedelta(minutes=10))

    assert latest_heartbeat(now=T0 + timedelta(minutes=10, seconds=5)) == (
        T0 + timedelta(minutes=10),
        True,
    )


def tables_written(queries: CaptureQueriesContext) -> list[str]:
    """Return the table each captured INSERT, UPDATE or DELETE wrote, in order."""
    written = []
    for query in queries.captured_queries:
        words = query["sql"].replace('"', "").split()
        if words and words[0] in ("INSERT", "UPDATE", "DELETE"):
            written.append(words[1] if words[0] == "UPDATE" else words[2])
    return written


@pytest.mark.hazard("HZ-15")
def test_every_writer_takes_the_stream_heads_once_and_after_all_its_other_writes(
    ward: Ward,
) -> None:
    sara = make_person("sara.lind")
    on_call_now(ward.role, sara, ward.now)
    sara_device = make_device(sara)[0]
    first, second, third = send(ward), send(ward), send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]
    writers = {
        "send": lambda: send(ward),
        "receipt": lambda: record_receipt(
            device=sara_device, bleep_id=first.pk, action=Action.DELIVER, now=ward.now
        ),
        "reply": lambda: reply_to_bleep(
            device=sara_device, bleep_id=first.pk, text="on my way", now=ward.now
        ),
        "decline": lambda: decline_bleep(
            device=sara_device, bleep_id=second.pk, reason="in theatre", now=ward.now
        ),
        "worker turn": lambda: fire_due_deadlines(now=due),
        "cancel": lambda: cancel_bleep(
            actor=ward.nurse, device=None, bleep_id=third.pk, now=ward.now
        ),
    }

    for writer, write in writers.items():
        with CaptureQueriesContext(connection) as queries:
            write()
        written = tables_written(queries)
        assert written.count("messaging_streamhead") == 1, (writer, written)
        # After the heads: the events they number, and a worker's stamp on rows it holds.
        after = written[written.index("messaging_streamhead") + 1 :]
        assert set(after) <= {"messaging_streamevent", "escalation_deadline"}, (writer, written)


@pytest.mark.hazard("HZ-15")
@pytest.mark.hazard("HZ-20")
def test_a_step_that_raises_is_rolled_back_alone_and_fires_on_a_later_turn(
    ward: Ward, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    broken, fine = send(ward), send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]
    real = firing.renotify_bleep

    def remind_then_fail(*, bleep: Bleep, step: int, now: datetime) -> list[int]:
        reminded = real(bleep=bleep, step=step, now=now)
        if bleep.pk == broken.pk:
            raise RuntimeError("bad data")
        return reminded

    monkeypatch.setattr(firing, "renotify_bleep", remind_then_fail)
    with caplog.at_level(logging.ERROR):
        assert fire_due_deadlines(now=due) == 1

    assert f"step 1 of bleep {broken.pk} failed" in caplog.text
    reminded = HistoryEntry.objects.filter(action="renotify")
    assert list(reminded.values_list("bleep_id", flat=True)) == [fine.pk]
    assert renotified(ward.doctor) == [1]
    # Still late from its due time, for the watchdog; tried again soon, not every turn.
    failed = Deadline.objects.get(bleep=broken)
    assert (failed.due_at, failed.fired_at, failed.retry_at) == (
        due,
        None,
        due + firing.STEP_RETRY_AFTER,
    )
    assert next_deadline_due() == due + firing.STEP_RETRY_AFTER

    monkeypatch.setattr(firing, "renotify_bleep", real)
    assert fire_due_deadlines(now=due + firing.STEP_RETRY_AFTER / 2) == 0
    assert fire_due_deadlines(now=due + firing.STEP_RETRY_AFTER) == 1
    assert renotified(ward.doctor) == [1, 1]
    assert [seq for seq, _ in stream_of(ward.doctor)] == [1, 2, 3, 4]


def stream_of(person: Person) -> list[tuple[int, str]]:
    events = StreamEvent.objects.filter(user=person).order_by("seq")
    return list(events.values_list("seq", "type"))


@pytest.mark.hazard("HZ-20")
def test_a_step_takes_effect_when_its_turn_commits_and_lateness_is_measured_to_then(
    ward: Ward,
) -> None:
    bleep = send(ward)
    due = ward.now + RENOTIFY_AFTER[Priority.ROUTINE]
    # The turn began on time; something held it up for seven seconds before it committed.
    committed = due + timedelta(seconds=7)
    stored_when_read: list[int] = []

    def clock() -> datetime:
        stored_when_read.append(StreamEvent.objects.filter(type="bleep.renotified").count())
        return committed

    assert fire_due_deadlines(now=due, clock=clock) == 1

    step = Deadline.objects.get(bleep=bleep, step=1)
    assert (step.fired_at, step.took_effect_at) == (due, committed)
    # Read once, after the step's events were stored: the last thing before COMMIT.
    assert stored_when_read == [2]
    assert lateness_seconds(Deadline.objects.filter(bleep=bleep)) == [7.0]
