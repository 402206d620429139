"""The soak: steady bleeps and reconnect churn for a long while, watching memory and events.

`python -m bench soak --minutes 60` runs the server as production does (a web process and a
worker, on PostgreSQL and Redis), 500 phones on it, nurses sending 2 bleeps a second and
doctors acknowledging one in five, while 50 phones a minute drop their socket and come back
from their last number. Every phone pings as the app does. It samples both processes'
memory every 10 s and reports the slope, and at the end compares every phone's received
event numbers with the events PostgreSQL holds for its person: each one missing is named by
person, device and number (docs/benchmarks.md, "Soak").
"""

import asyncio
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Origin

from bench.phones import DOCTOR, NURSE, PhoneSpec
from bench.servers import Running, product_commands, running
from bench.world import World, seed_world

SAMPLE_EVERY_SECONDS = 10.0
# The app's ping (bleep/static/app/js/live.js, PING_EVERY_MS): the server sends whatever is
# stored but not yet sent before it answers one, so this is the bound on a late event.
PING_EVERY_SECONDS = 25.0
# Memory before this share of the run is start-up (pools, caches, first sockets): the
# slope is fitted after it.
WARM_UP_SHARE = 0.2
HANDSHAKE_TIMEOUT_SECONDS = 30.0
ACK_EVERY = 5


@dataclass
class SoakPhone:
    spec: PhoneSpec
    person_id: int
    device_id: int = 0
    socket: ClientConnection | None = None
    last_seq: int = 0
    # Set by the first `caught_up`: from then on the phone resumes, never asks for a snapshot.
    resumed_from: int | None = None
    seen: set[int] = field(default_factory=set)
    reconnects: int = 0
    tasks: set["asyncio.Task[None]"] = field(default_factory=set)


@dataclass
class Plan:
    minutes: float
    phones: int
    rate: float
    churn_per_minute: int


@dataclass
class Tally:
    sent: int = 0
    send_errors: int = 0
    failed_handshakes: int = 0
    samples: list[dict[str, float]] = field(default_factory=list)
    # When the phones began to close, at the end.
    closing_at: datetime | None = None


def measure(plan: Plan) -> dict[str, Any]:
    """Run the soak on a fresh world; return memory slopes and the event accounting."""
    world = seed_world(devices=plan.phones)
    specs = world.phones(plan.phones)
    people = _people_by_token(specs)
    phones = [SoakPhone(spec, person_id=people[spec.token]) for spec in specs]
    with running(product_commands) as server:
        tally = asyncio.run(_soak(server, world, phones, plan))
        # Reminders go on after the last send, so events are still being stored while the
        # phones close: only those stored a ping interval before then must have arrived.
        assert tally.closing_at is not None
        cutoff = tally.closing_at - timedelta(seconds=PING_EVERY_SECONDS)
        missing, in_flight = _missing_events(phones, cutoff)
    return _report(plan, tally, phones, missing, in_flight)


async def _soak(server: Running, world: World, phones: list[SoakPhone], plan: Plan) -> Tally:
    tally = Tally()
    ws_url = server.web_for(0)[1]
    await asyncio.gather(*(_connect(ws_url, server.url, phone, tally) for phone in phones))
    stop = asyncio.Event()
    background = [
        asyncio.create_task(_sample(server, tally, stop)),
        asyncio.create_task(_churn(ws_url, server.url, phones, plan, tally, stop)),
        *(asyncio.create_task(_ping(phone, stop)) for phone in phones),
    ]
    await _send(server.url, world, phones, plan, tally)
    # One ping interval (and a little) for the last events to land everywhere.
    await asyncio.sleep(PING_EVERY_SECONDS + 5)
    tally.closing_at = datetime.now(UTC)
    stop.set()
    await asyncio.gather(*background)
    for phone in phones:
        if phone.socket is not None:
            await phone.socket.close()
    return tally


def _people_by_token(specs: list[PhoneSpec]) -> dict[str, int]:
    from bleep.tokens import digest_token
    from messaging.models import Device

    digests = {digest_token(spec.token): spec.token for spec in specs}
    rows = Device.objects.filter(token_digest__in=digests).values_list("token_digest", "user_id")
    return {digests[digest]: user_id for digest, user_id in rows}


