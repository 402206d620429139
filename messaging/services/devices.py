"""Devices: sign in (with a second factor where one is set), authenticate a socket or a
request, revoke, expire, disable an account."""

import logging
from datetime import datetime, timedelta

from axes.helpers import get_cool_off
from axes.utils import reset as reset_sign_in_attempts
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest

from bleep.tokens import digest_token, new_token
from messaging import events
from messaging.exceptions import (
    InvalidCredentials,
    InvalidToken,
    MfaEnrolmentRequired,
    MfaInvalid,
    MfaRequired,
    NotAllowedToUnlock,
    PasswordSignInOff,
    SignInLockedOut,
)
from messaging.models import Device, SignInMethod, SignInRecord, SsoIdentity
from messaging.push import delete_push_subscription
from messaging.selectors import mfa_enrolled, mfa_required
from messaging.services import mfa
from rota.models import Person

logger = logging.getLogger(__name__)

# A device's last use is written at most this often: one write per request cost more than
# the request, and idle expiry counts in days, so a minute's error does not matter.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def device_expires_at(device: Device) -> datetime:
    """Return when `device`'s token stops working: idle too long or too long since sign-in.

    The one place the rule lives: authentication, the sweep and every answer that tells
    the app when to ask its person to sign in again all read it here.
    """
    idle_end = device.last_seen_at + timedelta(days=settings.DEVICE_IDLE_DAYS)
    lifetime_end = device.created_at + timedelta(days=settings.DEVICE_LIFETIME_DAYS)
    if device.sso_ends_at is not None:
        # Signed in through the identity provider: bounded by its session too.
        return min(idle_end, lifetime_end, device.sso_ends_at)
    return min(idle_end, lifetime_end)


def sign_in_device(
    *,
    username: str,
    password: str,
    device_name: str,
    request: HttpRequest,
    now: datetime,
    end_other_sessions: bool = False,
    otp: str | None = None,
) -> tuple[Device, str]:
    """Check the password and the second factor, and register a new device; return it with
    its token (shown once).

    `request` is the sign-in's HTTP request: the throttle (django-axes, in the first
    authentication backend) counts failures by account and client address, and refuses a
    locked-out pair before the password is checked. A wrong `otp` counts as a failure there
    too, so guessing codes locks out as guessing passwords does. Someone who must use a
    second factor and has none yet gets no device: MfaEnrolmentRequired carries a token
    that only enrols one (`finish_sign_in_by_enrolling`). With `end_other_sessions`, every
    other device of the person is signed out as well.
    """
    user = authenticate(request, username=username, password=password)
    _refuse_if_locked_out(request, now)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    # Only once the password is known right: the refusal must not tell a guesser which
    # accounts exist or are linked to single sign-on.
    method = password_sign_in_method(person=user, now=now)
    if method is None:
        raise PasswordSignInOff()
    if mfa_enrolled(user):
        _check_second_factor(user, otp, request, now)
    elif mfa_required(user):
        token, expires_at = mfa.issue_enrolment_token(
            person=user, device_name=device_name, end_other_sessions=end_other_sessions, now=now
        )
        raise MfaEnrolmentRequired(token=token, expires_at=expires_at)
    device, token = register_device(
        person=user, device_name=device_name, now=now, end_other_sessions=end_other_sessions
    )
    if method == SignInMethod.BREAK_GLASS:
        SignInRecord.objects.create(person=user, method=method, at=now, device=device)
        logger.warning("break-glass password sign-in by %r", user.username)
    return device, token


def password_sign_in_method(*, person: Person, now: datetime) -> SignInMethod | None:
    """Return how `person` may sign in with a password: PASSWORD; BREAK_GLASS while an
    operator's grant lasts for someone linked to single sign-on (whether or not password
    sign-in is on: the grant is for when the provider is down); None if not at all.

    Linked to single sign-on means signing in there: a password kept from before would
    outlive the provider's disabling of the account.
    """
    linked = SsoIdentity.objects.filter(person=person).first() if settings.OIDC_ISSUER else None
    if linked is not None and linked.break_glass_until and now < linked.break_glass_until:
        return SignInMethod.BREAK_GLASS
    if not settings.PASSWORD_SIGN_IN or linked is not None:
        return None
    return SignInMethod.PASSWORD


