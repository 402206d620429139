"""The server's whole output, after a run that used every kind of secret, holds none of them.

Anyone who can read the logs (operators, a log service, a backup) must not be able to act as
a person: not with a device token, a calendar feed's URL, a push subscription, or a password.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from bleep.redaction import REDACTED
from rota.models import Person
from tests import factories
from tests.e2e.browser import hospital
from tests.e2e.clients import authenticate, login, open_socket
from tests.e2e.conftest import Server, running_server
from tests.push_service import PushService

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PUSH_WAIT_SECONDS = 15
NHS_NUMBER = "9434765919"


@contextmanager
def running_server_for(
    server_log: Path, push_service: PushService, log_format: str = "plain"
) -> Iterator[Server]:
    """The server with its access log on and every logger at DEBUG, reaching `push_service`."""
    env = {
        "LOG_LEVEL": "DEBUG",
        "LOG_FORMAT": log_format,
        # Nothing a process printed may stay in a buffer when it is stopped.
        "PYTHONUNBUFFERED": "1",
        "PUSH_HOSTS": ",".join(settings.PUSH_HOSTS),
        "PUSH_CA_BUNDLE": str(push_service.ca_path),
    }
    with running_server(log=server_log, extra_env=env, access_log=True) as server:
        yield server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def wait_for_push(push_service: PushService) -> None:
    deadline = time.monotonic() + PUSH_WAIT_SECONDS
    while not push_service.delivered():
        assert time.monotonic() < deadline, "the server's push never came"
        await asyncio.sleep(0.1)


async def use_every_secret(server: Server, push_service: PushService, doctor_id: int) -> list[str]:
    """Sign in, subscribe a feed and a push, open sockets, bleep; return the secrets used."""
    subscription = push_service.subscribe()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        nurse, doctor, operator = [
            await login(http, name) for name in ("amina.okafor", "omar.haddad", "pat.ellis")
        ]
        assert (await http.get("/api/me", headers=bearer(nurse))).status_code == 200
        created = await http.post(
            "/api/rota/feeds", headers=bearer(doctor), json={"person": doctor_id}
        )
        assert created.status_code == 201, created.text
        feed_url = created.json()["url"]
        feed_token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
        assert (await http.get(feed_url)).status_code == 200
        # A mistyped feed URL is answered 404, which django.request logs with its path.
        wrong_feed = feed_token[::-1]
        assert (await http.get(f"/api/rota/feeds/{wrong_feed}.ics")).status_code == 404
        # A client that puts its token in the query string is refused, and it is not logged.
        assert (await http.get(f"/api/me?token={operator}")).status_code == 401
        registered = await http.post(
            "/api/push/subscriptions", headers=bearer(doctor), json=subscription.to_json()
        )
        assert registered.status_code == 201, registered.text
        async with open_socket(server) as nurse_socket, open_socket(server) as doctor_socket:
            await authenticate(nurse_socket, nurse)
            await authenticate(doctor_socket, doctor)
            sent = await http.post(
                "/api/bleeps",
                headers=bearer(nurse),
                json={
                    "bleep_number": "2345",
                    "priority": "urgent",
                    "message": "Bed 4 NEWS 7",
                    "nhs_number": NHS_NUMBER,
                },
            )
            assert sent.status_code == 201, sent.text
            await wait_for_push(push_service)
        assert (await http.post("/api/auth/logout", headers=bearer(nurse))).status_code == 204
    endpoint_id = subscription.endpoint.rsplit("/", 1)[1]
    secrets = [nurse, doctor, operator, feed_token, wrong_feed, endpoint_id, subscription.auth]
    # A patient identifier is no secret of the server's, but no log line may carry one.
    return [*secrets, factories.PASSWORD, NHS_NUMBER]


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize("log_format", ["plain", "json"])
async def test_no_token_or_secret_used_in_a_run_appears_anywhere_in_the_servers_output(
    push_service: PushService, server_log: Path, log_format: str
) -> None:
    people: dict[str, Person] = await database_sync_to_async(hospital)()
    with running_server_for(server_log, push_service, log_format) as server:
        secrets = await use_every_secret(server, push_service, people["doctor"].pk)

    output = server_log.read_text(errors="replace")
    leaked = [secret for secret in secrets if secret in output]
    assert leaked == [], f"{len(leaked)} of {len(secrets)} secrets are in the server's output"
    # The run was logged, with its secrets taken out: silence cannot pass.
    assert f"/api/rota/feeds/{REDACTED}.ics" in output
    assert "/api/auth/login" in output
    if log_format == "json":
        # Every line the logging or the access log wrote is one JSON object.
        entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
        access = [e for e in entries if e["logger"] == "bleep.access"]
        assert any(e["request"].startswith("POST /api/auth/login") for e in access)
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
        plain = [
            line
            for line in output.splitlines()
            if not line.startswith(("{", "-----", "Bleep on ")) and line.strip()
        ]
        assert plain == [], plain[:3]
