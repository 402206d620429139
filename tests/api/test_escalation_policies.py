"""The escalation policy endpoints: everyone reads, only the scope's rota managers write."""

from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from escalation.models import Policy, PolicyStep, StepAction
from escalation.services.policies import StepDraft, write_policy
from rota.models import Person, Role, RotaChange, RotaManagerScope, Site, Team
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

POLICIES = "/api/escalation/policies"
EFFECTIVE = "/api/escalation/policies/effective"
ACTORS = [
    "nurse",
    "doctor",
    "switchboard",
    "manager_other_team",
    "manager_this_team",
    "manager_site",
]


@dataclass
class World:
    """Medicine and Surgery on one site, a role on another site, and everyone who might try."""

    site: Site
    medicine: Team
    surgery: Team
    registrar: Role
    sho: Role
    surgeon: Role
    elsewhere: Role
    people: dict[str, Person]
    clients: dict[str, APIClient]


@pytest.fixture
def world() -> World:
    site = factories.make_site()
    medicine, surgery = factories.make_team("Medicine", site), factories.make_team("Surgery", site)
    registrar = factories.make_role("Medical Registrar on call", "2345", team=medicine)
    sho = factories.make_role("Medical SHO on call", "2346", team=medicine)
    surgeon = factories.make_role("Surgical Registrar on call", "2400", team=surgery)
    other_site = factories.make_site("Other General")
    elsewhere = factories.make_role("Registrar", team=factories.make_team("Medicine", other_site))
    jobs = {
        "nurse": Person.Job.NURSE,
        "doctor": Person.Job.DOCTOR,
        "switchboard": Person.Job.SWITCHBOARD,
    }
    people = {
        name: factories.make_person(name, job=jobs.get(name, Person.Job.ROTA_MANAGER))
        for name in ACTORS
    }
    RotaManagerScope.objects.create(person=people["manager_other_team"], team=surgery)
    RotaManagerScope.objects.create(person=people["manager_this_team"], team=medicine)
    RotaManagerScope.objects.create(person=people["manager_site"], site=site)
    clients = {
        name: client_for(factories.make_device(person)[1]) for name, person in people.items()
    }
    return World(site, medicine, surgery, registrar, sho, surgeon, elsewhere, people, clients)


def step_body(action: str = "renotify", **overrides: Any) -> dict[str, Any]:
    return {
        "action": action,
        "after_routine_seconds": 300,
        "after_urgent_seconds": 120,
        "after_emergency_seconds": 60,
        **overrides,
    }


def body(**overrides: Any) -> dict[str, Any]:
    return {"repeat": 1, "steps": [step_body(), step_body("escalate")], **overrides}


def existing(world: World, **scope: Any) -> Policy:
    """Store a one-step policy with this scope, as the admin would: nobody's right is asked."""
    draft = StepDraft(
        action=StepAction.RENOTIFY,
        after_routine_seconds=600,
        after_urgent_seconds=300,
        after_emergency_seconds=120,
    )
    return write_policy(
        actor=world.people["manager_site"],
        policy=None,
        repeat=0,
        steps=[draft],
        now=timezone.now(),
        **scope,
    )


