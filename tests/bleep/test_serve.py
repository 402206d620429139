"""The `serve` command's daphne and garbage-collector settings."""

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from bleep.management.commands import serve
from bleep.runtime.collector import collect_fully


class FakeServer:
    """Stands in for daphne's Server: records how it was built, serves nothing."""

    built: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        FakeServer.built = kwargs

    def run(self) -> None:
        pass


def test_a_slow_websocket_handshake_is_given_30_seconds_not_daphnes_5(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # At 5 s a reconnect storm's queued handshakes were dropped and came back as new ones.
    monkeypatch.setattr(serve, "Server", FakeServer)
    call_command("serve", "--no-worker", "--quiet")
    assert FakeServer.built["websocket_handshake_timeout"] == 30


@pytest.fixture
def collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


@pytest.mark.usefixtures("collector")
def test_once_serving_the_collector_skips_start_up_objects_and_rarely_collects_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With Python's default a full collection every few seconds stalled every socket.
    monkeypatch.setattr(serve, "start_loops_on_reactor", lambda *, worker: None)
    gc.unfreeze()
    serve.ready(worker=False)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 1_000)


@pytest.mark.hazard("HZ-21")
async def test_the_web_process_collects_cyclic_garbage_on_a_timer_whatever_the_traffic() -> None:
    class Node:
        partner: "Node"

    gc.disable()  # only the timer may collect: the thresholds would take an hour here
    try:
        garbage = Node()
        garbage.partner = Node()
        garbage.partner.partner = garbage
        gone = weakref.ref(garbage)
        del garbage
        stop = asyncio.Event()
        collecting = asyncio.create_task(collect_fully(stop=stop, every=0.05))
        await asyncio.sleep(0.2)
        assert gone() is None
        stop.set()
        await asyncio.wait_for(collecting, timeout=1)
    finally:
        gc.enable()
