"""Sending: a bleep or a team call starts its escalation clock; a decline may move it."""

from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError

from escalation.events import POLL_INTERVAL, wake_workers_on_commit
from escalation.exceptions import invalid
from escalation.models import BleepPlan, Deadline
from escalation.plans import DEFAULT_REPEAT, default_steps, plan_steps, step_of_plan
from escalation.selectors import policy_for, policy_source
from escalation.services.pushing import push_to
from messaging.models import Bleep, Delivery, Device, Priority, TeamCall
from messaging.selectors import find_sent_bleep
from messaging.services import answers, limits
from messaging.services.bleeps import BleepDraft, create_bleep
from messaging.services.stream import retry_on_conflict, stream_transaction
from messaging.states import WAITING
from rota.models import Person, Role, Team


class Sent(NamedTuple):
    """The bleep a send returned, and whether this send created it (not a retry)."""

    bleep: Bleep
    created: bool


@retry_on_conflict
def send_bleep(*, sender: Person, device: Device | None, draft: BleepDraft, now: datetime) -> Sent:
    """Send a bleep to whoever holds its role now and start its escalation clock, atomically.

    Owns its transaction, retried whole on a deadlock, and locks the sender's row first
    (`limits.lock_sender`). Idempotent by the draft's key: the same sender sending the same
    key again, even at the same moment from a retrying phone, gets the first bleep back,
    nobody is bleeped twice and the retry does not count towards the send limit. Past the
    limit a routine or urgent bleep raises `SendLimitReached`; an emergency still goes.
    """
    earlier = _sent_earlier(sender=sender, key=draft.idempotency_key)
    if earlier is not None:
        return Sent(earlier, created=False)
    try:
        with stream_transaction():
            limits.lock_sender(sender=sender)
            # A retry that waited for the lock behind its own first send finds it now.
            earlier = _sent_earlier(sender=sender, key=draft.idempotency_key)
            if earlier is not None:
                return Sent(earlier, created=False)
            refusal = limits.apply_send_limit(sender=sender, priority=draft.priority, now=now)
            if refusal is None:
                bleep = create_bleep(sender=sender, device=device, draft=draft, now=now)
                start_escalation(bleep=bleep, now=now)
                if bleep.role is not None:
                    limits.note_role_flood(role=bleep.role, now=now)
    except IntegrityError:
        earlier = _sent_earlier(sender=sender, key=draft.idempotency_key)
        if earlier is None:
            raise
        return Sent(earlier, created=False)
    if refusal is not None:
        # Raised after commit: the flood alert it raised stands, and nothing else was stored.
        raise refusal
    return Sent(bleep, created=True)


def _sent_earlier(*, sender: Person, key: str) -> Bleep | None:
    return find_sent_bleep(sender=sender, idempotency_key=key) if key else None


def start_escalation(*, bleep: Bleep, now: datetime) -> Deadline:
    """Copy the governing policy onto a new bleep, set its first deadline, and push it.

    Runs in the caller's transaction, so a bleep never exists without its clock.
    """
    priority = Priority(bleep.priority)
    policy = policy_for(bleep.role)
    if policy is None:
        source, steps, repeat = "default", default_steps(priority), DEFAULT_REPEAT
    else:
        source = policy_source(policy)
        steps, repeat = plan_steps(list(policy.steps.all()), priority), policy.repeat
    plan = BleepPlan.objects.create(
        bleep=bleep,
        source=source,
        steps=[step.as_json() for step in steps],
        repeat=repeat,
        reached_role=bleep.answering_role,
    )
    first = step_of_plan(plan.steps, plan.repeat, 1)
    recipients = [delivery.recipient_id for delivery in bleep.deliveries.all()]
    push_to(bleep=bleep, plan=plan, recipient_ids=recipients, kind="new", now=now)
    if first.after < POLL_INTERVAL:
        # Only a step due before the workers' next look needs a hint; each hint is a trip
        # to the event loop on the sender's request.
        wake_workers_on_commit()
    return Deadline.objects.create(bleep=bleep, step=1, due_at=now + first.after)


