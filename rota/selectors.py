"""Reads of the rota: who holds a role at an instant, where a bleep goes, and calendar feeds."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Concat

from bleep.tokens import digest_token
from rota.exceptions import (
    NoHolderInChain,
    PersonNotFound,
    RoleNotFound,
)
from rota.models import (
    CalendarFeed,
    Person,
    Role,
    Shift,
    Team,
)

# A fallback chain longer than this is a loop in the data, not a real escalation ladder.
MAX_FALLBACK_DEPTH = 10
# A calendar feed, and an export by default, covers this window around now.
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=400)


@dataclass(frozen=True)
class Resolution:
    """The role a bleep was addressed to, the role that answers it, and its holders."""

    addressed: Role
    answering: Role
    holders: list[Person]

    @property
    def via_fallback(self) -> bool:
        return self.addressed.pk != self.answering.pk


def shifts_covering(at: datetime) -> QuerySet[Shift]:
    """Return the shifts that cover instant `at` (start inclusive, end exclusive).

    Bounded by the longest a shift may last, so the index is read for a fortnight only.
    """
    return Shift.objects.filter(start__lte=at, start__gt=at - Shift.MAX_LENGTH, end__gt=at)


# `shifts_covering` for one role, written once. Every bleep to a role asks this, and as a
# queryset Django spent ~1 ms building and compiling the same SQL on each call, longer than
# PostgreSQL took to answer it (docs/benchmarks.md, "Rota lookup"); a queryset cannot be
# compiled once and reused, so the statement is kept here, beside the rule it repeats.
# Table names come from the models; every value is passed as a parameter.
HOLDERS_SQL = f"""
    SELECT * FROM {Person._meta.db_table}
    WHERE is_active AND id IN (
        SELECT person_id FROM {Shift._meta.db_table}
        WHERE role_id = %s AND start <= %s AND start > %s AND "end" > %s
    )
    ORDER BY id
