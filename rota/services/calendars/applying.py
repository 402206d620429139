"""The machinery every calendar import shares: read lines, match shifts, apply all or nothing.

Every imported shift is written through write_record, so the rota rules and the audit apply
as to any other change; each line is first checked against the importer's scope here, as
save_record would check it. Every event of a file is imported or reported as skipped with its
reason; a shift of another role is moved only when asked; and a new gap in the rota is
refused unless accepted, so an import never empties a role without the rota manager seeing.
"""

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction

from rota.exceptions import InvalidRotaData, RoleNotFound, invalid
from rota.models import Person, Role, Shift
from rota.permissions import may_change
from rota.selectors import Gap, gaps_within, get_role
from rota.services.records import write_record

# A department's whole year is well under this; anything bigger is a mistake or an attack.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_SHIFTS = 10_000
# A bad file's answer names this many errors and counts the rest: a 1.2 MB file of bad rows
# answered 17 MB of errors, more than anyone reads and more than a phone should download.
IMPORT_MAX_ERRORS = 50
UID_MAX_LENGTH = Shift._meta.get_field("external_uid").max_length or 255
OWN_UID = re.compile(r"^shift-(\d+)@bleep$")


class Outcome(StrEnum):
    """What an import did with one shift of the file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class SkipReason(StrEnum):
    """Why events of a file became no shift."""

    CANCELLED = "cancelled"
    # Only a repeat is limited to the window: an endless one cannot all become shifts.
    BEFORE_WINDOW = "before_recurrence_window"
    AFTER_WINDOW = "after_recurrence_window"
    # Its EXDATEs leave no occurrence at all.
    NO_OCCURRENCE = "no_occurrence"


@dataclass(frozen=True)
class Skipped:
    """Events or occurrences of a file that became no shift, with why: none is lost silently."""

    label: str
    uid: str
    reason: SkipReason
    # How many occurrences; None for those after the window of a repeat without end.
    occurrences: int | None


@dataclass(frozen=True)
class Window:
    """The span in which a repeating event's occurrences become shifts."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ImportOptions:
    """What the request allows: only report, move other roles' shifts, open gaps."""

    dry_run: bool
    move_shifts: bool = False
    accept_gaps: bool = False


@dataclass(frozen=True)
class ShiftLine:
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


class HeldSpan(NamedTuple):
    """Where a shift held its role before the import changed it."""

    role: Role
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ReadFile:
    """What a file says: its shift lines, what it leaves out and why, and its window if any."""

    lines: list[ShiftLine]
    skipped: list[Skipped] = dataclasses.field(default_factory=list)
    window: Window | None = None


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or in a dry run would do, with every event of the file."""

    dry_run: bool
    shifts: list[PlannedShift]
    skipped: list[Skipped] = dataclasses.field(default_factory=list)
    recurrence_window: Window | None = None
    # Where a role has nobody because of this import, having had someone before it.
    gaps: list[Gap] = dataclasses.field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        """Return how many shifts had `outcome`."""
        return sum(1 for shift in self.shifts if shift.outcome == outcome)

    def skipped_occurrences(self) -> int:
        """Return how many occurrences were skipped, not counting endless repeats' future."""
        return sum(skip.occurrences or 0 for skip in self.skipped)


class RowErrors:
    """A file's errors, keyed "row 3: start", raised together at the end: the first
    IMPORT_MAX_ERRORS places in full, and how many more there were."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}
        self.unshown = 0

    def add(self, label: str, field: str, message: str) -> None:
        """Record one message for a line's field, once; past the cap, only count it."""
        key = f"{label}: {field}"
        if key not in self.errors and len(self.errors) >= IMPORT_MAX_ERRORS:
            self.unshown += 1
            return
        messages = self.errors.setdefault(key, [])
        if message not in messages:
            messages.append(message)

    def merge(self, label: str, error: InvalidRotaData) -> None:
        """Record every message of a rota rule's refusal under the line's label."""
        for field, messages in error.errors.items():
            for message in messages:
                self.add(label, field, message)

    def raise_any(self) -> None:
        """Raise InvalidRotaData with every recorded error, if there is any."""
        if self.unshown:
            more = f"{self.unshown} more errors not shown: correct these and import again"
            raise InvalidRotaData({**self.errors, "more_errors": [more]})
        if self.errors:
            raise InvalidRotaData(self.errors)


class Directory:
    """Roles by bleep number and people by username, each looked up once per import."""

    def __init__(self) -> None:
        self.roles: dict[str, Role | None] = {}
        self.people: dict[str, Person | None] = {}

    def role(self, bleep_number: str, label: str, errors: RowErrors) -> Role | None:
        """Return the one role with this bleep number, or record an error and return None."""
        if bleep_number not in self.roles:
            try:
                self.roles[bleep_number] = get_role(bleep_number=bleep_number)
            except RoleNotFound:
                self.roles[bleep_number] = None
        found = self.roles[bleep_number]
        if found is None:
            errors.add(label, "role", f"no single role has bleep {bleep_number!r}")
        return found

    def person(self, username: str, label: str, errors: RowErrors) -> Person | None:
        """Return the active person with this username, or record an error and return None."""
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


def own_uid(shift: Shift) -> str:
    """Return the UID a shift is exported with, which a re-import matches it by."""
    return f"shift-{shift.pk}@bleep"


def check_size(data: str) -> None:
    """Refuse a file over IMPORT_MAX_BYTES before reading any of it."""
    if len(data.encode()) > IMPORT_MAX_BYTES:
        raise invalid("data", f"the file is over {IMPORT_MAX_BYTES // 1024 // 1024} MB: split it")


