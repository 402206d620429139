"""How Django runs an HTTP request under daphne: one thread hop, on one of a fixed set."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


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
    RESERVED_PATHS = frozenset({"/healthz", "/livez", "/readyz"})
    # Paths that may take a long time (rota imports, exports and calendar feeds): they may
    # hold at most half the threads, so a nurse's bleep is never queued behind four of
    # them (docs/safety/, HZ-16). Imports themselves only store the file for a worker.
    # Analytics and their exports read a period's bleeps, up to a year.
    BULK_PREFIXES = (
        "/api/rota/imports/",
        "/api/rota/exports/",
        "/api/rota/feeds/",
        "/api/analytics/",
    )

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
