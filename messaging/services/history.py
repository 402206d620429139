"""The history every transition appends to, and the helpers that move a bleep or a delivery."""

from collections.abc import Sequence
from datetime import datetime

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


def record(
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
    """Append one entry to a bleep's history; nothing ever changes or deletes it."""
    entry = history_entry(
        bleep=bleep,
        delivery=delivery,
        actor=actor,
        device=device,
        action=action,
        from_status=from_status,
        to_status=to_status,
        now=now,
        detail=detail,
    )
    entry.save()
    return entry


def record_all(entries: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    """Append several entries to the history in one statement, in the order given."""
    return HistoryEntry.objects.bulk_create(entries)


def history_entry(
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
    """Return an entry for the history, not yet stored: `record` or `record_all` store it."""
    return HistoryEntry(
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
