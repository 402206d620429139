"""Several workers on PostgreSQL, a worker killed mid-run, an acknowledgement racing a
step: every due step fires once, and nothing reminds anyone after an acknowledgement.

These need real row locks (SELECT … FOR UPDATE SKIP LOCKED) and real processes, so they run
in the PostgreSQL pass only.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from escalation.models import BleepPlan, Deadline
from escalation.plans import default_steps
from escalation.services import firing
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import TeamCallSent, send_bleep, send_team_call
from messaging.models import Bleep, Delivery, HistoryEntry, Priority
from messaging.services import answers
from messaging.services.answers import acknowledge_bleep
from messaging.services.bleeps import BleepDraft
from tests.conftest import Ward
from tests.e2e import conftest as e2e
from tests.factories import draft

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks: PostgreSQL pass"
    ),
]

DUE_DEADLINES = 1_000
WORKER_FINISH_TIMEOUT_SECONDS = 120


def due_bleeps(ward: Ward, count: int, now: datetime) -> None:
    """Store `count` open bleeps to the ward's doctor whose first step fell due a second ago."""
    bleeps = Bleep.objects.bulk_create(
        Bleep(
            sender=ward.nurse,
            role=ward.role,
            answering_role=ward.role,
            message=f"bleep {n}",
            created_at=now - timedelta(minutes=5),
        )
        for n in range(count)
    )
    steps = [step.as_json() for step in default_steps(Priority.ROUTINE)]
    Delivery.objects.bulk_create(
        Delivery(bleep=b, recipient=ward.doctor, role=ward.role, updated_at=now) for b in bleeps
    )
    BleepPlan.objects.bulk_create(
        BleepPlan(bleep=b, source="default", steps=steps, repeat=0, reached_role=ward.role)
        for b in bleeps
    )
    Deadline.objects.bulk_create(
        Deadline(bleep=b, step=1, due_at=now - timedelta(seconds=1)) for b in bleeps
    )


def assert_every_first_step_fired_once() -> None:
    first = Deadline.objects.filter(step=1)
    assert first.count() == DUE_DEADLINES
    assert not first.filter(fired_at__isnull=True).exists()
    reminders = HistoryEntry.objects.filter(action="renotify", detail__step=1)
    per_bleep = reminders.values("bleep").annotate(n=Count("id"))
    assert per_bleep.count() == DUE_DEADLINES
    assert {row["n"] for row in per_bleep} == {1}
    assert Deadline.objects.filter(step=2, fired_at__isnull=True).count() == DUE_DEADLINES


@pytest.mark.hazard("HZ-04")
def test_two_workers_share_a_thousand_due_deadlines_and_fire_each_step_once(
    ward: Ward,
) -> None:
    now = timezone.now()
    due_bleeps(ward, DUE_DEADLINES, now)
    fired: list[int] = []

    def work() -> None:
        try:
            while count := fire_due_deadlines(now=now):
                fired.append(count)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert sum(fired) == DUE_DEADLINES
    assert_every_first_step_fired_once()


