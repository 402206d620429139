"""The escalation loop: fires due deadlines, sends pushes and text and pager messages, hands
bleeps to the next shift, checks that whoever comes on call can be reached, ends expired
devices, applies queued rota imports, keeps the heartbeat, until told to stop. The clock is
read here, at the edge.

A worker sleeps until the soonest deadline (at most a second), and a hint over the channel
layer wakes it at once for a deadline set or moved nearer; the database stays the truth.
"""

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from channels.db import DatabaseSyncToAsync, database_sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from bleep.runtime.db_threads import on_executor
from escalation.events import POLL_INTERVAL, WAKE_GROUP
from escalation.selectors import next_deadline_due
from escalation.services.firing import CLAIM_BATCH, beat_heartbeat, fire_due_deadlines
from escalation.services.handover import hand_over_open_bleeps
from escalation.services.watchdog import watch_deadlines
from messaging.fallback.sender import ChannelSender
from messaging.push import PushSender
from messaging.services.devices import expire_devices
from messaging.services.reachability import check_coming_shifts
from messaging.services.sso import check_provider_accounts, keep_through_shifts
from messaging.sso import enabled as sso_enabled
from rota.services.calendars.jobs import run_next_import

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = timedelta(seconds=5)
# How often open bleeps are checked for a role's next holder coming on shift.
HANDOVER_INTERVAL = timedelta(seconds=10)
# How often a web process's watchdog looks for overdue steps (see OVERDUE_AFTER).
WATCHDOG_INTERVAL = timedelta(seconds=30)
# How often devices whose tokens have expired are ended. Their tokens are refused at once
# whatever this is (authentication checks expiry itself); the sweep is for the phone never
# used again, whose sockets must close and whose push subscriptions must go.
DEVICE_SWEEP_INTERVAL = timedelta(minutes=1)
# How often the people coming on call are checked for a way to reach them: a shift that
# starts within CONTACT_CHECK_LEAD_MINUTES is warned about within this of coming in range.
SHIFT_CHECK_INTERVAL = timedelta(minutes=1)
# How often a worker looks for devices whose account is due a check at the identity
# provider (each device is checked every OIDC_CHECK_MINUTES).
PROVIDER_CHECK_INTERVAL = timedelta(minutes=1)
# How often a worker looks for a queued rota import when it has none to run.
IMPORT_POLL_INTERVAL = timedelta(seconds=1)
# After a turn that could not run at all (the database gone), wait this long so a broken
# database is not hammered. A step that fails is the firing's own business: it alone is
# rolled back and tried again (firing.STEP_RETRY_AFTER), so this is no longer a stall of
# every step; one poll interval keeps a returning database's steps at most a second late.
ERROR_BACKOFF = timedelta(seconds=1)
# After the channel layer fails, listen for hints again after this; polling goes on meanwhile.
HINTS_RETRY = timedelta(seconds=5)


def worker_name() -> str:
    """Name this worker by host and process, as shown in the heartbeat table."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Alarm:
    """A sleep that a wake-up hint or a stop cuts short.

    Several loops may share one alarm (the chores do). A hint wakes those asleep then; a
    stop is for good: every sleep after it returns at once, so a loop that was busy when
    the stop rang, and finds the hint already cleared by another, does not sleep its whole
    interval before it sees the stop.
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.stopped = False

    async def sleep(self, wait: timedelta) -> None:
        if self.stopped:
            return
        try:
            await asyncio.wait_for(self.event.wait(), timeout=max(wait.total_seconds(), 0))
        except TimeoutError:
            pass
        if not self.stopped:
            self.event.clear()

    def stop(self) -> None:
        self.stopped = True
        self.event.set()


async def run_worker(*, stop: asyncio.Event, name: str | None = None) -> None:
    """Fire due deadlines and hand over open bleeps until `stop` is set."""
    name = name or worker_name()
    alarm, pushes, texts, chores = Alarm(), Alarm(), Alarm(), Alarm()
    logger.info("escalation worker %s started", name)
    listener = asyncio.create_task(_listen_for_hints([alarm, pushes, texts]))
    stopper = asyncio.create_task(_ring_on_stop(stop, [alarm, pushes, texts, chores]))
    try:
        await asyncio.gather(
            _fire_deadlines(stop, alarm, name),
            _send_pushes(stop, pushes, name),
            _send_channel_messages(stop, texts, name),
            _every(SHIFT_CHECK_INTERVAL, stop, chores, _check_shifts),
            _every(HEARTBEAT_INTERVAL, stop, chores, _beat(name)),
            _every(HANDOVER_INTERVAL, stop, chores, _hand_over),
            _every(DEVICE_SWEEP_INTERVAL, stop, chores, _expire_devices),
            _check_at_provider(stop, chores),
            _run_imports(stop, chores, name),
        )
    finally:
        listener.cancel()
        stopper.cancel()
    logger.info("escalation worker %s stopped", name)


async def run_watchdog(*, stop: asyncio.Event) -> None:
    """Look for overdue escalation steps every WATCHDOG_INTERVAL until `stop` is set."""
    alarm = Alarm()
    stopper = asyncio.create_task(_ring_on_stop(stop, [alarm]))
    try:
        await _every(WATCHDOG_INTERVAL, stop, alarm, _watch)
    finally:
        stopper.cancel()


async def _fire_deadlines(stop: asyncio.Event, alarm: Alarm, name: str) -> None:
    fire = database_sync_to_async(fire_due_deadlines)

    async def turn() -> bool:
        # The clock goes in as well as the time: a step took effect when its turn commits.
        return await fire(now=timezone.now(), clock=timezone.now) == CLAIM_BATCH

    await _drain(stop, alarm, f"{name} firing deadlines", turn, next_deadline_due)


