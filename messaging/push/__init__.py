"""Web Push: devices' subscriptions, the outbox of pushes, and sending them to push services.

A push only wakes a phone: it says a bleep is waiting, never what it says, and a 201 from
the push service is not a delivery (only the device's `delivered` receipt is). Pushes are
rows, queued in the transaction that decides them and sent afterwards, outside it.

`subscriptions` registers and forgets browsers' subscriptions; `outbox` queues pushes,
leases the due ones to a sender and records the answers; `sender` posts them, each as its
own request, so that a push service that stalls holds up nothing but its own push.
"""

from messaging.push.outbox import (
    CLAIM_LEASE,
    RETRY_AFTER_MAX,
    RETRY_FIRST,
    RETRY_MAX,
    push_topic,
    queue_pushes,
    queue_test_pushes,
)
from messaging.push.sender import PUSH_TIMEOUT, PushSender, send_due_pushes
from messaging.push.subscriptions import (
    MAX_SUBSCRIPTIONS_PER_DEVICE,
    application_server_key,
    delete_push_subscription,
    register_push_subscription,
)
from messaging.states import PUSH_TRANSITIONS

__all__ = [
    "CLAIM_LEASE",
    "MAX_SUBSCRIPTIONS_PER_DEVICE",
    "PUSH_TIMEOUT",
    "PUSH_TRANSITIONS",
    "PushSender",
    "RETRY_AFTER_MAX",
    "RETRY_FIRST",
    "RETRY_MAX",
    "application_server_key",
    "delete_push_subscription",
    "push_topic",
    "queue_pushes",
    "queue_test_pushes",
    "register_push_subscription",
    "send_due_pushes",
]
