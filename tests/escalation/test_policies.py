"""Saving and deleting escalation policies: one test per rule, all or nothing, and the audit."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from escalation.exceptions import InvalidEscalationData
from escalation.models import Policy, PolicyStep, StepAction
from escalation.selectors import effective_policy
from escalation.services import policies
from escalation.services.policies import (
    MIN_LAST_STEP_SECONDS,
    StepDraft,
    delete_policy,
    save_policy,
)
from escalation.services.sending import send_bleep
from messaging.models import Priority
from rota.models import Person, Role, RotaChange, RotaManagerScope, Site, Team
from tests import factories
from tests.conftest import Ward

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Hospital:
    """One site's medical and surgical teams, and a role on another site."""

    site: Site
    medicine: Team
    surgery: Team
    registrar: Role
    consultant: Role
    elsewhere: Role
    manager: Person


@pytest.fixture
def hospital() -> Hospital:
    site = factories.make_site()
    medicine = factories.make_team("Medicine", site)
    surgery = factories.make_team("Surgery", site)
    consultant = factories.make_role("Medical Consultant", team=medicine)
    registrar = factories.make_role("Medical Registrar", team=medicine, fallback=consultant)
    other_site = factories.make_site("Other General")
    elsewhere = factories.make_role("Registrar", team=factories.make_team("Medicine", other_site))
    manager = factories.make_person("mo.manager", job=Person.Job.ROTA_MANAGER)
    for managed in (site, other_site):
        RotaManagerScope.objects.create(person=manager, site=managed)
    return Hospital(site, medicine, surgery, registrar, consultant, elsewhere, manager)


def step(action: StepAction = StepAction.RENOTIFY, **overrides: Any) -> StepDraft:
    waits = {
        "after_routine_seconds": 300,
        "after_urgent_seconds": 120,
        "after_emergency_seconds": 60,
    }
    return StepDraft(action=action, **{**waits, **overrides})


def save(hospital: Hospital, **overrides: Any) -> Policy:
    arguments: dict[str, Any] = {
        "actor": hospital.manager,
        "policy": None,
        "role": hospital.registrar,
        "repeat": 1,
        "steps": [step(), step(StepAction.ESCALATE)],
        "now": T0,
        **overrides,
    }
    return save_policy(**arguments)


def refused(hospital: Hospital, **overrides: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidEscalationData) as error:
        save(hospital, **overrides)
    return error.value.errors


def stored_steps(policy: Policy) -> list[tuple[int, str, int | None, int]]:
    return list(
        PolicyStep.objects.filter(policy=policy)
        .order_by("position")
        .values_list("position", "action", "target_role", "after_routine_seconds")
    )


def test_a_new_policy_stores_its_steps_in_order_from_position_one(hospital: Hospital) -> None:
    policy = save(
        hospital,
        steps=[
            step(StepAction.NOTIFY_SWITCHBOARD, after_routine_seconds=600),
            step(StepAction.ESCALATE, target_role=hospital.consultant),
            step(),
        ],
    )

    assert (policy.role, policy.repeat, policy.updated_at) == (hospital.registrar, 1, T0)
    assert stored_steps(policy) == [
        (1, "notify_switchboard", None, 600),
        (2, "escalate", hospital.consultant.pk, 300),
        (3, "renotify", None, 300),
    ]


def test_saving_again_replaces_the_whole_policy_and_every_step(hospital: Hospital) -> None:
    policy = save(hospital)
    later = T0 + timedelta(hours=1)

    saved = save(
        hospital,
        policy=policy,
        role=None,
        team=hospital.medicine,
        repeat=0,
        steps=[step(StepAction.BROADCAST_TEAM, target_team=hospital.surgery)],
        now=later,
    )

    assert saved.pk == policy.pk
    assert Policy.objects.get().team == hospital.medicine
    assert Policy.objects.get().role is None
    assert (saved.repeat, saved.updated_at) == (0, later)
    assert stored_steps(saved) == [(1, "broadcast_team", None, 300)]


