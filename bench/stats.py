"""Percentiles without a numerical library: nearest rank, as latency reports use."""

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], share: float) -> float:
    """Return the nearest-rank percentile `share` (0–100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float], prefix: str = "") -> dict[str, float]:
    """Return p50, p90, p99 and max of durations in seconds, as milliseconds rounded to 0.01."""
    return {
        f"{prefix}p50_ms": round(percentile(seconds, 50) * 1000, 2),
        f"{prefix}p90_ms": round(percentile(seconds, 90) * 1000, 2),
        f"{prefix}p99_ms": round(percentile(seconds, 99) * 1000, 2),
        f"{prefix}max_ms": round(max(seconds, default=math.nan) * 1000, 2),
    }
