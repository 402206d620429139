"""Sign-in throttling: failures by account and client address, lockout, unlocking, passwords."""

import io
import logging
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from channels.testing import WebsocketCommunicator
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bleep.asgi import application
from bleep.config import client_address_settings
from messaging.models import Device
from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for

WRONG = "not-the-password"
LIMIT = 5
COOL_OFF = timedelta(minutes=15)
HOSPITAL_PROXY = "10.0.0.1"


@pytest.fixture(autouse=True)
def throttle(settings: Any) -> None:
    """Pin the limits these tests count against, whatever the environment says."""
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = COOL_OFF


@pytest.fixture
def behind_one_proxy(settings: Any) -> None:
    """Configure TRUSTED_PROXY_COUNT=1, as the settings module would."""
    order, count = client_address_settings(1)
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = order
    settings.AXES_IPWARE_PROXY_COUNT = count


def sign_in(
    password: str,
    *,
    username: str = "omar.haddad",
    address: str = "127.0.0.1",
    forwarded_for: str | None = None,
) -> Any:
    headers: dict[str, Any] = {"REMOTE_ADDR": address}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    body = {"username": username, "password": password, "device_name": "phone"}
    return APIClient().post("/api/auth/login", body, format="json", **headers)


def lock_out(**where: Any) -> Any:
    """Fail LIMIT times; return the last answer, the one that locks."""
    for _ in range(LIMIT - 1):
        assert sign_in(WRONG, **where).status_code == 401
    return sign_in(WRONG, **where)


def assert_locked_out(response: Any) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(COOL_OFF.total_seconds()))
    body = response.json()
    assert body["code"] == "locked_out"
    assert body["retry_after"] == int(COOL_OFF.total_seconds())
    assert "15 minutes" in body["detail"]
    assert "retry_at" in body


def test_wrong_passwords_below_the_limit_answer_401_as_before(ward: Ward) -> None:
    for _ in range(LIMIT - 1):
        response = sign_in(WRONG)
        assert response.status_code == 401
        assert response.json()["code"] == "invalid_credentials"
    assert sign_in(factories.PASSWORD).status_code == 201


def test_the_fifth_wrong_password_locks_the_account_with_429_and_retry_after(ward: Ward) -> None:
    assert_locked_out(lock_out())


def test_the_right_password_is_refused_while_locked_out(ward: Ward) -> None:
    lock_out()
    assert_locked_out(sign_in(factories.PASSWORD))
    assert Device.objects.filter(user=ward.doctor).count() == 1


def test_a_lockout_holds_only_that_account_from_that_address(ward: Ward) -> None:
    lock_out(address="10.20.0.5")
    assert sign_in(factories.PASSWORD, address="10.20.0.6").status_code == 201
    assert sign_in(
        factories.PASSWORD, username="amina.okafor", address="10.20.0.5"
    ).status_code == (201)


def test_a_rotating_x_forwarded_for_does_not_bypass_the_lockout_without_trusted_proxies(
    ward: Ward,
) -> None:
    for n in range(LIMIT - 1):
        assert sign_in(WRONG, forwarded_for=f"81.2.69.{n}").status_code == 401
    assert_locked_out(sign_in(WRONG, forwarded_for="81.2.69.200"))
    assert_locked_out(sign_in(factories.PASSWORD, forwarded_for="81.2.69.201"))


def test_behind_one_trusted_proxy_the_client_address_is_the_one_the_proxy_appended(
    ward: Ward, behind_one_proxy: None
) -> None:
    # The client writes its own X-Forwarded-For; the proxy appends the address it saw.
    for n in range(LIMIT - 1):
        chain = f"81.2.69.{n}, 10.20.0.5"
        assert sign_in(WRONG, address=HOSPITAL_PROXY, forwarded_for=chain).status_code == 401
    chain = "81.2.69.200, 10.20.0.5"
    assert_locked_out(sign_in(WRONG, address=HOSPITAL_PROXY, forwarded_for=chain))
    # The same phone without a header of its own is the same client, still locked out.
    alone = sign_in(factories.PASSWORD, address=HOSPITAL_PROXY, forwarded_for="10.20.0.5")
    assert_locked_out(alone)
    # Another phone behind the same proxy is a different client, not locked out.
    another = sign_in(factories.PASSWORD, address=HOSPITAL_PROXY, forwarded_for="10.20.0.6")
    assert another.status_code == 201


