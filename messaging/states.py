"""The transition tables of a delivery, a bleep, a push and a text or pager message, and the
functions that read them."""

from typing import TypeVar

from bleep.transitions import may, next_state
from messaging.actions import Action, ChannelAction, PushAction
from messaging.exceptions import IllegalTransition
from messaging.models import BleepStatus, ChannelStatus, DeliveryStatus, PushStatus

S = TypeVar("S", BleepStatus, DeliveryStatus, PushStatus, ChannelStatus)
A = TypeVar("A", Action, PushAction, ChannelAction)

DELIVERY_TRANSITIONS: dict[tuple[DeliveryStatus, Action], DeliveryStatus] = {
    (DeliveryStatus.SENT, Action.DELIVER): DeliveryStatus.DELIVERED,
    (DeliveryStatus.SENT, Action.READ): DeliveryStatus.READ,
    (DeliveryStatus.DELIVERED, Action.READ): DeliveryStatus.READ,
    (DeliveryStatus.SENT, Action.ACKNOWLEDGE): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.DELIVERED, Action.ACKNOWLEDGE): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.READ, Action.ACKNOWLEDGE): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.SENT, Action.DECLINE): DeliveryStatus.DECLINED,
    (DeliveryStatus.DELIVERED, Action.DECLINE): DeliveryStatus.DECLINED,
    (DeliveryStatus.READ, Action.DECLINE): DeliveryStatus.DECLINED,
    (DeliveryStatus.SENT, Action.CANCEL): DeliveryStatus.CANCELLED,
    (DeliveryStatus.DELIVERED, Action.CANCEL): DeliveryStatus.CANCELLED,
    (DeliveryStatus.READ, Action.CANCEL): DeliveryStatus.CANCELLED,
    (DeliveryStatus.DECLINED, Action.CANCEL): DeliveryStatus.CANCELLED,
    # Switchboard takes on a bleep it was brought into. The copy stops waiting (no more
    # reminders to switchboard) but the bleep stays open: escalation to clinicians goes on.
    (DeliveryStatus.SENT, Action.HANDLE): DeliveryStatus.HANDLING,
    (DeliveryStatus.DELIVERED, Action.HANDLE): DeliveryStatus.HANDLING,
    (DeliveryStatus.READ, Action.HANDLE): DeliveryStatus.HANDLING,
    # Only on a bleep addressed to switchboard itself; the service says who may.
    (DeliveryStatus.HANDLING, Action.ACKNOWLEDGE): DeliveryStatus.ACKNOWLEDGED,
    (DeliveryStatus.HANDLING, Action.CANCEL): DeliveryStatus.CANCELLED,
}

BLEEP_TRANSITIONS: dict[tuple[BleepStatus, Action], BleepStatus] = {
    (BleepStatus.OPEN, Action.ACKNOWLEDGE): BleepStatus.ACKNOWLEDGED,
    (BleepStatus.OPEN, Action.CANCEL): BleepStatus.CANCELLED,
    # Everything else happens only while the bleep is open, and leaves it open: once it is
    # answered or withdrawn nothing more may bring people in, remind or ring a phone about it.
    (BleepStatus.OPEN, Action.DECLINE): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.HANDLE): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.ESCALATE): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.NOTIFY_SWITCHBOARD): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.BROADCAST_TEAM): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.HANDOVER): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.REDIRECT): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.RENOTIFY): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.SKIP): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.FIRE): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.PUSH): BleepStatus.OPEN,
    (BleepStatus.OPEN, Action.FALLBACK): BleepStatus.OPEN,
    # The thread stays open after an acknowledgement ("10 min, start fluids"); only a
    # cancelled bleep takes no more replies.
    (BleepStatus.OPEN, Action.REPLY): BleepStatus.OPEN,
    (BleepStatus.ACKNOWLEDGED, Action.REPLY): BleepStatus.ACKNOWLEDGED,
}

# A push is only ever moved out of `pending`; retrying leaves it there with a later due_at.
PUSH_TRANSITIONS: dict[tuple[PushStatus, PushAction], PushStatus] = {
    (PushStatus.PENDING, PushAction.ACCEPT): PushStatus.SENT,
    (PushStatus.PENDING, PushAction.RETRY): PushStatus.PENDING,
    (PushStatus.PENDING, PushAction.FORGET): PushStatus.GONE,
    (PushStatus.PENDING, PushAction.FAIL): PushStatus.FAILED,
    (PushStatus.PENDING, PushAction.SKIP): PushStatus.SKIPPED,
}

# A text or pager message leaves `pending` once; a gateway that reports delivery (Notify)
# then moves it on from `sent` as it learns how it went.
CHANNEL_TRANSITIONS: dict[tuple[ChannelStatus, ChannelAction], ChannelStatus] = {
    (ChannelStatus.PENDING, ChannelAction.ACCEPT): ChannelStatus.SENT,
    (ChannelStatus.PENDING, ChannelAction.RETRY): ChannelStatus.PENDING,
    (ChannelStatus.PENDING, ChannelAction.FAIL): ChannelStatus.FAILED,
    (ChannelStatus.PENDING, ChannelAction.SKIP): ChannelStatus.SKIPPED,
    (ChannelStatus.SENT, ChannelAction.WAIT): ChannelStatus.SENT,
    (ChannelStatus.SENT, ChannelAction.DELIVER): ChannelStatus.DELIVERED,
    (ChannelStatus.SENT, ChannelAction.FAIL): ChannelStatus.FAILED,
}

DELIVERY_ACTIONS = frozenset(action for _, action in DELIVERY_TRANSITIONS)

# A delivery in one of these states is still waiting for its recipient to answer: it is
# reminded, pushed and escalated past; any other state has had its answer.
WAITING = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def next_status(table: dict[tuple[S, A], S], current: S, action: A) -> S:
    """Return the state `action` moves `current` to, or raise IllegalTransition."""
    return next_state(table, current, action, IllegalTransition)


def allows(table: dict[tuple[S, A], S], current: S, action: A) -> bool:
    """Return whether `action` may happen from `current`: for a caller that skips, not refuses."""
    return may(table, current, action)


def moves_by(table: dict[tuple[S, A], S], action: A) -> dict[S, S]:
    """Return each state `action` may happen from, with the state it moves to."""
    return {state: after for (state, by), after in table.items() if by == action}
