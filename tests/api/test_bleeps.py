import json
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from escalation.models import Deadline
from messaging.models import Bleep, Delivery, HistoryEntry, StreamEvent
from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for


def send(client: APIClient, **body: object) -> Any:
    return client.post("/api/bleeps", body, format="json")


def nothing_stored() -> bool:
    return not (
        Bleep.objects.exists()
        or Delivery.objects.exists()
        or HistoryEntry.objects.exists()
        or StreamEvent.objects.exists()
        or Deadline.objects.exists()
    )


@pytest.mark.hazard("HZ-01")
def test_a_nurse_bleeps_a_role_by_number_and_its_holder_is_the_recipient(ward: Ward) -> None:
    response = send(
        client_for(ward.nurse_token),
        bleep_number="2345",
        priority="urgent",
        message="Bed 4 NEWS 7",
        bed="4",
        callback_extension="4321",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open"
    assert body["role"]["bleep_number"] == "2345"
    assert [d["recipient"]["id"] for d in body["deliveries"]] == [ward.doctor.pk]
    assert body["deliveries"][0]["status"] == "sent"
    assert Deadline.objects.filter(bleep_id=body["id"], step=1).exists()


@pytest.mark.hazard("HZ-26")
def test_a_bleep_names_its_senders_job_so_a_recipient_knows_who_is_calling(ward: Ward) -> None:
    body = send(client_for(ward.nurse_token), bleep_number="2345", message="Review please").json()
    assert body["sender"] == {"id": ward.nurse.pk, "name": str(ward.nurse), "job": "nurse"}
    inbox = client_for(ward.doctor_token).get("/api/bleeps").json()["results"]
    assert inbox[0]["sender"]["job"] == "nurse"


def test_a_nurse_bleeps_a_role_by_id(ward: Ward) -> None:
    response = send(client_for(ward.nurse_token), role=ward.role.pk, message="Review please")
    assert response.status_code == 201
    assert response.json()["answering_role"]["id"] == ward.role.pk


@pytest.mark.hazard("HZ-02")
def test_a_role_with_no_holder_goes_to_its_fallback(ward: Ward) -> None:
    gap = factories.make_role("F1 Ward 7 cover", bleep_number="2001", fallback=ward.role)
    response = send(client_for(ward.nurse_token), role=gap.pk, message="Fluids please")
    assert response.status_code == 201
    assert response.json()["answering_role"]["id"] == ward.role.pk
    assert response.json()["deliveries"][0]["recipient"]["id"] == ward.doctor.pk


def test_a_nurse_bleeps_a_person_by_name_and_only_they_are_the_recipient(ward: Ward) -> None:
    response = send(client_for(ward.nurse_token), person=ward.doctor.pk, message="Call me")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["role"] is None
    assert body["answering_role"] is None
    assert body["person"]["id"] == ward.doctor.pk
    assert [(d["recipient"]["id"], d["role"]) for d in body["deliveries"]] == [
        (ward.doctor.pk, None)
    ]
    assert Deadline.objects.filter(bleep_id=body["id"], step=1).exists()


def test_a_bleep_to_a_role_records_the_role_each_recipient_was_reached_as(ward: Ward) -> None:
    gap = factories.make_role("F1 Ward 7 cover", bleep_number="2001", fallback=ward.role)
    response = send(client_for(ward.nurse_token), role=gap.pk, message="Fluids please")
    assert response.json()["deliveries"][0]["role"] == ward.role.pk


def test_a_disabled_person_cannot_be_bleeped_by_name(ward: Ward) -> None:
    Person.objects.filter(pk=ward.doctor.pk).update(is_active=False)
    response = send(client_for(ward.nurse_token), person=ward.doctor.pk, message="Call me")
    assert response.status_code == 400
    assert response.json()["fields"] == {"person": ["no such person"]}
    assert nothing_stored()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"person": 999999, "message": "x"}, "person"),
        ({"person": "someone", "message": "x"}, "person"),
        ({"bleep_number": "2345", "person": 1, "message": "x"}, "role"),
        ({"bleep_number": "9999", "message": "x"}, "bleep_number"),
        ({"role": 999999, "message": "x"}, "role"),
        ({"message": "x"}, "role"),
        ({"bleep_number": "2345"}, "message"),
        ({"bleep_number": "2345", "message": ""}, "message"),
        ({"bleep_number": "2345", "message": "x" * 501}, "message"),
        ({"bleep_number": "2345", "message": "x", "priority": "whenever"}, "priority"),
        ({"bleep_number": "2345", "message": "x", "role": "abc"}, "role"),
        ({"bleep_number": "2345", "message": "x", "location": 999999}, "location"),
        (
            {"bleep_number": "2345", "message": "x", "callback_extension": "ext 4"},
            "callback_extension",
        ),
        ({"bleep_number": "2345", "message": "x", "bed_no": "4"}, "bed_no"),
        ({"bleep_number": "2345", "message": ["x"]}, "message"),
    ],
)
@pytest.mark.hazard("HZ-11")
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_stored(
    ward: Ward, body: dict[str, object], field: str
) -> None:
    response = send(client_for(ward.nurse_token), **body)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert nothing_stored()


