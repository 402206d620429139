"""A person's numbers for text and pager messages: adding one, proving it with a code sent
to it, and removing it. A number is used for bleeps only once its code has come back."""

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.crypto import salted_hmac

from messaging.exceptions import ContactNotFound, InvalidContact
from messaging.fallback.outbox import queue_message, usable_channels
from messaging.fallback.texts import code_text
from messaging.models import ChannelPurpose, ContactKind, ContactPoint
from messaging.services.reachability import resolve_warnings
from messaging.services.stream import stream_transaction
from rota.models import Person

CODE_LIFETIME = timedelta(minutes=10)
# A new code at most once a minute: each is a text the trust pays for, and a flood of them
# to someone else's number is a nuisance the server must not be used for.
CODE_RESEND_AFTER = timedelta(minutes=1)
# Five wrong guesses of a six-digit code leave a chance of 1 in 200,000: then a new code.
CODE_ATTEMPTS = 5
UK_MOBILE = re.compile(r"07(\d{9})")
E164 = re.compile(r"\+[1-9]\d{7,14}")
PAGER_NUMBER = re.compile(r"[A-Za-z0-9]{1,20}")
SEPARATORS = re.compile(r"[\s\-().]")


@dataclass(frozen=True)
class NewCode:
    """A number with a code just queued for it, and when another may be asked for."""

    contact: ContactPoint
    resend_at: datetime


def normalise_address(kind: ContactKind, address: str) -> str:
    """Return a number as stored (a mobile in E.164), or raise InvalidContact naming it."""
    bare = SEPARATORS.sub("", address)
    if kind == ContactKind.SMS:
        if match := UK_MOBILE.fullmatch(bare):
            bare = f"+447{match.group(1)}"
        if bare.startswith("00"):
            bare = f"+{bare[2:]}"
        if not E164.fullmatch(bare):
            raise InvalidContact(
                field="address",
                message="give a mobile number such as 07700 900123 or +44 7700 900123",
            )
        return bare
    if not PAGER_NUMBER.fullmatch(bare):
        raise InvalidContact(field="address", message="give the pager's number: up to 20 digits")
    return bare


def add_contact_point(*, person: Person, kind: str, address: str, now: datetime) -> NewCode:
    """Add a number of `person`'s (replacing their number of that kind) and send it a code.

    Owns its transaction. The number is not used until `verify_contact_point` has its code.
    """
    try:
        contact_kind = ContactKind(kind)
    except ValueError:
        raise InvalidContact(field="kind", message="must be sms or pager") from None
    if contact_kind not in usable_channels():
        raise InvalidContact(
            field="kind",
            message=f"{contact_kind.label.lower()}s are not set up on this server",
        )
    stored = normalise_address(contact_kind, address)
    with stream_transaction():
        ContactPoint.objects.filter(person=person, kind=contact_kind).delete()
        contact = ContactPoint.objects.create(
            person=person, kind=contact_kind, address=stored, created_at=now
        )
        _send_code(contact, now=now)
    return NewCode(contact, now + CODE_RESEND_AFTER)


def resend_code(*, person: Person, contact_id: int, now: datetime) -> NewCode:
    """Send a new code to one of `person`'s numbers not yet verified. Owns its transaction."""
    with transaction.atomic():
        contact = _lock_own(person, contact_id)
        if contact.verified_at is not None:
            raise InvalidContact(field="code", message="this number is already verified")
        assert contact.code_sent_at is not None
        resend_at = contact.code_sent_at + CODE_RESEND_AFTER
        if now < resend_at:
            wait = int((resend_at - now).total_seconds()) + 1
            raise InvalidContact(field="code", message=f"a new code can be sent in {wait} s")
        _send_code(contact, now=now)
    return NewCode(contact, now + CODE_RESEND_AFTER)


def verify_contact_point(
    *, person: Person, contact_id: int, code: str, now: datetime
) -> ContactPoint:
    """Mark one of `person`'s numbers verified if `code` is the one last sent to it.

    Owns its transaction; a wrong guess is counted even though it is refused.
    """
    with transaction.atomic():
        contact = _lock_own(person, contact_id)
        if contact.verified_at is not None:
            return contact
        refusal = _code_refusal(contact, code.strip(), now=now)
        if refusal is None:
            contact.verified_at = now
            contact.code_digest = ""
            contact.save(update_fields=["verified_at", "code_digest"])
            # A number that works may be all a warning before a shift was waiting for.
            resolve_warnings(person_ids=[person.pk], now=now)
            return contact
        contact.code_attempts += 1
        contact.save(update_fields=["code_attempts"])
    raise InvalidContact(field="code", message=refusal)


def remove_contact_point(*, person: Person, contact_id: int) -> None:
    """Remove one of `person`'s numbers; messages still queued for it are skipped."""
    with transaction.atomic():
        _lock_own(person, contact_id).delete()


def _lock_own(person: Person, contact_id: int) -> ContactPoint:
    contact = ContactPoint.objects.select_for_update().filter(pk=contact_id, person=person).first()
    if contact is None:
        raise ContactNotFound
    return contact


def _send_code(contact: ContactPoint, *, now: datetime) -> None:
    code = new_code()
    contact.code_digest = code_digest(contact, code)
    contact.code_sent_at = now
    contact.code_attempts = 0
    contact.save(update_fields=["code_digest", "code_sent_at", "code_attempts"])
    queue_message(contact=contact, purpose=ChannelPurpose.CODE, text=code_text(code), now=now)


def _code_refusal(contact: ContactPoint, code: str, *, now: datetime) -> str | None:
    if contact.code_attempts >= CODE_ATTEMPTS:
        return "too many wrong codes: ask for a new one"
    if contact.code_sent_at is None or now > contact.code_sent_at + CODE_LIFETIME:
        return "this code has expired: ask for a new one"
    if not hmac.compare_digest(contact.code_digest, code_digest(contact, code)):
        return "that is not the code sent to this number"
    return None


def new_code() -> str:
    """Return a fresh six-digit verification code."""
    return f"{secrets.randbelow(10**6):06d}"


def code_digest(contact: ContactPoint, code: str) -> str:
    """Return the digest kept of a code: keyed by the server's secret and the number."""
    return salted_hmac("bleep.contact-code", f"{contact.pk}:{code}", algorithm="sha256").hexdigest()
