"""The device WebSocket, driven through the real ASGI application with WebsocketCommunicator."""

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import channels.consumer
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.utils import timezone

from bleep.asgi import application
from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging import consumers, events
from messaging.models import Bleep, BleepStatus, Delivery, Device, HistoryEntry, Priority
from messaging.services.answers import acknowledge_bleep
from messaging.services.devices import disable_account, expire_devices, revoke_device
from rota.models import Person
from tests import factories
from tests.conftest import Ward

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def open_socket(
    token: str | None, last_seq: int = 0, *, resume: bool = False
) -> WebsocketCommunicator:
    """Connect as a device and, given a token, authenticate and read up to `caught_up`."""
    communicator = WebsocketCommunicator(application, "/ws", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    if token is not None:
        hello = {"type": "auth", "token": token, "last_seq": last_seq}
        await communicator.send_json_to(hello | ({"resume": True} if resume else {}))
        assert (await communicator.receive_json_from())["type"] == "authenticated"
    return communicator


async def read_until_caught_up(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Return the events sent before `caught_up` (a new device's snapshot is not an event)."""
    frames = []
    while (frame := await communicator.receive_json_from())["type"] != "caught_up":
        if frame["type"] != "snapshot":
            frames.append(frame)
    return frames


@database_sync_to_async
def nurse_bleeps(ward: Ward, message: str = "Review bed 4") -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role, message),
        now=timezone.now(),
    ).bleep


async def test_the_authenticated_frame_names_the_persons_job_so_the_app_knows_its_screens(
    ward: Ward,
) -> None:
    socket = WebsocketCommunicator(application, "/ws", headers=[ORIGIN])
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token, "last_seq": 0})
    hello = await socket.receive_json_from()
    assert hello["user"] == {"id": ward.doctor.pk, "name": str(ward.doctor), "job": "doctor"}
    await socket.disconnect()


async def test_a_bleep_reaches_the_holders_open_socket_live(ward: Ward) -> None:
    doctor = await open_socket(ward.doctor_token)
    assert await read_until_caught_up(doctor) == []
    bleep = await nurse_bleeps(ward)
    event = await doctor.receive_json_from()
    assert event["type"] == "bleep.created"
    assert event["bleep"]["id"] == bleep.pk
    assert event["seq"] == 1
    await doctor.disconnect()


async def test_every_device_of_the_holder_gets_the_bleep(ward: Ward) -> None:
    _, tablet_token = await database_sync_to_async(factories.make_device)(ward.doctor, "tablet")
    phone, tablet = await open_socket(ward.doctor_token), await open_socket(tablet_token)
    await read_until_caught_up(phone)
    await read_until_caught_up(tablet)
    await nurse_bleeps(ward)
    assert (await phone.receive_json_from())["type"] == "bleep.created"
    assert (await tablet.receive_json_from())["type"] == "bleep.created"
    await phone.disconnect()
    await tablet.disconnect()


@pytest.mark.hazard("HZ-05")
async def test_a_reconnecting_device_gets_exactly_what_it_missed_in_order(ward: Ward) -> None:
    first = await nurse_bleeps(ward, "one")
    await nurse_bleeps(ward, "two")
    await nurse_bleeps(ward, "three")
    doctor = await open_socket(ward.doctor_token, last_seq=1)
    missed = await read_until_caught_up(doctor)
    assert [e["seq"] for e in missed] == [2, 3]
    assert [e["bleep"]["message"] for e in missed] == ["two", "three"]
    assert first.pk not in [e["bleep"]["id"] for e in missed]
    await doctor.disconnect()


