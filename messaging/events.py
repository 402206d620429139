"""Real-time events: dicts with a dotted `type`, built here and sent only after commit."""

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils.timezone import localtime

from messaging.actions import EVENT_TYPES, Action
from messaging.models import (
    Bleep,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    Device,
    FloodAlert,
    PhoneTest,
    Reply,
    ShiftWarning,
    StreamEvent,
)
from rota.models import Person, Role

logger = logging.getLogger(__name__)

Event = dict[str, Any]


def user_group(user_id: int) -> str:
    """Return the channel-layer group every device of one person joins, and the only one.

    A group of its own for each device would cost every socket a second subscription, on
    every connect and in memory, to carry the rare revocation (docs/benchmarks.md).
    """
    return f"user.{user_id}"


def person_summary(person: Person) -> dict[str, Any]:
    return {"id": person.pk, "name": str(person)}


def sender_summary(person: Person) -> dict[str, Any]:
    """Describe a bleep's sender with their job, so a recipient knows who is calling."""
    return {**person_summary(person), "job": person.job}


def role_summary(role: Role | None) -> dict[str, Any] | None:
    if role is None:
        return None
    return {"id": role.pk, "name": role.name, "bleep_number": role.bleep_number}


def delivery_summary(delivery: Delivery) -> dict[str, Any]:
    """Describe one recipient's copy of a bleep, in REST answers and events alike."""
    return {
        "id": delivery.pk,
        "recipient": person_summary(delivery.recipient),
        "role": delivery.role_id,
        "status": delivery.status,
        "updated_at": delivery.updated_at.isoformat(),
        "eta_minutes": delivery.eta_minutes,
        "comment": delivery.comment,
        "decline_reason": delivery.decline_reason,
    }


def handling_summary(bleep: Bleep) -> list[dict[str, Any]]:
    """Say who at switchboard has taken the bleep on, with their note: shown to everyone in it
    as "handling", never as an acknowledgement. REST's bleeps carry the same list."""
    return [
        {
            "by": person_summary(delivery.recipient),
            "note": delivery.comment,
            "since": delivery.updated_at.isoformat(),
        }
        for delivery in bleep.deliveries.all()
        if delivery.status == DeliveryStatus.HANDLING
    ]


def bleep_summary(bleep: Bleep) -> dict[str, Any]:
    """Describe a bleep for the people in it, in REST answers and events alike.

    The one description of a bleep, so a device never reconciles two (never for a push
    payload, which leaves the hospital).
    """
    return {
        "id": bleep.pk,
        "status": bleep.status,
        "priority": bleep.priority,
        "role": role_summary(bleep.role),
        "answering_role": role_summary(bleep.answering_role),
        "person": person_summary(bleep.person) if bleep.person else None,
        "team_call": bleep.team_call_id,
        "sender": sender_summary(bleep.sender),
        "message": bleep.message,
        "location": bleep.location.name if bleep.location else None,
        "bed": bleep.bed,
        "callback_extension": bleep.callback_extension,
        "nhs_number": bleep.nhs_number,
        "created_at": bleep.created_at.isoformat(),
        "acknowledged_by": person_summary(bleep.acknowledged_by) if bleep.acknowledged_by else None,
        "for_switchboard": bleep.for_switchboard,
        "handling": handling_summary(bleep),
        "deliveries": [delivery_summary(d) for d in bleep.deliveries.all()],
    }


def bleep_created(bleep: Bleep) -> Event:
    return {"type": EVENT_TYPES[Action.SEND], "bleep": bleep_summary(bleep)}


def delivery_updated(delivery: Delivery) -> Event:
    return {
        "type": EVENT_TYPES[Action.DELIVER],
        "bleep_id": delivery.bleep_id,
        "delivery": delivery_summary(delivery),
    }


def bleep_acknowledged(delivery: Delivery) -> Event:
    return {
        "type": EVENT_TYPES[Action.ACKNOWLEDGE],
        "bleep_id": delivery.bleep_id,
        "by": person_summary(delivery.recipient),
        "eta_minutes": delivery.eta_minutes,
        "comment": delivery.comment,
        "delivery": delivery_summary(delivery),
    }


def bleep_declined(delivery: Delivery) -> Event:
    return {
        "type": EVENT_TYPES[Action.DECLINE],
        "bleep_id": delivery.bleep_id,
        "by": person_summary(delivery.recipient),
        "reason": delivery.decline_reason,
        "delivery": delivery_summary(delivery),
    }


def bleep_handling(delivery: Delivery, bleep: Bleep) -> Event:
    """Switchboard took the bleep on: it stays open, and clinicians are still being sought."""
    return {
        "type": EVENT_TYPES[Action.HANDLE],
        "bleep_id": bleep.pk,
        "by": person_summary(delivery.recipient),
        "note": delivery.comment,
        "delivery": delivery_summary(delivery),
        "bleep": bleep_summary(bleep),
    }


def bleep_cancelled(bleep: Bleep, *, by: Person) -> Event:
    return {"type": EVENT_TYPES[Action.CANCEL], "bleep_id": bleep.pk, "by": person_summary(by)}


def bleep_reply(reply: Reply) -> Event:
    return {
        "type": EVENT_TYPES[Action.REPLY],
        "bleep_id": reply.bleep_id,
        "reply": {
            "id": reply.pk,
            "author": person_summary(reply.author),
            "text": reply.text,
            "created_at": reply.created_at.isoformat(),
        },
    }


def bleep_renotified(bleep: Bleep, *, step: int) -> Event:
    return {"type": EVENT_TYPES[Action.RENOTIFY], "bleep_id": bleep.pk, "step": step}


