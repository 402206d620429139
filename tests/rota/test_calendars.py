"""CSV and iCal in and out, across both clock changes, and secret calendar feeds."""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from django.core.exceptions import PermissionDenied

from rota.exceptions import InvalidRotaData
from rota.models import CalendarFeed, Person, Role, RotaChange, RotaManagerScope, Shift
from rota.selectors import Gap, feed_shifts, holders_at
from rota.services.calendars import applying, csv_format, feeds, ical_format
from tests.factories import make_person, make_role, make_team

DATA = Path(__file__).parent / "data"
BEFORE_SPRING = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
BEFORE_AUTUMN = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HOURS = timedelta(hours=1)


@dataclass
class Rota:
    """An F1 role on Medicine with three doctors, and a rota manager for each team."""

    role: Role
    surgery_role: Role
    priya: Person
    omar: Person
    sara: Person
    manager: Person
    surgery_manager: Person


@pytest.fixture
def rota(db: None) -> Rota:
    medicine, surgery = make_team("Medicine"), make_team("Surgery")
    manager = make_person("rota.manager", job=Person.Job.ROTA_MANAGER)
    surgery_manager = make_person("surgery.manager", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=medicine)
    RotaManagerScope.objects.create(person=surgery_manager, team=surgery)
    return Rota(
        role=make_role("F1 Medicine on call", bleep_number="2345", team=medicine),
        surgery_role=make_role("F1 Surgery on call", bleep_number="2400", team=surgery),
        priya=make_person("priya.shah"),
        omar=make_person("omar.haddad"),
        sara=make_person("sara.kim"),
        manager=manager,
        surgery_manager=surgery_manager,
    )


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def shift(role: Role, person: Person, start: datetime, end: datetime) -> Shift:
    return Shift.objects.create(role=role, person=person, start=start, end=end)


def around_both_clock_changes(rota: Rota) -> list[Shift]:
    """Nights over both changes, and shifts starting in each 01:30 of the repeated hour."""
    return [
        # Sat 28 Mar 20:00 GMT to Sun 08:30 BST: 11.5 hours.
        shift(rota.role, rota.priya, utc(2026, 3, 28, 20, 0), utc(2026, 3, 29, 7, 30)),
        shift(rota.role, rota.omar, utc(2026, 3, 29, 7, 30), utc(2026, 3, 29, 19, 0)),
        # Sat 24 Oct 20:00 BST to Sun 08:30 GMT: 13.5 hours.
        shift(rota.role, rota.priya, utc(2026, 10, 24, 19, 0), utc(2026, 10, 25, 8, 30)),
        # 01:30 BST (the first 01:30) and 01:30 GMT (the second), an hour apart.
        shift(rota.role, rota.omar, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 30)),
        shift(rota.surgery_role, rota.sara, utc(2026, 10, 25, 1, 30), utc(2026, 10, 25, 9, 0)),
    ]


def facts(shifts: object) -> set[tuple[str, str, datetime, datetime]]:
    return {
        (s.role.bleep_number, s.person.username, s.start, s.end)
        for s in Shift.objects.filter(pk__in=[s.pk for s in shifts])  # type: ignore[attr-defined]
    }


def all_facts() -> set[tuple[str, str, datetime, datetime]]:
    return facts(Shift.objects.all())


def site_manager(rota: Rota) -> Person:
    """A rota manager of the whole site, so one import may touch both teams' roles."""
    person = make_person("site.manager", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=person, site=rota.role.site)
    return person


def import_csv(
    actor: Person, text: str, dry_run: bool = False, **extra: bool
) -> applying.ImportReport:
    return csv_format.import_csv(
        actor=actor, text=text, now=BEFORE_SPRING, dry_run=dry_run, **extra
    )


def import_ical(
    actor: Person, data: str, now: datetime = BEFORE_SPRING, dry_run: bool = False, **extra: object
) -> applying.ImportReport:
    return ical_format.import_ical(actor=actor, data=data, now=now, dry_run=dry_run, **extra)  # type: ignore[arg-type]


def counts(report: applying.ImportReport) -> tuple[int, int, int]:
    outcomes = applying.Outcome
    return tuple(report.count(o) for o in (outcomes.CREATED, outcomes.UPDATED, outcomes.UNCHANGED))  # type: ignore[return-value]


# Export and import round trips


def test_the_csv_export_gives_each_time_its_offset_so_the_repeated_hour_is_unambiguous(
    rota: Rota,
) -> None:
    shifts = around_both_clock_changes(rota)

    lines = csv_format.export_csv(shifts=Shift.objects.order_by("start", "pk")).splitlines()

    assert lines[0] == "role,person,start,start_offset,end,end_offset,uid"
    uids = [f"shift-{s.pk}@bleep" for s in shifts]
    assert lines[1] == f"2345,priya.shah,2026-03-28 20:00,+00:00,2026-03-29 08:30,+01:00,{uids[0]}"
    assert lines[4] == f"2345,omar.haddad,2026-10-25 01:30,+01:00,2026-10-25 08:30,+00:00,{uids[3]}"
    assert lines[5] == f"2400,sara.kim,2026-10-25 01:30,+00:00,2026-10-25 09:00,+00:00,{uids[4]}"


def test_a_csv_export_imported_into_an_empty_rota_gives_back_the_same_shifts(rota: Rota) -> None:
    original = facts(around_both_clock_changes(rota))
    text = csv_format.export_csv(shifts=Shift.objects.all())
    Shift.objects.all().delete()

    report = import_csv(site_manager(rota), text)

    assert counts(report) == (5, 0, 0)
    assert all_facts() == original


def test_reimporting_an_exported_csv_changes_nothing(rota: Rota) -> None:
    original = facts(around_both_clock_changes(rota))
    text = csv_format.export_csv(shifts=Shift.objects.all())
    manager = site_manager(rota)
    changes = RotaChange.objects.count()

    report = import_csv(manager, text)

    assert counts(report) == (0, 0, 5)
    assert all_facts() == original
    assert RotaChange.objects.count() == changes


