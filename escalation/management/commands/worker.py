"""Run the escalation worker as its own process (Procfile: worker)."""

import asyncio
import signal
from typing import Any

from django.core.management.base import BaseCommand

from bleep.runtime.collector import freeze_start_up
from escalation.worker import run_worker


class Command(BaseCommand):
    help = "Fire due escalation deadlines until stopped (SIGTERM or Ctrl-C finish the turn first)."

    def handle(self, *args: Any, **options: Any) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # A full collection walking start-up's objects would stall a due escalation.
        freeze_start_up()
        await run_worker(stop=stop)
