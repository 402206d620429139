"""The outbox of text and pager messages: queueing a bleep's fallbacks with the change that
brings a person in, claiming the due ones for a sender, and recording what gateways said.

A fallback is decided when it is queued (which channels, when) and checked again when it
falls due: by then a device may have confirmed the bleep, someone may have answered it, or
the number may have gone, and then it is skipped, never sent.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Min, QuerySet

from messaging import events
from messaging.actions import Action, ChannelAction
from messaging.fallback.gateways import ChannelAnswer, Outcome, configured_gateways
from messaging.fallback.texts import bleep_text
from messaging.models import (
    Bleep,
    BleepStatus,
    ChannelMessage,
    ChannelPurpose,
    ChannelStatus,
    ContactKind,
    ContactPoint,
    Delivery,
    DeliveryStatus,
    Priority,
)
from messaging.selectors import switchboard_operator_ids
from messaging.services.history import record_channel_outcome
from messaging.services.stream import append_events, stream_transaction
from messaging.states import BLEEP_TRANSITIONS, CHANNEL_TRANSITIONS, allows, next_status

# As the push outbox's lease: a sender has its answer within CHANNEL_TIMEOUT (10 s), and
# a dead sender's rows come back within a minute.
CLAIM_LEASE = timedelta(minutes=1)
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=2)
# 5 + 10 + 20 + 40 s of waiting between five attempts: past that a fallback is stale, and
# a gateway down that long is an outage for the engineer, not something retries mend.
MAX_ATTEMPTS = 5
# Notify is asked how a text went 30 s after it took it, then twice as long each time,
# for as long as it keeps trying itself (72 hours).
FIRST_CHECK = timedelta(seconds=30)
CHECK_MAX = timedelta(minutes=30)
CHECK_FOR = timedelta(hours=72)
# The app's own receipt is proof enough: nothing more needs to reach that recipient.
CONFIRMED = (DeliveryStatus.DELIVERED, DeliveryStatus.READ)


def usable_channels() -> list[ContactKind]:
    """Return the channels a fallback may go on here, in FALLBACK_ORDER, configured ones only."""
    gateways = configured_gateways()
    return [ContactKind(kind) for kind in settings.FALLBACK_ORDER if kind in gateways]


def queue_fallbacks(
    *, bleep: Bleep, recipient_ids: Iterable[int], now: datetime
) -> list[ChannelMessage]:
    """Queue each recipient's text and pager messages, due one after another; return them.

    Runs in the caller's transaction. Each verified, usable number of a recipient gets one
    message per bleep, however often escalation brings them in: the first due FALLBACK_AFTER
    the bleep's priority from now, the next as long again after it, unless an emergency goes
    on every channel at once (FALLBACK_EMERGENCY_AT_ONCE).
    """
    channels = usable_channels()
    if not channels:
        return []
    wait = timedelta(seconds=settings.FALLBACK_AFTER[bleep.priority])
    at_once = bleep.priority == Priority.EMERGENCY and settings.FALLBACK_EMERGENCY_AT_ONCE
    contacts = ContactPoint.objects.filter(
        person_id__in=sorted(set(recipient_ids)),
        kind__in=channels,
        verified_at__isnull=False,
        unusable_at__isnull=True,
    ).order_by("person_id", "pk")
    messages = []
    for contact in contacts:
        place = channels.index(ContactKind(contact.kind))
        due = now if at_once else now + wait * (place + 1)
        messages.append(
            ChannelMessage(
                contact=contact,
                kind=contact.kind,
                purpose=ChannelPurpose.BLEEP,
                recipient_id=contact.person_id,
                bleep=bleep,
                created_at=now,
                due_at=due,
            )
        )
    # A number already texted about this bleep (brought in again) is not texted twice.
    ChannelMessage.objects.bulk_create(messages, ignore_conflicts=True)
    return messages


def queue_message(
    *, contact: ContactPoint, purpose: ChannelPurpose, text: str, now: datetime
) -> ChannelMessage:
    """Queue a code or a notice to one number, due now. Runs in the caller's transaction."""
    return ChannelMessage.objects.create(
        contact=contact,
        kind=contact.kind,
        purpose=purpose,
        recipient_id=contact.person_id,
        text=text,
        created_at=now,
        due_at=now,
    )


Job = Literal["send", "check"]


@dataclass(frozen=True)
class ChannelClaim:
    """What a sender needs for one message, copied out of the database before sending."""

    message_id: int
    job: Job
    attempt: int
    kind: ContactKind
    address: str = ""
    text: str = ""
    provider_id: str = ""

    @property
    def reference(self) -> str:
        """Return the reference the gateway keeps with it: our row, and nothing personal."""
        return f"bleep-channel-{self.message_id}"


