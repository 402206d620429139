"""Reads of escalation state: which policy governs a role, what is due, worker health."""

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Q, QuerySet

from escalation.models import (
    BleepPlan,
    Deadline,
    Policy,
    PolicyStep,
    StepAction,
    WorkerHeartbeat,
)
from escalation.plans import DEFAULT_REPEAT, OVERDUE_AFTER, default_steps, step_of_plan
from messaging.actions import NEXT_STEP_WORDS, PROGRESS_WORDS, Action
from messaging.models import Bleep, Delivery, DeliveryStatus, HistoryEntry, Priority
from rota.models import Person, Role, Site, Team

# A worker beats every few seconds; this long without one means none is running.
HEARTBEAT_STALE_AFTER = timedelta(seconds=30)


def latest_heartbeat(*, now: datetime) -> tuple[datetime | None, bool]:
    """Return the newest worker heartbeat and whether it is recent enough to trust."""
    newest = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if newest is None:
        return None, False
    return newest.beat_at, now - newest.beat_at <= HEARTBEAT_STALE_AFTER


def policy_for(role: Role | None) -> Policy | None:
    """Return the policy governing bleeps to `role`: its own, else its team's, else its site's."""
    if role is None:
        return None
    candidates = Policy.objects.filter(
        Q(role=role) | Q(team_id=role.team_id) | Q(site_id=role.site_id)
    ).prefetch_related("steps")
    by_scope = {"role" if p.role_id else "team" if p.team_id else "site": p for p in candidates}
    return by_scope.get("role") or by_scope.get("team") or by_scope.get("site")


class EffectivePolicy(NamedTuple):
    """The policy governing a role, where it comes from, and its steps in order.

    `policy` is None for the built-in default, whose steps are unsaved rows.
    """

    source: str
    policy: Policy | None
    repeat: int
    steps: list[PolicyStep]


def effective_policy(role: Role) -> EffectivePolicy:
    """Return what a bleep to `role` sent now would escalate by, the default included."""
    policy = policy_for(role)
    if policy is None:
        return EffectivePolicy("default", None, DEFAULT_REPEAT, default_policy_steps())
    return EffectivePolicy(policy_source(policy), policy, policy.repeat, list(policy.steps.all()))


def default_policy_steps() -> list[PolicyStep]:
    """Return the built-in policy as unsaved steps, with every priority's timings."""
    by_priority = {priority: default_steps(priority) for priority in Priority}
    steps = []
    for index, step in enumerate(by_priority[Priority.ROUTINE]):
        waits = {f"after_{p}_seconds": by_priority[p][index].after_seconds for p in Priority}
        steps.append(PolicyStep(position=index + 1, action=step.action, **waits))
    return steps


def policy_source(policy: Policy) -> str:
    """Return the kind of scope a policy has: "role", "team" or "site"."""
    return "role" if policy.role_id else "team" if policy.team_id else "site"


def policy_scope_site(
    *, role: Role | None = None, team: Team | None = None, site: Site | None = None
) -> int | None:
    """Return the id of the site a scope (the first of role, team, site given) is on."""
    if role is not None:
        return role.site_id
    if team is not None:
        return team.site_id
    return site.pk if site is not None else None


def policies_within(
    *, role: Role | None = None, team: Team | None = None, site: Site | None = None
) -> QuerySet[Policy]:
    """Return the policies whose scope is inside the filters given (all of them if none).

    A team's include its roles' own; a site's include its teams' and roles'.
    """
    policies = Policy.objects.order_by("pk")
    if role is not None:
        policies = policies.filter(role=role)
    if team is not None:
        policies = policies.filter(Q(team=team) | Q(role__team=team))
    if site is not None:
        policies = policies.filter(Q(site=site) | Q(team__site=site) | Q(role__site=site))
    return policies.prefetch_related("steps")


