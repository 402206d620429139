"""Firing due deadlines: each step of a bleep's plan runs once, then the next is set."""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from bleep import metrics
from escalation.models import BleepPlan, Deadline, StepAction, WorkerHeartbeat
from escalation.plans import PlanStep, in_tail, step_of_plan
from escalation.services.pushing import push_to
from messaging.actions import Action
from messaging.models import Bleep, BleepStatus
from messaging.services.bleeps import renotify_bleep, widen_bleep
from messaging.services.stream import retry_on_conflict, store_events, stream_transaction
from messaging.states import BLEEP_TRANSITIONS, allows
from rota.models import Person, Role
from rota.selectors import holders_at, resolve_role, switchboard_for

logger = logging.getLogger(__name__)

# Deadlines one worker claims per transaction; the rest wait for its next turn or another worker.
CLAIM_BATCH = 50
# A step whose firing raised is tried again this long after: soon, without a failing step
# taking every turn of the worker (it stays late, and the watchdog sees it).
STEP_RETRY_AFTER = timedelta(seconds=2)


@retry_on_conflict
def fire_due_deadlines(*, now: datetime, clock: Callable[[], datetime] | None = None) -> int:
    """Claim due deadlines, run each step once and set the next; return how many fired.

    Owns its transaction: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED on
    PostgreSQL, so any number of workers share the work and none runs a step twice; the
    unique (bleep, step) row is the guard if anything else ever tried. Each step runs in a
    savepoint of its own: one that raises is rolled back alone, logged, and tried again
    after STEP_RETRY_AFTER, while the others commit. The stream heads are taken last; then
    `took_effect_at` is stamped from `clock` (the worker passes the real clock; by default
    `now`), the last statement before COMMIT. Retried whole on a deadlock.
    """
    with stream_transaction():
        # Locking each bleep with its deadline means an acknowledgement either commits first
        # (and the step does nothing) or waits for it: no reminder after someone is coming.
        # A bleep locked by an acknowledgement in progress is skipped until the next turn.
        due = list(
            Deadline.objects.select_for_update(skip_locked=True, of=("self", "bleep"))
            .select_related("bleep", "bleep__plan")
            .filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))
            .filter(fired_at__isnull=True, due_at__lte=now)
            .order_by("due_at")[:CLAIM_BATCH]
        )
        fired, failed, following = _fire_each(due, now=now)
        Deadline.objects.filter(pk__in=failed).update(retry_at=now + STEP_RETRY_AFTER)
        Deadline.objects.bulk_create(following)
        store_events()
        took_effect_at = clock() if clock is not None else now
        Deadline.objects.filter(pk__in=fired).update(fired_at=now, took_effect_at=took_effect_at)
    # Committed: count them (a retried turn counts only the turn that committed).
    done = set(fired)
    metrics.count_steps_fired(
        due=[d.due_at for d in due if d.pk in done], took_effect_at=took_effect_at
    )
    return len(fired)


def _fire_each(
    due: list[Deadline], *, now: datetime
) -> tuple[list[int], list[int], list[Deadline]]:
    """Fire each claimed step in a savepoint of its own; return the fired, the failed (by pk)
    and the deadlines to set next."""
    fired, failed, following = [], [], []
    for deadline in due:
        try:
            with stream_transaction():
                after = _fire(deadline=deadline, now=now)
        except Exception:
            # One broken step (a bug, bad data) must not hold back the rest of the turn,
            # nor lose them: it alone rolls back and is tried again soon.
            logger.exception(
                "step %d of bleep %d failed; trying it again in %s",
                deadline.step,
                deadline.bleep_id,
                STEP_RETRY_AFTER,
            )
            failed.append(deadline.pk)
            continue
        fired.append(deadline.pk)
        if after is not None:
            following.append(after)
    return fired, failed, following


