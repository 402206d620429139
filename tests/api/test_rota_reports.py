"""REST for the gaps report and the searchable on-call directory."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from rota.models import Role
from tests import factories
from tests.conftest import Ward, client_for

MONDAY = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)


def gaps_of(ward: Ward, **params: Any) -> Any:
    return client_for(ward.nurse_token).get("/api/rota/gaps", params)


def iso(instant: datetime) -> str:
    return instant.isoformat()


@pytest.fixture
def week(ward: Ward) -> Role:
    """An F1 role of the ward's team with a Monday day shift and nothing else that week."""
    f1 = factories.make_role("F1 Ward 7 cover", bleep_number="2001", fallback=ward.role)
    factories.make_shift(f1, ward.doctor, MONDAY + timedelta(hours=8), hours=12.5)
    return f1


def test_the_gaps_report_lists_each_hole_of_a_role_with_the_role(ward: Ward, week: Role) -> None:
    response = gaps_of(
        ward, **{"from": iso(MONDAY), "to": iso(MONDAY + timedelta(days=1)), "role": week.pk}
    )

    assert response.status_code == 200, response.json()
    rows = response.json()["results"]
    assert [row["role"]["bleep_number"] for row in rows] == ["2001", "2001"]
    assert [(row["start"], row["end"]) for row in rows] == [
        ("2026-01-12T00:00:00Z", "2026-01-12T08:00:00Z"),
        ("2026-01-12T20:30:00Z", "2026-01-13T00:00:00Z"),
    ]


def test_the_gaps_report_shows_times_in_london_wall_clock_with_the_offset(
    ward: Ward, week: Role
) -> None:
    june = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

    rows = gaps_of(
        ward, **{"from": iso(june), "to": iso(june + timedelta(hours=1)), "role": week.pk}
    ).json()["results"]

    assert rows == [
        {
            "role": rows[0]["role"],
            "start": "2026-06-01T10:00:00+01:00",
            "end": "2026-06-01T11:00:00+01:00",
        }
    ]


def test_the_gaps_report_of_a_team_covers_only_that_team_s_roles(ward: Ward, week: Role) -> None:
    surgery = factories.make_team("Surgery")
    factories.make_role("Surgical Registrar", team=surgery, fallback=ward.switchboard_role)
    window = {"from": iso(MONDAY), "to": iso(MONDAY + timedelta(hours=1))}

    everyone = gaps_of(ward, **window).json()["results"]
    surgical = gaps_of(ward, **window, team=surgery.pk).json()["results"]

    assert {row["role"]["team"] for row in everyone} == {"Medicine", "Surgery"}
    assert [row["role"]["name"] for row in surgical] == ["Surgical Registrar"]


def test_a_range_of_exactly_92_days_is_answered(ward: Ward, week: Role) -> None:
    response = gaps_of(ward, **{"from": iso(MONDAY), "to": iso(MONDAY + timedelta(days=92))})

    assert response.status_code == 200


def test_a_range_over_92_days_is_a_400_naming_to(ward: Ward) -> None:
    response = gaps_of(
        ward, **{"from": iso(MONDAY), "to": iso(MONDAY + timedelta(days=92, seconds=1))}
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["to"]


def test_the_92_day_limit_is_measured_in_real_time_across_a_clock_change(ward: Ward) -> None:
    # 92 days and 30 minutes on the clock face, but 91 days 23½ hours of real time.
    window = {"from": "2026-03-01T00:00:00+00:00", "to": "2026-06-01T00:30:00+01:00"}
    response = gaps_of(ward, **window)

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2026-01-13T00:00:00Z"}, "from"),
        ({"from": "2026-01-12T00:00:00Z"}, "to"),
        ({"from": "2026-01-12T00:00:00Z", "to": "2026-01-12T00:00:00Z"}, "to"),
        ({"from": "2026-01-13T00:00:00Z", "to": "2026-01-12T00:00:00Z"}, "to"),
        ({"from": "2026-01-12T00:00:00", "to": "2026-01-13T00:00:00Z"}, "from"),
        ({"from": "next monday", "to": "2026-01-13T00:00:00Z"}, "from"),
        ({"from": "2026-01-12T00:00:00Z", "to": "2026-01-13T00:00:00Z", "role": 999999}, "role"),
        ({"from": "2026-01-12T00:00:00Z", "to": "2026-01-13T00:00:00Z", "team": 999999}, "team"),
        ({"from": "2026-01-12T00:00:00Z", "to": "2026-01-13T00:00:00Z", "rol": 1}, "rol"),
    ],
)
def test_a_bad_gaps_query_is_a_400_naming_the_parameter(
    ward: Ward, params: dict[str, Any], field: str
) -> None:
    response = gaps_of(ward, **params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]


def test_the_gaps_report_needs_a_signed_in_person(ward: Ward) -> None:
    response = APIClient().get(
        "/api/rota/gaps", {"from": iso(MONDAY), "to": iso(MONDAY + timedelta(days=1))}
    )

    assert response.status_code == 401


# --- the directory ------------------------------------------------------------------------


def on_call(ward: Ward, **params: Any) -> Any:
    return client_for(ward.nurse_token).get("/api/on-call", params)


def test_on_call_at_an_instant_shows_who_held_each_role_then(ward: Ward, week: Role) -> None:
    response = on_call(ward, at=iso(MONDAY + timedelta(hours=9)))

    assert response.status_code == 200, response.json()
    rows = {row["role"]["bleep_number"]: row["holders"] for row in response.json()["results"]}
    assert [holder["id"] for holder in rows["2001"]] == [ward.doctor.pk]
    assert rows["2345"] == []


def test_on_call_without_an_instant_shows_who_holds_each_role_now(ward: Ward, week: Role) -> None:
    rows = {row["role"]["bleep_number"]: row["holders"] for row in on_call(ward).json()["results"]}

    assert [holder["id"] for holder in rows["2345"]] == [ward.doctor.pk]
    assert rows["2001"] == []


@pytest.mark.parametrize(
    ("query", "numbers"),
    [
        ("ward 7", ["2001"]),
        ("2345", ["2345"]),
        ("MEDICINE", ["1000", "2001", "2345"]),
        ("omar", ["2345"]),
        ("switchboard", ["1000"]),
        ("pat.ellis", ["1000"]),
        ("no such thing", []),
    ],
)
def test_on_call_is_searched_with_q(ward: Ward, week: Role, query: str, numbers: list[str]) -> None:
    response = on_call(ward, q=query)

    assert response.status_code == 200
    assert sorted(row["role"]["bleep_number"] for row in response.json()["results"]) == numbers


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"at": "2026-01-12T09:00:00"}, "at"),
        ({"at": "yesterday"}, "at"),
        ({"q": "x" * 101}, "q"),
        ({"query": "omar"}, "query"),
    ],
)
def test_a_bad_on_call_query_is_a_400_naming_the_parameter(
    ward: Ward, params: dict[str, Any], field: str
) -> None:
    response = on_call(ward, **params)

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