def next_deadline_due() -> datetime | None:
    """Return when the soonest pending deadline may be fired, if any.

    A step whose firing failed may be fired again from its `retry_at`, not its `due_at`.
    """
    pending = Deadline.objects.filter(fired_at__isnull=True)
    # Two walks of two partial indexes, each stopping at its first row.
    first = pending.filter(retry_at__isnull=True).order_by("due_at").values("due_at").first()
    retry = pending.filter(retry_at__isnull=False).order_by("retry_at").values("retry_at").first()
    candidates = [first["due_at"] if first else None, retry["retry_at"] if retry else None]
    return min((when for when in candidates if when is not None), default=None)


def overdue_deadlines(*, older_than: datetime) -> tuple[int, datetime | None]:
    """Return how many pending deadlines fell due before `older_than`, and the oldest's due."""
    overdue = Deadline.objects.filter(fired_at__isnull=True, due_at__lt=older_than)
    oldest = overdue.order_by("due_at").values("due_at").first()
    if oldest is None:
        return 0, None
    return overdue.count(), oldest["due_at"]


def overdue_at(bleep: Bleep) -> datetime:
    """Return when an open bleep counts as overdue on the board (escalation.plans)."""
    return bleep.created_at + OVERDUE_AFTER[Priority(bleep.priority)]


def count_overdue(bleeps: QuerySet[Bleep], *, now: datetime) -> int:
    """Return how many of `bleeps` are overdue at `now`: one COUNT, whatever their number."""
    late = Q()
    for priority, after in OVERDUE_AFTER.items():
        late |= Q(priority=priority, created_at__lt=now - after)
    return bleeps.filter(late).count()


class FiredStep(NamedTuple):
    """One thing an escalation did: a step of its plan, or switchboard's hand.

    `reached` names the roles it brought in ("switchboard" for operators brought in as
    themselves); a reminder brings nobody in.
    """

    action: str
    at: datetime
    after_seconds: int
    reached: list[str]


class Progress(NamedTuple):
    """How far a bleep's escalation has gone: what happened, in words, and what comes next.

    `steps_fired` counts the plan's steps done and stops at `steps_planned`: past the plan
    come only switchboard (if it is not in yet) and reminders, which `so_far` and `summary`
    tell.
    """

    steps_fired: int
    steps_planned: int
    next_action: str | None
    next_due_at: datetime | None
    reached_role: Role | None
    so_far: list[FiredStep]
    summary: str


# What the board tells of an escalation, in order: each action that reached people.
TOLD = (
    Action.RENOTIFY,
    Action.ESCALATE,
    Action.NOTIFY_SWITCHBOARD,
    Action.BROADCAST_TEAM,
    Action.HANDOVER,
    Action.REDIRECT,
)


def escalation_progress(bleep_ids: list[int]) -> dict[int, Progress]:
    """Return each bleep's escalation progress, read from its plan, deadlines and history.

    Four queries whatever the number of bleeps; a bleep without a plan is left out.
    """
    plans = list(
        BleepPlan.objects.filter(bleep_id__in=bleep_ids).select_related(
            "bleep", "reached_role__team"
        )
    )
    pending = {
        deadline.bleep_id: deadline
        for deadline in Deadline.objects.filter(bleep_id__in=bleep_ids, fired_at__isnull=True)
    }
    roles, switchboard_in = _who_is_in(bleep_ids)
    so_far = _fired_steps({plan.bleep_id: plan.bleep.created_at for plan in plans}, roles)
    progress = {}
    for plan in plans:
        deadline = pending.get(plan.bleep_id)
        action = _next_action(plan, deadline, switchboard_in=plan.bleep_id in switchboard_in)
        steps = so_far.get(plan.bleep_id, [])
        planned = len(plan.steps) * (plan.repeat + 1)
        progress[plan.bleep_id] = Progress(
            steps_fired=min(deadline.step - 1, planned) if deadline else 0,
            steps_planned=planned,
            next_action=str(action) if action else None,
            next_due_at=deadline.due_at if deadline else None,
            reached_role=plan.reached_role,
            so_far=steps,
            summary=_story(plan.bleep, steps, action, deadline.due_at if deadline else None),
        )
    return progress


