"""Bleeps as a whole: send one to whoever holds its role, cancel it, remind its recipients."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bleep import metrics
from bleep.runtime.orm import prefetch_known
from messaging import events
from messaging.actions import WIDENINGS, Action
from messaging.exceptions import NotTheSender
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    HistoryEntry,
    Priority,
    TeamCall,
)
from messaging.selectors import access_bleep, load_bleep
from messaging.services.history import (
    history_entry,
    move_bleep,
    move_delivery,
    participants,
    record,
    record_all,
)
from messaging.services.stream import append_events, retry_on_conflict, stream_transaction
from messaging.states import (
    BLEEP_TRANSITIONS,
    DELIVERY_TRANSITIONS,
    WAITING,
    allows,
    next_status,
)
from rota.models import Location, Person, Role
from rota.selectors import resolve_role

# Why a reminder step was skipped, in the bleep's history.
NOBODY_TO_REMIND = "nobody waiting to remind"


@dataclass(frozen=True, kw_only=True)
class BleepDraft:
    """What a sender writes: whom to reach (a role or a person by name) and the message.

    A draft without a target is a template, as a team call uses for each of its roles.
    """

    role: Role | None = None
    person: Person | None = None
    message: str
    priority: Priority = Priority.ROUTINE
    location: Location | None = None
    bed: str = ""
    callback_extension: str = ""
    nhs_number: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class Recipients:
    """Who a draft reaches now, each with the role they are reached as (none for a person)."""

    answering_role: Role | None
    people: list[tuple[Person, Role | None]]
    via_fallback: bool = False


def resolve_recipients(*, draft: BleepDraft, at: datetime) -> Recipients:
    """Return who a draft reaches at `at`: the role's holders (or its fallback's), or the person."""
    if draft.role is None:
        assert draft.person is not None
        return Recipients(answering_role=None, people=[(draft.person, None)])
    resolution = resolve_role(role=draft.role, at=at)
    return Recipients(
        answering_role=resolution.answering,
        people=[(holder, resolution.answering) for holder in resolution.holders],
        via_fallback=resolution.via_fallback,
    )


def create_bleep(
    *,
    sender: Person,
    device: Device | None,
    draft: BleepDraft,
    now: datetime,
    team_call: TeamCall | None = None,
) -> Bleep:
    """Resolve who the draft reaches now, store the bleep with one delivery each, tell them.

    Owns its transaction: the bleep, its deliveries, history and events commit together,
    before anything is sent to a device. Inside a caller's transaction it takes no
    savepoint of its own: a failure here fails the caller's whole transaction.
    """
    if (draft.role is None) == (draft.person is None):
        raise ValueError("a bleep goes to exactly one role or one person")
    recipients = resolve_recipients(draft=draft, at=now)
    with stream_transaction(savepoint=False):
        bleep = Bleep.objects.create(
            sender=sender,
            sender_device=device,
            role=draft.role,
            person=draft.person,
            team_call=team_call,
            answering_role=recipients.answering_role,
            priority=draft.priority,
            message=draft.message,
            location=draft.location,
            bed=draft.bed,
            callback_extension=draft.callback_extension,
            nhs_number=draft.nhs_number,
            idempotency_key=draft.idempotency_key,
            created_at=now,
        )
        deliveries = Delivery.objects.bulk_create(
            _new_deliveries(bleep=bleep, people=recipients.people, already=set(), now=now)
        )
        sent = history_entry(
            bleep=bleep,
            actor=sender,
            device=device,
            action=Action.SEND,
            to_status=bleep.status,
            now=now,
            detail={"via_fallback": recipients.via_fallback},
        )
        record_all(
            [sent, *_delivery_entries(deliveries, actor=sender, device=device, action=Action.SEND)]
        )
        metrics.count_sent(priority=bleep.priority)
        # The rows just written are the bleep's deliveries: readers of `bleep.deliveries`
        # (its events, its answer to the sender) need not read them back.
        prefetch_known(bleep, "deliveries", deliveries)
        append_events(user_ids=participants(bleep), event=events.bleep_created(bleep), now=now)
    return bleep


def add_deliveries(
    *,
    bleep: Bleep,
    people: Sequence[tuple[Person, Role | None]],
    actor: Person | None,
    device: Device | None,
    now: datetime,
    action: Action = Action.SEND,
) -> list[Delivery]:
    """Give each person not yet in the bleep their own copy; runs in the caller's transaction."""
    already = set(bleep.deliveries.values_list("recipient_id", flat=True))
    added = Delivery.objects.bulk_create(
        _new_deliveries(bleep=bleep, people=people, already=already, now=now)
    )
    record_all(_delivery_entries(added, actor=actor, device=device, action=action))
    return added


