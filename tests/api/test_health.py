import asyncio
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient, Client
from django.utils import timezone

from api import health
from escalation.selectors import HEARTBEAT_STALE_AFTER
from escalation.services.firing import beat_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_healthz_is_200_when_database_layer_and_worker_all_answer() -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert body["database"]["ok"] and body["channel_layer"]["ok"] and body["worker"]["ok"]


@pytest.mark.hazard("HZ-10")
def test_healthz_is_503_naming_the_worker_when_none_has_ever_run() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]
    assert "no escalation worker has ever run" in response.json()["worker"]["error"]


@pytest.mark.hazard("HZ-10")
def test_healthz_is_503_naming_the_worker_when_its_heartbeat_is_stale() -> None:
    stale = timezone.now() - HEARTBEAT_STALE_AFTER - timedelta(seconds=1)
    beat_heartbeat(worker="test:1", now=stale)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]
    assert response.json()["worker"]["last_heartbeat"] == stale.isoformat()


def test_healthz_is_503_naming_the_channel_layer_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())

    class BrokenLayer:
        async def new_channel(self, prefix: str = "") -> str:
            raise ConnectionError("Redis went away")

    monkeypatch.setattr("api.health.get_channel_layer", lambda: BrokenLayer())
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["channel_layer"]
    assert "Redis went away" in response.json()["channel_layer"]["error"]


async def test_healthz_reuses_one_probe_channel_instead_of_leaking_one_per_check() -> None:
    await database_sync_to_async(beat_heartbeat)(worker="test:1", now=timezone.now())
    client = AsyncClient()
    loop = asyncio.get_running_loop()
    assert (await client.get("/healthz")).status_code == 200
    first = health._PROBE_CHANNELS[loop]
    for _ in range(3):
        assert (await client.get("/healthz")).status_code == 200
    assert health._PROBE_CHANNELS[loop] == first
