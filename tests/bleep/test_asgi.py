"""The HTTP side of the ASGI application: how many requests Django runs at once."""

import asyncio
from collections.abc import Mapping
from typing import Any

from bleep.asgi import BoundedConcurrency, django_asgi_app


async def test_no_more_than_the_limit_of_requests_run_at_once_and_the_rest_all_run() -> None:
    inside, most, finished = 0, 0, 0
    release = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal inside, most, finished
        inside += 1
        most = max(most, inside)
        await release.wait()
        inside -= 1
        finished += 1

    bounded = BoundedConcurrency(app, limit=3)
    requests = [asyncio.create_task(bounded({"type": "http"}, None, None)) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert inside == 3
    release.set()
    await asyncio.wait_for(asyncio.gather(*requests), timeout=5)
    assert (most, finished) == (3, 10)


async def test_every_request_still_passes_through_the_whole_middleware_chain() -> None:
    sent: list[Mapping[str, Any]] = []
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/me",
        "raw_path": b"/api/me",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await django_asgi_app(scope, receive, send)

    start = next(message for message in sent if message["type"] == "http.response.start")
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    assert start["status"] == 401
    # Set by SecurityMiddleware and XFrameOptionsMiddleware, the chain's two ends.
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
