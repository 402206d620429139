"""A recipient's answers to a bleep: receipts, acknowledge, decline, switchboard taking it on,
and replies in its thread."""

from datetime import datetime

from bleep import metrics
from messaging import events
from messaging.actions import Action
from messaging.exceptions import (
    AlreadyAcknowledged,
    IllegalTransition,
    NotARecipient,
    NotSwitchboard,
    SwitchboardCannotAcknowledge,
)
from messaging.models import Bleep, BleepStatus, Delivery, DeliveryStatus, Device, Reply
from messaging.selectors import access_bleep, access_delivery, load_bleep
from messaging.services import reachability
from messaging.services.history import move_bleep, move_delivery, participants
from messaging.services.stream import append_events, retry_on_conflict, stream_transaction
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, allows, next_status
from rota.models import Person


@retry_on_conflict
def record_receipt(*, device: Device, bleep_id: int, action: Action, now: datetime) -> Delivery:
    """Move the device owner's delivery on by a `deliver` or `read` receipt and tell the sender.

    Owns its transaction and locks the bleep row, then the delivery (the lock order in
    `stream`); retried whole on a deadlock. A receipt for a state already passed (a second
    device confirming receipt) changes nothing.
    """
    with stream_transaction():
        access_delivery(device.user, bleep_id)
        Bleep.objects.select_for_update(of=("self",)).get(pk=bleep_id)
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        # The device's proof that it rings (the check before a shift reads it).
        reachability.note_confirmed(device=device, now=now)
        if not allows(DELIVERY_TRANSITIONS, DeliveryStatus(delivery.status), action):
            return delivery
        if action == Action.DELIVER:
            # Since the copy last moved: its send, or the reminder that woke the phone.
            metrics.count_delivered(
                priority=delivery.bleep.priority, sent_at=delivery.updated_at, at=now
            )
        move_delivery(delivery=delivery, device=device, action=action, now=now)
        append_events(
            user_ids=[delivery.bleep.sender_id, delivery.recipient_id],
            event=events.delivery_updated(delivery),
            now=now,
        )
    return delivery


@retry_on_conflict
def acknowledge_bleep(
    *, device: Device, bleep_id: int, eta_minutes: int | None, comment: str, now: datetime
) -> Delivery:
    """Acknowledge a bleep for its sender and every recipient; the first acknowledgement wins.

    Owns its transaction and locks the bleep row, then the delivery, so of two simultaneous
    acknowledgements exactly one succeeds and the other is told who won; retried whole on a
    deadlock. Switchboard acknowledges only a bleep addressed to switchboard; on a
    clinician's bleep it takes it on (`handle_bleep`).
    """
    with stream_transaction():
        mine = access_delivery(device.user, bleep_id)
        _refuse_switchboard_for_a_clinician(person=device.user, bleep=mine.bleep)
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        _require_acknowledgeable(bleep)
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        delivery.eta_minutes = eta_minutes
        delivery.comment = comment
        move_delivery(delivery=delivery, device=device, action=Action.ACKNOWLEDGE, now=now)
        bleep.acknowledged_by = device.user
        move_bleep(
            bleep=bleep, actor=device.user, device=device, action=Action.ACKNOWLEDGE, now=now
        )
        metrics.count_acknowledged(priority=bleep.priority, sent_at=bleep.created_at, at=now)
        append_events(
            user_ids=participants(bleep), event=events.bleep_acknowledged(delivery), now=now
        )
    return delivery


@retry_on_conflict
def decline_delivery(*, device: Device, bleep_id: int, reason: str, now: datetime) -> Delivery:
    """Decline one's own copy of an open bleep with a reason, and tell everyone in it.

    Owns its transaction and locks the bleep, then the delivery; retried whole on a
    deadlock. The bleep stays open: the escalation policy decides where it goes next, so a
    decline never ends a bleep.
    """
    with stream_transaction():
        access_delivery(device.user, bleep_id)
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.DECLINE)
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        delivery.decline_reason = reason
        move_delivery(
            delivery=delivery, device=device, action=Action.DECLINE, now=now, reason=reason
        )
        append_events(user_ids=participants(bleep), event=events.bleep_declined(delivery), now=now)
    return delivery


@retry_on_conflict
def handle_bleep(*, device: Device, bleep_id: int, note: str, now: datetime) -> Delivery:
    """Take a bleep on for switchboard ("handling: phoning the team") and tell everyone in it.

    Only an operator who was sent the open bleep may. Their copy stops waiting, so they are
    reminded no more, but the bleep stays open and its escalation goes on until a clinician
    acknowledges, the sender cancels or switchboard redirects it. Owns its transaction and
    locks the bleep, then the delivery, as an acknowledgement and a worker's step do: each
    sees the take-on whole or not at all; retried whole on a deadlock.
    """
    with stream_transaction():
        access_delivery(device.user, bleep_id)
        if device.user.job != Person.Job.SWITCHBOARD:
            raise NotSwitchboard()
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.HANDLE)
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        delivery.comment = note
        move_delivery(delivery=delivery, device=device, action=Action.HANDLE, now=now, reason=note)
        handled = load_bleep(bleep_id)
        append_events(
            user_ids=participants(handled),
            event=events.bleep_handling(delivery, handled),
            now=now,
        )
    return delivery


@retry_on_conflict
def reply_to_bleep(*, device: Device, bleep_id: int, text: str, now: datetime) -> Reply:
    """Add a reply to a bleep's thread and show it live to everyone in the bleep.

    Owns its transaction and locks the bleep, so a reply and a cancel never cross: a
    cancelled bleep takes no more replies, and after a cancel nothing more happens to it.
    Retried whole on a deadlock.
    """
    with stream_transaction():
        bleep = access_bleep(device.user, bleep_id)
        locked = Bleep.objects.select_for_update(of=("self",)).get(pk=bleep_id)
        if device.user.job == Person.Job.AUDITOR and device.user.pk not in participants(bleep):
            # An auditor reads every thread; writing in one is for the people in the bleep.
            raise NotARecipient()
        next_status(BLEEP_TRANSITIONS, BleepStatus(locked.status), Action.REPLY)
        reply = Reply.objects.create(
            bleep=bleep, author=device.user, device=device, text=text, created_at=now
        )
        append_events(user_ids=participants(bleep), event=events.bleep_reply(reply), now=now)
    return reply


def _require_acknowledgeable(bleep: Bleep) -> None:
    """Refuse an acknowledgement the table does not allow, naming who won if someone did."""
    try:
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.ACKNOWLEDGE)
    except IllegalTransition:
        # A second acknowledgement is told who is coming, not only that it is too late.
        if bleep.acknowledged_by_id is not None:
            raise AlreadyAcknowledged(by=str(bleep.acknowledged_by)) from None
        raise


def _refuse_switchboard_for_a_clinician(*, person: Person, bleep: Bleep) -> None:
    # An operator is not the clinician the sender needs: their acknowledgement would end the
    # bleep and stop the escalation that is still looking for one (HZ-12).
    if person.job == Person.Job.SWITCHBOARD and not bleep.for_switchboard:
        raise SwitchboardCannotAcknowledge()


def _lock_own_delivery(*, device: Device, bleep_id: int) -> Delivery:
    # Callers have already checked access with `access_delivery`; this only takes the lock.
    # Of the delivery alone: a lock on the recipient's row would hold up (and could deadlock)
    # every bleep sent to them meanwhile, whose rows point at it.
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("bleep", "recipient")
        .get(bleep_id=bleep_id, recipient=device.user)
    )