def test_a_csv_imported_twice_into_an_empty_rota_changes_nothing_the_second_time(
    rota: Rota,
) -> None:
    around_both_clock_changes(rota)
    text = csv_format.export_csv(shifts=Shift.objects.all())
    Shift.objects.all().delete()
    manager = site_manager(rota)
    import_csv(manager, text)
    imported = all_facts()

    report = import_csv(manager, text)

    assert counts(report) == (0, 0, 5)
    assert all_facts() == imported


def test_an_ical_export_imported_into_an_empty_rota_gives_back_the_same_shifts(
    rota: Rota,
) -> None:
    original = facts(around_both_clock_changes(rota))
    data = ical_format.export_ical(shifts=Shift.objects.all(), name="x", now=BEFORE_SPRING)
    Shift.objects.all().delete()

    report = import_ical(site_manager(rota), data.decode())

    assert counts(report) == (5, 0, 0)
    assert all_facts() == original


def test_reimporting_an_exported_ical_changes_nothing(rota: Rota) -> None:
    original = facts(around_both_clock_changes(rota))
    data = ical_format.export_ical(shifts=Shift.objects.all(), name="x", now=BEFORE_SPRING)
    changes = RotaChange.objects.count()

    report = import_ical(site_manager(rota), data.decode())

    assert counts(report) == (0, 0, 5)
    assert all_facts() == original
    assert RotaChange.objects.count() == changes


def test_the_ical_export_names_role_and_person_and_gives_times_in_utc(rota: Rota) -> None:
    night = around_both_clock_changes(rota)[0]

    calendar = icalendar.Calendar.from_ical(
        ical_format.export_ical(shifts=[night], name="F1", now=BEFORE_SPRING)
    )

    [event] = calendar.events
    assert str(event["UID"]) == f"shift-{night.pk}@bleep"
    assert str(event["SUMMARY"]) == "F1 Medicine on call (bleep 2345)"
    assert str(event["X-BLEEP-ROLE"]) == "2345"
    assert str(event["X-BLEEP-PERSON"]) == "priya.shah"
    assert event.start == utc(2026, 3, 28, 20, 0)
    assert event.end == utc(2026, 3, 29, 7, 30)
    assert b"DTSTART:20260328T200000Z" in calendar.to_ical()


# CSV times


def test_a_csv_time_without_an_offset_follows_the_documented_wall_clock_rule(rota: Rota) -> None:
    text = (
        "role,person,start,end\n"
        # The repeated hour means its first occurrence, BST.
        "2345,priya.shah,2026-10-25 01:30,2026-10-25 08:30\n"
        # The missing spring hour means the instant it would have been before the change.
        "2345,omar.haddad,2026-03-29 01:30,2026-03-29 08:30\n"
    )

    import_csv(rota.manager, text)

    assert all_facts() == {
        ("2345", "priya.shah", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 8, 30)),
        ("2345", "omar.haddad", utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 7, 30)),
    }


@pytest.mark.hazard("HZ-03")
def test_a_csv_offset_the_site_clock_never_shows_is_refused(rota: Rota) -> None:
    text = (
        "role,person,start,start_offset,end,end_offset\n"
        "2345,priya.shah,2026-01-15 08:00,+01:00,2026-01-15 17:00,+00:00\n"
        "2345,omar.haddad,2026-03-29 01:30,+00:00,2026-03-29 08:30,+01:00\n"
        "2345,sara.kim,2026-01-16 08:00,one hour,2026-01-16 17:00,\n"
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)

    assert raised.value.errors == {
        "row 2: start_offset": ["2026-01-15 08:00 is +00:00 in Europe/London"],
        "row 3: start_offset": [
            "2026-03-29 01:30 does not exist in Europe/London: the clocks go forward"
        ],
        "row 4: start_offset": ["not an offset like +01:00: 'one hour'"],
    }
    assert not Shift.objects.exists()


def test_a_misspelt_csv_column_is_refused_rather_than_ignored(rota: Rota) -> None:
    text = (
        "role,person,start,start_ofset,end\n"
        "2345,priya.shah,2026-10-25 01:30,+00:00,2026-10-25 08:30\n"
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)

    assert list(raised.value.errors) == ["header"]
    assert "start_ofset" in raised.value.errors["header"][0]


def test_a_spreadsheet_byte_order_mark_and_blank_rows_are_tolerated(rota: Rota) -> None:
    text = (
        "\ufeffRole,Person,Start,End\r\n"
        ",,,\r\n"
        "2345,priya.shah,2026-04-01 08:00,2026-04-01 17:00\r\n"
    )

    report = import_csv(rota.manager, text)

    assert counts(report) == (1, 0, 0)
    assert report.shifts[0].label == "row 3"


# All or nothing


BAD_CSV = (
    "role,person,start,end\n"
    "9999,priya.shah,2026-04-01 08:00,2026-04-01 17:00\n"
    "2345,nobody.here,2026-04-01 08:00,2026-04-01 17:00\n"
    "2345,priya.shah,01/04/2026 08:00,2026-04-01 17:00\n"
    "2345,priya.shah,2026-04-02 17:00,2026-04-02 08:00\n"
    "2345,sara.kim,2026-04-03 08:00,2026-04-03 17:00\n"
    "2345,omar.haddad,2026-04-04 08:00,2026-04-04 17:00\n"
)


def test_bad_csv_rows_are_all_reported_by_row_and_field_and_nothing_is_stored(
    rota: Rota,
) -> None:
    shift(rota.surgery_role, rota.sara, utc(2026, 4, 3, 12, 0), utc(2026, 4, 3, 20, 0))
    changes = RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, BAD_CSV)

    errors = raised.value.errors
    assert set(errors) == {
        "row 2: role",
        "row 3: person",
        "row 4: start",
        "row 5: end",
        "row 6: person",
    }
    assert errors["row 2: role"] == ["no single role has bleep '9999'"]
    assert errors["row 3: person"] == ["nobody has the username 'nobody.here'"]
    assert errors["row 5: end"] == ["the end must be after the start"]
    assert "already on F1 Surgery on call" in errors["row 6: person"][0]
    # Row 7 was good, but a file goes in whole or not at all.
    assert Shift.objects.count() == 1
    assert RotaChange.objects.count() == changes


