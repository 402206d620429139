"""Web Push: devices' subscriptions, the outbox of pushes, and sending them to push services.

A push only wakes a phone: it says a bleep is waiting, never what it says, and a 201 from
the push service is not a delivery (only the device's `delivered` receipt is). Pushes are
rows, queued in the transaction that decides them and sent afterwards, outside it.
"""

import json
import logging
import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from bleep.config import load_vapid_key, vapid_public_key
from bleep.transitions import next_state
from messaging.exceptions import IllegalTransition
from messaging.models import (
    Bleep,
    BleepStatus,
    Device,
    Priority,
    PushMessage,
    PushStatus,
    PushSubscription,
    PushUrgency,
)
from messaging.validators import check_auth_secret, check_p256dh, check_push_endpoint

logger = logging.getLogger(__name__)

# A browser keeps one subscription per site; a few more allow for renewals, and the cap
# stops one login from making the server post to thousands of endpoints per bleep.
MAX_SUBSCRIPTIONS_PER_DEVICE = 5

KIND_TITLES = {
    "new": "{priority} bleep",
    "reminder": "Reminder: {priority} bleep",
    "escalated": "Escalated: {priority} bleep",
}
# Urgency "high" lets a phone in battery saving wake at once (RFC 8030 section 5.3).
HIGH_URGENCY = {Priority.URGENT, Priority.EMERGENCY}
TOPIC_MAX_LENGTH = 32  # RFC 8030 section 5.4
MAX_TTL = timedelta(days=28)  # FCM's ceiling; the other push services allow as much or more

PUSH_TIMEOUT = timedelta(seconds=10)
PUSH_SENDERS = 8
PUSH_CLAIM_BATCH = 2 * PUSH_SENDERS
# A claimed row is hidden from other senders this long. A batch is two rounds of requests,
# each allowed PUSH_TIMEOUT to connect and PUSH_TIMEOUT to answer (40 s), so no row is sent
# twice at once; and rows held by a sender that died come back within a minute, inside
# even an emergency's TTL, rather than being lost.
CLAIM_LEASE = timedelta(minutes=1)
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=2)
# A push service asking for more than this is treated as asking for this: the TTL decides.
RETRY_AFTER_MAX = timedelta(minutes=10)
VAPID_LIFETIME = timedelta(hours=12)  # RFC 8292 allows at most 24 hours
ACCEPTED = {200, 201, 202}
SUBSCRIPTION_GONE = {404, 410}
TOO_MANY_REQUESTS = 429
PAYLOAD_TOO_LARGE = 413
# Besides 5xx and no answer at all: worth trying again later.
RETRYABLE = {408, TOO_MANY_REQUESTS}
SERVER_ERROR = 500

# A push is only ever moved out of `pending`; retrying leaves it there with a later due_at.
PUSH_TRANSITIONS: dict[tuple[PushStatus, str], PushStatus] = {
    (PushStatus.PENDING, "accept"): PushStatus.SENT,
    (PushStatus.PENDING, "retry"): PushStatus.PENDING,
    (PushStatus.PENDING, "forget"): PushStatus.GONE,
    (PushStatus.PENDING, "fail"): PushStatus.FAILED,
    (PushStatus.PENDING, "skip"): PushStatus.SKIPPED,
}


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
    _forget_subscription(subscription_id=subscription.pk, reason="unsubscribed")


def queue_pushes(
    *, bleep: Bleep, recipient_ids: Iterable[int], kind: str, ttl: timedelta, now: datetime
) -> list[PushMessage]:
    """Queue one push per subscription of each recipient's live devices; return the rows.

    Runs in the caller's transaction, so the pushes commit or roll back with the change
    that caused them; `send_due_pushes` sends them after commit.
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


def push_topic(bleep: Bleep) -> str:
    """Return the Topic that makes a bleep's newer push replace an undelivered older one."""
    topic = f"bleep-{bleep.pk}"
    assert len(topic) <= TOPIC_MAX_LENGTH
    return topic