def test_malformed_json_is_a_400_that_says_so(ward: Ward) -> None:
    response = client_for(ward.nurse_token).post(
        "/api/bleeps", data='{"bleep_number": "2345", ', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert nothing_stored()


def test_a_json_array_instead_of_an_object_is_a_400(ward: Ward) -> None:
    response = client_for(ward.nurse_token).post(
        "/api/bleeps", data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400
    assert nothing_stored()


def test_an_oversize_body_is_a_413_and_nothing_is_stored(ward: Ward) -> None:
    body = json.dumps({"bleep_number": "2345", "message": "x", "bed": "y" * 100_000})
    response = client_for(ward.nurse_token).post(
        "/api/bleeps", data=body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "detail": "the request body is larger than the 65,536 bytes allowed here",
        "limit_bytes": 65_536,
    }
    assert nothing_stored()


@pytest.mark.hazard("HZ-02")
def test_a_role_nobody_holds_down_the_whole_chain_is_a_409_telling_the_nurse_to_phone(
    ward: Ward,
) -> None:
    empty = factories.make_role("Night physio", bleep_number="2700")
    response = send(client_for(ward.nurse_token), role=empty.pk, message="Chest physio")
    assert response.status_code == 409
    assert "switchboard" in response.json()["detail"]
    assert nothing_stored()


def test_the_doctor_acknowledges_over_rest_and_the_bleep_is_acknowledged(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/acknowledge",
        {"eta_minutes": 10, "comment": "coming"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"]["id"] == ward.doctor.pk
    assert response.json()["deliveries"][0]["eta_minutes"] == 10


@pytest.mark.hazard("HZ-09")
def test_acknowledging_twice_is_a_409_that_states_the_current_state(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    doctor = client_for(ward.doctor_token)
    doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", {}, format="json")
    response = doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", {}, format="json")
    assert response.status_code == 409
    assert response.json()["current"] == "acknowledged"


def test_an_eta_out_of_range_is_a_400_naming_the_field(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/acknowledge", {"eta_minutes": -5}, format="json"
    )
    assert response.status_code == 400
    assert "eta_minutes" in response.json()["fields"]


@pytest.mark.hazard("HZ-08")
def test_someone_elses_bleep_is_a_404_not_a_403(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    stranger = factories.make_person("other.nurse", job=Person.Job.NURSE)
    _, token = factories.make_device(stranger)
    assert client_for(token).get(f"/api/bleeps/{bleep_id}").status_code == 404
    assert client_for(token).post(f"/api/bleeps/{bleep_id}/acknowledge").status_code == 404
    assert client_for(token).get("/api/bleeps/999999").status_code == 404


def test_sender_recipient_and_switchboard_can_see_a_bleep(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    _, operator_token = factories.make_device(ward.operator)
    for token in (ward.nurse_token, ward.doctor_token, operator_token):
        assert client_for(token).get(f"/api/bleeps/{bleep_id}").status_code == 200


def test_the_sender_cannot_acknowledge_their_own_bleep(ward: Ward) -> None:
    bleep_id = send(client_for(ward.nurse_token), bleep_number="2345", message="x").json()["id"]
    response = client_for(ward.nurse_token).post(f"/api/bleeps/{bleep_id}/acknowledge")
    assert response.status_code == 403


def test_the_inbox_lists_open_bleeps_sent_to_me_newest_first(ward: Ward) -> None:
    nurse = client_for(ward.nurse_token)
    first = send(nurse, bleep_number="2345", message="first").json()["id"]
    second = send(nurse, bleep_number="2345", message="second").json()["id"]
    inbox = client_for(ward.doctor_token).get("/api/bleeps").json()["results"]
    assert [b["id"] for b in inbox] == [second, first]
    assert client_for(ward.nurse_token).get("/api/bleeps").json()["results"] == []


def test_the_on_call_directory_lists_each_role_with_its_holders_now(ward: Ward) -> None:
    rows = client_for(ward.nurse_token).get("/api/on-call").json()["results"]
    by_number = {row["role"]["bleep_number"]: row for row in rows}
    assert [h["id"] for h in by_number["2345"]["holders"]] == [ward.doctor.pk]


@pytest.mark.django_db
def test_the_openapi_schema_and_its_browsable_docs_are_served() -> None:
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/bleeps" in schema.content
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_the_openapi_schema_builds_without_a_single_warning(tmp_path: Any) -> None:
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "bearer" in (tmp_path / "schema.yaml").read_text()