def finish_sign_in_by_enrolling(
    *, ticket: mfa.EnrolmentTicket, otp: str, now: datetime
) -> tuple[Device, list[str], str]:
    """Confirm the authenticator started with an enrolment token and sign in the device that
    token stood for; return the device, its token (shown once) and the recovery codes."""
    codes = mfa.confirm_enrolment(person=ticket.person, otp=otp, now=now)
    device, token = register_device(
        person=ticket.person,
        device_name=ticket.device_name,
        now=now,
        end_other_sessions=ticket.end_other_sessions,
    )
    return device, codes, token


def register_device(
    *, person: Person, device_name: str, now: datetime, end_other_sessions: bool = False
) -> tuple[Device, str]:
    """Register a new device for `person`, whose credentials are already checked; return it
    with its token (shown once).

    Owns its transaction: the new device and the others' ending (`end_other_sessions`)
    commit together.
    """
    token = new_token()
    with transaction.atomic():
        device = Device.objects.create(
            user=person,
            name=device_name,
            token_digest=digest_token(token),
            created_at=now,
            last_seen_at=now,
        )
        if end_other_sessions:
            others = Device.objects.filter(user=person, revoked_at__isnull=True)
            for other in others.exclude(pk=device.pk).select_for_update():
                revoke_device(device=other, now=now)
    return device, token


def _refuse_if_locked_out(request: HttpRequest, now: datetime) -> None:
    if getattr(request, "axes_locked_out", False):
        # Every attempt while locked out, the right password included, counts as a failure
        # and starts the cool-off again (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
        cool_off = get_cool_off(request) or timedelta(0)
        raise SignInLockedOut(retry_at=now + cool_off, retry_after=cool_off)


def _check_second_factor(
    person: Person, otp: str | None, request: HttpRequest, now: datetime
) -> None:
    """Refuse the sign-in unless `otp` is good; a wrong one is a failed sign-in for axes."""
    if not otp:
        raise MfaRequired()
    if mfa.verify_second_factor(person=person, otp=otp, now=now):
        return
    # Django's own failure signal, the one `authenticate` sends for a wrong password: axes
    # counts it, locks out at the limit and logs it, so both factors share one throttle.
    credentials = {"username": person.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    _refuse_if_locked_out(request, now)
    raise MfaInvalid()


def authenticate_device(*, token: str, now: datetime) -> Device:
    """Return the live device holding `token`, or raise InvalidToken.

    A device found expired is ended on the spot (sockets closed, push subscriptions gone),
    so its token is refused the same way as an unknown one.
    """
    try:
        # `get`, not `first`: the digest is unique, and `first` pays to compile an ordering
        # on every request and every socket's sign-in.
        device = Device.objects.select_related("user").get(
            token_digest=digest_token(token), revoked_at__isnull=True, user__is_active=True
        )
    except Device.DoesNotExist:
        raise InvalidToken() from None
    if now >= device_expires_at(device):
        end_expired_device(device_id=device.pk, now=now)
        raise InvalidToken()
    if now - device.last_seen_at > LAST_SEEN_RESOLUTION:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now
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


def end_expired_device(*, device_id: int, now: datetime) -> Device | None:
    """End one device if its token has expired by `now`; return it, or None if it had not.

    Its token is marked revoked at the moment it expired, its push subscriptions are
    deleted and its sockets closed, as for a sign-out. Owns its transaction and locks the
    device row, so a use of the token at the same moment either comes first and keeps the
    device alive or finds it ended.
    """
    with transaction.atomic():
        device = (
            Device.objects.select_for_update().filter(pk=device_id, revoked_at__isnull=True).first()
        )
        if device is None or now < device_expires_at(device):
            return None
        return revoke_device(device=device, now=device_expires_at(device))


def expire_devices(*, now: datetime) -> list[Device]:
    """End every device whose token has expired by `now`; return those ended.

    Run periodically by the escalation worker: a phone that is lost or forgotten and never
    used again must still lose its push subscriptions and have its sockets closed.
    """
    idle_since = now - timedelta(days=settings.DEVICE_IDLE_DAYS)
    signed_in_before = now - timedelta(days=settings.DEVICE_LIFETIME_DAYS)
    due = Device.objects.filter(revoked_at__isnull=True).filter(
        Q(last_seen_at__lte=idle_since)
        | Q(created_at__lte=signed_in_before)
        | Q(sso_ends_at__lte=now)
    )
    ended = (end_expired_device(device_id=pk, now=now) for pk in due.values_list("pk", flat=True))
    return [device for device in ended if device is not None]
