"""Shifts as iCalendar: export as UTC events, and import events and their recurrences.

A floating or TZID time follows the rule in rota.wallclock, in the role's site's zone. A
single event becomes a shift whatever its date, as a CSV row does; only a repeat is expanded
within a window around the import, and its occurrences outside it are counted in the report.
"""

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from rota.exceptions import invalid
from rota.models import Person, Role, Shift
from rota.services.calendars.applying import (
    UID_MAX_LENGTH,
    Directory,
    ImportOptions,
    ImportReport,
    ReadFile,
    RowErrors,
    ShiftLine,
    Skipped,
    SkipReason,
    Window,
    apply_lines,
    check_shift_count,
    check_size,
    own_uid,
)
from rota.wallclock import to_utc

# Repeating iCal events become shifts in this window around the import.
RECURRENCE_PAST = timedelta(days=1)
RECURRENCE_FUTURE = timedelta(days=400)
# The dates an event may have: a single event is read across all of them, and counting a
# repeat's occurrences outside the window stops at them. Anything outside is a typing slip.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# Counting a repeat's occurrences outside the window took about 10 µs each (measured): a
# file whose repeats could have more than this outside it is refused, not counted for long.
MAX_COUNTED_OUTSIDE = 100_000
REPEAT_PROPERTIES = ("RRULE", "RDATE", "RECURRENCE-ID")
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
    move_shifts: bool = False,
    accept_gaps: bool = False,
) -> ImportReport:
    """Create or update a shift per iCal event occurrence, all or nothing; see docs/rota.md.

    `role` and `person`, when given, override X-BLEEP-ROLE and X-BLEEP-PERSON; `move_shifts`
    and `accept_gaps` are as for import_csv. Owns its transaction: every shift and its audit
    entry commit together, or none does.
    """
    check_size(data)
    errors = RowErrors()
    window = Window(now - RECURRENCE_PAST, now + RECURRENCE_FUTURE)
    read = _read_ical(data, role=role, person=person, window=window, errors=errors)
    if not read.lines and not errors.errors and read.skipped:
        raise invalid(
            "data",
            "no shifts to import: every event is cancelled or repeats only outside the "
            f"recurrence window, {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}",
        )
    options = ImportOptions(dry_run=dry_run, move_shifts=move_shifts, accept_gaps=accept_gaps)
    return apply_lines(actor=actor, read=read, errors=errors, now=now, options=options)


class Expansion:
    """A file's occurrences: every single event, and each repeat's within the window."""

    def __init__(self, source: icalendar.Calendar, window: Window) -> None:
        self.source, self.window = source, window
        self.expanded = self.most_outside = 0

    def occurrences(
        self, uid: str, events: list[icalendar.Event]
    ) -> tuple[list[icalendar.Event], list[Skipped]]:
        """Return one UID's occurrences that may become shifts, and those skipped with why."""
        query = self._query(events)
        if not _repeats(events):
            # A single event is a shift whatever its date, as a CSV row is.
            return self._count(query.between(EARLIEST, LATEST)), []
        window = self.window
        found = self._count(query.between(window.start, window.end))
        label = _event_label(events[0])
        self._check_outside(events)
        before = self._outside(query, EARLIEST, window.start)
        skipped = [Skipped(label, uid, SkipReason.BEFORE_WINDOW, before)] if before else []
        after = None if _endless(events) else self._outside(query, window.end, LATEST)
        if after != 0:
            skipped.append(Skipped(label, uid, SkipReason.AFTER_WINDOW, after))
        return found, skipped

    def _query(self, events: list[icalendar.Event]) -> recurring_ical_events.CalendarQuery:
        # One series at a time: a large file never holds every occurrence at once, and
        # recurring_ical_events' lazy `after` was 700 times slower on a department's year.
        calendar = icalendar.Calendar()
        for name in CALENDAR_CONTEXT:
            if name in self.source:
                calendar.add(name, self.source[name])
        for component in self.source.walk("VTIMEZONE") + events:
            calendar.add_component(component)
        return recurring_ical_events.of(calendar)

    def _count(self, occurrences: list[icalendar.Event]) -> list[icalendar.Event]:
        self.expanded += len(occurrences)
        check_shift_count(self.expanded)
        return occurrences

    def _outside(
        self, query: recurring_ical_events.CalendarQuery, start: datetime, end: datetime
    ) -> int:
        """Count the occurrences between `start` and `end` that are not in the window."""
        window = self.window
        return sum(
            1
            for occurrence in _series_between(query, start, end)
            if not occurrence.is_in_span(window.start, window.end)
        )

    def _check_outside(self, events: list[icalendar.Event]) -> None:
        """Refuse repeats that could have too many occurrences outside the window to count."""
        # dateutil lists every occurrence of a span before the first is counted, so the
        # bound must be known before counting, not found by it.
        self.most_outside += _most_outside(events, self.window)
        if self.most_outside > MAX_COUNTED_OUTSIDE:
            raise invalid(
                "data",
                f"repeats that could have more than {MAX_COUNTED_OUTSIDE} occurrences outside "
                "the recurrence window: give them an end, or a later start",
            )


