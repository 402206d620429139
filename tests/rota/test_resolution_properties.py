"""Properties of resolution over generated rotas: a gap never swallows a bleep."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rota.models import Person, Role
from rota.selectors import resolve_role
from tests import factories

EPOCH = datetime(2026, 10, 24, tzinfo=UTC)
HORIZON_MINUTES = 3 * 24 * 60

shift = st.tuples(
    st.integers(min_value=0, max_value=3),  # which role of the chain
    st.integers(min_value=0, max_value=3),  # which doctor
    st.integers(min_value=0, max_value=HORIZON_MINUTES),  # start, minutes after EPOCH
    st.integers(min_value=1, max_value=14 * 60),  # length in minutes
)


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one generated example in a savepoint that is always rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def oracle(
    chain: list[Role], shifts: list[tuple[int, int, int, int]], people: list[Person], at: int
) -> tuple[Role, set[int]]:
    """Brute force: the first role on the chain with anyone on shift at minute `at`."""
    for index, role in enumerate(chain):
        holders = {
            people[who].pk
            for r, who, start, length in shifts
            if r == index and start <= at < start + length
        }
        if holders:
            return role, holders
    raise AssertionError("the switchboard role is always held")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shifts=st.lists(shift, max_size=12),
    instants=st.lists(
        st.integers(min_value=-60, max_value=HORIZON_MINUTES + 900), min_size=1, max_size=8
    ),
    start_at=st.integers(min_value=0, max_value=3),
)
@pytest.mark.hazard("HZ-02")
def test_resolution_follows_the_chain_to_the_first_holder_and_never_finds_nobody(
    db: None, shifts: list[tuple[int, int, int, int]], instants: list[int], start_at: int
) -> None:
    with rolled_back():
        switchboard = factories.make_role("Switchboard")
        operator = factories.make_person("operator", job=Person.Job.SWITCHBOARD)
        factories.make_shift(switchboard, operator, EPOCH - timedelta(days=1), hours=24 * 6)
        consultant = factories.make_role("Consultant", fallback=switchboard)
        registrar = factories.make_role("Registrar", fallback=consultant)
        senior = factories.make_role("SHO", fallback=registrar)
        junior = factories.make_role("F1", fallback=senior)
        chain = [junior, senior, registrar, consultant, switchboard]
        people = [factories.make_person(f"doctor.{n}") for n in range(4)]
        for role_index, who, start, length in shifts:
            factories.make_shift(
                chain[role_index], people[who], EPOCH + timedelta(minutes=start), hours=length / 60
            )
        everyone = [*shifts, *[(4, 4, -1440, 1440 * 6)]]
        for minute in instants:
            at = EPOCH + timedelta(minutes=minute)
            resolution = resolve_role(role=chain[start_at], at=at)
            expected_role, expected_holders = oracle(
                chain[start_at:], _shift_view(everyone, start_at), [*people, operator], minute
            )
            assert resolution.answering == expected_role
            assert {p.pk for p in resolution.holders} == expected_holders


def _shift_view(
    shifts: list[tuple[int, int, int, int]], start_at: int
) -> list[tuple[int, int, int, int]]:
    """Re-index shifts for a chain that starts `start_at` roles down."""
    return [(r - start_at, who, start, length) for r, who, start, length in shifts if r >= start_at]
