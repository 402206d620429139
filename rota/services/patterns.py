"""Recurring patterns: keep a pattern and its rotation, and expand it into shifts.

A pattern is in wall-clock time at its role's site. Each end of each shift is turned into
a UTC instant on its own day by `rota.wallclock.to_utc`, so a night over a clock change
lasts an hour more or less and is never moved. Every write goes through `write_record` and
`erase_record`, so the rota's rules and audit trail apply to patterns as to any change.
Each service checks first that its actor is a rota manager of the pattern's role (of both
roles, when a pattern moves), raising ChangeNotAllowed for anyone else; that check covers
the pattern's rotation and the shifts it makes.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.db import transaction

from rota.exceptions import InvalidRotaData, invalid
from rota.models import Pattern, PatternMember, Person, Shift
from rota.permissions import require_may_change
from rota.services.records import erase_record, write_record
from rota.wallclock import to_utc

EXPAND_ACTION = "expand"
DAYS_PER_WEEK = 7
ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0)
# Widens a window so that its last instant is included in a half-open range.
ONE_MICROSECOND = timedelta(microseconds=1)


class PlannedShift(NamedTuple):
    """One shift a pattern makes: who holds the role, from `start` to `end` (UTC)."""

    person: Person
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Expansion:
    """What expanding a pattern changed, and every shift the pattern plans in the range."""

    created: int
    updated: int
    unchanged: int
    removed: int
    # Slots where a shift changed by hand (a swap, cover or edit) stands: left as it is.
    kept_by_hand: int
    planned: list[PlannedShift]


class _Occurrence(NamedTuple):
    day: date
    shift: PlannedShift


def save_pattern(
    *,
    actor: Person,
    pattern: Pattern,
    changes: dict[str, Any],
    members: list[Person],
    now: datetime,
) -> Pattern:
    """Create or change a pattern and make `members`, in order, its whole rotation.

    `actor` must manage the pattern's role, and the new one when `changes` moves it.
    Shifts already expanded are left as they are until the pattern is expanded again.
    Owns its transaction and locks an existing pattern, so an expansion running at the
    same time sees the pattern either wholly before or wholly after this change.
    """
    with transaction.atomic():
        if not pattern._state.adding:
            # The row as it is now, so fields nobody asked to change are not written back stale.
            pattern = Pattern.objects.select_for_update(of=("self",)).get(pk=pattern.pk)
            require_may_change(actor, pattern)
        require_may_change(actor, changes.get("role") or pattern.role)
        if not members:
            raise invalid("members", "a pattern needs at least one person in its rotation")
        if pattern._state.adding or changes:
            write_record(actor=actor, instance=pattern, changes=changes, now=now)
        _replace_members(actor=actor, pattern=pattern, members=members, now=now)
    return pattern


def _replace_members(
    *, actor: Person, pattern: Pattern, members: list[Person], now: datetime
) -> None:
    # Position by position, so the audit trail shows exactly which places changed hands.
    current = list(PatternMember.objects.filter(pattern=pattern).order_by("position"))
    for position, person in enumerate(members):
        if position >= len(current):
            member = PatternMember(pattern=pattern, position=position)
            write_record(actor=actor, instance=member, changes={"person": person}, now=now)
        elif current[position].person_id != person.pk:
            write_record(
                actor=actor, instance=current[position], changes={"person": person}, now=now
            )
    for member in current[len(members) :]:
        erase_record(actor=actor, instance=member, now=now)


def delete_pattern(*, actor: Person, pattern: Pattern, now: datetime) -> None:
    """Delete a pattern and its rotation, as a rota manager of its role.

    The shifts it already made stay on the rota: they keep their people and times and lose
    only their link to the pattern (pattern=None), since deleting a pattern must never
    open a gap in a rota already relied on.
    """
    with transaction.atomic():
        pattern = Pattern.objects.select_for_update(of=("self",)).get(pk=pattern.pk)
        require_may_change(actor, pattern)
        for member in PatternMember.objects.filter(pattern=pattern).order_by("position"):
            erase_record(actor=actor, instance=member, now=now)
        erase_record(actor=actor, instance=pattern, now=now)


def expand_pattern(
    *,
    actor: Person,
    pattern: Pattern,
    first_day: date,
    last_day: date,
    now: datetime,
    dry_run: bool = False,
) -> Expansion:
    """Make the pattern's shifts starting on days `first_day`..`last_day` match the pattern.

    `actor` must manage the pattern's role. Idempotent: a shift already there is matched by
    its start instant and updated only where it differs; one the pattern no longer makes is
    removed. All or nothing: owns its transaction and locks the pattern, so two expansions
    of it never interleave; a dry run does the same work, reports it, and rolls it back.
    """
    with transaction.atomic():
        locked = (
            Pattern.objects.select_for_update(of=("self",))
            .select_related("role__site", "role__team")
            .get(pk=pattern.pk)
        )
        require_may_change(actor, locked)
        zone = ZoneInfo(locked.role.site.time_zone)
        occurrences = _plan_occurrences(
            pattern=locked, first_day=first_day, last_day=last_day, zone=zone
        )
        existing, stale = _existing_shifts(
            pattern=locked, occurrences=occurrences, first_day=first_day, last_day=last_day
        )
        # Removals first, then changes, then additions, so that a person whose shift
        # changes is not refused as double-booked against the very shift being replaced.
        for shift in stale:
            with _naming_day(shift.start.astimezone(zone).date()):
                erase_record(actor=actor, instance=shift, now=now, action=EXPAND_ACTION)
        kept = [o for o in occurrences if o.shift.start in existing]
        updated = _update_shifts(
            actor=actor, pattern=locked, occurrences=kept, existing=existing, now=now
        )
        by_hand = _starts_changed_by_hand(pattern=locked, occurrences=occurrences)
        created = [
            o for o in occurrences if o.shift.start not in existing and o.shift.start not in by_hand
        ]
        _create_shifts(actor=actor, pattern=locked, occurrences=created, now=now)
        if dry_run:
            transaction.set_rollback(True)
    return Expansion(
        created=len(created),
        updated=updated,
        unchanged=len(kept) - updated,
        removed=len(stale),
        kept_by_hand=len(by_hand),
        planned=[occurrence.shift for occurrence in occurrences],
    )


def _plan_occurrences(
    *, pattern: Pattern, first_day: date, last_day: date, zone: ZoneInfo
) -> list[_Occurrence]:
    """Return each shift the pattern makes on days `first_day`..`last_day`, in order."""
    members = [member.person for member in pattern.members.select_related("person")]
    if not members:
        raise invalid("members", "a pattern needs at least one person in its rotation")
    weekdays = frozenset(pattern.weekdays)
    # An end not after the start is on the next day (a night shift).
    end_offset = ONE_DAY if pattern.end_time <= pattern.start_time else timedelta(0)
    occurrences = []
    for n in range((last_day - first_day).days + 1):
        day = first_day + timedelta(days=n)
        if day.weekday() not in weekdays:
            continue
        person = members[rotation_index(pattern=pattern, day=day) % len(members)]
        start = to_utc(day=day, at=pattern.start_time, zone=zone)
        end = to_utc(day=day + end_offset, at=pattern.end_time, zone=zone)
        occurrences.append(_Occurrence(day, PlannedShift(person, start, end)))
    return occurrences


def rotation_index(*, pattern: Pattern, day: date) -> int:
    """Return the rotation step of the shift starting on `day`: 0 at the anchor, -1 before."""
    if pattern.rotation == Pattern.Rotation.EACH_WEEK:
        return (_monday_of(day) - _monday_of(pattern.anchor_date)).days // DAYS_PER_WEEK
    weekdays = frozenset(pattern.weekdays)
    if day >= pattern.anchor_date:
        return _count_days(first=pattern.anchor_date, stop=day, weekdays=weekdays)
    return -_count_days(first=day, stop=pattern.anchor_date, weekdays=weekdays)


def _monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _count_days(*, first: date, stop: date, weekdays: frozenset[int]) -> int:
    """Return how many days in [first, stop) fall on one of `weekdays`."""
    weeks, rest = divmod((stop - first).days, DAYS_PER_WEEK)
    tail = sum((first + timedelta(days=n)).weekday() in weekdays for n in range(rest))
    return weeks * len(weekdays) + tail


def _existing_shifts(
    *, pattern: Pattern, occurrences: list[_Occurrence], first_day: date, last_day: date
) -> tuple[dict[datetime, Shift], list[Shift]]:
    """Return the pattern's shifts in the range to keep, by start, and those to remove."""
    zone = ZoneInfo(pattern.role.site.time_zone)
    low = to_utc(day=first_day, at=MIDNIGHT, zone=zone)
    high = to_utc(day=last_day + ONE_DAY, at=MIDNIGHT, zone=zone)
    # A start in a clock change's missing hour is read forward (PEP 495 fold=0); where that
    # hour straddles midnight it could land past the range's last midnight, so the window
    # always covers every planned start and none of them is ever stored twice.
    starts = {occurrence.shift.start for occurrence in occurrences}
    low = min([low, *starts])
    high = max([high, *(start + ONE_MICROSECOND for start in starts)])
    shifts = Shift.objects.filter(pattern=pattern, start__gte=low, start__lt=high)
    existing: dict[datetime, Shift] = {}
    stale = []
    for shift in shifts.select_related("role__site").order_by("start", "pk"):
        if shift.start in starts and shift.start not in existing:
            existing[shift.start] = shift
        else:
            stale.append(shift)
    return existing, stale


