"""The floor: a bare Channels app doing only socket → group_send → socket.

It runs on the same daphne and the same channel layer (RedisPubSubChannelLayer on the bench
Redis) as Bleep and is driven by the same generator, so Bleep's latency can be read as a
ratio to what the stack underneath costs on this machine, in the same run.

Protocol, shaped like Bleep's so one generator drives both: the first frame is
`{"type": "auth", "group": name, ...}` (the socket joins `name`, answers `authenticated` and
`caught_up`); then `{"type": "send", "to": group, "message": text}` arrives at every socket
in `group` as `{"type": "bleep.created", "bleep": {"message": text}}`.
"""

# daphne.server installs Twisted's asyncio reactor on import: it must come first.
from daphne.server import Server  # isort: skip

import argparse
import os
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")
django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from daphne.endpoints import build_endpoint_description_strings  # noqa: E402
from django.urls import path  # noqa: E402

from bleep.management.commands.serve import WEBSOCKET_HANDSHAKE_TIMEOUT_SECONDS  # noqa: E402
from bleep.runtime.collector import settle_collector  # noqa: E402


class FloorConsumer(AsyncJsonWebsocketConsumer):
    """Join one group on the first frame; forward `send` frames to a group."""

    group: str | None = None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if content.get("type") == "auth":
            self.group = str(content["group"])
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.send_json({"type": "authenticated"})
            await self.send_json({"type": "caught_up", "seq": 0})
        elif content.get("type") == "send":
            event = {"type": "bleep.created", "bleep": {"message": content["message"]}}
            await self.channel_layer.group_send(
                str(content["to"]), {"type": "floor.deliver", "event": event}
            )

    async def floor_deliver(self, message: dict[str, Any]) -> None:
        """Forward an event from the channel layer to the socket."""
        await self.send_json(message["event"])

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)


async def healthz(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request 200, so the floor starts as Bleep's server does."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter(
    {"http": healthz, "websocket": URLRouter([path("ws", FloorConsumer.as_asgi())])}
)


def main() -> None:
    """Serve the floor on daphne as `manage.py serve` serves Bleep: the collector settled
    and the handshake timeout likewise."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    options = parser.parse_args()
    Server(
        application=application,
        endpoints=build_endpoint_description_strings(host=options.host, port=options.port),
        ready_callable=settle_collector,
        verbosity=0,
        websocket_handshake_timeout=WEBSOCKET_HANDSHAKE_TIMEOUT_SECONDS,
    ).run()


if __name__ == "__main__":
    main()
