"""The rota's REST records: who may change what, the rules, the audit, and routing at once."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from rota.models import Person, Role, RotaChange, RotaManagerScope, Shift
from rota.services.swaps import request_swap
from tests import factories
from tests.conftest import Ward, client_for


@dataclass
class World:
    clients: dict[str, APIClient]
    people: dict[str, Person]
    role: Role
    other_team_role: Role
    switchboard: Role
    shift: Shift


ACTORS = [
    "nurse",
    "doctor",
    "switchboard",
    "manager_other_team",
    "manager_this_team",
    "manager_site",
]


@pytest.fixture
def world(db: None) -> World:
    site = factories.make_site()
    medicine, surgery = factories.make_team("Medicine", site), factories.make_team("Surgery", site)
    switchboard_team = factories.make_team("Switchboard", site)
    switchboard = factories.make_role(
        "Switchboard", "1000", team=switchboard_team, kind=Role.Kind.SWITCHBOARD
    )
    role = factories.make_role(
        "Medical Registrar on call", "2345", fallback=switchboard, team=medicine
    )
    other = factories.make_role("Surgical Registrar", "2400", fallback=switchboard, team=surgery)
    jobs = {
        "nurse": Person.Job.NURSE,
        "doctor": Person.Job.DOCTOR,
        "switchboard": Person.Job.SWITCHBOARD,
    }
    people = {
        name: factories.make_person(name, job=jobs.get(name, Person.Job.ROTA_MANAGER))
        for name in ACTORS
    }
    people["colleague"] = factories.make_person("colleague")
    RotaManagerScope.objects.create(person=people["manager_other_team"], team=surgery)
    RotaManagerScope.objects.create(person=people["manager_this_team"], team=medicine)
    RotaManagerScope.objects.create(person=people["manager_site"], site=site)
    shift = factories.on_call_now(role, people["doctor"])
    clients = {
        name: client_for(factories.make_device(person)[1]) for name, person in people.items()
    }
    return World(clients, people, role, other, switchboard, shift)


def future(hours: float) -> str:
    start = timezone.now().replace(microsecond=0) + timedelta(days=2)
    return (start + timedelta(hours=hours)).isoformat()


def write_requests(world: World) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """One request per rota write endpoint, each about Medicine (the 'this team' of the matrix)."""
    shift = world.shift.pk
    return {
        "create shift": (
            "post",
            "/api/rota/shifts",
            {
                "role": world.role.pk,
                "person": world.people["colleague"].pk,
                "start": future(0),
                "end": future(12),
            },
        ),
        "change shift": ("patch", f"/api/rota/shifts/{shift}", {"end": future(30)}),
        "delete shift": ("delete", f"/api/rota/shifts/{shift}", {}),
        "create role": (
            "post",
            "/api/rota/roles",
            {
                "site": world.role.site_id,
                "team": world.role.team_id,
                "name": "Medical SHO",
                "bleep_number": "2340",
                "fallback": world.role.pk,
            },
        ),
        "change role": ("patch", f"/api/rota/roles/{world.role.pk}", {"name": "Med Reg"}),
        "change team": ("patch", f"/api/rota/teams/{world.role.team_id}", {"name": "Medicine 2"}),
        "create team": ("post", "/api/rota/teams", {"site": world.role.site_id, "name": "Renal"}),
        "create location": (
            "post",
            "/api/rota/locations",
            {"site": world.role.site_id, "name": "Ward 9"},
        ),
        "change site": ("patch", f"/api/rota/sites/{world.role.site_id}", {"name": "New name"}),
        "create site": ("post", "/api/rota/sites", {"name": "Second Hospital"}),
    }


# Who may make each write: team-level writes need the team or its site; site-level ones the site.
ALLOWED = {
    "create shift": {"manager_this_team", "manager_site"},
    "change shift": {"manager_this_team", "manager_site"},
    "delete shift": {"manager_this_team", "manager_site"},
    "create role": {"manager_this_team", "manager_site"},
    "change role": {"manager_this_team", "manager_site"},
    "change team": {"manager_this_team", "manager_site"},
    "create team": {"manager_site"},
    "create location": {"manager_site"},
    "change site": {"manager_site"},
    "create site": {"manager_site"},
}
SUCCESS = {"post": 201, "patch": 200, "delete": 204}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("write", list(ALLOWED))
@pytest.mark.hazard("HZ-08")
def test_the_rota_permission_matrix(world: World, actor: str, write: str) -> None:
    method, url, body = write_requests(world)[write]
    before = RotaChange.objects.count()
    response = getattr(world.clients[actor], method)(url, body, format="json")
    if actor in ALLOWED[write]:
        assert response.status_code == SUCCESS[method], response.content
        assert RotaChange.objects.count() == before + 1
    else:
        assert response.status_code == 403, response.content
        assert RotaChange.objects.count() == before


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    "url",
    [
        "/api/rota/sites",
        "/api/rota/locations",
        "/api/rota/teams",
        "/api/rota/roles",
        "/api/rota/shifts",
    ],
)
def test_everyone_signed_in_reads_the_rota(world: World, actor: str, url: str) -> None:
    assert world.clients[actor].get(url).status_code == 200


def test_nobody_signed_out_reads_the_rota(world: World) -> None:
    assert APIClient().get("/api/rota/shifts").status_code == 401


def test_moving_a_shift_to_another_teams_role_needs_both_teams(world: World) -> None:
    response = world.clients["manager_this_team"].patch(
        f"/api/rota/shifts/{world.shift.pk}", {"role": world.other_team_role.pk}, format="json"
    )
    assert response.status_code == 403
    assert Shift.objects.get(pk=world.shift.pk).role == world.role


def manager(world: World) -> APIClient:
    return world.clients["manager_this_team"]


def new_shift(world: World, **body: Any) -> Any:
    fields = {
        "role": world.role.pk,
        "person": world.people["colleague"].pk,
        "start": future(0),
        "end": future(12),
    }
    return manager(world).post("/api/rota/shifts", {**fields, **body}, format="json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"end": future(0)}, "end"),
        ({"end": future(-1)}, "end"),
        ({"role": 999999}, "role"),
        ({"person": 999999}, "person"),
        ({"start": "next tuesday"}, "start"),
        ({"start": "9999-12-31T23:00"}, "start"),
        ({"end": "9999-12-31T23:00-12:00"}, "end"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_shift_is_a_400_naming_the_field_and_nothing_is_stored(
    world: World, body: dict[str, Any], field: str
) -> None:
    count = Shift.objects.count()
    response = new_shift(world, **body)
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()
    assert Shift.objects.count() == count


def test_a_person_double_booked_on_overlapping_shifts_is_refused_naming_the_person(
    world: World,
) -> None:
    assert new_shift(world).status_code == 201
    clash = new_shift(world, role=world.switchboard.pk, start=future(6), end=future(18))
    assert clash.status_code == 403  # switchboard's team is not this manager's
    site_manager = world.clients["manager_site"]
    clash = site_manager.post(
        "/api/rota/shifts",
        {
            "role": world.other_team_role.pk,
            "person": world.people["colleague"].pk,
            "start": future(6),
            "end": future(18),
        },
        format="json",
    )
    assert clash.status_code == 400
    assert "already on Medical Registrar on call" in clash.json()["fields"]["person"][0]


def test_a_handover_overlap_of_two_people_on_one_role_is_allowed(world: World) -> None:
    assert new_shift(world).status_code == 201
    other = factories.make_person("second.doctor")
    response = new_shift(world, person=other.pk, start=future(11.5), end=future(24))
    assert response.status_code == 201


def test_a_wall_clock_time_without_an_offset_is_the_sites_clock(world: World) -> None:
    response = new_shift(world, start="2026-10-24T20:00", end="2026-10-25T08:30")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["start"] == "2026-10-24T19:00:00+00:00"
    assert body["end"] == "2026-10-25T08:30:00+00:00"
    assert body["start_local"] == "2026-10-24T20:00:00+01:00"
    assert body["end_local"] == "2026-10-25T08:30:00+00:00"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"bleep_number": "2400"}, "bleep_number", "already used"),
        ({"fallback": None}, "fallback", "switchboard"),
        ({"team": 999999}, "team", ""),
        ({"kind": "wizard"}, "kind", ""),
    ],
)
def test_a_bad_role_is_a_400_naming_the_field(
    world: World, body: dict[str, Any], field: str, says: str
) -> None:
    site_manager = world.clients["manager_site"]
    fields = {
        "site": world.role.site_id,
        "team": world.role.team_id,
        "name": "Medical SHO",
        "bleep_number": "2340",
        "fallback": world.role.pk,
    }
    count = Role.objects.count()
    response = site_manager.post("/api/rota/roles", {**fields, **body}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert says in str(response.json()["fields"][field])
    assert Role.objects.count() == count


@pytest.mark.hazard("HZ-02")
def test_a_fallback_loop_is_refused(world: World) -> None:
    sho = (
        world.clients["manager_site"]
        .post(
            "/api/rota/roles",
            {
                "site": world.role.site_id,
                "team": world.role.team_id,
                "name": "Medical SHO",
                "bleep_number": "2340",
                "fallback": world.role.pk,
            },
            format="json",
        )
        .json()
    )
    response = manager(world).patch(
        f"/api/rota/roles/{world.role.pk}", {"fallback": sho["id"]}, format="json"
    )
    assert response.status_code == 400
    assert "loops" in response.json()["fields"]["fallback"][0]


def test_an_unknown_time_zone_is_refused_naming_the_field(world: World) -> None:
    response = world.clients["manager_site"].post(
        "/api/rota/sites", {"name": "Moon Base", "time_zone": "Moon/Tranquility"}, format="json"
    )
    assert response.status_code == 400
    assert "time_zone" in response.json()["fields"]


def test_a_role_still_in_use_cannot_be_deleted(world: World) -> None:
    response = manager(world).delete(f"/api/rota/roles/{world.role.pk}")
    assert response.status_code == 400
    assert "still used by" in response.json()["fields"]["id"][0]


def test_every_change_is_recorded_with_who_when_and_before_and_after(world: World) -> None:
    url = f"/api/rota/shifts/{world.shift.pk}"
    manager(world).patch(url, {"person": world.people["colleague"].pk}, format="json")
    manager(world).delete(url)
    changes = (
        manager(world)
        .get("/api/rota/changes", {"model": "Shift", "object_id": str(world.shift.pk)})
        .json()["results"]
    )
    assert [c["action"] for c in changes] == ["delete", "update"]
    update = changes[1]
    assert update["actor"] == str(world.people["manager_this_team"])
    assert update["before"]["person"] == world.people["doctor"].pk
    assert update["after"]["person"] == world.people["colleague"].pk
    assert changes[0]["after"] is None


def swap_in(role: Role, world: World, name: str) -> int:
    """Offer a future shift of `role` to a colleague; return the swap's id."""
    start = timezone.now() + timedelta(days=3)
    holder = factories.make_person(f"{name}.holder")
    shift = factories.make_shift(role, holder, start)
    return request_swap(
        requester=holder, shift=shift, counterpart=world.people["colleague"], now=timezone.now()
    ).pk