def test_two_rows_booking_one_person_twice_are_refused(rota: Rota) -> None:
    text = (
        "role,person,start,end\n"
        "2345,priya.shah,2026-04-01 08:00,2026-04-01 20:30\n"
        "2345,priya.shah,2026-04-01 20:00,2026-04-02 08:30\n"
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)

    assert list(raised.value.errors) == ["row 3: person"]
    assert not Shift.objects.exists()


def test_bad_ical_events_are_all_reported_by_event_and_field_and_nothing_is_stored(
    rota: Rota,
) -> None:
    shift(rota.surgery_role, rota.sara, utc(2026, 4, 3, 12, 0), utc(2026, 4, 3, 20, 0))
    data = calendar_of(
        event("a@x", "Unknown role", "20260401T080000Z", "20260401T170000Z", "9999", "priya.shah"),
        event("b@x", "Unknown person", "20260401T080000Z", "20260401T170000Z", "2345", "nobody"),
        event("c@x", "Broken start", "2026-04-01", "20260401T170000Z", "2345", "priya.shah"),
        event("d@x", "Backwards", "20260402T170000Z", "20260402T080000Z", "2345", "priya.shah"),
        event("e@x", "Clash", "20260403T080000Z", "20260403T170000Z", "2345", "sara.kim"),
        event("f@x", "Fine", "20260404T080000Z", "20260404T170000Z", "2345", "omar.haddad"),
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data)

    assert set(raised.value.errors) == {
        "event a@x (Unknown role): role",
        "event b@x (Unknown person): person",
        "event c@x (Broken start): start",
        "event d@x (Backwards): end",
        "event e@x (Clash): person",
    }
    assert Shift.objects.count() == 1


def test_a_dry_run_reports_what_would_change_and_stores_nothing(rota: Rota) -> None:
    existing = shift(rota.role, rota.omar, utc(2026, 4, 1, 7, 0), utc(2026, 4, 1, 16, 0))
    text = (
        "role,person,start,end,uid\n"
        "2345,priya.shah,2026-04-02 08:00,2026-04-02 17:00,\n"
        f"2345,sara.kim,2026-04-01 08:00,2026-04-01 17:00,shift-{existing.pk}@bleep\n"
    )
    changes = RotaChange.objects.count()

    report = import_csv(rota.manager, text, dry_run=True)

    assert report.dry_run
    assert counts(report) == (1, 1, 0)
    assert [p.shift_id for p in report.shifts] == [None, existing.pk]
    assert Shift.objects.count() == 1
    assert Shift.objects.get().person == rota.omar
    assert RotaChange.objects.count() == changes


def test_an_import_updates_the_shift_its_uid_names_and_records_it_as_an_import(
    rota: Rota,
) -> None:
    existing = shift(rota.role, rota.omar, utc(2026, 4, 1, 7, 0), utc(2026, 4, 1, 16, 0))
    text = (
        "role,person,start,end,uid\n"
        f"2345,sara.kim,2026-04-01 08:00,2026-04-01 17:00,shift-{existing.pk}@bleep\n"
    )

    report = import_csv(rota.manager, text)

    assert counts(report) == (0, 1, 0)
    existing.refresh_from_db()
    assert existing.person == rota.sara
    change = RotaChange.objects.get(model="Shift", object_id=existing.pk)
    assert (change.action, change.actor) == ("import", rota.manager)
    assert change.before is not None and change.before["person"] == rota.omar.pk


def test_a_file_naming_one_shift_twice_is_refused(rota: Rota) -> None:
    text = (
        "role,person,start,end,uid\n"
        "2345,priya.shah,2026-04-01 08:00,2026-04-01 17:00,x@tool\n"
        "2345,priya.shah,2026-04-02 08:00,2026-04-02 17:00,x@tool\n"
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)

    assert raised.value.errors == {"row 3: uid": ["names the same shift as row 2"]}


def test_a_rota_manager_of_another_team_imports_nothing(rota: Rota) -> None:
    text = (
        "role,person,start,end\n"
        "2400,sara.kim,2026-04-01 08:00,2026-04-01 17:00\n"
        "2345,priya.shah,2026-04-01 08:00,2026-04-01 17:00\n"
    )

    with pytest.raises(PermissionDenied):
        import_csv(rota.surgery_manager, text)

    assert not Shift.objects.exists()
    assert not RotaChange.objects.exists()


def test_an_import_cannot_take_over_a_shift_of_another_team_by_its_uid(rota: Rota) -> None:
    theirs = shift(rota.surgery_role, rota.sara, utc(2026, 4, 1, 7, 0), utc(2026, 4, 1, 16, 0))
    text = (
        "role,person,start,end,uid\n"
        f"2345,priya.shah,2026-04-01 08:00,2026-04-01 17:00,shift-{theirs.pk}@bleep\n"
    )

    with pytest.raises(PermissionDenied):
        import_csv(rota.manager, text)

    theirs.refresh_from_db()
    assert (theirs.role, theirs.person) == (rota.surgery_role, rota.sara)


def test_an_import_over_2_mb_is_refused(rota: Rota) -> None:
    text = "role,person,start,end\n" + "x" * applying.IMPORT_MAX_BYTES

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)

    assert list(raised.value.errors) == ["data"]


def test_an_empty_file_is_refused(rota: Rota) -> None:
    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, "role,person,start,end\n")

    assert raised.value.errors == {"data": ["the file has no shifts"]}


# iCal from another rota tool


def read(name: str) -> str:
    return (DATA / name).read_text()


def usernames(role: Role, at: datetime) -> list[str]:
    return [person.username for person in holders_at(role=role, at=at)]