async def _connect(ws_url: str, url: str, phone: SoakPhone, tally: Tally) -> None:
    """Open the socket and authenticate as the app does: snapshot once, resume ever after."""
    caught_up = asyncio.Event()
    try:
        phone.socket = await connect(
            ws_url, origin=Origin(url), open_timeout=HANDSHAKE_TIMEOUT_SECONDS, ping_interval=None
        )
        hello: dict[str, Any] = {"type": "auth", "token": phone.spec.token}
        hello["last_seq"] = phone.last_seq
        if phone.resumed_from is not None:
            hello["resume"] = True
        await phone.socket.send(json.dumps(hello))
        _spawn(phone, _read(phone, phone.socket, caught_up))
        await asyncio.wait_for(caught_up.wait(), HANDSHAKE_TIMEOUT_SECONDS)
    except (OSError, TimeoutError, WebSocketException):
        tally.failed_handshakes += 1
        phone.socket = None


def _spawn(phone: SoakPhone, work: Any) -> None:
    task = asyncio.create_task(work)
    phone.tasks.add(task)
    task.add_done_callback(phone.tasks.discard)


async def _read(phone: SoakPhone, socket: ClientConnection, caught_up: asyncio.Event) -> None:
    try:
        async for raw in socket:
            _on_frame(phone, socket, json.loads(raw), caught_up)
    except WebSocketException:
        pass


def _on_frame(
    phone: SoakPhone, socket: ClientConnection, frame: dict[str, Any], caught_up: asyncio.Event
) -> None:
    kind = frame.get("type")
    seq = frame.get("seq")
    if kind == "authenticated":
        phone.device_id = frame["device"]["id"]
    elif kind == "snapshot" and isinstance(seq, int):
        phone.last_seq = seq
    elif kind == "caught_up":
        if phone.resumed_from is None:
            phone.resumed_from = phone.last_seq
        caught_up.set()
    elif str(kind).startswith("bleep.") and isinstance(seq, int):
        phone.seen.add(seq)
        phone.last_seq = max(phone.last_seq, seq)
        if kind == "bleep.created" and phone.spec.kind == DOCTOR and seq % ACK_EVERY == 0:
            frame = {"type": "acknowledge", "bleep_id": frame["bleep"]["id"]}
            _spawn(phone, _send_quietly(socket, frame))


async def _send_quietly(socket: ClientConnection, frame: dict[str, Any]) -> None:
    try:
        await socket.send(json.dumps(frame))
    except WebSocketException:
        pass


async def _ping(phone: SoakPhone, stop: asyncio.Event) -> None:
    """Ping every PING_EVERY_SECONDS, from a random offset, as every phone's app does."""
    await _sleep_unless(stop, random.uniform(0, PING_EVERY_SECONDS))
    while not stop.is_set():
        if phone.socket is not None:
            await _send_quietly(phone.socket, {"type": "ping"})
        await _sleep_unless(stop, PING_EVERY_SECONDS)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


async def _churn(
    ws_url: str, url: str, phones: list[SoakPhone], plan: Plan, tally: Tally, stop: asyncio.Event
) -> None:
    """Each minute, drop `churn_per_minute` sockets; each comes back within 5 s."""

    async def bounce(phone: SoakPhone) -> None:
        await _sleep_unless(stop, random.uniform(0, 60))
        if stop.is_set() or phone.socket is None:
            return
        await phone.socket.close()
        phone.socket = None
        await asyncio.sleep(random.uniform(0, 5))
        phone.reconnects += 1
        await _connect(ws_url, url, phone, tally)

    while not stop.is_set():
        await asyncio.gather(
            *(bounce(phone) for phone in random.sample(phones, plan.churn_per_minute))
        )


async def _sample(server: Running, tally: Tally, stop: asyncio.Event) -> None:
    began = time.monotonic()
    while not stop.is_set():
        tally.samples.append(
            {
                "seconds": round(time.monotonic() - began, 1),
                "web_mib": round(server.rss_kib("web") / 1024, 2),
                "worker_mib": round(server.rss_kib("worker") / 1024, 2),
            }
        )
        await _sleep_unless(stop, SAMPLE_EVERY_SECONDS)


