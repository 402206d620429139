"""The directory: every role with who holds it at an instant, searched by any field."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rota.models import Role
from rota.selectors import directory
from tests.factories import make_person, make_role, make_shift, make_team

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass
class Hospital:
    registrar: Role
    f1: Role
    surgeon: Role
    empty: Role


@pytest.fixture
def hospital(db: None) -> Hospital:
    medicine, surgery = make_team("Medicine"), make_team("General Surgery")
    registrar = make_role("Medical Registrar on call", bleep_number="2345", team=medicine)
    f1 = make_role("F1 Ward 7 cover", bleep_number="2001", team=medicine)
    surgeon = make_role("Surgical Registrar", bleep_number="4101", team=surgery)
    empty = make_role("Acute Medicine SHO", bleep_number="2999", team=medicine)
    make_shift(
        registrar,
        make_person("omar.haddad", first_name="Omar", last_name="Haddad", display_name=""),
        NOON - timedelta(hours=2),
    )
    make_shift(f1, make_person("kemi.adeyemi", display_name="Dr Kemi Adeyemi"), NOON)
    make_shift(surgeon, make_person("li.wei"), NOON - timedelta(hours=1))
    # Someone on the empty role tomorrow: not a holder at noon today.
    make_shift(empty, make_person("ade.bello"), NOON + timedelta(days=1))
    return Hospital(registrar, f1, surgeon, empty)


def names(rows: list[tuple[Role, list]]) -> list[tuple[str, list[str]]]:
    return [(role.name, [person.username for person in holders]) for role, holders in rows]


def test_every_role_is_listed_with_its_holders_by_team_then_name(hospital: Hospital) -> None:
    assert names(directory(at=NOON)) == [
        ("Surgical Registrar", ["li.wei"]),
        ("Acute Medicine SHO", []),
        ("F1 Ward 7 cover", ["kemi.adeyemi"]),
        ("Medical Registrar on call", ["omar.haddad"]),
    ]


def test_the_directory_shows_the_holders_at_the_instant_asked(hospital: Hospital) -> None:
    tomorrow = dict(names(directory(at=NOON + timedelta(days=1, hours=1))))

    assert tomorrow["Acute Medicine SHO"] == ["ade.bello"]
    assert tomorrow["Medical Registrar on call"] == []


@pytest.mark.parametrize(
    ("query", "roles"),
    [
        ("registrar", ["Surgical Registrar", "Medical Registrar on call"]),
        ("WARD 7", ["F1 Ward 7 cover"]),
        ("surgery", ["Surgical Registrar"]),
        ("MEDICINE", ["Acute Medicine SHO", "F1 Ward 7 cover", "Medical Registrar on call"]),
        ("2345", ["Medical Registrar on call"]),
        ("410", ["Surgical Registrar"]),
        ("kemi", ["F1 Ward 7 cover"]),
        ("dr kemi adeyemi", ["F1 Ward 7 cover"]),
        ("omar haddad", ["Medical Registrar on call"]),
        ("HADDAD", ["Medical Registrar on call"]),
        ("li.wei", ["Surgical Registrar"]),
        ("nobody at all", []),
    ],
)
def test_the_directory_is_searched_by_role_team_bleep_number_or_holder_in_any_case(
    hospital: Hospital, query: str, roles: list[str]
) -> None:
    assert [name for name, _ in names(directory(at=NOON, query=query))] == roles


def test_a_search_by_name_finds_only_a_holder_at_that_instant(hospital: Hospital) -> None:
    assert directory(at=NOON, query="ade.bello") == []
    assert names(directory(at=NOON + timedelta(days=1), query="ade.bello")) == [
        ("Acute Medicine SHO", ["ade.bello"])
    ]


def test_a_blank_search_lists_everything(hospital: Hospital) -> None:
    assert len(directory(at=NOON, query="   ")) == 4


def test_a_search_by_name_still_shows_every_holder_of_the_role(hospital: Hospital) -> None:
    make_shift(hospital.f1, make_person("handover.doctor"), NOON - timedelta(hours=11))

    assert names(directory(at=NOON, query="kemi")) == [
        ("F1 Ward 7 cover", ["kemi.adeyemi", "handover.doctor"])
    ]


def test_someone_no_longer_active_is_not_shown_or_found(hospital: Hospital) -> None:
    make_shift(hospital.empty, make_person("left.trust", is_active=False), NOON)

    assert dict(names(directory(at=NOON)))["Acute Medicine SHO"] == []
    assert directory(at=NOON, query="left.trust") == []


def test_a_person_with_two_shifts_on_a_role_is_listed_once(hospital: Hospital) -> None:
    doctor = make_person("double.shift")
    make_shift(hospital.empty, doctor, NOON - timedelta(hours=1))
    make_shift(hospital.empty, doctor, NOON - timedelta(hours=2))

    assert dict(names(directory(at=NOON)))["Acute Medicine SHO"] == ["double.shift"]


def test_the_directory_takes_two_queries_however_many_roles_and_holders(
    hospital: Hospital,
) -> None:
    for n in range(6):
        role = make_role(f"Extra role {n}")
        make_shift(role, make_person(f"extra.{n}"), NOON - timedelta(hours=1))

    for query in ("", "extra"):
        with CaptureQueriesContext(connection) as queries:
            rows = directory(at=NOON, query=query)
            [holder.username for _, holders in rows for holder in holders]
            [(role.team.name, role.site.name) for role, _ in rows]
        assert len(queries) == 2, query
