"""The gaps report: every stretch when a role has no holder, and nothing else."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rota.models import Person, Role
from rota.selectors import Gap, gaps, holders_at
from rota.wallclock import to_utc
from tests.factories import make_person, make_role, make_shift
from tests.rota.test_resolution_properties import rolled_back

LONDON = ZoneInfo("Europe/London")
MIDNIGHT = datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def at_hour(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def shift(role: Role, who: str | Person, start_hour: float, end_hour: float) -> None:
    person = make_person(who) if isinstance(who, str) else who
    make_shift(role, person, at_hour(start_hour), hours=end_hour - start_hour)


def report(role: Role, start_hour: float = 0, end_hour: float = 24) -> list[tuple[float, float]]:
    """Return the gaps of `role` as (start, end) hours after MIDNIGHT."""
    found = gaps(roles=[role], start=at_hour(start_hour), end=at_hour(end_hour))
    assert all(gap.role == role for gap in found)
    return [
        ((gap.start - MIDNIGHT) / timedelta(hours=1), (gap.end - MIDNIGHT) / timedelta(hours=1))
        for gap in found
    ]


@pytest.mark.django_db
def test_a_role_nobody_holds_is_one_gap_the_length_of_the_report() -> None:
    role = make_role()

    assert gaps(roles=[role], start=at_hour(0), end=at_hour(24)) == [
        Gap(role, at_hour(0), at_hour(24))
    ]


@pytest.mark.django_db
def test_a_shift_in_the_middle_leaves_a_gap_either_side() -> None:
    role = make_role()
    shift(role, "omar.haddad", 9, 17)

    assert report(role) == [(0, 9), (17, 24)]


@pytest.mark.django_db
def test_overlapping_shifts_leave_gaps_only_outside_their_union() -> None:
    role = make_role()
    shift(role, "day.doctor", 8, 20.5)
    shift(role, "twilight.doctor", 16, 22)
    shift(role, "inside.doctor", 10, 12)

    assert report(role) == [(0, 8), (22, 24)]


@pytest.mark.django_db
def test_adjacent_shifts_leave_no_gap_between_them() -> None:
    role = make_role()
    shift(role, "night.doctor", -4, 8)
    shift(role, "day.doctor", 8, 20)
    shift(role, "late.doctor", 20, 30)

    assert report(role) == []


@pytest.mark.django_db
def test_a_gap_of_one_minute_between_shifts_is_reported() -> None:
    role = make_role()
    shift(role, "day.doctor", 0, 12)
    shift(role, "night.doctor", 12 + 1 / 60, 24)

    assert gaps(roles=[role], start=at_hour(0), end=at_hour(24)) == [
        Gap(role, at_hour(12), at_hour(12) + timedelta(minutes=1))
    ]


@pytest.mark.django_db
def test_shifts_running_past_the_report_are_clipped_to_it() -> None:
    role = make_role()
    shift(role, "night.doctor", -6, 3)
    shift(role, "late.doctor", 20, 32)

    assert report(role, 0, 24) == [(3, 20)]


@pytest.mark.django_db
def test_a_report_wholly_inside_a_shift_has_no_gaps() -> None:
    role = make_role()
    shift(role, "omar.haddad", 0, 24)

    assert report(role, 1, 2) == []


@pytest.mark.django_db
def test_a_shift_outside_the_report_does_not_count() -> None:
    role = make_role()
    shift(role, "yesterday.doctor", -12, 0)
    shift(role, "tomorrow.doctor", 24, 36)

    assert report(role) == [(0, 24)]


@pytest.mark.django_db
def test_a_shift_of_someone_no_longer_active_is_a_gap_as_routing_sees_it() -> None:
    role = make_role()
    make_shift(role, make_person("left.trust", is_active=False), at_hour(0), hours=24)

    assert report(role) == [(0, 24)]
    assert list(holders_at(role=role, at=at_hour(12))) == []


@pytest.mark.django_db
def test_each_role_has_its_own_gaps_in_the_order_asked() -> None:
    registrar = make_role("Registrar")
    sho = make_role("SHO")
    doctor = make_person("omar.haddad")
    shift(registrar, doctor, 0, 12)
    shift(sho, make_person("kemi.adeyemi"), 12, 24)

    found = gaps(roles=[sho, registrar], start=at_hour(0), end=at_hour(24))

    assert found == [Gap(sho, at_hour(0), at_hour(12)), Gap(registrar, at_hour(12), at_hour(24))]


@pytest.mark.django_db
def test_an_empty_or_backwards_report_has_no_gaps() -> None:
    role = make_role()

    assert gaps(roles=[role], start=at_hour(5), end=at_hour(5)) == []
    assert gaps(roles=[role], start=at_hour(6), end=at_hour(5)) == []
    assert gaps(roles=[], start=at_hour(0), end=at_hour(5)) == []


@pytest.mark.django_db
def test_the_report_reads_the_rota_in_one_query_however_many_roles() -> None:
    roles = [make_role(f"Role {n}") for n in range(5)]
    for n, role in enumerate(roles):
        shift(role, f"doctor.{n}", n + 1, n + 3)

    with CaptureQueriesContext(connection) as queries:
        found = gaps(roles=roles, start=at_hour(0), end=at_hour(24))

    assert len(queries) == 1
    assert len(found) == 10


# --- the clocks change --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_london_day_the_clocks_go_back_is_one_gap_of_twenty_five_hours() -> None:
    role = make_role()
    start = datetime(2026, 10, 25, 0, 0, tzinfo=LONDON)
    end = datetime(2026, 10, 26, 0, 0, tzinfo=LONDON)

    (gap,) = gaps(roles=[role], start=start, end=end)

    assert gap.start == datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    assert gap.end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)
    assert gap.start.utcoffset() == timedelta(0)
    assert gap.end - gap.start == timedelta(hours=25)


@pytest.mark.django_db
def test_the_london_day_the_clocks_go_forward_is_one_gap_of_twenty_three_hours() -> None:
    role = make_role()
    start = datetime(2026, 3, 29, 0, 0, tzinfo=LONDON)
    end = datetime(2026, 3, 30, 0, 0, tzinfo=LONDON)

    (gap,) = gaps(roles=[role], start=start, end=end)

    assert gap.end - gap.start == timedelta(hours=23)


def wall(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return to_utc(day=date(2026, month, day), at=time(hour, minute), zone=LONDON)


@pytest.mark.django_db
@pytest.mark.hazard("HZ-03")
def test_a_night_over_the_spring_change_meets_the_next_day_shift_with_no_gap() -> None:
    role = make_role()
    # 20:00 GMT to 08:30 BST is 11.5 hours, not the 12.5 the clock face suggests.
    make_shift(role, make_person("night.doctor"), wall(28, 20), hours=11.5)
    make_shift(role, make_person("day.doctor"), wall(29, 8, 30), hours=12)

    assert gaps(roles=[role], start=wall(28, 20), end=wall(29, 20, 30)) == []


@pytest.mark.django_db
def test_a_half_hour_hole_after_the_spring_night_is_exactly_half_an_hour() -> None:
    role = make_role()
    make_shift(role, make_person("night.doctor"), wall(28, 20), hours=11.5)
    make_shift(role, make_person("day.doctor"), wall(29, 9), hours=11.5)

    found = gaps(roles=[role], start=wall(28, 20), end=wall(29, 20, 30))

    assert found == [Gap(role, wall(29, 8, 30), wall(29, 9))]
    assert found[0].start == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_night_over_the_autumn_change_is_thirteen_and_a_half_hours_with_no_gap() -> None:
    role = make_role()
    make_shift(role, make_person("night.doctor"), wall(24, 20, month=10), hours=13.5)
    make_shift(role, make_person("day.doctor"), wall(25, 8, 30, month=10), hours=12)

    assert wall(25, 8, 30, month=10) - wall(24, 20, month=10) == timedelta(hours=13.5)
    assert gaps(roles=[role], start=wall(24, 20, month=10), end=wall(25, 20, 30, month=10)) == []


# --- the property: the report is the complement of the rota -------------------------------

EPOCH = datetime(2026, 3, 28, tzinfo=UTC)
HORIZON_MINUTES = 3 * 24 * 60
shift_strategy = st.tuples(
    st.integers(min_value=0, max_value=1),  # which role
    st.integers(min_value=0, max_value=2),  # which person; person 2 is no longer active
    st.integers(min_value=-600, max_value=HORIZON_MINUTES),  # start, minutes after EPOCH
    st.integers(min_value=1, max_value=16 * 60),  # length in minutes
)


def brute_force_gaps(
    shifts: list[tuple[int, int, int, int]], role_index: int, start: int, end: int
) -> list[tuple[int, int]]:
    """Walk every minute of [start, end) and return the runs nobody active holds the role."""
    held = {
        minute
        for r, who, shift_start, length in shifts
        if r == role_index and who != 2
        for minute in range(shift_start, shift_start + length)
    }
    runs: list[tuple[int, int]] = []
    for minute in range(start, end):
        if minute in held:
            continue
        if runs and runs[-1][1] == minute:
            runs[-1] = (runs[-1][0], minute + 1)
        else:
            runs.append((minute, minute + 1))
    return runs


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shifts=st.lists(shift_strategy, max_size=10),
    window=st.tuples(
        st.integers(min_value=-120, max_value=HORIZON_MINUTES),
        st.integers(min_value=1, max_value=HORIZON_MINUTES),
    ),
)
@pytest.mark.hazard("HZ-02")
def test_the_gaps_report_is_exactly_the_minutes_nobody_holds_each_role(
    db: None, shifts: list[tuple[int, int, int, int]], window: tuple[int, int]
) -> None:
    start, length = window
    with rolled_back():
        roles = [make_role("Registrar"), make_role("SHO")]
        people = [
            make_person("doctor.0"),
            make_person("doctor.1"),
            make_person("left.trust", is_active=False),
        ]
        for role_index, who, shift_start, shift_length in shifts:
            make_shift(
                roles[role_index],
                people[who],
                EPOCH + timedelta(minutes=shift_start),
                hours=shift_length / 60,
            )

        found = gaps(
            roles=roles,
            start=EPOCH + timedelta(minutes=start),
            end=EPOCH + timedelta(minutes=start + length),
        )

        expected = [
            (role, first, last)
            for index, role in enumerate(roles)
            for first, last in brute_force_gaps(shifts, index, start, start + length)
        ]
        assert [
            (gap.role, minutes_after_epoch(gap.start), minutes_after_epoch(gap.end))
            for gap in found
        ] == expected


def minutes_after_epoch(instant: datetime) -> int:
    minutes, rest = divmod(instant - EPOCH, timedelta(minutes=1))
    assert rest == timedelta(0)
    return minutes
