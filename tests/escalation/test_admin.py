"""The escalation admin: policies go through the same service and rules as REST."""

from typing import Any

import pytest
from django.db.models import Model
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from escalation.models import (
    BleepPlan,
    Deadline,
    OverdueAlert,
    Policy,
    PolicyStep,
    StepAction,
    WorkerHeartbeat,
)
from escalation.services.firing import beat_heartbeat
from escalation.services.policies import StepDraft, write_policy
from escalation.services.sending import send_bleep
from rota.models import RotaChange
from tests import factories
from tests.conftest import Ward

ADD = reverse("admin:escalation_policy_add")


@pytest.fixture
def admin(ward: Ward) -> Client:
    superuser = factories.make_person("root.admin", is_staff=True, is_superuser=True)
    client = Client()
    factories.sign_in_to_admin(client, superuser)
    return client


def step_fields(index: int, action: str = "renotify", **overrides: Any) -> dict[str, Any]:
    fields = {
        "order": "",
        "action": action,
        "target_role": "",
        "target_team": "",
        "after_routine_seconds": 300,
        "after_urgent_seconds": 120,
        "after_emergency_seconds": 60,
        "id": "",
        "DELETE": "",
        **overrides,
    }
    return {f"steps-{index}-{name}": value for name, value in fields.items() if value is not None}


def form(*steps: dict[str, Any], initial: int = 0, **policy: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": "",
        "team": "",
        "site": "",
        "repeat": 0,
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": initial,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": Policy.MAX_STEPS,
        **policy,
    }
    for fields in steps:
        data.update(fields)
    return data


def stored(policy: Policy) -> list[tuple[int, str, int]]:
    return list(
        PolicyStep.objects.filter(policy=policy)
        .order_by("position")
        .values_list("position", "action", "after_routine_seconds")
    )


