"""What each step of a bleep's plan does: policies, escalation up the chain, switchboard,
teams, declines, handover at a shift change and emergency team calls. Time is an argument."""

import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from escalation.models import BleepPlan, Deadline, OverdueAlert, Policy, PolicyStep, StepAction
from escalation.services.firing import fire_due_deadlines
from escalation.services.handover import hand_over_open_bleeps
from escalation.services.sending import decline_bleep, send_bleep, send_team_call
from escalation.services.watchdog import OVERDUE_AFTER, watch_deadlines
from messaging.models import (
    Bleep,
    BleepStatus,
    HistoryEntry,
    Priority,
    PushMessage,
    StreamEvent,
)
from messaging.push import register_push_subscription
from messaging.services.answers import acknowledge_bleep
from messaging.services.bleeps import BleepDraft
from rota.models import Person, Role, Shift, Team
from tests import factories
from tests.conftest import Ward
from tests.push_service import PushService

MINUTE = timedelta(minutes=1)
# More turns than any plan in these tests has steps: a bleep still firing after this spins.
MAX_TURNS = 20


def make_policy(
    *steps: tuple[str, int] | tuple[str, int, Role | Team],
    repeat: int = 0,
    **scope: object,
) -> Policy:
    """Make a policy whose steps wait the same number of seconds for every priority."""
    policy = Policy.objects.create(repeat=repeat, updated_at=timezone.now(), **scope)
    for position, (action, seconds, *target) in enumerate(steps, start=1):
        PolicyStep.objects.create(
            policy=policy,
            position=position,
            action=action,
            target_role=target[0] if target and isinstance(target[0], Role) else None,
            target_team=target[0] if target and isinstance(target[0], Team) else None,
            after_routine_seconds=seconds,
            after_urgent_seconds=seconds,
            after_emergency_seconds=seconds,
        )
    return policy


def send(ward: Ward, role: Role | None = None, priority: Priority = Priority.ROUTINE) -> Bleep:
    return send_bleep(
        sender=ward.nurse,
        device=ward.nurse_device,
        draft=factories.draft(role or ward.role, priority=priority),
        now=ward.now,
    ).bleep


def recipients(bleep: Bleep) -> list[int]:
    return sorted(bleep.deliveries.values_list("recipient_id", flat=True))


def pending_due(bleep: Bleep) -> datetime:
    return Deadline.objects.get(bleep=bleep, fired_at__isnull=True).due_at


def event_types(person: Person) -> list[str]:
    stream = StreamEvent.objects.filter(user=person).order_by("seq")
    return list(stream.values_list("type", flat=True))


def test_a_roles_own_policy_beats_its_teams_which_beats_its_sites(ward: Ward) -> None:
    make_policy(("renotify", 30), site=ward.role.site)
    assert BleepPlan.objects.get(bleep=send(ward)).source == "site"
    make_policy(("renotify", 20), team=ward.role.team)
    assert BleepPlan.objects.get(bleep=send(ward)).source == "team"
    make_policy(("renotify", 10), role=ward.role)
    bleep = send(ward)
    assert BleepPlan.objects.get(bleep=bleep).source == "role"
    assert pending_due(bleep) == ward.now + timedelta(seconds=10)


def test_with_no_policy_anywhere_the_built_in_default_governs(ward: Ward) -> None:
    plan = BleepPlan.objects.get(bleep=send(ward, priority=Priority.URGENT))
    assert plan.source == "default"
    assert [step["action"] for step in plan.steps] == ["renotify", "escalate", "notify_switchboard"]
    assert {step["after_seconds"] for step in plan.steps} == {120}


def test_the_policys_timings_follow_the_bleeps_priority(ward: Ward) -> None:
    policy = make_policy(("renotify", 300), role=ward.role)
    policy.steps.update(after_emergency_seconds=30)
    bleep = send(ward, priority=Priority.EMERGENCY)
    assert pending_due(bleep) == ward.now + timedelta(seconds=30)


@pytest.mark.hazard("HZ-04")
def test_a_bleep_in_flight_keeps_the_policy_it_was_sent_with(ward: Ward) -> None:
    policy = make_policy(("renotify", 60), ("notify_switchboard", 60), role=ward.role)
    bleep = send(ward)
    policy.steps.all().delete()
    policy.delete()
    make_policy(("renotify", 600), role=ward.role)

    fire_due_deadlines(now=ward.now + MINUTE)
    fire_due_deadlines(now=ward.now + 2 * MINUTE)

    assert ward.operator.pk in recipients(bleep)


