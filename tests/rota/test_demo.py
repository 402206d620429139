"""Wall-clock shift times, and the demo hospital the seed command builds."""

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from rota import demo
from rota.models import Location, Person, Role, Shift, Site, Team
from rota.selectors import holders_at
from rota.services.demo import seed_demo_hospital, username_for, wall_clock_to_utc

LONDON = ZoneInfo("Europe/London")


def counts() -> dict[str, int]:
    return {
        "sites": Site.objects.count(),
        "locations": Location.objects.count(),
        "teams": Team.objects.count(),
        "roles": Role.objects.count(),
        "people": Person.objects.count(),
        "shifts": Shift.objects.count(),
    }


def night_starting(day: date, role_bleep_number: str = "2345") -> Shift:
    start = wall_clock_to_utc(day=day, hour=demo.NIGHT_START_HOUR, zone=LONDON)
    return Shift.objects.get(role__bleep_number=role_bleep_number, start=start)


def test_a_winter_wall_clock_hour_in_london_is_the_same_hour_in_utc() -> None:
    assert wall_clock_to_utc(day=date(2026, 1, 15), hour=20, zone=LONDON) == datetime(
        2026, 1, 15, 20, 0, tzinfo=UTC
    )


def test_a_summer_wall_clock_hour_in_london_is_an_hour_earlier_in_utc() -> None:
    assert wall_clock_to_utc(day=date(2026, 7, 1), hour=8, zone=LONDON) == datetime(
        2026, 7, 1, 7, 0, tzinfo=UTC
    )


def test_wall_clock_to_utc_returns_an_instant_in_utc() -> None:
    instant = wall_clock_to_utc(day=date(2026, 7, 1), hour=8, zone=ZoneInfo("Asia/Kolkata"))

    assert instant == datetime(2026, 7, 1, 2, 30, tzinfo=UTC)
    assert instant.utcoffset() == timedelta(0)


def test_the_morning_after_the_autumn_change_is_already_on_winter_time() -> None:
    assert wall_clock_to_utc(day=date(2026, 10, 25), hour=8, zone=LONDON) == datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC
    )


def test_username_for_drops_the_title_and_joins_the_names_with_a_dot() -> None:
    assert username_for("Dr Kemi Adeyemi") == "kemi.adeyemi"


def test_username_for_a_name_without_a_title_is_lower_case() -> None:
    assert username_for("Pat Ellis") == "pat.ellis"


@pytest.mark.django_db
def test_seeding_the_demo_hospital_twice_adds_nothing_the_second_time() -> None:
    seed_demo_hospital(today=date(2026, 5, 12))
    first = counts()

    seed_demo_hospital(today=date(2026, 5, 12))

    assert counts() == first
    days = demo.DAYS_BEFORE + demo.DAYS_AFTER + 1
    assert first["sites"] == 1
    assert first["roles"] == len(demo.ROLES)
    assert first["shifts"] == len(demo.ROLES) * days * 2


@pytest.mark.django_db
def test_the_demo_people_can_sign_in_with_the_demo_password() -> None:
    seed_demo_hospital(today=date(2026, 5, 12))

    person = Person.objects.get(username="kemi.adeyemi")

    assert person.display_name == "Dr Kemi Adeyemi"
    assert person.check_password(demo.DEMO_PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "instant",
    [
        datetime(2026, 10, 24, 7, 0, tzinfo=UTC),  # 08:00 BST: day handover
        datetime(2026, 10, 24, 11, 0, tzinfo=UTC),  # midday
        datetime(2026, 10, 24, 19, 0, tzinfo=UTC),  # 20:00 BST: night handover
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # the repeated 01:30 of the clock change
        datetime(2026, 10, 25, 7, 30, tzinfo=UTC),  # 07:30 GMT, the last hour of that night
        datetime(2026, 10, 31, 23, 59, tzinfo=UTC),  # a week later
    ],
    ids=str,
)
def test_after_seeding_every_demo_role_has_exactly_one_holder(instant: datetime) -> None:
    seed_demo_hospital(today=date(2026, 10, 24))

    for role in Role.objects.all():
        assert len(holders_at(role=role, at=instant)) == 1, role


@pytest.mark.django_db
def test_the_demo_shifts_of_each_role_follow_on_without_a_gap_or_an_overlap() -> None:
    today = date(2026, 10, 24)
    seed_demo_hospital(today=today)
    first_start = wall_clock_to_utc(
        day=today - timedelta(days=demo.DAYS_BEFORE), hour=demo.DAY_START_HOUR, zone=LONDON
    )
    last_end = wall_clock_to_utc(
        day=today + timedelta(days=demo.DAYS_AFTER + 1), hour=demo.DAY_START_HOUR, zone=LONDON
    )

    for role in Role.objects.all():
        shifts = list(role.shifts.order_by("start"))
        assert shifts[0].start == first_start
        assert shifts[-1].end == last_end
        assert all(a.end == b.start for a, b in pairwise(shifts)), role


@pytest.mark.django_db
def test_a_demo_night_over_the_autumn_clock_change_lasts_thirteen_hours() -> None:
    seed_demo_hospital(today=date(2026, 10, 24))

    night = night_starting(date(2026, 10, 24))

    assert night.start == datetime(2026, 10, 24, 19, 0, tzinfo=UTC)  # 20:00 BST Saturday
    assert night.end == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 08:00 GMT Sunday
    assert night.end - night.start == timedelta(hours=13)


@pytest.mark.django_db
def test_a_demo_night_over_the_spring_clock_change_lasts_eleven_hours() -> None:
    seed_demo_hospital(today=date(2026, 3, 28))

    night = night_starting(date(2026, 3, 28))

    assert night.start == datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # 20:00 GMT Saturday
    assert night.end == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 08:00 BST Sunday
    assert night.end - night.start == timedelta(hours=11)


@pytest.mark.django_db
def test_an_ordinary_demo_night_lasts_twelve_hours() -> None:
    seed_demo_hospital(today=date(2026, 10, 24))

    night = night_starting(date(2026, 10, 21))

    assert night.end - night.start == timedelta(hours=12)


@pytest.mark.django_db
def test_seeding_again_the_next_day_never_gives_a_demo_shift_two_holders() -> None:
    # `manage.py seed_demo` says it is safe to run again, and uses the real date.
    seed_demo_hospital(today=date(2026, 5, 12))
    seed_demo_hospital(today=date(2026, 5, 13))

    noon = wall_clock_to_utc(day=date(2026, 5, 13), hour=12, zone=LONDON)
    for role in Role.objects.all():
        assert len(holders_at(role=role, at=noon)) == 1, role