def claim_due_messages(
    *, now: datetime, limit: int, retries: bool | None = None
) -> list[ChannelClaim]:
    """Lease up to `limit` messages due to be sent at `now`; settle the ones no longer needed.

    Owns its transaction: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED and leased by
    moving `due_at` on, so no other sender takes them until CLAIM_LEASE has passed. With
    `retries` True only retries, with False only first attempts.
    """
    gateways = configured_gateways()
    with transaction.atomic():
        rows = _locked().filter(status=ChannelStatus.PENDING, due_at__lte=now)
        if retries is not None:
            rows = rows.filter(attempts__gt=0) if retries else rows.filter(attempts=0)
        claims = []
        for message in rows.order_by("due_at", "pk")[:limit]:
            why = _unneeded(message, now=now)
            if why is None and ContactKind(message.kind) not in gateways:
                _settle(message, ChannelAction.FAIL, detail="channel not configured", now=now)
                continue
            if why is not None:
                _settle(message, ChannelAction.SKIP, detail=why, now=now)
                continue
            claims.append(_claim(message, now=now))
        ChannelMessage.objects.filter(pk__in=[claim.message_id for claim in claims]).update(
            due_at=now + CLAIM_LEASE, attempts=F("attempts") + 1
        )
    return claims


def claim_due_checks(*, now: datetime, limit: int) -> list[ChannelClaim]:
    """Lease up to `limit` sent messages whose delivery status is due to be read back.

    Owns its transaction, as `claim_due_messages`.
    """
    with transaction.atomic():
        rows = _locked().filter(status=ChannelStatus.SENT, check_at__lte=now)
        claims = [
            ChannelClaim(
                message_id=message.pk,
                job="check",
                attempt=message.attempts,
                kind=ContactKind(message.kind),
                provider_id=message.provider_id,
            )
            for message in rows.order_by("check_at", "pk")[:limit]
        ]
        ChannelMessage.objects.filter(pk__in=[claim.message_id for claim in claims]).update(
            check_at=now + CLAIM_LEASE
        )
    return claims


def _locked() -> QuerySet[ChannelMessage]:
    return ChannelMessage.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "contact", "bleep__role"
    )


def _unneeded(message: ChannelMessage, *, now: datetime) -> str | None:
    """Return why a due message need not be sent any more, if it need not."""
    contact = message.contact
    if contact is None:
        return "number removed"
    if contact.unusable_at is not None:
        return "number unusable"
    if message.purpose == ChannelPurpose.CODE:
        return None if contact.verified_at is None else "number already verified"
    if contact.verified_at is None:
        return "number not verified"
    if message.purpose != ChannelPurpose.BLEEP:
        return None
    bleep = message.bleep
    assert bleep is not None
    if not allows(BLEEP_TRANSITIONS, BleepStatus(bleep.status), Action.FALLBACK):
        # Nothing may text a phone about a bleep someone has answered or its sender withdrew.
        return f"bleep {bleep.status}"
    status = (
        Delivery.objects.filter(bleep=bleep, recipient_id=message.recipient_id)
        .values_list("status", flat=True)
        .first()
    )
    if status in CONFIRMED:
        return "the app confirmed it"
    if status != DeliveryStatus.SENT:
        return "recipient no longer waiting"
    return None


def _claim(message: ChannelMessage, *, now: datetime) -> ChannelClaim:
    assert message.contact is not None
    text = message.text
    if message.purpose == ChannelPurpose.BLEEP:
        assert message.bleep is not None
        text = bleep_text(bleep=message.bleep, now=now)
    return ChannelClaim(
        message_id=message.pk,
        job="send",
        attempt=message.attempts + 1,
        kind=ContactKind(message.kind),
        address=message.contact.address,
        text=text,
    )


def record_channel_answer(*, claim: ChannelClaim, answer: ChannelAnswer, now: datetime) -> None:
    """Settle a claimed message by what its gateway answered at `now`, and say so in the
    bleep's history.

    Owns its transaction, and changes the row only while this claim still holds it (same
    attempt, same status), so an answer is recorded once however many senders there are.
    """
    with stream_transaction():
        message = (
            ChannelMessage.objects.select_for_update(of=("self",))
            .select_related("contact__person", "bleep")
            .filter(pk=claim.message_id, attempts=claim.attempt)
            .first()
        )
        if message is None:
            return
        if claim.job == "send" and message.status == ChannelStatus.PENDING:
            _record_send(message, answer, attempt=claim.attempt, now=now)
        elif claim.job == "check" and message.status == ChannelStatus.SENT:
            _record_check(message, answer, now=now)


