"""Each policy write service refuses the wrong actor itself, with no view in front of it."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from escalation.exceptions import PolicyChangeNotAllowed
from escalation.models import Policy, PolicyStep, StepAction
from escalation.services.policies import StepDraft, delete_policy, save_policy, write_policy
from rota.models import Person, Role, RotaChange, RotaManagerScope, Site, Team
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = StepDraft(
    action=StepAction.RENOTIFY,
    after_routine_seconds=600,
    after_urgent_seconds=300,
    after_emergency_seconds=120,
)


@dataclass
class Hospital:
    """Medicine and Surgery on one site, Medicine's policy, and who works where."""

    site: Site
    medicine: Team
    registrar: Role
    surgeon: Role
    policy: Policy
    people: dict[str, Person]


# Everyone who may read Medicine's policies but not change them.
WRONG_ACTORS = ["nurse", "doctor", "switchboard", "auditor", "surgery_manager", "other_site"]


@pytest.fixture
def hospital() -> Hospital:
    site, other_site = factories.make_site(), factories.make_site("Other General")
    medicine = factories.make_team("Medicine", site)
    surgery = factories.make_team("Surgery", site)
    registrar = factories.make_role("Medical Registrar", team=medicine)
    surgeon = factories.make_role("Surgical Registrar", team=surgery)
    jobs = {
        "nurse": Person.Job.NURSE,
        "doctor": Person.Job.DOCTOR,
        "switchboard": Person.Job.SWITCHBOARD,
        "auditor": Person.Job.AUDITOR,
    }
    people = {
        name: factories.make_person(name, job=jobs.get(name, Person.Job.ROTA_MANAGER))
        for name in [*WRONG_ACTORS, "medicine_manager"]
    }
    RotaManagerScope.objects.create(person=people["medicine_manager"], team=medicine)
    RotaManagerScope.objects.create(person=people["surgery_manager"], team=surgery)
    RotaManagerScope.objects.create(person=people["other_site"], site=other_site)
    policy = write_policy(actor=None, policy=None, team=medicine, repeat=0, steps=[STEP], now=NOW)
    return Hospital(site, medicine, registrar, surgeon, policy, people)


def stored_policies() -> list[Any]:
    """Return every row a policy write could change, so a refusal can be seen to change none."""
    return [
        list(model.objects.order_by("pk").values()) for model in (Policy, PolicyStep, RotaChange)
    ]


def create_a_role_policy(hospital: Hospital, actor: Person) -> object:
    return save_policy(
        actor=actor, policy=None, role=hospital.registrar, repeat=1, steps=[STEP], now=NOW
    )


def change_the_team_policy(hospital: Hospital, actor: Person) -> object:
    return save_policy(
        actor=actor, policy=hospital.policy, team=hospital.medicine, repeat=2, steps=[STEP], now=NOW
    )


def delete_the_team_policy(hospital: Hospital, actor: Person) -> object:
    delete_policy(actor=actor, policy=hospital.policy, now=NOW)
    return None


def create_a_site_policy(hospital: Hospital, actor: Person) -> object:
    return save_policy(
        actor=actor, policy=None, site=hospital.site, repeat=0, steps=[STEP], now=NOW
    )


WRITES: dict[str, Callable[[Hospital, Person], object]] = {
    "create a role policy": create_a_role_policy,
    "change the team policy": change_the_team_policy,
    "delete the team policy": delete_the_team_policy,
    "create a site policy": create_a_site_policy,
}


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize("who", WRONG_ACTORS)
@pytest.mark.parametrize("write", list(WRITES))
def test_a_policy_write_service_refuses_anyone_who_does_not_manage_the_scope(
    hospital: Hospital, write: str, who: str
) -> None:
    before = stored_policies()

    with pytest.raises(PolicyChangeNotAllowed):
        WRITES[write](hospital, hospital.people[who])

    assert stored_policies() == before


@pytest.mark.parametrize("write", sorted(set(WRITES) - {"create a site policy"}))
def test_the_rota_manager_of_the_team_makes_each_of_those_writes(
    hospital: Hospital, write: str
) -> None:
    changes = RotaChange.objects.count()

    WRITES[write](hospital, hospital.people["medicine_manager"])

    assert RotaChange.objects.count() == changes + 1


def test_a_manager_of_one_team_may_not_write_the_sites_policy(hospital: Hospital) -> None:
    before = stored_policies()

    with pytest.raises(PolicyChangeNotAllowed):
        create_a_site_policy(hospital, hospital.people["medicine_manager"])

    assert stored_policies() == before


@pytest.mark.hazard("HZ-08")
def test_moving_a_policy_to_a_team_one_does_not_manage_is_refused_by_the_service(
    hospital: Hospital,
) -> None:
    before = stored_policies()

    with pytest.raises(PolicyChangeNotAllowed):
        save_policy(
            actor=hospital.people["medicine_manager"],
            policy=hospital.policy,
            role=hospital.surgeon,
            repeat=0,
            steps=[STEP],
            now=NOW,
        )

    assert stored_policies() == before


def test_moving_a_policy_away_from_a_team_one_does_not_manage_is_refused_by_the_service(
    hospital: Hospital,
) -> None:
    before = stored_policies()

    with pytest.raises(PolicyChangeNotAllowed):
        save_policy(
            actor=hospital.people["surgery_manager"],
            policy=hospital.policy,
            role=hospital.surgeon,
            repeat=0,
            steps=[STEP],
            now=NOW,
        )

    assert stored_policies() == before
