"""Escalation lateness: how long after its due time a step takes effect (its worker's turn
commits), with many deadlines pending, measured on the real worker loop against PostgreSQL
and Redis, from each deadline's `due_at` to its `took_effect_at`."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from bench.stats import summary_ms
from bench.world import clear_bleeps
from escalation import worker
from escalation.models import BleepPlan, Deadline
from escalation.plans import default_steps
from messaging.models import Bleep, Delivery, Priority
from rota.models import Person

PEOPLE = 200
# Steps falling due per second while measuring: a busy hospital's evening, many times over.
DUE_PER_SECOND = 50.0
# Time for the worker to start and settle before the first measured step is due.
WARM_UP = timedelta(seconds=3)
ROWS_PER_INSERT = 5_000
# The worker runs on this long after the last measured step falls due (p99 is milliseconds).
AFTER_WINDOW_SECONDS = 1.0


def measure(*, pending: int, window_seconds: float) -> dict[str, Any]:
    """Seed `pending` deadlines, some due during the window, run a worker, report lateness."""
    clear_bleeps()
    nurses, doctors = _seed_world()
    due = min(pending, int(DUE_PER_SECOND * window_seconds))
    seeded_for = timezone.now()
    _seed_deadlines(nurses, doctors, pending=pending, due=due, start=seeded_for)
    # Seeding takes seconds: move every deadline so the window opens after the warm-up.
    Deadline.objects.update(due_at=F("due_at") + (timezone.now() + WARM_UP - seeded_for))
    _run_worker(seconds=WARM_UP.total_seconds() + window_seconds + AFTER_WINDOW_SECONDS)
    lateness = lateness_seconds(Deadline.objects.filter(step=1))
    return {
        "pending": pending,
        "due_in_window": due,
        "fired": len(lateness),
        **summary_ms(lateness, prefix="lateness_"),
    }


def lateness_seconds(deadlines: QuerySet[Deadline]) -> list[float]:
    """Return how long after it was due each of `deadlines` that fired took effect, in seconds.

    Measured to when its worker's turn committed (`took_effect_at`), not when the turn began
    (`fired_at`): a turn held up before committing is late by all of it.
    """
    fired = deadlines.filter(took_effect_at__isnull=False).values_list("due_at", "took_effect_at")
    return [(took_effect - due_at).total_seconds() for due_at, took_effect in fired if took_effect]


def _run_worker(*, seconds: float) -> None:
    """Run the real worker loop for `seconds`."""

    async def run() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run_worker(stop=stop, name="bench"))
        await asyncio.sleep(seconds)
        stop.set()
        await running

    asyncio.run(run())


def _seed_world() -> tuple[list[Person], list[Person]]:
    people = Person.objects.filter(username__startswith="bench.")
    if not people.exists():
        Person.objects.bulk_create(
            Person(username=f"bench.{job}.{n}", job=job, password="!")
            for job in (Person.Job.NURSE, Person.Job.DOCTOR)
            for n in range(PEOPLE)
        )
    nurses = list(people.filter(job=Person.Job.NURSE).order_by("pk"))
    doctors = list(people.filter(job=Person.Job.DOCTOR).order_by("pk"))
    return nurses, doctors


def _seed_deadlines(
    nurses: list[Person],
    doctors: list[Person],
    *,
    pending: int,
    due: int,
    start: datetime,
) -> None:
    steps = [step.as_json() for step in default_steps(Priority.ROUTINE)]
    created = start - timedelta(minutes=5)
    for first in range(0, pending, ROWS_PER_INSERT):
        numbers = range(first, min(first + ROWS_PER_INSERT, pending))
        # Bleeps to people by name: escalation runs the same, and the shift-change check
        # (which looks at bleeps to roles) has nothing to do, as between shift changes.
        bleeps = Bleep.objects.bulk_create(
            Bleep(
                sender=nurses[n % len(nurses)],
                person=doctors[n % len(doctors)],
                message="bench",
                created_at=created,
            )
            for n in numbers
        )
        Delivery.objects.bulk_create(
            Delivery(bleep=b, recipient=doctors[n % len(doctors)], updated_at=created)
            for n, b in zip(numbers, bleeps, strict=True)
        )
        BleepPlan.objects.bulk_create(
            BleepPlan(bleep=b, source="default", steps=steps, repeat=0) for b in bleeps
        )
        Deadline.objects.bulk_create(
            Deadline(bleep=b, step=1, due_at=_due_at(n, due=due, start=start))
            for n, b in zip(numbers, bleeps, strict=True)
        )


def _due_at(number: int, *, due: int, start: datetime) -> datetime:
    # The first `due` fall due evenly through the window; the rest wait a day, pending.
    if number < due:
        return start + timedelta(seconds=number / DUE_PER_SECOND)
    return start + timedelta(days=1, milliseconds=number)
