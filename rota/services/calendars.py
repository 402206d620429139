"""Calendars in and out: CSV and iCal exports, all-or-nothing imports, and secret feeds.

Shifts are stored in UTC. A CSV carries the site's wall-clock time with its UTC offset, so
the repeated autumn hour is unambiguous; a CSV time without an offset, and a floating or
TZID time in iCal, follows the rule in rota.wallclock. Every imported shift is written
through save_record, so the rota rules and the audit apply as to any other change.
"""

import csv
import io
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from messaging.services import digest_token
from rota.exceptions import InvalidRotaData, RoleNotFound, invalid
from rota.models import CalendarFeed, Person, Role, Shift
from rota.selectors import get_role, may_change
from rota.services.records import save_record
from rota.wallclock import to_utc, to_wall_clock

# A department's whole year is well under this; anything bigger is a mistake or an attack.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_SHIFTS = 10_000
# Recurring iCal events become shifts in this window around the import.
RECURRENCE_PAST = timedelta(days=1)
RECURRENCE_FUTURE = timedelta(days=400)
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=400)
# How often a subscribed calendar app should fetch a feed again.
FEED_REFRESH = timedelta(hours=1)
FEED_TOKEN_BYTES = 32
UID_MAX_LENGTH = Shift._meta.get_field("external_uid").max_length or 255
CSV_TIME_FORMAT = "%Y-%m-%d %H:%M"
CSV_COLUMNS = ["role", "person", "start", "start_offset", "end", "end_offset", "uid"]
CSV_REQUIRED_COLUMNS = {"role", "person", "start", "end"}
PRODID = "-//Bleep//Rota//EN"
OWN_UID = re.compile(r"^shift-(\d+)@bleep$")
# A shift repeats at most daily; finer rules would expand to millions of occurrences.
SUB_DAILY = {"SECONDLY", "MINUTELY", "HOURLY"}
SUB_DAILY_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
ICAL_FIELDS = {"DTSTART": "start", "DTEND": "end", "DURATION": "end"}
# Calendar properties each series needs when it is expanded on its own.
CALENDAR_CONTEXT = ("X-WR-TIMEZONE",)

Found = TypeVar("Found", Role, Person)


class Outcome(StrEnum):
    """What an import did with one shift of the file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class _ShiftLine:
    """One shift as a file states it, resolved to rota objects but not yet matched."""

    label: str
    uid: str
    role: Role
    person: Person
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PlannedShift:
    """What an import did, or in a dry run would do, with one shift of the file."""

    label: str
    uid: str
    outcome: Outcome
    shift_id: int | None
    role: Role
    person: Person
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or in a dry run would do: one entry per shift of the file."""

    dry_run: bool
    shifts: list[PlannedShift]

    def count(self, outcome: Outcome) -> int:
        """Return how many shifts had `outcome`."""
        return sum(1 for shift in self.shifts if shift.outcome == outcome)


class _RowErrors:
    """Every error of a file, keyed "row 3: start", raised together at the end."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, label: str, field: str, message: str) -> None:
        messages = self.errors.setdefault(f"{label}: {field}", [])
        if message not in messages:
            messages.append(message)

    def merge(self, label: str, error: InvalidRotaData) -> None:
        for field, messages in error.errors.items():
            for message in messages:
                self.add(label, field, message)

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidRotaData(self.errors)


class _Directory:
    """Roles by bleep number and people by username, each looked up once per import."""

    def __init__(self) -> None:
        self.roles: dict[str, Role | None] = {}
        self.people: dict[str, Person | None] = {}

    def role(self, bleep_number: str, label: str, errors: _RowErrors) -> Role | None:
        if bleep_number not in self.roles:
            try:
                self.roles[bleep_number] = get_role(bleep_number=bleep_number)
            except RoleNotFound:
                self.roles[bleep_number] = None
        found = self.roles[bleep_number]
        if found is None:
            errors.add(label, "role", f"no single role has bleep {bleep_number!r}")
        return found

    def person(self, username: str, label: str, errors: _RowErrors) -> Person | None:
        if username not in self.people:
            self.people[username] = Person.objects.filter(username=username).first()
        found = self.people[username]
        if found is None:
            errors.add(label, "person", f"nobody has the username {username!r}")
        elif not found.is_active:
            # A disabled account holds no role, so its shift would be a silent gap.
            errors.add(label, "person", f"{username}'s account is disabled")
            return None
        return found


# Export


def export_csv(*, shifts: Iterable[Shift]) -> str:
    """Return the shifts as CSV in their sites' wall-clock time, each time with its offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for shift in shifts:
        zone = ZoneInfo(shift.role.site.time_zone)
        start, end = to_wall_clock(shift.start, zone), to_wall_clock(shift.end, zone)
        writer.writerow(
            [
                shift.role.bleep_number,
                shift.person.username,
                f"{start:{CSV_TIME_FORMAT}}",
                format_offset(start),
                f"{end:{CSV_TIME_FORMAT}}",
                format_offset(end),
                own_uid(shift),
            ]
        )
    return out.getvalue()


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