def test_the_admin_sign_in_page_locks_out_too_with_the_same_answer(ward: Ward) -> None:
    factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="10.20.0.9")
    form = {"username": "root.admin", "password": WRONG, "next": "/admin/"}
    for _ in range(LIMIT - 1):
        assert client.post("/admin/login/", form).status_code == 200
    assert_locked_out(client.post("/admin/login/", form))
    form["password"] = factories.PASSWORD
    assert_locked_out(client.post("/admin/login/", form))


def test_a_lockout_does_not_sign_out_devices_already_signed_in(ward: Ward) -> None:
    lock_out()
    assert client_for(ward.doctor_token).get("/api/me").status_code == 200
    assert Device.objects.get(pk=ward.doctor_device.pk).revoked_at is None


@pytest.mark.django_db(transaction=True)
async def test_a_lockout_leaves_an_open_socket_working(ward: Ward) -> None:
    socket = WebsocketCommunicator(
        application, "/ws", headers=[(b"origin", b"http://127.0.0.1:8000")]
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "auth", "token": ward.doctor_token, "last_seq": 0})
    assert (await socket.receive_json_from())["type"] == "authenticated"
    while (await socket.receive_json_from())["type"] != "caught_up":
        pass

    await sync_to_async(lock_out)()

    await socket.send_json_to({"type": "ping"})
    assert (await socket.receive_json_from())["type"] == "pong"
    await socket.disconnect()


def test_a_rota_manager_clears_a_lockout_over_the_api(ward: Ward) -> None:
    lock_out()
    manager = factories.make_person("rhea.manager", job=Person.Job.ROTA_MANAGER)
    _, token = factories.make_device(manager)
    assert client_for(token).delete("/api/auth/lockouts/omar.haddad").status_code == 204
    assert sign_in(factories.PASSWORD).status_code == 201


def test_a_nurse_cannot_clear_a_lockout(ward: Ward) -> None:
    lock_out()
    response = client_for(ward.nurse_token).delete("/api/auth/lockouts/omar.haddad")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert_locked_out(sign_in(factories.PASSWORD))


def test_a_rota_manager_cannot_clear_an_administrators_lockout(ward: Ward) -> None:
    factories.make_person("root.admin", is_staff=True, is_superuser=True)
    lock_out(username="root.admin")
    manager = factories.make_person("rhea.manager", job=Person.Job.ROTA_MANAGER)
    _, token = factories.make_device(manager)
    assert client_for(token).delete("/api/auth/lockouts/root.admin").status_code == 403
    assert_locked_out(sign_in(factories.PASSWORD, username="root.admin"))


def test_an_administrator_clears_a_lockout_over_the_api(ward: Ward) -> None:
    lock_out()
    admin = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    _, token = factories.make_device(admin)
    assert client_for(token).delete("/api/auth/lockouts/omar.haddad").status_code == 204
    assert sign_in(factories.PASSWORD).status_code == 201


def test_the_axes_reset_username_command_clears_a_lockout(ward: Ward) -> None:
    lock_out()
    call_command("axes_reset_username", "omar.haddad", stdout=io.StringIO())
    assert sign_in(factories.PASSWORD).status_code == 201


def test_an_administrator_clears_a_lockout_in_the_admin(ward: Ward) -> None:
    lock_out()
    admin = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    factories.sign_in_to_admin(client, admin)
    attempt = AccessAttempt.objects.get(username="omar.haddad")
    page = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert client.post(page, {"post": "yes"}).status_code == 302
    assert sign_in(factories.PASSWORD).status_code == 201


def test_every_failure_and_the_lockout_are_logged_at_warning_without_the_password(
    ward: Ward, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        lock_out()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    failures = [m for m in warnings if "login failure by" in m and "omar.haddad" in m]
    assert len(failures) == LIMIT
    assert any("Locking out" in m and "omar.haddad" in m for m in warnings)
    assert not any(WRONG in m for m in caplog.messages)


@pytest.mark.parametrize(
    "password", ["short-pass1", "password1234", "123456789012345", "omar.haddad1"]
)
def test_a_short_common_numeric_or_name_like_password_is_refused(ward: Ward, password: str) -> None:
    with pytest.raises(ValidationError):
        validate_password(password, user=ward.doctor)


def test_the_test_password_meets_the_rules(ward: Ward) -> None:
    validate_password(factories.PASSWORD, user=ward.doctor)


def test_the_admin_refuses_to_set_a_short_password(ward: Ward) -> None:
    admin = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    factories.sign_in_to_admin(client, admin)
    page = f"/admin/rota/person/{ward.doctor.pk}/password/"
    response = client.post(page, {"password1": "short-pass1", "password2": "short-pass1"})
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    ward.doctor.refresh_from_db()
    assert ward.doctor.check_password(factories.PASSWORD)