@pytest.mark.hazard("HZ-22")
async def test_a_device_caught_up_at_zero_resumes_and_gets_what_it_missed_not_a_snapshot(
    ward: Ward,
) -> None:
    doctor = await open_socket(ward.doctor_token)
    assert await doctor.receive_json_from() == {"type": "snapshot", "seq": 0, "bleeps": []}
    assert await doctor.receive_json_from() == {"type": "caught_up", "seq": 0}
    await doctor.disconnect()
    # Away: a bleep arrives and is acknowledged from the doctor's other phone, so it is no
    # longer open and a snapshot would not carry it; the events are the only record.
    bleep = await nurse_bleeps(ward)
    await database_sync_to_async(acknowledge_bleep)(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=timezone.now()
    )
    doctor = await open_socket(ward.doctor_token, last_seq=0, resume=True)
    missed = await read_until_caught_up(doctor)
    assert [(e["seq"], e["type"]) for e in missed] == [
        (1, "bleep.created"),
        (2, "bleep.acknowledged"),
    ]
    await doctor.disconnect()


@pytest.mark.parametrize("resume", ["yes", 1, None])
async def test_a_resume_that_is_not_true_or_false_is_closed_with_4400(
    ward: Ward, resume: object
) -> None:
    communicator = WebsocketCommunicator(application, "/ws", headers=[ORIGIN])
    await communicator.connect()
    await communicator.send_json_to(
        {"type": "auth", "token": ward.doctor_token, "last_seq": 0, "resume": resume}
    )
    assert (await communicator.receive_output())["code"] == 4400


@pytest.mark.hazard("HZ-05")
async def test_a_live_event_after_one_the_layer_dropped_is_preceded_by_the_missing_one(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = await open_socket(ward.doctor_token)
    await read_until_caught_up(doctor)
    with monkeypatch.context() as patch:
        patch.setattr(events, "_publish", lambda messages: None)
        await nurse_bleeps(ward, "dropped by the layer")
    await nurse_bleeps(ward, "arrives live")
    received = [await doctor.receive_json_from(), await doctor.receive_json_from()]
    assert [e["seq"] for e in received] == [1, 2]
    assert [e["bleep"]["message"] for e in received] == ["dropped by the layer", "arrives live"]
    assert await doctor.receive_nothing()
    await doctor.disconnect()


async def test_the_doctor_acknowledges_over_the_socket_and_the_nurse_sees_it_live(
    ward: Ward,
) -> None:
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(doctor)
    bleep = await nurse_bleeps(ward)
    assert (await nurse.receive_json_from())["type"] == "bleep.created"
    assert (await doctor.receive_json_from())["type"] == "bleep.created"
    await doctor.send_json_to(
        {
            "type": "acknowledge",
            "bleep_id": bleep.pk,
            "eta_minutes": 5,
            "comment": "coming",
            "ref": "a1",
        }
    )
    replies = [await doctor.receive_json_from(), await doctor.receive_json_from()]
    assert {"type": "ok", "ref": "a1"} in replies
    seen = await nurse.receive_json_from()
    assert seen["type"] == "bleep.acknowledged"
    assert seen["by"]["id"] == ward.doctor.pk
    assert seen["eta_minutes"] == 5
    refreshed = await database_sync_to_async(Bleep.objects.get)(pk=bleep.pk)
    assert refreshed.status == BleepStatus.ACKNOWLEDGED
    await nurse.disconnect()
    await doctor.disconnect()


async def test_a_delivered_receipt_reaches_the_sender(ward: Ward) -> None:
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(doctor)
    bleep = await nurse_bleeps(ward)
    await nurse.receive_json_from()
    await doctor.receive_json_from()
    await doctor.send_json_to({"type": "delivered", "bleep_id": bleep.pk})
    update = await nurse.receive_json_from()
    assert update["type"] == "delivery.updated"
    assert update["delivery"]["status"] == "delivered"
    await nurse.disconnect()
    await doctor.disconnect()


async def test_acting_on_someone_elses_bleep_over_the_socket_is_not_found(ward: Ward) -> None:
    bleep = await nurse_bleeps(ward)
    stranger = await database_sync_to_async(factories.make_person)("x.y", job=Person.Job.DOCTOR)
    _, token = await database_sync_to_async(factories.make_device)(stranger)
    socket = await open_socket(token)
    await read_until_caught_up(socket)
    await socket.send_json_to({"type": "acknowledge", "bleep_id": bleep.pk, "ref": "r"})
    reply = await socket.receive_json_from()
    assert reply["type"] == "error"
    assert reply["code"] == "not_found"
    await socket.disconnect()


async def test_an_invalid_token_is_closed_with_4401(ward: Ward) -> None:
    socket = await open_socket(None)
    await socket.send_json_to({"type": "auth", "token": "not-a-token"})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_revoked_token_is_closed_with_4401(ward: Ward) -> None:
    await database_sync_to_async(revoke_device)(device=ward.doctor_device, now=timezone.now())
    socket = await open_socket(None)
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_a_first_message_that_is_not_auth_is_closed_with_4400(ward: Ward) -> None:
    socket = await open_socket(None)
    await socket.send_json_to({"type": "acknowledge", "bleep_id": 1})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4400}


