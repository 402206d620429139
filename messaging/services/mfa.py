"""Second factor: enrol an authenticator (TOTP), recovery codes, check a code, turn it off.

django-otp keeps the authenticators (`TOTPDevice`) and the recovery codes (one
`StaticDevice` per person holding ten single-use `StaticToken`s) and checks codes: it
refuses a code used before and slows guessing per authenticator (1, 2, 4 … seconds after
each wrong code in a row). Its session login and middleware are not used: the API signs in
devices with bearer tokens (messaging/services/devices.py), which ask for a code here.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp import verify_token
from django_otp.models import Device as OtpDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging.exceptions import (
    InvalidToken,
    MfaInvalid,
    MfaMandatory,
    MfaNotEnrolled,
    MfaRequired,
    MfaThrottled,
)
from messaging.selectors import mfa_enrolled, mfa_required
from rota.models import Person

RECOVERY_CODE_COUNT = 10
# Long enough to install an authenticator app and type its first code; short, because
# it stands for a password that was checked.
ENROLMENT_TOKEN_LIFETIME = timedelta(minutes=10)
ENROLMENT_SALT = "bleep.mfa.enrolment"
AUTHENTICATOR_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery codes"
TOTP_CODE = re.compile(r"\d{6}")


@dataclass(frozen=True)
class EnrolmentTicket:
    """What an enrolment token stands for: a checked password, and the sign-in to finish."""

    person: Person
    device_name: str
    end_other_sessions: bool


def verify_second_factor(*, person: Person, otp: str, now: datetime) -> bool:
    """Return whether `otp` is a current code of `person`'s authenticator or one of their
    unused recovery codes (then used up); raise MfaThrottled while guessing is slowed.

    Six digits are an authenticator's code; anything else is read as a recovery code.
    django-otp locks the authenticator's row while it checks, so a code works once.
    """
    code = otp.strip()
    if TOTP_CODE.fullmatch(code):
        device: OtpDevice | None = TOTPDevice.objects.filter(user=person, confirmed=True).first()
    else:
        code = code.replace("-", "").replace(" ", "").lower()
        device = StaticDevice.objects.filter(user=person, confirmed=True).first()
    return device is not None and _verify(person, device, code, now)


def start_enrolment(*, person: Person, otp: str | None, now: datetime) -> TOTPDevice:
    """Make a new authenticator for `person`, not yet in use; return it (its secret is shown
    once, to be typed or scanned into an app).

    Someone already enrolled is changing authenticator (a new phone): they prove it is them
    with a current code or a recovery code, and the old authenticator keeps working until
    the new one is confirmed. Any earlier unconfirmed one is replaced.
    """
    if mfa_enrolled(person):
        _require_second_factor(person=person, otp=otp, now=now)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person, confirmed=False).delete()
        return TOTPDevice.objects.create(user=person, name=AUTHENTICATOR_NAME, confirmed=False)


def confirm_enrolment(*, person: Person, otp: str, now: datetime) -> list[str]:
    """Put `person`'s new authenticator in use once `otp` shows it works, replacing any old
    one; return ten new recovery codes (shown once; the old ones stop working).

    Owns its transaction once the code is checked: the authenticator and the codes change
    together. A wrong code is recorded (django-otp's slowing) before the refusal.
    """
    pending = TOTPDevice.objects.filter(user=person, confirmed=False).order_by("-pk").first()
    if pending is None:
        raise MfaNotEnrolled("start enrolment first")
    if not _verify(person, pending, otp.strip(), now):
        raise MfaInvalid()
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person, confirmed=True).delete()
        pending.confirmed = True
        pending.save(update_fields=["confirmed"])
        return _new_recovery_codes(person)


def replace_recovery_codes(*, person: Person, otp: str, now: datetime) -> list[str]:
    """Give an enrolled `person` ten new recovery codes, the old ones ending; needs a code."""
    if not mfa_enrolled(person):
        raise MfaNotEnrolled("no authenticator is enrolled")
    _require_second_factor(person=person, otp=otp, now=now)
    with transaction.atomic():
        return _new_recovery_codes(person)


def disable_mfa(*, person: Person, otp: str, now: datetime) -> None:
    """Remove `person`'s authenticator and recovery codes, if their role lets them; needs a
    code. Their signed-in devices stay signed in."""
    if mfa_required(person):
        raise MfaMandatory()
    if not mfa_enrolled(person):
        raise MfaNotEnrolled("no authenticator is enrolled")
    _require_second_factor(person=person, otp=otp, now=now)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=person).delete()
        StaticDevice.objects.filter(user=person).delete()


def issue_enrolment_token(
    *, person: Person, device_name: str, end_other_sessions: bool, now: datetime
) -> tuple[str, datetime]:
    """Return a token that lets `person` enrol an authenticator and finish this sign-in, and
    when it stops working.

    Signed, not stored: it names the person and the sign-in to finish, and a digest of their
    password hash, so changing the password ends it. It works only until they are enrolled.
    """
    expires_at = now + ENROLMENT_TOKEN_LIFETIME
    payload = {
        "person": person.pk,
        "device_name": device_name,
        "end_other_sessions": end_other_sessions,
        "expires_at": expires_at.timestamp(),
        "password": _password_digest(person),
    }
    return signing.dumps(payload, salt=ENROLMENT_SALT), expires_at


def read_enrolment_token(*, token: str, now: datetime) -> EnrolmentTicket:
    """Return what a live enrolment token stands for, or raise InvalidToken."""
    try:
        payload = signing.loads(token, salt=ENROLMENT_SALT)
        person = Person.objects.get(pk=payload["person"], is_active=True)
        live = now.timestamp() < float(payload["expires_at"])
        device_name, end_others = str(payload["device_name"]), bool(payload["end_other_sessions"])
    except (signing.BadSignature, Person.DoesNotExist, KeyError, TypeError, ValueError):
        raise InvalidToken() from None
    if not live or not constant_time_compare(payload["password"], _password_digest(person)):
        raise InvalidToken()
    if mfa_enrolled(person):
        raise InvalidToken()
    return EnrolmentTicket(person, device_name, end_others)


def _require_second_factor(*, person: Person, otp: str | None, now: datetime) -> None:
    if not otp:
        raise MfaRequired()
    if not verify_second_factor(person=person, otp=otp, now=now):
        raise MfaInvalid()


def _verify(person: Person, device: OtpDevice, code: str, now: datetime) -> bool:
    """Check `code` on `device` through django-otp; raise MfaThrottled while it is slowed."""
    allowed, why = device.verify_is_allowed()
    if not allowed:
        retry_at = (why or {}).get("locked_until") or now
        raise MfaThrottled(retry_at=retry_at, retry_after=max(retry_at - now, timedelta(0)))
    return verify_token(person, device.persistent_id, code) is not None


def _new_recovery_codes(person: Person) -> list[str]:
    """Replace `person`'s recovery codes with new ones; the caller owns the transaction."""
    recovery, _ = StaticDevice.objects.get_or_create(
        user=person, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    recovery.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=code) for code in codes)
    recovery.throttle_reset()
    return codes


def _password_digest(person: Person) -> str:
    return salted_hmac(ENROLMENT_SALT, person.password, algorithm="sha256").hexdigest()
