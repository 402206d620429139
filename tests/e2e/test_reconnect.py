"""Nothing is lost when a socket drops or Redis restarts: devices catch up from their `seq`."""

import asyncio

import httpx
import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from tests.e2e.clients import HTTP_TIMEOUT_SECONDS, Phone, login, send_bleep, staff_on_call
from tests.e2e.conftest import PrivateRedis, Server, wait_until_healthy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.hazard("HZ-05")
async def test_a_device_that_reconnects_receives_exactly_the_three_bleeps_it_missed_in_order(
    bleep_server: Server,
) -> None:
    await database_sync_to_async(staff_on_call)()
    async with httpx.AsyncClient(base_url=bleep_server.url, timeout=HTTP_TIMEOUT_SECONDS) as http:
        nurse_token = await login(http, "amina.okafor")
        async with Phone(bleep_server, await login(http, "omar.haddad")) as doctor:
            await doctor.connect()
            first = await send_bleep(http, nurse_token, "Bed 1 NEWS 5")
            assert (await doctor.next_event())["bleep"]["id"] == first
            await doctor.close()
            seen = doctor.last_seq

            missed = [await send_bleep(http, nurse_token, f"Bed {bed} NEWS 7") for bed in (2, 3, 4)]
            backlog = await doctor.connect()

    assert [event["type"] for event in backlog] == ["bleep.created"] * 3
    assert [event["bleep"]["id"] for event in backlog] == missed
    assert [event["seq"] for event in backlog] == [seen + 1, seen + 2, seen + 3]


needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="restarts Redis: runs in the PostgreSQL + Redis pass (REDIS_URL set) only",
)


async def signed_in(http: httpx.AsyncClient, server: Server) -> tuple[str, Phone, Phone]:
    """Return the nurse's token and the nurse's and the doctor's phones, not yet connected."""
    await database_sync_to_async(staff_on_call)()
    nurse_token = await login(http, "amina.okafor")
    doctor_token = await login(http, "omar.haddad")
    return nurse_token, Phone(server, nurse_token), Phone(server, doctor_token)


@needs_redis
@pytest.mark.hazard("HZ-05")
async def test_devices_connected_while_redis_restarts_miss_no_bleep_once_they_reconnect(
    private_redis: PrivateRedis, bleep_server_on_private_redis: Server
) -> None:
    server = bleep_server_on_private_redis
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT_SECONDS) as http:
        nurse_token, nurse, doctor = await signed_in(http, server)
        async with nurse, doctor:
            for phone in (nurse, doctor):
                await phone.connect()
            sent = [await send_bleep(http, nurse_token, "Bed 1, before the restart")]
            for phone in (nurse, doctor):
                assert (await phone.next_event())["bleep"]["id"] == sent[0]

            await asyncio.to_thread(private_redis.stop)
            # Committed in PostgreSQL and answered 201: only the fast path is down.
            for bed in (2, 3):
                sent.append(await send_bleep(http, nurse_token, f"Bed {bed}, Redis down"))
            await asyncio.to_thread(private_redis.start)
            sent.append(await send_bleep(http, nurse_token, "Bed 4, after the restart"))

            for phone in (nurse, doctor):
                await phone.settle()
                await phone.close()
                await phone.connect()

    for phone in (nurse, doctor):
        assert [event["type"] for event in phone.events] == ["bleep.created"] * len(sent)
        assert [event["bleep"]["id"] for event in phone.events] == sent
        assert [event["seq"] for event in phone.events] == list(range(1, len(sent) + 1))


@needs_redis
@pytest.mark.hazard("HZ-05")
async def test_a_device_that_stays_connected_through_a_redis_restart_gets_what_it_missed_first(
    private_redis: PrivateRedis, bleep_server_on_private_redis: Server
) -> None:
    server = bleep_server_on_private_redis
    async with httpx.AsyncClient(base_url=server.url, timeout=HTTP_TIMEOUT_SECONDS) as http:
        nurse_token, _, doctor = await signed_in(http, server)
        async with doctor:
            await doctor.connect()
            await asyncio.to_thread(private_redis.stop)
            missed = await send_bleep(http, nurse_token, "Bed 2, Redis down")
            await asyncio.to_thread(private_redis.start)
            # Healthy again means the web process has its Redis subscriptions back.
            await asyncio.to_thread(wait_until_healthy, server)
            after = await send_bleep(http, nurse_token, "Bed 3, Redis back")

            # The live event for `after` is one past a gap: the server fills it in first.
            live = [await doctor.next_event(), await doctor.next_event()]
            assert [event["bleep"]["id"] for event in live] == [missed, after]
            assert [event["seq"] for event in live] == [1, 2]
