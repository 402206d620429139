"""Run the benchmark suite: `python -m bench` (BENCH_QUICK=1 for small sizes)."""

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.environment import prepare

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def main() -> None:
    quick = os.environ.get("BENCH_QUICK", "") == "1"
    began = time.monotonic()
    backend = prepare()
    # Models can be imported only once Django is set up.
    from bench import delivery, escalation, rota

    results: dict[str, Any] = {
        "quick": quick,
        "backend": "postgres+redis",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d"),
        "escalation": [
            escalation.measure(pending=pending, window_seconds=5 if quick else 20)
            for pending in ((1_000, 10_000) if quick else (10_000, 100_000))
        ],
        "rota_lookup": rota.measure(shifts=100_000 if quick else 1_000_000),
    }
    results |= delivery.measure(
        sizes=(200, 1_000) if quick else (1_000, 5_000, 10_000),
        # The 100 bleeps/s; BENCH_RATE lowers it to see latency below saturation.
        rate=float(os.environ.get("BENCH_RATE", "100")),
        seconds=5 if quick else 15,
        storm_at=1_000 if quick else 5_000,
    )
    results["seconds"] = round(time.monotonic() - began, 1)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"bench: {backend['database_url']} and {backend['redis_url']}; wrote {RESULTS}")


if __name__ == "__main__":
    main()
