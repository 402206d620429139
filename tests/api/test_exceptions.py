"""Errors become the API's one JSON shape; a database that cannot answer is a 503 to retry."""

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.middleware.common import CommonMiddleware
from django.test import Client
from psycopg_pool import PoolTimeout

from bleep.database import RETRY_AFTER_SECONDS
from messaging.models import Bleep
from tests.api.test_bleeps import nothing_stored
from tests.conftest import Ward, client_for

UNAVAILABLE = [
    OperationalError("server closed the connection unexpectedly"),
    InterfaceError("connection already closed"),
    PoolTimeout("couldn't get a connection after 1.00 sec"),
]


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["code"] == "database_unavailable"
    assert "try again" in response.json()["detail"]


@pytest.mark.hazard("HZ-16")
@pytest.mark.parametrize("error", UNAVAILABLE, ids=lambda error: type(error).__name__)
def test_an_api_call_that_cannot_reach_the_database_answers_json_503_with_retry_after(
    ward: Ward, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    def unavailable(**kwargs: Any) -> None:
        raise error

    # A token's lookup is the first thing every signed-in call asks of the database.
    monkeypatch.setattr("api.authentication.authenticate_device", unavailable)
    response = client_for(ward.nurse_token).get("/api/me")
    assert_unavailable(response)


@pytest.mark.hazard("HZ-16")
def test_a_send_the_database_fails_half_way_stores_nothing_and_its_retry_makes_one_bleep(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    nurse = client_for(ward.nurse_token)
    body = {"bleep_number": "2345", "message": "Bed 4 NEWS 7", "idempotency_key": "k-1"}

    def connection_lost(**kwargs: Any) -> None:
        raise OperationalError("terminating connection due to administrator command")

    with monkeypatch.context() as patch:
        # After the bleep and its deliveries are written, inside the send's transaction.
        patch.setattr("escalation.services.sending.push_to", connection_lost)
        assert_unavailable(nurse.post("/api/bleeps", body, format="json"))
    assert nothing_stored()

    first = nurse.post("/api/bleeps", body, format="json")
    again = nurse.post("/api/bleeps", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Bleep.objects.count() == 1


@pytest.mark.hazard("HZ-16")
def test_a_database_failure_outside_the_api_views_is_json_503_not_djangos_html_page(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = False

    def unavailable(self: CommonMiddleware, request: Any) -> None:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(CommonMiddleware, "process_request", unavailable)
    response = Client(raise_request_exception=False).get("/api/me")
    assert_unavailable(response)


def test_any_other_failure_under_the_api_is_json_500_and_the_app_keeps_its_page(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.DEBUG = False

    def broken(self: CommonMiddleware, request: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CommonMiddleware, "process_request", broken)
    client = Client(raise_request_exception=False)
    api = client.get("/api/me")
    assert api.status_code == 500
    assert api.json() == {"code": "server_error", "detail": "something went wrong on the server"}
    page = client.get("/")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
