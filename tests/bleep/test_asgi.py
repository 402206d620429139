"""The HTTP side of the ASGI application: how many requests Django runs at once, and where."""

import asyncio
import json
import threading
from collections.abc import Mapping
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from django.utils import timezone

from bleep.asgi import BodyLimit, QuietClose, application, django_asgi_app
from bleep.runtime.http import RequestThreads
from escalation.services.sending import send_bleep
from tests import factories
from tests.conftest import Ward

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


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

    bounded = RequestThreads(app, limit=3)
    requests = [asyncio.create_task(bounded({"type": "http"}, None, None)) for _ in range(10)]
    await asyncio.sleep(0.05)
    assert inside == 3
    release.set()
    await asyncio.wait_for(asyncio.gather(*requests), timeout=5)
    assert (most, finished) == (3, 10)


@pytest.mark.hazard("HZ-16")
@pytest.mark.parametrize("probe", ["/healthz", "/livez", "/readyz"])
async def test_the_health_probes_are_answered_while_every_request_thread_is_held(
    probe: str,
) -> None:
    release = asyncio.Event()
    answered: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] != probe:
            await release.wait()  # a request waiting on a database that is down
        answered.append(scope["path"])

    threads = RequestThreads(app, limit=2)
    held = [asyncio.create_task(threads(_scope("/api/bleeps"), None, None)) for _ in range(4)]
    await asyncio.sleep(0.05)

    await asyncio.wait_for(threads(_scope(probe), None, None), timeout=1)

    assert answered == [probe]
    release.set()
    await asyncio.wait_for(asyncio.gather(*held), timeout=5)


@pytest.mark.hazard("HZ-24")
async def test_a_bleep_is_not_queued_behind_rota_imports_and_exports_holding_threads() -> None:
    release = asyncio.Event()
    inside: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        inside.append(scope["path"])
        if scope["path"] != "/api/bleeps":
            await release.wait()  # a big export, or a slow feed, still being written

    threads = RequestThreads(app, limit=4)
    bulk = [
        "/api/rota/imports/csv",
        "/api/rota/imports/ical",
        "/api/rota/exports/shifts.csv",
        "/api/rota/feeds/secret.ics",
    ]
    held = [asyncio.create_task(threads(_scope(path), None, None)) for path in bulk]
    await asyncio.sleep(0.05)
    running_before_the_bleep = list(inside)

    await asyncio.wait_for(threads(_scope("/api/bleeps"), None, None), timeout=1)

    # Two of the four bulk requests hold their share of the threads; the bleep took one of
    # the others at once, while all four were still in flight.
    assert running_before_the_bleep == bulk[:2]
    assert not any(task.done() for task in held)
    release.set()
    await asyncio.wait_for(asyncio.gather(*held), timeout=5)
    assert sorted(inside) == sorted([*bulk, "/api/bleeps"])


async def test_a_request_runs_on_one_long_lived_thread_and_starts_none_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []

    def where() -> None:
        seen.append(threading.get_ident())

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await sync_to_async(where)()
        await django_asgi_app(scope, receive, send)
        await sync_to_async(where)()

    threads = RequestThreads(app, limit=2)
    for _ in range(2):  # each of the two threads starts on its first call
        await threads(_scope("/api/me"), _receive(), _send([]))
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counting_start)
    seen.clear()
    for _ in range(5):
        before = len(seen)
        await threads(_scope("/api/me"), _receive(), _send([]))
        assert len(set(seen[before:])) == 1  # Django's calls and ours, on one thread
    assert started == []
    assert len(set(seen)) <= 2


async def test_every_request_still_passes_through_the_whole_middleware_chain() -> None:
    sent: list[Mapping[str, Any]] = []
    await django_asgi_app(_scope("/api/me"), _receive(), _send(sent))

    start = next(message for message in sent if message["type"] == "http.response.start")
    headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    assert start["status"] == 401
    # Set by SecurityMiddleware and XFrameOptionsMiddleware, the chain's two ends.
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


CHUNK = 64 * 1024


