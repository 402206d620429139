"""Devices' Web Push subscriptions: registering, replacing and forgetting them."""

from datetime import datetime

from django.conf import settings
from django.db import transaction

from bleep.config import vapid_public_key
from messaging.actions import PushAction
from messaging.models import Device, PushMessage, PushSubscription
from messaging.states import PUSH_TRANSITIONS, moves_by
from messaging.validators import check_auth_secret, check_p256dh, check_push_endpoint

# A browser keeps one subscription per site; a few more allow for renewals, and the cap
# stops one login from making the server post to thousands of endpoints per bleep.
MAX_SUBSCRIPTIONS_PER_DEVICE = 5


def application_server_key() -> str:
    """Return the VAPID public key a browser passes to `pushManager.subscribe()`."""
    return vapid_public_key(settings.VAPID_PRIVATE_KEY)


def register_push_subscription(
    *, device: Device, endpoint: str, p256dh: str, auth: str, now: datetime
) -> tuple[PushSubscription, bool]:
    """Store a browser's subscription for `device`; return it and whether it is new to it.

    Owns its transaction. An endpoint registered again takes the new keys and moves to this
    device: the browser it names is now signed in as this device, and only it may ring.
    """
    fields = {
        "endpoint": check_push_endpoint(endpoint),
        "p256dh": check_p256dh(p256dh),
        "auth": check_auth_secret(auth),
    }
    with transaction.atomic():
        earlier = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if earlier is not None and earlier.device_id == device.pk:
            PushSubscription.objects.filter(pk=earlier.pk).update(**fields)
            earlier.refresh_from_db()
            return earlier, False
        subscription, _ = PushSubscription.objects.update_or_create(
            endpoint=endpoint, defaults={**fields, "device": device, "created_at": now}
        )
        _keep_newest_subscriptions(device=device)
    return subscription, True


def delete_push_subscription(*, subscription: PushSubscription) -> None:
    """Delete a subscription; its pushes not yet sent are marked gone, never sent.

    Owns its transaction: the subscription and its pending pushes change together.
    """
    forget_push_subscription(subscription_id=subscription.pk, reason="unsubscribed")


def forget_push_subscription(*, subscription_id: int, reason: str) -> None:
    """Delete a subscription by id and mark its pending pushes gone, saying why.

    Owns its transaction: the subscription and its pending pushes change together.
    """
    pushes = PushMessage.objects.filter(subscription_id=subscription_id)
    with transaction.atomic():
        # One UPDATE per state the table lets `forget` move (only `pending` today), rather
        # than a row at a time: a push already settled keeps what happened to it.
        for before, after in moves_by(PUSH_TRANSITIONS, PushAction.FORGET).items():
            pushes.filter(status=before).update(status=after, last_error=reason[:200])
        PushSubscription.objects.filter(pk=subscription_id).delete()


def _keep_newest_subscriptions(*, device: Device) -> None:
    stale = PushSubscription.objects.filter(device=device).order_by("-created_at", "-pk")[
        MAX_SUBSCRIPTIONS_PER_DEVICE:
    ]
    for subscription_id in stale.values_list("pk", flat=True):
        forget_push_subscription(subscription_id=subscription_id, reason="replaced by newer")