@pytest.mark.parametrize("given", ["no scope", "a role and a team", "a role and a site"])
def test_a_policy_has_exactly_one_scope(hospital: Hospital, given: str) -> None:
    choices: dict[str, dict[str, Any]] = {
        "no scope": {"role": None},
        "a role and a team": {"team": hospital.medicine},
        "a role and a site": {"site": hospital.site},
    }
    scopes = choices[given]

    errors = refused(hospital, **scopes)

    assert errors == {"role": ["give exactly one of role, team or site"]}
    assert not Policy.objects.exists()


@pytest.mark.parametrize("scope", ["role", "team", "site"])
def test_a_scope_has_at_most_one_policy(hospital: Hospital, scope: str) -> None:
    target = {"role": hospital.registrar, "team": hospital.medicine, "site": hospital.site}[scope]
    scoped = {"role": None, scope: target}
    save(hospital, **scoped)

    errors = refused(hospital, **scoped)

    assert list(errors) == [scope]
    assert Policy.objects.count() == 1


def test_two_policies_for_one_scope_at_once_are_a_refusal_not_a_crash(
    hospital: Hospital, monkeypatch: pytest.MonkeyPatch
) -> None:
    save(hospital)
    # As if a second manager's check ran before the first manager's policy committed.
    monkeypatch.setattr(policies, "check_policy", lambda **kwargs: None)

    errors = refused(hospital)

    assert list(errors) == ["role"]
    assert Policy.objects.count() == 1


@pytest.mark.parametrize("count", [0, Policy.MAX_STEPS + 1])
def test_a_policy_has_one_to_twelve_steps(hospital: Hospital, count: int) -> None:
    errors = refused(hospital, steps=[step()] * count)

    assert list(errors) == ["steps"]


def test_a_policy_may_have_the_most_steps_allowed(hospital: Hospital) -> None:
    policy = save(hospital, steps=[step()] * Policy.MAX_STEPS)

    assert PolicyStep.objects.filter(policy=policy).count() == Policy.MAX_STEPS


@pytest.mark.parametrize("repeat", [-1, Policy.MAX_REPEAT + 1])
def test_repeat_is_from_zero_to_ten(hospital: Hospital, repeat: int) -> None:
    assert list(refused(hospital, repeat=repeat)) == ["repeat"]


@pytest.mark.parametrize("field", ["after_routine_seconds", "after_urgent_seconds"])
@pytest.mark.parametrize("seconds", [-1, PolicyStep.MAX_AFTER_SECONDS + 1])
def test_a_wait_is_from_zero_seconds_to_a_day(hospital: Hospital, field: str, seconds: int) -> None:
    waits: dict[str, Any] = {"after_routine_seconds": PolicyStep.MAX_AFTER_SECONDS, field: seconds}
    bad = replace(step(), **waits)

    errors = refused(hospital, steps=[bad, step()])

    assert list(errors) == [f"steps[0].{field}"]


def test_a_negative_emergency_wait_is_refused(hospital: Hospital) -> None:
    errors = refused(hospital, steps=[step(), step(after_emergency_seconds=-1)])

    assert list(errors) == ["steps[1].after_emergency_seconds"]


def test_a_step_may_come_at_once(hospital: Hospital) -> None:
    at_once = step(after_routine_seconds=0, after_urgent_seconds=0, after_emergency_seconds=0)

    policy = save(hospital, steps=[at_once, step()])

    assert stored_steps(policy)[0] == (1, "renotify", None, 0)


def test_an_emergency_never_waits_longer_than_an_urgent_bleep(hospital: Hospital) -> None:
    errors = refused(hospital, steps=[step(after_emergency_seconds=121), step()])

    assert errors == {
        "steps[0].after_emergency_seconds": ["an emergency must not wait longer than urgent"]
    }


def test_an_urgent_bleep_never_waits_longer_than_a_routine_one(hospital: Hospital) -> None:
    errors = refused(hospital, steps=[step(), step(after_urgent_seconds=301)])

    assert errors == {"steps[1].after_urgent_seconds": ["urgent must not wait longer than routine"]}


def test_the_last_step_waits_long_enough_not_to_ring_in_a_tight_loop(hospital: Hospital) -> None:
    quick = MIN_LAST_STEP_SECONDS - 1

    errors = refused(hospital, steps=[step(), step(after_emergency_seconds=quick)])

    assert list(errors) == ["steps[1].after_emergency_seconds"]


