"""The history every transition appends to, and the helpers that move a bleep or a delivery."""

from collections.abc import Sequence
from datetime import datetime
from typing import NotRequired, TypedDict, Unpack

from messaging.models import Bleep, BleepStatus, Delivery, DeliveryStatus, Device, HistoryEntry
from messaging.states import BLEEP_TRANSITIONS, DELIVERY_TRANSITIONS, next_status
from rota.models import Person


def participants(bleep: Bleep) -> list[int]:
    """Return the ids of everyone in a bleep: its sender and every recipient."""
    # `all()` reads deliveries already loaded with the bleep instead of asking again.
    return [bleep.sender_id, *(delivery.recipient_id for delivery in bleep.deliveries.all())]


def move_bleep(
    *, bleep: Bleep, actor: Person, device: Device | None, action: str, now: datetime
) -> None:
    """Move a bleep by `action` through its transition table, save it and record the move."""
    from_status = bleep.status
    bleep.status = next_status(BLEEP_TRANSITIONS, BleepStatus(from_status), action)
    bleep.save()
    record(
        bleep=bleep,
        actor=actor,
        device=device,
        action=action,
        from_status=from_status,
        to_status=bleep.status,
        now=now,
    )


def move_delivery(
    *,
    delivery: Delivery,
    device: Device | None,
    action: str,
    now: datetime,
    actor: Person | None = None,
    reason: str = "",
) -> None:
    """Move a delivery by `action` through its transition table, save it and record the move."""
    from_status = delivery.status
    delivery.status = next_status(DELIVERY_TRANSITIONS, DeliveryStatus(from_status), action)
    delivery.updated_at = now
    delivery.save()
    record(
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


class EntryFields(TypedDict):
    """What one history entry says: who did what to a bleep (or one of its deliveries), when."""

    bleep: Bleep
    actor: Person | None
    device: Device | None
    action: str
    to_status: str
    now: datetime
    delivery: NotRequired[Delivery | None]
    from_status: NotRequired[str]
    detail: NotRequired[dict[str, object] | None]


def record(**fields: Unpack[EntryFields]) -> HistoryEntry:
    """Append one entry to a bleep's history; nothing ever changes or deletes it."""
    entry = history_entry(**fields)
    entry.save()
    return entry


def record_all(entries: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """Append several entries to the history in one statement, in the order given."""
    return HistoryEntry.objects.bulk_create(entries)


def history_entry(**fields: Unpack[EntryFields]) -> HistoryEntry:
    """Return an entry for the history, not yet stored: `record` or `record_all` store it."""
    return HistoryEntry(
        bleep=fields["bleep"],
        delivery=fields.get("delivery"),
        actor=fields["actor"],
        device=fields["device"],
        action=fields["action"],
        from_status=fields.get("from_status", ""),
        to_status=fields["to_status"],
        at=fields["now"],
        detail=fields.get("detail") or {},
    )
