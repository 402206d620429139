"""Bad input is a 4xx naming what was wrong, never a 500: deep JSON, dates out of range."""

import logging

import pytest
from django.test import Client

from api.serializers.patterns import ExpandPatternSerializer
from bleep.json_depth import MAX_JSON_DEPTH
from tests.conftest import Ward, client_for


def nested(depth: int) -> str:
    return '{"username": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 20_000])
def test_json_nested_too_deep_answers_400_to_an_anonymous_login(
    depth: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = Client().post("/api/auth/login", nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert f"more than {MAX_JSON_DEPTH} levels" in response.json()["detail"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_json_nested_to_the_limit_is_read_as_usual() -> None:
    response = Client().post(
        "/api/auth/login", nested(MAX_JSON_DEPTH), content_type="application/json"
    )
    # Parsed, then refused by the serializer for what it says, not for how deep it is.
    assert response.status_code == 400
    assert "username" in response.json()["fields"]


OUT_OF_RANGE_QUERIES = [
    ("/api/rota/shifts?from=9999-12-31T23:59:59%2B00:00", "from"),
    ("/api/rota/shifts?from=0001-01-01T00:00:00%2B00:00&to=0001-01-02T00:00:00%2B00:00", "from"),
    ("/api/rota/shifts?to=9999-12-31T23:59:59%2B00:00", "to"),
    ("/api/rota/gaps?from=9999-12-30T00:00:00%2B00:00&to=9999-12-31T00:00:00%2B00:00", "from"),
    ("/api/rota/gaps?from=2026-01-01T00:00:00%2B00:00&to=9999-12-31T23:59:59-12:00", "to"),
    ("/api/rota/exports/shifts.csv?from=9999-12-31T23:59:59%2B00:00", "from"),
    ("/api/rota/exports/shifts.ics?to=0001-01-01T00:00:00%2B00:00", "to"),
    ("/api/on-call?at=9999-12-31T23:59:59%2B00:00", "at"),
]


@pytest.mark.parametrize(("url", "field"), OUT_OF_RANGE_QUERIES)
def test_a_query_date_out_of_range_answers_400_naming_the_field(
    ward: Ward, url: str, field: str
) -> None:
    response = client_for(ward.doctor_token).get(url)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_a_pattern_expanded_to_the_end_of_time_is_refused_naming_the_field() -> None:
    query = ExpandPatternSerializer(data={"from": "9999-12-01", "to": "9999-12-31"})
    assert not query.is_valid()
    assert set(query.errors) == {"from", "to"}


def test_the_last_year_in_range_is_answered_as_usual(ward: Ward) -> None:
    url = "/api/rota/shifts?from=8999-12-31T00:00:00-12:00"
    response = client_for(ward.doctor_token).get(url)
    assert (response.status_code, response.json()["results"]) == (200, [])
