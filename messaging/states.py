"""The transition tables of a delivery and of a bleep, and the one function that moves them."""

from typing import TypeVar

from bleep.transitions import next_state
from messaging.exceptions import IllegalTransition
from messaging.models import BleepStatus, DeliveryStatus

S = TypeVar("S", BleepStatus, DeliveryStatus)

DELIVERY_TRANSITIONS: dict[tuple[DeliveryStatus, str], DeliveryStatus] = {
    (DeliveryStatus.SENT, "deliver"): DeliveryStatus.DELIVERED,
    (DeliveryStatus.SENT, "read"): DeliveryStatus.READ,
    (DeliveryStatus.DELIVERED, "read"): DeliveryStatus.READ,
    (DeliveryStatus.SENT, "acknowledge"): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.DELIVERED, "acknowledge"): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.READ, "acknowledge"): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.SENT, "decline"): DeliveryStatus.DECLINED,
    (DeliveryStatus.DELIVERED, "decline"): DeliveryStatus.DECLINED,
    (DeliveryStatus.READ, "decline"): DeliveryStatus.DECLINED,
    (DeliveryStatus.SENT, "cancel"): DeliveryStatus.CANCELLED,
    (DeliveryStatus.DELIVERED, "cancel"): DeliveryStatus.CANCELLED,
    (DeliveryStatus.READ, "cancel"): DeliveryStatus.CANCELLED,
    (DeliveryStatus.DECLINED, "cancel"): DeliveryStatus.CANCELLED,
}

BLEEP_TRANSITIONS: dict[tuple[BleepStatus, str], BleepStatus] = {
    (BleepStatus.OPEN, "acknowledge"): BleepStatus.ACKNOWLEDGED,
    (BleepStatus.OPEN, "cancel"): BleepStatus.CANCELLED,
}

DELIVERY_ACTIONS = frozenset(action for _, action in DELIVERY_TRANSITIONS)


def next_status(table: dict[tuple[S, str], S], current: S, action: str) -> S:
    """Return the state `action` moves `current` to, or raise IllegalTransition."""
    return next_state(table, current, action, IllegalTransition)
