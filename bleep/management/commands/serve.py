"""Serve HTTP and WebSocket with daphne, with the watchdog (and, on the embedded default,
the escalation loop) on the same event loop.

daphne has no ASGI lifespan support, so the loops cannot be started by the application;
this command builds daphne's server itself and schedules them before it runs.
"""

# daphne.server installs Twisted's asyncio reactor on import: it must come first.
from daphne.server import Server  # isort: skip

import argparse
import asyncio
import socket
import sys
from typing import Any

from channels.routing import get_default_application
from daphne.endpoints import build_endpoint_description_strings
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from twisted.internet import defer, reactor

from bleep.redaction import RedactingAccessLogGenerator
from bleep.runtime.collector import (
    FULL_COLLECTION_INTERVAL_SECONDS,
    collect_fully,
    settle_collector,
)
from escalation.worker import run_watchdog, run_worker

# How long a phone's WebSocket opening handshake may take before daphne drops it (daphne's
# default is 5 s). When every phone on a ward reconnects at once the handshakes queue; a
# dropped one comes back as a new connection and queues again, so with 5 s a reconnect storm
# of 3,000 phones made over 5,000 failed handshakes and took 40 s (docs/benchmarks.md).
WEBSOCKET_HANDSHAKE_TIMEOUT_SECONDS = 30


class Command(BaseCommand):
    help = "Serve Bleep on daphne; on the embedded default the escalation loop runs in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--worker",
            action=argparse.BooleanOptionalAction,
            default=settings.BLEEP_WORKER_IN_PROCESS,
            help="run the escalation loop in this process (default: on for the embedded default)",
        )
        parser.add_argument("--quiet", action="store_true", help="no access log")

    def handle(self, *args: Any, **options: Any) -> None:
        require_free_port(host=options["host"], port=options["port"])
        # The default WebSocket origins name the port served, so set it before the app loads.
        settings.SERVE_PORT = options["port"]
        server = Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(
                host=options["host"], port=options["port"]
            ),
            ready_callable=lambda: ready(worker=options["worker"]),
            action_logger=None if options["quiet"] else RedactingAccessLogGenerator(sys.stdout),
            verbosity=0 if options["quiet"] else 1,
            websocket_handshake_timeout=WEBSOCKET_HANDSHAKE_TIMEOUT_SECONDS,
        )
        self.stdout.write(f"Bleep on http://{options['host']}:{options['port']}/  (Ctrl-C stops)")
        server.run()


def require_free_port(*, host: str, port: int) -> None:
    """Raise CommandError, naming the port and the way out, if it cannot be listened on."""
    # daphne only logs a failed listen and goes on running with nothing to serve, and exits 0
    # when stopped: a second `make run` looked as if it had worked. Binding first, with the
    # SO_REUSEADDR Twisted sets, fails exactly when daphne's listen would.
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise CommandError(
            f"cannot serve on {host}:{port} ({error.strerror}): is Bleep already running there? "
            f"Stop it, or choose another port: make run PORT={port + 1}"
        ) from None


def ready(*, worker: bool) -> None:
    """Start the loops, then keep the garbage collector off the sockets' backs."""
    start_loops_on_reactor(worker=worker)
    settle_collector()


def start_loops_on_reactor(*, worker: bool) -> None:
    """Start the watchdog (and the escalation loop) on daphne's loop; stop them at shutdown.

    Every web process watches for overdue escalations, so a dead worker is noticed by
    whatever is still serving switchboard.
    """
    stop = asyncio.Event()
    loop = asyncio.get_event_loop()
    tasks = [
        loop.create_task(run_watchdog(stop=stop)),
        loop.create_task(collect_fully(stop=stop, every=FULL_COLLECTION_INTERVAL_SECONDS)),
    ]
    if worker:
        tasks.append(loop.create_task(run_worker(stop=stop)))

    async def finish() -> None:
        stop.set()
        await asyncio.gather(*tasks)

    twisted_reactor: Any = reactor
    twisted_reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: defer.Deferred.fromFuture(asyncio.ensure_future(finish()))
    )
