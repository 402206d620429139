"""Python's garbage collector, tuned for a long-lived process holding thousands of sockets."""

import asyncio
import gc

# Python's collector thresholds for a web process: the young generations as Python's
# defaults, the oldest collected only after 1,000 collections of the middle one, not 10.
# A full collection walks every object the process holds, and a web process holds about
# 140 for each open socket: 700,000 at 5,000 sockets. With the default, the churn of 30
# bleeps a second set one off every few seconds (the "25 % more long-lived objects" rule
# alone decides), each stalling every socket for 0.3-0.8 s: delivery p99 0.6-1.0 s at 5,000
# devices. With 1,000 it was 79 ms (docs/benchmarks.md). Young collections still free cyclic
# garbage within moments; full collections still run, rarely.
GC_THRESHOLDS = (700, 10, 1_000)

# ...and the oldest generation collected at least this often, whatever the traffic. With the
# thresholds above Python collects it only after 1,000 collections of the middle one, about
# once an hour at 2 bleeps a second, and requests leave cyclic garbage that reaches it (a
# DRF serializer and its fields, a Twisted request and its channel: about 160 objects a
# second in the soak). The web process grew 128 MiB an hour until it would have been killed
# (docs/benchmarks.md, Soak; docs/safety/, HZ-21). Every 5 minutes bounds the garbage to 5
# minutes' traffic and the pause, which walks every object the sockets hold, to 12 an hour.
FULL_COLLECTION_INTERVAL_SECONDS = 300.0


def freeze_start_up() -> None:
    """Move everything start-up made out of the collector's sight, for good."""
    # Measured on 2 cores, 5,000 sockets, 500 msgs/s: p99 396 ms without, 6.1 ms with.
    # Each full collection walked every object import and start-up had made, thousands of
    # live consumers on top, and stalled every socket (or the worker's due escalation)
    # meanwhile. They live until exit; frozen objects are skipped.
    gc.freeze()


def settle_collector() -> None:
    """Move everything start-up made out of the collector's sight; collect it all rarely."""
    freeze_start_up()
    gc.set_threshold(*GC_THRESHOLDS)


async def collect_fully(*, stop: asyncio.Event, every: float) -> None:
    """Collect every generation each `every` seconds until `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            gc.collect()
