"""Decline, cancel, reply, read, idempotent sends, NHS numbers and the switchboard's board."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from escalation.services.firing import fire_due_deadlines
from messaging.models import Bleep, StreamEvent
from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for

# A valid NHS number from the NHS Data Dictionary's worked example of Modulus 11.
VALID_NHS_NUMBER = "9434765919"


def send(ward: Ward, **body: Any) -> Any:
    fields = {"bleep_number": "2345", "message": "Review bed 4", **body}
    return client_for(ward.nurse_token).post("/api/bleeps", fields, format="json")


def events_of(person: Person) -> list[str]:
    return list(
        StreamEvent.objects.filter(user=person).order_by("seq").values_list("type", flat=True)
    )


def test_a_valid_nhs_number_is_kept_and_spaces_are_dropped(ward: Ward) -> None:
    response = send(ward, nhs_number="943 476 5919")
    assert response.status_code == 201
    assert response.json()["nhs_number"] == VALID_NHS_NUMBER


@pytest.mark.parametrize("number", ["9434765918", "943476591", "94347659190", "abcdefghij"])
def test_an_nhs_number_that_fails_modulus_11_is_a_400_naming_the_field(
    ward: Ward, number: str
) -> None:
    response = send(ward, nhs_number=number)
    assert response.status_code == 400
    assert "nhs_number" in response.json()["fields"]
    assert not Bleep.objects.exists()


@pytest.mark.hazard("HZ-11")
def test_sending_the_same_idempotency_key_again_returns_the_same_bleep(ward: Ward) -> None:
    first = send(ward, idempotency_key="phone-1-0001")
    again = send(ward, idempotency_key="phone-1-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Bleep.objects.count() == 1
    assert events_of(ward.doctor) == ["bleep.created"]


def test_two_senders_may_use_the_same_key(ward: Ward) -> None:
    send(ward, idempotency_key="k")
    other_nurse = factories.make_person("beth.turner", job=Person.Job.NURSE)
    _, token = factories.make_device(other_nurse)
    response = client_for(token).post(
        "/api/bleeps",
        {"bleep_number": "2345", "message": "x", "idempotency_key": "k"},
        format="json",
    )
    assert response.status_code == 201
    assert Bleep.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.hazard("HZ-11")
def test_a_retried_send_racing_the_first_still_makes_one_bleep(ward: Ward) -> None:
    start = threading.Barrier(2)
    codes: list[int] = []

    def post() -> None:
        try:
            start.wait(timeout=10)
            codes.append(send(ward, idempotency_key="race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(codes) == [200, 201]
    assert Bleep.objects.count() == 1


def sent(ward: Ward) -> int:
    return int(send(ward).json()["id"])


def test_a_doctor_declines_with_a_reason_and_the_bleep_stays_open(ward: Ward) -> None:
    bleep_id = sent(ward)
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/decline", {"reason": "in theatre"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open"
    assert body["deliveries"][0]["status"] == "declined"
    assert body["deliveries"][0]["decline_reason"] == "in theatre"
    assert events_of(ward.nurse) == ["bleep.created", "bleep.declined"]


def test_a_decline_needs_a_reason(ward: Ward) -> None:
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{sent(ward)}/decline", {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_declining_an_acknowledged_bleep_is_a_409_stating_the_state(ward: Ward) -> None:
    bleep_id = sent(ward)
    doctor = client_for(ward.doctor_token)
    doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", {}, format="json")
    response = doctor.post(f"/api/bleeps/{bleep_id}/decline", {"reason": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["current"] == "acknowledged"


@pytest.mark.hazard("HZ-06")
def test_the_sender_cancels_and_nothing_happens_after(ward: Ward) -> None:
    bleep_id = sent(ward)
    response = client_for(ward.nurse_token).post(f"/api/bleeps/{bleep_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["deliveries"][0]["status"] == "cancelled"

    doctor = client_for(ward.doctor_token)
    acknowledged = doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", {}, format="json")
    assert acknowledged.status_code == 409
    assert acknowledged.json()["current"] == "cancelled"
    assert doctor.post(f"/api/bleeps/{bleep_id}/read").status_code == 200
    assert fire_due_deadlines(now=timezone.now() + timedelta(hours=1)) == 1
    assert events_of(ward.doctor) == ["bleep.created", "bleep.cancelled"]


def test_a_recipient_cannot_cancel_and_a_stranger_is_told_nothing(ward: Ward) -> None:
    bleep_id = sent(ward)
    assert client_for(ward.doctor_token).post(f"/api/bleeps/{bleep_id}/cancel").status_code == 403
    stranger = factories.make_person("x.y", job=Person.Job.NURSE)
    _, token = factories.make_device(stranger)
    assert client_for(token).post(f"/api/bleeps/{bleep_id}/cancel").status_code == 404


def test_switchboard_may_cancel_any_open_bleep(ward: Ward) -> None:
    bleep_id = sent(ward)
    _, token = factories.make_device(ward.operator)
    assert client_for(token).post(f"/api/bleeps/{bleep_id}/cancel").status_code == 200


def test_a_reply_is_in_the_thread_and_reaches_both_sides(ward: Ward) -> None:
    bleep_id = sent(ward)
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/replies", {"text": "call me on 4321"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["text"] == "call me on 4321"
    detail = client_for(ward.nurse_token).get(f"/api/bleeps/{bleep_id}").json()
    assert [r["text"] for r in detail["replies"]] == ["call me on 4321"]
    assert events_of(ward.nurse)[-1] == "bleep.reply"
    assert events_of(ward.doctor)[-1] == "bleep.reply"


def test_a_reply_over_the_limit_is_a_400_and_a_stranger_cannot_reply(ward: Ward) -> None:
    bleep_id = sent(ward)
    too_long = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/replies", {"text": "x" * 501}, format="json"
    )
    assert too_long.status_code == 400
    assert "text" in too_long.json()["fields"]
    stranger = factories.make_person("x.y")
    _, token = factories.make_device(stranger)
    response = client_for(token).post(
        f"/api/bleeps/{bleep_id}/replies", {"text": "hi"}, format="json"
    )
    assert response.status_code == 404


def test_one_bleep_shows_its_history_in_order(ward: Ward) -> None:
    bleep_id = sent(ward)
    doctor = client_for(ward.doctor_token)
    doctor.post(f"/api/bleeps/{bleep_id}/read")
    doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", {"eta_minutes": 5}, format="json")
    history = client_for(ward.nurse_token).get(f"/api/bleeps/{bleep_id}").json()["history"]
    assert [(h["action"], h["to_status"]) for h in history] == [
        ("send", "open"),
        ("send", "sent"),
        ("read", "read"),
        ("acknowledge", "acknowledged"),
        ("acknowledge", "acknowledged"),
    ]
    assert history[2]["device"] == "phone"


def test_my_sent_list_shows_what_i_sent_newest_first(ward: Ward) -> None:
    first, second = sent(ward), sent(ward)
    listed = client_for(ward.nurse_token).get("/api/bleeps/sent").json()["results"]
    assert [b["id"] for b in listed] == [second, first]
    assert client_for(ward.doctor_token).get("/api/bleeps/sent").json()["results"] == []


def test_the_switchboard_board_lists_open_bleeps_oldest_first_with_their_age(ward: Ward) -> None:
    first, second = sent(ward), sent(ward)
    client_for(ward.nurse_token).post(f"/api/bleeps/{second}/cancel")
    _, token = factories.make_device(ward.operator)
    board = client_for(token).get("/api/switchboard/bleeps").json()["results"]
    assert [b["id"] for b in board] == [first]
    assert board[0]["age_seconds"] >= 0


@pytest.mark.parametrize("who", ["nurse", "doctor"])
def test_only_switchboard_sees_the_board(ward: Ward, who: str) -> None:
    token = ward.nurse_token if who == "nurse" else ward.doctor_token
    assert client_for(token).get("/api/switchboard/bleeps").status_code == 403


def test_signed_out_nobody_reaches_a_bleep_endpoint(ward: Ward) -> None:
    bleep_id = sent(ward)
    for path in ("", "/read", "/decline", "/cancel", "/replies", "/acknowledge"):
        assert APIClient().post(f"/api/bleeps/{bleep_id}{path}").status_code == 401


def test_a_cancelled_bleep_takes_no_more_replies(ward: Ward) -> None:
    bleep_id = sent(ward)
    client_for(ward.nurse_token).post(f"/api/bleeps/{bleep_id}/cancel")
    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/replies", {"text": "coming"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["current"] == "cancelled"