def _new_deliveries(
    *,
    bleep: Bleep,
    people: Sequence[tuple[Person, Role | None]],
    already: set[int],
    now: datetime,
) -> list[Delivery]:
    """Return one unsaved delivery for each person not in `already`, each person once."""
    fresh: dict[int, Delivery] = {}
    for person, role in people:
        if person.pk not in already and person.pk not in fresh:
            fresh[person.pk] = Delivery(bleep=bleep, recipient=person, role=role, updated_at=now)
    return list(fresh.values())


def _delivery_entries(
    deliveries: Sequence[Delivery], *, actor: Person | None, device: Device | None, action: Action
) -> list[HistoryEntry]:
    return [
        history_entry(
            bleep=delivery.bleep,
            delivery=delivery,
            actor=actor,
            device=device,
            action=action,
            to_status=delivery.status,
            now=delivery.updated_at,
        )
        for delivery in deliveries
    ]


@retry_on_conflict
def cancel_bleep(*, actor: Person, device: Device | None, bleep_id: int, now: datetime) -> Bleep:
    """Cancel an open bleep (its sender, or switchboard): no one is bleeped about it again.

    Owns its transaction and locks the bleep, then its deliveries by pk; retried whole on a
    deadlock.
    """
    with stream_transaction():
        bleep = access_bleep(actor, bleep_id)
        if bleep.sender_id != actor.pk and actor.job != Person.Job.SWITCHBOARD:
            raise NotTheSender()
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.CANCEL)
        for delivery in bleep.deliveries.select_for_update().order_by("pk"):
            if allows(DELIVERY_TRANSITIONS, DeliveryStatus(delivery.status), Action.CANCEL):
                move_delivery(
                    delivery=delivery, device=device, action=Action.CANCEL, now=now, actor=actor
                )
        move_bleep(bleep=bleep, actor=actor, device=device, action=Action.CANCEL, now=now)
        append_events(
            user_ids=participants(bleep), event=events.bleep_cancelled(bleep, by=actor), now=now
        )
    return bleep


def renotify_bleep(*, bleep: Bleep, step: int, now: datetime) -> list[int]:
    """Remind everyone still waiting on an open bleep; return whom. In the caller's transaction.

    Who declined is not reminded: they said why they cannot come, and escalation goes on.
    With nobody left waiting the reminder is skipped: the history says so, nobody is told.
    """
    waiting = list(
        bleep.deliveries.filter(status__in=WAITING).values_list("recipient_id", flat=True)
    )
    action = Action.RENOTIFY if waiting else Action.SKIP
    next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), action)
    record(
        bleep=bleep,
        actor=None,
        device=None,
        action=action,
        from_status=bleep.status,
        to_status=bleep.status,
        now=now,
        detail={"step": step} if waiting else {"step": step, "reason": NOBODY_TO_REMIND},
    )
    if not waiting:
        return []
    append_events(
        user_ids=[*waiting, bleep.sender_id],
        event=events.bleep_renotified(bleep, step=step),
        now=now,
    )
    return waiting


def widen_bleep(
    *,
    bleep: Bleep,
    people: Sequence[tuple[Person, Role | None]],
    action: Action,
    now: datetime,
    step: int | None = None,
    actor: Person | None = None,
    device: Device | None = None,
) -> list[Delivery]:
    """Bring more people into an open bleep and show everyone in it; in the caller's transaction.

    `action` says why: `escalate`, `notify_switchboard`, `broadcast_team` (an escalation
    step, or switchboard's hand when `actor` is set), `handover` (the role's next holder
    came on shift) or `redirect` (switchboard sent it elsewhere). Returns the new
    deliveries; with nobody new to bring in, nothing is recorded or sent.
    """
    if action not in WIDENINGS:
        raise ValueError(f"{action} does not bring people into a bleep")
    next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), action)
    added = add_deliveries(
        bleep=bleep, people=people, actor=actor, device=device, now=now, action=action
    )
    if not added:
        return []
    record(
        bleep=bleep,
        actor=actor,
        device=device,
        action=action,
        from_status=bleep.status,
        to_status=bleep.status,
        now=now,
        detail={"step": step, "added": [delivery.recipient_id for delivery in added]},
    )
    widened = load_bleep(bleep.pk)
    event = events.bleep_widened(widened, action=action, step=step, added=added, by=actor)
    append_events(user_ids=participants(widened), event=event, now=now)
    return added