def bleep_widened(
    bleep: Bleep,
    *,
    action: Action,
    step: int | None,
    added: list[Delivery],
    by: Person | None = None,
) -> Event:
    """More people were brought in: a handover, an escalation step, or switchboard's hand."""
    return {
        "type": EVENT_TYPES[action],
        "bleep_id": bleep.pk,
        "action": str(action),
        "step": step,
        "by": person_summary(by) if by else None,
        "added": [person_summary(delivery.recipient) for delivery in added],
        "bleep": bleep_summary(bleep),
    }


def flood_alert_summary(alert: FloodAlert) -> dict[str, Any]:
    """Describe a flood alert for switchboard, over REST and in its event alike.

    Who sent and to which role, how many and when: never a patient's details.
    """
    if alert.kind == FloodAlert.Kind.SENDER:
        assert alert.sender is not None
        detail = (
            f"{alert.sender} sent {alert.count} bleeps in a minute, past the send limit: "
            "their routine and urgent bleeps wait, emergencies still go"
        )
    else:
        assert alert.role is not None
        detail = (
            f"{alert.count} bleeps to {alert.role.name} in a minute: "
            "check its holder is not drowning in bleeps"
        )
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "sender": person_summary(alert.sender) if alert.sender else None,
        "role": role_summary(alert.role),
        "count": alert.count,
        "first_at": alert.first_at.isoformat(),
        "last_at": alert.last_at.isoformat(),
        "raised_at": alert.raised_at.isoformat(),
        "detail": detail,
    }


def flood_alert(alert: FloodAlert) -> Event:
    """Switchboard's alarm: a sender, or bleeps to a role, passed a limit in the last minute."""
    return {"type": "switchboard.flood", "alert": flood_alert_summary(alert)}


def contact_summary(contact: ContactPoint) -> dict[str, Any]:
    """Describe one of a person's numbers for its owner, over REST and in events alike."""
    return {
        "id": contact.pk,
        "kind": contact.kind,
        "address": contact.address,
        "verified": contact.verified_at is not None,
        "verified_at": contact.verified_at.isoformat() if contact.verified_at else None,
        "usable": contact.unusable_at is None,
        "unusable_reason": contact.unusable_reason,
    }


def contact_unusable(contact: ContactPoint) -> Event:
    """Tell a person, and switchboard, that a number of theirs cannot be reached any more.

    Switchboard is told whose and which kind, never the number itself.
    """
    return {
        "type": "contact.unusable",
        "person": person_summary(contact.person),
        "kind": contact.kind,
        "reason": contact.unusable_reason,
    }


def phone_test_sent(test: PhoneTest) -> Event:
    """Ask the person's devices to confirm a test bleep; confirming proves the device rings."""
    return {"type": "phone.test", "test_id": test.pk, "created_at": test.created_at.isoformat()}


def shift_warning_summary(warning: ShiftWarning) -> dict[str, Any]:
    """Describe a coming shift whose holder Bleep cannot reach, for them and for switchboard."""
    shift = warning.shift
    return {
        "id": warning.pk,
        "person": person_summary(warning.person),
        "role": role_summary(shift.role),
        "shift_start": shift.start.isoformat(),
        "shift_end": shift.end.isoformat(),
        "raised_at": warning.raised_at.isoformat(),
        "detail": (
            f"{warning.person} is on call as {shift.role.name} from "
            f"{localtime(shift.start):%H:%M on %a %d %b} and Bleep cannot reach their phone"
        ),
    }


def shift_unreachable(warning: ShiftWarning) -> Event:
    """Warn a person, and switchboard, that Bleep cannot reach them for a coming shift."""
    return {"type": "shift.unreachable", "warning": shift_warning_summary(warning)}


def wire_format(stored: StreamEvent) -> Event:
    """Return a stored event as it goes over the WebSocket."""
    return {
        **stored.data,
        "id": stored.pk,
        "seq": stored.seq,
        "at": stored.created_at.isoformat(),
    }


def send_events_on_commit(stored: list[StreamEvent]) -> None:
    """Publish stored events to their people's devices once the transaction commits."""
    messages = [
        (user_group(event.user_id), {"type": "stream.event", "event": wire_format(event)})
        for event in stored
    ]
    transaction.on_commit(lambda: _publish(messages))


def disconnect_device_on_commit(device: Device) -> None:
    """Close every open socket of a device once its revocation commits.

    Sent to its person's group; only the sockets of that device close.
    """
    messages = [(user_group(device.user_id), {"type": "device.revoked", "device_id": device.pk})]
    transaction.on_commit(lambda: _publish(messages))


def _publish(messages: list[tuple[str, Event]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    # One trip to the event loop for the whole batch: a trip per message cost a sent bleep
    # more than its database work did (docs/benchmarks.md).
    outcomes = async_to_sync(_send_all)(layer, messages)
    failures = [
        (group, message, outcome)
        for (group, message), outcome in zip(messages, outcomes, strict=True)
        if isinstance(outcome, Exception)
    ]
    if not failures:
        return
    # What was published is already committed: a stored event reaches the device on its
    # next catch-up or ping, a revoked token fails its next use. The fast path failing must
    # never undo or block the write. One traceback per batch is enough.
    group, message, error = failures[0]
    logger.error(
        "could not publish %s to %s (%d of %d live messages not published; devices catch up)",
        message["type"],
        group,
        len(failures),
        len(messages),
        exc_info=error,
    )


async def _send_all(layer: Any, messages: list[tuple[str, Event]]) -> list[object]:
    return await asyncio.gather(
        *(layer.group_send(group, message) for group, message in messages), return_exceptions=True
    )
