"""My numbers over REST: add, verify with the code texted to it, remove; the test of my
phone; and who cannot be reached, for switchboard."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from messaging.fallback.sender import send_due_messages
from messaging.services.reachability import check_coming_shifts
from tests import factories
from tests.conftest import Ward, client_for
from tests.notify_service import NotifyService

pytestmark = pytest.mark.django_db


def test_a_doctor_adds_a_mobile_and_verifies_it_with_the_code_texted_to_it(
    ward: Ward, notify: NotifyService
) -> None:
    client = client_for(ward.doctor_token)
    added = client.post(
        "/api/me/contacts", {"kind": "sms", "address": "07700 900123"}, format="json"
    )
    assert added.status_code == 201, added.json()
    assert (added.json()["address"], added.json()["verified"]) == ("+447700900123", False)
    send_due_messages(now=timezone.now())
    [text] = notify.texts
    code = re.search(r"\b(\d{6})\b", text.body).group(1)  # type: ignore[union-attr]
    url = f"/api/me/contacts/{added.json()['id']}/verify"
    wrong = client.post(url, {"code": "000000" if code != "000000" else "111111"}, format="json")
    assert wrong.status_code == 400 and "code" in wrong.json()["fields"]
    right = client.post(url, {"code": code}, format="json")
    assert right.status_code == 200 and right.json()["verified"] is True
    listed = client.get("/api/me/contacts").json()
    assert [c["verified"] for c in listed["results"]] == [True]


def test_a_number_that_is_not_a_mobile_is_refused_naming_the_field(
    ward: Ward, notify: NotifyService
) -> None:
    answer = client_for(ward.doctor_token).post(
        "/api/me/contacts", {"kind": "sms", "address": "call me"}, format="json"
    )
    assert answer.status_code == 400 and "address" in answer.json()["fields"]


def test_with_no_text_messages_set_up_a_number_is_refused_naming_the_kind(ward: Ward) -> None:
    answer = client_for(ward.doctor_token).post(
        "/api/me/contacts", {"kind": "sms", "address": "07700900123"}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["fields"] == {"kind": ["text messages are not set up on this server"]}


def test_someone_elses_number_answers_not_found(ward: Ward, notify: NotifyService) -> None:
    added = client_for(ward.doctor_token).post(
        "/api/me/contacts", {"kind": "sms", "address": "07700900123"}, format="json"
    )
    nurse = client_for(ward.nurse_token)
    assert nurse.delete(f"/api/me/contacts/{added.json()['id']}").status_code == 404
    verify = nurse.post(
        f"/api/me/contacts/{added.json()['id']}/verify", {"code": "123456"}, format="json"
    )
    assert verify.status_code == 404


def test_a_new_code_waits_a_minute(ward: Ward, notify: NotifyService) -> None:
    client = client_for(ward.doctor_token)
    added = client.post(
        "/api/me/contacts", {"kind": "sms", "address": "07700900123"}, format="json"
    ).json()
    again = client.post(f"/api/me/contacts/{added['id']}/code")
    assert again.status_code == 400 and "code" in again.json()["fields"]


def test_test_my_phone_is_confirmed_by_the_device(ward: Ward) -> None:
    client = client_for(ward.doctor_token)
    test = client.post("/api/me/phone-tests")
    assert test.status_code == 201 and test.json()["confirmed_at"] is None
    confirmed = client.post(f"/api/me/phone-tests/{test.json()['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["confirmed_at"]
    other = client_for(ward.nurse_token).post(f"/api/me/phone-tests/{test.json()['id']}/confirm")
    assert other.status_code == 404


@pytest.mark.hazard("HZ-27")
def test_switchboard_sees_who_cannot_be_reached_and_the_board_counts_them(ward: Ward) -> None:
    role = factories.make_role("Night registrar", bleep_number="2400")
    factories.make_shift(role, ward.doctor, ward.now + timedelta(minutes=30))
    check_coming_shifts(now=ward.now)
    _, operator_token = factories.make_device(ward.operator)
    operator = client_for(operator_token)
    warnings = operator.get("/api/contactability/warnings").json()
    assert [w["person"]["id"] for w in warnings["results"]] == [ward.doctor.pk]
    assert operator.get("/api/switchboard/bleeps").json()["unreachable"] == 1
    assert client_for(ward.nurse_token).get("/api/contactability/warnings").json()["count"] == 0
    without = operator.get("/api/contactability/without-number").json()
    assert ward.doctor.pk in [p["id"] for p in without["results"]]