def nights(role: Role) -> list[Shift]:
    # Every night in these files starts at 20:00 wall-clock: 19:00 or 20:00 UTC.
    return [s for s in Shift.objects.filter(role=role).order_by("start") if s.start.hour >= 19]


def test_a_spring_f1_rota_from_another_tool_imports_every_shift_of_the_twelve_weeks(
    rota: Rota,
) -> None:
    report = import_ical(
        rota.manager, read("f1_medicine_spring_2026.ics"), role=rota.role, person=rota.priya
    )

    # 41 ward days (60 weekdays less 18 EXDATEs and one cancelled), 6 weekend nights,
    # 7 weekday nights (8 less an EXDATE), 4 weekend long days and one extra shift.
    assert counts(report) == (59, 0, 0)
    assert Shift.objects.filter(role=rota.role, person=rota.priya).count() == 59
    ward_days = Shift.objects.filter(start__hour__in=[8, 9], end__hour__in=[16, 17])
    assert not ward_days.filter(start__date="2026-05-20").exists()
    assert not ward_days.filter(start__date="2026-04-03").exists()
    moved = Shift.objects.get(start__date="2026-04-26")
    assert (moved.start, moved.end) == (utc(2026, 4, 26, 8, 0), utc(2026, 4, 26, 20, 30))


def test_the_night_over_the_spring_change_lasts_eleven_and_a_half_hours(rota: Rota) -> None:
    import_ical(
        rota.manager, read("f1_medicine_spring_2026.ics"), role=rota.role, person=rota.priya
    )

    lengths = {s.start: (s.end - s.start) / HOURS for s in nights(rota.role)}

    assert len(lengths) == 13
    assert lengths.pop(utc(2026, 3, 28, 20, 0)) == 11.5
    assert set(lengths.values()) == {12.5}


@pytest.mark.hazard("HZ-03")
def test_the_spring_rota_has_the_right_holder_through_the_change_night(rota: Rota) -> None:
    import_ical(
        rota.manager, read("f1_medicine_spring_2026.ics"), role=rota.role, person=rota.priya
    )

    assert usernames(rota.role, utc(2026, 3, 28, 19, 59)) == []
    assert usernames(rota.role, utc(2026, 3, 28, 20, 0)) == ["priya.shah"]  # 20:00 GMT
    assert usernames(rota.role, utc(2026, 3, 29, 0, 30)) == ["priya.shah"]  # 00:30 GMT
    assert usernames(rota.role, utc(2026, 3, 29, 1, 30)) == ["priya.shah"]  # 02:30 BST
    assert usernames(rota.role, utc(2026, 3, 29, 6, 59)) == ["priya.shah"]  # 07:59 BST
    assert usernames(rota.role, utc(2026, 3, 29, 7, 30)) == []  # 08:30 BST: handed over
    assert usernames(rota.role, utc(2026, 3, 29, 7, 45)) == []  # 08:45 BST
    assert usernames(rota.role, utc(2026, 3, 29, 18, 59)) == []  # 19:59 BST
    assert usernames(rota.role, utc(2026, 3, 29, 19, 0)) == ["priya.shah"]  # 20:00 BST


def test_an_autumn_f1_rota_from_another_tool_imports_every_shift_of_the_twelve_weeks(
    rota: Rota,
) -> None:
    report = import_ical(
        rota.manager,
        read("f1_medicine_autumn_2026.ics"),
        now=BEFORE_AUTUMN,
        role=rota.role,
        person=rota.priya,
    )

    # 45 ward days (60 weekdays less 15 EXDATEs), 5 weekend nights (6 less an EXDATE),
    # 4 weekday nights and 4 weekend long days.
    assert counts(report) == (58, 0, 0)


def test_the_night_over_the_autumn_change_lasts_thirteen_and_a_half_hours(rota: Rota) -> None:
    import_ical(
        rota.manager,
        read("f1_medicine_autumn_2026.ics"),
        now=BEFORE_AUTUMN,
        role=rota.role,
        person=rota.priya,
    )

    lengths = {s.start: (s.end - s.start) / HOURS for s in nights(rota.role)}

    assert len(lengths) == 9
    assert lengths.pop(utc(2026, 10, 24, 19, 0)) == 13.5
    assert set(lengths.values()) == {12.5}


@pytest.mark.hazard("HZ-03")
def test_the_autumn_rota_has_the_right_holder_through_the_change_night(rota: Rota) -> None:
    import_ical(
        rota.manager,
        read("f1_medicine_autumn_2026.ics"),
        now=BEFORE_AUTUMN,
        role=rota.role,
        person=rota.priya,
    )

    assert usernames(rota.role, utc(2026, 10, 24, 18, 59)) == []  # 19:59 BST
    assert usernames(rota.role, utc(2026, 10, 24, 19, 0)) == ["priya.shah"]  # 20:00 BST
    assert usernames(rota.role, utc(2026, 10, 25, 0, 30)) == ["priya.shah"]  # first 01:30
    assert usernames(rota.role, utc(2026, 10, 25, 1, 30)) == ["priya.shah"]  # second 01:30
    assert usernames(rota.role, utc(2026, 10, 25, 7, 59)) == ["priya.shah"]  # 07:59 GMT
    assert usernames(rota.role, utc(2026, 10, 25, 8, 0)) == ["priya.shah"]  # 08:00 GMT
    assert usernames(rota.role, utc(2026, 10, 25, 8, 30)) == []  # 08:30 GMT: handed over
    assert usernames(rota.role, utc(2026, 10, 25, 20, 0)) == ["priya.shah"]  # 20:00 GMT


def test_reimporting_the_other_tools_rota_changes_nothing(rota: Rota) -> None:
    data = read("f1_medicine_spring_2026.ics")
    import_ical(rota.manager, data, role=rota.role, person=rota.priya)
    changes = RotaChange.objects.count()

    report = import_ical(rota.manager, data, role=rota.role, person=rota.priya)

    assert counts(report) == (0, 0, 59)
    assert RotaChange.objects.count() == changes