def test_an_escalation_to_a_named_role_brings_its_holders_in(ward: Ward) -> None:
    consultant_role = factories.make_role("Consultant physician", fallback=ward.switchboard_role)
    consultant = factories.make_person("ada.brook")
    factories.on_call_now(consultant_role, consultant, ward.now)
    make_policy(("escalate", 60, consultant_role), role=ward.role)
    bleep = send(ward)

    fire_due_deadlines(now=ward.now + MINUTE)

    added = bleep.deliveries.get(recipient=consultant)
    assert added.role == consultant_role
    assert BleepPlan.objects.get(bleep=bleep).reached_role == consultant_role
    escalated = StreamEvent.objects.get(user=consultant, type="bleep.escalated")
    assert escalated.data["bleep"]["id"] == bleep.pk
    assert "bleep.escalated" in event_types(ward.doctor)
    assert "bleep.escalated" in event_types(ward.nurse)


def test_escalation_without_a_target_climbs_the_fallback_chain_one_role_at_a_time(
    ward: Ward,
) -> None:
    consultant_role = factories.make_role("Consultant physician", fallback=ward.switchboard_role)
    ward.role.fallback = consultant_role
    ward.role.save()
    consultant = factories.make_person("ada.brook")
    factories.on_call_now(consultant_role, consultant, ward.now)
    make_policy(("escalate", 60), repeat=2, role=ward.role)
    bleep = send(ward)

    fire_due_deadlines(now=ward.now + MINUTE)
    assert recipients(bleep) == sorted([ward.doctor.pk, consultant.pk])
    fire_due_deadlines(now=ward.now + 2 * MINUTE)
    assert recipients(bleep) == sorted([ward.doctor.pk, consultant.pk, ward.operator.pk])


def test_a_broadcast_brings_in_every_holder_of_the_teams_roles(ward: Ward) -> None:
    surgery = factories.make_team("Surgery", site=ward.role.site)
    people = []
    for name in ("Surgical registrar", "Surgical F1"):
        person = factories.make_person(name.lower().replace(" ", "."))
        factories.on_call_now(factories.make_role(name, team=surgery), person, ward.now)
        people.append(person.pk)
    make_policy(("broadcast_team", 60, surgery), role=ward.role)
    bleep = send(ward)

    fire_due_deadlines(now=ward.now + MINUTE)

    assert recipients(bleep) == sorted([ward.doctor.pk, *people])


@pytest.mark.hazard("HZ-04")
def test_after_its_last_repeat_a_plan_brings_switchboard_in_then_keeps_reminding(
    ward: Ward,
) -> None:
    make_policy(("renotify", 60), repeat=1, role=ward.role)
    bleep = send(ward)

    for minute in range(1, 6):
        assert fire_due_deadlines(now=ward.now + minute * MINUTE) == 1

    steps = HistoryEntry.objects.filter(bleep=bleep, delivery__isnull=True).exclude(action="send")
    assert list(steps.values_list("action", "detail__step")) == [
        ("renotify", 1),
        ("renotify", 2),
        ("notify_switchboard", 3),
        ("renotify", 4),
        ("renotify", 5),
    ]
    assert pending_due(bleep) == ward.now + 6 * MINUTE


def test_when_everyone_declines_the_next_step_is_due_at_once(ward: Ward) -> None:
    bleep = send(ward)
    declined_at = ward.now + timedelta(seconds=20)

    decline_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=declined_at
    )

    assert pending_due(bleep) == declined_at
    assert fire_due_deadlines(now=declined_at) == 1


def test_while_someone_is_still_waiting_a_decline_moves_nothing(ward: Ward) -> None:
    sara = factories.make_person("sara.lind")
    factories.on_call_now(ward.role, sara, ward.now)
    bleep = send(ward)
    before = pending_due(bleep)

    decline_bleep(device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=ward.now)

    assert pending_due(bleep) == before


