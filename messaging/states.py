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
    # Switchboard takes on a bleep it was brought into. The copy stops waiting (no more
    # reminders to switchboard) but the bleep stays open: escalation to clinicians goes on.
    (DeliveryStatus.SENT, "handle"): DeliveryStatus.HANDLING,
    (DeliveryStatus.DELIVERED, "handle"): DeliveryStatus.HANDLING,
    (DeliveryStatus.READ, "handle"): DeliveryStatus.HANDLING,
    # Only on a bleep addressed to switchboard itself; the service says who may.
    (DeliveryStatus.HANDLING, "acknowledge"): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.HANDLING, "cancel"): DeliveryStatus.CANCELLED,
}

BLEEP_TRANSITIONS: dict[tuple[BleepStatus, str], BleepStatus] = {
    (BleepStatus.OPEN, "acknowledge"): BleepStatus.ACKNOWLEDGED,
    (BleepStatus.OPEN, "cancel"): BleepStatus.CANCELLED,
    # Taking a bleep on leaves it open, and is only allowed while it is.
    (BleepStatus.OPEN, "handle"): BleepStatus.OPEN,
}

DELIVERY_ACTIONS = frozenset(action for _, action in DELIVERY_TRANSITIONS)

# A delivery in one of these states is still waiting for its recipient to answer: it is
# reminded, pushed and escalated past; any other state has had its answer.
WAITING = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def next_status(table: dict[tuple[S, str], S], current: S, action: str) -> S:
    """Return the state `action` moves `current` to, or raise IllegalTransition."""
    return next_state(table, current, action, IllegalTransition)
