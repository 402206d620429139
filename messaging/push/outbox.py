"""The outbox of pushes: queueing them with the change that decides them, claiming the due
ones for a sender, and recording what the push service answered."""

import enum
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from messaging.actions import Action, PushAction
from messaging.models import (
    Bleep,
    BleepStatus,
    Delivery,
    PhoneTest,
    Priority,
    PushMessage,
    PushStatus,
    PushSubscription,
    PushUrgency,
)
from messaging.push.subscriptions import forget_push_subscription
from messaging.services.history import record_channel_outcome
from messaging.states import BLEEP_TRANSITIONS, PUSH_TRANSITIONS, WAITING, allows, next_status

logger = logging.getLogger(__name__)

KIND_TITLES = {
    "test": "Test bleep",
    "new": "{priority} bleep",
    "reminder": "Reminder: {priority} bleep",
    "escalated": "Escalated: {priority} bleep",
}
# Urgency "high" lets a phone in battery saving wake at once (RFC 8030 section 5.3).
HIGH_URGENCY = {Priority.URGENT, Priority.EMERGENCY}
TOPIC_MAX_LENGTH = 32  # RFC 8030 section 5.4
MAX_TTL = timedelta(days=28)  # FCM's ceiling; the other push services allow as much or more

# A claimed row is hidden from other senders this long. A sender posts a push as soon as it
# claims it and has its answer, or gives up, within PUSH_TIMEOUT (10 s), then records it:
# a minute leaves room for a slow database, so no row is sent twice at once; and rows held
# by a sender that died come back within a minute, inside even an emergency's TTL, rather
# than being lost.
CLAIM_LEASE = timedelta(minutes=1)
# A retry waits this long after the attempt ended, twice as long after each further one up
# to RETRY_MAX: a push service that stalled is not asked again while it is still stalling.
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=2)
# A push service asking for more than this is treated as asking for this: the TTL decides.
RETRY_AFTER_MAX = timedelta(minutes=10)
ACCEPTED = {200, 201, 202}
SUBSCRIPTION_GONE = {404, 410}
TOO_MANY_REQUESTS = 429
PAYLOAD_TOO_LARGE = 413
# Besides 5xx and no answer at all: worth trying again later.
RETRYABLE = {408, TOO_MANY_REQUESTS}
SERVER_ERROR = 500


def queue_pushes(
    *, bleep: Bleep, recipient_ids: Iterable[int], kind: str, ttl: timedelta, now: datetime
) -> list[PushMessage]:
    """Queue one push per subscription of each recipient's live devices; return the rows.

    Runs in the caller's transaction, so the pushes commit or roll back with the change
    that caused them; the worker's `PushSender` sends them after commit.
    """
    if kind not in KIND_TITLES:
        raise ValueError(f"kind must be one of {sorted(KIND_TITLES)}")
    # Never 0: pywebpush's default, which lets the push service drop the push as soon as
    # the phone is out of signal for a moment.
    if not timedelta(seconds=1) <= ttl <= MAX_TTL:
        raise ValueError(f"ttl must be between 1 second and {MAX_TTL}")
    subscriptions = PushSubscription.objects.filter(
        device__user_id__in=list(recipient_ids),
        device__revoked_at__isnull=True,
        device__user__is_active=True,
    ).order_by("pk")
    payload = _payload(bleep=bleep, kind=kind)
    urgency = PushUrgency.HIGH if bleep.priority in HIGH_URGENCY else PushUrgency.NORMAL
    messages = [
        PushMessage(
            subscription=subscription,
            bleep=bleep,
            payload=payload,
            urgency=urgency,
            topic=push_topic(bleep),
            ttl_seconds=math.ceil(ttl.total_seconds()),
            created_at=now,
            due_at=now,
        )
        for subscription in subscriptions
    ]
    return PushMessage.objects.bulk_create(messages)


