"""Writes of the messaging domain: devices, bleeps, receipts, acknowledgements, events."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import authenticate
from django.db import connection, transaction

from bleep.tokens import digest_token, new_token
from messaging import events
from messaging.exceptions import (
    AlreadyAcknowledged,
    IllegalTransition,
    InvalidCredentials,
    InvalidToken,
    NotTheSender,
)
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    HistoryEntry,
    Priority,
    Reply,
    StreamEvent,
)
from messaging.selectors import access_bleep, access_delivery
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, next_status
from rota.models import Location, Person, Role
from rota.selectors import resolve_role


def sign_in_device(
    *, username: str, password: str, device_name: str, now: datetime
) -> tuple[Device, str]:
    """Check the password and register a new device; return it with its token (shown once)."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    token = new_token()
    device = Device.objects.create(
        user=user,
        name=device_name,
        token_digest=digest_token(token),
        created_at=now,
        last_seen_at=now,
    )
    return device, token


def authenticate_device(*, token: str, now: datetime) -> Device:
    """Return the live device holding `token`, or raise InvalidToken."""
    device = (
        Device.objects.select_related("user")
        .filter(token_digest=digest_token(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if device is None:
        raise InvalidToken()
    if (now - device.last_seen_at).total_seconds() > 60:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


def revoke_device(*, device: Device, now: datetime) -> Device:
    """Revoke a device's token and close its open sockets; the device must sign in again."""
    if device.revoked_at is None:
        device.revoked_at = now
        device.save(update_fields=["revoked_at"])
        events.disconnect_device_on_commit(device.pk)
    return device


def disable_account(*, person: Person, now: datetime) -> Person:
    """Disable a person's account and sign out every device, closing their sockets now.

    Owns its transaction: the account and its devices change together.
    """
    with transaction.atomic():
        person.is_active = False
        person.save(update_fields=["is_active"])
        for device in Device.objects.filter(user=person, revoked_at__isnull=True):
            revoke_device(device=device, now=now)
    return person


def append_events(
    *, user_ids: Iterable[int], event: events.Event, now: datetime
) -> list[StreamEvent]:
    """Store `event` in each person's stream with their next number; publish after commit.

    Runs inside the caller's transaction: the number and the event commit together.
    """
    stored = []
    # Sorted, so two transactions that number the same streams lock them in the same order.
    for user_id in sorted(set(user_ids)):
        seq = _next_seq(user_id)
        stored.append(
            StreamEvent.objects.create(
                user_id=user_id, seq=seq, type=event["type"], data=event, created_at=now
            )
        )
    events.send_events_on_commit(stored)
    return stored


def _next_seq(user_id: int) -> int:
    # Django's ORM has no atomic increment-and-return; this upsert takes the row lock
    # until commit, so numbers are gap-free and commit in order for each person.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messaging_streamhead (user_id, last_seq) VALUES (%s, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET last_seq = messaging_streamhead.last_seq + 1 "
            "RETURNING last_seq",
            [user_id],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class BleepDraft:
    """What a sender writes: the role to reach and the message, before anyone is resolved."""

    role: Role
    message: str
    priority: Priority = Priority.ROUTINE
    location: Location | None = None
    bed: str = ""
    callback_extension: str = ""
    nhs_number: str = ""
    idempotency_key: str = ""


def create_bleep(
    *, sender: Person, device: Device | None, draft: BleepDraft, now: datetime
) -> Bleep:
    """Resolve who holds `role` now, store the bleep with one delivery each, and tell them.

    Owns its transaction: the bleep, its deliveries, history and events commit together,
    before anything is sent to a device.
    """
    resolution = resolve_role(role=draft.role, at=now)
    with transaction.atomic():
        bleep = Bleep.objects.create(
            sender=sender,
            sender_device=device,
            role=draft.role,
            answering_role=resolution.answering,
            priority=draft.priority,
            message=draft.message,
            location=draft.location,
            bed=draft.bed,
            callback_extension=draft.callback_extension,
            nhs_number=draft.nhs_number,
            idempotency_key=draft.idempotency_key,
            created_at=now,
        )
        _record(
            bleep=bleep,
            actor=sender,
            device=device,
            action="send",
            to_status=bleep.status,
            now=now,
            detail={"via_fallback": resolution.via_fallback},
        )
        for holder in resolution.holders:
            delivery = Delivery.objects.create(bleep=bleep, recipient=holder, updated_at=now)
            _record(
                bleep=bleep,
                delivery=delivery,
                actor=sender,
                device=device,
                action="send",
                to_status=delivery.status,
                now=now,
            )
        bleep = Bleep.objects.select_related("role", "answering_role", "sender", "location").get(
            pk=bleep.pk
        )
        append_events(user_ids=_participants(bleep), event=events.bleep_created(bleep), now=now)
    return bleep


def record_receipt(*, device: Device, bleep_id: int, action: str, now: datetime) -> Delivery:
    """Move the device owner's delivery on by a `deliver` or `read` receipt and tell the sender.

    Owns its transaction and locks the delivery row. A receipt for a state already passed
    (a second device confirming receipt) changes nothing.
    """
    with transaction.atomic():
        access_delivery(device.user, bleep_id)
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        if (DeliveryStatus(delivery.status), action) not in DELIVERY_TRANSITIONS:
            return delivery
        _move_delivery(delivery=delivery, device=device, action=action, now=now)
        append_events(
            user_ids=[delivery.bleep.sender_id, delivery.recipient_id],
            event=events.delivery_updated(delivery),
            now=now,
        )
    return delivery


def acknowledge_bleep(
    *, device: Device, bleep_id: int, eta_minutes: int | None, comment: str, now: datetime
) -> Delivery:
    """Acknowledge a bleep for its sender and every recipient; the first acknowledgement wins.

    Owns its transaction and locks the bleep row, so of two simultaneous acknowledgements
    exactly one succeeds and the other is told who won.
    """
    with transaction.atomic():
        access_delivery(device.user, bleep_id)
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        if bleep.status == BleepStatus.ACKNOWLEDGED:
            raise AlreadyAcknowledged(by=str(bleep.acknowledged_by))
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), "acknowledge")
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        delivery.eta_minutes = eta_minutes
        delivery.comment = comment
        _move_delivery(delivery=delivery, device=device, action="acknowledge", now=now)
        bleep.acknowledged_by = device.user
        _move_bleep(bleep=bleep, actor=device.user, device=device, action="acknowledge", now=now)
        append_events(
            user_ids=_participants(bleep), event=events.bleep_acknowledged(delivery), now=now
        )
    return delivery


def decline_bleep(*, device: Device, bleep_id: int, reason: str, now: datetime) -> Delivery:
    """Decline one's own copy of an open bleep with a reason, and tell everyone in it.

    Owns its transaction and locks the bleep, then the delivery. The bleep stays open: the
    escalation policy decides where it goes next, so a decline never ends a bleep.
    """
    with transaction.atomic():
        access_delivery(device.user, bleep_id)
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        if bleep.status != BleepStatus.OPEN:
            raise IllegalTransition(current=bleep.status, action="decline")
        delivery = _lock_own_delivery(device=device, bleep_id=bleep_id)
        delivery.decline_reason = reason
        _move_delivery(delivery=delivery, device=device, action="decline", now=now, reason=reason)
        append_events(user_ids=_participants(bleep), event=events.bleep_declined(delivery), now=now)
    return delivery


def cancel_bleep(*, actor: Person, device: Device | None, bleep_id: int, now: datetime) -> Bleep:
    """Cancel an open bleep (its sender, or switchboard): no one is bleeped about it again.

    Owns its transaction and locks the bleep and its deliveries.
    """
    with transaction.atomic():
        bleep = access_bleep(actor, bleep_id)
        if bleep.sender_id != actor.pk and actor.job != Person.Job.SWITCHBOARD:
            raise NotTheSender()
        bleep = Bleep.objects.select_for_update().get(pk=bleep_id)
        next_status(BLEEP_TRANSITIONS, BleepStatus(bleep.status), "cancel")
        for delivery in bleep.deliveries.select_for_update().order_by("pk"):
            if (DeliveryStatus(delivery.status), "cancel") in DELIVERY_TRANSITIONS:
                _move_delivery(
                    delivery=delivery, device=device, action="cancel", now=now, actor=actor
                )
        _move_bleep(bleep=bleep, actor=actor, device=device, action="cancel", now=now)
        append_events(
            user_ids=_participants(bleep), event=events.bleep_cancelled(bleep, by=actor), now=now
        )
    return bleep


def reply_to_bleep(*, device: Device, bleep_id: int, text: str, now: datetime) -> Reply:
    """Add a reply to a bleep's thread and show it live to everyone in the bleep.

    A cancelled bleep takes no more replies: after a cancel, nothing more happens to it.
    """
    with transaction.atomic():
        bleep = access_bleep(device.user, bleep_id)
        if bleep.status == BleepStatus.CANCELLED:
            raise IllegalTransition(current=bleep.status, action="reply")
        reply = Reply.objects.create(
            bleep=bleep, author=device.user, device=device, text=text, created_at=now
        )
        append_events(user_ids=_participants(bleep), event=events.bleep_reply(reply), now=now)
    return reply


def renotify_bleep(*, bleep: Bleep, step: int, now: datetime) -> list[StreamEvent]:
    """Remind everyone who has not acknowledged an open bleep; runs in the caller's transaction."""
    waiting = bleep.deliveries.exclude(status=DeliveryStatus.ACKNOWLEDGED).values_list(
        "recipient_id", flat=True
    )
    _record(
        bleep=bleep,
        actor=None,
        device=None,
        action="renotify",
        from_status=bleep.status,
        to_status=bleep.status,
        now=now,
        detail={"step": step},
    )
    return append_events(
        user_ids=[*waiting, bleep.sender_id],
        event=events.bleep_renotified(bleep, step=step),
        now=now,
    )


def _participants(bleep: Bleep) -> list[int]:
    return [bleep.sender_id, *bleep.deliveries.values_list("recipient_id", flat=True)]


def _lock_own_delivery(*, device: Device, bleep_id: int) -> Delivery:
    # Callers have already checked access with `access_delivery`; this only takes the lock.
    return (
        Delivery.objects.select_for_update()
        .select_related("bleep", "recipient")
        .get(bleep_id=bleep_id, recipient=device.user)
    )


def _move_bleep(
    *, bleep: Bleep, actor: Person, device: Device | None, action: str, now: datetime
) -> None:
    from_status = bleep.status
    bleep.status = next_status(BLEEP_TRANSITIONS, BleepStatus(from_status), action)
    bleep.save()
    _record(
        bleep=bleep,
        actor=actor,
        device=device,
        action=action,
        from_status=from_status,
        to_status=bleep.status,
        now=now,
    )


def _move_delivery(
    *,
    delivery: Delivery,
    device: Device | None,
    action: str,
    now: datetime,
    actor: Person | None = None,
    reason: str = "",
) -> None:
    from_status = delivery.status
    delivery.status = next_status(DELIVERY_TRANSITIONS, DeliveryStatus(from_status), action)
    delivery.updated_at = now
    delivery.save()
    _record(
        bleep=delivery.bleep,
        delivery=delivery,
        actor=actor or (device.user if device else None),
        device=device,
        action=action,
        from_status=from_status,
        to_status=delivery.status,
        now=now,
        detail={"reason": reason} if reason else None,
    )


def _record(
    *,
    bleep: Bleep,
    actor: Person | None,
    device: Device | None,
    action: str,
    to_status: str,
    now: datetime,
    delivery: Delivery | None = None,
    from_status: str = "",
    detail: dict[str, object] | None = None,
) -> HistoryEntry:
    return HistoryEntry.objects.create(
        bleep=bleep,
        delivery=delivery,
        actor=actor,
        device=device,
        action=action,
        from_status=from_status,
        to_status=to_status,
        at=now,
        detail=detail or {},
    )
