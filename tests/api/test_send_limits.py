"""Send limits over REST: routine and urgent refused 429, emergencies never, floods alerted."""

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from escalation.services.sending import send_bleep
from messaging.models import Bleep, FloodAlert, Priority, StreamEvent
from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for
from tests.escalation.test_admin import assert_shown_but_never_changed

BLEEPS = "/api/bleeps"
TEAM_CALLS = "/api/team-calls"
ALERTS = "/api/switchboard/alerts"
# Passes the Modulus 11 check.
NHS_NUMBER = "9434765919"


def body(ward: Ward, priority: str = "routine", **overrides: Any) -> dict[str, Any]:
    return {
        "role": ward.role.pk,
        "message": "Bed 4 needs review",
        "priority": priority,
        "bed": "4",
        "nhs_number": NHS_NUMBER,
        **overrides,
    }


def send_many(nurse: APIClient, ward: Ward, count: int) -> None:
    for n in range(count):
        response = nurse.post(BLEEPS, body(ward, message=f"job {n}"), format="json")
        assert response.status_code == 201, response.json()


def sent_before(ward: Ward, *seconds_ago: int, sender: Person | None = None) -> None:
    """Store bleeps the nurse (or `sender`) sent that many seconds before now."""
    for ago in seconds_ago:
        send_bleep(
            sender=sender or ward.nurse,
            device=None,
            draft=factories.draft(ward.role, f"{ago} s ago"),
            now=timezone.now() - timedelta(seconds=ago),
        )


def flood_events(person: Person) -> list[dict[str, Any]]:
    return [e.data for e in StreamEvent.objects.filter(user=person, type="switchboard.flood")]


def test_a_routine_bleep_past_the_burst_is_refused_429_with_retry_after(ward: Ward) -> None:
    nurse = client_for(ward.nurse_token)
    send_many(nurse, ward, 10)  # the default burst: 10 in 10 seconds

    response = nurse.post(BLEEPS, body(ward, message="one more"), format="json")

    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 10
    assert response.json() == {
        "code": "too_many_bleeps",
        "detail": f"Too many bleeps sent in the last minute. Try again in {seconds} seconds, "
        "or send it as an emergency if it is one.",
        "retry_after": seconds,
    }
    assert Bleep.objects.count() == 10