BAD_FRAMES = [
    pytest.param({"text": "not json"}, id="not-json"),
    pytest.param({"text": '{"type": "auth"'}, id="cut-short"),
    pytest.param({"text": "[" * 1000 + "]" * 1000}, id="nested-1000-deep"),
    pytest.param({"text": ""}, id="empty-text"),
    pytest.param({"bytes": b"\x00\x01"}, id="binary"),
    pytest.param({"bytes": b'{"type": "ping"}'}, id="json-as-binary"),
]


@pytest.mark.parametrize("frame", [*BAD_FRAMES, pytest.param({"text": "[1]"}, id="array")])
async def test_a_bad_first_frame_closes_4400_and_logs_no_error(
    ward: Ward, frame: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    socket = await open_socket(None)
    await socket.send_input({"type": "websocket.receive", **frame})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4400}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize("frame", BAD_FRAMES)
async def test_a_frame_that_is_not_json_text_after_sign_in_closes_4400_and_logs_no_error(
    ward: Ward, frame: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    socket = await open_socket(ward.doctor_token)
    await read_until_caught_up(socket)
    await socket.send_input({"type": "websocket.receive", **frame})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4400}
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_json_that_is_not_an_object_after_sign_in_is_an_error_and_the_socket_stays(
    ward: Ward, caplog: pytest.LogCaptureFixture
) -> None:
    socket = await open_socket(ward.doctor_token)
    await read_until_caught_up(socket)
    await socket.send_to(text_data="[1]")
    error = await socket.receive_json_from()
    assert (error["type"], error["code"]) == ("error", "invalid")
    await socket.send_json_to({"type": "ping", "ref": "p"})
    assert (await socket.receive_json_from())["type"] == "pong"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    await socket.disconnect()


async def test_a_socket_that_never_authenticates_is_closed_with_4408(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.05)
    socket = await open_socket(None)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4408}


@pytest.mark.hazard("HZ-16")
async def test_a_socket_whose_sign_in_waits_on_a_slow_database_is_not_closed_as_silent(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "AUTH_TIMEOUT_SECONDS", 0.2)
    authenticate_device = consumers.devices.authenticate_device

    def slow_database(**kwargs: Any) -> Any:
        time.sleep(1.0)  # five times the sign-in timer
        return authenticate_device(**kwargs)

    monkeypatch.setattr(consumers.devices, "authenticate_device", slow_database)
    socket = await open_socket(None)
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token, "last_seq": 0})
    assert (await socket.receive_json_from(timeout=5))["type"] == "authenticated"
    assert await read_until_caught_up(socket) == []
    await socket.disconnect()


@pytest.mark.hazard("HZ-16")
async def test_a_sign_in_that_cannot_reach_the_database_is_closed_4503_to_retry_later(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**kwargs: Any) -> Any:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(consumers.devices, "authenticate_device", unavailable)
    socket = await open_socket(None)
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token, "last_seq": 0})
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4503}