def own_uid(shift: Shift) -> str:
    """Return the UID a shift is exported with, which a re-import matches it by."""
    return f"shift-{shift.pk}@bleep"


def format_offset(wall: datetime) -> str:
    """Return a wall-clock time's UTC offset as ±HH:MM."""
    offset = wall.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# Import


def import_csv(*, actor: Person, text: str, now: datetime, dry_run: bool) -> ImportReport:
    """Create or update the shifts of a CSV file, all or nothing; see docs/rota.md.

    Owns its transaction: every shift and its audit entry commit together, or none does.
    """
    _check_size(text)
    errors = _RowErrors()
    lines = _read_csv(text.removeprefix("\ufeff"), errors)
    return _apply_lines(actor=actor, lines=lines, errors=errors, now=now, dry_run=dry_run)


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
    _check_size(data)
    errors = _RowErrors()
    lines = _read_ical(data, role=role, person=person, now=now, errors=errors)
    if not lines and not errors.errors:
        first, last = now - RECURRENCE_PAST, now + RECURRENCE_FUTURE
        raise invalid("data", f"no shifts between {first:%Y-%m-%d} and {last:%Y-%m-%d}")
    return _apply_lines(actor=actor, lines=lines, errors=errors, now=now, dry_run=dry_run)


def _check_size(data: str) -> None:
    if len(data.encode()) > IMPORT_MAX_BYTES:
        raise invalid("data", f"the file is over {IMPORT_MAX_BYTES // 1024 // 1024} MB: split it")


def _apply_lines(
    *, actor: Person, lines: list[_ShiftLine], errors: _RowErrors, now: datetime, dry_run: bool
) -> ImportReport:
    """Write every line through save_record in one transaction; roll back on any error."""
    if not lines and not errors.errors:
        raise invalid("data", "the file has no shifts")
    planned = []
    with transaction.atomic():
        claimed: dict[int, str] = {}
        for line in lines:
            plan = _apply_line(actor=actor, line=line, claimed=claimed, errors=errors, now=now)
            if plan is not None:
                planned.append(plan)
        errors.raise_any()
        if dry_run:
            transaction.set_rollback(True)
    if dry_run:
        # The new rows were rolled back: their ids name nothing.
        planned = [
            replace(plan, shift_id=None) if plan.outcome == Outcome.CREATED else plan
            for plan in planned
        ]
    return ImportReport(dry_run=dry_run, shifts=planned)


def _apply_line(
    *, actor: Person, line: _ShiftLine, claimed: dict[int, str], errors: _RowErrors, now: datetime
) -> PlannedShift | None:
    existing = _match_shift(line, errors)
    if existing is not None and existing.pk in claimed:
        errors.add(line.label, "uid", f"names the same shift as {claimed[existing.pk]}")
        return None
    if not may_change(actor, line.role) or (
        existing is not None and not may_change(actor, existing)
    ):
        # Refuse the whole file without saying which role, as for any rota change.
        raise PermissionDenied()
    if existing is not None and _same(existing, line):
        outcome, shift = Outcome.UNCHANGED, existing
    else:
        outcome = Outcome.CREATED if existing is None else Outcome.UPDATED
        try:
            shift = save_record(
                actor=actor,
                instance=existing or Shift(external_uid=line.uid),
                changes={
                    "role": line.role,
                    "person": line.person,
                    "start": line.start,
                    "end": line.end,
                },
                now=now,
                action="import",
            )
        except InvalidRotaData as error:
            errors.merge(line.label, error)
            return None
    claimed[shift.pk] = line.label
    return PlannedShift(
        line.label, line.uid, outcome, shift.pk, line.role, line.person, line.start, line.end
    )


