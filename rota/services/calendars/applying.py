"""The machinery every calendar import shares: read lines, match shifts, apply all or nothing.

Every imported shift is written through save_record, so the rota rules and the audit apply
as to any other change.
"""

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import transaction

from rota.exceptions import InvalidRotaData, RoleNotFound, invalid
from rota.models import Person, Role, Shift
from rota.selectors import get_role, may_change
from rota.services.records import save_record

# A department's whole year is well under this; anything bigger is a mistake or an attack.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_SHIFTS = 10_000
UID_MAX_LENGTH = Shift._meta.get_field("external_uid").max_length or 255
OWN_UID = re.compile(r"^shift-(\d+)@bleep$")


class Outcome(StrEnum):
    """What an import did with one shift of the file."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


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


@dataclass(frozen=True)
class ImportReport:
    """What an import did, or in a dry run would do: one entry per shift of the file."""

    dry_run: bool
    shifts: list[PlannedShift]

    def count(self, outcome: Outcome) -> int:
        """Return how many shifts had `outcome`."""
        return sum(1 for shift in self.shifts if shift.outcome == outcome)


class RowErrors:
    """Every error of a file, keyed "row 3: start", raised together at the end."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, label: str, field: str, message: str) -> None:
        """Record one message for a line's field, once."""
        messages = self.errors.setdefault(f"{label}: {field}", [])
        if message not in messages:
            messages.append(message)

    def merge(self, label: str, error: InvalidRotaData) -> None:
        """Record every message of a rota rule's refusal under the line's label."""
        for field, messages in error.errors.items():
            for message in messages:
                self.add(label, field, message)

    def raise_any(self) -> None:
        """Raise InvalidRotaData with every recorded error, if there is any."""
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


def apply_lines(
    *, actor: Person, lines: list[ShiftLine], errors: RowErrors, now: datetime, dry_run: bool
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
    *, actor: Person, line: ShiftLine, claimed: dict[int, str], errors: RowErrors, now: datetime
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


def _match_shift(line: ShiftLine, errors: RowErrors) -> Shift | None:
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


def _same(shift: Shift, line: ShiftLine) -> bool:
    return (shift.role_id, shift.person_id, shift.start, shift.end) == (
        line.role.pk,
        line.person.pk,
        line.start,
        line.end,
    )