def swaps_seen(client: APIClient) -> set[int]:
    body = client.get("/api/rota/changes", {"model": "SwapRequest"}).json()
    return {change["object_id"] for change in body["results"]}


def test_a_rota_manager_reads_only_the_changes_within_their_scope_and_an_auditor_all(
    world: World,
) -> None:
    medicine = swap_in(world.role, world, "medicine")
    surgery = swap_in(world.other_team_role, world, "surgery")
    auditor = factories.make_person("clinical.safety", job=Person.Job.AUDITOR)

    assert swaps_seen(world.clients["manager_this_team"]) == {medicine}
    assert swaps_seen(world.clients["manager_other_team"]) == {surgery}
    assert swaps_seen(world.clients["manager_site"]) == {medicine, surgery}
    assert swaps_seen(client_for(factories.make_device(auditor)[1])) == {medicine, surgery}


def test_a_record_moved_to_another_team_is_in_the_trail_of_both_teams(world: World) -> None:
    moved = {"role": world.other_team_role.pk}
    response = world.clients["manager_site"].patch(
        f"/api/rota/shifts/{world.shift.pk}", moved, format="json"
    )
    assert response.status_code == 200, response.json()

    for who in ("manager_this_team", "manager_other_team"):
        body = world.clients[who].get("/api/rota/changes", {"model": "Shift"}).json()
        assert [change["object_id"] for change in body["results"]] == [world.shift.pk], who