def send_due_pushes(*, now: datetime, limit: int = PUSH_CLAIM_BATCH) -> int:
    """Send up to `limit` pushes due at `now`, record each outcome; return how many it handled.

    Blocking (run it off the event loop). Owns its transactions: rows are claimed with
    SELECT … FOR UPDATE SKIP LOCKED and leased by moving `due_at` forward, committed, then
    sent outside any transaction, a few at a time, each within PUSH_TIMEOUT. Never raises
    for a failed push: it is retried, or marked gone or failed.
    """
    # The lease is sized for one batch: more rows would risk outliving it.
    claims, settled = _claim_due(now=now, limit=min(limit, PUSH_CLAIM_BATCH))
    if claims:
        vapid = _vapid(settings.VAPID_PRIVATE_KEY)
        with ThreadPoolExecutor(max_workers=min(PUSH_SENDERS, len(claims))) as pool:
            answers = list(pool.map(lambda claim: _post(claim, vapid=vapid, now=now), claims))
        for claim, answer in zip(claims, answers, strict=True):
            _record(claim=claim, answer=answer, now=now)
    return settled + len(claims)


@dataclass(frozen=True)
class _Claim:
    """What a sender needs to post one push, copied out of the database before sending."""

    message_id: int
    attempt: int
    subscription_id: int
    endpoint: str
    keys: dict[str, str]
    payload: dict[str, Any]
    headers: dict[str, str | int | float]
    ttl_seconds: int
    expires_at: datetime


@dataclass(frozen=True)
class _Answer:
    """What the push service said: a status code, or why there was none."""

    status: int | None
    retry_after: str | None = None
    detail: str = ""


def _claim_due(*, now: datetime, limit: int) -> tuple[list[_Claim], int]:
    with transaction.atomic():
        due = list(
            PushMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("bleep", "subscription__device__user")
            .filter(status=PushStatus.PENDING, due_at__lte=now)
            .order_by("due_at")[:limit]
        )
        claims: list[_Claim] = []
        for message in due:
            refusal = _unsendable(message, now=now)
            if refusal is None:
                claims.append(_claim(message, now=now))
            else:
                action, why = refusal
                _settle(message.pk, message.attempts, action=action, detail=why, now=now)
        PushMessage.objects.filter(pk__in=[claim.message_id for claim in claims]).update(
            due_at=now + CLAIM_LEASE, attempts=F("attempts") + 1
        )
    return claims, len(due) - len(claims)


def _unsendable(message: PushMessage, *, now: datetime) -> tuple[str, str] | None:
    """Return the action and reason that settle a push without sending it, if any."""
    if message.bleep.status != BleepStatus.OPEN:
        # Nothing may ring a phone about a bleep someone has answered or its sender withdrew.
        return "skip", f"bleep {message.bleep.status}"
    subscription = message.subscription
    if subscription is None:
        return "forget", "subscription deleted"
    device = subscription.device
    if device.revoked_at is not None or not device.user.is_active:
        return "forget", "device signed out"
    if now >= message.created_at + timedelta(seconds=message.ttl_seconds):
        logger.warning("push %s expired before it could be sent", message.pk)
        return "fail", "expired before it could be sent"
    return None


def _claim(message: PushMessage, *, now: datetime) -> _Claim:
    subscription = message.subscription
    assert subscription is not None
    expires_at = message.created_at + timedelta(seconds=message.ttl_seconds)
    return _Claim(
        message_id=message.pk,
        attempt=message.attempts + 1,
        subscription_id=subscription.pk,
        endpoint=subscription.endpoint,
        keys={"p256dh": subscription.p256dh, "auth": subscription.auth},
        payload=message.payload,
        headers={"Urgency": message.urgency, "Topic": message.topic},
        # A retry asks the push service to keep it only until the original expiry.
        ttl_seconds=max(1, math.ceil((expires_at - now).total_seconds())),
        expires_at=expires_at,
    )


