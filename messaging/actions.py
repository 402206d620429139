"""What may happen to a bleep, by name: the actions its tables, its history, its events and
the app's words all share."""

from enum import StrEnum

from messaging.models import BleepStatus, DeliveryStatus
from rota.models import Person


class Action(StrEnum):
    """One thing that happens to a bleep or a copy of it; the value is what its history stores."""

    SEND = "send"
    DELIVER = "deliver"
    READ = "read"
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    # Switchboard takes a clinician's bleep on ("phoning the team").
    HANDLE = "handle"
    CANCEL = "cancel"
    REPLY = "reply"
    RENOTIFY = "renotify"
    # A reminder step with nobody left waiting to remind.
    SKIP = "skip"
    ESCALATE = "escalate"
    NOTIFY_SWITCHBOARD = "notify_switchboard"
    BROADCAST_TEAM = "broadcast_team"
    HANDOVER = "handover"
    REDIRECT = "redirect"
    # A step of the escalation plan coming due; what it does is one of the actions above.
    FIRE = "fire"
    # A push waking a phone about the bleep.
    PUSH = "push"
    # A text or pager message about the bleep, sent because no device confirmed it.
    FALLBACK = "fallback"


class PushAction(StrEnum):
    """What settles one push in the outbox; never stored, only moves its status."""

    ACCEPT = "accept"
    RETRY = "retry"
    FORGET = "forget"
    FAIL = "fail"
    SKIP = "skip"


class ChannelAction(StrEnum):
    """What settles one text or pager message in the outbox; never stored, only moves it."""

    ACCEPT = "accept"
    RETRY = "retry"
    FAIL = "fail"
    SKIP = "skip"
    # Its delivery status read back from the gateway: still on its way, or delivered.
    WAIT = "wait"
    DELIVER = "deliver"


# The actions that bring more people into a bleep (`widen_bleep`).
WIDENINGS = frozenset(
    {
        Action.ESCALATE,
        Action.NOTIFY_SWITCHBOARD,
        Action.BROADCAST_TEAM,
        Action.HANDOVER,
        Action.REDIRECT,
    }
)

# The event each action sends to the people in the bleep; None for an action that tells
# nobody by itself (a skipped reminder, a step firing, a push: what they lead to does).
EVENT_TYPES: dict[Action, str | None] = {
    Action.SEND: "bleep.created",
    Action.DELIVER: "delivery.updated",
    Action.READ: "delivery.updated",
    Action.ACKNOWLEDGE: "bleep.acknowledged",
    Action.DECLINE: "bleep.declined",
    Action.HANDLE: "bleep.handling",
    Action.CANCEL: "bleep.cancelled",
    Action.REPLY: "bleep.reply",
    Action.RENOTIFY: "bleep.renotified",
    Action.SKIP: None,
    Action.ESCALATE: "bleep.escalated",
    Action.NOTIFY_SWITCHBOARD: "bleep.escalated",
    Action.BROADCAST_TEAM: "bleep.escalated",
    Action.HANDOVER: "bleep.handed_over",
    Action.REDIRECT: "bleep.redirected",
    Action.FIRE: None,
    Action.PUSH: None,
    Action.FALLBACK: None,
}

# What the app shows, served to it in /api/me's `words` so that it keeps no copy: each
# action as a line of a bleep's history, each escalation step as what the board says comes
# next, and each status of a bleep or a copy.
HISTORY_WORDS: dict[Action, str] = {
    Action.SEND: "sent",
    Action.DELIVER: "delivered",
    Action.READ: "read",
    Action.ACKNOWLEDGE: "acknowledged",
    Action.DECLINE: "declined",
    Action.HANDLE: "took it on for switchboard",
    Action.CANCEL: "cancelled",
    Action.REPLY: "replied",
    Action.RENOTIFY: "reminder sent",
    Action.SKIP: "no reminder",
    Action.ESCALATE: "escalated",
    Action.NOTIFY_SWITCHBOARD: "switchboard brought in",
    Action.BROADCAST_TEAM: "team bleeped",
    Action.HANDOVER: "handed over to the next shift",
    Action.REDIRECT: "redirected",
    Action.FIRE: "escalation step",
    Action.PUSH: "push to the phone",
    Action.FALLBACK: "text or pager message",
}
NEXT_STEP_WORDS: dict[Action, str] = {
    Action.RENOTIFY: "remind",
    Action.ESCALATE: "escalate",
    Action.NOTIFY_SWITCHBOARD: "bring in switchboard",
    Action.BROADCAST_TEAM: "bleep the team",
}
# How the board tells an escalation so far: each action that brought people in, with when
# ("at 4 min" after the send) and, for an escalation, the roles it reached.
PROGRESS_WORDS: dict[Action, str] = {
    Action.ESCALATE: "{role} added at {when}",
    Action.NOTIFY_SWITCHBOARD: "switchboard in since {when}",
    Action.BROADCAST_TEAM: "team bleeped at {when}",
    Action.HANDOVER: "handed over at {when}",
    Action.REDIRECT: "redirected at {when}",
}
STATUS_WORDS: dict[BleepStatus | DeliveryStatus, str] = {
    DeliveryStatus.SENT: "Sent",
    DeliveryStatus.DELIVERED: "Delivered",
    DeliveryStatus.READ: "Read",
    DeliveryStatus.HANDLING: "Handling",
    DeliveryStatus.ACKNOWLEDGED: "Acknowledged",
    DeliveryStatus.DECLINED: "Declined",
    DeliveryStatus.CANCELLED: "Cancelled",
    BleepStatus.OPEN: "Open",
    BleepStatus.ACKNOWLEDGED: "Acknowledged",
    BleepStatus.CANCELLED: "Cancelled",
}
# Each way a bleep reaches a phone, as its history names it (a `push` or `fallback` entry's
# `detail.channel`).
CHANNEL_WORDS = {"push": "Push", "sms": "Text message", "pager": "Page"}
WORDS: dict[str, dict[str, str]] = {
    "actions": {str(action): words for action, words in HISTORY_WORDS.items()},
    "steps": {str(action): words for action, words in NEXT_STEP_WORDS.items()},
    "statuses": {str(status): words for status, words in STATUS_WORDS.items()},
    # A sender's job, as the emergency screen names who is calling.
    "jobs": {str(job): str(words) for job, words in Person.Job.choices},
    "channels": CHANNEL_WORDS,
}