def start_worker(log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": e2e.test_database_url(),
        "DEBUG": "1",
        "BLEEP_DATA_DIR": str(settings.DATA_DIR),
        "LOG_LEVEL": "WARNING",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=e2e.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def fired_so_far() -> int:
    return Deadline.objects.filter(step=1, fired_at__isnull=False).count()


def wait_for(condition: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.01)


@pytest.mark.hazard("HZ-04")
def test_a_worker_killed_mid_run_loses_nothing_and_its_successor_fires_each_step_once(
    ward: Ward, tmp_path: Path
) -> None:
    due_bleeps(ward, DUE_DEADLINES, timezone.now())
    log = tmp_path / "worker.log"
    first = start_worker(log)
    try:
        wait_for("the first batch", lambda: fired_so_far() > 0, WORKER_FINISH_TIMEOUT_SECONDS)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_after = fired_so_far()
        assert killed_after < DUE_DEADLINES, "the worker finished before it could be killed"

        second = start_worker(log)
        try:
            wait_for(
                "every step",
                lambda: fired_so_far() == DUE_DEADLINES,
                WORKER_FINISH_TIMEOUT_SECONDS,
            )
        finally:
            second.terminate()
            second.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert_every_first_step_fired_once()


@pytest.mark.hazard("HZ-06")
def test_an_acknowledgement_during_a_step_means_no_reminder_after_it(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    due_bleeps(ward, 1, timezone.now())
    bleep = Bleep.objects.get()

    with acknowledgement_held_open(ward, bleep, monkeypatch):
        # The acknowledgement holds the bleep's lock: the worker skips it rather than remind.
        assert fire_due_deadlines(now=timezone.now()) == 0

    assert fire_due_deadlines(now=timezone.now()) == 1
    assert Bleep.objects.get().status == "acknowledged"
    assert not HistoryEntry.objects.filter(action="renotify").exists()
    assert not Deadline.objects.filter(fired_at__isnull=True).exists()


def test_a_bleep_to_a_doctor_is_not_held_up_while_they_acknowledge_another(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = send_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=timezone.now()
    ).bleep
    sent = threading.Event()

    def send_another() -> None:
        try:
            send_bleep(
                sender=ward.nurse,
                device=ward.nurse_device,
                draft=draft(ward.role),
                now=timezone.now(),
            )
            sent.set()
        finally:
            connection.close()

    nurse = threading.Thread(target=send_another)
    with acknowledgement_held_open(ward, first, monkeypatch):
        nurse.start()
        # The acknowledgement locks the doctor's copy, not the doctor: the new bleep commits.
        held_up = not sent.wait(timeout=5)
    nurse.join()

    assert not held_up, "the send waited for the acknowledgement to commit"
    assert Bleep.objects.filter(deliveries__recipient=ward.doctor).count() == 2


@contextmanager
def acknowledgement_held_open(
    ward: Ward, bleep: Bleep, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Have the doctor acknowledge `bleep` in a thread whose transaction stays open (its locks
    held) until the block ends, then commit it."""
    acknowledging, may_commit = threading.Event(), threading.Event()
    real = answers.move_bleep

    def slow_move_bleep(**kwargs: Any) -> None:
        real(**kwargs)
        acknowledging.set()
        may_commit.wait(timeout=10)

    monkeypatch.setattr(answers, "move_bleep", slow_move_bleep)

    def acknowledge() -> None:
        try:
            acknowledge_bleep(
                device=ward.doctor_device,
                bleep_id=bleep.pk,
                eta_minutes=5,
                comment="",
                now=timezone.now(),
            )
        finally:
            connection.close()

    doctor = threading.Thread(target=acknowledge)
    doctor.start()
    assert acknowledging.wait(timeout=10)
    try:
        yield
    finally:
        may_commit.set()
        doctor.join()


@pytest.mark.hazard("HZ-06")
def test_an_acknowledgement_arriving_while_a_step_runs_waits_and_nothing_follows_it(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    due_bleeps(ward, 1, timezone.now())
    bleep = Bleep.objects.get()
    reminding, may_commit = threading.Event(), threading.Event()
    real = firing.renotify_bleep

    def slow_renotify(**kwargs: Any) -> list[int]:
        reminded = real(**kwargs)
        reminding.set()
        may_commit.wait(timeout=10)
        return reminded

    monkeypatch.setattr(firing, "renotify_bleep", slow_renotify)

    def fire() -> None:
        try:
            fire_due_deadlines(now=timezone.now())
        finally:
            connection.close()

    worker_thread = threading.Thread(target=fire)
    worker_thread.start()
    assert reminding.wait(timeout=10)
    threading.Timer(0.3, may_commit.set).start()
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=timezone.now()
    )
    worker_thread.join()

    reminder = HistoryEntry.objects.get(action="renotify")
    acknowledged = HistoryEntry.objects.get(action="acknowledge", delivery__isnull=True)
    assert reminder.pk < acknowledged.pk, "the reminder committed before the acknowledgement"
    later = timezone.now() + timedelta(hours=1)
    assert fire_due_deadlines(now=later) == 1
    assert HistoryEntry.objects.filter(action="renotify").count() == 1


def test_the_same_team_call_sent_twice_at_once_calls_the_team_once(ward: Ward) -> None:
    template = BleepDraft(message="Cardiac arrest, bed 4", idempotency_key="crash-7")
    start = threading.Barrier(2)
    answers_given: list[TeamCallSent] = []

    def call() -> None:
        try:
            start.wait(timeout=10)
            answers_given.append(
                send_team_call(
                    sender=ward.nurse,
                    device=None,
                    team=ward.role.team,
                    draft=template,
                    now=timezone.now(),
                )
            )
        finally:
            connection.close()

    callers = [threading.Thread(target=call) for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()

    assert len(answers_given) == 2
    assert len({answer.call.pk for answer in answers_given}) == 1
    assert sorted(answer.created for answer in answers_given) == [False, True]
    assert Bleep.objects.count() == 1
