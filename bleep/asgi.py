"""The ASGI application: Django for HTTP, the device consumer for WebSocket."""

import asyncio
import os
import sys
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")

import django  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
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

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from bleep.routing import websocket_urlpatterns  # noqa: E402


class BoundedConcurrency:
    """Let at most `limit` requests into `app` at once; the rest wait their turn on the loop.

    Django's ASGI handler gives every request a thread of its own. Under a surge hundreds
    of them contend for the interpreter with the event loop, and the sockets that carry
    bleeps and acknowledgements stall behind REST calls; a request waiting here costs
    nothing. Written here because no library bounds an ASGI app's concurrency.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async with self.slots:
            await self.app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": BoundedConcurrency(django_asgi_app, settings.HTTP_CONCURRENCY),
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
