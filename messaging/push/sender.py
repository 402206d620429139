"""Posting claimed pushes to the push services: each push its own request, none waiting for
another.

The worker keeps one `PushSender` on its event loop. It claims the due pushes its lanes have
room for and starts each as its own task at once; a push service that never answers holds
only that push's request, until PUSH_TIMEOUT, and the answer is recorded when it comes. The
database work and the encryption run on the sender's own threads, never on the event loop.
"""

import asyncio
import json
import logging
import resource
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from types import TracebackType
from typing import Any, Self, TypeVar

import aiohttp
import certifi
from django.conf import settings
from py_vapid import Vapid
from pywebpush import WebPusher

from bleep.config import load_vapid_key
from bleep.runtime.db_threads import on_executor
from messaging.push.outbox import (
    ACCEPTED,
    Lane,
    PushAnswer,
    PushClaim,
    claim_due_pushes,
    record_push_answer,
)
from messaging.selectors import next_push_due

logger = logging.getLogger(__name__)


def open_file_limit() -> int:
    """Return how many files this process may have open (its soft RLIMIT_NOFILE)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


PUSH_TIMEOUT = timedelta(seconds=10)
# At most this many pushes in flight per sender: far more than a hospital's busiest minute
# needs, since a push service that is working answers in well under a second, so that even
# hundreds of pushes stalling at once leave room for the rest. Each holds a connection, an
# open file: never more than half the process may open, leaving the rest to the database
# pool and, on the embedded default, the phones' sockets.
PUSH_IN_FLIGHT = min(1024, open_file_limit() // 2)
# Of those, at most this many in the slow lane (retries, and pushes to subscriptions that
# stalled lately): however many stall, first attempts to the others keep the rest.
SLOW_LANE = PUSH_IN_FLIGHT // 8
# First attempts to one push service host may take all the first lane but this many, so a
# host that stalls for everyone never takes the room that the other hosts need.
OTHER_HOSTS_ROOM = PUSH_IN_FLIGHT // 16
# A subscription whose push timed out goes in the slow lane until one is accepted, or
# for this long; the sender remembers at most STALLS_REMEMBERED of them, newest first.
STALL_MEMORY = timedelta(minutes=10)
STALLS_REMEMBERED = 1000
# When the worker stops, pushes still in flight get this long to be answered; the rest
# are abandoned and retried, by this worker's successor or another.
STOP_GRACE = timedelta(seconds=2)
VAPID_LIFETIME = timedelta(hours=12)  # RFC 8292 allows at most 24 hours
TIMED_OUT = "timed out"

T = TypeVar("T")


@dataclass(frozen=True)
class PushRequest:
    """One push ready to post: its claim, and the encrypted body and headers to send."""

    claim: PushClaim
    headers: dict[str, str]
    body: bytes
    # Why it could not be prepared, if it could not: then it is not posted.
    problem: str = ""


def send_due_pushes(*, now: datetime, limit: int = PUSH_IN_FLIGHT) -> int:
    """Send up to `limit` pushes due at `now`, wait for and record every answer; return how
    many it handled.

    Blocking, for a script or a test: the worker runs a `PushSender` instead, which never
    waits for one push before starting the next. Each claimed push is posted at once, all
    side by side, and a retry waits from when its own attempt ended (`now` plus the time it
    took). Never raises for a failed push: it is retried, or marked gone or failed.
    """
    claims, settled = claim_due_pushes(now=now, limit=limit)
    if claims:
        requests = [prepare_push(claim, now=now) for claim in claims]
        answers = asyncio.run(_post_each(requests))
        for claim, (answer, took) in zip(claims, answers, strict=True):
            record_push_answer(claim=claim, answer=answer, now=now + took)
    return settled + len(claims)


async def _post_each(requests: list[PushRequest]) -> list[tuple[PushAnswer, timedelta]]:
    async with open_push_session() as session:

        async def timed(request: PushRequest) -> tuple[PushAnswer, timedelta]:
            started = time.monotonic()
            answer = await post_push(request, session=session)
            return answer, timedelta(seconds=time.monotonic() - started)

        return await asyncio.gather(*(timed(request) for request in requests))


def prepare_push(claim: PushClaim, *, now: datetime) -> PushRequest:
    """Encrypt a push for its subscription (RFC 8291) and sign its VAPID token (RFC 8292)."""
    # pywebpush's `webpush_async` would do both and post, but on the event loop (an ECDH
    # key and a signature per push) and following redirects, which the allowlist forbids:
    # it checked the endpoint, not wherever a redirect might lead. So its `WebPusher`
    # encrypts, py-vapid signs, and `post_push` posts.
    try:
        return _encrypt_and_sign(claim, now=now)
    except Exception:
        # Our bug, not the push service's: this push is retried, the others go on.
        logger.exception("push %s: could not be encrypted and signed", claim.message_id)
        return PushRequest(claim=claim, headers={}, body=b"", problem="unexpected error")


def _encrypt_and_sign(claim: PushClaim, *, now: datetime) -> PushRequest:
    body = WebPusher({"endpoint": claim.endpoint, "keys": claim.keys}).encode(
        _json(claim.payload).encode(), "aes128gcm"
    )["body"]
    token = _vapid(settings.VAPID_PRIVATE_KEY).sign(
        {
            "sub": settings.VAPID_SUBJECT,
            "aud": f"https://{claim.host}",
            "exp": int((now + VAPID_LIFETIME).timestamp()),
        }
    )
    headers = {key: str(value) for key, value in claim.headers.items()}
    headers |= {
        "TTL": str(claim.ttl_seconds),
        "Content-Encoding": "aes128gcm",
        "Authorization": token["Authorization"],
    }
    return PushRequest(claim=claim, headers=headers, body=body)


def open_push_session() -> aiohttp.ClientSession:
    """Open an HTTP client for the push services, verified with PUSH_CA_BUNDLE."""
    tls = ssl.create_default_context(cafile=settings.PUSH_CA_BUNDLE or certifi.where())
    connector = aiohttp.TCPConnector(
        ssl=tls,
        # No limit of its own: a request waiting in the client's queue would wait behind
        # stalled ones unseen. The sender's lanes are the limit.
        limit=0,
        # Python 3.11 keeps a TLS connection open for 30 s when the push service does not
        # answer its close, as a stalled one does not (cpython#118960, fixed in 3.12.8);
        # aiohttp aborts those.
        enable_cleanup_closed=True,
    )
    # trust_env: through the hospital's proxy (HTTPS_PROXY), as before with requests.
    return aiohttp.ClientSession(connector=connector, trust_env=True)


async def post_push(request: PushRequest, *, session: aiohttp.ClientSession) -> PushAnswer:
    """Post one push within PUSH_TIMEOUT; return what the push service said."""
    claim = request.claim
    if request.problem:
        return PushAnswer(None, detail=request.problem)
    try:
        async with session.post(
            claim.endpoint,
            data=request.body,
            headers=request.headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=PUSH_TIMEOUT.total_seconds()),
        ) as response:
            if response.status in ACCEPTED:
                return PushAnswer(response.status)
            detail = f"{response.status} {response.reason}"[:200]
            return PushAnswer(response.status, response.headers.get("Retry-After"), detail)
    except TimeoutError:
        return PushAnswer(None, detail=TIMED_OUT, timed_out=True)
    except aiohttp.ClientError as error:
        return PushAnswer(None, detail=f"{type(error).__name__}: {error}"[:200])
    except Exception:
        # A push failure must never stop the others, nor the worker that called us.
        logger.exception("push %s: unexpected error", claim.message_id)
        return PushAnswer(None, detail="unexpected error")


class PushSender:
    """Start each due push as its own task as soon as there is room, and record each answer
    as it comes: no push waits for another to be answered.

    Use it as `async with PushSender(clock=...)` on one event loop, calling `start_due()`
    whenever pushes may be due. `on_room` is called when a push ends in a lane that was
    full, so that the caller looks again for pushes that were waiting for room.
    """

    def __init__(
        self, *, clock: Callable[[], datetime], on_room: Callable[[], None] = lambda: None
    ) -> None:
        self.clock = clock
        self.on_room = on_room
        self.lanes = _Lanes()
        self.stalls = _Stalls()
        self.sending: dict[asyncio.Task[None], PushClaim] = {}
        self.answers: list[tuple[PushClaim, PushAnswer, datetime]] = []
        self.answered = asyncio.Event()
        self.closing = False
        # One thread claims and one records, so a burst of answers to record never delays
        # the claim of a push that has just fallen due.
        self.claiming = ThreadPoolExecutor(1, thread_name_prefix="push-claim")
        self.recording = ThreadPoolExecutor(1, thread_name_prefix="push-record")
        self.session: aiohttp.ClientSession | None = None
        self.recorder: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self.session = open_push_session()
        self.recorder = asyncio.create_task(self._record_answers())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start_due(self) -> None:
        """Claim the due pushes there is room for and start each at once."""
        for lane in Lane:
            while (limit := self.lanes.room(lane)) > 0:
                stalled, full = self.stalls.subscriptions(), self.lanes.full_hosts()
                requests, passed_over = await _on(
                    self.claiming, self._claim, lane, limit, stalled, full
                )
                for request in requests:
                    self._start(request, lane)
                # Pushes were passed over for a host that filled up meanwhile: claim again,
                # past that host. Each round fills a host, so this ends.
                if not passed_over:
                    break

    async def next_due(self) -> datetime | None:
        """Return when the next push not yet due falls due, to sleep until then."""
        return await _on(self.claiming, lambda: next_push_due(after=self.clock()))

    async def close(self) -> None:
        """Give pushes in flight STOP_GRACE to be answered, abandon the rest for a retry,
        record every answer and close the connections."""
        self.closing = True
        if self.sending:
            _, late = await asyncio.wait(list(self.sending), timeout=STOP_GRACE.total_seconds())
            abandoned = [self.sending[task] for task in late]
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            for claim in abandoned:
                self._answer(claim, PushAnswer(None, detail="the sender stopped"))
        self.answered.set()
        if self.recorder is not None:
            await self.recorder
        if self.session is not None:
            await self.session.close()
        self.claiming.shutdown(wait=False)
        self.recording.shutdown(wait=False)

    def _claim(
        self, lane: Lane, limit: int, stalled: frozenset[int], full: frozenset[str]
    ) -> tuple[list[PushRequest], bool]:
        now = self.clock()
        admitted: list[PushClaim] = []
        passed_over = False

        def admit(claim: PushClaim) -> bool:
            nonlocal passed_over
            if self.lanes.take(lane, claim.host):
                admitted.append(claim)
                return True
            passed_over = True
            return False

        try:
            claims, _ = claim_due_pushes(
                now=now, limit=limit, lane=lane, stalled=stalled, skip_hosts=full, admit=admit
            )
        except BaseException:
            # Rolled back: nothing was claimed, so nothing holds room.
            for claim in admitted:
                self.lanes.give_back(lane, claim.host)
            raise
        return [prepare_push(claim, now=now) for claim in claims], passed_over

    def _start(self, request: PushRequest, lane: Lane) -> None:
        task = asyncio.create_task(self._send(request, lane))
        self.sending[task] = request.claim
        task.add_done_callback(self.sending.pop)

    async def _send(self, request: PushRequest, lane: Lane) -> None:
        assert self.session is not None
        try:
            answer = await post_push(request, session=self.session)
        finally:
            if self.lanes.give_back(lane, request.claim.host):
                self.on_room()
        self.stalls.note(request.claim.subscription_id, answer)
        self._answer(request.claim, answer)

    def _answer(self, claim: PushClaim, answer: PushAnswer) -> None:
        # Read the clock as the answer comes: a retry waits from the end of its attempt.
        self.answers.append((claim, answer, self.clock()))
        self.answered.set()

    async def _record_answers(self) -> None:
        while True:
            await self.answered.wait()
            self.answered.clear()
            batch, self.answers = self.answers, []
            try:
                await _on(self.recording, _record_each, batch)
            except Exception:
                # The recorder must outlive a broken database; the rows come back after
                # their lease and are sent again.
                logger.exception("could not record %d push answers", len(batch))
            if self.closing and not self.answers:
                return


def _record_each(answers: list[tuple[PushClaim, PushAnswer, datetime]]) -> None:
    for claim, answer, ended in answers:
        try:
            record_push_answer(claim=claim, answer=answer, now=ended)
        except Exception:
            # Its row stays leased until CLAIM_LEASE has passed, then is sent again.
            logger.exception("push %s: could not record its answer", claim.message_id)


class _Lanes:
    """The room for pushes in flight: each lane's, and the first lane's per push service host.

    Taken on the claiming thread and given back on the event loop, hence the lock.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: Counter[Lane] = Counter()
        self.per_host: Counter[str] = Counter()

    def room(self, lane: Lane) -> int:
        with self.lock:
            return _size(lane) - self.in_flight[lane]

    def full_hosts(self) -> frozenset[str]:
        with self.lock:
            return frozenset(h for h, n in self.per_host.items() if n >= _host_size())

    def take(self, lane: Lane, host: str) -> bool:
        with self.lock:
            if self.in_flight[lane] >= _size(lane):
                return False
            if lane is Lane.FIRST and self.per_host[host] >= _host_size():
                return False
            self.in_flight[lane] += 1
            if lane is Lane.FIRST:
                self.per_host[host] += 1
            return True

    def give_back(self, lane: Lane, host: str) -> bool:
        """Free one push's room; return whether its lane or host was full until now."""
        with self.lock:
            was_full = self.in_flight[lane] >= _size(lane)
            self.in_flight[lane] -= 1
            if lane is Lane.FIRST:
                was_full = was_full or self.per_host[host] >= _host_size()
                self.per_host[host] -= 1
                if not self.per_host[host]:
                    del self.per_host[host]
            return was_full


