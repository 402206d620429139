"""Response-time analytics for clinical safety officers and rota managers (docs/operations.md):
how long bleeps took to reach a device, be read and be acknowledged, grouped by what a
hospital asks about, read from the stored bleeps and their history (no second copy).

The database gathers each bleep's moments in one query (the first device receipt, read and
acknowledgement, and how many escalations, declines and redirects its history holds); the
grouping by local hour, weekday and day or night, and the median, 90th centile and maximum,
are done here, where the site's time zone (clock changes included) is known.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, Max, Min, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from messaging.actions import Action
from messaging.exceptions import AnalyticsNotAllowed
from messaging.models import Bleep, Delivery, HistoryEntry
from rota.models import Person, Shift, Team
from rota.permissions import managed_teams

DIMENSIONS = ("role", "team", "ward", "priority", "hour", "weekday", "daynight", "weekhour", "day")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Night is from 20:00 to 08:00 on the site's clock: the hospital-at-night hours.
NIGHT_FROM_HOUR, NIGHT_TO_HOUR = 20, 8
ESCALATING = (Action.ESCALATE, Action.NOTIFY_SWITCHBOARD, Action.BROADCAST_TEAM)


@dataclass(frozen=True)
class Timing:
    """Seconds from sending to one moment: how many bleeps reached it, and their median,
    90th centile and maximum (None when none did)."""

    count: int
    median: float | None
    p90: float | None
    max: float | None


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    bleeps: int
    delivered: Timing
    read: Timing
    acknowledged: Timing
    escalated: int
    # How many bleeps escalation took as far as each step of their plan ("2": 5).
    escalated_to_step: dict[str, int]
    declined: int
    redirected: int
    reached_switchboard: int


@dataclass(frozen=True)
class Moments:
    """One bleep as the analytics read it."""

    sent_at: datetime
    priority: str
    role: tuple[int, str] | None
    team: tuple[int, str] | None
    ward: tuple[int, str] | None
    zone: str
    delivered_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None
    escalations: int
    furthest_step: int | None
    declines: int
    redirects: int
    reached_switchboard: bool


def analysed_teams(viewer: Person) -> QuerySet[Team] | None:
    """The teams whose roles' bleeps and shifts `viewer` may analyse: None for all (a
    clinical safety officer, or anyone an administrator lets read bleeps' history), the
    teams they manage for a rota manager; AnalyticsNotAllowed for anyone else. The one
    place the rule lives."""
    if viewer.job == Person.Job.AUDITOR or viewer.has_perm("messaging.view_historyentry"):
        return None
    if viewer.job == Person.Job.ROTA_MANAGER:
        return managed_teams(viewer)
    raise AnalyticsNotAllowed()


def visible_bleeps(viewer: Person) -> QuerySet[Bleep]:
    """The bleeps `viewer` may analyse (`analysed_teams`)."""
    teams = analysed_teams(viewer)
    return Bleep.objects.all() if teams is None else Bleep.objects.filter(role__team__in=teams)


def moments(bleeps: QuerySet[Bleep]) -> list[Moments]:
    """Each bleep's moments, in one query."""
    switchboard = Delivery.objects.filter(
        bleep=OuterRef("pk"), recipient__job=Person.Job.SWITCHBOARD
    )
    rows = (
        bleeps.annotate(
            delivered_at=Min("history__at", filter=Q(history__action=Action.DELIVER)),
            read_at=Min("history__at", filter=Q(history__action=Action.READ)),
            acknowledged_at=Min("history__at", filter=Q(history__action=Action.ACKNOWLEDGE)),
            escalations=Count("history", filter=Q(history__action__in=ESCALATING)),
            furthest_step=Max(
                Cast(KeyTextTransform("step", "history__detail"), IntegerField()),
                filter=Q(history__action__in=ESCALATING),
            ),
            declines=Count("history", filter=Q(history__action=Action.DECLINE)),
            redirects=Count("history", filter=Q(history__action=Action.REDIRECT)),
            reached_switchboard=Exists(switchboard),
        )
        .values_list(
            "created_at",
            "priority",
            "role_id",
            "role__name",
            "role__team_id",
            "role__team__name",
            "location_id",
            "location__name",
            "role__site__time_zone",
            "delivered_at",
            "read_at",
            "acknowledged_at",
            "escalations",
            "furthest_step",
            "declines",
            "redirects",
            "reached_switchboard",
        )
        .order_by()
    )
    return [
        Moments(
            sent_at=sent_at,
            priority=priority,
            role=(role_id, role_name) if role_id else None,
            team=(team_id, team_name) if team_id else None,
            ward=(ward_id, ward_name) if ward_id else None,
            zone=zone or settings.TIME_ZONE,
            delivered_at=delivered_at,
            read_at=read_at,
            acknowledged_at=acknowledged_at,
            escalations=escalations,
            furthest_step=furthest_step,
            declines=declines,
            redirects=redirects,
            reached_switchboard=bool(switchboard_reached),
        )
        for (
            sent_at,
            priority,
            role_id,
            role_name,
            team_id,
            team_name,
            ward_id,
            ward_name,
            zone,
            delivered_at,
            read_at,
            acknowledged_at,
            escalations,
            furthest_step,
            declines,
            redirects,
            switchboard_reached,
        ) in rows
    ]