@pytest.mark.hazard("HZ-16")
async def test_a_signed_in_socket_whose_action_cannot_reach_the_database_stays_open(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = await open_socket(ward.doctor_token)
    await read_until_caught_up(socket)

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("the database system is shutting down")

    with monkeypatch.context() as outage:
        outage.setattr(consumers.selectors, "events_after", unavailable)
        outage.setattr(consumers.answers, "record_receipt", unavailable)
        await socket.send_json_to({"type": "ping", "ref": 1})
        refused_ping = await socket.receive_json_from(timeout=2)
        await socket.send_json_to({"type": "read", "bleep_id": 1, "ref": 2})
        refused_read = await socket.receive_json_from(timeout=2)

    assert refused_ping["code"] == refused_read["code"] == "database_unavailable"
    assert (refused_ping["ref"], refused_read["ref"]) == (1, 2)
    assert refused_ping["retry_after"] == 2
    # The database is back: the same socket answers, nothing was closed.
    await socket.send_json_to({"type": "ping", "ref": 3})
    assert (await socket.receive_json_from(timeout=2))["type"] == "pong"
    await socket.disconnect()


@pytest.mark.hazard("HZ-08")
async def test_a_foreign_origin_is_refused_at_the_handshake(ward: Ward) -> None:
    communicator = WebsocketCommunicator(
        application, "/ws", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize(
    "origin",
    [b"http://127.0.0.1:9999", b"https://127.0.0.1:8000", b"http://evil.example:8000"],
    ids=["another port", "another scheme", "another host"],
)
async def test_an_origin_differing_in_port_scheme_or_host_is_refused_at_the_handshake(
    ward: Ward, origin: bytes
) -> None:
    communicator = WebsocketCommunicator(application, "/ws", headers=[(b"origin", origin)])
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8000", b"http://localhost:8000"])
async def test_the_default_origins_let_the_app_served_by_make_run_connect(
    ward: Ward, origin: bytes
) -> None:
    communicator = WebsocketCommunicator(application, "/ws", headers=[(b"origin", origin)])
    connected, _ = await communicator.connect()
    assert connected
    await communicator.disconnect()


async def test_an_unknown_message_type_is_an_error_naming_it(ward: Ward) -> None:
    socket = await open_socket(ward.doctor_token)
    await read_until_caught_up(socket)
    await socket.send_json_to({"type": "dance", "ref": 7})
    reply = await socket.receive_json_from()
    assert reply["code"] == "unknown_type"
    assert "dance" in reply["detail"]
    await socket.disconnect()


@pytest.mark.hazard("HZ-08")
async def test_revoking_a_device_closes_its_open_socket_with_4401(ward: Ward) -> None:
    _, tablet_token = await database_sync_to_async(factories.make_device)(ward.doctor, "tablet")
    phone, tablet = await open_socket(ward.doctor_token), await open_socket(tablet_token)
    await read_until_caught_up(phone)
    await read_until_caught_up(tablet)
    await database_sync_to_async(revoke_device)(device=ward.doctor_device, now=timezone.now())
    assert await phone.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    assert await tablet.receive_nothing()
    await tablet.disconnect()


async def test_two_sockets_database_work_runs_at_once_not_one_after_the_other(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each call waits for the other: run one at a time, the first would wait in vain.
    both_inside = threading.Barrier(2, timeout=5)

    def record_receipt(**kwargs: Any) -> None:
        both_inside.wait()

    monkeypatch.setattr(consumers.answers, "record_receipt", record_receipt)
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    for socket in (nurse, doctor):
        await read_until_caught_up(socket)
        await socket.send_json_to({"type": "delivered", "bleep_id": 1, "ref": "r"})
    for socket in (nurse, doctor):
        assert await socket.receive_json_from(timeout=6) == {"type": "ok", "ref": "r"}
        await socket.disconnect()


async def test_a_sockets_messages_make_no_trip_to_the_one_thread_every_socket_shares(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Channels closes stale database connections before each message a consumer handles,
    # on asgiref's one thread for the whole process: every frame of every socket queued there.
    trips: list[str] = []

    async def close_old_connections() -> None:
        trips.append("close")

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", close_old_connections)
    doctor = await open_socket(ward.doctor_token)
    await read_until_caught_up(doctor)
    await nurse_bleeps(ward)
    assert (await doctor.receive_json_from())["type"] == "bleep.created"
    await doctor.send_json_to({"type": "ping", "last_seq": 1})
    assert (await doctor.receive_json_from())["type"] == "pong"
    await doctor.disconnect()
    assert trips == []


async def test_a_decline_and_a_reply_over_the_socket_reach_the_sender_live(ward: Ward) -> None:
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(doctor)
    bleep = await nurse_bleeps(ward)
    await nurse.receive_json_from()
    await doctor.receive_json_from()
    await doctor.send_json_to({"type": "reply", "bleep_id": bleep.pk, "text": "in resus, 5 min"})
    await doctor.send_json_to({"type": "decline", "bleep_id": bleep.pk, "reason": "in resus"})
    reply, declined = await nurse.receive_json_from(), await nurse.receive_json_from()
    assert (reply["type"], reply["reply"]["text"]) == ("bleep.reply", "in resus, 5 min")
    assert (declined["type"], declined["reason"]) == ("bleep.declined", "in resus")
    await nurse.disconnect()
    await doctor.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "decline", "bleep_id": 1},
        {"type": "decline", "bleep_id": 1, "reason": ""},
        {"type": "reply", "bleep_id": 1, "text": "x" * 501},
        {"type": "reply", "bleep_id": "one", "text": "hi"},
    ],
)
async def test_a_malformed_decline_or_reply_is_an_invalid_error(
    ward: Ward, frame: dict[str, Any]
) -> None:
    socket = await open_socket(ward.doctor_token)
    await read_until_caught_up(socket)
    await socket.send_json_to(frame)
    reply = await socket.receive_json_from()
    assert (reply["type"], reply["code"]) == ("error", "invalid")
    await socket.disconnect()


@pytest.mark.hazard("HZ-05")
async def test_a_ping_brings_events_the_live_path_dropped_before_the_pong(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = await open_socket(ward.doctor_token)
    await read_until_caught_up(doctor)
    with monkeypatch.context() as patch:
        patch.setattr(events, "_publish", lambda messages: None)
        await nurse_bleeps(ward, "dropped while Redis restarted")
    assert await doctor.receive_nothing()
    await doctor.send_json_to({"type": "ping", "ref": 9})
    missed, pong = await doctor.receive_json_from(), await doctor.receive_json_from()
    assert (missed["type"], missed["seq"]) == ("bleep.created", 1)
    assert pong == {"type": "pong", "ref": 9, "seq": 1}
    await doctor.disconnect()


async def test_a_new_device_gets_its_open_bleeps_not_its_whole_history(ward: Ward) -> None:
    acknowledged = await nurse_bleeps(ward, "old, answered")
    await database_sync_to_async(acknowledge_bleep)(
        device=ward.doctor_device,
        bleep_id=acknowledged.pk,
        eta_minutes=None,
        comment="",
        now=timezone.now(),
    )
    still_open = await nurse_bleeps(ward, "still open")
    _, tablet_token = await database_sync_to_async(factories.make_device)(ward.doctor, "tablet")
    tablet = await open_socket(tablet_token)
    snapshot = await tablet.receive_json_from()
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == 3
    assert [b["id"] for b in snapshot["bleeps"]] == [still_open.pk]
    assert await tablet.receive_json_from() == {"type": "caught_up", "seq": 3}
    await nurse_bleeps(ward, "new")
    assert (await tablet.receive_json_from())["seq"] == 4
    await tablet.disconnect()


async def test_disabling_an_account_closes_every_socket_of_it_with_4401(ward: Ward) -> None:
    _, tablet_token = await database_sync_to_async(factories.make_device)(ward.doctor, "tablet")
    phone, tablet = await open_socket(ward.doctor_token), await open_socket(tablet_token)
    nurse = await open_socket(ward.nurse_token)
    for socket in (phone, tablet, nurse):
        await read_until_caught_up(socket)
    await database_sync_to_async(disable_account)(person=ward.doctor, now=timezone.now())
    for socket in (phone, tablet):
        assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    assert await nurse.receive_nothing()
    await nurse.disconnect()


SOCKET_MATRIX = {
    # action frame -> the answer each of SOCKET_WHO gets (the codes REST answers)
    "acknowledge": (
        {"type": "acknowledge"},
        ["not_a_recipient", "ok", "not_found", "not_found", "not_a_recipient", "not_a_recipient"],
    ),
    "delivered": (
        {"type": "delivered"},
        ["not_a_recipient", "ok", "not_found", "not_found", "not_a_recipient", "not_a_recipient"],
    ),
    "read": (
        {"type": "read"},
        ["not_a_recipient", "ok", "not_found", "not_found", "not_a_recipient", "not_a_recipient"],
    ),
    "decline": (
        {"type": "decline", "reason": "busy"},
        ["not_a_recipient", "ok", "not_found", "not_found", "not_a_recipient", "not_a_recipient"],
    ),
    "reply": (
        {"type": "reply", "text": "on my way"},
        ["ok", "ok", "not_found", "not_found", "ok", "not_a_recipient"],
    ),
}
SOCKET_WHO = ["sender", "recipient", "another_nurse", "another_doctor", "switchboard", "auditor"]


@pytest.mark.parametrize("who", SOCKET_WHO)
@pytest.mark.parametrize("action", list(SOCKET_MATRIX))
@pytest.mark.hazard("HZ-08")
async def test_the_socket_access_matrix(ward: Ward, action: str, who: str) -> None:
    frame, expected = SOCKET_MATRIX[action]
    bleep = await nurse_bleeps(ward)
    make_person = database_sync_to_async(factories.make_person)
    other = await make_person("beth.turner", job=Person.Job.NURSE)
    doctor = await make_person("ravi.shah", job=Person.Job.DOCTOR)
    auditor = await make_person("carol.reid", job=Person.Job.AUDITOR)
    tokens = {
        "sender": ward.nurse_token,
        "recipient": ward.doctor_token,
        "another_nurse": (await database_sync_to_async(factories.make_device)(other))[1],
        "another_doctor": (await database_sync_to_async(factories.make_device)(doctor))[1],
        "auditor": (await database_sync_to_async(factories.make_device)(auditor))[1],
        "switchboard": (await database_sync_to_async(factories.make_device)(ward.operator))[1],
    }
    socket = await open_socket(tokens[who], last_seq=10_000)
    await read_until_caught_up(socket)
    await socket.send_json_to({**frame, "bleep_id": bleep.pk, "ref": "m"})
    while (reply := await socket.receive_json_from())["type"] not in ("ok", "error"):
        pass  # the action's own events may come first
    got = "ok" if reply["type"] == "ok" else reply["code"]
    assert got == expected[SOCKET_WHO.index(who)]
    await socket.disconnect()


async def test_a_nurse_sends_a_bleep_over_the_socket_and_the_holder_gets_it_live(
    ward: Ward,
) -> None:
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(doctor)
    frame = {"type": "send", "ref": "s1", "bleep_number": "2345", "priority": "urgent"}
    await nurse.send_json_to({**frame, "message": "Bed 4 NEWS 7", "idempotency_key": "k1"})
    created = await doctor.receive_json_from()
    assert created["type"] == "bleep.created"
    assert created["bleep"]["priority"] == "urgent"
    frames = [await nurse.receive_json_from(), await nurse.receive_json_from()]
    ok = next(f for f in frames if f["type"] == "ok")
    assert ok == {"type": "ok", "ref": "s1", "bleep_id": created["bleep"]["id"], "created": True}
    await nurse.send_json_to({**frame, "message": "Bed 4 NEWS 7", "idempotency_key": "k1"})
    again = await nurse.receive_json_from()
    assert again["bleep_id"] == ok["bleep_id"] and again["created"] is False
    assert await doctor.receive_nothing()
    assert await database_sync_to_async(Bleep.objects.count)() == 1
    await nurse.disconnect()
    await doctor.disconnect()


async def test_a_nurse_bleeps_a_person_by_name_over_the_socket(ward: Ward) -> None:
    nurse, doctor = await open_socket(ward.nurse_token), await open_socket(ward.doctor_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(doctor)
    await nurse.send_json_to({"type": "send", "person": ward.doctor.pk, "message": "Call me"})
    created = await doctor.receive_json_from()
    assert created["bleep"]["person"]["id"] == ward.doctor.pk
    assert created["bleep"]["role"] is None
    await nurse.disconnect()
    await doctor.disconnect()


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"bleep_number": "9999", "message": "x"}, "bleep_number"),
        ({"person": 999999, "message": "x"}, "person"),
        ({"bleep_number": "2345"}, "message"),
        ({"bleep_number": "2345", "message": "x" * 501}, "message"),
        ({"bleep_number": "2345", "message": "x", "nhs_number": "1234567890"}, "nhs_number"),
        ({"bleep_number": "2345", "message": "x", "bed_no": "4"}, "bed_no"),
    ],
)
async def test_a_bad_send_over_the_socket_is_an_invalid_error_naming_the_field_and_stores_nothing(
    ward: Ward, frame: dict[str, Any], field: str
) -> None:
    nurse = await open_socket(ward.nurse_token)
    await read_until_caught_up(nurse)
    await nurse.send_json_to({"type": "send", "ref": "s", **frame})
    error = await nurse.receive_json_from()
    assert (error["type"], error["code"], error["ref"]) == ("error", "invalid", "s")
    assert field in error["fields"]
    assert error["detail"].startswith(field)
    assert not await database_sync_to_async(Bleep.objects.exists)()
    await nurse.disconnect()