class _PushSession(requests.Session):
    """HTTP to push services: verified with PUSH_CA_BUNDLE, never following a redirect."""

    def __init__(self, ca_bundle: str | None) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        # Set per request: requests would otherwise let REQUESTS_CA_BUNDLE override it.
        if self.ca_bundle:
            kwargs["verify"] = self.ca_bundle
        # The allowlist checked the endpoint, not wherever a redirect might lead.
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def _post(claim: _Claim, *, vapid: Vapid, now: datetime) -> _Answer:
    url = urlsplit(claim.endpoint)
    # A fresh dict each time: pywebpush writes into the claims it is given.
    claims: dict[str, str | int] = {
        "sub": settings.VAPID_SUBJECT,
        "aud": f"{url.scheme}://{url.netloc}",
        "exp": int((now + VAPID_LIFETIME).timestamp()),
    }
    try:
        with _PushSession(settings.PUSH_CA_BUNDLE) as session:
            response = webpush(
                subscription_info={"endpoint": claim.endpoint, "keys": claim.keys},
                data=_json(claim.payload),
                vapid_private_key=vapid,
                vapid_claims=claims,
                content_encoding="aes128gcm",
                timeout=PUSH_TIMEOUT.total_seconds(),
                ttl=claim.ttl_seconds,
                headers=claim.headers,
                requests_session=session,
            )
    except WebPushException as error:
        if error.response is None:
            return _Answer(None, detail=str(error.message)[:200])
        status = error.status_code
        return _Answer(status, error.retry_after, f"{status} {error.response.reason}"[:200])
    except requests.Timeout:
        return _Answer(None, detail="timed out")
    except requests.RequestException as error:
        return _Answer(None, detail=f"{type(error).__name__}: {error}"[:200])
    except Exception:
        # A push failure must never stop the others, nor the worker that called us.
        logger.exception("push %s: unexpected error", claim.message_id)
        return _Answer(None, detail="unexpected error")
    assert isinstance(response, requests.Response)
    return _Answer(response.status_code)


def _record(*, claim: _Claim, answer: _Answer, now: datetime) -> None:
    status = answer.status
    if status in ACCEPTED:
        _settle(claim.message_id, claim.attempt, action="accept", detail="", now=now)
    elif status in SUBSCRIPTION_GONE:
        logger.info("push %s: subscription gone (%s); deleting it", claim.message_id, status)
        _forget_subscription(subscription_id=claim.subscription_id, reason=answer.detail)
    elif status is None or status >= SERVER_ERROR or status in RETRYABLE:
        _retry_or_fail(claim=claim, answer=answer, now=now)
    else:
        # 413 means our payload is too large, 400/401/403 a bad request or VAPID key: our
        # bug or our configuration, never fixed by trying again.
        what = "payload too large" if status == PAYLOAD_TOO_LARGE else "refused"
        logger.error("push %s %s by the push service: %s", claim.message_id, what, answer.detail)
        _settle(claim.message_id, claim.attempt, action="fail", detail=answer.detail, now=now)


def _retry_or_fail(*, claim: _Claim, answer: _Answer, now: datetime) -> None:
    wait = _backoff(claim.attempt)
    if answer.status == TOO_MANY_REQUESTS:
        wait = _retry_after(answer.retry_after, now=now) or wait
    retry_at = now + wait
    if retry_at >= claim.expires_at:
        logger.warning(
            "push %s: %s; giving up, its TTL has passed", claim.message_id, answer.detail
        )
        _settle(claim.message_id, claim.attempt, action="fail", detail=answer.detail, now=now)
        return
    logger.warning("push %s: %s; retrying at %s", claim.message_id, answer.detail, retry_at)
    _settle(
        claim.message_id,
        claim.attempt,
        action="retry",
        detail=answer.detail,
        now=now,
        retry_at=retry_at,
    )


def _settle(
    message_id: int,
    attempt: int,
    *,
    action: str,
    detail: str,
    now: datetime,
    retry_at: datetime | None = None,
) -> None:
    """Move one pending push by `action`, unless another sender has claimed it since."""
    status = next_state(PUSH_TRANSITIONS, PushStatus.PENDING, action, IllegalTransition)
    changes: dict[str, Any] = {"status": status, "last_error": detail[:200]}
    if action == "accept":
        changes["sent_at"] = now
    if retry_at is not None:
        changes["due_at"] = retry_at
    PushMessage.objects.filter(pk=message_id, attempts=attempt, status=PushStatus.PENDING).update(
        **changes
    )


def _forget_subscription(*, subscription_id: int, reason: str) -> None:
    with transaction.atomic():
        PushMessage.objects.filter(
            subscription_id=subscription_id, status=PushStatus.PENDING
        ).update(status=PushStatus.GONE, last_error=reason[:200])
        PushSubscription.objects.filter(pk=subscription_id).delete()


def _keep_newest_subscriptions(*, device: Device) -> None:
    stale = PushSubscription.objects.filter(device=device).order_by("-created_at", "-pk")[
        MAX_SUBSCRIPTIONS_PER_DEVICE:
    ]
    for subscription_id in stale.values_list("pk", flat=True):
        _forget_subscription(subscription_id=subscription_id, reason="replaced by newer")


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


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


@cache
def _vapid(private_key: str) -> Vapid:
    return Vapid(private_key=load_vapid_key(private_key))
