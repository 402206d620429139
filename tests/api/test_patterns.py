"""The patterns endpoints: everyone reads, only the role's rota managers change and expand."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient

from rota.models import Pattern, Person, Role, RotaChange, RotaManagerScope, Shift
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PATTERNS = "/api/rota/patterns"


@dataclass
class Rota:
    """Two teams' roles, the medical team's rota manager, and everyone else who might try."""

    role: Role
    other_role: Role
    surgery_role: Role
    registrars: list[Person]
    clients: dict[str, APIClient]


@pytest.fixture
def rota() -> Rota:
    medicine = factories.make_team("Medicine")
    surgery = factories.make_team("Surgery")
    role = factories.make_role("Medical Registrar on call", team=medicine)
    other_role = factories.make_role("Medical SHO on call", team=medicine)
    surgery_role = factories.make_role("Surgical Registrar on call", team=surgery)
    people = {
        "manager": factories.make_person("mo.manager", job=Person.Job.ROTA_MANAGER),
        "surgery_manager": factories.make_person("sam.surgeon", job=Person.Job.ROTA_MANAGER),
        "nurse": factories.make_person("amina.okafor", job=Person.Job.NURSE),
        "doctor": factories.make_person("omar.haddad", job=Person.Job.DOCTOR),
    }
    RotaManagerScope.objects.create(person=people["manager"], team=medicine)
    RotaManagerScope.objects.create(person=people["surgery_manager"], team=surgery)
    registrars = [factories.make_person(f"registrar.{n}") for n in range(3)]
    clients = {
        name: client_for(factories.make_device(person)[1]) for name, person in people.items()
    }
    return Rota(role, other_role, surgery_role, registrars, clients)


def body(rota: Rota, **overrides: Any) -> dict[str, Any]:
    return {
        "role": rota.role.pk,
        "name": "Weekend nights",
        "weekdays": [4, 5, 6],
        "start_time": "20:00",
        "end_time": "08:30",
        "rotation": "week",
        "anchor_date": "2026-10-19",
        "members": [person.pk for person in rota.registrars],
        **overrides,
    }


def create(rota: Rota, **overrides: Any) -> dict[str, Any]:
    response = rota.clients["manager"].post(PATTERNS, body(rota, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_rota_manager_of_the_team_creates_a_pattern(rota: Rota) -> None:
    created = create(rota, members=[rota.registrars[2].pk, rota.registrars[0].pk])

    assert created == {
        "id": created["id"],
        "role": rota.role.pk,
        "name": "Weekend nights",
        "weekdays": [4, 5, 6],
        "start_time": "20:00",
        "end_time": "08:30",
        "rotation": "week",
        "anchor_date": "2026-10-19",
        "members": [rota.registrars[2].pk, rota.registrars[0].pk],
    }
    assert RotaChange.objects.filter(model="Pattern", object_id=created["id"]).exists()


def test_everyone_signed_in_reads_patterns(rota: Rota) -> None:
    created = create(rota)

    listed = rota.clients["nurse"].get(PATTERNS)
    one = rota.clients["doctor"].get(f"{PATTERNS}/{created['id']}")

    assert listed.status_code == 200
    assert listed.json()["results"] == [created]
    assert one.json() == created


def test_nobody_signed_out_reads_patterns(rota: Rota) -> None:
    assert APIClient().get(PATTERNS).status_code == 401


def test_an_unknown_pattern_is_not_found(rota: Rota) -> None:
    response = rota.clients["manager"].get(f"{PATTERNS}/999999")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("who", ["nurse", "doctor", "surgery_manager"])
def test_only_the_teams_rota_manager_creates_a_pattern(rota: Rota, who: str) -> None:
    response = rota.clients[who].post(PATTERNS, body(rota), format="json")

    assert response.status_code == 403
    assert not Pattern.objects.exists()


def test_the_rota_manager_changes_the_name_and_the_rotation(rota: Rota) -> None:
    created = create(rota)
    first, second, third = (person.pk for person in rota.registrars)

    response = rota.clients["manager"].patch(
        f"{PATTERNS}/{created['id']}", {"name": "Nights", "members": [third, first]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {**created, "name": "Nights", "members": [third, first]}


def test_a_change_that_leaves_out_members_keeps_the_rotation(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["manager"].patch(
        f"{PATTERNS}/{created['id']}", {"end_time": "09:00"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {**created, "end_time": "09:00"}


def test_the_rota_manager_moves_a_pattern_to_another_role_of_the_team(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["manager"].patch(
        f"{PATTERNS}/{created['id']}", {"role": rota.other_role.pk}, format="json"
    )

    assert response.status_code == 200
    assert Pattern.objects.get().role == rota.other_role


def test_moving_a_pattern_to_a_role_of_a_team_i_do_not_manage_is_refused(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["manager"].patch(
        f"{PATTERNS}/{created['id']}", {"role": rota.surgery_role.pk}, format="json"
    )

    assert response.status_code == 403
    assert Pattern.objects.get().role == rota.role


def test_moving_a_pattern_away_from_a_team_i_do_not_manage_is_refused(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["surgery_manager"].patch(
        f"{PATTERNS}/{created['id']}", {"role": rota.surgery_role.pk}, format="json"
    )

    assert response.status_code == 403
    assert Pattern.objects.get().role == rota.role


@pytest.mark.parametrize("who", ["nurse", "doctor", "surgery_manager"])
def test_only_the_teams_rota_manager_changes_a_pattern(rota: Rota, who: str) -> None:
    created = create(rota)

    response = rota.clients[who].patch(
        f"{PATTERNS}/{created['id']}", {"name": "Mine now"}, format="json"
    )

    assert response.status_code == 403
    assert Pattern.objects.get().name == "Weekend nights"


def test_deleting_a_pattern_keeps_the_shifts_it_made(rota: Rota) -> None:
    created = create(rota)
    expanded = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-10-23", "to": "2026-10-25"},
        format="json",
    )
    assert expanded.status_code == 200

    response = rota.clients["manager"].delete(f"{PATTERNS}/{created['id']}")

    assert response.status_code == 204
    assert not Pattern.objects.exists()
    assert Shift.objects.count() == 3
    assert set(Shift.objects.values_list("pattern", flat=True)) == {None}


@pytest.mark.parametrize("who", ["nurse", "doctor", "surgery_manager"])
def test_only_the_teams_rota_manager_deletes_a_pattern(rota: Rota, who: str) -> None:
    created = create(rota)

    response = rota.clients[who].delete(f"{PATTERNS}/{created['id']}")

    assert response.status_code == 403
    assert Pattern.objects.exists()


def test_expanding_reports_each_shift_in_utc_and_on_the_sites_clock(rota: Rota) -> None:
    created = create(rota, weekdays=[5], members=[rota.registrars[0].pk])

    response = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-10-24", "to": "2026-10-24"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "dry_run": False,
        "time_zone": "Europe/London",
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "kept_by_hand": 0,
        "shifts": [
            {
                "person": {"id": rota.registrars[0].pk, "name": "Registrar 0"},
                # The autumn night: 13.5 hours, because the clock goes back an hour.
                "start": "2026-10-24T19:00:00Z",
                "end": "2026-10-25T08:30:00Z",
                "start_wall_clock": "2026-10-24T20:00:00+01:00",
                "end_wall_clock": "2026-10-25T08:30:00+00:00",
            }
        ],
    }
    shift = Shift.objects.get()
    assert (shift.start, shift.end) == (
        datetime(2026, 10, 24, 19, tzinfo=UTC),
        datetime(2026, 10, 25, 8, 30, tzinfo=UTC),
    )


def test_a_dry_run_expansion_reports_and_stores_nothing(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-10-19", "to": "2026-11-01", "dry_run": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["dry_run"] is True
    assert response.json()["created"] == 6
    assert len(response.json()["shifts"]) == 6
    assert not Shift.objects.exists()


@pytest.mark.parametrize("who", ["nurse", "doctor", "surgery_manager"])
def test_only_the_teams_rota_manager_expands_a_pattern(rota: Rota, who: str) -> None:
    created = create(rota)

    response = rota.clients[who].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-10-19", "to": "2026-11-01"},
        format="json",
    )

    assert response.status_code == 403
    assert not Shift.objects.exists()


def test_an_expansion_that_double_books_names_the_day_and_stores_nothing(rota: Rota) -> None:
    created = create(rota, members=[rota.registrars[0].pk])
    clinic = datetime(2026, 10, 25, 7, tzinfo=UTC)
    factories.make_shift(rota.other_role, rota.registrars[0], start=clinic, hours=4)

    response = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-10-19", "to": "2026-11-01"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["2026-10-24: person"]
    assert not Shift.objects.filter(pattern_id=created["id"]).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weekdays": [7]}, "weekdays"),
        ({"weekdays": [1, 1]}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": ["monday"]}, "weekdays"),
        ({"role": 999999}, "role"),
        ({"members": [999999]}, "members"),
        ({"members": []}, "members"),
        ({"start_time": "8pm"}, "start_time"),
        ({"end_time": "08:30:15"}, "end_time"),
        ({"rotation": "fortnight"}, "rotation"),
        ({"anchor_date": "19/10/2026"}, "anchor_date"),
        ({"name": ""}, "name"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_pattern_is_refused_naming_the_field(
    rota: Rota, overrides: dict[str, Any], field: str
) -> None:
    response = rota.clients["manager"].post(PATTERNS, body(rota, **overrides), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Pattern.objects.exists()


def test_a_deactivated_person_cannot_join_a_rotation(rota: Rota) -> None:
    rota.registrars[0].is_active = False
    rota.registrars[0].save()

    response = rota.clients["manager"].post(PATTERNS, body(rota), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["members"]


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"from": "2026-01-01", "to": "2027-02-05"}, "to"),  # 401 days
        ({"from": "2026-02-01", "to": "2026-01-31"}, "to"),
        ({"to": "2026-01-31"}, "from"),
        ({"from": "2026-01-01", "to": "2026-01-31", "dryrun": True}, "dryrun"),
    ],
)
def test_a_bad_expansion_is_refused_naming_the_field(
    rota: Rota, request_body: dict[str, Any], field: str
) -> None:
    created = create(rota)

    response = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand", request_body, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Shift.objects.exists()


def test_an_expansion_of_exactly_four_hundred_days_is_allowed(rota: Rota) -> None:
    created = create(rota)

    response = rota.clients["manager"].post(
        f"{PATTERNS}/{created['id']}/expand",
        {"from": "2026-01-01", "to": "2027-02-04", "dry_run": True},
        format="json",
    )

    assert response.status_code == 200, response.json()
