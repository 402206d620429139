"""`GET /healthz`: database, channel layer, escalation worker and the push backlog, each
checked for real."""

import asyncio
import weakref
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from escalation.selectors import latest_heartbeat
from messaging.selectors import PUSH_LATE_AFTER, push_backlog

# A check that takes longer than this counts as down: a load balancer must not hang on us.
CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when every part works, else 503 naming what is down."""
    checks = {
        "database": await _check(_database()),
        "channel_layer": await _check(_channel_layer()),
        "worker": await _check(_worker()),
        "pushes": await _check(_pushes()),
    }
    down = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JsonResponse(body, status=503 if down else 200)


async def _check(probe: Any) -> dict[str, Any]:
    try:
        return dict(await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS))
    except TimeoutError:
        return {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"}
    except Exception as error:  # any failure of a dependency is "down", said plainly
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


@database_sync_to_async
def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


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


@database_sync_to_async
def _worker() -> dict[str, Any]:
    beat_at, fresh = latest_heartbeat(now=timezone.now())
    if beat_at is None:
        return {"ok": False, "error": "no escalation worker has ever run"}
    result: dict[str, Any] = {"ok": fresh, "last_heartbeat": beat_at.isoformat()}
    if not fresh:
        result["error"] = "the escalation worker has stopped"
    return result


@database_sync_to_async
def _pushes() -> dict[str, Any]:
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
