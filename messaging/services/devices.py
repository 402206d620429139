"""Devices: sign in, authenticate a socket or a request, revoke, disable an account."""

from datetime import datetime

from django.contrib.auth import authenticate
from django.db import transaction

from bleep.tokens import digest_token, new_token
from messaging import events
from messaging.exceptions import InvalidCredentials, InvalidToken
from messaging.models import Device
from messaging.push import delete_push_subscription
from rota.models import Person


def sign_in_device(
    *, username: str, password: str, device_name: str, now: datetime
) -> tuple[Device, str]:
    """Check the password and register a new device; return it with its token (shown once)."""
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    token = new_token()
    device = Device.objects.create(
        user=user,
        name=device_name,
        token_digest=digest_token(token),
        created_at=now,
        last_seen_at=now,
    )
    return device, token


def authenticate_device(*, token: str, now: datetime) -> Device:
    """Return the live device holding `token`, or raise InvalidToken."""
    try:
        # `get`, not `first`: the digest is unique, and `first` pays to compile an ordering
        # on every request and every socket's sign-in.
        device = Device.objects.select_related("user").get(
            token_digest=digest_token(token), revoked_at__isnull=True, user__is_active=True
        )
    except Device.DoesNotExist:
        raise InvalidToken() from None
    if (now - device.last_seen_at).total_seconds() > 60:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


def revoke_device(*, device: Device, now: datetime) -> Device:
    """Revoke a device's token, close its open sockets and drop its push subscriptions; the
    device must sign in again."""
    if device.revoked_at is None:
        device.revoked_at = now
        device.save(update_fields=["revoked_at"])
        for subscription in device.push_subscriptions.all():
            delete_push_subscription(subscription=subscription)
        events.disconnect_device_on_commit(device)
    return device


def disable_account(*, person: Person, now: datetime) -> Person:
    """Disable a person's account and sign out every device, closing their sockets now.

    Owns its transaction: the account and its devices change together.
    """
    with transaction.atomic():
        person.is_active = False
        person.save(update_fields=["is_active"])
        for device in Device.objects.filter(user=person, revoked_at__isnull=True):
            revoke_device(device=device, now=now)
    return person
