"""Simulated phones: real WebSocket clients, thousands per process, in processes of their own.

A shard (one process) connects and authenticates its phones, then its nurses send bleeps to
roles at a fixed rate, open loop. Each message carries its send time (CLOCK_MONOTONIC, which
Linux shares between processes), so the receiving phone, in whichever shard, measures the
latency itself. Doctors acknowledge some bleeps over their socket with the time in the
comment; the sender's phone measures the acknowledgement round trip the same way.

Shards meet the orchestrator at a barrier between phases, so it can read the server's memory
with every phone connected and start the reconnect storm everywhere at once.
"""

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from typing import Any, NamedTuple

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Origin

DOCTOR = "doctor"
NURSE = "nurse"
PRODUCT = "product"
FLOOR = "floor"

# Handshakes in flight per shard while connecting everyone (not in the storm: it is paced).
CONNECTING_AT_ONCE = 100
HANDSHAKE_TIMEOUT_SECONDS = 30.0
HTTP_TIMEOUT_SECONDS = 30.0
# After the last send, a shard waits until no bleep has arrived for QUIET_SECONDS (a queue
# behind a saturated server still drains), but no longer than DRAIN_LIMIT_SECONDS: what has
# not arrived by then counts as lost.
QUIET_SECONDS = 1.5
DRAIN_LIMIT_SECONDS = 60.0
# Every phone reconnects at a random moment within this window after the drop.
STORM_SPREAD_SECONDS = 10.0
STORM_TIMEOUT_SECONDS = 60.0
# A failed reconnect is retried as bleep/static/app/js/live.js retries it.
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 30.0
BARRIER_TIMEOUT_SECONDS = 300.0


class PhoneSpec(NamedTuple):
    token: str
    kind: str
    # The floor's stand-in for the rota: the group this phone's socket joins.
    group: str


@dataclass
class Shard:
    """What one generator process is told to do."""

    index: int
    shards: int
    mode: str
    url: str
    ws_url: str
    phones: list[PhoneSpec]
    targets: list[str]
    rate: float
    seconds: float
    ack_every: int
    storm: bool
    # Phones come back at random moments within this many seconds of the drop.
    storm_spread: float = STORM_SPREAD_SECONDS
    # How Bleep's nurses send: "rest" (POST /api/bleeps) or "socket" (the `send` action).
    send_via: str = "rest"


@dataclass
class Phone:
    spec: PhoneSpec
    socket: ClientConnection | None = None
    last_seq: int = 0
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    reader: "asyncio.Task[None] | None" = None


@dataclass
class Tally:
    """What a shard saw; the orchestrator merges the shards' tallies."""

    sent: list[str] = field(default_factory=list)
    send_errors: int = 0
    received: dict[str, float] = field(default_factory=dict)
    last_arrival: float = 0.0
    acks: list[float] = field(default_factory=list)
    acks_sent: int = 0
    failed_handshakes: int = 0
    storm_failed_handshakes: int = 0
    storm_seconds: float | None = None
    storm_unfinished: int = 0
    ack_tasks: set["asyncio.Task[None]"] = field(default_factory=set)

    def result(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "send_errors": self.send_errors,
            "received": self.received,
            "acks": self.acks,
            "acks_sent": self.acks_sent,
            "failed_handshakes": self.failed_handshakes,
            "storm_failed_handshakes": self.storm_failed_handshakes,
            "storm_seconds": self.storm_seconds,
            "storm_unfinished": self.storm_unfinished,
        }


def run_shard(shard: Shard, barrier: Barrier, results: Any) -> None:
    """Process entry point: run every phase, then put the tally on `results`."""
    results.put(asyncio.run(_run(shard, barrier)))


