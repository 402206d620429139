"""Sending claimed text and pager messages: each on a thread of its own, none waiting for
another.

The worker keeps one `ChannelSender` on its event loop. The gateways' clients block (GOV.UK
Notify's official client is built on requests), so each message is sent on one of the
sender's threads, bounded by CHANNEL_TIMEOUT: a gateway that stalls holds only the threads
of its own messages, and first attempts have room of their own that retries and delivery
checks never take. Claims and answers go to the database on two threads of their own.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from bleep.runtime.db_threads import on_executor
from messaging.fallback.gateways import CONNECTIONS, ChannelAnswer, Outcome, configured_gateways
from messaging.fallback.outbox import (
    ChannelClaim,
    claim_due_checks,
    claim_due_messages,
    next_message_due,
    record_channel_answer,
)

logger = logging.getLogger(__name__)

# Messages in flight at once: first attempts, and retries with delivery checks. Far more
# than a hospital's busiest minute sends; the point is that even a couple of hundred
# stalled at once (each holding a thread until CHANNEL_TIMEOUT) leave the rest room.
FIRST_LANE = 256
SLOW_LANE = 64
assert FIRST_LANE + SLOW_LANE == CONNECTIONS
# When the worker stops, messages in flight get this long; the rest are sent again by the
# next worker once their lease has passed (the gateway may then get one twice: a doubled
# text is the lesser harm than a lost one).
STOP_GRACE_SECONDS = 2.0

T = TypeVar("T")


def send_due_messages(*, now: datetime, limit: int = FIRST_LANE) -> int:
    """Send up to `limit` due messages and check due deliveries, one after another, and
    record every answer; return how many it handled.

    Blocking, for a script or a test; the worker runs a `ChannelSender` instead.
    """
    claims = claim_due_messages(now=now, limit=limit) + claim_due_checks(now=now, limit=limit)
    for claim in claims:
        record_channel_answer(claim=claim, answer=call_gateway(claim), now=now)
    return len(claims)


def call_gateway(claim: ChannelClaim) -> ChannelAnswer:
    """Send one message, or read its delivery status, through its gateway; never raise."""
    try:
        gateway = configured_gateways().get(claim.kind)
        if gateway is None:
            return ChannelAnswer(Outcome.FAILED, detail="channel not configured")
        if claim.job == "check":
            status = gateway.delivery_status(provider_id=claim.provider_id)
            return status or ChannelAnswer(Outcome.WAITING)
        return gateway.send(address=claim.address, text=claim.text, reference=claim.reference)
    except Exception:
        # Our bug, not the gateway's: this message is tried again, the others go on.
        logger.exception("%s message %s: unexpected error", claim.kind, claim.message_id)
        return ChannelAnswer(Outcome.RETRY, detail="unexpected error")


class ChannelSender:
    """Start each due message on its own thread as soon as its lane has room, and record
    each answer as it comes.

    Use it as `async with ChannelSender(clock=...)` on one event loop, calling `start_due()`
    whenever messages may be due; `on_room` is called when a message ends in a full lane.
    """

    def __init__(
        self, *, clock: Callable[[], datetime], on_room: Callable[[], None] = lambda: None
    ) -> None:
        self.clock = clock
        self.on_room = on_room
        self.in_flight: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sending = ThreadPoolExecutor(FIRST_LANE + SLOW_LANE, thread_name_prefix="channel")
        self.claiming = ThreadPoolExecutor(1, thread_name_prefix="channel-claim")
        self.recording = ThreadPoolExecutor(1, thread_name_prefix="channel-record")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start_due(self) -> None:
        """Claim the due messages and checks there is room for, and start each at once."""
        room = FIRST_LANE - self.in_flight["first"]
        if room > 0:
            claims = await _on(self.claiming, self._claim_first, room)
            self._start_each(claims, "first")
        room = SLOW_LANE - self.in_flight["slow"]
        if room > 0:
            claims = await _on(self.claiming, self._claim_slow, room)
            self._start_each(claims, "slow")

    async def next_due(self) -> datetime | None:
        """Return when the next message not yet due falls due, to sleep until then."""
        return await _on(self.claiming, lambda: next_message_due(after=self.clock()))

    async def close(self) -> None:
        """Give messages in flight STOP_GRACE_SECONDS, then let the rest go."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=STOP_GRACE_SECONDS)
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.sending.shutdown(wait=False, cancel_futures=True)
        self.claiming.shutdown(wait=False)
        self.recording.shutdown(wait=False)

    def _claim_first(self, room: int) -> list[ChannelClaim]:
        return claim_due_messages(now=self.clock(), limit=room, retries=False)

    def _claim_slow(self, room: int) -> list[ChannelClaim]:
        now = self.clock()
        claims = claim_due_messages(now=now, limit=room, retries=True)
        return claims + claim_due_checks(now=now, limit=room - len(claims))

    def _start_each(self, claims: list[ChannelClaim], lane: str) -> None:
        for claim in claims:
            self.in_flight[lane] += 1
            task = asyncio.create_task(self._send(claim, lane))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _send(self, claim: ChannelClaim, lane: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            answer = await loop.run_in_executor(self.sending, call_gateway, claim)
        finally:
            full = self.in_flight[lane] >= (FIRST_LANE if lane == "first" else SLOW_LANE)
            self.in_flight[lane] -= 1
            if full:
                self.on_room()
        try:
            # The clock is read as the answer comes: a retry waits from the end of its attempt.
            await _on(self.recording, _record, claim, answer, self.clock())
        except Exception:
            # Its row stays leased until the lease passes, then is tried again.
            logger.exception(
                "%s message %s: could not record its answer", claim.kind, claim.message_id
            )


def _record(claim: ChannelClaim, answer: ChannelAnswer, ended: datetime) -> None:
    record_channel_answer(claim=claim, answer=answer, now=ended)


async def _on(executor: ThreadPoolExecutor, func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call on one of the sender's database threads."""
    return await on_executor(func, executor)(*args)