def _series_between(
    query: recurring_ical_events.CalendarQuery, start: datetime, end: datetime
) -> Iterator[recurring_ical_events.occurrence.Occurrence]:
    """Yield each occurrence between `start` and `end` without copying it into an event."""
    # Only to count: `between` copies a whole event per occurrence (78 µs each, measured on a
    # daily repeat of 26 years), and `after` took minutes; each series' own generator took
    # 9 µs. The tests of the counts in tests/rota/test_calendars.py fail if it changes.
    for series in query.series:
        yield from series.between(start, end)


def _most_outside(events: list[icalendar.Event], window: Window) -> int:
    """Return at most how many occurrences these events have outside the window."""
    # A shift repeats at most daily, so each rule gives at most one occurrence a day.
    most, first, last = 0, window.start.date(), window.end.date()
    for event in events:
        start = event.DTSTART.date()
        rdates = event.get("RDATE", [])
        most += 1 + sum(len(r.dts) for r in (rdates if isinstance(rdates, list) else [rdates]))
        for rule in _rules(event):
            most += max(0, (first - start).days + 1)
            if "COUNT" in rule:
                most += int(rule["COUNT"][0])
            elif "UNTIL" in rule:
                until = rule["UNTIL"][0]
                until = until.date() if isinstance(until, datetime) else until
                most += max(0, (until - last).days + 1)
    return most


def _repeats(events: list[icalendar.Event]) -> bool:
    return any(name in event for event in events for name in REPEAT_PROPERTIES)


def _endless(events: list[icalendar.Event]) -> bool:
    """Return whether any RRULE of these events has neither COUNT nor UNTIL."""
    return any(
        "COUNT" not in rule and "UNTIL" not in rule for event in events for rule in _rules(event)
    )


def _rules(event: icalendar.Event) -> list[icalendar.vRecur]:
    rules = event.get("RRULE", [])
    return rules if isinstance(rules, list) else [rules]


def _read_ical(
    data: str, *, role: Role | None, person: Person | None, window: Window, errors: RowErrors
) -> ReadFile:
    """Return a shift line per occurrence, and what is skipped, adding errors per event."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise invalid("data", f"not an iCalendar file: {error}") from None
    directory, expansion = Directory(), Expansion(calendar, window)
    lines: list[ShiftLine] = []
    skipped: list[Skipped] = []
    for uid, events in _events_by_uid(calendar, errors).items():
        occurrences, outside = expansion.occurrences(uid, events)
        recurring = _repeats(events)
        if not occurrences and not outside:
            skipped.append(Skipped(_event_label(events[0]), uid, SkipReason.NO_OCCURRENCE, 0))
        for occurrence in occurrences:
            if str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
                # Not a shift (an existing one is left for a person to remove), but said.
                label = _event_label(occurrence, recurring=recurring)
                skipped.append(Skipped(label, uid, SkipReason.CANCELLED, 1))
                continue
            line = _ical_line(occurrence, uid, recurring, role, person, directory, errors)
            if line is not None:
                lines.append(line)
        skipped += outside
    return ReadFile(sorted(lines, key=lambda line: (line.start, line.label)), skipped, window)


def _events_by_uid(
    calendar: icalendar.Calendar, errors: RowErrors
) -> dict[str, list[icalendar.Event]]:
    """Group the calendar's events by UID, leaving out (and reporting) every broken one."""
    groups: dict[str, list[icalendar.Event]] = {}
    broken: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for event in calendar.events:
        uid, label = str(event.get("UID", "")), _event_label(event)
        problems = _event_problems(event)
        occurrence = (uid, _recurrence_key(event))
        if not problems and occurrence in seen:
            # recurring_ical_events keeps one of two such events and quietly drops the other.
            problems = [("uid", "another event of the file has this UID and RECURRENCE-ID")]
        seen.add(occurrence)
        for field, message in problems:
            errors.add(label, field, message)
        if problems:
            broken.add(uid)
        groups.setdefault(uid, []).append(event)
    # An override without its broken series (or the reverse) would import half a pattern.
    return {uid: events for uid, events in groups.items() if uid not in broken}


def _recurrence_key(event: icalendar.Event) -> str:
    recurrence_id = event.get("RECURRENCE-ID")
    return recurrence_id.to_ical().decode() if recurrence_id is not None else ""


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
    if not EARLIEST.year <= event.DTSTART.year < LATEST.year:
        return [("start", f"not a date from {EARLIEST.year} to {LATEST.year - 1}")]
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
