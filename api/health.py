"""`GET /healthz`: database, channel layer, escalation worker and the push backlog, each
checked for real; and the probes an orchestrator asks of one process: `GET /livez` (the
process answers: restart it if not) and `GET /readyz` (it can serve: its database and
channel layer answer; send it no traffic if not). A dead worker or a push backlog is the
whole system's trouble, which /healthz reports: restarting or unrouting every web process
for it would make it worse."""

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from escalation.selectors import latest_heartbeat
from messaging.selectors import PUSH_LATE_AFTER, push_backlog

# /healthz answers within this whatever is down, naming what did not answer in time: a load
# balancer or monitor must not hang on us. The checks run at once, so this bounds them all;
# it is under 1 s, what monitors commonly allow, and above the milliseconds a healthy check
# takes. With each check given 2 s one after another, an outage made /healthz take 6 s.
HEALTH_TIMEOUT_SECONDS = 0.8

# The database checks run on threads of their own, not the request's: a query blocked on a
# dead database holds its thread until the pool gives up (DB_POOL_TIMEOUT), and the answer
# must not wait for that. A thread per database check; a check still blocked when the next
# /healthz comes queues behind it and counts as down, so threads never pile up.
HEALTH_DB_THREADS = 3
_health_db_threads = ThreadPoolExecutor(HEALTH_DB_THREADS, thread_name_prefix="health-db")

Check = Callable[[], Awaitable[dict[str, Any]]]


async def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when every part works, else 503 naming what is down."""
    checks = await run_checks(CHECKS, timeout=HEALTH_TIMEOUT_SECONDS)
    down = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JsonResponse(body, status=503 if down else 200)


async def livez(request: HttpRequest) -> JsonResponse:
    """Answer 200 while this process's event loop serves: nothing else is asked."""
    return JsonResponse({"status": "ok"})


async def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when this process can serve (database and channel layer), else 503."""
    checks = await run_checks(READY_CHECKS, timeout=HEALTH_TIMEOUT_SECONDS)
    down = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JsonResponse(body, status=503 if down else 200)


async def run_checks(checks: dict[str, Check], *, timeout: float) -> dict[str, dict[str, Any]]:
    """Run every check at once; one that fails or has not answered within `timeout` is down."""
    tasks = {name: asyncio.ensure_future(check()) for name, check in checks.items()}
    await asyncio.wait(tasks.values(), timeout=timeout)
    return {name: _result(task, timeout) for name, task in tasks.items()}


def _result(task: "asyncio.Future[dict[str, Any]]", timeout: float) -> dict[str, Any]:
    if not task.done() or task.cancelled():
        task.cancel()
        return {"ok": False, "error": f"no answer within {timeout:g} s"}
    error = task.exception()
    if error is not None:
        # Any failure of a dependency is "down", said plainly.
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}
    return dict(task.result())


def on_health_thread(func: Callable[[], dict[str, Any]]) -> Check:
    """Wrap a blocking database check to run on the health checks' own threads."""

    def call() -> dict[str, Any]:
        try:
            return func()
        finally:
            # Back to the pool now: an idle thread must not sit on a connection.
            connection.close()

    return sync_to_async(call, thread_sensitive=False, executor=_health_db_threads)


def _select_one() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


async def _database() -> dict[str, Any]:
    return dict(await on_health_thread(_select_one)())


async def _channel_layer() -> dict[str, Any]:
    layer = get_channel_layer()
    if layer is None:
        return {"ok": False, "error": "no channel layer configured"}
    # One probe channel per process and event loop, kept only while it answers: the Redis
    # pub/sub layer keeps a channel subscribed until a receive on it is cancelled, so a new
    # channel per check would leak, and a timed-out one is unsubscribed and must be replaced.
    loop = asyncio.get_running_loop()
    channel = _PROBE_CHANNELS.pop(loop, None) or await layer.new_channel(prefix="health.")
    await layer.send(channel, {"type": "health.ping"})
    message = await layer.receive(channel)
    _PROBE_CHANNELS[loop] = channel
    return {"ok": message.get("type") == "health.ping", "backend": type(layer).__name__}


_PROBE_CHANNELS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, str]" = (
    weakref.WeakKeyDictionary()
)


def _heartbeat() -> dict[str, Any]:
    beat_at, fresh = latest_heartbeat(now=timezone.now())
    if beat_at is None:
        return {"ok": False, "error": "no escalation worker has ever run"}
    result: dict[str, Any] = {"ok": fresh, "last_heartbeat": beat_at.isoformat()}
    if not fresh:
        result["error"] = "the escalation worker has stopped"
    return result


async def _worker() -> dict[str, Any]:
    return dict(await on_health_thread(_heartbeat)())


def _push_backlog() -> dict[str, Any]:
    now = timezone.now()
    backlog = push_backlog(now=now)
    oldest = backlog.oldest_due_at
    result: dict[str, Any] = {
        "ok": not backlog.late,
        "due": backlog.due,
        "oldest_due_at": oldest.isoformat() if oldest else None,
        "oldest_waiting_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
    }
    if backlog.late:
        result["error"] = (
            f"pushes are not leaving: {backlog.due} due, the oldest waiting longer than "
            f"{PUSH_LATE_AFTER.total_seconds():g} s"
        )
    return result


async def _pushes() -> dict[str, Any]:
    return dict(await on_health_thread(_push_backlog)())


# What /healthz checks, by the name it reports; a new check is one more entry.
CHECKS: dict[str, Check] = {
    "database": _database,
    "channel_layer": _channel_layer,
    "worker": _worker,
    "pushes": _pushes,
}
# What this one process needs to serve requests and sockets.
READY_CHECKS: dict[str, Check] = {"database": _database, "channel_layer": _channel_layer}