def create(world: World, who: str = "manager_this_team", **overrides: Any) -> dict[str, Any]:
    response = world.clients[who].post(POLICIES, body(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def refusal(world: World, payload: dict[str, Any]) -> dict[str, list[str]]:
    response = world.clients["manager_site"].post(POLICIES, payload, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert not Policy.objects.exists()
    return response.json()["fields"]


def test_a_rota_manager_creates_a_policy_for_a_role_of_their_team(world: World) -> None:
    created = create(
        world,
        role=world.registrar.pk,
        steps=[
            step_body("escalate", target_role=world.sho.pk),
            step_body("broadcast_team", target_team=world.surgery.pk),
        ],
    )

    assert created == {
        "id": created["id"],
        "role": world.registrar.pk,
        "team": None,
        "site": None,
        "repeat": 1,
        "steps": [
            {**step_body("escalate", target_role=world.sho.pk), "target_team": None},
            {**step_body("broadcast_team", target_team=world.surgery.pk), "target_role": None},
        ],
        "updated_at": created["updated_at"],
    }
    assert list(PolicyStep.objects.values_list("position", flat=True)) == [1, 2]


def test_repeat_may_be_left_out_for_none(world: World) -> None:
    payload = body(team=world.medicine.pk)
    del payload["repeat"]

    response = world.clients["manager_this_team"].post(POLICIES, payload, format="json")

    assert response.status_code == 201
    assert response.json()["repeat"] == 0


def test_everyone_signed_in_reads_policies(world: World) -> None:
    created = create(world, role=world.registrar.pk)

    for who in ACTORS:
        listed = world.clients[who].get(POLICIES)
        one = world.clients[who].get(f"{POLICIES}/{created['id']}")
        assert (listed.status_code, one.status_code) == (200, 200), who
        assert listed.json()["results"] == [created]
        assert one.json() == created


def test_nobody_signed_out_reads_or_writes_policies(world: World) -> None:
    assert APIClient().get(POLICIES).status_code == 401
    assert APIClient().get(f"{EFFECTIVE}?role={world.registrar.pk}").status_code == 401
    assert APIClient().post(POLICIES, body(role=world.registrar.pk)).status_code == 401


def test_an_unknown_policy_is_not_found(world: World) -> None:
    for method in ("get", "put", "delete"):
        response = getattr(world.clients["manager_site"], method)(
            f"{POLICIES}/999999", body(role=world.registrar.pk), format="json"
        )
        assert response.status_code == 404, method
        assert response.json()["code"] == "not_found"


def test_the_list_filters_by_role_team_or_site_and_a_wider_scope_holds_the_narrower(
    world: World,
) -> None:
    role_policy = existing(world, role=world.registrar).pk
    team_policy = existing(world, team=world.medicine).pk
    surgery_policy = existing(world, team=world.surgery).pk
    site_policy = existing(world, site=world.site).pk
    elsewhere_policy = existing(world, role=world.elsewhere).pk
    client = world.clients["nurse"]

    def ids(query: str) -> list[int]:
        response = client.get(f"{POLICIES}{query}")
        assert response.status_code == 200, response.json()
        return [policy["id"] for policy in response.json()["results"]]

    assert ids("") == [role_policy, team_policy, surgery_policy, site_policy, elsewhere_policy]
    assert ids(f"?role={world.registrar.pk}") == [role_policy]
    assert ids(f"?role={world.sho.pk}") == []
    assert ids(f"?team={world.medicine.pk}") == [role_policy, team_policy]
    assert ids(f"?site={world.site.pk}") == [role_policy, team_policy, surgery_policy, site_policy]


@pytest.mark.parametrize(
    ("query", "field"), [("?role=999999", "role"), ("?team=x", "team"), ("?teem=1", "teem")]
)
def test_a_bad_filter_is_refused_naming_it(world: World, query: str, field: str) -> None:
    response = world.clients["nurse"].get(f"{POLICIES}{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def write_request(world: World, name: str) -> tuple[str, str, dict[str, Any]]:
    """Return one write about Medicine (the 'this team' of the matrix), storing what it needs."""
    if name == "create role policy":
        return "post", POLICIES, body(role=world.registrar.pk)
    if name == "create team policy":
        return "post", POLICIES, body(team=world.medicine.pk)
    if name == "create site policy":
        return "post", POLICIES, body(site=world.site.pk)
    if name == "change role policy":
        policy = existing(world, role=world.registrar)
        return "put", f"{POLICIES}/{policy.pk}", body(role=world.registrar.pk, repeat=2)
    if name == "change site policy":
        policy = existing(world, site=world.site)
        return "put", f"{POLICIES}/{policy.pk}", body(site=world.site.pk, repeat=2)
    if name == "move role policy to surgery":
        policy = existing(world, role=world.registrar)
        return "put", f"{POLICIES}/{policy.pk}", body(role=world.surgeon.pk)
    if name == "delete team policy":
        policy = existing(world, team=world.medicine)
        return "delete", f"{POLICIES}/{policy.pk}", {}
    assert name == "delete site policy"
    policy = existing(world, site=world.site)
    return "delete", f"{POLICIES}/{policy.pk}", {}


# Who may make each write: a role's or team's policy needs that team or its site; a site's
# needs the site; moving a policy needs both teams.
ALLOWED = {
    "create role policy": {"manager_this_team", "manager_site"},
    "create team policy": {"manager_this_team", "manager_site"},
    "create site policy": {"manager_site"},
    "change role policy": {"manager_this_team", "manager_site"},
    "change site policy": {"manager_site"},
    "move role policy to surgery": {"manager_site"},
    "delete team policy": {"manager_this_team", "manager_site"},
    "delete site policy": {"manager_site"},
}
SUCCESS = {"post": 201, "put": 200, "delete": 204}


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("name", list(ALLOWED))
def test_only_a_rota_manager_of_the_scope_writes_its_policy(
    world: World, name: str, who: str
) -> None:
    method, path, payload = write_request(world, name)
    before = list(Policy.objects.values_list("pk", "role", "team", "site", "repeat"))

    response = getattr(world.clients[who], method)(path, payload, format="json")

    if who in ALLOWED[name]:
        assert response.status_code == SUCCESS[method], response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "permission_denied"
        assert list(Policy.objects.values_list("pk", "role", "team", "site", "repeat")) == before


def test_a_change_replaces_the_whole_policy(world: World) -> None:
    created = create(world, role=world.registrar.pk)
    new_steps = [step_body("notify_switchboard", after_routine_seconds=900)]

    response = world.clients["manager_this_team"].put(
        f"{POLICIES}/{created['id']}",
        {"role": world.sho.pk, "repeat": 3, "steps": new_steps},
        format="json",
    )

    assert response.status_code == 200, response.json()
    changed = response.json()
    assert changed["id"] == created["id"]
    assert (changed["role"], changed["repeat"]) == (world.sho.pk, 3)
    assert changed["steps"] == [{**new_steps[0], "target_role": None, "target_team": None}]
    assert world.clients["nurse"].get(f"{POLICIES}/{created['id']}").json() == changed


def test_a_deleted_policy_is_gone_and_its_role_falls_back(world: World) -> None:
    existing(world, team=world.medicine)
    created = create(world, role=world.registrar.pk)

    response = world.clients["manager_this_team"].delete(f"{POLICIES}/{created['id']}")

    assert response.status_code == 204
    assert world.clients["nurse"].get(f"{POLICIES}/{created['id']}").status_code == 404
    effective = world.clients["nurse"].get(f"{EFFECTIVE}?role={world.registrar.pk}").json()
    assert effective["source"] == "team"


def test_every_write_is_in_the_rota_audit_trail(world: World) -> None:
    created = create(world, role=world.registrar.pk)
    path = f"{POLICIES}/{created['id']}"
    world.clients["manager_this_team"].put(path, body(role=world.registrar.pk), format="json")
    world.clients["manager_this_team"].delete(path)

    response = world.clients["manager_site"].get(
        f"/api/rota/changes?model=Policy&object_id={created['id']}"
    )

    actions = [change["action"] for change in response.json()["results"]]
    assert actions == ["delete", "update", "create"]
    assert RotaChange.objects.filter(model="Policy", actor=world.people["manager_this_team"])


def test_a_write_without_a_scope_is_refused_naming_role(world: World) -> None:
    assert refusal(world, body()) == {"role": ["give exactly one of role, team or site"]}


def test_a_write_with_two_scopes_is_refused_naming_role(world: World) -> None:
    fields = refusal(world, body(role=world.registrar.pk, site=world.site.pk))

    assert fields == {"role": ["give exactly one of role, team or site"]}


def test_a_second_policy_for_a_team_is_refused_naming_team(world: World) -> None:
    create(world, team=world.medicine.pk)

    response = world.clients["manager_site"].post(
        POLICIES, body(team=world.medicine.pk), format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["team"]
    assert Policy.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"steps": []}, "steps"),
        ({"steps": "renotify"}, "steps"),
        ({"steps": ["renotify"]}, "steps[0]"),
        ({"repeat": 11}, "repeat"),
        ({"repeat": "twice"}, "repeat"),
        ({"role": 999999}, "role"),
        ({"colour": "red"}, "colour"),
        (
            {"steps": [step_body(), step_body(after_urgent_seconds=301)]},
            "steps[1].after_urgent_seconds",
        ),
        ({"steps": [step_body(after_emergency_seconds=-5)]}, "steps[0].after_emergency_seconds"),
        ({"steps": [step_body(after_routine_seconds=86_401)]}, "steps[0].after_routine_seconds"),
        ({"steps": [step_body("page_everyone")]}, "steps[0].action"),
        ({"steps": [step_body(), step_body(bed=4)]}, "steps[1].bed"),
        ({"steps": [step_body("broadcast_team")]}, "steps[0].target_team"),
        ({"steps": [step_body(target_team=999999)]}, "steps[0].target_team"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field_and_nothing_is_stored(
    world: World, change: dict[str, Any], field: str
) -> None:
    fields = refusal(world, {**body(role=world.registrar.pk), **change})

    assert list(fields) == [field]


def test_a_target_on_another_site_is_refused_naming_the_step(world: World) -> None:
    steps = [step_body("escalate", target_role=world.elsewhere.pk)]

    fields = refusal(world, body(role=world.registrar.pk, steps=steps))

    assert fields == {"steps[0].target_role": ["the role must be on the policy's site"]}


def test_a_refused_change_leaves_the_policy_as_it_was(world: World) -> None:
    created = create(world, role=world.registrar.pk)
    bad = body(role=world.registrar.pk, repeat=4, steps=[step_body(after_urgent_seconds=999)])

    response = world.clients["manager_this_team"].put(
        f"{POLICIES}/{created['id']}", bad, format="json"
    )

    assert response.status_code == 400
    assert world.clients["nurse"].get(f"{POLICIES}/{created['id']}").json() == created


def test_a_role_without_any_policy_is_governed_by_the_built_in_default(world: World) -> None:
    response = world.clients["nurse"].get(f"{EFFECTIVE}?role={world.registrar.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "source": "default",
        "policy": None,
        "repeat": 0,
        "steps": [
            {
                "action": action,
                "target_role": None,
                "target_team": None,
                "after_routine_seconds": 300,
                "after_urgent_seconds": 120,
                "after_emergency_seconds": 60,
            }
            for action in ["renotify", "escalate", "notify_switchboard"]
        ],
    }


@pytest.mark.parametrize("narrowest", ["site", "team", "role"])
def test_the_effective_policy_is_the_narrowest_that_covers_the_role(
    world: World, narrowest: str
) -> None:
    scopes = {"site": world.site, "team": world.medicine, "role": world.registrar}
    policies = {}
    for name, scope in scopes.items():
        policies[name] = existing(world, **{name: scope})
        if name == narrowest:
            break

    response = world.clients["doctor"].get(f"{EFFECTIVE}?role={world.registrar.pk}")

    effective = response.json()
    assert (effective["source"], effective["policy"]) == (narrowest, policies[narrowest].pk)
    assert effective["repeat"] == 0
    assert [s["after_routine_seconds"] for s in effective["steps"]] == [600]


@pytest.mark.parametrize("query", ["", "?role=999999", "?role=abc"])
def test_the_effective_policy_needs_a_known_role(world: World, query: str) -> None:
    response = world.clients["nurse"].get(f"{EFFECTIVE}{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["role"]
