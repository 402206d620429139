"""Bleeps as a whole: send one to whoever holds its role, cancel it, remind its recipients."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from messaging import events
from messaging.exceptions import NotTheSender
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    Priority,
    StreamEvent,
)
from messaging.selectors import access_bleep
from messaging.services.history import move_bleep, move_delivery, participants, record
from messaging.services.stream import append_events
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, next_status
from rota.models import Location, Person, Role
from rota.selectors import resolve_role


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
        record(
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
            record(
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
        append_events(user_ids=participants(bleep), event=events.bleep_created(bleep), now=now)
    return bleep


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
                move_delivery(
                    delivery=delivery, device=device, action="cancel", now=now, actor=actor
                )
        move_bleep(bleep=bleep, actor=actor, device=device, action="cancel", now=now)
        append_events(
            user_ids=participants(bleep), event=events.bleep_cancelled(bleep, by=actor), now=now
        )
    return bleep


def renotify_bleep(*, bleep: Bleep, step: int, now: datetime) -> list[StreamEvent]:
    """Remind everyone who has not acknowledged an open bleep; runs in the caller's transaction."""
    waiting = bleep.deliveries.exclude(status=DeliveryStatus.ACKNOWLEDGED).values_list(
        "recipient_id", flat=True
    )
    record(
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
