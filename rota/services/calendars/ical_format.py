"""Shifts as iCalendar: export as UTC events, and import events and their recurrences.

A floating or TZID time follows the rule in rota.wallclock, in the role's site's zone.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from rota.exceptions import invalid
from rota.models import Person, Role, Shift
from rota.services.calendars.applying import (
    IMPORT_MAX_SHIFTS,
    UID_MAX_LENGTH,
    Directory,
    ImportReport,
    RowErrors,
    ShiftLine,
    apply_lines,
    check_size,
    own_uid,
)
from rota.wallclock import to_utc

# Recurring iCal events become shifts in this window around the import.
RECURRENCE_PAST = timedelta(days=1)
RECURRENCE_FUTURE = timedelta(days=400)
# How often a subscribed calendar app should fetch a feed again.
FEED_REFRESH = timedelta(hours=1)
PRODID = "-//Bleep//Rota//EN"
# A shift repeats at most daily; finer rules would expand to millions of occurrences.
SUB_DAILY = {"SECONDLY", "MINUTELY", "HOURLY"}
SUB_DAILY_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
ICAL_FIELDS = {"DTSTART": "start", "DTEND": "end", "DURATION": "end"}
# Calendar properties each series needs when it is expanded on its own.
CALENDAR_CONTEXT = ("X-WR-TIMEZONE",)

Found = TypeVar("Found", Role, Person)


def export_ical(*, shifts: Iterable[Shift], name: str, now: datetime) -> bytes:
    """Return the shifts as an iCalendar file, one UTC event per shift."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(FEED_REFRESH))
    for shift in shifts:
        event = icalendar.Event.new(
            uid=own_uid(shift),
            start=shift.start.astimezone(UTC),
            end=shift.end.astimezone(UTC),
            summary=f"{shift.role.name} (bleep {shift.role.bleep_number})",
            description=str(shift.person),
            stamp=now,
        )
        event.add("x-bleep-role", shift.role.bleep_number)
        event.add("x-bleep-person", shift.person.username)
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def import_ical(
    *,
    actor: Person,
    data: str,
    now: datetime,
    dry_run: bool,
    role: Role | None = None,
    person: Person | None = None,
) -> ImportReport:
    """Create or update a shift per iCal event occurrence, all or nothing; see docs/rota.md.

    `role` and `person`, when given, override X-BLEEP-ROLE and X-BLEEP-PERSON. Owns its
    transaction: every shift and its audit entry commit together, or none does.
    """
    check_size(data)
    errors = RowErrors()
    lines = _read_ical(data, role=role, person=person, now=now, errors=errors)
    if not lines and not errors.errors:
        first, last = now - RECURRENCE_PAST, now + RECURRENCE_FUTURE
        raise invalid("data", f"no shifts between {first:%Y-%m-%d} and {last:%Y-%m-%d}")
    return apply_lines(actor=actor, lines=lines, errors=errors, now=now, dry_run=dry_run)


def _read_ical(
    data: str, *, role: Role | None, person: Person | None, now: datetime, errors: RowErrors
) -> list[ShiftLine]:
    """Return a shift line per event occurrence in the window, adding errors per event."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise invalid("data", f"not an iCalendar file: {error}") from None
    directory, lines, expanded = Directory(), [], 0
    for uid, events in _events_by_uid(calendar, errors).items():
        recurring = any(key in e for e in events for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
        occurrences = _expand(calendar, events, now=now)
        expanded += len(occurrences)
        if expanded > IMPORT_MAX_SHIFTS:
            raise invalid("data", f"more than {IMPORT_MAX_SHIFTS} shifts: split the file")
        for occurrence in occurrences:
            # A cancelled event is not a shift (an existing one is left for a person to remove).
            if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
                continue
            line = _ical_line(occurrence, uid, recurring, role, person, directory, errors)
            if line is not None:
                lines.append(line)
    return sorted(lines, key=lambda line: (line.start, line.label))


def _events_by_uid(
    calendar: icalendar.Calendar, errors: RowErrors
) -> dict[str, list[icalendar.Event]]:
    """Group the calendar's events by UID, leaving out (and reporting) every broken one."""
    groups: dict[str, list[icalendar.Event]] = {}
    broken: set[str] = set()
    for event in calendar.events:
        uid, label = str(event.get("UID", "")), _event_label(event)
        problems = _event_problems(event)
        for field, message in problems:
            errors.add(label, field, message)
        if problems:
            broken.add(uid)
        groups.setdefault(uid, []).append(event)
    # An override without its broken series (or the reverse) would import half a pattern.
    return {uid: events for uid, events in groups.items() if uid not in broken}


