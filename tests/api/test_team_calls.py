"""Team calls over REST: one emergency bleep per clinical role, each on its own clock."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from escalation.models import Deadline, StepAction
from escalation.services.policies import StepDraft, write_policy
from messaging.models import Bleep, TeamCall
from rota.models import Person, Role, Team
from tests import factories
from tests.conftest import Ward, client_for

TEAM_CALLS = "/api/team-calls"
# Passes the Modulus 11 check.
NHS_NUMBER = "9434765919"


@dataclass
class CrashTeam:
    """The ward's team with a second clinical role, each held now, and a team with no roles."""

    team: Team
    sho: Role
    sho_doctor: Person
    empty_team: Team
    nurse: APIClient


@pytest.fixture
def crash(ward: Ward) -> CrashTeam:
    team = ward.role.team
    sho = factories.make_role("Medical SHO on call", team=team, fallback=ward.switchboard_role)
    sho_doctor = factories.make_person("sara.lind")
    factories.on_call_now(sho, sho_doctor, ward.now)
    empty_team = factories.make_team("Radiology")
    return CrashTeam(team, sho, sho_doctor, empty_team, client_for(ward.nurse_token))


def call_body(crash: CrashTeam, **overrides: Any) -> dict[str, Any]:
    return {
        "team": crash.team.pk,
        "message": "Cardiac arrest, bay 3",
        "bed": "3",
        "callback_extension": "2222",
        "nhs_number": NHS_NUMBER,
        **overrides,
    }


def test_a_team_call_bleeps_every_clinical_role_of_the_team_as_an_emergency(
    ward: Ward, crash: CrashTeam
) -> None:
    location = factories.make_location("Ward 7", ward.role.site)

    response = crash.nurse.post(TEAM_CALLS, call_body(crash, location=location.pk), format="json")

    assert response.status_code == 201, response.json()
    call = response.json()
    assert set(call) == {"id", "team", "created_at", "bleeps"}
    assert call["team"] == crash.team.pk
    assert [bleep["role"]["id"] for bleep in call["bleeps"]] == [ward.role.pk, crash.sho.pk]
    for bleep in call["bleeps"]:
        assert bleep["priority"] == "emergency"
        assert bleep["team_call"] == call["id"]
        assert bleep["sender"]["id"] == ward.nurse.pk
        assert (bleep["message"], bleep["bed"], bleep["location"]) == (
            "Cardiac arrest, bay 3",
            "3",
            "Ward 7",
        )
        assert (bleep["callback_extension"], bleep["nhs_number"]) == ("2222", NHS_NUMBER)
    recipients = [[d["recipient"]["id"] for d in b["deliveries"]] for b in call["bleeps"]]
    assert recipients == [[ward.doctor.pk], [crash.sho_doctor.pk]]
    assert TeamCall.objects.get().pk == call["id"]


def test_each_roles_bleep_starts_its_own_clock_by_its_own_policy(
    ward: Ward, crash: CrashTeam
) -> None:
    quick = StepDraft(
        action=StepAction.RENOTIFY,
        after_routine_seconds=120,
        after_urgent_seconds=60,
        after_emergency_seconds=30,
    )
    write_policy(actor=None, policy=None, role=crash.sho, repeat=0, steps=[quick], now=ward.now)

    response = crash.nurse.post(TEAM_CALLS, call_body(crash), format="json")

    bleeps = {b["role"]["id"]: Bleep.objects.get(pk=b["id"]) for b in response.json()["bleeps"]}
    waits = {
        role: [d.due_at - bleep.created_at for d in Deadline.objects.filter(bleep=bleep)]
        for role, bleep in bleeps.items()
    }
    assert waits == {ward.role.pk: [timedelta(seconds=60)], crash.sho.pk: [timedelta(seconds=30)]}


def test_the_same_key_again_answers_200_with_the_same_call_and_bleeps_nobody_twice(
    ward: Ward, crash: CrashTeam
) -> None:
    first = crash.nurse.post(TEAM_CALLS, call_body(crash, idempotency_key="crash-1"), format="json")

    again = crash.nurse.post(TEAM_CALLS, call_body(crash, idempotency_key="crash-1"), format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert [b["id"] for b in again.json()["bleeps"]] == [b["id"] for b in first.json()["bleeps"]]
    assert (TeamCall.objects.count(), Bleep.objects.count()) == (1, 2)


def test_without_a_key_each_call_is_a_new_one(ward: Ward, crash: CrashTeam) -> None:
    crash.nurse.post(TEAM_CALLS, call_body(crash), format="json")
    crash.nurse.post(TEAM_CALLS, call_body(crash), format="json")

    assert (TeamCall.objects.count(), Bleep.objects.count()) == (2, 4)


@pytest.mark.parametrize("job", ["doctor", "switchboard", "rota_manager"])
def test_anyone_signed_in_may_call_a_team(ward: Ward, crash: CrashTeam, job: str) -> None:
    caller = factories.make_person(f"caller.{job}", job=job)
    client = client_for(factories.make_device(caller)[1])

    response = client.post(TEAM_CALLS, call_body(crash), format="json")

    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_nobody_signed_out_calls_a_team() -> None:
    assert APIClient().post(TEAM_CALLS, {"team": 1, "message": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"team": 999999}, "team"),
        ({"team": None}, "team"),
        ({"message": ""}, "message"),
        ({"nhs_number": "9434765918"}, "nhs_number"),
        ({"callback_extension": "ext 22"}, "callback_extension"),
        ({"priority": "routine"}, "priority"),
        ({"role": 1}, "role"),
    ],
)
def test_a_bad_team_call_is_refused_naming_the_field(
    ward: Ward, crash: CrashTeam, change: dict[str, Any], field: str
) -> None:
    response = crash.nurse.post(TEAM_CALLS, call_body(crash, **change), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not Bleep.objects.exists()


def test_a_team_without_clinical_roles_is_refused_naming_the_team(
    ward: Ward, crash: CrashTeam
) -> None:
    factories.make_role("Radiology switchboard", team=crash.empty_team, kind=Role.Kind.SWITCHBOARD)

    response = crash.nurse.post(
        TEAM_CALLS, call_body(crash, team=crash.empty_team.pk), format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"team": ["this team has no clinical roles to call"]}
    assert not TeamCall.objects.exists()