class TeamCallSent(NamedTuple):
    """The team call a send returned, its bleeps (one per role), and whether it is new."""

    call: TeamCall
    bleeps: list[Bleep]
    created: bool


@retry_on_conflict
def send_team_call(
    *, sender: Person, device: Device | None, team: Team, draft: BleepDraft, now: datetime
) -> TeamCallSent:
    """Call a whole team in an emergency: one emergency bleep to each of its clinical roles.

    `draft` is the message and patient context, without a target.

    Each role's bleep escalates on its own until that role answers, so the call is only
    over when every role has. Owns its transaction, retried whole on a deadlock, and locks
    the sender's row first; idempotent by the draft's key. Never refused by the send limit,
    but counted as one send: past it, or with too many bleeps to a role, switchboard is told.
    """
    key = draft.idempotency_key
    earlier = _team_call_sent(sender=sender, key=key)
    if earlier is not None:
        return earlier
    roles = list(team.roles.filter(kind=Role.Kind.CLINICAL).order_by("pk"))
    if not roles:
        raise invalid("team", "this team has no clinical roles to call")
    try:
        return _call_team(sender=sender, device=device, roles=roles, draft=draft, now=now)
    except IntegrityError:
        # The same key sent twice at once: the other send won and its call is the answer.
        earlier = _team_call_sent(sender=sender, key=key)
        if earlier is None:
            raise
        return earlier


def _team_call_sent(*, sender: Person, key: str) -> TeamCallSent | None:
    earlier = TeamCall.objects.filter(sender=sender, idempotency_key=key).first() if key else None
    if earlier is None:
        return None
    return TeamCallSent(earlier, list(earlier.bleeps.order_by("pk")), created=False)


def _call_team(
    *,
    sender: Person,
    device: Device | None,
    roles: list[Role],
    draft: BleepDraft,
    now: datetime,
) -> TeamCallSent:
    key = draft.idempotency_key
    with stream_transaction():
        limits.lock_sender(sender=sender)
        earlier = _team_call_sent(sender=sender, key=key)
        if earlier is not None:
            return earlier
        # Never refused (an emergency), but counted: past the limit, switchboard is told.
        limits.apply_send_limit(sender=sender, priority=Priority.EMERGENCY, now=now)
        call = TeamCall.objects.create(
            sender=sender, team=roles[0].team, idempotency_key=key, created_at=now
        )
        bleeps = []
        for role in roles:
            one = replace(draft, role=role, priority=Priority.EMERGENCY, idempotency_key="")
            bleep = create_bleep(sender=sender, device=device, draft=one, now=now, team_call=call)
            start_escalation(bleep=bleep, now=now)
            limits.note_role_flood(role=role, now=now)
            bleeps.append(bleep)
    return TeamCallSent(call, bleeps, created=True)


@retry_on_conflict
def decline_bleep(*, device: Device, bleep_id: int, reason: str, now: datetime) -> Delivery:
    """Decline one's copy of a bleep; when nobody is left waiting, escalate now, not later.

    Owns its transaction, retried whole on a deadlock. With nobody left waiting the pending
    step is due at once; a reminder step then finds nobody to remind and brings the next
    step, the one that brings someone in, forward in turn (`firing`). The deadline is taken
    with SKIP LOCKED: a worker holding it is firing that step at this moment, which is what
    bringing it forward would do anyway.
    """
    with stream_transaction():
        delivery = answers.decline_delivery(
            device=device, bleep_id=bleep_id, reason=reason, now=now
        )
        if not Delivery.objects.filter(bleep_id=bleep_id, status__in=WAITING).exists():
            pending = (
                Deadline.objects.select_for_update(skip_locked=True)
                .filter(bleep_id=bleep_id, fired_at__isnull=True, due_at__gt=now)
                .first()
            )
            if pending is not None:
                pending.due_at = now
                pending.save(update_fields=["due_at"])
                wake_workers_on_commit()
    return delivery