def response_times(
    *,
    viewer: Person,
    start: datetime,
    end: datetime,
    by: str,
    priority: str | None = None,
) -> list[Group]:
    """The bleeps sent from `start` to `end` that `viewer` may see, grouped `by` one of
    DIMENSIONS, each group with its timings and counts, in the dimension's order."""
    if by not in DIMENSIONS:
        raise ValueError(f"group by one of {', '.join(DIMENSIONS)}")
    bleeps = visible_bleeps(viewer).filter(created_at__gte=start, created_at__lt=end)
    if priority:
        bleeps = bleeps.filter(priority=priority)
    grouped: dict[tuple[object, str], list[Moments]] = defaultdict(list)
    for bleep in moments(bleeps):
        grouped[KEYS[by](bleep)].append(bleep)
    return [_group(key, name, rows) for (key, name), rows in sorted(grouped.items(), key=_order)]


def _order(item: tuple[tuple[object, str], list[Moments]]) -> tuple[str, object]:
    key = item[0][0]
    return (type(key).__name__, key)


def _local(bleep: Moments) -> datetime:
    return bleep.sent_at.astimezone(ZoneInfo(bleep.zone))


def _named(pair: tuple[int, str] | None) -> tuple[object, str]:
    return (pair[0], pair[1]) if pair else (0, "none")


def _daynight(bleep: Moments) -> tuple[object, str]:
    hour = _local(bleep).hour
    night = hour >= NIGHT_FROM_HOUR or hour < NIGHT_TO_HOUR
    return ("night", "night (20:00–08:00)") if night else ("day", "day (08:00–20:00)")


def _weekday(bleep: Moments) -> tuple[object, str]:
    return ("weekend", "weekend") if _local(bleep).weekday() >= 5 else ("weekday", "weekday")


def _weekhour(bleep: Moments) -> tuple[object, str]:
    local = _local(bleep)
    return (local.weekday() * 24 + local.hour, f"{DAY_NAMES[local.weekday()]} {local.hour:02d}:00")


def _day(bleep: Moments) -> tuple[object, str]:
    day = _local(bleep).date().isoformat()
    return (day, day)


KEYS: dict[str, Callable[[Moments], tuple[object, str]]] = {
    "role": lambda bleep: _named(bleep.role),
    "team": lambda bleep: _named(bleep.team),
    "ward": lambda bleep: _named(bleep.ward),
    "priority": lambda bleep: (bleep.priority, bleep.priority),
    "hour": lambda bleep: (_local(bleep).hour, f"{_local(bleep).hour:02d}:00"),
    "weekday": _weekday,
    "daynight": _daynight,
    "weekhour": _weekhour,
    "day": _day,
}


def _group(key: object, name: str, rows: list[Moments]) -> Group:
    return Group(
        key=str(key),
        name=name,
        bleeps=len(rows),
        delivered=timing(r.delivered_at - r.sent_at for r in rows if r.delivered_at),
        read=timing(r.read_at - r.sent_at for r in rows if r.read_at),
        acknowledged=timing(r.acknowledged_at - r.sent_at for r in rows if r.acknowledged_at),
        escalated=sum(1 for r in rows if r.escalations),
        escalated_to_step={
            str(step): count
            for step, count in sorted(
                Counter(r.furthest_step for r in rows if r.furthest_step).items()
            )
        },
        declined=sum(1 for r in rows if r.declines),
        redirected=sum(1 for r in rows if r.redirects),
        reached_switchboard=sum(1 for r in rows if r.reached_switchboard),
    )


