"""The ASGI application: Django for HTTP, the device consumer for WebSocket."""

import json
import logging
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")

import django  # noqa: E402

from bleep.config import ConfigurationError  # noqa: E402
from bleep.runtime.http import OneHopASGIHandler, RequestThreads  # noqa: E402

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

from api.exceptions import too_large_body  # noqa: E402
from bleep.origins import default_origins  # noqa: E402
from bleep.routing import websocket_urlpatterns  # noqa: E402

logger = logging.getLogger(__name__)


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
            await self._refuse(send, self.max_bytes)
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
            await self._refuse(send, self.max_bytes)

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
    async def _refuse(send: Any, max_bytes: int) -> None:
        body = json.dumps(too_large_body(max_bytes)).encode()
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