def queue_test_pushes(*, test: PhoneTest, ttl: timedelta, now: datetime) -> list[PushMessage]:
    """Queue a phone test's push to every subscription of its person's live devices.

    Runs in the caller's transaction; urgent, as a bleep's would be, so the test proves
    what a bleep would do.
    """
    subscriptions = PushSubscription.objects.filter(
        device__user_id=test.person_id, device__revoked_at__isnull=True
    ).order_by("pk")
    payload = {
        "test_id": test.pk,
        "kind": "test",
        "title": KIND_TITLES["test"],
        "body": "Tap to confirm your phone rings for bleeps",
        "tag": f"test-{test.pk}",
        "url": "/#/account",
    }
    messages = [
        PushMessage(
            subscription=subscription,
            phone_test=test,
            payload=payload,
            urgency=PushUrgency.HIGH,
            topic=f"test-{test.pk}",
            ttl_seconds=math.ceil(ttl.total_seconds()),
            created_at=now,
            due_at=now,
        )
        for subscription in subscriptions
    ]
    return PushMessage.objects.bulk_create(messages)


def push_topic(bleep: Bleep) -> str:
    """Return the Topic that makes a bleep's newer push replace an undelivered older one."""
    topic = f"bleep-{bleep.pk}"
    assert len(topic) <= TOPIC_MAX_LENGTH
    return topic


class Lane(enum.Enum):
    """Which due pushes a claim takes, so that pushes likely to stall never crowd the rest."""

    # First attempts to subscriptions not known to stall: nearly every push, answered in
    # well under a second.
    FIRST = "first"
    # Retries, and pushes to subscriptions whose push service lately left one unanswered.
    SLOW = "slow"


@dataclass(frozen=True)
class PushClaim:
    """What a sender needs to post one push, copied out of the database before sending."""

    message_id: int
    attempt: int
    # The bleep it wakes a phone for (none for a phone test), and whose phone.
    bleep_id: int | None
    recipient_id: int
    subscription_id: int
    endpoint: str
    keys: dict[str, str]
    payload: dict[str, Any]
    headers: dict[str, str | int | float]
    ttl_seconds: int
    expires_at: datetime

    @property
    def host(self) -> str:
        """Return the push service's host (and port, if named) this push goes to."""
        return urlsplit(self.endpoint).netloc


@dataclass(frozen=True)
class PushAnswer:
    """What the push service said: a status code, or why there was none."""

    status: int | None
    retry_after: str | None = None
    detail: str = ""
    # No answer within PUSH_TIMEOUT: the push service stalled on this subscription.
    timed_out: bool = False


def claim_due_pushes(
    *,
    now: datetime,
    limit: int,
    lane: Lane | None = None,
    stalled: frozenset[int] = frozenset(),
    skip_hosts: frozenset[str] = frozenset(),
    admit: Callable[[PushClaim], bool] | None = None,
) -> tuple[list[PushClaim], int]:
    """Lease up to `limit` pushes due at `now` to this sender; return them and how many
    were settled without sending (bleep answered, device signed out, TTL passed).

    Owns its transaction: rows are claimed with SELECT … FOR UPDATE SKIP LOCKED and leased
    by moving `due_at` forward, so no other sender takes them until CLAIM_LEASE has passed.
    With `lane`, only that lane's pushes (`stalled`: the subscriptions known to stall);
    none to `skip_hosts`; and a push `admit` refuses is left due for a later claim.
    """
    with transaction.atomic():
        due = list(_due(now=now, lane=lane, stalled=stalled, skip_hosts=skip_hosts)[:limit])
        claims: list[PushClaim] = []
        settled = 0
        for message in due:
            refusal = _unsendable(message, now=now)
            if refusal is not None:
                action, why = refusal
                _move(message.pk, message.attempts, action=action, detail=why, now=now)
                settled += 1
                continue
            claim = _claim(message, now=now)
            if admit is None or admit(claim):
                claims.append(claim)
        PushMessage.objects.filter(pk__in=[claim.message_id for claim in claims]).update(
            due_at=now + CLAIM_LEASE, attempts=F("attempts") + 1
        )
    return claims, settled


def _due(
    *, now: datetime, lane: Lane | None, stalled: frozenset[int], skip_hosts: frozenset[str]
) -> QuerySet[PushMessage]:
    waiting = Delivery.objects.filter(
        bleep=OuterRef("bleep"),
        recipient=OuterRef("subscription__device__user"),
        status__in=WAITING,
    )
    rows = (
        PushMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("bleep", "phone_test", "subscription__device__user")
        .annotate(recipient_waiting=Exists(waiting))
        .filter(status=PushStatus.PENDING, due_at__lte=now)
    )
    slow = Q(attempts__gt=0) | Q(subscription_id__in=stalled)
    if lane is Lane.SLOW:
        rows = rows.filter(slow)
    elif lane is Lane.FIRST:
        rows = rows.exclude(slow)
    for host in sorted(skip_hosts):
        rows = rows.exclude(subscription__endpoint__startswith=f"https://{host}/")
    return rows.order_by("due_at", "pk")