def _record_send(
    message: ChannelMessage, answer: ChannelAnswer, *, attempt: int, now: datetime
) -> None:
    outcome = answer.outcome
    if outcome == Outcome.ACCEPTED:
        _settle(
            message,
            ChannelAction.ACCEPT,
            detail="",
            now=now,
            sent_at=now,
            provider_id=answer.provider_id,
            provider_status=answer.provider_status,
            # Notify reports how a text went; a one-way page has nothing to report.
            check_at=now + FIRST_CHECK if message.kind == ContactKind.SMS else None,
            text="" if message.purpose == ChannelPurpose.CODE else message.text,
        )
        _tell_history(message, outcome="sent", now=now)
    elif outcome == Outcome.RETRY and attempt < MAX_ATTEMPTS:
        wait = min(RETRY_FIRST * 2 ** (attempt - 1), RETRY_MAX)
        _settle(message, ChannelAction.RETRY, detail=answer.detail, now=now, due_at=now + wait)
    else:
        _settle(message, ChannelAction.FAIL, detail=answer.detail, now=now)
        _tell_history(message, outcome="not sent", now=now, why=answer.detail)
        if outcome == Outcome.UNUSABLE:
            mark_unusable(message, reason=answer.detail, now=now)


def _record_check(message: ChannelMessage, answer: ChannelAnswer, *, now: datetime) -> None:
    outcome = answer.outcome
    status = answer.provider_status or message.provider_status
    if outcome == Outcome.DELIVERED:
        _settle(
            message,
            ChannelAction.DELIVER,
            detail="",
            now=now,
            provider_status=status,
            check_at=None,
        )
        _tell_history(message, outcome="delivered", now=now)
    elif outcome in (Outcome.FAILED, Outcome.UNUSABLE):
        _settle(
            message,
            ChannelAction.FAIL,
            detail=status,
            now=now,
            provider_status=status,
            check_at=None,
        )
        _tell_history(message, outcome="not delivered", now=now, why=status)
        if outcome == Outcome.UNUSABLE:
            mark_unusable(message, reason=f"the network says: {status}", now=now)
    else:
        assert message.sent_at is not None
        waited = max(now - message.sent_at, FIRST_CHECK)
        again = now + min(waited, CHECK_MAX)
        more = again < message.sent_at + CHECK_FOR
        _settle(
            message,
            ChannelAction.WAIT,
            detail=answer.detail,
            now=now,
            provider_status=status,
            check_at=again if more else None,
        )


def _settle(
    message: ChannelMessage, action: ChannelAction, *, detail: str, now: datetime, **changes: Any
) -> None:
    """Move one message by `action` through its table and save what changed with it."""
    message.status = next_status(CHANNEL_TRANSITIONS, ChannelStatus(message.status), action)
    message.last_error = detail[:200]
    for field, value in changes.items():
        setattr(message, field, value)
    message.save(update_fields=["status", "last_error", *changes])


def _tell_history(message: ChannelMessage, *, outcome: str, now: datetime, why: str = "") -> None:
    """Add what became of a bleep's text or pager message to the bleep's history."""
    if message.bleep_id is None:
        return
    record_channel_outcome(
        bleep_id=message.bleep_id,
        recipient_id=message.recipient_id,
        action=Action.FALLBACK,
        channel=message.kind,
        outcome=outcome,
        why=why,
        now=now,
    )


def mark_unusable(message: ChannelMessage, *, reason: str, now: datetime) -> None:
    """Stop using a message's number, and tell its owner and switchboard, once.

    Runs in the caller's `stream_transaction`.
    """
    contact = message.contact
    if contact is None:
        return
    changed = ContactPoint.objects.filter(pk=contact.pk, unusable_at__isnull=True).update(
        unusable_at=now, unusable_reason=reason[:200]
    )
    if not changed:
        return
    contact.refresh_from_db()
    event = events.contact_unusable(contact)
    append_events(user_ids=[contact.person_id, *switchboard_operator_ids()], event=event, now=now)


def next_message_due(*, after: datetime) -> datetime | None:
    """Return when the next message not yet due is to be sent or checked, if any."""
    due = ChannelMessage.objects.filter(status=ChannelStatus.PENDING, due_at__gt=after).aggregate(
        at=Min("due_at")
    )["at"]
    check = ChannelMessage.objects.filter(status=ChannelStatus.SENT, check_at__gt=after).aggregate(
        at=Min("check_at")
    )["at"]
    return min((at for at in (due, check) if at is not None), default=None)