def test_an_escalation_may_go_up_the_chain_without_naming_a_role(hospital: Hospital) -> None:
    policy = save(hospital, steps=[step(StepAction.ESCALATE)])

    assert stored_steps(policy) == [(1, "escalate", None, 300)]


def test_an_escalation_names_a_role_on_the_policys_site(hospital: Hospital) -> None:
    errors = refused(hospital, steps=[step(StepAction.ESCALATE, target_role=hospital.elsewhere)])

    assert errors == {"steps[0].target_role": ["the role must be on the policy's site"]}


def test_a_site_policy_escalates_to_a_role_on_that_site(hospital: Hospital) -> None:
    escalate = step(StepAction.ESCALATE, target_role=hospital.consultant)

    policy = save(hospital, role=None, site=hospital.site, steps=[escalate])

    assert stored_steps(policy) == [(1, "escalate", hospital.consultant.pk, 300)]


def test_a_broadcast_names_its_team(hospital: Hospital) -> None:
    errors = refused(hospital, steps=[step(StepAction.BROADCAST_TEAM)])

    assert errors == {"steps[0].target_team": ["name the team to broadcast to"]}


def test_a_broadcast_names_a_team_on_the_policys_site(hospital: Hospital) -> None:
    other_team = hospital.elsewhere.team

    errors = refused(hospital, steps=[step(StepAction.BROADCAST_TEAM, target_team=other_team)])

    assert errors == {"steps[0].target_team": ["the team must be on the policy's site"]}


@pytest.mark.parametrize(
    "action", [StepAction.RENOTIFY, StepAction.NOTIFY_SWITCHBOARD, StepAction.BROADCAST_TEAM]
)
def test_only_an_escalation_names_a_role(hospital: Hospital, action: StepAction) -> None:
    named = step(action, target_role=hospital.consultant, target_team=hospital.surgery)

    assert list(refused(hospital, steps=[named])) == ["steps[0].target_role"]


@pytest.mark.parametrize("action", [StepAction.RENOTIFY, StepAction.ESCALATE])
def test_only_a_broadcast_names_a_team(hospital: Hospital, action: StepAction) -> None:
    named = step(action, target_team=hospital.surgery)

    assert list(refused(hospital, steps=[named])) == ["steps[0].target_team"]


def test_a_refused_change_leaves_the_policy_its_steps_and_the_audit_as_they_were(
    hospital: Hospital,
) -> None:
    policy = save(hospital)
    steps_before = stored_steps(policy)
    audit_before = RotaChange.objects.count()

    refused(hospital, policy=policy, repeat=3, steps=[step(), step(StepAction.BROADCAST_TEAM)])

    policy.refresh_from_db()
    assert (policy.repeat, policy.updated_at) == (1, T0)
    assert stored_steps(policy) == steps_before
    assert RotaChange.objects.count() == audit_before


