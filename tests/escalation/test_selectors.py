"""How far a bleep's escalation has gone, as switchboard's board tells it: each step done,
when after the send and whom it reached, and what comes next, never counted past the plan."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from escalation.selectors import FiredStep, Progress, escalation_progress
from escalation.services.firing import fire_due_deadlines
from escalation.services.switchboard import escalate_bleep
from messaging.models import Bleep, Priority
from rota.models import Role
from tests import factories
from tests.conftest import Ward
from tests.escalation.test_steps import MINUTE, make_policy, send

CONSULTANT = "Consultant physician on call"


def consultant_above(ward: Ward) -> None:
    """Put a consultant role, held now, between the registrar and switchboard."""
    consultant_role = factories.make_role(
        CONSULTANT, bleep_number="2350", fallback=ward.switchboard_role
    )
    Role.objects.filter(pk=ward.role.pk).update(fallback=consultant_role)
    factories.on_call_now(consultant_role, factories.make_person("helen.carter"), ward.now)


def progress_after(ward: Ward, bleep: Bleep, *minutes: int) -> Progress:
    """Fire the steps due at each of `minutes` after the send; return the progress then."""
    for minute in minutes:
        fire_due_deadlines(now=ward.now + minute * MINUTE)
    return escalation_progress([bleep.pk])[bleep.pk]


def told(progress: Progress) -> list[tuple[str, int, list[str]]]:
    return [(step.action, step.after_seconds, step.reached) for step in progress.so_far]


@pytest.mark.hazard("HZ-23")
def test_at_the_start_of_the_plan_nothing_is_told_and_the_first_reminder_comes_next(
    ward: Ward,
) -> None:
    consultant_above(ward)
    bleep = send(ward)

    progress = progress_after(ward, bleep)

    assert progress.so_far == []
    assert (progress.steps_fired, progress.steps_planned) == (0, 3)
    assert progress.next_action == "renotify"
    assert progress.next_due_at == ward.now + 5 * MINUTE
    assert progress.summary == "no step yet; next: remind at 5 min"


@pytest.mark.hazard("HZ-23")
def test_mid_plan_it_tells_the_reminder_and_the_role_added_with_their_minutes(
    ward: Ward,
) -> None:
    consultant_above(ward)
    bleep = send(ward)

    progress = progress_after(ward, bleep, 5, 10)

    assert told(progress) == [("renotify", 300, []), ("escalate", 600, [CONSULTANT])]
    assert progress.so_far[1].at == ward.now + 10 * MINUTE
    assert (progress.steps_fired, progress.next_action) == (2, "notify_switchboard")
    assert progress.reached_role is not None and progress.reached_role.name == CONSULTANT
    assert progress.summary == (
        f"reminded at 5 min, {CONSULTANT} added at 10 min; next: bring in switchboard at 15 min"
    )


@pytest.mark.hazard("HZ-23")
def test_once_switchboard_is_in_the_plan_is_done_and_next_is_a_reminder_not_switchboard(
    ward: Ward,
) -> None:
    consultant_above(ward)
    bleep = send(ward)

    progress = progress_after(ward, bleep, 5, 10, 15)

    assert told(progress)[-1] == ("notify_switchboard", 900, ["switchboard"])
    assert progress.steps_fired == progress.steps_planned == 3
    assert progress.next_action == "renotify"
    assert progress.summary == (
        f"reminded at 5 min, {CONSULTANT} added at 10 min, switchboard in since 15 min; "
        "next: remind at 20 min"
    )


@pytest.mark.hazard("HZ-23")
def test_in_the_reminder_tail_the_count_stays_at_the_plan_and_the_reminders_are_grouped(
    ward: Ward,
) -> None:
    consultant_above(ward)
    bleep = send(ward)

    progress = progress_after(ward, bleep, 5, 10, 15, 20, 25, 30)

    assert len(progress.so_far) == 6
    assert progress.steps_fired == progress.steps_planned == 3
    assert progress.next_action == "renotify"
    assert progress.summary == (
        f"reminded at 5 min, {CONSULTANT} added at 10 min, switchboard in since 15 min, "
        "reminded 3 times, last at 30 min; next: remind at 35 min"
    )


@pytest.mark.hazard("HZ-23")
def test_a_repeated_plan_counts_its_repeats_then_brings_switchboard_in_once(
    ward: Ward,
) -> None:
    make_policy(("renotify", 60), repeat=1, role=ward.role)
    bleep = send(ward)

    planned = progress_after(ward, bleep, 1, 2)
    tail = progress_after(ward, bleep, 3, 4, 5)

    assert (planned.steps_fired, planned.steps_planned) == (2, 2)
    assert planned.summary == "reminded 2 times, last at 2 min; next: bring in switchboard at 3 min"
    assert (tail.steps_fired, tail.steps_planned) == (2, 2)
    assert tail.summary == (
        "reminded 2 times, last at 2 min, switchboard in since 3 min, "
        "reminded 2 times, last at 5 min; next: remind at 6 min"
    )


@pytest.mark.hazard("HZ-23")
def test_switchboard_brought_in_by_hand_is_told_and_its_plan_step_becomes_a_reminder(
    ward: Ward,
) -> None:
    make_policy(("renotify", 60), ("notify_switchboard", 60), role=ward.role)
    bleep = send(ward, priority=Priority.URGENT)
    escalate_bleep(
        actor=ward.operator,
        device=None,
        bleep_id=bleep.pk,
        role=None,
        now=ward.now + timedelta(seconds=30),
    )

    progress = progress_after(ward, bleep, 1)

    assert told(progress) == [("escalate", 30, ["Switchboard"]), ("renotify", 60, [])]
    assert progress.next_action == "renotify"
    assert progress.summary == "Switchboard added at 30 s, reminded at 1 min; next: remind at 2 min"


def test_the_progress_of_many_bleeps_costs_the_same_queries_as_of_one(ward: Ward) -> None:
    consultant_above(ward)
    bleeps = [send(ward) for _ in range(4)]
    fire_due_deadlines(now=ward.now + 10 * MINUTE)

    with CaptureQueriesContext(connection) as one:
        escalation_progress([bleeps[0].pk])
    with CaptureQueriesContext(connection) as four:
        progress = escalation_progress([bleep.pk for bleep in bleeps])

    assert len(four.captured_queries) == len(one.captured_queries)
    assert all(isinstance(step, FiredStep) for row in progress.values() for step in row.so_far)