def _who_is_in(bleep_ids: list[int]) -> tuple[dict[tuple[int, int], str], set[int]]:
    """Return the role each recipient answers each bleep as (by bleep and person), and
    which bleeps switchboard is in."""
    roles: dict[tuple[int, int], str] = {}
    switchboard_in: set[int] = set()
    for copy in Delivery.objects.filter(bleep_id__in=bleep_ids).values(
        "bleep_id", "recipient_id", "recipient__job", "role__name", "status"
    ):
        operator = copy["recipient__job"] == Person.Job.SWITCHBOARD
        if copy["role__name"] or operator:
            roles[copy["bleep_id"], copy["recipient_id"]] = copy["role__name"] or "switchboard"
        if operator and copy["status"] != DeliveryStatus.CANCELLED:
            switchboard_in.add(copy["bleep_id"])
    return roles, switchboard_in


def _fired_steps(
    sent_at: dict[int, datetime], roles: dict[tuple[int, int], str]
) -> dict[int, list[FiredStep]]:
    """Return what each bleep (by id, with when it was sent) has had its escalation do,
    oldest first, from its history."""
    fired: dict[int, list[FiredStep]] = {}
    entries = HistoryEntry.objects.filter(
        bleep_id__in=list(sent_at), delivery=None, action__in=[str(action) for action in TOLD]
    )
    for entry in entries.order_by("at", "pk"):
        added = entry.detail.get("added") or []
        reached = sorted(
            {roles[entry.bleep_id, pk] for pk in added if (entry.bleep_id, pk) in roles}
        )
        after = max(0, int((entry.at - sent_at[entry.bleep_id]).total_seconds()))
        fired.setdefault(entry.bleep_id, []).append(
            FiredStep(action=entry.action, at=entry.at, after_seconds=after, reached=reached)
        )
    return fired


def _next_action(
    plan: BleepPlan, deadline: Deadline | None, *, switchboard_in: bool
) -> StepAction | None:
    """Return what the pending step will do, as the worker will run it."""
    if deadline is None:
        return None
    action = step_of_plan(plan.steps, plan.repeat, deadline.step).action
    if action == StepAction.NOTIFY_SWITCHBOARD and switchboard_in:
        # Switchboard is in already: the step will remind instead (escalation.services.firing).
        return StepAction.RENOTIFY
    return action


def _story(
    bleep: Bleep, so_far: list[FiredStep], next_action: str | None, next_due_at: datetime | None
) -> str:
    """Tell an escalation in words, times from the send: "reminded at 2 min, Consultant
    added at 4 min, switchboard in since 6 min; next: remind at 8 min"."""
    parts: list[str] = []
    reminders: list[FiredStep] = []

    def flush() -> None:
        if reminders:
            when = after_send(reminders[-1].after_seconds)
            many = f"reminded {len(reminders)} times, last at {when}"
            parts.append(many if len(reminders) > 1 else f"reminded at {when}")
            reminders.clear()

    for step in so_far:
        if step.action == Action.RENOTIFY:
            reminders.append(step)
            continue
        flush()
        parts.append(
            PROGRESS_WORDS[Action(step.action)].format(
                when=after_send(step.after_seconds),
                role=" and ".join(step.reached) or "the next role",
            )
        )
    flush()
    told = ", ".join(parts) or "no step yet"
    if next_action is None or next_due_at is None:
        return told
    coming = NEXT_STEP_WORDS[Action(next_action)]
    wait = max(0, int((next_due_at - bleep.created_at).total_seconds()))
    return f"{told}; next: {coming} at {after_send(wait)}"


def after_send(seconds: int) -> str:
    """Return a time after the send as the board says it: "40 s", "6 min"."""
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min"