def _starts_changed_by_hand(*, pattern: Pattern, occurrences: list[_Occurrence]) -> set[datetime]:
    """Return the planned starts where a shift on the role was detached from the pattern.

    A swap, a cover or an edit detaches the shift it changes (rota.services.records), and
    keeps its start; expanding again must not put the rota's person back on top of it.
    """
    starts = {occurrence.shift.start for occurrence in occurrences}
    if not starts:
        return set()
    detached = Shift.objects.filter(
        role_id=pattern.role_id, start__in=starts, pattern__isnull=True
    ).values_list("start", flat=True)
    return set(detached)


def _update_shifts(
    *,
    actor: Person,
    pattern: Pattern,
    occurrences: list[_Occurrence],
    existing: dict[datetime, Shift],
    now: datetime,
) -> int:
    """Bring each matched shift in line with its occurrence; return how many changed."""
    updated = 0
    for day, planned in occurrences:
        current = existing[planned.start]
        changes: dict[str, Any] = {}
        if current.role_id != pattern.role_id:
            changes["role"] = pattern.role
        if current.person_id != planned.person.pk:
            changes["person"] = planned.person
        if current.end != planned.end:
            changes["end"] = planned.end
        if changes:
            with _naming_day(day):
                write_record(
                    actor=actor, instance=current, changes=changes, now=now, action=EXPAND_ACTION
                )
            updated += 1
    return updated


def _create_shifts(
    *, actor: Person, pattern: Pattern, occurrences: list[_Occurrence], now: datetime
) -> None:
    for day, planned in occurrences:
        with _naming_day(day):
            write_record(
                actor=actor,
                instance=Shift(role=pattern.role, pattern=pattern),
                changes=planned._asdict(),
                now=now,
                action=EXPAND_ACTION,
            )


@contextmanager
def _naming_day(day: date) -> Iterator[None]:
    """Prefix each field of a refused write with its day, so the manager can find it."""
    try:
        yield
    except InvalidRotaData as error:
        raise InvalidRotaData(
            {f"{day.isoformat()}: {field}": messages for field, messages in error.errors.items()}
        ) from None