def _unsendable(message: PushMessage, *, now: datetime) -> tuple[PushAction, str] | None:
    """Return the action and reason that settle a push without sending it, if any."""
    if message.bleep is None:
        return _untestable(message, now=now)
    if not allows(BLEEP_TRANSITIONS, BleepStatus(message.bleep.status), Action.PUSH):
        # Nothing may ring a phone about a bleep someone has answered or its sender withdrew.
        return PushAction.SKIP, f"bleep {message.bleep.status}"
    subscription = message.subscription
    if subscription is None:
        return PushAction.FORGET, "subscription deleted"
    device = subscription.device
    if device.revoked_at is not None or not device.user.is_active:
        return PushAction.FORGET, "device signed out"
    if not getattr(message, "recipient_waiting", True):
        # Its own recipient has answered (declined, or switchboard took it on) or was
        # released by a redirect: ringing that phone again would be noise, not a bleep.
        return PushAction.SKIP, "recipient no longer waiting"
    if now >= message.created_at + timedelta(seconds=message.ttl_seconds):
        logger.warning("push %s expired before it could be sent", message.pk)
        return PushAction.FAIL, "expired before it could be sent"
    return None


def _untestable(message: PushMessage, *, now: datetime) -> tuple[PushAction, str] | None:
    """Return the action and reason that settle a phone test's push unsent, if any."""
    subscription = message.subscription
    if subscription is None:
        return PushAction.FORGET, "subscription deleted"
    if subscription.device.revoked_at is not None:
        return PushAction.FORGET, "device signed out"
    if message.phone_test is not None and message.phone_test.confirmed_at is not None:
        return PushAction.SKIP, "test already confirmed"
    if now >= message.created_at + timedelta(seconds=message.ttl_seconds):
        return PushAction.FAIL, "expired before it could be sent"
    return None


def _claim(message: PushMessage, *, now: datetime) -> PushClaim:
    subscription = message.subscription
    assert subscription is not None
    expires_at = message.created_at + timedelta(seconds=message.ttl_seconds)
    return PushClaim(
        message_id=message.pk,
        attempt=message.attempts + 1,
        bleep_id=message.bleep_id,
        recipient_id=subscription.device.user_id,
        subscription_id=subscription.pk,
        endpoint=subscription.endpoint,
        keys={"p256dh": subscription.p256dh, "auth": subscription.auth},
        payload=message.payload,
        headers={"Urgency": message.urgency, "Topic": message.topic},
        # A retry asks the push service to keep it only until the original expiry.
        ttl_seconds=max(1, math.ceil((expires_at - now).total_seconds())),
        expires_at=expires_at,
    )


def record_push_answer(*, claim: PushClaim, answer: PushAnswer, now: datetime) -> None:
    """Settle a claimed push by the answer that came at `now`: sent, retried, gone or failed,
    and add a settled bleep push's outcome to the bleep's history.

    `now` is when the attempt ended, so a retry waits its backoff from then, never from
    when the push was claimed. Each answer is its own transaction, and changes the row only
    while this claim still holds it (same attempt, still pending).
    """
    status = answer.status
    if status in ACCEPTED:
        _settle(claim, action=PushAction.ACCEPT, detail="", now=now)
    elif status in SUBSCRIPTION_GONE:
        logger.info("push %s: subscription gone (%s); deleting it", claim.message_id, status)
        with transaction.atomic():
            forget_push_subscription(subscription_id=claim.subscription_id, reason=answer.detail)
            _tell_history(claim, outcome="gone", why=answer.detail, now=now)
    elif status is None or status >= SERVER_ERROR or status in RETRYABLE:
        _retry_or_fail(claim=claim, answer=answer, now=now)
    else:
        # 413 means our payload is too large, 400/401/403 a bad request or VAPID key: our
        # bug or our configuration, never fixed by trying again.
        what = "payload too large" if status == PAYLOAD_TOO_LARGE else "refused"
        logger.error("push %s %s by the push service: %s", claim.message_id, what, answer.detail)
        _settle(claim, action=PushAction.FAIL, detail=answer.detail, now=now)


