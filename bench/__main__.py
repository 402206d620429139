"""Run the benchmark suite: `python -m bench` (BENCH_QUICK=1 for small sizes), or the soak:
`python -m bench soak --minutes 60`."""

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.environment import prepare

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    if sys.argv[1:2] == ["soak"]:
        soak(sys.argv[2:])
        return
    quick = os.environ.get("BENCH_QUICK", "") == "1"
    began = time.monotonic()
    backend = prepare()
    # Models can be imported only once Django is set up.
    from django.db import connection

    from bench import channels, delivery, escalation, imports, report, rota, sign_in
    from bleep.append_only import allow_truncate_of_a_scratch_database

    # Each section starts from empty bleeps, histories and rota with TRUNCATE, which the
    # append-only tables refuse on a hospital's database; this one is the bench's own.
    allow_truncate_of_a_scratch_database(connection)

    results: dict[str, Any] = {
        "quick": quick,
        "backend": "postgres+redis",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
    }
    sections: dict[str, float] = {"prepare": time.monotonic() - began}
    with _timed(sections, "escalation"):
        results["escalation"] = [
            escalation.measure(pending=pending, window_seconds=2 if quick else 20)
            for pending in ((10_000,) if quick else (10_000, 100_000))
        ]
    with _timed(sections, "rota_lookup"):
        results["rota_lookup"] = rota.measure(
            shifts=20_000 if quick else 1_000_000, lookups=2_000 if quick else 5_000
        )
    with _timed(sections, "sign_in"):
        results["sign_in"] = sign_in.measure(sign_ins=100 if quick else 500)
    with _timed(sections, "delivery"):
        results |= delivery.measure(
            sizes=(500,) if quick else (1_000, 5_000, 10_000),
            # The 100 bleeps/s; BENCH_RATE lowers it to see latency below saturation.
            rate=float(os.environ.get("BENCH_RATE", "100")),
            seconds=2 if quick else 5,
            reference=500 if quick else 5_000,
            # The 10 s; the smoke run's 3 s keeps it, with the floor's storm, in a minute.
            storm_spread=3 if quick else 10,
        )
    with _timed(sections, "channels"):
        results["channels"] = channels.measure(pending=200 if quick else 1_000)
    with _timed(sections, "imports"):
        results["imports"] = imports.measure(sends=50 if quick else 200)
    results["seconds"] = round(time.monotonic() - began, 1)
    results["section_seconds"] = {name: round(took, 1) for name, took in sections.items()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results, "BENCH_QUICK=1 make bench" if quick else "make bench")
    (RESULTS / "latest.md").write_text(table)
    report.plot(results, RESULTS / "latency.png")
    print(table)
    print(f"bench: {backend['database_url']} and {backend['redis_url']}; wrote {RESULTS}/")
    print("bench: latest.json, latest.md (the tables above) and latency.png (the plot)")


def soak(argv: list[str]) -> None:
    """Run the soak (bench/soak.py); write results/soak.json and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench soak")
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--phones", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2.0, help="bleeps a second")
    parser.add_argument("--churn", type=int, default=50, help="phones reconnecting a minute")
    options = parser.parse_args(argv)
    prepare()
    from django.db import connection

    from bench import soak
    from bleep.append_only import allow_truncate_of_a_scratch_database

    allow_truncate_of_a_scratch_database(connection)
    plan = soak.Plan(options.minutes, options.phones, options.rate, options.churn)
    results = {"date": time.strftime("%Y-%m-%d %H:%M"), **soak.measure(plan)}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k != "samples"}, indent=2))
    print(f"bench: wrote {RESULTS}/soak.json")


@contextmanager
def _timed(sections: dict[str, float], name: str) -> Iterator[None]:
    began = time.monotonic()
    yield
    sections[name] = time.monotonic() - began


if __name__ == "__main__":
    main()
