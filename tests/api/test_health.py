import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import OperationalError
from django.test import AsyncClient, Client
from django.utils import timezone

from api import health
from escalation.selectors import HEARTBEAT_STALE_AFTER
from escalation.services.firing import beat_heartbeat
from messaging.push import queue_pushes, register_push_subscription
from messaging.selectors import PUSH_LATE_AFTER
from messaging.services.bleeps import create_bleep
from tests.conftest import Ward
from tests.factories import draft
from tests.push_service import BrowserSubscription

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


@pytest.fixture
def hang(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Make named blocking checks of api.health hang on their thread until the test ends."""
    release = threading.Event()

    def hang_check(name: str) -> None:
        monkeypatch.setattr(health, name, lambda: release.wait(HUNG_FOR_SECONDS) and {"ok": True})

    yield hang_check
    release.set()


# Far past anything /healthz may take, so only the bound can have answered in time.
HUNG_FOR_SECONDS = 30


@pytest.mark.hazard("HZ-16")
def test_healthz_answers_within_its_bound_naming_a_database_check_that_hangs(
    hang: Callable[[str], None],
) -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())
    hang("_select_one")
    started = time.monotonic()
    response = Client().get("/healthz")
    took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["database"]["error"] == "no answer within 0.8 s"
    # Generous beside the 0.8 s bound; the hung check holds its thread for 30 s.
    assert took < 2 * health.HEALTH_TIMEOUT_SECONDS


@pytest.mark.hazard("HZ-16")
def test_healthz_runs_its_checks_at_once_so_two_that_hang_take_one_bound_not_two(
    hang: Callable[[str], None],
) -> None:
    hang("_select_one")
    hang("_heartbeat")
    started = time.monotonic()
    response = Client().get("/healthz")
    took = time.monotonic() - started
    assert response.json()["down"] == ["database", "worker"]
    assert took < 2 * health.HEALTH_TIMEOUT_SECONDS


def test_healthz_names_the_database_when_it_refuses_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())

    def refused() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_select_one", refused)
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert response.json()["database"]["error"] == "OperationalError: connection refused"


def push_due(ward: Ward, *, due_at: datetime) -> None:
    """Queue a push to the ward's doctor, due at `due_at` and never sent."""
    browser = BrowserSubscription("https://fcm.googleapis.com/fcm/send/health")
    register_push_subscription(
        device=ward.doctor_device,
        endpoint=browser.endpoint,
        p256dh=browser.p256dh,
        auth=browser.auth,
        now=due_at,
    )
    bleep = create_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=draft(ward.role), now=due_at
    )
    queue_pushes(
        bleep=bleep,
        recipient_ids=[ward.doctor.pk],
        kind="new",
        ttl=timedelta(minutes=15),
        now=due_at,
    )


@pytest.mark.hazard("HZ-14")
def test_healthz_shows_how_many_pushes_are_waiting_to_be_sent_and_for_how_long(
    ward: Ward,
) -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())
    due_at = timezone.now() - timedelta(seconds=5)
    push_due(ward, due_at=due_at)

    response = Client().get("/healthz")

    assert response.status_code == 200
    pushes = response.json()["pushes"]
    assert (pushes["ok"], pushes["due"], pushes["oldest_due_at"]) == (True, 1, due_at.isoformat())
    assert 5 <= pushes["oldest_waiting_seconds"] < PUSH_LATE_AFTER.total_seconds()


@pytest.mark.hazard("HZ-14")
def test_healthz_is_503_naming_pushes_when_one_has_waited_longer_than_the_threshold(
    ward: Ward,
) -> None:
    beat_heartbeat(worker="test:1", now=timezone.now())
    push_due(ward, due_at=timezone.now() - PUSH_LATE_AFTER - timedelta(seconds=1))

    response = Client().get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["pushes"]
    assert "pushes are not leaving: 1 due" in response.json()["pushes"]["error"]


def test_a_process_is_live_and_ready_without_a_worker_which_only_healthz_asks_about() -> None:
    assert Client().get("/livez").json() == {"status": "ok"}
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()) == {"status", "down", "database", "channel_layer"}
    assert Client().get("/healthz").status_code == 503  # no worker has run


def test_a_process_whose_channel_layer_fails_is_not_ready_but_still_live(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class BrokenLayer:
        async def new_channel(self, prefix: str = "") -> str:
            raise ConnectionError("Redis went away")

    monkeypatch.setattr("api.health.get_channel_layer", lambda: BrokenLayer())
    ready = Client().get("/readyz")
    assert (ready.status_code, ready.json()["down"]) == (503, ["channel_layer"])
    assert Client().get("/livez").status_code == 200