def _retry_or_fail(*, claim: PushClaim, answer: PushAnswer, now: datetime) -> None:
    wait = _backoff(claim.attempt)
    if answer.status == TOO_MANY_REQUESTS:
        wait = _retry_after(answer.retry_after, now=now) or wait
    retry_at = now + wait
    if retry_at >= claim.expires_at:
        logger.warning(
            "push %s: %s; giving up, its TTL has passed", claim.message_id, answer.detail
        )
        _settle(claim, action=PushAction.FAIL, detail=answer.detail, now=now)
        return
    logger.warning("push %s: %s; retrying at %s", claim.message_id, answer.detail, retry_at)
    _settle(claim, action=PushAction.RETRY, detail=answer.detail, now=now, retry_at=retry_at)


# What the history says of each settled push: accepted by the push service (not shown on
# the phone: the device's receipt says that), or never sent.
PUSH_OUTCOMES = {PushAction.ACCEPT: "accepted", PushAction.FAIL: "failed"}


def _settle(
    claim: PushClaim,
    *,
    action: PushAction,
    detail: str,
    now: datetime,
    retry_at: datetime | None = None,
) -> None:
    """Move one claimed push by `action`, unless another sender has claimed it since."""
    with transaction.atomic():
        moved = _move(
            claim.message_id,
            claim.attempt,
            action=action,
            detail=detail,
            now=now,
            retry_at=retry_at,
        )
        if moved and action in PUSH_OUTCOMES:
            _tell_history(claim, outcome=PUSH_OUTCOMES[action], why=detail, now=now)


def _move(
    message_id: int,
    attempt: int,
    *,
    action: PushAction,
    detail: str,
    now: datetime,
    retry_at: datetime | None = None,
) -> bool:
    """Move one pending push by `action`, unless another sender has claimed it since;
    return whether it moved."""
    status = next_status(PUSH_TRANSITIONS, PushStatus.PENDING, action)
    changes: dict[str, Any] = {"status": status, "last_error": detail[:200]}
    if action == PushAction.ACCEPT:
        changes["sent_at"] = now
    if retry_at is not None:
        changes["due_at"] = retry_at
    rows = PushMessage.objects.filter(pk=message_id, attempts=attempt, status=PushStatus.PENDING)
    return bool(rows.update(**changes))


def _tell_history(claim: PushClaim, *, outcome: str, why: str, now: datetime) -> None:
    """Add what became of a bleep's push to the bleep's history (a phone test's has none).

    Runs in the caller's transaction.
    """
    if claim.bleep_id is None:
        return
    record_channel_outcome(
        bleep_id=claim.bleep_id,
        recipient_id=claim.recipient_id,
        action=Action.PUSH,
        channel="push",
        outcome=outcome,
        # An accepted push needs no reason; a failed one says what the push service said.
        why="" if outcome == "accepted" else why,
        now=now,
    )


def _backoff(attempt: int) -> timedelta:
    return min(RETRY_FIRST * 2 ** max(attempt - 1, 0), RETRY_MAX)


def _retry_after(value: str | None, *, now: datetime) -> timedelta | None:
    """Return the wait a Retry-After header asks for (seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        wait = (when if when.tzinfo else when.replace(tzinfo=UTC)) - now
    return min(max(wait, RETRY_FIRST), RETRY_AFTER_MAX)


def _payload(*, bleep: Bleep, kind: str) -> dict[str, Any]:
    # Shown on a lock screen: no message, location, bed, NHS number or callback. The app
    # fetches those over the authenticated API.
    priority = Priority(bleep.priority)
    if bleep.role is not None:
        body = f"{bleep.role.name} ({bleep.role.bleep_number})"
    else:
        body = "To you by name"
    return {
        "bleep_id": bleep.pk,
        "kind": kind,
        "priority": priority.value,
        "title": KIND_TITLES[kind].format(priority=priority.label).capitalize(),
        "body": body,
        "tag": push_topic(bleep),
        "url": f"/bleeps/{bleep.pk}",
    }
