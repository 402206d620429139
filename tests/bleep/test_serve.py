"""The `serve` command's daphne settings."""

from typing import Any

import pytest
from django.core.management import call_command

from bleep.management.commands import serve


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
