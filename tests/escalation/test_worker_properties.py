"""Properties of the deadline worker over generated timelines: no step fires twice, and
nothing is sent after an acknowledgement. Each step leaves one history entry: what it did
(a reminder, or bringing people in) with its step number."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalation.models import Deadline, StepAction
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.models import HistoryEntry, Priority
from messaging.services.answers import acknowledge_bleep
from tests import factories
from tests.conftest import Ward
from tests.escalation import RENOTIFY_AFTER

STEP_ACTIONS = ["renotify", *StepAction.values]
T0 = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the spring clock change is irrelevant in UTC

# A turn of the worker after `seconds`, or the doctor acknowledging after `seconds`.
turn = st.tuples(
    st.sampled_from(["fire", "fire", "fire", "acknowledge"]),
    st.integers(min_value=0, max_value=400),
)


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    priority=st.sampled_from(list(Priority)),
    turns=st.lists(turn, max_size=25),
)
@pytest.mark.hazard("HZ-04", "HZ-06")
def test_no_step_fires_twice_and_nothing_is_sent_after_an_acknowledgement(
    ward: Ward, priority: Priority, turns: list[tuple[str, int]]
) -> None:
    with rolled_back():
        now = T0
        factories.on_call_now(ward.role, ward.doctor, now)
        bleep = send_bleep(
            sender=ward.nurse,
            device=ward.nurse_device,
            draft=factories.draft(ward.role, priority=priority),
            now=now,
        ).bleep
        acknowledged_at = None
        fired_by_step: dict[int, datetime] = {}
        for action, seconds in turns:
            now += timedelta(seconds=seconds)
            if action == "acknowledge" and acknowledged_at is None:
                acknowledge_bleep(
                    device=ward.doctor_device,
                    bleep_id=bleep.pk,
                    eta_minutes=None,
                    comment="",
                    now=now,
                )
                acknowledged_at = now
            elif action == "fire":
                fire_due_deadlines(now=now)
            for step, due_at, fired_at in bleep.deadlines.values_list("step", "due_at", "fired_at"):
                if fired_at is not None:
                    assert fired_at >= due_at
                    assert fired_by_step.setdefault(step, fired_at) == fired_at

        reminders = HistoryEntry.objects.filter(
            bleep=bleep, delivery__isnull=True, action__in=STEP_ACTIONS
        )
        steps = [entry.detail["step"] for entry in reminders]
        assert steps == list(range(1, len(steps) + 1)), "each step once, in order"
        pending = Deadline.objects.filter(bleep=bleep, fired_at__isnull=True)
        if acknowledged_at is not None:
            assert not reminders.filter(at__gt=acknowledged_at).exists()
            assert pending.count() <= 1
        else:
            assert pending.count() == 1, "an open bleep always has its next deadline"
            assert pending.get().due_at <= now + RENOTIFY_AFTER[priority]