def _match_shift(line: _ShiftLine, errors: _RowErrors) -> Shift | None:
    """Return the shift a line updates: by external UID, by our own UID, or an identical one."""
    shifts = Shift.objects.select_related("role__team", "role__site")
    if not line.uid:
        same = shifts.filter(role=line.role, person=line.person, start=line.start, end=line.end)
        return same.first()
    found = list(shifts.filter(external_uid=line.uid)[:2])
    if len(found) > 1:
        errors.add(line.label, "uid", f"{line.uid!r} matches more than one shift")
    if found:
        return found[0]
    own = OWN_UID.match(line.uid)
    return shifts.filter(pk=int(own[1])).first() if own else None


def _same(shift: Shift, line: _ShiftLine) -> bool:
    return (shift.role_id, shift.person_id, shift.start, shift.end) == (
        line.role.pk,
        line.person.pk,
        line.start,
        line.end,
    )


# CSV


def _read_csv(text: str, errors: _RowErrors) -> list[_ShiftLine]:
    """Return the CSV's shift lines, adding each bad cell to `errors` as "row N: column"."""
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    missing = sorted(CSV_REQUIRED_COLUMNS - set(reader.fieldnames))
    # A misspelt offset column must not be dropped: it would move shifts by an hour.
    unknown = sorted(set(reader.fieldnames) - set(CSV_COLUMNS))
    if missing or unknown:
        messages = [f"missing column {name!r}" for name in missing]
        messages += [f"unknown column {name!r}; columns are {CSV_COLUMNS}" for name in unknown]
        raise InvalidRotaData({"header": messages})
    directory, lines = _Directory(), []
    for row in reader:
        label = f"row {reader.line_num}"
        if None in row:
            errors.add(label, "row", "more cells than columns")
            continue
        cells = {name: (value or "").strip() for name, value in row.items()}
        if any(cells.values()):
            line = _csv_line(label, cells, directory, errors)
            if line is not None:
                lines.append(line)
    return lines


def _csv_line(
    label: str, cells: dict[str, str], directory: _Directory, errors: _RowErrors
) -> _ShiftLine | None:
    role = directory.role(cells["role"], label, errors) if cells["role"] else None
    person = directory.person(cells["person"], label, errors) if cells["person"] else None
    for name in ("role", "person", "start", "end"):
        if not cells[name]:
            errors.add(label, name, "required")
    zone = ZoneInfo(role.site.time_zone) if role else None
    start = _csv_time(cells, "start", zone, label, errors)
    end = _csv_time(cells, "end", zone, label, errors)
    uid = cells.get("uid", "")
    if len(uid) > UID_MAX_LENGTH:
        errors.add(label, "uid", f"at most {UID_MAX_LENGTH} characters")
        return None
    if role is None or person is None or start is None or end is None:
        return None
    return _ShiftLine(label, uid, role, person, start, end)


