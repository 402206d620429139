"""Sign in as one person over the real API and print what arrives on their WebSocket.

A stand-in phone for trying Bleep from a terminal, and a probe for whoever runs it.
"""

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError, CommandParser
from websockets.asyncio.client import ClientConnection, connect

from rota import demo

# Events that carry a whole bleep this person may now have to answer.
BRINGS_A_BLEEP = ("bleep.created", "bleep.escalated", "bleep.handed_over", "bleep.redirected")


class Command(BaseCommand):
    help = "Sign in as USERNAME and print every event that reaches their devices."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument(
            "--password", default=demo.DEMO_PASSWORD, help="default: the demo hospital's password"
        )
        parser.add_argument(
            "--acknowledge", metavar="COMMENT", help="acknowledge each new bleep with this comment"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = self._login(options["url"], options["username"], options["password"])
        try:
            asyncio.run(self._listen(options["url"], token, options["acknowledge"]))
        except KeyboardInterrupt:
            pass

    def _login(self, url: str, username: str, password: str) -> str:
        body = json.dumps(
            {"username": username, "password": password, "device_name": "terminal"}
        ).encode()
        request = urllib.request.Request(
            f"{url}/api/auth/login", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return str(json.load(response)["token"])
        except urllib.error.HTTPError as error:
            raise CommandError(f"sign-in failed: {error.read().decode()}") from None
        except urllib.error.URLError as error:
            raise CommandError(
                f"no Bleep server at {url} ({error.reason}); is `make run` up?"
            ) from None

    async def _listen(self, url: str, token: str, acknowledge: str | None) -> None:
        parts = urlsplit(url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        async with connect(f"{scheme}://{parts.netloc}/ws", origin=url) as socket:  # type: ignore[arg-type]
            await socket.send(json.dumps({"type": "auth", "token": token, "last_seq": 0}))
            async for frame in socket:
                event = json.loads(frame)
                self.stdout.write(self._describe(event))
                if event.get("type") in BRINGS_A_BLEEP:
                    await self._answer(socket, event["bleep"], acknowledge)

    async def _answer(
        self, socket: ClientConnection, bleep: dict[str, Any], acknowledge: str | None
    ) -> None:
        """Do what a phone does with a bleep sent to it: confirm receipt, maybe acknowledge."""
        mine = any(d["recipient"]["id"] == self._me for d in bleep["deliveries"])
        if not mine or bleep["status"] != "open":
            return
        await socket.send(json.dumps({"type": "delivered", "bleep_id": bleep["id"]}))
        if acknowledge:
            await socket.send(
                json.dumps({"type": "acknowledge", "bleep_id": bleep["id"], "comment": acknowledge})
            )

    _me: int | None = None

    def _describe(self, event: dict[str, Any]) -> str:
        kind = event.get("type")
        if kind == "authenticated":
            self._me = event["user"]["id"]
            return f"signed in as {event['user']['name']}"
        if kind == "ok":
            return "  (server: done)"
        if kind == "snapshot":
            lines = [f"  open: {_describe_bleep(bleep)}" for bleep in event["bleeps"]]
            return "\n".join([f"{len(lines)} open bleep(s) at event {event['seq']}", *lines])
        if kind == "caught_up":
            return f"caught up at event {event['seq']}; waiting for bleeps (Ctrl-C stops)"
        if kind == "bleep.created":
            return f"#{event['seq']} {_describe_bleep(event['bleep'])}"
        if kind == "delivery.updated":
            delivery = event["delivery"]
            who, status = delivery["recipient"]["name"], delivery["status"].upper()
            return f"#{event['seq']} bleep {event['bleep_id']} {status} to {who}"
        if kind in ("bleep.escalated", "bleep.handed_over", "bleep.redirected"):
            added = ", ".join(person["name"] for person in event["added"])
            return f"#{event['seq']} bleep {event['bleep_id']} {event['action'].upper()}: {added}"
        if kind == "bleep.renotified":
            return f"#{event['seq']} bleep {event['bleep_id']} REMINDER (step {event['step']})"
        if kind == "bleep.acknowledged":
            eta = event.get("eta_minutes")
            eta_text = f", ETA {eta} min" if eta is not None else ""
            return (
                f"#{event['seq']} bleep {event['bleep_id']} ACKNOWLEDGED by "
                f"{event['by']['name']}: {event['comment']}{eta_text}"
            )
        return json.dumps(event)


def _describe_bleep(bleep: dict[str, Any]) -> str:
    where = ", ".join(filter(None, [bleep["location"], bleep["bed"] and f"bed {bleep['bed']}"]))
    target = (bleep["role"] or bleep["person"])["name"]
    return (
        f"BLEEP {bleep['id']} [{bleep['priority']}] to {target} "
        f"from {bleep['sender']['name']}: {bleep['message']} "
        f"({where or 'no location'}; call {bleep['callback_extension'] or '-'})"
    )