async def _run(shard: Shard, barrier: Barrier) -> dict[str, Any]:
    tally = Tally()
    phones = [Phone(spec) for spec in shard.phones]
    gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
    await asyncio.gather(*(_connect_gated(shard, phone, tally, gate) for phone in phones))
    await _meet(barrier)  # everyone connected: the orchestrator reads the server's memory
    await _send_bleeps(shard, phones, tally)
    await _drain(tally)
    await _meet(barrier)
    if shard.storm:
        await _meet(barrier)
        await _storm(shard, phones, tally)
    await asyncio.gather(*(_drop(phone) for phone in phones))
    return tally.result()


async def _drain(tally: Tally) -> None:
    """Return once no bleep has arrived for QUIET_SECONDS, or at DRAIN_LIMIT_SECONDS."""
    began = time.monotonic()
    tally.last_arrival = max(tally.last_arrival, began)
    while time.monotonic() - began < DRAIN_LIMIT_SECONDS:
        quiet_for = time.monotonic() - tally.last_arrival
        if quiet_for >= QUIET_SECONDS:
            return
        await asyncio.sleep(QUIET_SECONDS - quiet_for)


async def _meet(barrier: Barrier) -> None:
    await asyncio.get_running_loop().run_in_executor(None, barrier.wait, BARRIER_TIMEOUT_SECONDS)


async def _connect_gated(shard: Shard, phone: Phone, tally: Tally, gate: asyncio.Semaphore) -> None:
    async with gate:
        if not await _connect(shard, phone, tally):
            tally.failed_handshakes += 1


async def _connect(shard: Shard, phone: Phone, tally: Tally) -> bool:
    """Open the socket, authenticate from the phone's last number, wait for `caught_up`."""
    phone.caught_up = asyncio.Event()
    try:
        phone.socket = await connect(
            shard.ws_url,
            origin=Origin(shard.url),
            open_timeout=HANDSHAKE_TIMEOUT_SECONDS,
            ping_interval=None,
            compression=None,
            max_size=None,
        )
        hello = {"type": "auth", "token": phone.spec.token, "last_seq": phone.last_seq}
        await phone.socket.send(json.dumps({**hello, "group": phone.spec.group}))
        phone.reader = asyncio.create_task(_read(shard, phone, tally))
        await asyncio.wait_for(phone.caught_up.wait(), HANDSHAKE_TIMEOUT_SECONDS)
        return True
    except (OSError, TimeoutError, WebSocketException):
        await _drop(phone)
        return False


async def _drop(phone: Phone) -> None:
    if phone.socket is not None:
        await phone.socket.close()
    if phone.reader is not None:
        phone.reader.cancel()
    phone.socket = phone.reader = None


async def _read(shard: Shard, phone: Phone, tally: Tally) -> None:
    assert phone.socket is not None
    try:
        async for raw in phone.socket:
            _on_frame(shard, phone, tally, json.loads(raw))
    except WebSocketException:
        pass


def _on_frame(shard: Shard, phone: Phone, tally: Tally, frame: dict[str, Any]) -> None:
    arrived = time.monotonic_ns()
    seq = frame.get("seq")
    if isinstance(seq, int) and seq > phone.last_seq:
        phone.last_seq = seq
    kind = frame.get("type")
    if kind == "caught_up":
        phone.caught_up.set()
    elif kind == "bleep.created" and phone.spec.kind == DOCTOR:
        words = str(frame["bleep"]["message"]).split()
        if len(words) == 3 and words[0] == "bench" and words[1] not in tally.received:
            tally.received[words[1]] = (arrived - int(words[2])) / 1e9
            tally.last_arrival = time.monotonic()
            if shard.mode == PRODUCT and len(tally.received) % shard.ack_every == 0:
                task = asyncio.create_task(_acknowledge(phone, int(frame["bleep"]["id"])))
                tally.ack_tasks.add(task)
                task.add_done_callback(tally.ack_tasks.discard)
                tally.acks_sent += 1
    elif kind == "bleep.acknowledged" and phone.spec.kind == NURSE:
        comment = str(frame.get("comment", ""))
        if comment.startswith("t="):
            tally.acks.append((arrived - int(comment[2:])) / 1e9)