@database_sync_to_async
def switchboard_brought_into_an_emergency(ward: Ward) -> Bleep:
    """Send an emergency to the registrar; the built-in plan's second step brings switchboard."""
    bleep = send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.role, "Cardiac arrest", priority=Priority.EMERGENCY),
        now=timezone.now(),
    ).bleep
    for minutes in (1, 2):
        fire_due_deadlines(now=timezone.now() + timedelta(minutes=minutes))
    assert Delivery.objects.filter(bleep=bleep, recipient=ward.operator).exists()
    return bleep


@database_sync_to_async
def stored_answers(bleep: Bleep) -> tuple[str, list[str], int]:
    bleep.refresh_from_db()
    deliveries = list(bleep.deliveries.order_by("pk").values_list("status", flat=True))
    return bleep.status, deliveries, HistoryEntry.objects.filter(bleep=bleep).count()


async def answer_to(socket: WebsocketCommunicator, ref: str) -> dict[str, Any]:
    """Read past the action's own events to its `ok` or `error` answer."""
    while (frame := await socket.receive_json_from()).get("ref") != ref:
        pass
    return frame


@pytest.mark.hazard("HZ-12")
async def test_over_the_socket_switchboard_cannot_acknowledge_an_emergency_and_takes_it_on(
    ward: Ward,
) -> None:
    bleep = await switchboard_brought_into_an_emergency(ward)
    _, operator_token = await database_sync_to_async(factories.make_device)(ward.operator)
    nurse, switchboard = await open_socket(ward.nurse_token), await open_socket(operator_token)
    await read_until_caught_up(nurse)
    await read_until_caught_up(switchboard)
    before = await stored_answers(bleep)

    await switchboard.send_json_to(
        {"type": "acknowledge", "bleep_id": bleep.pk, "comment": "coming", "ref": "a"}
    )
    refused = await answer_to(switchboard, "a")
    assert refused == {
        "type": "error",
        "ref": "a",
        "code": "switchboard_cannot_acknowledge",
        "detail": "switchboard cannot acknowledge for a clinician: take it on instead",
    }
    assert await stored_answers(bleep) == before

    await switchboard.send_json_to(
        {"type": "handle", "bleep_id": bleep.pk, "note": "phoning the team", "ref": "h"}
    )
    assert (await answer_to(switchboard, "h"))["type"] == "ok"
    seen = await nurse.receive_json_from()
    assert (seen["type"], seen["by"]["id"], seen["note"]) == (
        "bleep.handling",
        ward.operator.pk,
        "phoning the team",
    )
    assert seen["bleep"]["status"] == "open"
    status, deliveries, _ = await stored_answers(bleep)
    assert (status, deliveries) == ("open", ["sent", "handling"])
    await nurse.disconnect()
    await switchboard.disconnect()


