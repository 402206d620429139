"""Sending claimed pushes to the push services, each within PUSH_TIMEOUT."""

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from bleep.config import load_vapid_key
from messaging.push.outbox import PushAnswer, PushClaim, claim_due_pushes, record_push_answer

logger = logging.getLogger(__name__)

PUSH_TIMEOUT = timedelta(seconds=10)
PUSH_SENDERS = 8
PUSH_CLAIM_BATCH = 2 * PUSH_SENDERS
VAPID_LIFETIME = timedelta(hours=12)  # RFC 8292 allows at most 24 hours


def send_due_pushes(*, now: datetime, limit: int = PUSH_CLAIM_BATCH) -> int:
    """Send up to `limit` pushes due at `now`, record each outcome; return how many it handled.

    Blocking (run it off the event loop). Owns its transactions: rows are claimed with
    SELECT … FOR UPDATE SKIP LOCKED and leased by moving `due_at` forward, committed, then
    sent outside any transaction, a few at a time, each within PUSH_TIMEOUT. Never raises
    for a failed push: it is retried, or marked gone or failed.
    """
    # The lease is sized for one batch: more rows would risk outliving it.
    claims, settled = claim_due_pushes(now=now, limit=min(limit, PUSH_CLAIM_BATCH))
    if claims:
        vapid = _vapid(settings.VAPID_PRIVATE_KEY)
        with ThreadPoolExecutor(max_workers=min(PUSH_SENDERS, len(claims))) as pool:
            answers = list(pool.map(lambda claim: _post(claim, vapid=vapid, now=now), claims))
        for claim, answer in zip(claims, answers, strict=True):
            record_push_answer(claim=claim, answer=answer, now=now)
    return settled + len(claims)


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


def _post(claim: PushClaim, *, vapid: Vapid, now: datetime) -> PushAnswer:
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
            return PushAnswer(None, detail=str(error.message)[:200])
        status = error.status_code
        return PushAnswer(status, error.retry_after, f"{status} {error.response.reason}"[:200])
    except requests.Timeout:
        return PushAnswer(None, detail="timed out")
    except requests.RequestException as error:
        return PushAnswer(None, detail=f"{type(error).__name__}: {error}"[:200])
    except Exception:
        # A push failure must never stop the others, nor the worker that called us.
        logger.exception("push %s: unexpected error", claim.message_id)
        return PushAnswer(None, detail="unexpected error")
    assert isinstance(response, requests.Response)
    return PushAnswer(response.status_code)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


@cache
def _vapid(private_key: str) -> Vapid:
    return Vapid(private_key=load_vapid_key(private_key))
