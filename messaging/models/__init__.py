"""The messaging app's models: bleeps and everything about them (`bleeps`), and the ways to
reach a person besides the app (`contacts`), and single sign-on with its audit trail
(`identities`)."""

from messaging.models.bleeps import (
    Bleep,
    BleepStatus,
    Delivery,
    DeliveryStatus,
    Device,
    FloodAlert,
    HistoryEntry,
    HistoryHead,
    Priority,
    PushMessage,
    PushStatus,
    PushSubscription,
    PushUrgency,
    Reply,
    StreamEvent,
    StreamHead,
    TeamCall,
)
from messaging.models.contacts import (
    ChannelMessage,
    ChannelPurpose,
    ChannelStatus,
    ContactKind,
    ContactPoint,
    PhoneTest,
    ShiftWarning,
)
from messaging.models.identities import (
    SignInMethod,
    SignInRecord,
    SsoHandoff,
    SsoIdentity,
)

__all__ = [
    "SignInMethod",
    "SignInRecord",
    "SsoHandoff",
    "SsoIdentity",
    "Bleep",
    "BleepStatus",
    "ChannelMessage",
    "ChannelPurpose",
    "ChannelStatus",
    "ContactKind",
    "ContactPoint",
    "Delivery",
    "DeliveryStatus",
    "Device",
    "FloodAlert",
    "HistoryEntry",
    "HistoryHead",
    "PhoneTest",
    "Priority",
    "PushMessage",
    "PushStatus",
    "PushSubscription",
    "PushUrgency",
    "Reply",
    "ShiftWarning",
    "StreamEvent",
    "StreamHead",
    "TeamCall",
]
