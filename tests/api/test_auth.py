from datetime import datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from messaging.actions import WORDS
from messaging.models import Device
from tests import factories
from tests.conftest import Ward, client_for


@pytest.mark.django_db
@pytest.mark.hazard("HZ-08")
def test_login_returns_a_token_for_a_new_device_and_stores_only_its_digest() -> None:
    factories.make_person("omar.haddad")
    response = APIClient().post(
        "/api/auth/login",
        {"username": "omar.haddad", "password": factories.PASSWORD, "device_name": "Pixel"},
        format="json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    device = Device.objects.get(pk=response.json()["device"]["id"])
    assert device.name == "Pixel"
    assert token not in device.token_digest
    assert client_for(token).get("/api/me").json()["username"] == "omar.haddad"


@pytest.mark.django_db
def test_one_person_may_hold_several_devices_each_with_its_own_token() -> None:
    doctor = factories.make_person("omar.haddad")
    _, first = factories.make_device(doctor, "phone")
    _, second = factories.make_device(doctor, "tablet")
    assert first != second
    assert client_for(first).get("/api/me").status_code == 200
    assert client_for(second).get("/api/me").status_code == 200


@pytest.mark.django_db
def test_a_wrong_password_is_refused_401_without_saying_which_part_was_wrong() -> None:
    factories.make_person("omar.haddad")
    response = APIClient().post(
        "/api/auth/login", {"username": "omar.haddad", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_a_disabled_account_cannot_sign_in() -> None:
    factories.make_person("left.trust", is_active=False)
    response = APIClient().post(
        "/api/auth/login",
        {"username": "left.trust", "password": factories.PASSWORD},
        format="json",
    )
    assert response.status_code == 401


def test_logout_revokes_only_this_devices_token(ward: Ward) -> None:
    _, other_token = factories.make_device(ward.doctor, "tablet")
    assert client_for(ward.doctor_token).post("/api/auth/logout").status_code == 204
    assert client_for(ward.doctor_token).get("/api/me").status_code == 401
    assert client_for(other_token).get("/api/me").status_code == 200


@pytest.mark.django_db
def test_a_request_without_a_token_is_refused_with_a_bearer_challenge() -> None:
    response = APIClient().get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
@pytest.mark.hazard("HZ-08")
def test_a_token_in_the_query_string_is_not_accepted() -> None:
    doctor = factories.make_person("omar.haddad")
    _, token = factories.make_device(doctor)
    assert APIClient().get(f"/api/me?token={token}").status_code == 401


def test_i_see_my_live_devices_with_the_current_one_marked(ward: Ward) -> None:
    _, tablet_token = factories.make_device(ward.doctor, "tablet")
    factories.make_device(ward.nurse, "nurse phone")
    devices = client_for(ward.doctor_token).get("/api/auth/devices").json()["results"]
    assert sorted((d["name"], d["current"]) for d in devices) == [
        ("phone", True),
        ("tablet", False),
    ]


def test_signing_out_a_lost_phone_from_another_device_revokes_its_token(ward: Ward) -> None:
    _, tablet_token = factories.make_device(ward.doctor, "tablet")
    response = client_for(tablet_token).delete(f"/api/auth/devices/{ward.doctor_device.pk}")
    assert response.status_code == 204
    assert client_for(ward.doctor_token).get("/api/me").status_code == 401
    names = [d["name"] for d in client_for(tablet_token).get("/api/auth/devices").json()["results"]]
    assert names == ["tablet"]


def test_someone_elses_device_cannot_be_signed_out_and_answers_404(ward: Ward) -> None:
    response = client_for(ward.nurse_token).delete(f"/api/auth/devices/{ward.doctor_device.pk}")
    assert response.status_code == 404
    assert client_for(ward.doctor_token).get("/api/me").status_code == 200


def age_devices(days: int) -> None:
    """Move every device's sign-in and last use `days` days into the past."""
    for device in Device.objects.all():
        Device.objects.filter(pk=device.pk).update(
            created_at=device.created_at - timedelta(days=days),
            last_seen_at=device.last_seen_at - timedelta(days=days),
        )


def test_an_expired_token_answers_401_like_an_invalid_one(ward: Ward) -> None:
    age_devices(31)
    expired = client_for(ward.doctor_token).get("/api/me")
    invalid = client_for("not-a-token").get("/api/me")
    assert expired.status_code == invalid.status_code == 401
    assert expired.json() == invalid.json()


def test_me_carries_when_this_devices_token_expires(ward: Ward) -> None:
    me = client_for(ward.doctor_token).get("/api/me").json()
    device = Device.objects.get(pk=ward.doctor_device.pk)
    assert me["device"]["id"] == device.pk
    expires_at = datetime.fromisoformat(me["device"]["expires_at"])
    assert expires_at == device.last_seen_at + timedelta(days=30)


def test_my_devices_list_says_when_each_expires(ward: Ward) -> None:
    signed_in = ward.doctor_device.created_at - timedelta(days=70)
    Device.objects.filter(pk=ward.doctor_device.pk).update(created_at=signed_in)
    devices = client_for(ward.doctor_token).get("/api/auth/devices").json()["results"]
    device = Device.objects.get(pk=ward.doctor_device.pk)
    assert [datetime.fromisoformat(d["expires_at"]) for d in devices] == [
        device.created_at + timedelta(days=90)
    ]


def test_signing_in_with_end_other_sessions_ends_my_other_devices(ward: Ward) -> None:
    response = APIClient().post(
        "/api/auth/login",
        {
            "username": ward.doctor.username,
            "password": factories.PASSWORD,
            "end_other_sessions": True,
        },
        format="json",
    )
    assert response.status_code == 201
    assert client_for(ward.doctor_token).get("/api/me").status_code == 401
    assert client_for(response.json()["token"]).get("/api/me").status_code == 200
    assert client_for(ward.nurse_token).get("/api/me").status_code == 200


def test_end_other_sessions_that_is_not_a_yes_or_no_is_refused_naming_the_field() -> None:
    response = APIClient().post(
        "/api/auth/login",
        {"username": "x", "password": "y", "end_other_sessions": "perhaps"},
        format="json",
    )
    assert response.status_code == 400
    assert "end_other_sessions" in str(response.json())


def test_me_serves_the_words_the_app_shows_for_every_action_step_and_status(ward: Ward) -> None:
    words = client_for(ward.doctor_token).get("/api/me").json()["words"]

    assert words == WORDS
    assert words["statuses"]["handling"] == "Handling"
    assert words["steps"]["notify_switchboard"] == "bring in switchboard"
    assert words["jobs"]["nurse"] == "Nurse / ward staff"


@pytest.mark.parametrize(("configured", "served"), [("", ""), ("01632 96", "0163296")])
def test_me_tells_the_app_what_to_dial_before_a_callback_extension(
    ward: Ward, settings: Any, configured: str, served: str
) -> None:
    settings.CALLBACK_DIAL_PREFIX = configured.replace(" ", "")
    assert client_for(ward.doctor_token).get("/api/me").json()["dial_prefix"] == served