def test_an_urgent_bleep_past_the_minute_limit_waits_for_the_oldest_to_leave_it(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 3, 3
    sent_before(ward, 50, 40, 30)

    response = client_for(ward.nurse_token).post(BLEEPS, body(ward, "urgent"), format="json")

    assert response.status_code == 429
    # The bleep sent 50 s ago leaves the minute in 10 s.
    assert 9 <= int(response["Retry-After"]) <= 10
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_a_send_is_allowed_again_once_the_oldest_has_left_the_minute(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 3, 3
    sent_before(ward, 61, 40, 30)

    response = client_for(ward.nurse_token).post(BLEEPS, body(ward), format="json")

    assert response.status_code == 201


@pytest.mark.hazard("HZ-25")
@pytest.mark.parametrize("priority", [Priority.ROUTINE, Priority.URGENT], ids=str)
def test_an_emergency_from_a_nurse_refused_a_moment_ago_still_goes_and_alerts_switchboard(
    ward: Ward, priority: Priority
) -> None:
    nurse = client_for(ward.nurse_token)
    send_many(nurse, ward, 10)
    assert nurse.post(BLEEPS, body(ward, priority), format="json").status_code == 429

    response = nurse.post(BLEEPS, body(ward, "emergency", message="Arrest"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["priority"] == "emergency"
    alert = FloodAlert.objects.get()
    assert (alert.kind, alert.sender, alert.role) == ("sender", ward.nurse, None)
    assert alert.count == 11
    # Raised once, when the limit was passed, not again for the emergency.
    [event] = flood_events(ward.operator)
    assert event["alert"]["id"] == alert.pk
    assert event["alert"]["sender"] == {"id": ward.nurse.pk, "name": str(ward.nurse)}
    assert flood_events(ward.nurse) == []


@pytest.mark.hazard("HZ-25")
def test_a_team_call_past_the_limit_is_never_refused_and_alerts_switchboard(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 2, 2
    nurse = client_for(ward.nurse_token)
    send_many(nurse, ward, 2)

    calls = [
        nurse.post(TEAM_CALLS, {"team": ward.role.team.pk, "message": "Arrest"}, format="json")
        for _ in range(3)
    ]

    assert [call.status_code for call in calls] == [201, 201, 201]
    alert = FloodAlert.objects.get()
    assert (alert.kind, alert.count) == ("sender", 5)
    assert len(flood_events(ward.operator)) == 1


def test_an_idempotent_retry_past_the_limit_returns_the_first_bleep_and_is_not_counted(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 3, 3
    nurse = client_for(ward.nurse_token)
    first = nurse.post(BLEEPS, body(ward, idempotency_key="k1"), format="json")
    retries = [
        nurse.post(BLEEPS, body(ward, idempotency_key="k1"), format="json") for _ in range(4)
    ]
    send_many(nurse, ward, 2)  # room for both: the retries did not count

    again = nurse.post(BLEEPS, body(ward, idempotency_key="k1"), format="json")

    assert first.status_code == 201
    assert {r.status_code for r in retries} == {200}
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    assert nurse.post(BLEEPS, body(ward), format="json").status_code == 429
    assert Bleep.objects.count() == 3


@pytest.mark.hazard("HZ-25")
def test_many_bleeps_to_one_role_from_several_senders_raise_one_alert_to_switchboard(
    ward: Ward, settings: Any
) -> None:
    settings.FLOOD_ROLE_PER_MINUTE = 3
    nurses = [factories.make_person(f"nurse.{n}", job=Person.Job.NURSE) for n in range(6)]

    for nurse in nurses:
        sent_before(ward, 1, sender=nurse)

    alert = FloodAlert.objects.get()
    assert (alert.kind, alert.role, alert.sender) == ("role", ward.role, None)
    assert alert.count == 6
    [event] = flood_events(ward.operator)
    assert event["alert"]["role"]["id"] == ward.role.pk
    assert event["alert"]["count"] == 4


def test_a_role_flood_after_a_quiet_minute_is_a_new_alert(ward: Ward, settings: Any) -> None:
    settings.FLOOD_ROLE_PER_MINUTE = 1
    nurses = [factories.make_person(f"nurse.{n}", job=Person.Job.NURSE) for n in range(4)]
    for nurse, ago in zip(nurses, [200, 190, 10, 5], strict=True):
        sent_before(ward, ago, sender=nurse)

    alerts = FloodAlert.objects.order_by("pk")

    assert [(a.count, a.closed_at is not None) for a in alerts] == [(2, True), (2, False)]
    assert len(flood_events(ward.operator)) == 2


def test_switchboard_lists_recent_flood_alerts_with_no_patient_details(
    ward: Ward, settings: Any
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 1, 1
    nurse = client_for(ward.nurse_token)
    send_many(nurse, ward, 1)
    assert nurse.post(BLEEPS, body(ward), format="json").status_code == 429
    _, operator_token = factories.make_device(ward.operator)

    response = client_for(operator_token).get(ALERTS)

    assert response.status_code == 200
    [alert] = response.json()["results"]
    assert alert == flood_events(ward.operator)[0]["alert"]
    assert alert["kind"] == "sender" and alert["count"] == 1
    assert "past the send limit" in alert["detail"]
    for patient_detail in (NHS_NUMBER, "Bed 4", "job 0"):
        assert patient_detail not in response.content.decode()


@pytest.mark.parametrize("who", ["nurse", "doctor"])
def test_only_switchboard_lists_flood_alerts(ward: Ward, who: str) -> None:
    token = ward.nurse_token if who == "nurse" else ward.doctor_token
    assert client_for(token).get(ALERTS).status_code == 403


def test_the_admin_shows_flood_alerts_but_never_changes_or_deletes_them(
    ward: Ward, settings: Any, client: Client
) -> None:
    settings.SEND_LIMIT_PER_MINUTE, settings.SEND_LIMIT_BURST = 1, 1
    sent_before(ward, 2)
    emergency = factories.draft(ward.role, priority=Priority.EMERGENCY)
    send_bleep(sender=ward.nurse, device=None, draft=emergency, now=timezone.now())
    factories.sign_in_to_admin(
        client, factories.make_person("root.admin", is_staff=True, is_superuser=True)
    )

    assert_shown_but_never_changed(client, FloodAlert.objects.get())