def _csv_time(
    cells: dict[str, str], name: str, zone: ZoneInfo | None, label: str, errors: _RowErrors
) -> datetime | None:
    """Return a cell's UTC instant: by its offset column when filled, else the wall-clock rule."""
    if not cells[name]:
        return None
    try:
        wall = datetime.strptime(cells[name], CSV_TIME_FORMAT)
    except ValueError:
        errors.add(label, name, f"not a time like 2026-03-28 20:00: {cells[name]!r}")
        return None
    offset_text = cells.get(f"{name}_offset", "")
    if zone is None:
        return None
    if not offset_text:
        return to_utc(day=wall.date(), at=wall.time(), zone=zone)
    try:
        offset = datetime.strptime(offset_text, "%z").utcoffset() or timedelta(0)
    except ValueError:
        errors.add(label, f"{name}_offset", f"not an offset like +01:00: {offset_text!r}")
        return None
    instant = (wall - offset).replace(tzinfo=UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        # A hand-edited offset that the site's clock never shows is a mistake, not a time.
        errors.add(label, f"{name}_offset", _offset_mismatch(wall, zone))
        return None
    return instant


def _offset_mismatch(wall: datetime, zone: ZoneInfo) -> str:
    shown = to_utc(day=wall.date(), at=wall.time(), zone=zone).astimezone(zone)
    if shown.replace(tzinfo=None) != wall:
        return f"{wall:{CSV_TIME_FORMAT}} does not exist in {zone.key}: the clocks go forward"
    return f"{wall:{CSV_TIME_FORMAT}} is {format_offset(shown)} in {zone.key}"


# iCalendar


def _read_ical(
    data: str, *, role: Role | None, person: Person | None, now: datetime, errors: _RowErrors
) -> list[_ShiftLine]:
    """Return a shift line per event occurrence in the window, adding errors per event."""
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise invalid("data", f"not an iCalendar file: {error}") from None
    directory, lines, expanded = _Directory(), [], 0
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
    calendar: icalendar.Calendar, errors: _RowErrors
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
    directory: _Directory,
    errors: _RowErrors,
) -> _ShiftLine | None:
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
    return _ShiftLine(label, uid, role, person, _instant(start, zone), _instant(end, zone))


def _ical_lookup(
    event: icalendar.Event,
    prop: str,
    field: str,
    find: Callable[[str, str, _RowErrors], Found | None],
    label: str,
    errors: _RowErrors,
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


# Feeds


def create_feed(
    *, owner: Person, role: Role | None = None, person: Person | None = None, now: datetime
) -> tuple[CalendarFeed, str]:
    """Create a secret feed of my own shifts or of a role I manage; return it and its token.

    Only the token's digest is stored: the token is shown once, in the feed's URL.
    """
    if (role is None) == (person is None):
        raise invalid("role", "give either a role or a person")
    if person is not None and person.pk != owner.pk:
        raise PermissionDenied()
    if role is not None and not may_change(owner, role):
        raise PermissionDenied()
    token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    feed = CalendarFeed.objects.create(
        token_digest=digest_token(token), role=role, person=person, owner=owner, created_at=now
    )
    return feed, token


def revoke_feed(*, feed: CalendarFeed, now: datetime) -> CalendarFeed:
    """Revoke a feed: its URL stops working at once."""
    if feed.revoked_at is None:
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
    return feed


def feed_shifts(token: str, now: datetime) -> tuple[CalendarFeed, QuerySet[Shift]]:
    """Return the live feed with `token` and its shifts, or raise CalendarFeed.DoesNotExist."""
    feed = (
        CalendarFeed.objects.select_related("role", "person")
        .filter(token_digest=digest_token(token), revoked_at__isnull=True, owner__is_active=True)
        .get()
    )
    shifts = shifts_between(
        start=now - FEED_PAST, end=now + FEED_FUTURE, role=feed.role, person=feed.person
    )
    return feed, shifts


def feed_name(feed: CalendarFeed) -> str:
    """Return the calendar name a subscriber sees."""
    if feed.role is not None:
        return f"Bleep: {feed.role.name} (bleep {feed.role.bleep_number})"
    return f"Bleep: {feed.person}"


def feeds_of(person: Person) -> QuerySet[CalendarFeed]:
    """Return a person's live feeds."""
    live = CalendarFeed.objects.filter(owner=person, revoked_at__isnull=True)
    return live.select_related("role__team", "person").order_by("created_at", "pk")


def access_feed(person: Person, feed_id: int) -> CalendarFeed:
    """Return one of `person`'s live feeds, or raise CalendarFeed.DoesNotExist for any other."""
    return feeds_of(person).get(pk=feed_id)


def shifts_between(
    *, start: datetime, end: datetime, role: Role | None = None, person: Person | None = None
) -> QuerySet[Shift]:
    """Return the shifts overlapping [start, end), of one role or person when given."""
    shifts = Shift.objects.filter(start__lt=end, end__gt=start)
    if role is not None:
        shifts = shifts.filter(role=role)
    if person is not None:
        shifts = shifts.filter(person=person)
    return shifts.select_related("role__site", "person").order_by("start", "role_id", "pk")