def test_a_recurring_occurrence_is_matched_by_its_uid_and_recurrence_id(rota: Rota) -> None:
    import_ical(
        rota.manager, read("f1_medicine_spring_2026.ics"), role=rota.role, person=rota.priya
    )

    night = Shift.objects.get(start=utc(2026, 3, 28, 20, 0))

    assert night.external_uid == "rp-7f3a91c2-weekend-nights@rota.example.nhs.uk/20260328T200000Z"


def test_floating_ical_times_are_wall_clock_in_the_site_zone(rota: Rota) -> None:
    data = calendar_of(event("f@x", "Day", "20260701T080000", "20260701T170000"))

    import_ical(rota.manager, data, role=rota.role, person=rota.priya)

    assert all_facts() == {("2345", "priya.shah", utc(2026, 7, 1, 7, 0), utc(2026, 7, 1, 16, 0))}


def test_a_tzid_defined_only_by_the_files_vtimezone_is_wall_clock_in_that_zone(
    rota: Rota,
) -> None:
    zone = read("f1_medicine_autumn_2026.ics").split("BEGIN:VTIMEZONE")[1].split("END:VTIMEZONE")[0]
    data = calendar_of(
        "BEGIN:VTIMEZONE" + zone.replace("TZID:Europe/London", "TZID:Trust Time") + "END:VTIMEZONE",
        "BEGIN:VEVENT\nUID:t@x\nSUMMARY:Late\n"
        "DTSTART;TZID=Trust Time:20261025T013000\nDTEND;TZID=Trust Time:20261025T093000\n"
        "END:VEVENT",
    )

    import_ical(rota.manager, data, now=BEFORE_AUTUMN, role=rota.role, person=rota.priya)

    # The repeated 01:30 means the first (BST), as for any wall-clock time.
    assert all_facts() == {
        ("2345", "priya.shah", utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 9, 30))
    }


def test_an_event_with_neither_x_bleep_role_nor_a_chosen_role_is_reported_once(
    rota: Rota,
) -> None:
    data = calendar_of(
        event("w@x", "Weekly", "20260302T080000Z", "20260302T170000Z", person="priya.shah").replace(
            "END:VEVENT", "RRULE:FREQ=WEEKLY;COUNT=10\nEND:VEVENT"
        )
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data)

    assert raised.value.errors == {
        "event w@x (Weekly): role": ["no X-BLEEP-ROLE in the event: choose the role to import for"]
    }


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        (
            ["DTSTART;VALUE=DATE:20260401", "DTEND;VALUE=DATE:20260402"],
            "start",
            "an all-day event is not a shift: give start and end times",
        ),
        (
            ["DTSTART;TZID=Europe/Londres:20260401T080000", "DTEND:20260401T170000Z"],
            "start",
            "unknown time zone 'Europe/Londres'",
        ),
        (
            ["DTSTART:20260401T080000Z", "DTEND:20260401T090000Z", "RRULE:FREQ=HOURLY"],
            "rrule",
            "a shift repeats at most daily",
        ),
        (["DTSTART:20260401T080000Z"], "end", "missing"),
    ],
)
def test_an_event_that_cannot_be_a_shift_is_refused_with_its_reason(
    rota: Rota, lines: list[str], field: str, message: str
) -> None:
    data = calendar_of("\n".join(["BEGIN:VEVENT", "UID:z@x", "SUMMARY:Odd", *lines, "END:VEVENT"]))

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data, role=rota.role, person=rota.priya)

    assert raised.value.errors == {f"event z@x (Odd): {field}": [message]}


def test_text_that_is_not_a_calendar_is_refused(rota: Rota) -> None:
    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, "role,person,start,end\n")

    assert list(raised.value.errors) == ["data"]


def calendar_of(*events: str) -> str:
    header = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//EN"]
    return "\n".join([*header, *events, "END:VCALENDAR"])


def event(uid: str, summary: str, start: str, end: str, role: str = "", person: str = "") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"SUMMARY:{summary}"]
    lines += [f"DTSTART:{start}", f"DTEND:{end}"]
    lines += [f"X-BLEEP-ROLE:{role}"] if role else []
    lines += [f"X-BLEEP-PERSON:{person}"] if person else []
    return "\n".join([*lines, "END:VEVENT"])


def with_lines(event_text: str, *lines: str) -> str:
    """Return the event with more properties, such as an RRULE or a STATUS."""
    return event_text.replace("END:VEVENT", "\n".join([*lines, "END:VEVENT"]))


def priyas(uid: str, summary: str, start: str, end: str) -> str:
    return event(uid, summary, start, end, "2345", "priya.shah")


# Every event of a file is imported or reported: nothing leaves silently (HZ-13)

# From 2026-02-28 12:00 to 2027-04-05 12:00 UTC for an import at BEFORE_SPRING.
WINDOW = applying.Window(utc(2026, 2, 28, 12, 0), utc(2027, 4, 5, 12, 0))
# Thursdays from 1 January 2026: 9 before the window, 57 in it.
WEEKLY = priyas("weekly@x", "Weekly", "20260101T080000Z", "20260101T170000Z")


def skips(report: applying.ImportReport) -> list[tuple[str, str, int | None]]:
    return [(skip.label, skip.reason.value, skip.occurrences) for skip in report.skipped]


@pytest.mark.hazard("HZ-13")
def test_single_events_two_years_back_and_two_years_ahead_are_both_imported(
    rota: Rota,
) -> None:
    data = calendar_of(
        priyas("past@x", "Past", "20240301T080000Z", "20240301T170000Z"),
        priyas("future@x", "Future", "20280301T080000Z", "20280301T170000Z"),
    )

    report = import_ical(rota.manager, data)

    assert counts(report) == (2, 0, 0)
    assert report.skipped == []
    assert all_facts() == {
        ("2345", "priya.shah", utc(2024, 3, 1, 8, 0), utc(2024, 3, 1, 17, 0)),
        ("2345", "priya.shah", utc(2028, 3, 1, 8, 0), utc(2028, 3, 1, 17, 0)),
    }