def check_shift_count(count: int) -> None:
    """Refuse a file of more than IMPORT_MAX_SHIFTS shifts (rows, or event occurrences)."""
    if count > IMPORT_MAX_SHIFTS:
        raise invalid("data", f"more than {IMPORT_MAX_SHIFTS} shifts: split the file")


def apply_lines(
    *, actor: Person, read: ReadFile, errors: RowErrors, now: datetime, options: ImportOptions
) -> ImportReport:
    """Write every line through write_record in one transaction; roll back on any error.

    A line whose UID names a shift of another role is refused unless `move_shifts`, and an
    import that leaves a role without a holder where it had one is refused unless
    `accept_gaps`; a dry run reports those gaps and stores nothing.
    """
    if not read.lines and not errors.errors:
        raise invalid("data", "the file has no shifts")
    planned: list[PlannedShift] = []
    vacated: list[HeldSpan] = []
    with transaction.atomic():
        claimed: dict[int, str] = {}
        for line in read.lines:
            applied = _apply_line(
                actor=actor, line=line, claimed=claimed, errors=errors, now=now, options=options
            )
            if applied is not None:
                planned.append(applied[0])
                vacated += applied[1]
        errors.raise_any()
        opened = _opened_gaps(vacated)
        if opened and not (options.accept_gaps or options.dry_run):
            # A rota manager must see a new hole before it exists, not after a bleep falls in.
            raise InvalidRotaData({"gaps": [_describe(gap) for gap in opened]})
        if options.dry_run:
            transaction.set_rollback(True)
    if options.dry_run:
        # The new rows were rolled back: their ids name nothing.
        planned = [
            replace(plan, shift_id=None) if plan.outcome == Outcome.CREATED else plan
            for plan in planned
        ]
    return ImportReport(options.dry_run, planned, read.skipped, read.window, opened)


def _apply_line(
    *,
    actor: Person,
    line: ShiftLine,
    claimed: dict[int, str],
    errors: RowErrors,
    now: datetime,
    options: ImportOptions,
) -> tuple[PlannedShift, list[HeldSpan]] | None:
    """Write one line; return what it did and where the shift held its role before, if any."""
    existing = _match_shift(line, errors)
    if existing is not None and existing.pk in claimed:
        errors.add(line.label, "uid", f"names the same shift as {claimed[existing.pk]}")
        return None
    if not may_change(actor, line.role) or (
        existing is not None and not may_change(actor, existing)
    ):
        # Refuse the whole file without saying which role, as for any rota change.
        raise PermissionDenied()
    if existing is not None and existing.role_id != line.role.pk and not options.move_shifts:
        # An export imported for another role would otherwise empty the role it came from.
        errors.add(line.label, "uid", _elsewhere(line, existing.role))
        return None
    if existing is not None and _same(existing, line):
        outcome, shift, held = Outcome.UNCHANGED, existing, []
    else:
        outcome = Outcome.CREATED if existing is None else Outcome.UPDATED
        held = _held(existing)
        saved = _save(actor=actor, existing=existing, line=line, now=now, errors=errors)
        if saved is None:
            return None
        shift = saved
    claimed[shift.pk] = line.label
    plan = PlannedShift(
        line.label, line.uid, outcome, shift.pk, line.role, line.person, line.start, line.end
    )
    return plan, held


def _save(
    *, actor: Person, existing: Shift | None, line: ShiftLine, now: datetime, errors: RowErrors
) -> Shift | None:
    """Write a line through write_record, or record why the rota rules refuse it."""
    try:
        return write_record(
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


def _elsewhere(line: ShiftLine, role: Role) -> str:
    return (
        f"{line.uid!r} is a shift of {role.name} (bleep {role.bleep_number}): to move it to "
        f"{line.role.name} (bleep {line.role.bleep_number}), import with move_shifts=true"
    )


def _held(shift: Shift | None) -> list[HeldSpan]:
    """Return where a shift holds its role, read before the import changes it."""
    if shift is None or not shift.person.is_active:
        # A disabled person's shift held nothing, so changing it cannot open a gap.
        return []
    return [HeldSpan(shift.role, shift.start, shift.end)]


def _opened_gaps(vacated: list[HeldSpan]) -> list[Gap]:
    """Return where a role has no holder now, inside spans its changed shifts held before.

    An import never deletes, so a role can lose its holder only where a shift the import
    changed held it; each instant of those spans had a holder before the import, so every
    gap inside them now, read in the import's transaction, is one the import opened.
    """
    spans: dict[int, list[HeldSpan]] = defaultdict(list)
    for held in vacated:
        spans[held.role.pk].append(held)
    opened = [
        gap
        for held in spans.values()
        for gap in gaps_within(role=held[0].role, spans=[(h.start, h.end) for h in held])
    ]
    return sorted(opened, key=lambda gap: (gap.start, gap.role.pk))


def _describe(gap: Gap) -> str:
    zone = ZoneInfo(gap.role.site.time_zone)
    start, end = (
        moment.astimezone(zone).isoformat(timespec="minutes") for moment in (gap.start, gap.end)
    )
    return (
        f"{gap.role.name} (bleep {gap.role.bleep_number}) would have nobody from {start} to "
        f"{end}: to accept that, import with accept_gaps=true"
    )


def _match_shift(line: ShiftLine, errors: RowErrors) -> Shift | None:
    """Return the shift a line updates: by external UID, by our own UID, or an identical one."""
    shifts = Shift.objects.select_related("role__team", "role__site", "person")
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


def _same(shift: Shift, line: ShiftLine) -> bool:
    return (shift.role_id, shift.person_id, shift.start, shift.end) == (
        line.role.pk,
        line.person.pk,
        line.start,
        line.end,
    )
