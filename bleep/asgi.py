"""The ASGI application: Django for HTTP, the device consumer for WebSocket."""

import asyncio
import json
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")

import django  # noqa: E402
from asgiref.sync import ThreadSensitiveContext, sync_to_async  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponseBase  # noqa: E402

from bleep.config import ConfigurationError  # noqa: E402


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, running each request's middleware and view in one thread hop.

    Under ASGI, Django runs every `MiddlewareMixin` middleware (sessions, CSRF, auth…) in
    async mode, handing each one's request and response halves to a thread and back: about
    a dozen hand-offs per request, measured at 1.5 ms of a 4.5 ms `GET /api/me`. The views
    are synchronous, so the chain runs synchronously instead, in the request's thread.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


try:
    django.setup(set_prefix=False)
    django_asgi_app = OneHopASGIHandler()
except ConfigurationError as error:
    # One line saying what to set, not a traceback from inside the server.
    sys.exit(f"bleep: {error}")

from autobahn.exception import Disconnected  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from bleep.origins import default_origins  # noqa: E402
from bleep.routing import websocket_urlpatterns  # noqa: E402


class RequestThreads:
    """Run at most `limit` requests at once, each on one of `limit` long-lived threads.

    Django's ASGI handler gives every request a thread of its own (a `ThreadSensitiveContext`
    with a new executor) and, when it ends, starts another thread to join that one. Under a
    surge hundreds of request threads contend for the interpreter with the event loop, and the
    sockets that carry bleeps and acknowledgements stall behind REST calls; in a steady stream
    the two thread starts per request cost the event loop more than parsing the request did
    (docs/benchmarks.md). Here a request waits its turn on the loop, where it costs nothing,
    then runs its thread-sensitive calls (signals, middleware, view, closing the response) on
    an idle thread of a fixed set; Django's own context nests inside this one. Written here
    because no library bounds an ASGI app's concurrency.
    """

    # Paths that never wait their turn: a monitor asking whether the server is up must be
    # answered within a second even when every request thread is held by requests waiting
    # on a database that is down, which is exactly when it asks (docs/safety/, HZ-16).
    RESERVED_PATHS = frozenset({"/healthz"})
    # Paths that may take a long time (rota imports, exports and calendar feeds): they may
    # hold at most half the threads, so a nurse's bleep is never queued behind four of
    # them (docs/safety/, HZ-16). Imports themselves only store the file for a worker.
    BULK_PREFIXES = ("/api/rota/imports/", "/api/rota/exports/", "/api/rota/feeds/")

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        # One thread each: a request's calls must all run on one thread, as Django expects.
        self.idle: asyncio.Queue[ThreadPoolExecutor] = asyncio.Queue()
        for n in range(limit):
            self.idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{n}"))
        self.reserved = ThreadPoolExecutor(max_workers=1, thread_name_prefix="http-health")
        self.bulk = asyncio.Semaphore(max(1, limit // 2))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("path") in self.RESERVED_PATHS:
            async with ThreadSensitiveContext(executor=self.reserved):
                await self.app(scope, receive, send)
            return
        if str(scope.get("path", "")).startswith(self.BULK_PREFIXES):
            async with self.bulk:
                await self._run(scope, receive, send)
        else:
            await self._run(scope, receive, send)

    async def _run(self, scope: Any, receive: Any, send: Any) -> None:
        executor = await self.idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.app(scope, receive, send)
        finally:
            self.idle.put_nowait(executor)


logger = logging.getLogger(__name__)

TOO_LARGE_BODY = {"code": "too_large", "detail": "the request body is too large"}


class BodyLimit:
    """Refuse a request body over `max_bytes` with 413, without reading the rest of it.

    Django reads a whole body into a spooled file before anything checks its size
    (`DATA_UPLOAD_MAX_MEMORY_SIZE` applies only afterwards), so a 200 MB upload was read,
    and held a request thread, before it was refused. Here a body declared too large by
    its `Content-Length` is refused before any of it is read, and a streamed (chunked)
    body as soon as it passes the limit: the application is told the client has gone
    (`http.disconnect`, on which Django stops reading and answers nothing) and the 413 is
    sent from here, in the API's JSON error shape. Written here because Django and daphne
    bound a body only after reading it.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        over = False
        started = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        await self.app(scope, bounded_receive, watched_send)
        if over and not started:
            await self._refuse(send)

    @staticmethod
    def _declared_length(scope: Any) -> int:
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # not a number: the streamed count still applies
        return 0

    @staticmethod
    async def _refuse(send: Any) -> None:
        body = json.dumps(TOO_LARGE_BODY).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class QuietClose:
    """Drop a frame sent to a socket its phone is already closing, instead of failing.

    A phone that closes its socket (a reconnect, the app put away) while the server is
    sending it a catch-up or a snapshot leaves daphne's protocol closing before the
    application hears `websocket.disconnect`; daphne's send then raises autobahn's
    `Disconnected`, the consumer dies mid-loop, and daphne logs "Exception inside
    application" at ERROR for an ordinary goodbye (docs/safety/, HZ-22). The frame has
    nowhere to go and the phone resumes from its last number, so it is dropped here and the
    consumer goes on to the `websocket.disconnect` that follows.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_unless_closing(message: dict[str, Any]) -> None:
            try:
                await send(message)
            except Disconnected:
                logger.debug("dropped %s to a closing socket", message["type"])

        await self.app(scope, receive, send_unless_closing)


# Channels' OriginValidator compares scheme, host and port when the origin names them all
# (AllowedHostsOriginValidator compared the host alone); a refused handshake answers 403.
ALLOWED_ORIGINS = settings.ALLOWED_ORIGINS or default_origins(
    settings.ALLOWED_HOSTS, settings.SERVE_PORT
)

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(
            RequestThreads(django_asgi_app, settings.HTTP_CONCURRENCY), settings.HTTP_BODY_MAX_BYTES
        ),
        "websocket": QuietClose(OriginValidator(URLRouter(websocket_urlpatterns), ALLOWED_ORIGINS)),
    }
)