@pytest.mark.hazard("HZ-13")
def test_a_repeat_without_end_is_expanded_only_within_the_window_and_the_rest_is_reported(
    rota: Rota,
) -> None:
    report = import_ical(rota.manager, calendar_of(with_lines(WEEKLY, "RRULE:FREQ=WEEKLY")))

    starts = list(Shift.objects.order_by("start").values_list("start", flat=True))
    assert (starts[0], len(starts)) == (utc(2026, 3, 5, 8, 0), 57)
    assert starts[-1] < WINDOW.end
    assert report.recurrence_window == WINDOW
    assert skips(report) == [
        ("event weekly@x (Weekly)", "before_recurrence_window", 9),
        ("event weekly@x (Weekly)", "after_recurrence_window", None),
    ]


@pytest.mark.hazard("HZ-13")
def test_a_repeat_that_ends_reports_how_many_occurrences_fell_each_side_of_the_window(
    rota: Rota,
) -> None:
    report = import_ical(
        rota.manager, calendar_of(with_lines(WEEKLY, "RRULE:FREQ=WEEKLY;COUNT=80"))
    )

    assert counts(report) == (57, 0, 0)
    assert skips(report) == [
        ("event weekly@x (Weekly)", "before_recurrence_window", 9),
        ("event weekly@x (Weekly)", "after_recurrence_window", 14),
    ]
    assert report.skipped_occurrences() == 80 - 57


@pytest.mark.hazard("HZ-13")
def test_cancelled_events_and_occurrences_are_reported_as_skipped_with_their_reason(
    rota: Rota,
) -> None:
    data = calendar_of(
        with_lines(
            priyas("off@x", "Off", "20260401T080000Z", "20260401T170000Z"), "STATUS:CANCELLED"
        ),
        with_lines(
            priyas("days@x", "Days", "20260410T080000Z", "20260410T170000Z"),
            "RRULE:FREQ=DAILY;COUNT=3",
        ),
        "BEGIN:VEVENT\nUID:days@x\nSUMMARY:Days\nRECURRENCE-ID:20260411T080000Z\n"
        "DTSTART:20260411T080000Z\nDTEND:20260411T170000Z\nSTATUS:CANCELLED\nEND:VEVENT",
    )

    report = import_ical(rota.manager, data)

    assert counts(report) == (2, 0, 0)
    assert skips(report) == [
        ("event off@x (Off)", "cancelled", 1),
        ("event days@x (Days) at 2026-04-11 08:00", "cancelled", 1),
    ]
    assert not Shift.objects.filter(start__date="2026-04-11").exists()


@pytest.mark.hazard("HZ-13")
def test_every_event_and_occurrence_of_a_mixed_file_is_imported_or_skipped(rota: Rota) -> None:
    data = calendar_of(
        priyas("past@x", "Past", "20240301T080000Z", "20240301T170000Z"),
        priyas("future@x", "Future", "20280301T080000Z", "20280301T170000Z"),
        with_lines(
            priyas("off@x", "Off", "20260401T080000Z", "20260401T170000Z"), "STATUS:CANCELLED"
        ),
        with_lines(WEEKLY, "RRULE:FREQ=WEEKLY;COUNT=80"),
        "BEGIN:VEVENT\nUID:weekly@x\nSUMMARY:Weekly\nRECURRENCE-ID:20260305T080000Z\n"
        "DTSTART:20260305T080000Z\nDTEND:20260305T170000Z\nSTATUS:CANCELLED\nEND:VEVENT",
        with_lines(
            priyas("gone@x", "Gone", "20260501T080000Z", "20260501T170000Z"),
            "EXDATE:20260501T080000Z",
        ),
    )
    # 3 single events, 80 weekly occurrences and one event that its EXDATE leaves empty.
    in_the_file = 3 + 80

    report = import_ical(rota.manager, data)

    assert counts(report) == (2 + 56, 0, 0)
    assert len(report.shifts) + report.skipped_occurrences() == in_the_file
    assert sorted(skips(report)) == [
        ("event gone@x (Gone)", "no_occurrence", 0),
        ("event off@x (Off)", "cancelled", 1),
        ("event weekly@x (Weekly)", "after_recurrence_window", 14),
        ("event weekly@x (Weekly)", "before_recurrence_window", 9),
        ("event weekly@x (Weekly) at 2026-03-05 08:00", "cancelled", 1),
    ]
    named = {plan.uid.split("/")[0] for plan in report.shifts}
    named |= {skip.uid for skip in report.skipped}
    assert named == {"past@x", "future@x", "off@x", "weekly@x", "gone@x"}


@pytest.mark.hazard("HZ-13")
def test_two_events_with_one_uid_are_refused_rather_than_one_dropped(rota: Rota) -> None:
    data = calendar_of(
        priyas("twice@x", "Early", "20260401T080000Z", "20260401T170000Z"),
        priyas("twice@x", "Late", "20260402T080000Z", "20260402T170000Z"),
    )

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data)

    assert raised.value.errors == {
        "event twice@x (Late): uid": ["another event of the file has this UID and RECURRENCE-ID"]
    }
    assert not Shift.objects.exists()


def test_a_calendar_whose_only_repeat_is_outside_the_window_says_which_window(
    rota: Rota,
) -> None:
    old = event("old@x", "Old", "20250101T080000Z", "20250101T170000Z")
    data = calendar_of(with_lines(old, "RRULE:FREQ=WEEKLY;COUNT=5"))

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data, role=rota.role, person=rota.priya)

    assert raised.value.errors == {
        "data": [
            "no shifts to import: every event is cancelled or repeats only outside the "
            "recurrence window, 2026-02-28 to 2027-04-05"
        ]
    }


