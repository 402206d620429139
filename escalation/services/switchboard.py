"""Switchboard's hands on an open bleep: escalate it now, or redirect it elsewhere."""

from datetime import datetime

from escalation.exceptions import invalid
from escalation.services.firing import reach_role
from escalation.services.pushing import push_to
from messaging.actions import Action
from messaging.exceptions import BleepNotFound, NotAnOperator
from messaging.models import Bleep, BleepStatus, Delivery, DeliveryStatus, Device
from messaging.services.bleeps import widen_bleep
from messaging.services.history import move_delivery
from messaging.services.stream import retry_on_conflict, stream_transaction
from messaging.states import BLEEP_TRANSITIONS, WAITING, next_status
from rota.models import Person, Role
from rota.permissions import is_switchboard


@retry_on_conflict
def escalate_bleep(
    *, actor: Person, device: Device | None, bleep_id: int, role: Role | None, now: datetime
) -> list[Delivery]:
    """Bring `role`'s holders (else the next role up the chain) into an open bleep now.

    Owns its transaction and locks the bleep, as a worker's step does, so the two never
    bring the same people in twice; retried whole on a deadlock. Everyone already in the
    bleep keeps their copy, and the escalation clock runs on from the role reached. Returns
    the new deliveries.
    """
    _require_switchboard(actor)
    with stream_transaction():
        bleep = _lock_open_bleep(bleep_id=bleep_id, action=Action.ESCALATE)
        plan = bleep.plan
        people = reach_role(plan=plan, role=role, now=now)
        if people is None:
            raise invalid("role", "nothing is above this bleep's role on its chain: name a role")
        added = widen_bleep(
            bleep=bleep, people=people, action=Action.ESCALATE, now=now, actor=actor, device=device
        )
        if not added:
            raise invalid("role", f"everyone holding {plan.reached_role} is in this bleep")
        newcomers = [delivery.recipient_id for delivery in added]
        push_to(bleep=bleep, plan=plan, recipient_ids=newcomers, kind="escalated", now=now)
    return added


@retry_on_conflict
def redirect_bleep(
    *,
    actor: Person,
    device: Device | None,
    bleep_id: int,
    role: Role | None = None,
    person: Person | None = None,
    now: datetime,
) -> list[Delivery]:
    """Send an open bleep to another role (its holders now) or person instead of its own.

    Owns its transaction and locks the bleep, then the deliveries it releases by pk;
    retried whole on a deadlock. The copies of those still waiting elsewhere (and
    switchboard's, if it took the bleep on) are cancelled and the newcomers brought in
    together, so the bleep is never without someone to answer it. Escalation climbs from
    the new role (to switchboard, for a person). Returns the new deliveries.
    """
    if (role is None) == (person is None):
        raise ValueError("a bleep is redirected to exactly one role or one person")
    _require_switchboard(actor)
    with stream_transaction():
        bleep = _lock_open_bleep(bleep_id=bleep_id, action=Action.REDIRECT)
        if person is not None:
            people: list[tuple[Person, Role | None]] = [(person, None)]
            bleep.plan.reached_role = None
            bleep.plan.save(update_fields=["reached_role"])
        else:
            # A named role always resolves: its fallback chain ends at switchboard.
            people = reach_role(plan=bleep.plan, role=role, now=now) or []
        keep = {holder.pk for holder, _ in people}
        _release_others(bleep=bleep, keep=keep, actor=actor, device=device, now=now)
        added = widen_bleep(
            bleep=bleep, people=people, action=Action.REDIRECT, now=now, actor=actor, device=device
        )
        if not added:
            raise invalid("role" if role else "person", "already in this bleep")
        newcomers = [delivery.recipient_id for delivery in added]
        push_to(bleep=bleep, plan=bleep.plan, recipient_ids=newcomers, kind="new", now=now)
    return added


def _require_switchboard(actor: Person) -> None:
    """Refuse anyone but a switchboard operator: the service checks its actor itself, so
    the socket, a command or the admin cannot skip the rule the REST view also applies."""
    if not is_switchboard(actor):
        raise NotAnOperator()


def _lock_open_bleep(*, bleep_id: int, action: Action) -> Bleep:
    bleep = (
        Bleep.objects.select_for_update(of=("self",))
        .select_related("plan__reached_role__fallback", "role")
        .filter(pk=bleep_id)
        .first()
    )
    if bleep is None:
        raise BleepNotFound()
    next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), action)
    return bleep


# Redirecting releases those still waiting and switchboard's own take-on: the bleep is
# someone else's now, and a copy left "handling" would tell the sender switchboard still is.
RELEASED_BY_REDIRECT = (*WAITING, DeliveryStatus.HANDLING)


def _release_others(
    *, bleep: Bleep, keep: set[int], actor: Person, device: Device | None, now: datetime
) -> None:
    """Cancel the copies still open outside `keep`: they are no longer asked to act on it."""
    waiting = (
        bleep.deliveries.select_for_update()
        .filter(status__in=RELEASED_BY_REDIRECT)
        .exclude(recipient_id__in=keep)
        .order_by("pk")
    )
    for delivery in waiting:
        move_delivery(
            delivery=delivery,
            device=device,
            action=Action.CANCEL,
            now=now,
            actor=actor,
            reason="redirected",
        )