def _event_problems(event: icalendar.Event) -> list[tuple[str, str]]:
    """Return (field, message) for each reason this event cannot become shifts."""
    problems = [(_ical_field(name or "data"), message) for name, message in event.errors]
    if problems:
        return problems
    if not event.get("UID"):
        return [("uid", "missing")]
    if event.DTSTART is None:
        return [("start", "missing")]
    if not isinstance(event.DTSTART, datetime):
        return [("start", "an all-day event is not a shift: give start and end times")]
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = event.get(name)
        if isinstance(prop, icalendar.vDDDTypes) and "TZID" in prop.params:
            if getattr(prop.dt, "tzinfo", None) is None:
                # Reading an unknown zone as the site's would move the shift silently.
                return [(_ical_field(name), f"unknown time zone {prop.params['TZID']!r}")]
    if "DTEND" not in event and "DURATION" not in event:
        return [("end", "missing")]
    backwards = _end_problem(event.DTSTART, event.DTEND, event.get("DURATION"))
    if backwards:
        return [("end", backwards)]
    rules = event.get("RRULE", [])
    for rule in rules if isinstance(rules, list) else [rules]:
        if str(rule.get("FREQ", [""])[0]).upper() in SUB_DAILY or SUB_DAILY_PARTS & set(rule):
            return [("rrule", "a shift repeats at most daily")]
    return []


def _end_problem(start: datetime, end: object, duration: object) -> str:
    """Return why an event's end is not after its start, or "" if it is."""
    # recurring_ical_events quietly swaps a backwards event's ends: catch it before.
    if isinstance(duration, icalendar.vDDDTypes) and isinstance(duration.dt, timedelta):
        return "" if duration.dt > timedelta(0) else "the end must be after the start"
    if not isinstance(end, datetime):
        return "a date without a time is not the end of a shift"
    if (start.tzinfo is None) != (end.tzinfo is None):
        return "the start and the end must both be floating or both have a time zone"
    return "" if end > start else "the end must be after the start"


def _ical_field(name: str) -> str:
    return ICAL_FIELDS.get(name, name.lower())


def _expand(
    source: icalendar.Calendar, events: list[icalendar.Event], *, now: datetime
) -> list[icalendar.Event]:
    """Return the occurrences of one UID's events (series and overrides) in the window."""
    # One series at a time: a large file never holds every occurrence at once, and
    # recurring_ical_events' lazy `after` was 700 times slower on a department's year.
    calendar = icalendar.Calendar()
    for name in CALENDAR_CONTEXT:
        if name in source:
            calendar.add(name, source[name])
    for component in source.walk("VTIMEZONE") + events:
        calendar.add_component(component)
    query = recurring_ical_events.of(calendar)
    return list(query.between(now - RECURRENCE_PAST, now + RECURRENCE_FUTURE))


def _ical_line(
    occurrence: icalendar.Event,
    uid: str,
    recurring: bool,
    role: Role | None,
    person: Person | None,
    directory: Directory,
    errors: RowErrors,
) -> ShiftLine | None:
    # A missing role is the same for every occurrence: say it once, for the series.
    series = _event_label(occurrence)
    role = role or _ical_lookup(occurrence, "X-BLEEP-ROLE", "role", directory.role, series, errors)
    person = person or _ical_lookup(
        occurrence, "X-BLEEP-PERSON", "person", directory.person, series, errors
    )
    label = _event_label(occurrence, recurring=recurring)
    if role is None or person is None:
        return None
    start, end, original = occurrence.start, occurrence.end, occurrence.RECURRENCE_ID
    if not (isinstance(start, datetime) and isinstance(end, datetime)):
        errors.add(label, "end", "a date without a time is not the end of a shift")
        return None
    zone = ZoneInfo(role.site.time_zone)
    if recurring and isinstance(original, datetime):
        uid = f"{uid}/{_instant(original, zone):%Y%m%dT%H%M%SZ}"
    if len(uid) > UID_MAX_LENGTH:
        errors.add(label, "uid", f"at most {UID_MAX_LENGTH} characters")
        return None
    return ShiftLine(label, uid, role, person, _instant(start, zone), _instant(end, zone))


def _ical_lookup(
    event: icalendar.Event,
    prop: str,
    field: str,
    find: Callable[[str, str, RowErrors], Found | None],
    label: str,
    errors: RowErrors,
) -> Found | None:
    value = str(event.get(prop, "")).strip()
    if not value:
        errors.add(label, field, f"no {prop} in the event: choose the {field} to import for")
        return None
    return find(value, label, errors)


def _instant(moment: datetime, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of an iCal time: floating means wall-clock in `zone`."""
    tz = moment.tzinfo
    if tz is None or isinstance(tz, ZoneInfo):
        return to_utc(day=moment.date(), at=moment.time(), zone=tz or zone)
    return moment.replace(fold=0).astimezone(UTC)


def _event_label(event: icalendar.Event, *, recurring: bool = False) -> str:
    """Return how an error names an event: its UID and summary, and which occurrence."""
    summary = str(event.get("SUMMARY", "")).strip()[:60]
    label = f"event {str(event.get('UID', '')) or '(no UID)'}"
    if summary:
        label += f" ({summary})"
    if recurring:
        label += f" at {event.start:%Y-%m-%d %H:%M}"
    return label
