"""The access matrix: every bleep endpoint as sender, recipient, another nurse, another doctor,
switchboard and a clinical safety officer (auditor). Outsiders get 404, never 403, so a
bleep's existence does not leak; an auditor reads everything and changes nothing."""

from typing import Any

import pytest

from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for

WHO = ["sender", "recipient", "another_nurse", "another_doctor", "switchboard", "auditor"]

# (method, path after /api/bleeps/{id}, body) -> the status each of WHO gets.
MATRIX: dict[str, tuple[str, str, dict[str, Any], list[int]]] = {
    "read one": ("get", "", {}, [200, 200, 404, 404, 200, 200]),
    "acknowledge": ("post", "/acknowledge", {}, [403, 200, 404, 404, 403, 403]),
    "read receipt": ("post", "/read", {}, [403, 200, 404, 404, 403, 403]),
    "decline": ("post", "/decline", {"reason": "in theatre"}, [403, 200, 404, 404, 403, 403]),
    "cancel": ("post", "/cancel", {}, [200, 403, 404, 404, 200, 403]),
    "reply": ("post", "/replies", {"text": "call me"}, [201, 201, 404, 404, 201, 403]),
}


def tokens(ward: Ward) -> dict[str, str]:
    nurse = factories.make_person("beth.turner", job=Person.Job.NURSE)
    doctor = factories.make_person("tom.fletcher")
    return {
        "sender": ward.nurse_token,
        "recipient": ward.doctor_token,
        "another_nurse": factories.make_device(nurse)[1],
        "another_doctor": factories.make_device(doctor)[1],
        "switchboard": factories.make_device(ward.operator)[1],
        "auditor": factories.make_device(
            factories.make_person("carol.reid", job=Person.Job.AUDITOR)
        )[1],
    }


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("endpoint", list(MATRIX))
@pytest.mark.hazard("HZ-08")
def test_the_bleep_access_matrix(ward: Ward, endpoint: str, who: str) -> None:
    method, path, body, expected = MATRIX[endpoint]
    token = tokens(ward)[who]
    bleep_id = (
        client_for(ward.nurse_token)
        .post("/api/bleeps", {"bleep_number": "2345", "message": "x"}, format="json")
        .json()["id"]
    )
    response = getattr(client_for(token), method)(
        f"/api/bleeps/{bleep_id}{path}", body, format="json"
    )
    assert response.status_code == expected[WHO.index(who)], response.content


@pytest.mark.parametrize("who", WHO)
@pytest.mark.hazard("HZ-08")
def test_lists_show_each_person_only_their_own_bleeps(ward: Ward, who: str) -> None:
    token = tokens(ward)[who]
    client_for(ward.nurse_token).post(
        "/api/bleeps", {"bleep_number": "2345", "message": "x"}, format="json"
    )
    inbox = client_for(token).get("/api/bleeps").json()["results"]
    sent = client_for(token).get("/api/bleeps/sent").json()["results"]
    assert (len(inbox), len(sent)) == {"sender": (0, 1), "recipient": (1, 0)}.get(who, (0, 0))