def fire_all(now: datetime) -> int:
    """Take the worker's turns at `now` until one fires nothing; return the steps fired."""
    fired = 0
    for _ in range(MAX_TURNS):
        count = fire_due_deadlines(now=now)
        if not count:
            return fired
        fired += count
    raise AssertionError(f"steps still due at {now} after {MAX_TURNS} turns: spinning")


def plan_steps_run(bleep: Bleep) -> list[tuple[str, int]]:
    """Return each step the bleep's plan ran so far, as recorded: (action, step)."""
    entries = HistoryEntry.objects.filter(bleep=bleep, delivery__isnull=True).exclude(
        action__in=["send", "decline"]
    )
    return list(entries.order_by("pk").values_list("action", "detail__step"))


@pytest.mark.hazard("HZ-17")
def test_with_the_built_in_default_the_lone_holder_declining_brings_the_next_role_in_at_once(
    ward: Ward,
) -> None:
    consultant_role = factories.make_role("Consultant physician", fallback=ward.switchboard_role)
    ward.role.fallback = consultant_role
    ward.role.save()
    consultant = factories.make_person("ada.brook")
    factories.on_call_now(consultant_role, consultant, ward.now)
    bleep = send(ward, priority=Priority.URGENT)
    declined_at = ward.now + timedelta(seconds=20)

    decline_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=declined_at
    )
    assert fire_all(declined_at) == 2

    # The reminder found nobody to remind and went straight on to the escalation.
    assert plan_steps_run(bleep) == [("skip", 1), ("escalate", 2)]
    assert recipients(bleep) == sorted([ward.doctor.pk, consultant.pk])
    assert event_types(consultant) == ["bleep.escalated"]
    assert pending_due(bleep) == declined_at + 2 * MINUTE


@pytest.mark.hazard("HZ-17")
def test_when_everyone_declines_past_the_plans_end_the_reminders_keep_their_interval(
    ward: Ward,
) -> None:
    operator_device, _ = factories.make_device(ward.operator)
    bleep = send(ward, priority=Priority.URGENT)
    first_decline = ward.now + timedelta(seconds=20)
    decline_bleep(
        device=ward.doctor_device, bleep_id=bleep.pk, reason="in theatre", now=first_decline
    )
    fire_all(first_decline)  # the escalation up the chain reaches switchboard's role
    assert recipients(bleep) == sorted([ward.doctor.pk, ward.operator.pk])
    last_decline = first_decline + timedelta(seconds=30)

    decline_bleep(device=operator_device, bleep_id=bleep.pk, reason="line busy", now=last_decline)
    assert fire_all(last_decline) == 2

    # Switchboard's own step and the one after the plan found nobody new and nobody
    # waiting; the reminders after them keep the last interval instead of running on.
    assert plan_steps_run(bleep) == [
        ("skip", 1),
        ("escalate", 2),
        ("skip", 3),
        ("skip", 4),
    ]
    assert pending_due(bleep) == last_decline + 2 * MINUTE
    assert fire_due_deadlines(now=last_decline + MINUTE) == 0


@pytest.mark.hazard("HZ-04")
def test_a_step_that_fails_reminds_instead_and_the_plan_goes_on(
    ward: Ward, caplog: pytest.LogCaptureFixture
) -> None:
    make_policy(("escalate", 60, ward.role), ("renotify", 60), role=ward.role)
    bleep = send(ward)
    Shift.objects.all().delete()
    Person.objects.filter(job=Person.Job.SWITCHBOARD).update(is_active=False)

    with caplog.at_level(logging.ERROR):
        assert fire_due_deadlines(now=ward.now + MINUTE) == 1

    assert "step 1 of bleep" in caplog.text
    assert HistoryEntry.objects.filter(bleep=bleep, action="renotify").exists()
    assert pending_due(bleep) == ward.now + 2 * MINUTE


@pytest.mark.hazard("HZ-01")
def test_at_a_shift_change_the_incoming_holder_joins_the_open_bleep_and_both_see_it(
    ward: Ward,
) -> None:
    bleep = send(ward)
    answered = send(ward)
    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=answered.pk, eta_minutes=None, comment="", now=ward.now
    )
    handover = ward.now + timedelta(hours=11)
    Shift.objects.filter(role=ward.role).update(end=handover)
    night = factories.make_person("noor.patel")
    factories.make_shift(ward.role, night, start=handover)

    assert hand_over_open_bleeps(now=handover) == 1
    assert hand_over_open_bleeps(now=handover + MINUTE) == 0

    assert recipients(bleep) == sorted([ward.doctor.pk, night.pk])
    assert night.pk not in recipients(answered)
    assert event_types(night) == ["bleep.handed_over"]
    assert event_types(ward.doctor)[-1] == "bleep.handed_over"