@pytest.mark.parametrize(
    ("who", "frame", "code"),
    [
        ("doctor", {}, "not_switchboard"),
        ("operator", {"note": "x" * 201}, "invalid"),
        ("operator", {"note": 7}, "invalid"),
    ],
)
@pytest.mark.hazard("HZ-12")
async def test_a_take_on_by_a_clinician_or_with_a_bad_note_is_refused_over_the_socket(
    ward: Ward, who: str, frame: dict[str, Any], code: str
) -> None:
    bleep = await switchboard_brought_into_an_emergency(ward)
    _, operator_token = await database_sync_to_async(factories.make_device)(ward.operator)
    socket = await open_socket(ward.doctor_token if who == "doctor" else operator_token)
    await read_until_caught_up(socket)
    before = await stored_answers(bleep)

    await socket.send_json_to({"type": "handle", "bleep_id": bleep.pk, "ref": "h", **frame})

    reply = await answer_to(socket, "h")
    assert (reply["type"], reply["code"]) == ("error", code)
    assert await stored_answers(bleep) == before
    await socket.disconnect()


def age_device(device_id: int, days: int) -> None:
    """Move a device's sign-in and last use `days` days into the past."""
    device = Device.objects.get(pk=device_id)
    Device.objects.filter(pk=device_id).update(
        created_at=device.created_at - timedelta(days=days),
        last_seen_at=device.last_seen_at - timedelta(days=days),
    )


