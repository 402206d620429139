"""Shift changes: an open bleep to a role passes to whoever holds the role now."""

import logging
from datetime import datetime

from escalation.services.pushing import push_to
from messaging.actions import Action
from messaging.models import Bleep, BleepStatus
from messaging.services.bleeps import widen_bleep
from messaging.services.stream import stream_transaction
from messaging.states import BLEEP_TRANSITIONS, allows, moves_by
from rota.exceptions import NoHolderInChain
from rota.models import Person, Role
from rota.selectors import resolve_role

logger = logging.getLogger(__name__)

# The states a bleep may be handed over in (only `open`), read once from its table.
HANDED_OVER_FROM = list(moves_by(BLEEP_TRANSITIONS, Action.HANDOVER))


def hand_over_open_bleeps(*, now: datetime) -> int:
    """Bring each role's holders now into its open bleeps that lack them; return how many joined.

    The outgoing holder keeps their copy, so both see the bleep until one answers. A role
    with nobody on shift now hands over along its fallback chain, as a new bleep would go.
    Each bleep is changed under its own lock, so workers doing this at once add nobody twice.
    """
    role_ids = (
        Bleep.objects.filter(status__in=HANDED_OVER_FROM, role__isnull=False)
        .values_list("role_id", flat=True)
        .distinct()
    )
    joined = 0
    for role in Role.objects.filter(pk__in=list(role_ids)).select_related("fallback"):
        try:
            resolution = resolve_role(role=role, at=now)
        except NoHolderInChain:
            logger.error("nobody holds %s or its fallback chain; its open bleeps stay", role)
            continue
        people = [(holder, resolution.answering) for holder in resolution.holders]
        for bleep_id in _open_bleeps_missing(role=role, holder_ids=[p.pk for p, _ in people]):
            joined += _hand_over(bleep_id=bleep_id, people=people, now=now)
    return joined


def _hand_over(*, bleep_id: int, people: list[tuple[Person, Role]], now: datetime) -> int:
    with stream_transaction():
        bleep = (
            Bleep.objects.select_for_update(of=("self",)).select_related("plan").get(pk=bleep_id)
        )
        # Answered or withdrawn since it was listed: it stays with whoever it reached.
        if not allows(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.HANDOVER):
            return 0
        added = widen_bleep(bleep=bleep, people=people, action=Action.HANDOVER, now=now)
        newcomers = [delivery.recipient_id for delivery in added]
        push_to(bleep=bleep, plan=bleep.plan, recipient_ids=newcomers, kind="new", now=now)
    return len(added)


def _open_bleeps_missing(*, role: Role, holder_ids: list[int]) -> list[int]:
    bleeps = Bleep.objects.filter(status__in=HANDED_OVER_FROM, role=role)
    missing: set[int] = set()
    for holder_id in holder_ids:
        missing.update(
            bleeps.exclude(deliveries__recipient_id=holder_id).values_list("pk", flat=True)
        )
    return sorted(missing)