def test_repeats_with_too_many_occurrences_outside_the_window_are_refused_not_counted_forever(
    rota: Rota,
) -> None:
    data = calendar_of(with_lines(WEEKLY, "RRULE:FREQ=DAILY;UNTIL=89991231T000000Z"))

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data)

    assert list(raised.value.errors) == ["data"]
    assert (
        "more than 100000 occurrences outside the recurrence window"
        in raised.value.errors["data"][0]
    )


@pytest.mark.hazard("HZ-13")
def test_an_event_dated_outside_the_years_a_rota_can_hold_is_refused(rota: Rota) -> None:
    data = calendar_of(priyas("slip@x", "Slip", "18260401T080000Z", "18260401T170000Z"))

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data)

    assert raised.value.errors == {"event slip@x (Slip): start": ["not a date from 1900 to 8999"]}


# New gaps: shown before they exist, applied only when accepted (HZ-13, HZ-18)


def day_then_night(rota: Rota) -> tuple[Shift, Shift]:
    """Priya's day and Omar's night on 1 April 2026 (BST): the role is held for 24 hours."""
    return (
        shift(rota.role, rota.priya, utc(2026, 4, 1, 8, 0), utc(2026, 4, 1, 20, 0)),
        shift(rota.role, rota.omar, utc(2026, 4, 1, 20, 0), utc(2026, 4, 2, 8, 0)),
    )


def moving_priyas_day(day: Shift) -> str:
    """A CSV moving Priya's day from 1 to 3 April."""
    return (
        "role,person,start,end,uid\n"
        f"2345,priya.shah,2026-04-03 09:00,2026-04-03 21:00,shift-{day.pk}@bleep\n"
    )


GAP_ON_1_APRIL = (
    "F1 Medicine on call (bleep 2345) would have nobody from 2026-04-01T09:00+01:00 to "
    "2026-04-01T21:00+01:00: to accept that, import with accept_gaps=true"
)


@pytest.mark.hazard("HZ-13", "HZ-18")
def test_a_dry_run_that_would_leave_a_role_empty_reports_the_gap_and_stores_nothing(
    rota: Rota,
) -> None:
    day, _ = day_then_night(rota)
    before = all_facts()

    report = import_csv(rota.manager, moving_priyas_day(day), dry_run=True)

    assert counts(report) == (0, 1, 0)
    assert report.gaps == [Gap(rota.role, utc(2026, 4, 1, 8, 0), utc(2026, 4, 1, 20, 0))]
    assert all_facts() == before


@pytest.mark.hazard("HZ-13", "HZ-18")
def test_an_import_that_would_leave_a_role_empty_is_refused_naming_the_gap(rota: Rota) -> None:
    day, _ = day_then_night(rota)
    before, changes = all_facts(), RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, moving_priyas_day(day))

    assert raised.value.errors == {"gaps": [GAP_ON_1_APRIL]}
    assert all_facts() == before
    assert RotaChange.objects.count() == changes


@pytest.mark.hazard("HZ-13", "HZ-18")
def test_an_import_that_accepts_gaps_applies_and_reports_them(rota: Rota) -> None:
    day, _ = day_then_night(rota)

    report = import_csv(rota.manager, moving_priyas_day(day), accept_gaps=True)

    assert report.gaps == [Gap(rota.role, utc(2026, 4, 1, 8, 0), utc(2026, 4, 1, 20, 0))]
    day.refresh_from_db()
    assert (day.start, day.end) == (utc(2026, 4, 3, 8, 0), utc(2026, 4, 3, 20, 0))


@pytest.mark.hazard("HZ-13")
def test_a_shift_cut_short_opens_a_gap_for_the_hours_it_gave_up(rota: Rota) -> None:
    day, _ = day_then_night(rota)
    text = (
        "role,person,start,end,uid\n"
        f"2345,priya.shah,2026-04-01 09:00,2026-04-01 18:00,shift-{day.pk}@bleep\n"
    )

    report = import_csv(rota.manager, text, dry_run=True)

    assert report.gaps == [Gap(rota.role, utc(2026, 4, 1, 17, 0), utc(2026, 4, 1, 20, 0))]


@pytest.mark.hazard("HZ-13")
def test_an_import_that_leaves_no_new_gap_is_not_held_up(rota: Rota) -> None:
    day, _ = day_then_night(rota)
    # Sara overlaps Priya's whole day, so moving Priya's leaves the role held.
    shift(rota.role, rota.sara, utc(2026, 4, 1, 8, 0), utc(2026, 4, 1, 20, 0))
    # The role already had nobody after Omar's night: that gap is not the import's.
    text = moving_priyas_day(day) + "2345,omar.haddad,2026-04-05 09:00,2026-04-05 21:00,\n"

    report = import_csv(rota.manager, text)

    assert counts(report) == (1, 1, 0)
    assert report.gaps == []


# Shifts of another role move only when asked (HZ-18)


def registrar(rota: Rota) -> Role:
    return make_role("Medical Registrar on call", bleep_number="2346", team=rota.role.team)


@pytest.mark.hazard("HZ-18")
def test_an_ical_export_of_one_role_imported_for_another_is_refused_naming_the_role(
    rota: Rota,
) -> None:
    other = registrar(rota)
    day, night = day_then_night(rota)
    data = ical_format.export_ical(shifts=[day, night], name="F1", now=BEFORE_SPRING).decode()
    before, changes = all_facts(), RotaChange.objects.count()

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data, role=other)

    labels = [
        f"event shift-{s.pk}@bleep (F1 Medicine on call (bleep 2345)): uid" for s in (day, night)
    ]
    assert set(raised.value.errors) == set(labels)
    assert raised.value.errors[labels[0]] == [
        f"'shift-{day.pk}@bleep' is a shift of F1 Medicine on call (bleep 2345): to move it to "
        "Medical Registrar on call (bleep 2346), import with move_shifts=true"
    ]
    assert all_facts() == before
    assert RotaChange.objects.count() == changes


