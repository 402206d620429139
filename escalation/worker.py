"""The escalation loop: fires due deadlines and keeps the heartbeat, until told to stop."""

import asyncio
import logging
import os
import socket
from datetime import timedelta

from channels.db import database_sync_to_async
from django.utils import timezone

from escalation.services import CLAIM_BATCH, beat_heartbeat, fire_due_deadlines

logger = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=1)
HEARTBEAT_INTERVAL = timedelta(seconds=5)
# After an unexpected error, wait this long so a broken database is not hammered.
ERROR_BACKOFF = timedelta(seconds=5)


def worker_name() -> str:
    """Name this worker by host and process, as shown in the heartbeat table."""
    return f"{socket.gethostname()}:{os.getpid()}"


async def run_worker(*, stop: asyncio.Event, name: str | None = None) -> None:
    """Fire due deadlines until `stop` is set; the clock is read here, at the edge."""
    name = name or worker_name()
    fire = database_sync_to_async(fire_due_deadlines)
    beat = database_sync_to_async(beat_heartbeat)
    last_beat = None
    logger.info("escalation worker %s started", name)
    while not stop.is_set():
        wait = POLL_INTERVAL
        try:
            now = timezone.now()
            if last_beat is None or now - last_beat >= HEARTBEAT_INTERVAL:
                await beat(worker=name, now=now)
                last_beat = now
            fired = await fire(now=now)
            if fired == CLAIM_BATCH:
                wait = timedelta(0)
        except Exception:
            logger.exception("escalation worker %s failed a turn; retrying", name)
            wait = ERROR_BACKOFF
        try:
            await asyncio.wait_for(stop.wait(), timeout=wait.total_seconds())
        except TimeoutError:
            pass
    logger.info("escalation worker %s stopped", name)