class Upload:
    """A client sending `chunks` chunks of a body, counting how many the server read."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.read = chunks, 0

    async def receive(self) -> dict[str, Any]:
        if self.read == self.chunks:
            await asyncio.Event().wait()  # the client never disconnects
        self.read += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": self.read < self.chunks}


def _post(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    scope = _scope(path)
    scope["method"] = "POST"
    scope["headers"] = [*scope["headers"], (b"content-type", b"application/json"), *headers]
    return scope


def _answer(sent: list[Mapping[str, Any]]) -> tuple[int, Any]:
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


def too_large(limit: int) -> dict[str, Any]:
    return {
        "code": "too_large",
        "detail": f"the request body is larger than the {limit:,} bytes allowed here",
        "limit_bytes": limit,
    }


async def test_a_body_declared_over_the_limit_is_refused_413_before_any_of_it_is_read(
    settings: Any,
) -> None:
    upload, sent = Upload(chunks=3200), list[Mapping[str, Any]]()  # 200 MB
    length = (b"content-length", str(upload.chunks * CHUNK).encode())
    await application(_post("/api/auth/login", [length]), upload.receive, _send(sent))
    assert _answer(sent) == (413, too_large(settings.HTTP_BODY_MAX_BYTES))
    assert upload.read == 0


async def test_a_streamed_body_is_refused_413_once_past_the_limit_and_the_rest_is_never_read(
    settings: Any,
) -> None:
    # 200 MB, chunked: no Content-Length
    upload, sent = Upload(chunks=3200), list[Mapping[str, Any]]()
    await application(_post("/api/auth/login", []), upload.receive, _send(sent))
    assert _answer(sent) == (413, too_large(settings.HTTP_BODY_MAX_BYTES))
    assert upload.read == settings.HTTP_BODY_MAX_BYTES // CHUNK + 1


async def test_a_streamed_body_up_to_the_limit_reaches_the_application_whole() -> None:
    received: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            received.append(len(message["body"]))
            more = message["more_body"]
        await send({"type": "http.response.start", "status": 201, "headers": []})

    upload, sent = Upload(chunks=4), list[Mapping[str, Any]]()
    await BodyLimit(app, max_bytes=4 * CHUNK)(_post("/", []), upload.receive, _send(sent))
    assert received == [CHUNK] * 4
    assert sent[0]["status"] == 201


def _receive() -> Any:
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if bodies:
            return bodies.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    return receive


def _send(sent: list[Mapping[str, Any]]) -> Any:
    async def send(message: Mapping[str, Any]) -> None:
        sent.append(message)

    return send


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


@pytest.mark.hazard("HZ-22")
async def test_a_frame_to_a_socket_its_phone_is_closing_is_dropped_and_the_consumer_goes_on() -> (
    None
):
    sent_after: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.send", "text": "one of a catch-up"})
        sent_after.append("went on")

    async def closing(message: Any) -> None:
        raise Disconnected("Attempt to send on a closed protocol")

    await QuietClose(app)({"type": "websocket"}, None, closing)
    assert sent_after == ["went on"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-22")
async def test_a_phone_that_closes_mid_catch_up_ends_its_socket_quietly(ward: Ward) -> None:
    for _ in range(3):
        await database_sync_to_async(send_bleep)(
            sender=ward.nurse,
            device=ward.nurse_device,
            draft=factories.draft(ward.role, "Bed 4"),
            now=timezone.now(),
        )
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in (
        {"type": "websocket.connect"},
        {
            "type": "websocket.receive",
            "text": json.dumps({"type": "auth", "token": ward.doctor_token, "last_seq": 1}),
        },
    ):
        inbox.put_nowait(message)
    frames: list[dict[str, Any]] = []

    async def daphne_send(message: dict[str, Any]) -> None:
        """As daphne's protocol does: once the phone's close frame is in, sending raises."""
        if len(frames) == 2:  # `authenticated`, then the first event of the catch-up
            raise Disconnected("Attempt to send on a closed protocol")
        if message["type"] == "websocket.send":
            frames.append(json.loads(message["text"]))
        if len(frames) == 2:
            inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

    scope = {"type": "websocket", "path": "/ws", "headers": [ORIGIN], "subprotocols": []}
    await asyncio.wait_for(application(scope, inbox.get, daphne_send), timeout=5)
    assert [frame["type"] for frame in frames] == ["authenticated", "bleep.created"]