async def _acknowledge(phone: Phone, bleep_id: int) -> None:
    if phone.socket is not None:
        started = time.monotonic_ns()
        frame = {"type": "acknowledge", "bleep_id": bleep_id, "comment": f"t={started}"}
        await phone.socket.send(json.dumps(frame))


async def _send_bleeps(shard: Shard, phones: list[Phone], tally: Tally) -> None:
    """Send rate × seconds bleeps on a fixed schedule, whatever the answers' pace."""
    nurses = [phone for phone in phones if phone.spec.kind == NURSE and phone.socket]
    count = int(shard.rate * shard.seconds)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=shard.url, limits=limits, timeout=HTTP_TIMEOUT_SECONDS
    ) as client:
        began = time.monotonic()
        sending: list[asyncio.Task[None]] = []
        for n in range(count):
            await asyncio.sleep(max(0.0, began + n / shard.rate - time.monotonic()))
            nurse = nurses[n % len(nurses)]
            target = shard.targets[(n * shard.shards + shard.index) % len(shard.targets)]
            tag = f"{shard.index}.{n}"
            send = _sender(shard)
            sending.append(asyncio.create_task(send(client, nurse, target, tag, tally)))
        await asyncio.gather(*sending)


def _sender(shard: Shard) -> Any:
    if shard.mode == FLOOR:
        return _send_on_socket
    return _post if shard.send_via == "rest" else _send_action


async def _post(
    client: httpx.AsyncClient, nurse: Phone, target: str, tag: str, tally: Tally
) -> None:
    started = time.monotonic_ns()
    body = {"bleep_number": target, "priority": "routine", "message": f"bench {tag} {started}"}
    try:
        response = await client.post(
            "/api/bleeps", json=body, headers={"Authorization": f"Bearer {nurse.spec.token}"}
        )
    except httpx.HTTPError:
        tally.send_errors += 1
        return
    if response.status_code == 201:
        tally.sent.append(tag)
    else:
        tally.send_errors += 1


async def _send_on_socket(
    client: httpx.AsyncClient, nurse: Phone, target: str, tag: str, tally: Tally
) -> None:
    started = time.monotonic_ns()
    frame = {"type": "send", "to": f"role{target}", "message": f"bench {tag} {started}"}
    await _send_frame(nurse, frame, tag, tally)


async def _send_action(
    client: httpx.AsyncClient, nurse: Phone, target: str, tag: str, tally: Tally
) -> None:
    """Send as Bleep's protocol does over the socket (docs/protocol.md, `send`)."""
    started = time.monotonic_ns()
    message = f"bench {tag} {started}"
    frame = {"type": "send", "bleep_number": target, "priority": "routine", "message": message}
    await _send_frame(nurse, frame, tag, tally)


async def _send_frame(nurse: Phone, frame: dict[str, Any], tag: str, tally: Tally) -> None:
    try:
        assert nurse.socket is not None
        await nurse.socket.send(json.dumps(frame))
    except (AssertionError, WebSocketException):
        tally.send_errors += 1
        return
    tally.sent.append(tag)


def _backoff_seconds(attempt: int) -> float:
    """Wait before retry `attempt` as the phone app does: doubling from 1 s to 30 s, jittered."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


async def _storm(shard: Shard, phones: list[Phone], tally: Tally) -> None:
    """Drop every socket, reconnect each within the spread from its last number; time it."""
    await asyncio.gather(*(_drop(phone) for phone in phones))
    began = time.monotonic()

    async def come_back(phone: Phone) -> None:
        await asyncio.sleep(random.uniform(0, shard.storm_spread))
        attempt = 0
        while time.monotonic() - began < STORM_TIMEOUT_SECONDS:
            if await _connect(shard, phone, tally):
                return
            tally.storm_failed_handshakes += 1
            await asyncio.sleep(_backoff_seconds(attempt))
            attempt += 1
        tally.storm_unfinished += 1

    await asyncio.gather(*(come_back(phone) for phone in phones))
    tally.storm_seconds = time.monotonic() - began