def _fire(*, deadline: Deadline, now: datetime) -> Deadline | None:
    """Run one due step and return the next deadline to set (none once the bleep is over).

    A step that reached nobody (nobody new to bring in, nobody waiting to remind) brings the
    next one forward to now while the plan still has a step that brings someone in: a
    decline by the last one waiting escalates at once, not an interval later.
    """
    bleep = deadline.bleep
    if not allows(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.FIRE):
        return None
    plan = bleep.plan
    reached = _run_step(bleep=bleep, plan=plan, number=deadline.step, now=now)
    number = deadline.step + 1
    following = step_of_plan(plan.steps, plan.repeat, number)
    # Past the plan's switchboard step there is nobody left to bring in: the tail of
    # reminders keeps its interval rather than spin.
    at_once = not reached and not in_tail(plan.steps, plan.repeat, number)
    return Deadline(bleep=bleep, step=number, due_at=now if at_once else now + following.after)


def _run_step(*, bleep: Bleep, plan: BleepPlan, number: int, now: datetime) -> bool:
    """Run step `number`; return whether it reached anyone (brought in or reminded)."""
    step = step_of_plan(plan.steps, plan.repeat, number)
    people = None
    try:
        if step.action != StepAction.RENOTIFY:
            with transaction.atomic():
                people = _people_for(step=step, bleep=bleep, plan=plan, now=now)
    except Exception:
        # A step that cannot find its people (a rota fault) must not stall the bleep: its
        # recipients are reminded now and the plan goes on to the next step.
        logger.exception("step %d of bleep %d (%s) failed; reminding", number, bleep.pk, step)
        people = None
    if people is not None:
        added = widen_bleep(
            bleep=bleep, people=people, action=Action(step.action), now=now, step=number
        )
        if added:
            newcomers = [delivery.recipient_id for delivery in added]
            push_to(bleep=bleep, plan=plan, recipient_ids=newcomers, kind="escalated", now=now)
            return True
    # Nobody new to reach (already in the bleep, or the top of the chain): remind instead,
    # so every step makes phones ring.
    waiting = renotify_bleep(bleep=bleep, step=number, now=now)
    push_to(bleep=bleep, plan=plan, recipient_ids=waiting, kind="reminder", now=now)
    return bool(waiting)


def _people_for(
    *, step: PlanStep, bleep: Bleep, plan: BleepPlan, now: datetime
) -> list[tuple[Person, Role | None]] | None:
    """Return whom a widening step brings in, or None for a step that only reminds."""
    if step.action == StepAction.ESCALATE:
        return _escalate(step=step, plan=plan, now=now)
    if step.action == StepAction.NOTIFY_SWITCHBOARD:
        return [(person, None) for person in switchboard_for(role=bleep.role, at=now)]
    if step.action == StepAction.BROADCAST_TEAM and step.target_team is not None:
        roles = Role.objects.filter(team_id=step.target_team).order_by("pk")
        return [(person, role) for role in roles for person in holders_at(role=role, at=now)]
    return None


def _escalate(
    *, step: PlanStep, plan: BleepPlan, now: datetime
) -> list[tuple[Person, Role | None]]:
    target = Role.objects.get(pk=step.target_role) if step.target_role else None
    people = reach_role(plan=plan, role=target, now=now)
    if people is None:
        return [(person, None) for person in switchboard_for(role=plan.reached_role, at=now)]
    return people


def reach_role(
    *, plan: BleepPlan, role: Role | None, now: datetime
) -> list[tuple[Person, Role | None]] | None:
    """Return who holds `role` now, or the role one up the chain from the last one reached,
    each with the role they answer as, and record that role as reached on the plan.

    Returns None at the top of the chain. Runs in the caller's transaction; the worker's
    steps and switchboard's hand both escalate through here.
    """
    target = role or (plan.reached_role.fallback if plan.reached_role else None)
    if target is None:
        return None
    resolution = resolve_role(role=target, at=now)
    plan.reached_role = resolution.answering
    plan.save(update_fields=["reached_role"])
    return [(holder, resolution.answering) for holder in resolution.holders]


def beat_heartbeat(*, worker: str, now: datetime) -> WorkerHeartbeat:
    """Record that `worker` is alive at `now`."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(name=worker, defaults={"beat_at": now})
    return heartbeat
