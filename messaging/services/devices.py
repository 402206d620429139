"""Devices: sign in, authenticate a socket or a request, revoke, disable an account."""

import logging
from datetime import datetime, timedelta

from axes.helpers import get_cool_off
from axes.utils import reset as reset_sign_in_attempts
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest

from bleep.tokens import digest_token, new_token
from messaging import events
from messaging.exceptions import (
    InvalidCredentials,
    InvalidToken,
    NotAllowedToUnlock,
    SignInLockedOut,
)
from messaging.models import Device
from messaging.push import delete_push_subscription
from rota.models import Person

logger = logging.getLogger(__name__)


def sign_in_device(
    *, username: str, password: str, device_name: str, request: HttpRequest, now: datetime
) -> tuple[Device, str]:
    """Check the password and register a new device; return it with its token (shown once).

    `request` is the sign-in's HTTP request: the throttle (django-axes, in the first
    authentication backend) counts failures by account and client address, and refuses a
    locked-out pair before the password is checked.
    """
    user = authenticate(request, username=username, password=password)
    if getattr(request, "axes_locked_out", False):
        # Every attempt while locked out, the right password included, counts as a failure
        # and starts the cool-off again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
        cool_off = get_cool_off(request) or timedelta(0)
        raise SignInLockedOut(retry_at=now + cool_off, retry_after=cool_off)
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


def unlock_sign_in(*, actor: Person, username: str) -> int:
    """Clear `username`'s failed sign-ins and lockouts, from every address; return how many
    records went. An administrator allowed to do it in the admin may clear anyone's; a rota
    manager anyone's but an administrator's (whose password guards the whole system)."""
    if not actor.has_perm("axes.delete_accessattempt"):
        staff = Person.objects.filter(username=username, is_staff=True).exists()
        if actor.job != Person.Job.ROTA_MANAGER or staff:
            raise NotAllowedToUnlock()
    cleared = reset_sign_in_attempts(username=username)
    # No sign-in audit table exists: the log is the record of who unlocked whom.
    logger.warning(
        "sign-in lockout of %r cleared by %r (%d records)", username, actor.username, cleared
    )
    return cleared