def test_a_policy_added_in_the_admin_is_saved_with_its_steps_and_audited(
    admin: Client, ward: Ward
) -> None:
    data = form(
        step_fields(0),
        step_fields(1, "escalate", after_routine_seconds=600),
        role=ward.role.pk,
        repeat=2,
    )

    response = admin.post(ADD, data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    policy = Policy.objects.get()
    assert (policy.role, policy.repeat) == (ward.role, 2)
    assert stored(policy) == [(1, "renotify", 300), (2, "escalate", 600)]
    change = RotaChange.objects.get(model="Policy", object_id=policy.pk)
    assert change.action == "admin"
    assert change.actor is not None and change.actor.username == "root.admin"


def refused_page(admin: Client, data: dict[str, Any]) -> str:
    response = admin.post(ADD, data)
    assert response.status_code == 200  # the form again, with the error
    return response.content.decode()


def test_a_step_that_breaks_a_rule_is_shown_on_the_form_and_nothing_is_stored(
    admin: Client, ward: Ward
) -> None:
    data = form(step_fields(0, after_urgent_seconds=900), role=ward.role.pk)

    page = refused_page(admin, data)

    assert "urgent must not wait longer than routine" in page
    assert not Policy.objects.exists()


def test_a_target_the_action_does_not_take_is_shown_with_the_services_words(
    admin: Client, ward: Ward
) -> None:
    data = form(step_fields(0, target_team=ward.role.team_id), role=ward.role.pk)

    page = refused_page(admin, data)

    assert "only a broadcast_team step names a team" in page
    assert not Policy.objects.exists()


def test_a_policy_needs_exactly_one_scope_in_the_admin_too(admin: Client, ward: Ward) -> None:
    data = form(step_fields(0), role=ward.role.pk, team=ward.role.team_id)

    page = refused_page(admin, data)

    assert "give exactly one of role, team or site" in page
    assert not Policy.objects.exists()


def test_a_second_policy_for_a_role_is_refused_in_the_admin(admin: Client, ward: Ward) -> None:
    assert admin.post(ADD, form(step_fields(0), role=ward.role.pk)).status_code == 302

    page = refused_page(admin, form(step_fields(0), role=ward.role.pk))

    assert "this role already has a policy" in page
    assert Policy.objects.count() == 1


def test_a_policy_without_steps_is_refused_in_the_admin(admin: Client, ward: Ward) -> None:
    page = refused_page(admin, form(role=ward.role.pk))

    assert "from 1 to 12 steps" in page
    assert not Policy.objects.exists()


def test_a_last_step_that_would_ring_in_a_tight_loop_is_refused_in_the_admin(
    admin: Client, ward: Ward
) -> None:
    quick: dict[str, Any] = {
        "after_routine_seconds": 10,
        "after_urgent_seconds": 10,
        "after_emergency_seconds": 5,
    }
    data = form(step_fields(0), step_fields(1, **quick), role=ward.role.pk)

    page = refused_page(admin, data)

    assert "the last step repeats until someone answers" in page
    assert not Policy.objects.exists()


def test_the_admin_reorders_and_removes_steps_through_the_service(
    admin: Client, ward: Ward
) -> None:
    drafts = [
        StepDraft(
            action=action,
            after_routine_seconds=seconds,
            after_urgent_seconds=60,
            after_emergency_seconds=30,
        )
        for action, seconds in [
            (StepAction.RENOTIFY, 100),
            (StepAction.ESCALATE, 200),
            (StepAction.NOTIFY_SWITCHBOARD, 300),
        ]
    ]
    policy = write_policy(
        actor=None, policy=None, role=ward.role, repeat=0, steps=drafts, now=ward.now
    )
    first, second, third = PolicyStep.objects.filter(policy=policy).order_by("position")
    waits: dict[str, Any] = {"after_urgent_seconds": 60, "after_emergency_seconds": 30}
    data = form(
        step_fields(0, order=3, id=first.pk, policy=policy.pk, after_routine_seconds=100, **waits),
        step_fields(1, "escalate", id=second.pk, policy=policy.pk, DELETE="on", **waits),
        step_fields(2, "notify_switchboard", order=1, id=third.pk, policy=policy.pk, **waits),
        step_fields(3, "escalate", after_routine_seconds=400, policy=policy.pk, **waits),
        initial=3,
        role=ward.role.pk,
        repeat=1,
    )

    response = admin.post(reverse("admin:escalation_policy_change", args=[policy.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert stored(policy) == [
        (1, "notify_switchboard", 300),
        (2, "renotify", 100),
        (3, "escalate", 400),
    ]
    change = RotaChange.objects.filter(model="Policy").latest("pk")
    assert (change.action, change.before is not None) == ("admin", True)


def test_deleting_a_policy_in_the_admin_goes_through_the_service(admin: Client, ward: Ward) -> None:
    draft = StepDraft(
        action=StepAction.RENOTIFY,
        after_routine_seconds=300,
        after_urgent_seconds=120,
        after_emergency_seconds=60,
    )
    policy = write_policy(
        actor=None, policy=None, role=ward.role, repeat=0, steps=[draft], now=ward.now
    )

    response = admin.post(
        reverse("admin:escalation_policy_delete", args=[policy.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Policy.objects.exists()
    deleted = RotaChange.objects.get(model="Policy", action="delete")
    assert deleted.actor is not None and deleted.actor.username == "root.admin"


def test_a_policys_page_and_the_read_only_plans_and_alerts_open(admin: Client, ward: Ward) -> None:
    draft = StepDraft(
        action=StepAction.BROADCAST_TEAM,
        target_team=ward.role.team,
        after_routine_seconds=300,
        after_urgent_seconds=120,
        after_emergency_seconds=60,
    )
    policy = write_policy(
        actor=None, policy=None, role=ward.role, repeat=0, steps=[draft], now=ward.now
    )
    send_bleep(sender=ward.nurse, device=None, draft=factories.draft(ward.role), now=timezone.now())
    OverdueAlert.objects.create(raised_at=ward.now, overdue=2, oldest_due_at=ward.now)
    pages = [
        reverse("admin:escalation_policy_changelist"),
        reverse("admin:escalation_policy_change", args=[policy.pk]),
        reverse("admin:escalation_bleepplan_change", args=[BleepPlan.objects.get().pk]),
        reverse("admin:escalation_overduealert_change", args=[OverdueAlert.objects.get().pk]),
    ]

    for page in pages:
        assert admin.get(page).status_code == 200, page
    assert admin.get(reverse("admin:escalation_bleepplan_add")).status_code == 403
    assert admin.get(reverse("admin:escalation_overduealert_add")).status_code == 403


def assert_shown_but_never_changed(admin: Client, row: Model) -> None:
    """Open a row's admin pages; refuse every way to add, change or delete it."""
    meta = row._meta
    url = f"admin:{meta.app_label}_{meta.model_name}"
    before = model_to_dict(row)
    changelist = admin.get(reverse(f"{url}_changelist"))
    assert changelist.status_code == 200
    assert b"delete_selected" not in changelist.content
    page = admin.get(reverse(f"{url}_change", args=[row.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content

    assert admin.get(reverse(f"{url}_add")).status_code == 403
    assert admin.post(reverse(f"{url}_change", args=[row.pk]), {}).status_code == 403
    assert admin.get(reverse(f"{url}_delete", args=[row.pk])).status_code == 403
    assert admin.post(reverse(f"{url}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    admin.post(
        reverse(f"{url}_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    row.refresh_from_db()
    assert model_to_dict(row) == before, url


@pytest.mark.hazard("HZ-19")
def test_the_admin_shows_but_never_changes_or_deletes_deadlines_heartbeats_plans_or_alerts(
    admin: Client, ward: Ward
) -> None:
    send_bleep(sender=ward.nurse, device=None, draft=factories.draft(ward.role), now=ward.now)
    beat_heartbeat(worker="worker-1", now=ward.now)
    OverdueAlert.objects.create(raised_at=ward.now, overdue=2, oldest_due_at=ward.now)

    for row in [
        Deadline.objects.get(),
        WorkerHeartbeat.objects.get(),
        BleepPlan.objects.get(),
        OverdueAlert.objects.get(),
    ]:
        assert_shown_but_never_changed(admin, row)
