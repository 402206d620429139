"""The socket and REST are two ways into one write path: the same checks, the same refusals
in the same words, and one description of a bleep."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from api.serializers.bleeps import BleepSerializer, DeliverySerializer
from escalation.services.sending import send_bleep
from messaging.models import Bleep, StreamEvent
from messaging.services.answers import acknowledge_bleep
from tests import factories
from tests.conftest import Ward, client_for
from tests.messaging.test_consumers import (
    answer_to,
    open_socket,
    read_until_caught_up,
    switchboard_brought_into_an_emergency,
)

pytestmark = pytest.mark.django_db(transaction=True)

# (who acts, the socket's action, REST's path under the bleep, the bad input)
BAD_INPUT = [
    ("doctor", "acknowledge", "acknowledge", {"eta_minutes": 999}),
    ("doctor", "acknowledge", "acknowledge", {"eta_minutes": "soon"}),
    ("doctor", "acknowledge", "acknowledge", {"comment": "x" * 201}),
    ("doctor", "acknowledge", "acknowledge", {"comment": 7}),
    ("doctor", "acknowledge", "acknowledge", {"eta": 5}),
    ("doctor", "decline", "decline", {}),
    ("doctor", "decline", "decline", {"reason": ""}),
    ("doctor", "decline", "decline", {"reason": "x" * 201}),
    ("doctor", "decline", "decline", {"reason": ["busy"]}),
    ("operator", "handle", "handle", {"note": "x" * 201}),
    ("operator", "handle", "handle", {"note": 7}),
    ("doctor", "reply", "replies", {}),
    ("doctor", "reply", "replies", {"text": ""}),
    ("doctor", "reply", "replies", {"text": "x" * 501}),
    ("doctor", "reply", "replies", {"text": "hi", "urgent": True}),
    ("nurse", "send", None, {"bleep_number": "9999", "message": "x"}),
    ("nurse", "send", None, {"person": 999_999, "message": "x"}),
    ("nurse", "send", None, {"bleep_number": "2345"}),
    ("nurse", "send", None, {"message": "to nobody"}),
    ("nurse", "send", None, {"bleep_number": "2345", "message": "x" * 501}),
    ("nurse", "send", None, {"bleep_number": "2345", "message": "x", "nhs_number": "1234567890"}),
    ("nurse", "send", None, {"bleep_number": "2345", "message": "x", "priority": "soon"}),
    ("nurse", "send", None, {"bleep_number": "2345", "message": "x", "bed_no": "4"}),
]

# (who acts, the socket's action, REST's path, the input): refused for who acts, not what
REFUSED = [
    ("nurse", "acknowledge", "acknowledge", {}),
    ("nurse", "decline", "decline", {"reason": "busy"}),
    ("nurse", "delivered", "delivered", {}),
    ("nurse", "read", "read", {}),
    ("doctor", "handle", "handle", {}),
    ("operator", "acknowledge", "acknowledge", {}),
    ("stranger", "acknowledge", "acknowledge", {}),
    ("stranger", "reply", "replies", {"text": "hello"}),
    ("stranger", "read", "read", {}),
]


@database_sync_to_async
def tokens_of(ward: Ward) -> dict[str, str]:
    stranger = factories.make_person("ravi.shah")
    return {
        "nurse": ward.nurse_token,
        "doctor": ward.doctor_token,
        "operator": factories.make_device(ward.operator)[1],
        "stranger": factories.make_device(stranger)[1],
    }


@database_sync_to_async
def rest_answer(token: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client_for(token).post(f"/api/{path}", body, format="json")
    return response.status_code, response.json()


async def socket_answer(token: str, frame: dict[str, Any]) -> dict[str, Any]:
    socket = await open_socket(token, last_seq=10_000)
    await read_until_caught_up(socket)
    await socket.send_json_to({**frame, "ref": "r"})
    answer = await answer_to(socket, "r")
    await socket.disconnect()
    return answer


async def assert_both_ways_refuse_alike(
    token: str, action: str, path: str | None, bleep: Bleep, body: dict[str, Any]
) -> None:
    frame = {"type": action, **body} | ({} if action == "send" else {"bleep_id": bleep.pk})
    status, rest = await rest_answer(token, f"bleeps/{bleep.pk}/{path}" if path else "bleeps", body)
    socket = await socket_answer(token, frame)
    assert 400 <= status < 500, rest
    assert (socket.pop("type"), socket.pop("ref")) == ("error", "r")
    assert socket == rest


@pytest.mark.parametrize(("who", "action", "path", "body"), BAD_INPUT)
async def test_a_socket_write_with_bad_input_is_refused_in_the_words_rest_uses(
    ward: Ward, who: str, action: str, path: str | None, body: dict[str, Any]
) -> None:
    bleep = await switchboard_brought_into_an_emergency(ward)
    tokens = await tokens_of(ward)
    await assert_both_ways_refuse_alike(tokens[who], action, path, bleep, body)
    assert await database_sync_to_async(Bleep.objects.count)() == 1


@pytest.mark.parametrize(("who", "action", "path", "body"), REFUSED)
async def test_a_socket_write_by_the_wrong_person_is_refused_in_the_words_rest_uses(
    ward: Ward, who: str, action: str, path: str, body: dict[str, Any]
) -> None:
    bleep = await switchboard_brought_into_an_emergency(ward)
    tokens = await tokens_of(ward)
    await assert_both_ways_refuse_alike(tokens[who], action, path, bleep, body)


async def test_a_socket_write_on_a_bleep_that_is_over_is_refused_in_the_words_rest_uses(
    ward: Ward,
) -> None:
    bleep = await switchboard_brought_into_an_emergency(ward)
    await database_sync_to_async(acknowledge_bleep)(
        device=ward.doctor_device, bleep_id=bleep.pk, eta_minutes=5, comment="", now=timezone.now()
    )
    body = {"reason": "too late"}
    await assert_both_ways_refuse_alike(ward.doctor_token, "decline", "decline", bleep, body)


def stored_bleeps(ward: Ward) -> list[dict[str, Any]]:
    """Return the nurse's stored events' bleeps, oldest first."""
    return [
        event.data["bleep"]
        for event in StreamEvent.objects.filter(user=ward.nurse).order_by("seq")
        if "bleep" in event.data
    ]


def test_rest_and_the_events_describe_a_bleep_alike_key_for_key_and_value_for_value(
    ward: Ward,
) -> None:
    nurse = client_for(ward.nurse_token)
    sent = nurse.post(
        "/api/bleeps",
        {"bleep_number": "2345", "message": "Review bed 4", "bed": "4"},
        format="json",
    ).json()
    assert stored_bleeps(ward) == [sent]
    bleep = send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(ward.switchboard_role, "Lift stuck"),
        now=timezone.now(),
    ).bleep
    operator_token = factories.make_device(ward.operator)[1]
    taken_on = client_for(operator_token).post(
        f"/api/bleeps/{bleep.pk}/handle", {"note": "phoning the lift engineer"}, format="json"
    )
    handling = stored_bleeps(ward)[-1]
    assert handling["handling"][0]["note"] == "phoning the lift engineer"
    detail = nurse.get(f"/api/bleeps/{bleep.pk}").json()
    assert handling == taken_on.json()
    assert handling == {key: value for key, value in detail.items() if key in handling}
    listed = {row["id"]: row for row in nurse.get("/api/bleeps/sent").json()["results"]}
    assert listed == {sent["id"]: sent, bleep.pk: handling}


def test_the_rest_schema_names_exactly_the_fields_a_bleep_is_described_with(ward: Ward) -> None:
    sent = client_for(ward.nurse_token).post(
        "/api/bleeps", {"bleep_number": "2345", "message": "Review bed 4"}, format="json"
    )
    described = sent.json()
    assert list(BleepSerializer().fields) == list(described)
    assert list(DeliverySerializer().fields) == list(described["deliveries"][0])
