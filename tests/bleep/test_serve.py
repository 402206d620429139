"""The `serve` command's daphne and garbage-collector settings."""

import asyncio
import gc
import socket
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command

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
    call_command("serve", "--no-worker", "--quiet", "--port", "0")
    assert FakeServer.built["websocket_handshake_timeout"] == 30


def test_serving_on_a_port_already_in_use_fails_at_once_naming_the_port_and_another_to_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # daphne alone logged the failed listen, served nothing and exited 0 when stopped.
    monkeypatch.setattr(serve, "Server", FakeServer)
    FakeServer.built = {}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"127.0.0.1:{port} .*make run PORT={port + 1}"):
            call_command("serve", "--no-worker", "--quiet", "--port", str(port))
    assert FakeServer.built == {}


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