def timing(durations: Iterable[object]) -> Timing:
    """Count, median, 90th centile (linear between the nearest ranks) and maximum, in
    seconds, rounded to tenths."""
    seconds = sorted(max(d.total_seconds(), 0.0) for d in durations)  # type: ignore[attr-defined]
    if not seconds:
        return Timing(count=0, median=None, p90=None, max=None)
    return Timing(
        count=len(seconds),
        median=round(statistics.median(seconds), 1),
        p90=round(centile(seconds, 0.9), 1),
        max=round(seconds[-1], 1),
    )


def centile(ordered: list[float], fraction: float) -> float:
    """The centile of sorted `ordered`, linear between the nearest ranks (PostgreSQL's
    percentile_cont, so the database could take this over unchanged)."""
    position = fraction * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


HISTORY_COLUMNS = [
    "at",
    "bleep",
    "priority",
    "role",
    "action",
    "from_status",
    "to_status",
    "actor",
    "recipient",
    "device",
]
GROUP_COLUMNS = [
    "key",
    "name",
    "bleeps",
    *(
        f"{moment}_{figure}"
        for moment in ("delivered", "read", "acknowledged")
        for figure in ("count", "median_s", "p90_s", "max_s")
    ),
    "escalated",
    "escalated_to_step",
    "declined",
    "redirected",
    "reached_switchboard",
]
EXPORT_CHUNK = 2000


def group_rows(groups: list[Group]) -> Iterator[list[object]]:
    """The groups as CSV rows under GROUP_COLUMNS, a header first."""
    yield list(GROUP_COLUMNS)
    for group in groups:
        timings = [group.delivered, group.read, group.acknowledged]
        yield [
            group.key,
            group.name,
            group.bleeps,
            *(value for t in timings for value in (t.count, t.median, t.p90, t.max)),
            group.escalated,
            " ".join(f"{step}:{count}" for step, count in group.escalated_to_step.items()),
            group.declined,
            group.redirected,
            group.reached_switchboard,
        ]


def history_rows(*, viewer: Person, start: datetime, end: datetime) -> Iterator[list[object]]:
    """The history of the bleeps `viewer` may analyse, each entry made in the period, as CSV
    rows under HISTORY_COLUMNS (a header first), read from the database a chunk at a time so
    a year's export never sits whole in memory. No message or patient detail: what moved,
    when, and who moved it."""
    entries = (
        HistoryEntry.objects.filter(
            bleep__in=visible_bleeps(viewer).values("pk"), at__gte=start, at__lt=end
        )
        .order_by("at", "pk")
        .values_list(
            "at",
            "bleep_id",
            "bleep__priority",
            "bleep__role__name",
            "action",
            "from_status",
            "to_status",
            "actor__username",
            "delivery__recipient__username",
            "device_id",
        )
    )
    yield list(HISTORY_COLUMNS)
    for at, *rest in entries.iterator(chunk_size=EXPORT_CHUNK):
        yield [at.isoformat(), *("" if value is None else value for value in rest)]


@dataclass(frozen=True)
class Load:
    """One person's interruptions: bleeps that reached them while the period ran, the hours
    they were on call in it, and bleeps per hour on call."""

    person_id: int
    name: str
    bleeps: int
    hours_on_call: float
    per_hour: float | None


def interruption_load(*, viewer: Person, start: datetime, end: datetime) -> list[Load]:
    """Each person on call in the period (in `viewer`'s scope), busiest per hour first."""
    bleeps = visible_bleeps(viewer).filter(created_at__gte=start, created_at__lt=end)
    received = dict(
        Delivery.objects.filter(bleep__in=bleeps.values("pk"))
        .values_list("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    shifts = Shift.objects.filter(start__lt=end, end__gt=start)
    teams = analysed_teams(viewer)
    if teams is not None:
        shifts = shifts.filter(role__team__in=teams)
    hours: dict[int, float] = defaultdict(float)
    names: dict[int, str] = {}
    for shift in shifts.select_related("person"):
        held = min(shift.end, end) - max(shift.start, start)
        hours[shift.person_id] += held.total_seconds() / 3600
        names[shift.person_id] = str(shift.person)
    rows = [
        Load(
            person_id=person_id,
            name=names[person_id],
            bleeps=received.get(person_id, 0),
            hours_on_call=round(on_call, 1),
            per_hour=round(received.get(person_id, 0) / on_call, 2) if on_call else None,
        )
        for person_id, on_call in hours.items()
    ]
    return sorted(rows, key=lambda row: (-(row.per_hour or 0), row.name))
