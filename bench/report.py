"""What a run prints and keeps: a Markdown table for docs/benchmarks.md and a plot."""

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: the bench runs on machines without a screen

import matplotlib.pyplot as plt  # noqa: E402

# The goals, shown beside each figure (the bench reports; nothing fails on them).
GOALS = {
    "delivery_p50_ms": 5.0,
    "delivery_p99_ms": 25.0,
    "delivery_p99_to_floor": 3.0,
    "ack_p99_ms": 25.0,
    "lateness_p99_ms": 100.0,
    "kib_per_connection": 32.0,
    "storm_seconds": 15.0,
    "rota_p99_ms": 1.0,
    # The throttle should be noise beside the password hash (~0.3 s by design).
    "sign_in_overhead_ms": 10.0,
}


def markdown(results: dict[str, Any], command: str) -> str:
    """Return the run as Markdown tables: what ran where, then each scenario against its goal."""
    machine = results["machine"]
    lines = [
        f"`{command}` on {results['date']}: {machine['cpus']} cores, Python "
        f"{machine['python']}, {results['backend']}, {results['seconds']:.0f} s in all.",
        "",
        "| devices | rate | p50 | p99 | floor p50 | floor p99 | p99 / floor | lost | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["delivery"]:
        lines.append(
            f"| {row['devices']:,} | {row['rate']:g}/s | {_ms(row['p50_ms'])} | "
            f"{_ms(row['p99_ms'])} | {_ms(row['floor_p50_ms'])} | {_ms(row['floor_p99_ms'])} | "
            f"{row['p99_ratio_to_floor']:g} | {row['lost']} | {row['errors']} |"
        )
    scaled = results["scale_out"]
    ack = results["ack_roundtrip"]
    memory = results["memory"]
    storm = results["reconnect_storm"] or {}
    rota = results["rota_lookup"]
    lines += [
        "",
        "| measure | result | goal |",
        "|---|---|---|",
        f"| delivery on {scaled['web_processes']} web processes, {scaled['devices']:,} devices"
        f" | p50 {_ms(scaled['p50_ms'])}, p99 {_ms(scaled['p99_ms'])}, lost {scaled['lost']} "
        f"(one process: p50 {_ms(scaled['one_web_p50_ms'])}, p99 "
        f"{_ms(scaled['one_web_p99_ms'])}) | more devices or bleeps a second than one |",
        f"| acknowledgement round trip, {ack['devices']:,} devices | p50 {_ms(ack['p50_ms'])}, "
        f"p99 {_ms(ack['p99_ms'])} | p99 ≤ {_ms(GOALS['ack_p99_ms'])} |",
        *(
            f"| escalation lateness, {row['pending']:,} pending | p50 "
            f"{_ms(row['lateness_p50_ms'])}, p99 {_ms(row['lateness_p99_ms'])} | "
            f"p99 ≤ {_ms(GOALS['lateness_p99_ms'])} |"
            for row in results["escalation"]
        ),
        f"| memory per idle connection, {memory['connections']:,} connections | "
        f"{memory['kib_per_connection']:g} KiB (floor {memory['floor_kib_per_connection']:g} KiB)"
        f" | ≤ {GOALS['kib_per_connection']:g} KiB |",
        f"| reconnect storm, {storm.get('devices', 0):,} devices in "
        f"{storm.get('spread_seconds', math.nan):g} s | caught up after "
        f"{storm.get('seconds_to_caught_up', math.nan):g} s, "
        f"{storm.get('failed_handshakes', 0)} failed handshakes (floor "
        f"{storm.get('floor_seconds_to_caught_up', math.nan):g} s, "
        f"{storm.get('floor_failed_handshakes', 0)} failed) | "
        f"≤ {GOALS['storm_seconds']:g} s, none failed |",
        f"| rota lookup, {rota['shifts']:,} shifts | p99 {_ms(rota['p99_ms'])} (floor "
        f"{_ms(rota['floor_p99_ms'])}) | p99 ≤ {_ms(GOALS['rota_p99_ms'])} |",
        *_sign_in_rows(results.get("sign_in")),
        *_import_rows(results.get("imports")),
        *_channel_rows(results.get("channels")),
    ]
    return "\n".join(lines) + "\n"


def _channel_rows(channels: dict[str, Any] | None) -> list[str]:
    """Texts due at once with a tenth stalled at the gateway, beside none stalled and the
    bare client's floor."""
    if channels is None:
        return []
    return [
        f"| text due → at the gateway, {channels['pending']:,} due at once, "
        f"{channels['stalled_share']:.0%} stalled ({channels['arrived']:,} of "
        f"{channels['healthy']:,} healthy arrived) | p50 {_ms(channels['p50_ms'])}, p99 "
        f"{_ms(channels['p99_ms'])} (none stalled: p99 {_ms(channels['none_stalled_p99_ms'])};"
        f" floor, the client alone: p99 {_ms(channels['floor_p99_ms'])}) | healthy ones not "
        "behind stalled ones |"
    ]


def _import_rows(imports: dict[str, Any] | None) -> list[str]:
    """Emergency sends while the maximum rota imports are applied, beside the same with none."""
    if imports is None:
        return []
    busy, quiet = imports["four_imports"], imports["none"]
    return [
        f"| emergency send, {imports['sends']} while {imports['imports']} imports of "
        f"{imports['shifts_per_import']:,} shifts are applied ({imports['unfinished_after_sends']}"
        f" still unfinished after the last send; each import answered 202 in p99 "
        f"{_ms(imports['import_answer_ms']['p99_ms'])}) | p99 {_ms(busy['p99_ms'])}, p50 "
        f"{_ms(busy['p50_ms'])} (with no import: p99 {_ms(quiet['p99_ms'])}, p50 "
        f"{_ms(quiet['p50_ms'])}) | reported |"
    ]


def _sign_in_rows(sign_in: dict[str, Any] | None) -> list[str]:
    """The login throttle's cost per sign-in, good and failed, beside sign-in without it."""
    if sign_in is None:
        return []
    return [
        f"| login throttle, {sign_in['sign_ins']} {label} sign-ins (cheap hasher; as deployed "
        f"a good one takes {_ms(sign_in['deployed_p50_ms'])}) | overhead "
        f"{_ms(row['overhead_ms'])} a sign-in: p50 {_ms(row['p50_ms'])} with axes, "
        f"{_ms(row['floor_p50_ms'])} without (floor) | "
        f"overhead ≤ {_ms(GOALS['sign_in_overhead_ms'])} |"
        for label, row in (("good", sign_in["good"]), ("failed", sign_in["failed"]))
    ]


def plot(results: dict[str, Any], path: Path) -> None:
    """Draw delivery latency percentiles against connected devices, Bleep beside the floor."""
    rows = results["delivery"]
    devices = [row["devices"] for row in rows]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=100)
    for key, label, style in (
        ("p50_ms", "Bleep p50", "o-"),
        ("p90_ms", "Bleep p90", "s-"),
        ("p99_ms", "Bleep p99", "^-"),
        ("floor_p50_ms", "floor p50", "o--"),
        ("floor_p99_ms", "floor p99", "^--"),
    ):
        axes.plot(devices, [row[key] for row in rows], style, label=label)
    for goal, label in (
        (GOALS["delivery_p50_ms"], "goal p50"),
        (GOALS["delivery_p99_ms"], "goal p99"),
    ):
        axes.axhline(goal, color="grey", linewidth=0.8, linestyle=":")
        axes.annotate(label, (devices[0], goal), fontsize=8, color="grey")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(devices, [f"{n:,}" for n in devices])
    axes.set_xlabel("connected devices")
    axes.set_ylabel("REST send to recipient's frame (ms)")
    rate = rows[0]["rate"] if rows else 0
    axes.set_title(f"Delivery latency at {rate:g} bleeps/s ({results['date']})")
    axes.grid(True, which="major", linewidth=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _ms(value: float) -> str:
    if value is None or math.isnan(value):
        return "–"
    if value >= 1000:
        return f"{value / 1000:,.1f} s"
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"