async def _send_pushes(stop: asyncio.Event, alarm: Alarm, name: str) -> None:
    """Start each push as it falls due, until `stop` is set; a stalled one holds only itself.

    The sender has threads of its own for the database, so neither an escalation step nor
    a push waits for the other; it rings `alarm` when a push that filled its lane ends.
    """
    async with PushSender(clock=timezone.now, on_room=alarm.event.set) as sender:
        await _keep_sending(sender, stop, alarm, f"{name} sending pushes")


async def _send_channel_messages(stop: asyncio.Event, alarm: Alarm, name: str) -> None:
    """Send each text and pager message as it falls due, until `stop` is set; a gateway that
    stalls holds only its own messages, never a push or a step."""
    async with ChannelSender(clock=timezone.now, on_room=alarm.event.set) as sender:
        await _keep_sending(sender, stop, alarm, f"{name} sending texts")


class Sender(Protocol):
    """What `_keep_sending` drives: the push sender and the text and pager sender."""

    async def start_due(self) -> None: ...

    async def next_due(self) -> datetime | None: ...


async def _keep_sending(sender: Sender, stop: asyncio.Event, alarm: Alarm, what: str) -> None:
    """Start what is due, then sleep until the next falls due (or the poll), until `stop`."""
    while not stop.is_set():
        wait = POLL_INTERVAL
        try:
            await sender.start_due()
            due = await sender.next_due()
            if due is not None:
                wait = min(wait, due - timezone.now())
        except Exception:
            logger.exception("escalation worker %s failed a turn", what)
            wait = ERROR_BACKOFF
        await alarm.sleep(wait)


async def _drain(
    stop: asyncio.Event,
    alarm: Alarm,
    what: str,
    turn: Callable[[], Awaitable[bool]],
    next_due: Callable[[], datetime | None],
) -> None:
    """Take turns while `turn` says there is more, then sleep until `next_due` (or the poll)."""
    soonest = database_sync_to_async(next_due)
    while not stop.is_set():
        wait = POLL_INTERVAL
        try:
            if await turn():
                continue
            due = await soonest()
            if due is not None:
                wait = min(wait, due - timezone.now())
        except Exception:
            logger.exception("escalation worker %s failed a turn; retrying", what)
            wait = ERROR_BACKOFF
        await alarm.sleep(wait)


async def _every(
    interval: timedelta, stop: asyncio.Event, alarm: Alarm, chore: Callable[[], Awaitable[None]]
) -> None:
    while not stop.is_set():
        try:
            await chore()
        except Exception:
            logger.exception("escalation chore %s failed; retrying", chore.__name__)
        await alarm.sleep(interval)


async def _run_imports(stop: asyncio.Event, alarm: Alarm, name: str) -> None:
    """Apply queued rota imports one at a time, on a thread of their own.

    An import may take minutes; on the thread that fires deadlines it would hold every
    escalation step that long. Here the steps' thread never waits for it.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rota-imports") as thread:
        run = DatabaseSyncToAsync(run_next_import, thread_sensitive=False, executor=thread)
        while not stop.is_set():
            try:
                if await run(now=timezone.now()) is not None:
                    continue
            except Exception:
                logger.exception("escalation worker %s failed a turn applying imports", name)
            await alarm.sleep(IMPORT_POLL_INTERVAL)


def _beat(name: str) -> Callable[[], Awaitable[None]]:
    async def beat() -> None:
        await database_sync_to_async(beat_heartbeat)(worker=name, now=timezone.now())

    return beat


async def _hand_over() -> None:
    await database_sync_to_async(hand_over_open_bleeps)(now=timezone.now())


async def _expire_devices() -> None:
    await database_sync_to_async(keep_through_shifts)(now=timezone.now())
    await database_sync_to_async(expire_devices)(now=timezone.now())


async def _check_at_provider(stop: asyncio.Event, alarm: Alarm) -> None:
    """Check devices' accounts at the identity provider, on a thread of its own: a slow
    provider answers within its timeout, and never on the thread that fires the steps."""
    if not sso_enabled():
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="provider-check") as thread:
        check = on_executor(check_provider_accounts, thread)

        async def check_provider_accounts_now() -> None:
            await check(now=timezone.now())

        await _every(PROVIDER_CHECK_INTERVAL, stop, alarm, check_provider_accounts_now)


async def _check_shifts() -> None:
    await database_sync_to_async(check_coming_shifts)(now=timezone.now())


async def _watch() -> None:
    await database_sync_to_async(watch_deadlines)(now=timezone.now())


async def _ring_on_stop(stop: asyncio.Event, alarms: list[Alarm]) -> None:
    await stop.wait()
    for alarm in alarms:
        alarm.stop()


async def _listen_for_hints(alarms: list[Alarm]) -> None:
    """Ring the alarms whenever a hint arrives; a broken layer only means slower polling."""
    layer = get_channel_layer()
    if layer is None:
        return
    channel = await layer.new_channel()
    try:
        await layer.group_add(WAKE_GROUP, channel)
        while True:
            try:
                await layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("no wake-up hints from the channel layer; polling", exc_info=True)
                await asyncio.sleep(HINTS_RETRY.total_seconds())
                continue
            for alarm in alarms:
                alarm.event.set()
    finally:
        try:
            await layer.group_discard(WAKE_GROUP, channel)
        except Exception:
            logger.debug("could not leave the wake-up group", exc_info=True)