async def test_the_authenticated_frame_says_when_the_devices_token_expires(ward: Ward) -> None:
    socket = WebsocketCommunicator(application, "/ws", headers=[ORIGIN])
    await socket.connect()
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token, "last_seq": 0})
    frame = await socket.receive_json_from()
    device = await database_sync_to_async(Device.objects.get)(pk=ward.doctor_device.pk)
    expires_at = datetime.fromisoformat(frame["device"]["expires_at"])
    assert expires_at == device.last_seen_at + timedelta(days=30)
    await socket.disconnect()


async def test_an_expired_token_is_closed_with_4401(ward: Ward) -> None:
    await database_sync_to_async(age_device)(ward.doctor_device.pk, 31)
    socket = await open_socket(None)
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token})
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


@pytest.mark.hazard("HZ-08")
async def test_the_sweep_closes_an_expired_devices_open_socket_with_4401(ward: Ward) -> None:
    phone, nurse = await open_socket(ward.doctor_token), await open_socket(ward.nurse_token)
    await read_until_caught_up(phone)
    await read_until_caught_up(nurse)
    await database_sync_to_async(age_device)(ward.doctor_device.pk, 31)
    ended = await database_sync_to_async(expire_devices)(now=timezone.now())
    assert [device.pk for device in ended] == [ward.doctor_device.pk]
    assert await phone.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    assert await nurse.receive_nothing()
    await nurse.disconnect()