def _size(lane: Lane) -> int:
    return SLOW_LANE if lane is Lane.SLOW else PUSH_IN_FLIGHT - SLOW_LANE


def _host_size() -> int:
    return _size(Lane.FIRST) - OTHER_HOSTS_ROOM


class _Stalls:
    """Subscriptions whose push service lately left a push unanswered (event loop only)."""

    def __init__(self) -> None:
        self.until: dict[int, float] = {}

    def note(self, subscription_id: int, answer: PushAnswer) -> None:
        if answer.timed_out:
            # Re-inserted, so the dict stays ordered oldest stall first.
            self.until.pop(subscription_id, None)
            self.until[subscription_id] = time.monotonic() + STALL_MEMORY.total_seconds()
            while len(self.until) > STALLS_REMEMBERED:
                del self.until[next(iter(self.until))]
        elif answer.status in ACCEPTED:
            self.until.pop(subscription_id, None)

    def subscriptions(self) -> frozenset[int]:
        now = time.monotonic()
        for subscription_id in [s for s, until in self.until.items() if until <= now]:
            del self.until[subscription_id]
        return frozenset(self.until)


async def _on(executor: ThreadPoolExecutor, func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call on one of the sender's threads."""
    return await on_executor(func, executor)(*args)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))


@cache
def _vapid(private_key: str) -> Vapid:
    return Vapid(private_key=load_vapid_key(private_key))
