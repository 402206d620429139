"""Recurring patterns: wall-clock expansion across clock changes, rotation, idempotence."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from rota.exceptions import InvalidRotaData
from rota.models import Pattern, PatternMember, Person, Role, RotaChange, RotaManagerScope, Shift
from rota.selectors import holders_at
from rota.services.patterns import delete_pattern, expand_pattern, save_pattern
from rota.services.records import save_record
from rota.services.swaps import accept_swap, approve_swap, cover_shift, request_swap
from tests.factories import make_person, make_role, make_shift, site_manager

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MONDAY = date(2026, 6, 1)

pytestmark = pytest.mark.django_db


def make_pattern(role: Role, members: list[Person], **fields: Any) -> Pattern:
    changes = {
        "role": role,
        "name": "Nights",
        "weekdays": list(range(7)),
        "start_time": time(20, 0),
        "end_time": time(8, 30),
        "rotation": Pattern.Rotation.EACH_WEEK,
        "anchor_date": MONDAY,
        **fields,
    }
    manager = site_manager(role.site)
    return save_pattern(actor=manager, pattern=Pattern(), changes=changes, members=members, now=NOW)


def expand(pattern: Pattern, first_day: date, last_day: date, **extra: Any) -> Any:
    return expand_pattern(
        actor=site_manager(pattern.role.site),
        pattern=pattern,
        first_day=first_day,
        last_day=last_day,
        now=NOW,
        **extra,
    )


def stored(pattern: Pattern) -> list[tuple[str, datetime, datetime]]:
    shifts = Shift.objects.filter(pattern=pattern).select_related("person").order_by("start")
    return [(shift.person.username, shift.start, shift.end) for shift in shifts]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_pattern_makes_a_shift_on_each_of_its_weekdays_and_no_other() -> None:
    pattern = make_pattern(
        make_role(),
        [make_person("omar.haddad")],
        weekdays=[0, 2],
        start_time=time(8),
        end_time=time(17),
    )

    expand(pattern, MONDAY, MONDAY + timedelta(days=13))

    # June is summer time (BST, UTC+1): 08:00–17:00 on the clock is 07:00–16:00 UTC.
    assert [start for _, start, _ in stored(pattern)] == [
        utc(2026, 6, 1, 7),
        utc(2026, 6, 3, 7),
        utc(2026, 6, 8, 7),
        utc(2026, 6, 10, 7),
    ]
    assert all(end - start == timedelta(hours=9) for _, start, end in stored(pattern))


def test_an_end_not_after_the_start_is_on_the_next_day() -> None:
    role = make_role()
    night = make_pattern(role, [make_person("night.doctor")], weekdays=[0])
    day_long = make_pattern(
        role, [make_person("day.doctor")], weekdays=[0], start_time=time(9), end_time=time(9)
    )
    winter_monday = date(2026, 1, 12)

    expand(night, winter_monday, winter_monday)
    expand(day_long, winter_monday, winter_monday)

    assert stored(night) == [("night.doctor", utc(2026, 1, 12, 20), utc(2026, 1, 13, 8, 30))]
    assert stored(day_long) == [("day.doctor", utc(2026, 1, 12, 9), utc(2026, 1, 13, 9))]


def test_each_shift_rotation_takes_the_next_member_each_shift_counting_from_the_anchor() -> None:
    a, b, c = (make_person(name) for name in ("a.doctor", "b.doctor", "c.doctor"))
    pattern = make_pattern(
        make_role(),
        [a, b, c],
        weekdays=[0, 2, 4],
        rotation=Pattern.Rotation.EACH_SHIFT,
        anchor_date=date(2026, 6, 3),  # a Wednesday
    )

    expand(pattern, date(2026, 5, 25), date(2026, 6, 12))

    days_and_people = [(start.date().isoformat(), who) for who, start, _ in stored(pattern)]
    # Before the anchor the rotation runs backwards: the shift just before it is the last
    # member's, and so on, the same answer whichever range is expanded.
    assert days_and_people == [
        ("2026-05-25", "c.doctor"),
        ("2026-05-27", "a.doctor"),
        ("2026-05-29", "b.doctor"),
        ("2026-06-01", "c.doctor"),
        ("2026-06-03", "a.doctor"),
        ("2026-06-05", "b.doctor"),
        ("2026-06-08", "c.doctor"),
        ("2026-06-10", "a.doctor"),
        ("2026-06-12", "b.doctor"),
    ]


def test_each_week_rotation_takes_the_next_member_each_iso_week_from_the_anchors_week() -> None:
    a, b = make_person("a.doctor"), make_person("b.doctor")
    pattern = make_pattern(
        make_role(), [a, b], start_time=time(8), end_time=time(20), anchor_date=date(2026, 6, 4)
    )

    expand(pattern, date(2026, 5, 30), date(2026, 6, 15))

    by_day = {start.date().isoformat(): who for who, start, _ in stored(pattern)}
    # The anchor is a Thursday: its whole ISO week (from Monday 1 June) is the first member's.
    assert by_day["2026-05-30"] == by_day["2026-05-31"] == "b.doctor"
    assert {by_day[f"2026-06-0{n}"] for n in range(1, 8)} == {"a.doctor"}
    assert {by_day[f"2026-06-{n:02}"] for n in range(8, 15)} == {"b.doctor"}
    assert by_day["2026-06-15"] == "a.doctor"


@pytest.mark.hazard("HZ-03")
def test_a_night_over_the_autumn_clock_change_lasts_thirteen_and_a_half_hours() -> None:
    pattern = make_pattern(make_role(), [make_person("night.doctor")], weekdays=[5])

    expand(pattern, date(2026, 10, 24), date(2026, 10, 24))

    # 20:00 BST on Saturday to 08:30 GMT on Sunday: the clock goes back an hour overnight.
    assert stored(pattern) == [("night.doctor", utc(2026, 10, 24, 19), utc(2026, 10, 25, 8, 30))]
    _, start, end = stored(pattern)[0]
    assert end - start == timedelta(hours=13, minutes=30)


def test_a_night_over_the_spring_clock_change_lasts_eleven_and_a_half_hours() -> None:
    pattern = make_pattern(make_role(), [make_person("night.doctor")], weekdays=[5])

    expand(pattern, date(2026, 3, 28), date(2026, 3, 28))

    # 20:00 GMT on Saturday to 08:30 BST on Sunday: the clock goes forward an hour overnight.
    assert stored(pattern) == [("night.doctor", utc(2026, 3, 28, 20), utc(2026, 3, 29, 7, 30))]
    _, start, end = stored(pattern)[0]
    assert end - start == timedelta(hours=11, minutes=30)


def test_a_start_in_the_missing_spring_hour_is_read_with_the_offset_before_the_change() -> None:
    pattern = make_pattern(
        make_role(),
        [make_person("early.doctor")],
        weekdays=[6],
        start_time=time(1, 30),
        end_time=time(9),
    )

    expand(pattern, date(2026, 3, 29), date(2026, 3, 29))

    # 01:30 does not exist on 29 March 2026; by PEP 495 fold=0 it is 01:30 GMT (02:30 BST).
    assert stored(pattern) == [("early.doctor", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 8))]


def test_a_start_in_the_repeated_autumn_hour_is_its_first_occurrence() -> None:
    pattern = make_pattern(
        make_role(),
        [make_person("early.doctor")],
        weekdays=[6],
        start_time=time(1, 30),
        end_time=time(9),
    )

    expand(pattern, date(2026, 10, 25), date(2026, 10, 25))

    # 01:30 happens twice on 25 October 2026; the first time is 01:30 BST, 00:30 UTC.
    assert stored(pattern) == [("early.doctor", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 9))]


@pytest.mark.parametrize("sunday", [date(2026, 3, 29), date(2026, 10, 25)])
@pytest.mark.hazard("HZ-03")
def test_a_handover_in_a_clock_change_hour_leaves_no_gap_and_no_overlap(sunday: date) -> None:
    role = make_role()
    late = make_pattern(
        role, [make_person("late.doctor")], start_time=time(17), end_time=time(1, 30)
    )
    early = make_pattern(
        role, [make_person("early.doctor")], start_time=time(1, 30), end_time=time(9)
    )

    expand(late, sunday - timedelta(days=1), sunday - timedelta(days=1))
    expand(early, sunday, sunday)

    [(_, _, handed_over)] = stored(late)
    [(_, taken_over, _)] = stored(early)
    assert handed_over == taken_over


def test_a_shift_with_no_length_on_the_spring_day_is_refused_naming_the_day() -> None:
    pattern = make_pattern(
        make_role(),
        [make_person("a.doctor")],
        weekdays=[6],
        start_time=time(1, 30),
        end_time=time(2, 15),
    )

    with pytest.raises(InvalidRotaData) as refused:
        expand(pattern, date(2026, 3, 22), date(2026, 4, 5))

    # 01:30 is read as 01:30 UTC (02:30 BST), after 02:15 BST: nothing to work that day.
    assert list(refused.value.errors) == ["2026-03-29: end"]
    assert not Shift.objects.exists()


def test_expanding_again_changes_nothing_and_records_nothing() -> None:
    pattern = make_pattern(make_role(), [make_person("a.doctor"), make_person("b.doctor")])
    first = expand(pattern, date(2026, 10, 1), date(2026, 10, 31))
    before = stored(pattern)
    ids = set(Shift.objects.values_list("pk", flat=True))
    changes = RotaChange.objects.count()

    again = expand(pattern, date(2026, 10, 1), date(2026, 10, 31))

    assert (first.created, first.updated, first.unchanged, first.removed) == (31, 0, 0, 0)
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 31, 0)
    assert again.planned == first.planned
    assert stored(pattern) == before
    assert set(Shift.objects.values_list("pk", flat=True)) == ids
    assert RotaChange.objects.count() == changes


def test_changing_a_member_and_expanding_again_updates_exactly_that_members_shifts() -> None:
    a, b, c = (make_person(name) for name in ("a.doctor", "b.doctor", "c.doctor"))
    pattern = make_pattern(make_role(), [a, b])
    expand(pattern, MONDAY, MONDAY + timedelta(days=27))
    a_shifts = {s.pk: (s.start, s.end) for s in Shift.objects.filter(person=a)}
    b_shift_ids = set(Shift.objects.filter(person=b).values_list("pk", flat=True))

    save_pattern(
        actor=site_manager(pattern.role.site), pattern=pattern, changes={}, members=[a, c], now=NOW
    )
    report = expand(pattern, MONDAY, MONDAY + timedelta(days=27))

    assert (report.created, report.updated, report.unchanged, report.removed) == (0, 14, 14, 0)
    assert {s.pk: (s.start, s.end) for s in Shift.objects.filter(person=a)} == a_shifts
    assert set(Shift.objects.filter(person=c).values_list("pk", flat=True)) == b_shift_ids
    assert not Shift.objects.filter(person=b).exists()
    updates = RotaChange.objects.filter(action="expand", model="Shift", before__isnull=False)
    assert {change.object_id for change in updates} == b_shift_ids


def test_shifts_the_pattern_no_longer_makes_are_removed_and_new_times_created() -> None:
    pattern = make_pattern(make_role(), [make_person("a.doctor")])
    expand(pattern, MONDAY, MONDAY + timedelta(days=6))

    save_pattern(
        actor=site_manager(pattern.role.site),
        pattern=pattern,
        changes={"weekdays": [0, 1], "start_time": time(21)},
        members=[pattern.members.get().person],
        now=NOW,
    )
    report = expand(pattern, MONDAY, MONDAY + timedelta(days=6))

    assert (report.created, report.updated, report.unchanged, report.removed) == (2, 0, 0, 7)
    assert [start for _, start, _ in stored(pattern)] == [utc(2026, 6, 1, 20), utc(2026, 6, 2, 20)]
    removals = RotaChange.objects.filter(model="Shift", action="expand", after__isnull=True)
    assert removals.count() == 7


def test_expanding_part_of_the_range_leaves_shifts_outside_it_alone() -> None:
    a, b = make_person("a.doctor"), make_person("b.doctor")
    pattern = make_pattern(make_role(), [a])
    expand(pattern, MONDAY, MONDAY + timedelta(days=13))
    save_pattern(
        actor=site_manager(pattern.role.site), pattern=pattern, changes={}, members=[b], now=NOW
    )

    report = expand(pattern, MONDAY + timedelta(days=7), MONDAY + timedelta(days=13))

    assert (report.created, report.updated, report.unchanged, report.removed) == (0, 7, 0, 0)
    people = [who for who, _, _ in stored(pattern)]
    assert people == ["a.doctor"] * 7 + ["b.doctor"] * 7


def test_moving_a_pattern_to_another_role_moves_its_shifts_when_expanded_again() -> None:
    old_role, new_role = make_role("Registrar"), make_role("Senior registrar")
    pattern = make_pattern(old_role, [make_person("a.doctor")])
    expand(pattern, MONDAY, MONDAY + timedelta(days=2))
    save_pattern(
        actor=site_manager(pattern.role.site),
        pattern=pattern,
        changes={"role": new_role},
        members=[pattern.members.get().person],
        now=NOW,
    )

    report = expand(pattern, MONDAY, MONDAY + timedelta(days=2))

    assert report.updated == 3
    assert set(Shift.objects.values_list("role", flat=True)) == {new_role.pk}


def test_a_dry_run_reports_the_same_as_a_real_run_and_writes_nothing() -> None:
    a, b, c = (make_person(name) for name in ("a.doctor", "b.doctor", "c.doctor"))
    pattern = make_pattern(make_role(), [a, b])
    changes = RotaChange.objects.count()

    dry = expand(pattern, MONDAY, MONDAY + timedelta(days=13), dry_run=True)

    assert (dry.created, dry.updated, dry.unchanged, dry.removed) == (14, 0, 0, 0)
    assert not Shift.objects.exists()
    assert RotaChange.objects.count() == changes

    expand(pattern, MONDAY, MONDAY + timedelta(days=13))
    before = stored(pattern)
    save_pattern(
        actor=site_manager(pattern.role.site), pattern=pattern, changes={}, members=[a, c], now=NOW
    )
    changes = RotaChange.objects.count()

    dry = expand(pattern, MONDAY, MONDAY + timedelta(days=13), dry_run=True)

    assert (dry.created, dry.updated, dry.unchanged, dry.removed) == (0, 7, 7, 0)
    assert {who for who, _, _ in dry.planned} == {a, c}
    assert stored(pattern) == before
    assert RotaChange.objects.count() == changes


def test_double_booking_is_refused_naming_the_day_and_nothing_is_stored() -> None:
    doctor = make_person("a.doctor")
    make_shift(make_role("Clinic"), doctor, start=utc(2026, 3, 29, 9), hours=2)
    pattern = make_pattern(
        make_role(), [doctor], start_time=time(8), end_time=time(17), name="Ward cover"
    )
    changes = RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as refused:
        expand(pattern, date(2026, 3, 27), date(2026, 3, 31))

    assert list(refused.value.errors) == ["2026-03-29: person"]
    assert "is already on Clinic" in refused.value.errors["2026-03-29: person"][0]
    # All or nothing: the days before the clash were not left stored.
    assert not Shift.objects.filter(pattern=pattern).exists()
    assert RotaChange.objects.count() == changes


def test_a_dry_run_refuses_double_booking_too() -> None:
    doctor = make_person("a.doctor")
    make_shift(make_role("Clinic"), doctor, start=utc(2026, 6, 3, 9), hours=2)
    pattern = make_pattern(make_role(), [doctor], start_time=time(8), end_time=time(17))

    with pytest.raises(InvalidRotaData) as refused:
        expand(pattern, MONDAY, MONDAY + timedelta(days=6), dry_run=True)

    assert list(refused.value.errors) == ["2026-06-03: person"]


def test_each_expanded_shift_is_in_the_audit_trail_with_its_actor() -> None:
    manager = make_person("rota.manager", job=Person.Job.ROTA_MANAGER)
    pattern = make_pattern(make_role(), [make_person("a.doctor")])
    RotaManagerScope.objects.create(person=manager, team=pattern.role.team)

    expand_pattern(
        actor=manager,
        pattern=pattern,
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=2),
        now=NOW,
    )

    entries = RotaChange.objects.filter(action="expand", model="Shift")
    assert {entry.object_id for entry in entries} == set(Shift.objects.values_list("pk", flat=True))
    assert all(entry.actor == manager and entry.at == NOW for entry in entries)
    assert all(entry.before is None for entry in entries)
    assert [(entry.after or {})["pattern"] for entry in entries] == [pattern.pk] * 3


def test_a_pattern_needs_at_least_one_member() -> None:
    with pytest.raises(InvalidRotaData) as refused:
        make_pattern(make_role(), [])

    assert list(refused.value.errors) == ["members"]
    assert not Pattern.objects.exists()


@pytest.mark.parametrize("weekdays", [[], [7], [-1], [1, 1], "0,1"])
def test_a_pattern_with_bad_weekdays_is_refused(weekdays: Any) -> None:
    with pytest.raises(InvalidRotaData) as refused:
        make_pattern(make_role(), [make_person("a.doctor")], weekdays=weekdays)

    assert list(refused.value.errors) == ["weekdays"]
    assert not Pattern.objects.exists()


def test_saving_a_pattern_replaces_its_members_in_order_and_audits_each_place() -> None:
    a, b, c = (make_person(name) for name in ("a.doctor", "b.doctor", "c.doctor"))
    pattern = make_pattern(make_role(), [a, b, c])

    save_pattern(
        actor=site_manager(pattern.role.site),
        pattern=pattern,
        changes={"name": "Twilights"},
        members=[c, a],
        now=NOW,
    )

    members = PatternMember.objects.filter(pattern=pattern).order_by("position")
    assert [(m.position, m.person) for m in members] == [(0, c), (1, a)]
    assert Pattern.objects.get().name == "Twilights"
    member_changes = RotaChange.objects.filter(model="PatternMember")
    assert [c.action for c in member_changes] == ["create"] * 3 + ["update", "update", "delete"]


def test_deleting_a_pattern_keeps_the_shifts_it_made() -> None:
    pattern = make_pattern(make_role(), [make_person("a.doctor")])
    expand(pattern, MONDAY, MONDAY + timedelta(days=2))

    delete_pattern(actor=site_manager(pattern.role.site), pattern=pattern, now=NOW)

    assert not Pattern.objects.exists()
    assert not PatternMember.objects.exists()
    assert Shift.objects.count() == 3
    assert set(Shift.objects.values_list("pattern", flat=True)) == {None}
    assert RotaChange.objects.filter(model="Pattern", action="delete").count() == 1


def test_expanding_again_after_a_swap_keeps_the_swap() -> None:
    role = make_role()
    alice, bob = make_person("alice"), make_person("bob")
    pattern = make_pattern(role, [alice], rotation=Pattern.Rotation.EACH_SHIFT)
    expand(pattern, MONDAY, MONDAY + timedelta(days=2))
    tuesday = Shift.objects.get(pattern=pattern, start=utc(2026, 6, 2, 19))
    swap = request_swap(requester=alice, shift=tuesday, counterpart=bob, now=NOW)
    accept_swap(actor=bob, swap_id=swap.pk, now=NOW)
    if Shift.objects.get(pk=tuesday.pk).person != bob:  # the team needs approval
        manager = make_person("manager", job=Person.Job.ROTA_MANAGER)
        RotaManagerScope.objects.create(person=manager, team=role.team)
        approve_swap(actor=manager, swap_id=swap.pk, now=NOW)

    report = expand(pattern, MONDAY, MONDAY + timedelta(days=2))

    assert report.kept_by_hand == 1
    assert report.created == 0
    holders = Shift.objects.filter(role=role, start=utc(2026, 6, 2, 19))
    assert [shift.person.username for shift in holders] == ["bob"]


def test_expanding_again_after_cover_keeps_the_cover_and_leaves_no_double_holder() -> None:
    role = make_role()
    alice, carol = make_person("alice"), make_person("carol")
    pattern = make_pattern(role, [alice], rotation=Pattern.Rotation.EACH_SHIFT)
    expand(pattern, MONDAY, MONDAY)
    night = Shift.objects.get(pattern=pattern)
    cover_shift(
        actor=site_manager(role.site),
        shift=night,
        person=carol,
        start=night.start,
        end=night.start + timedelta(hours=4),
        now=NOW,
    )

    report = expand(pattern, MONDAY, MONDAY)

    assert (report.created, report.kept_by_hand) == (0, 1)
    at_nine = utc(2026, 6, 1, 20)
    assert [p.username for p in holders_at(role=role, at=at_nine)] == ["carol"]


def test_a_shift_edited_by_hand_leaves_its_pattern() -> None:
    role = make_role()
    alice, bob = make_person("alice"), make_person("bob")
    pattern = make_pattern(role, [alice])
    expand(pattern, MONDAY, MONDAY)
    night = Shift.objects.get(pattern=pattern)
    save_record(actor=site_manager(role.site), instance=night, changes={"person": bob}, now=NOW)
    night.refresh_from_db()
    assert night.pattern is None
    assert expand(pattern, MONDAY, MONDAY).kept_by_hand == 1
