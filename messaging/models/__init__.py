"""The messaging app's models: bleeps and everything about them (`bleeps`), and the ways to
reach a person besides the app (`contacts`), and single sign-on with its audit trail
(`identities`), and the integrating systems that use FHIR (`systems`)."""

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
from messaging.models.systems import SystemClient, SystemScope, SystemToken

__all__ = [
    "SystemClient",
    "SystemScope",
    "SystemToken",
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