"""


def holders_at(*, role: Role, at: datetime) -> list[Person]:
    """Return everyone holding `role` at instant `at` (handover overlaps give several)."""
    stored_at, earliest_start = (
        connection.ops.adapt_datetimefield_value(value) for value in (at, at - Shift.MAX_LENGTH)
    )
    params = [role.pk, stored_at, earliest_start, stored_at]
    return list(Person.objects.raw(HOLDERS_SQL, params))


def get_role(*, role_id: int | None = None, bleep_number: str | None = None) -> Role:
    """Return the role with this id or bleep number, or raise RoleNotFound."""
    roles = Role.objects.select_related("site", "team", "fallback")
    if role_id is not None:
        found = roles.filter(pk=role_id).first()
        if found is None:
            raise RoleNotFound()
        return found
    matches = list(roles.filter(bleep_number=bleep_number)[:2])
    if not matches:
        raise RoleNotFound("bleep_number", "no role has this bleep number")
    if len(matches) > 1:
        # The same number on two sites is ambiguous: refuse rather than guess.
        raise RoleNotFound("bleep_number", "two sites use this bleep number: choose the role")
    return matches[0]


def get_person(*, person_id: int) -> Person:
    """Return the active person with this id, or raise PersonNotFound (an integrating
    system's account is nobody to bleep)."""
    person = (
        Person.objects.filter(pk=person_id, is_active=True).exclude(job=Person.Job.SYSTEM).first()
    )
    if person is None:
        raise PersonNotFound()
    return person


def resolve_role(*, role: Role, at: datetime) -> Resolution:
    """Return who answers a bleep to `role` at `at`, following the fallback chain on a gap."""
    answering: Role | None = role
    seen: set[int] = set()
    while answering is not None and answering.pk not in seen and len(seen) < MAX_FALLBACK_DEPTH:
        seen.add(answering.pk)
        holders = holders_at(role=answering, at=at)
        if not holders and answering.kind == Role.Kind.SWITCHBOARD:
            # The last line: with a hole in the switchboard rota, every operator is bleeped.
            holders = list(every_operator())
        if holders:
            return Resolution(addressed=role, answering=answering, holders=holders)
        answering = answering.fallback
    raise NoHolderInChain()


def switchboard_for(*, role: Role | None, at: datetime) -> list[Person]:
    """Return who answers for switchboard for a bleep to `role` (any operator, for a person).

    The switchboard role is the end of the role's fallback chain; a hole in its rota, or no
    role at all, bleeps every active operator, so switchboard is never unreachable.
    """
    seen: set[int] = set()
    while role is not None and role.kind != Role.Kind.SWITCHBOARD and role.pk not in seen:
        seen.add(role.pk)
        role = role.fallback
    if role is not None and role.kind == Role.Kind.SWITCHBOARD:
        return resolve_role(role=role, at=at).holders
    return list(every_operator())


def every_operator() -> QuerySet[Person]:
    """Return every active switchboard operator: whom switchboard's alerts reach, and who
    answers for switchboard when its rota has a hole."""
    return Person.objects.filter(job=Person.Job.SWITCHBOARD, is_active=True).order_by("pk")


class Gap(NamedTuple):
    """A stretch of time, in UTC, when nobody holds `role`: bleeps go down its fallback chain."""

    role: Role
    start: datetime
    end: datetime


def report_roles(*, role: Role | None = None, team: Team | None = None) -> list[Role]:
    """Return the roles a report covers: one role, one team's, or every role."""
    roles = Role.objects.select_related("team", "site").order_by("team__name", "name", "pk")
    if role is not None:
        roles = roles.filter(pk=role.pk)
    if team is not None:
        roles = roles.filter(team=team)
    return list(roles)


def gaps(*, roles: Iterable[Role], start: datetime, end: datetime) -> list[Gap]:
    """Return the maximal intervals within [start, end) when each role has no holder.

    A holder is who `holders_at` would find, so a shift of someone no longer active is a gap.
    """
    roles = list(roles)
    # Aware datetimes that share a zone subtract by the clock face; UTC has no clock changes.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if not roles or end <= start:
        return []
    held: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    shifts = (
        Shift.objects.filter(role__in=roles, start__lt=end, end__gt=start, person__is_active=True)
        .order_by("role_id", "start")
        .values_list("role_id", "start", "end")
    )
    for role_id, shift_start, shift_end in shifts:
        held[role_id].append((shift_start.astimezone(UTC), shift_end.astimezone(UTC)))
    return [gap for role in roles for gap in _unheld(role, held[role.pk], start, end)]


def gaps_within(*, role: Role, spans: Iterable[tuple[datetime, datetime]]) -> list[Gap]:
    """Return the gaps of `role` inside the union of `spans`, in start order, in one read."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted((s.astimezone(UTC), e.astimezone(UTC)) for s, e in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    if not merged:
        return []
    found = gaps(roles=[role], start=merged[0][0], end=merged[-1][1])
    return [
        Gap(role, max(gap.start, start), min(gap.end, end))
        for gap in found
        for start, end in merged
        if gap.start < end and start < gap.end
    ]


def _unheld(
    role: Role, held: list[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[Gap]:
    """Return the gaps between `held` intervals (sorted by start) within [start, end)."""
    found = []
    cursor = start
    for shift_start, shift_end in held:
        if shift_start > cursor:
            found.append(Gap(role, cursor, shift_start))
        cursor = max(cursor, shift_end)
        if cursor >= end:
            return found
    found.append(Gap(role, cursor, end))
    return found


def directory(*, at: datetime, query: str = "") -> list[tuple[Role, list[Person]]]:
    """Return every role with its holders at `at`, matching role, team, bleep number or holder.

    Two queries whatever the number of roles: the roles, then the shifts covering `at`.
    """
    return [(role, holders_listed(role)) for role in directory_roles(at=at, query=query)]


def directory_roles(*, at: datetime, query: str = "") -> QuerySet[Role]:
    """Return the roles `directory` lists, each with its shifts covering `at` loaded (a
    slice of them loads the shifts of that slice only); `holders_listed` reads the holders."""
    on_shift = shifts_covering(at).filter(person__is_active=True)
    roles = Role.objects.select_related("team", "site").order_by("team__name", "name", "pk")
    query = query.strip()
    if query:
        roles = roles.filter(
            Q(name__icontains=query)
            | Q(team__name__icontains=query)
            | Q(bleep_number__icontains=query)
            | Exists(_holders_named(on_shift, query).filter(role=OuterRef("pk")))
        )
    return roles.prefetch_related(
        Prefetch("shifts", queryset=on_shift.select_related("person").order_by("person_id"))
    )


def holders_listed(role: Role) -> list[Person]:
    """Return the holders of a role from `directory_roles`, each once, with no query."""
    return _people_of(role.shifts.all())


def _holders_named(on_shift: QuerySet[Shift], query: str) -> QuerySet[Shift]:
    """Return the shifts in `on_shift` whose person's name or username contains `query`."""
    return on_shift.annotate(
        full_name=Concat("person__first_name", Value(" "), "person__last_name")
    ).filter(
        Q(person__username__icontains=query)
        | Q(person__display_name__icontains=query)
        | Q(full_name__icontains=query)
    )


def _people_of(shifts: Iterable[Shift]) -> list[Person]:
    """Return each person of `shifts` once, in the shifts' order."""
    return list({shift.person_id: shift.person for shift in shifts}.values())


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
