"""The first thread through the system, with the real server and real WebSocket clients."""

import json
import socket

import httpx
import pytest
from channels.db import database_sync_to_async

from escalation.models import WorkerHeartbeat
from tests.e2e.clients import authenticate, login, next_frame, open_socket, staff_on_call
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


async def test_a_nurse_bleeps_the_registrar_who_acknowledges_and_the_nurse_sees_it_live(
    bleep_server: Server,
) -> None:
    await database_sync_to_async(staff_on_call)()
    async with httpx.AsyncClient(base_url=bleep_server.url, timeout=10) as http:
        nurse_token, doctor_token = (
            await login(http, "amina.okafor"),
            await login(http, "omar.haddad"),
        )
        async with (
            open_socket(bleep_server) as nurse,
            open_socket(bleep_server) as doctor,
        ):
            await authenticate(nurse, nurse_token)
            await authenticate(doctor, doctor_token)

            sent = await http.post(
                "/api/bleeps",
                headers={"Authorization": f"Bearer {nurse_token}"},
                json={"bleep_number": "2345", "priority": "urgent", "message": "Bed 4 NEWS 7"},
            )
            assert sent.status_code == 201, sent.text
            bleep_id = sent.json()["id"]

            arrived = await next_frame(doctor)
            assert arrived["type"] == "bleep.created"
            assert arrived["bleep"]["id"] == bleep_id
            assert arrived["bleep"]["message"] == "Bed 4 NEWS 7"

            await doctor.send(json.dumps({"type": "delivered", "bleep_id": bleep_id}))
            await doctor.send(
                json.dumps({"type": "acknowledge", "bleep_id": bleep_id, "eta_minutes": 10})
            )

            assert (await next_frame(nurse))["type"] == "bleep.created"
            delivered = await next_frame(nurse)
            assert delivered["type"] == "delivery.updated"
            assert delivered["delivery"]["status"] == "delivered"
            acknowledged = await next_frame(nurse)
            assert acknowledged["type"] == "bleep.acknowledged"
            assert acknowledged["by"]["name"] == "Omar Haddad"
            assert acknowledged["eta_minutes"] == 10

        shown = await http.get(
            f"/api/bleeps/{bleep_id}", headers={"Authorization": f"Bearer {nurse_token}"}
        )
        assert shown.json()["status"] == "acknowledged"


@pytest.mark.hazard("HZ-10")
async def test_the_escalation_worker_runs_where_the_procfile_puts_it(bleep_server: Server) -> None:
    beats = await database_sync_to_async(list)(WorkerHeartbeat.objects.all())
    assert len(beats) == 1
    owner = bleep_server.processes.get("worker", bleep_server.processes["web"])
    assert beats[0].name == f"{socket.gethostname()}:{owner.pid}"
    async with httpx.AsyncClient(base_url=bleep_server.url) as http:
        health = (await http.get("/healthz")).json()
    assert health["status"] == "ok"
    assert health["worker"]["ok"] is True
