"""What a phone app does against a running server: sign in, send bleeps, keep a socket."""

import asyncio
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from rota.models import Person
from tests import factories
from tests.e2e.conftest import Server

# Every wait for the server is bounded, so a lost frame fails the test instead of hanging it.
FRAME_TIMEOUT_SECONDS = 10
HTTP_TIMEOUT_SECONDS = 10


def staff_on_call() -> None:
    """A nurse, and a registrar on bleep 2345 now, with passwords the server can check."""
    role = factories.make_role(bleep_number="2345")
    nurse = factories.make_person("amina.okafor", job=Person.Job.NURSE)
    doctor = factories.make_person("omar.haddad")
    for person in (nurse, doctor):
        # The server runs with the production hasher, not the tests' fast one.
        hasher = PBKDF2PasswordHasher()
        person.password = hasher.encode(factories.PASSWORD, hasher.salt())
        person.save(update_fields=["password"])
    factories.on_call_now(role, doctor)


async def login(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/auth/login",
        json={"username": username, "password": factories.PASSWORD, "device_name": "e2e"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def send_bleep(client: httpx.AsyncClient, token: str, message: str) -> int:
    """Bleep 2345 over REST as the holder of `token`; return the new bleep's id."""
    response = await client.post(
        "/api/bleeps",
        headers={"Authorization": f"Bearer {token}"},
        json={"bleep_number": "2345", "priority": "urgent", "message": message},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def next_frame(socket: ClientConnection, *skip: str) -> dict[str, Any]:
    """Return the next frame whose type is not in `skip`."""
    while True:
        text = await asyncio.wait_for(socket.recv(decode=True), FRAME_TIMEOUT_SECONDS)
        frame = json.loads(text)
        if frame["type"] not in skip:
            return dict(frame)


async def authenticate(socket: ClientConnection, token: str) -> None:
    await socket.send(json.dumps({"type": "auth", "token": token, "last_seq": 0}))
    assert (await next_frame(socket))["type"] == "authenticated"
    assert (await next_frame(socket, "snapshot"))["type"] == "caught_up"


def open_socket(server: Server) -> connect:
    """Open the device socket as an app does, naming the server as its origin."""
    return connect(server.ws_url, origin=Origin(server.url), open_timeout=FRAME_TIMEOUT_SECONDS)


@dataclass
class Phone:
    """One device of one person that remembers the last `seq` it processed, as the app does.

    `events` keeps every event frame as it arrived, duplicates included, so a test can check
    that the server sent each one exactly once.
    """

    server: Server
    token: str
    last_seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    socket: ClientConnection | None = None
    # Once caught up, the phone resumes from `last_seq` ever after, even from 0.
    caught_up_before: bool = False

    async def __aenter__(self) -> "Phone":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def connect(self) -> list[dict[str, Any]]:
        """Open a socket, send `last_seq` and return the events sent before `caught_up`."""
        self.socket = await open_socket(self.server)
        hello = {"type": "auth", "token": self.token, "last_seq": self.last_seq}
        await self._send(hello | {"resume": True} if self.caught_up_before else hello)
        assert (await self._receive())["type"] == "authenticated"
        backlog = []
        while (frame := await self._receive())["type"] != "caught_up":
            if frame["type"] == "snapshot":  # a new device: open bleeps, not old events
                self.last_seq = frame["seq"]
                continue
            backlog.append(self._process(frame))
        assert frame["seq"] == self.last_seq, frame
        self.caught_up_before = True
        return backlog

    async def next_event(self) -> dict[str, Any]:
        """Wait for the next live event and process it."""
        return self._process(await self._receive())

    async def settle(self) -> list[dict[str, Any]]:
        """Process the events this socket already has: ping, and read up to the pong."""
        await self._send({"type": "ping", "ref": "settle"})
        received = []
        while (frame := await self._receive())["type"] != "pong":
            received.append(self._process(frame))
        return received

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None

    def _process(self, frame: dict[str, Any]) -> dict[str, Any]:
        assert "seq" in frame, f"expected an event, got {frame}"
        self.events.append(frame)
        self.last_seq = max(self.last_seq, frame["seq"])
        return frame

    async def _send(self, frame: dict[str, Any]) -> None:
        assert self.socket is not None, "connect first"
        await self.socket.send(json.dumps(frame))

    async def _receive(self) -> dict[str, Any]:
        assert self.socket is not None, "connect first"
        return await next_frame(self.socket)