async def _send(url: str, world: World, phones: list[SoakPhone], plan: Plan, tally: Tally) -> None:
    """Send rate × minutes bleeps on a fixed schedule over REST, as nurses' phones do."""
    nurses = [phone for phone in phones if phone.spec.kind == NURSE]
    count = int(plan.rate * plan.minutes * 60)
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        sending: set[asyncio.Task[None]] = set()
        for n in range(count):
            await asyncio.sleep(max(0.0, began + n / plan.rate - time.monotonic()))
            nurse = nurses[n % len(nurses)]
            body = {
                "bleep_number": world.targets[n % len(world.targets)],
                "priority": "routine",
                "message": f"soak {n}",
            }
            task = asyncio.create_task(_post(client, nurse, body, tally))
            sending.add(task)
            task.add_done_callback(sending.discard)
        await asyncio.gather(*sending)


async def _post(
    client: httpx.AsyncClient, nurse: SoakPhone, body: dict[str, Any], tally: Tally
) -> None:
    headers = {"Authorization": f"Bearer {nurse.spec.token}"}
    try:
        response = await client.post("/api/bleeps", json=body, headers=headers)
    except httpx.HTTPError:
        tally.send_errors += 1
        return
    if response.status_code == 201:
        tally.sent += 1
    else:
        tally.send_errors += 1


def _missing_events(phones: list[SoakPhone], cutoff: datetime) -> tuple[list[dict[str, Any]], int]:
    """Every event stored by `cutoff`, after a phone's first snapshot, that the phone never
    received; and how many stored later it had not received when it closed."""
    from messaging.models import StreamEvent

    by_person: dict[int, list[tuple[int, str, datetime]]] = {}
    stored = StreamEvent.objects.values_list("user_id", "seq", "type", "created_at")
    for user_id, seq, kind, created_at in stored:
        by_person.setdefault(user_id, []).append((seq, kind, created_at))
    missing, in_flight = [], 0
    for phone in phones:
        base = phone.resumed_from if phone.resumed_from is not None else 0
        for seq, kind, created_at in by_person.get(phone.person_id, []):
            if seq <= base or seq in phone.seen:
                continue
            if created_at > cutoff:
                in_flight += 1
                continue
            missing.append(
                {
                    "person": phone.person_id,
                    "device": phone.device_id,
                    "seq": seq,
                    "type": kind,
                    "stored_at": created_at.isoformat(),
                    "reconnects": phone.reconnects,
                }
            )
    return missing, in_flight


def _report(
    plan: Plan,
    tally: Tally,
    phones: list[SoakPhone],
    missing: list[dict[str, Any]],
    in_flight: int,
) -> dict[str, Any]:
    samples = tally.samples
    warm = [s for s in samples if s["seconds"] >= WARM_UP_SHARE * samples[-1]["seconds"]]
    half = len(warm) // 2
    return {
        "plan": vars(plan),
        "sent": tally.sent,
        "send_errors": tally.send_errors,
        "failed_handshakes": tally.failed_handshakes,
        "reconnects": sum(phone.reconnects for phone in phones),
        "events_received": sum(len(phone.seen) for phone in phones),
        "events_missing": len(missing),
        # Stored in the last ping interval before the phones closed, not yet on them.
        "events_in_flight_at_the_end": in_flight,
        "missing": missing[:50],
        "memory": {
            process: {
                "first_mib": samples[0][f"{process}_mib"],
                "after_warm_up_mib": warm[0][f"{process}_mib"],
                "last_mib": samples[-1][f"{process}_mib"],
                "slope_mib_per_hour": _slope(warm, process),
                "first_half_slope_mib_per_hour": _slope(warm[:half], process),
                "second_half_slope_mib_per_hour": _slope(warm[half:], process),
            }
            for process in ("web", "worker")
        },
        "samples": samples,
    }


def _slope(samples: list[dict[str, float]], process: str) -> float:
    """Least-squares slope of `process`'s memory over time, in MiB an hour."""
    if len(samples) < 2:
        return float("nan")
    hours = [s["seconds"] / 3600 for s in samples]
    mib = [s[f"{process}_mib"] for s in samples]
    return round(statistics.linear_regression(hours, mib).slope, 1)
