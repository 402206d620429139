"""Delivery latency, acknowledgement round trip, memory per connection and the reconnect
storm, on the real server in subprocesses, each size beside the floor of bench/floor.py."""

import math
import multiprocessing
import os
from typing import Any

from bench import phones
from bench.servers import Running, floor_commands, product_commands, running
from bench.stats import summary_ms
from bench.world import World, clear_bleeps, seed_world

GENERATOR_PROCESSES = 2
# BENCH_SEND=socket: Bleep's nurses send with the socket's `send` action instead of REST.
SEND_VIA = os.environ.get("BENCH_SEND", "rest")
# The scale-out run: this many web processes (and one worker) behind the same generator.
SCALED_WEBS = 2
# One bleep in this many is acknowledged by its recipient while the load runs.
ACK_EVERY = 5


def measure(
    *,
    sizes: tuple[int, ...],
    rate: float,
    seconds: float,
    reference: int,
    storm_spread: float = phones.STORM_SPREAD_SECONDS,
) -> dict[str, Any]:
    """Run every size on Bleep and on the floor, then the reference size on two web
    processes; return the rows and the headline figures.

    The reconnect storm runs at the reference size, after its delivery run, on both, the
    phones coming back within `storm_spread` seconds.
    """
    world = seed_world(devices=max(sizes))
    rows: list[dict[str, Any]] = []
    for devices in sizes:
        clear_bleeps()
        storm = storm_spread if devices == reference else None
        with running(product_commands) as server:
            product = _drive(server, world, phones.PRODUCT, devices, rate, seconds, storm)
        with running(floor_commands) as floor:
            bare = _drive(floor, world, phones.FLOOR, devices, rate, seconds, storm)
        rows.append(_row(devices, rate, product, bare, storm_spread))
        print(f"bench: {devices} devices: {_brief(rows[-1])}", flush=True)
    clear_bleeps()
    with running(product_commands, webs=SCALED_WEBS) as server:
        scaled = _drive(server, world, phones.PRODUCT, reference, rate, seconds, None)
    one_web = next(row for row in rows if row["devices"] == reference)
    scale_out = _scale_out(reference, rate, scaled, one_web)
    print(f"bench: {reference} devices on {SCALED_WEBS} web processes: {_brief(scale_out)}")
    return _headline(rows, reference) | {"scale_out": scale_out}


def _drive(
    server: Running,
    world: World,
    mode: str,
    devices: int,
    rate: float,
    seconds: float,
    storm: float | None,
) -> dict[str, Any]:
    """Run the generator processes against `server`; return the merged tally and memory.

    With `storm` set, a reconnect storm follows, the phones back within that many seconds.
    """
    specs = world.phones(devices)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(GENERATOR_PROCESSES + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=phones.run_shard,
            args=(
                phones.Shard(
                    index=i,
                    shards=GENERATOR_PROCESSES,
                    mode=mode,
                    url=server.web_for(i)[0],
                    ws_url=server.web_for(i)[1],
                    phones=specs[i::GENERATOR_PROCESSES],
                    targets=world.targets,
                    rate=rate / GENERATOR_PROCESSES,
                    seconds=seconds,
                    ack_every=ACK_EVERY,
                    storm=storm is not None,
                    storm_spread=storm or 0,
                    send_via=SEND_VIA,
                ),
                barrier,
                results,
            ),
        )
        for i in range(GENERATOR_PROCESSES)
    ]
    idle_kib = server.rss_kib()
    for process in processes:
        process.start()
    barrier.wait(phones.BARRIER_TIMEOUT_SECONDS)
    connected_kib = server.rss_kib()
    barrier.wait(phones.BARRIER_TIMEOUT_SECONDS)
    if storm is not None:
        barrier.wait(phones.BARRIER_TIMEOUT_SECONDS)
    tallies = [results.get() for _ in processes]
    for process in processes:
        process.join()
    merged = _merge(tallies)
    merged["memory"] = {"idle_kib": idle_kib, "connected_kib": connected_kib}
    return merged