def test_the_audit_trail_is_not_shown_to_clinical_staff(world: World) -> None:
    assert world.clients["nurse"].get("/api/rota/changes").status_code == 404


@pytest.mark.hazard("HZ-01")
def test_a_rota_change_takes_effect_for_routing_at_once(world: World) -> None:
    manager(world).patch(
        f"/api/rota/shifts/{world.shift.pk}",
        {"person": world.people["colleague"].pk},
        format="json",
    )
    sent = world.clients["nurse"].post(
        "/api/bleeps", {"bleep_number": "2345", "message": "Review please"}, format="json"
    )
    assert sent.status_code == 201
    assert [d["recipient"]["id"] for d in sent.json()["deliveries"]] == [
        world.people["colleague"].pk
    ]


def test_the_shift_list_is_a_window_and_refuses_a_huge_one(world: World) -> None:
    client = world.clients["nurse"]
    now = datetime.now(UTC)
    ids = [s["id"] for s in client.get("/api/rota/shifts").json()["results"]]
    assert world.shift.pk in ids
    later = {
        "from": (now + timedelta(days=3)).isoformat(),
        "to": (now + timedelta(days=4)).isoformat(),
    }
    assert world.shift.pk not in [
        s["id"] for s in client.get("/api/rota/shifts", later).json()["results"]
    ]
    huge = {"from": now.isoformat(), "to": (now + timedelta(days=400)).isoformat()}
    response = client.get("/api/rota/shifts", huge)
    assert response.status_code == 400
    assert "to" in response.json()["fields"]


def test_a_shift_longer_than_a_fortnight_is_refused_naming_the_end(world: World) -> None:
    response = new_shift(world, end=future(24 * 15))
    assert response.status_code == 400
    assert "at most 14 days" in response.json()["fields"]["end"][0]


def test_a_missing_record_is_a_404_in_the_usual_error_shape(world: World) -> None:
    response = world.clients["nurse"].get("/api/rota/shifts/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/rota/shifts?role=abc", "role"),
        ("/api/rota/shifts?person=1.5", "person"),
        ("/api/rota/changes?object_id=-3", "object_id"),
    ],
)
def test_a_list_filter_that_is_not_an_id_is_refused_naming_it(
    ward: Ward, path: str, field: str
) -> None:
    manager = factories.site_manager(ward.role.site)
    response = client_for(factories.make_device(manager)[1]).get(path)
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