def test_an_emergency_team_call_bleeps_each_clinical_role_and_each_must_answer(
    ward: Ward,
) -> None:
    anaesthetist_role = factories.make_role("Anaesthetist on call", team=ward.role.team)
    anaesthetist = factories.make_person("ines.moreau")
    factories.on_call_now(anaesthetist_role, anaesthetist, ward.now)
    template = BleepDraft(message="Cardiac arrest", bed="4", idempotency_key="crash-1")

    sent = send_team_call(
        sender=ward.nurse, device=None, team=ward.role.team, draft=template, now=ward.now
    )
    again = send_team_call(
        sender=ward.nurse, device=None, team=ward.role.team, draft=template, now=ward.now
    )

    assert again.call == sent.call and not again.created
    assert [b.role for b in sent.bleeps] == [ward.role, anaesthetist_role]
    assert {b.priority for b in sent.bleeps} == {Priority.EMERGENCY}
    acknowledge_bleep(
        device=ward.doctor_device,
        bleep_id=sent.bleeps[0].pk,
        eta_minutes=1,
        comment="",
        now=ward.now,
    )
    fire_due_deadlines(now=ward.now + MINUTE)
    statuses = [Bleep.objects.get(pk=b.pk).status for b in sent.bleeps]
    assert statuses == [BleepStatus.ACKNOWLEDGED, BleepStatus.OPEN]
    assert HistoryEntry.objects.filter(bleep=sent.bleeps[1], action="renotify").exists()
    assert not HistoryEntry.objects.filter(bleep=sent.bleeps[0], action="renotify").exists()


@pytest.mark.hazard("HZ-10")
def test_the_watchdog_tells_switchboard_once_when_steps_are_overdue_and_again_when_cleared(
    ward: Ward, caplog: pytest.LogCaptureFixture
) -> None:
    bleep = send(ward)
    due = pending_due(bleep)

    assert watch_deadlines(now=due + OVERDUE_AFTER) is None
    with caplog.at_level(logging.ERROR):
        alert = watch_deadlines(now=due + OVERDUE_AFTER + timedelta(seconds=1))
    assert alert is not None and alert.overdue == 1
    assert "overdue" in caplog.text
    assert watch_deadlines(now=due + 2 * OVERDUE_AFTER) == alert
    assert event_types(ward.operator) == ["escalation.overdue"]

    fire_due_deadlines(now=due + 2 * OVERDUE_AFTER)
    assert watch_deadlines(now=due + 2 * OVERDUE_AFTER) is None
    assert event_types(ward.operator)[-1] == "escalation.recovered"
    assert OverdueAlert.objects.get().cleared_at == due + 2 * OVERDUE_AFTER


def test_the_step_actions_are_the_ones_policies_offer() -> None:
    assert set(StepAction.values) == {
        "renotify",
        "escalate",
        "notify_switchboard",
        "broadcast_team",
    }


def test_each_step_pushes_reminders_to_whoever_waits_and_the_bleep_to_newcomers(
    ward: Ward, push_service: PushService
) -> None:
    operator_device, _ = factories.make_device(ward.operator)
    for device in (ward.doctor_device, operator_device):
        browser = push_service.subscribe()
        register_push_subscription(
            device=device,
            endpoint=browser.endpoint,
            p256dh=browser.p256dh,
            auth=browser.auth,
            now=ward.now,
        )
    bleep = send(ward)
    fire_due_deadlines(now=ward.now + 5 * MINUTE)
    fire_due_deadlines(now=ward.now + 10 * MINUTE)

    pushed = PushMessage.objects.filter(bleep=bleep).order_by("pk")
    assert [(m.subscription.device.user, m.payload["kind"]) for m in pushed if m.subscription] == [
        (ward.doctor, "new"),
        (ward.doctor, "reminder"),
        (ward.operator, "escalated"),
    ]
    assert {m.topic for m in pushed} == {f"bleep-{bleep.pk}"}