def test_a_failure_while_writing_stores_nothing(
    hospital: Hospital, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = save(hospital)
    steps_before = stored_steps(policy)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(policies, "_record", broken)
    with pytest.raises(RuntimeError):
        save(hospital, policy=policy, repeat=5, steps=[step()])

    policy.refresh_from_db()
    assert policy.repeat == 1
    assert stored_steps(policy) == steps_before


def test_creating_changing_and_deleting_are_each_one_row_of_the_audit(hospital: Hospital) -> None:
    policy = save(hospital, steps=[step()])
    save(hospital, policy=policy, repeat=2, steps=[step(), step(StepAction.NOTIFY_SWITCHBOARD)])
    delete_policy(actor=hospital.manager, policy=policy, now=T0 + timedelta(minutes=5))

    changes = list(RotaChange.objects.filter(model="Policy", object_id=policy.pk))
    assert [change.action for change in changes] == ["create", "update", "delete"]
    assert {change.actor for change in changes} == {hospital.manager}
    created, updated, deleted = changes
    assert created.before is None
    assert created.after is not None and created.after["role"] == hospital.registrar.pk
    assert [s["action"] for s in created.after["steps"]] == ["renotify"]
    assert updated.before == created.after
    assert updated.after is not None and updated.after["repeat"] == 2
    assert [s["action"] for s in updated.after["steps"]] == ["renotify", "notify_switchboard"]
    assert deleted.before == updated.after
    assert deleted.after is None


def test_deleting_a_policy_deletes_its_steps(hospital: Hospital) -> None:
    policy = save(hospital)

    delete_policy(actor=hospital.manager, policy=policy, now=T0)

    assert not Policy.objects.exists()
    assert not PolicyStep.objects.exists()


def test_deleting_a_policy_twice_changes_nothing_the_second_time(hospital: Hospital) -> None:
    policy = save(hospital)
    delete_policy(actor=hospital.manager, policy=policy, now=T0)

    delete_policy(actor=hospital.manager, policy=policy, now=T0)

    assert RotaChange.objects.filter(model="Policy", action="delete").count() == 1


def test_a_bleep_in_flight_keeps_the_policy_it_was_sent_with(ward: Ward) -> None:
    manager = factories.site_manager(ward.role.site)
    policy = save_policy(
        actor=manager, policy=None, role=ward.role, repeat=0, steps=[step()], now=ward.now
    )
    bleep = send_bleep(
        sender=ward.nurse, device=ward.nurse_device, draft=factories.draft(ward.role), now=ward.now
    ).bleep

    save_policy(
        actor=manager,
        policy=policy,
        role=ward.role,
        repeat=3,
        steps=[step(StepAction.NOTIFY_SWITCHBOARD, after_routine_seconds=900)],
        now=ward.now,
    )
    delete_policy(actor=manager, policy=policy, now=ward.now)

    bleep.plan.refresh_from_db()
    assert (bleep.plan.source, bleep.plan.repeat) == ("role", 0)
    assert [s["action"] for s in bleep.plan.steps] == ["renotify"]


def test_a_roles_own_policy_beats_its_teams_which_beats_its_sites(hospital: Hospital) -> None:
    save(hospital, role=None, site=hospital.site, repeat=3)
    assert effective_policy(hospital.registrar).source == "site"
    team_policy = save(hospital, role=None, team=hospital.medicine, repeat=2)
    assert effective_policy(hospital.registrar).policy == team_policy
    save(hospital, repeat=1)

    effective = effective_policy(hospital.registrar)

    assert (effective.source, effective.repeat) == ("role", 1)
    assert effective_policy(hospital.consultant).source == "team"


def test_a_role_without_any_policy_shows_the_built_in_default(hospital: Hospital) -> None:
    effective = effective_policy(hospital.registrar)

    assert (effective.source, effective.policy, effective.repeat) == ("default", None, 0)
    assert [(s.position, s.action) for s in effective.steps] == [
        (1, StepAction.RENOTIFY),
        (2, StepAction.ESCALATE),
        (3, StepAction.NOTIFY_SWITCHBOARD),
    ]
    first = effective.steps[0]
    waits = (first.after_routine_seconds, first.after_urgent_seconds, first.after_emergency_seconds)
    assert waits == (300, 120, 60)


def test_the_built_in_default_obeys_the_rules_a_manager_must(hospital: Hospital) -> None:
    default = [
        StepDraft(
            action=StepAction(s.action),
            after_routine_seconds=s.after_routine_seconds,
            after_urgent_seconds=s.after_urgent_seconds,
            after_emergency_seconds=s.after_emergency_seconds,
        )
        for s in effective_policy(hospital.registrar).steps
    ]

    policies.check_steps(steps=default, site_id=hospital.site.pk)


def test_waits_are_per_priority_as_a_bleep_of_each_priority_copies_them(ward: Ward) -> None:
    manager = factories.site_manager(ward.role.site)
    save_policy(
        actor=manager,
        policy=None,
        role=ward.role,
        repeat=0,
        steps=[
            step(after_routine_seconds=900, after_urgent_seconds=400, after_emergency_seconds=45)
        ],
        now=ward.now,
    )
    draft = factories.draft(ward.role, priority=Priority.URGENT)

    bleep = send_bleep(sender=ward.nurse, device=None, draft=draft, now=ward.now).bleep

    assert bleep.deadlines.get().due_at == ward.now + timedelta(seconds=400)