def _merge(tallies: list[dict[str, Any]]) -> dict[str, Any]:
    received: dict[str, float] = {}
    for tally in tallies:
        received.update(tally["received"])
    sent = [tag for tally in tallies for tag in tally["sent"]]
    storms = [tally["storm_seconds"] for tally in tallies if tally["storm_seconds"] is not None]
    return {
        "sent": len(sent),
        "latencies": [received[tag] for tag in sent if tag in received],
        "lost": sum(1 for tag in sent if tag not in received),
        "errors": sum(tally["send_errors"] for tally in tallies),
        "acks": [seconds for tally in tallies for seconds in tally["acks"]],
        "acks_sent": sum(tally["acks_sent"] for tally in tallies),
        "failed_handshakes": sum(tally["failed_handshakes"] for tally in tallies),
        "storm_seconds": max(storms) if storms else None,
        "storm_failed_handshakes": sum(t["storm_failed_handshakes"] for t in tallies),
        "storm_unfinished": sum(t["storm_unfinished"] for t in tallies),
    }


def _row(
    devices: int,
    rate: float,
    product: dict[str, Any],
    floor: dict[str, Any],
    storm_spread: float,
) -> dict[str, Any]:
    ours = summary_ms(product["latencies"])
    bare = summary_ms(floor["latencies"], prefix="floor_")
    memory = product["memory"]
    grown = _grown(memory)
    row: dict[str, Any] = {
        "devices": devices,
        "rate": rate,
        **ours,
        **bare,
        "p50_ratio_to_floor": _ratio(ours["p50_ms"], bare["floor_p50_ms"]),
        "p99_ratio_to_floor": _ratio(ours["p99_ms"], bare["floor_p99_ms"]),
        "sent": product["sent"],
        "lost": product["lost"],
        "errors": product["errors"],
        "failed_handshakes": product["failed_handshakes"],
        "floor_lost": floor["lost"],
        "floor_errors": floor["errors"],
        "ack_roundtrip": {
            "acknowledged": product["acks_sent"],
            "answered": len(product["acks"]),
            **summary_ms(product["acks"]),
        },
        "memory": {
            "connections": devices,
            "idle_rss_kib": memory["idle_kib"],
            "connected_rss_kib": memory["connected_kib"],
            "kib_per_connection": round(grown / devices, 1),
            "floor_kib_per_connection": round(_grown(floor["memory"]) / devices, 1),
        },
    }
    if product["storm_seconds"] is not None:
        row["reconnect_storm"] = {
            "devices": devices,
            "spread_seconds": storm_spread,
            "seconds_to_caught_up": round(product["storm_seconds"], 2),
            "failed_handshakes": product["storm_failed_handshakes"],
            "never_caught_up": product["storm_unfinished"],
            # The same storm against the bare Channels app: what the stack underneath takes.
            "floor_seconds_to_caught_up": round(floor["storm_seconds"], 2),
            "floor_failed_handshakes": floor["storm_failed_handshakes"],
        }
    return row


def _scale_out(
    devices: int, rate: float, scaled: dict[str, Any], one_web: dict[str, Any]
) -> dict[str, Any]:
    """The scale-out row: each generator shard talks to its own web process."""
    return {
        "devices": devices,
        "rate": rate,
        "web_processes": SCALED_WEBS,
        **summary_ms(scaled["latencies"]),
        "sent": scaled["sent"],
        "lost": scaled["lost"],
        "errors": scaled["errors"],
        "ack_p99_ms": summary_ms(scaled["acks"])["p99_ms"],
        "one_web_p50_ms": one_web["p50_ms"],
        "one_web_p99_ms": one_web["p99_ms"],
        "floor_p50_ms": one_web["floor_p50_ms"],
        "floor_p99_ms": one_web["floor_p99_ms"],
    }


def _grown(memory: dict[str, int]) -> int:
    return memory["connected_kib"] - memory["idle_kib"]


def _ratio(ours: float, floor: float) -> float:
    return round(ours / floor, 2) if floor and not math.isnan(floor) else math.nan


def _headline(rows: list[dict[str, Any]], storm_at: int) -> dict[str, Any]:
    """Top-level figures as the issue's JSON shape has them, from the reference sizes."""
    largest = rows[-1]
    reference = next((row for row in rows if row["devices"] == storm_at), largest)
    return {
        "delivery": [
            {k: v for k, v in row.items() if k not in ("ack_roundtrip", "memory")}
            | {"ack_p99_ms": row["ack_roundtrip"]["p99_ms"]}
            for row in rows
        ],
        "ack_roundtrip": {"devices": reference["devices"], **reference["ack_roundtrip"]},
        "memory": largest["memory"],
        "reconnect_storm": reference.get("reconnect_storm"),
    }


def _brief(row: dict[str, Any]) -> str:
    return (
        f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms (floor {row['floor_p50_ms']} / "
        f"{row['floor_p99_ms']} ms), lost {row['lost']}, errors {row['errors']}"
    )