@pytest.mark.hazard("HZ-18")
def test_moving_shifts_to_another_role_needs_move_shifts_and_accepting_the_gaps_it_opens(
    rota: Rota,
) -> None:
    other = registrar(rota)
    day, night = day_then_night(rota)
    data = ical_format.export_ical(shifts=[day, night], name="F1", now=BEFORE_SPRING).decode()
    emptied = Gap(rota.role, utc(2026, 4, 1, 8, 0), utc(2026, 4, 2, 8, 0))

    with pytest.raises(InvalidRotaData) as raised:
        import_ical(rota.manager, data, role=other, move_shifts=True)
    assert list(raised.value.errors) == ["gaps"]
    assert "2026-04-01T09:00+01:00 to 2026-04-02T09:00+01:00" in raised.value.errors["gaps"][0]
    assert not Shift.objects.filter(role=other).exists()

    report = import_ical(rota.manager, data, role=other, move_shifts=True, accept_gaps=True)

    assert counts(report) == (0, 2, 0)
    assert report.gaps == [emptied]
    assert set(Shift.objects.values_list("role", flat=True)) == {other.pk}


@pytest.mark.hazard("HZ-18")
def test_a_csv_row_whose_uid_names_another_roles_shift_is_refused_unless_moving(
    rota: Rota,
) -> None:
    registrar(rota)
    day, night = day_then_night(rota)
    text = csv_format.export_csv(shifts=[day, night]).replace("\r\n2345,", "\r\n2346,")

    with pytest.raises(InvalidRotaData) as raised:
        import_csv(rota.manager, text)
    assert set(raised.value.errors) == {"row 2: uid", "row 3: uid"}
    assert "is a shift of F1 Medicine on call (bleep 2345)" in raised.value.errors["row 2: uid"][0]
    assert set(Shift.objects.values_list("role", flat=True)) == {rota.role.pk}

    report = import_csv(rota.manager, text, move_shifts=True, accept_gaps=True)

    assert counts(report) == (0, 2, 0)
    assert {s.role.bleep_number for s in Shift.objects.all()} == {"2346"}


# Feeds


def test_a_feed_stores_only_the_digest_of_its_token(rota: Rota) -> None:
    feed, token = feeds.create_feed(owner=rota.priya, person=rota.priya, now=BEFORE_SPRING)

    assert len(token) >= 40
    assert feed.token_digest == hashlib.sha256(token.encode()).hexdigest()
    stored = CalendarFeed.objects.filter(pk=feed.pk).values().get()
    assert token not in [str(value) for value in stored.values()]


def test_a_feed_gives_its_persons_shifts_from_30_days_ago_to_400_days_ahead(
    rota: Rota,
) -> None:
    now = BEFORE_SPRING
    inside = [
        shift(rota.role, rota.priya, now - timedelta(days=30), now - timedelta(days=29)),
        shift(rota.role, rota.priya, now + timedelta(days=399), now + timedelta(days=400)),
    ]
    shift(rota.role, rota.priya, now - timedelta(days=32), now - timedelta(days=31))
    shift(rota.role, rota.priya, now + timedelta(days=401), now + timedelta(days=402))
    shift(rota.role, rota.omar, now, now + timedelta(hours=8))
    _, token = feeds.create_feed(owner=rota.priya, person=rota.priya, now=now)

    feed, shifts = feed_shifts(token, now)

    assert feed.person == rota.priya
    assert list(shifts) == inside


def test_a_role_feed_gives_everyone_on_that_role(rota: Rota) -> None:
    mine = shift(rota.role, rota.priya, BEFORE_SPRING, BEFORE_SPRING + 8 * HOURS)
    theirs = shift(rota.role, rota.omar, BEFORE_SPRING + 8 * HOURS, BEFORE_SPRING + 16 * HOURS)
    shift(rota.surgery_role, rota.sara, BEFORE_SPRING, BEFORE_SPRING + 8 * HOURS)
    _, token = feeds.create_feed(owner=rota.manager, role=rota.role, now=BEFORE_SPRING)

    _, shifts = feed_shifts(token, BEFORE_SPRING)

    assert list(shifts) == [mine, theirs]


def test_a_revoked_or_unknown_feed_token_is_not_found(rota: Rota) -> None:
    feed, token = feeds.create_feed(owner=rota.priya, person=rota.priya, now=BEFORE_SPRING)
    feeds.revoke_feed(feed=feed, now=BEFORE_SPRING)

    with pytest.raises(CalendarFeed.DoesNotExist):
        feed_shifts(token, BEFORE_SPRING)
    with pytest.raises(CalendarFeed.DoesNotExist):
        feed_shifts("not-a-token", BEFORE_SPRING)


def test_a_feed_stops_when_its_owner_is_disabled(rota: Rota) -> None:
    _, token = feeds.create_feed(owner=rota.priya, person=rota.priya, now=BEFORE_SPRING)
    Person.objects.filter(pk=rota.priya.pk).update(is_active=False)

    with pytest.raises(CalendarFeed.DoesNotExist):
        feed_shifts(token, BEFORE_SPRING)


def test_nobody_creates_a_feed_of_another_persons_shifts(rota: Rota) -> None:
    with pytest.raises(PermissionDenied):
        feeds.create_feed(owner=rota.manager, person=rota.priya, now=BEFORE_SPRING)


@pytest.mark.parametrize("owner", ["priya", "surgery_manager"])
def test_only_a_manager_of_the_roles_team_creates_a_role_feed(rota: Rota, owner: str) -> None:
    with pytest.raises(PermissionDenied):
        feeds.create_feed(owner=getattr(rota, owner), role=rota.role, now=BEFORE_SPRING)

    assert not CalendarFeed.objects.exists()


def test_a_feed_is_of_a_role_or_of_a_person_not_both(rota: Rota) -> None:
    with pytest.raises(InvalidRotaData):
        feeds.create_feed(
            owner=rota.manager, role=rota.role, person=rota.manager, now=BEFORE_SPRING
        )
