"""Switchboard's board and hands: every open bleep with its step; escalate and redirect by
hand; take on a clinician's bleep instead of acknowledging it; and the delivered receipt a
service worker posts over REST."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from escalation.models import BleepPlan, Deadline
from escalation.services import switchboard
from escalation.services.firing import fire_due_deadlines
from messaging.exceptions import NotAnOperator
from messaging.models import Bleep, Delivery, HistoryEntry, StreamEvent
from rota.models import Person, Role
from tests import factories
from tests.api.test_bleep_access import WHO, tokens
from tests.conftest import Ward, client_for
from tests.escalation.test_steps import make_policy


def send(ward: Ward, **fields: Any) -> int:
    body = {"bleep_number": "2345", "message": "Bed 4 NEWS 7", **fields}
    response = client_for(ward.nurse_token).post("/api/bleeps", body, format="json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def operator(ward: Ward) -> Any:
    return client_for(factories.make_device(ward.operator)[1])


def consultant_above(ward: Ward) -> Person:
    """Put a consultant role, held now, between the registrar and switchboard."""
    consultant_role = factories.make_role(
        "Consultant physician on call", bleep_number="2350", fallback=ward.switchboard_role
    )
    Role.objects.filter(pk=ward.role.pk).update(fallback=consultant_role)
    consultant = factories.make_person("helen.carter")
    factories.on_call_now(consultant_role, consultant, ward.now)
    return consultant


def stored() -> tuple[int, int, int]:
    return Delivery.objects.count(), HistoryEntry.objects.count(), StreamEvent.objects.count()


# (path after /api/bleeps/{id}, body) -> the status each of WHO gets.
MATRIX: dict[str, tuple[str, dict[str, Any], list[int]]] = {
    "escalate": ("/escalate", {}, [403, 403, 403, 403, 200, 403]),
    "redirect": ("/redirect", {"role": "other"}, [403, 403, 403, 403, 200, 403]),
    "delivered receipt": ("/delivered", {}, [403, 200, 404, 404, 403, 403]),
}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_only_switchboard_escalates_or_redirects_and_only_a_recipient_confirms_receipt(
    ward: Ward, endpoint: str, who: str
) -> None:
    consultant_above(ward)
    other = factories.make_role("Surgical Registrar", bleep_number="2400")
    factories.on_call_now(other, factories.make_person("grace.moyo"), ward.now)
    path, body, expected = MATRIX[endpoint]
    body = {name: other.pk if value == "other" else value for name, value in body.items()}
    bleep_id = send(ward)
    response = client_for(tokens(ward)[who]).post(
        f"/api/bleeps/{bleep_id}{path}", body, format="json"
    )
    assert response.status_code == expected[WHO.index(who)], response.content


def test_the_board_shows_each_open_bleeps_age_and_escalation_step(ward: Ward) -> None:
    bleep_id = send(ward, priority="urgent")
    [row] = operator(ward).get("/api/switchboard/bleeps").json()["results"]
    assert row["id"] == bleep_id
    assert row["age_seconds"] >= 0
    progress = row["escalation"]
    assert progress["steps_fired"] == 0
    assert progress["steps_planned"] == 3
    assert progress["next_action"] == "renotify"
    assert progress["next_due_at"] is not None
    assert progress["reached_role"]["bleep_number"] == "2345"


def test_the_board_counts_the_steps_already_fired(ward: Ward) -> None:
    bleep_id = send(ward)
    Deadline.objects.filter(bleep_id=bleep_id).update(fired_at=ward.now)
    Deadline.objects.create(bleep_id=bleep_id, step=2, due_at=ward.now)
    [row] = operator(ward).get("/api/switchboard/bleeps").json()["results"]
    assert (row["escalation"]["steps_fired"], row["escalation"]["next_action"]) == (1, "escalate")


def test_escalating_by_hand_brings_in_the_next_role_up_and_says_who_did_it(ward: Ward) -> None:
    consultant = consultant_above(ward)
    bleep_id = send(ward)
    response = operator(ward).post(f"/api/bleeps/{bleep_id}/escalate", {}, format="json")
    assert response.status_code == 200, response.content
    recipients = [d["recipient"]["id"] for d in response.json()["deliveries"]]
    assert recipients == [ward.doctor.pk, consultant.pk]
    event = StreamEvent.objects.get(user=ward.nurse, type="bleep.escalated")
    assert event.data["by"]["id"] == ward.operator.pk
    assert event.data["added"] == [{"id": consultant.pk, "name": str(consultant)}]
    entry = HistoryEntry.objects.get(bleep_id=bleep_id, action="escalate", delivery=None)
    assert entry.actor == ward.operator
    reached = BleepPlan.objects.get(bleep_id=bleep_id).reached_role
    assert reached is not None and reached.bleep_number == "2350"


def test_escalating_by_hand_to_a_named_role_brings_in_its_holders(ward: Ward) -> None:
    other = factories.make_role("Surgical Registrar", bleep_number="2400")
    surgeon = factories.make_person("grace.moyo")
    factories.on_call_now(other, surgeon, ward.now)
    bleep_id = send(ward)
    response = operator(ward).post(
        f"/api/bleeps/{bleep_id}/escalate", {"role": other.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert surgeon.pk in [d["recipient"]["id"] for d in response.json()["deliveries"]]


def assert_refused_naming(ward: Ward, action: str, body: dict[str, Any], field: str) -> None:
    """Post `body` to a fresh bleep's `action` as switchboard: a 400 naming `field`, and
    nothing stored."""
    bleep_id = send(ward)
    before = stored()
    response = operator(ward).post(f"/api/bleeps/{bleep_id}/{action}", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert stored() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"role": 999999}, "role"), ({"role": "x"}, "role"), ({"colour": "red"}, "colour")],
)
def test_a_bad_escalation_is_a_400_naming_the_field_and_stores_nothing(
    ward: Ward, body: dict[str, Any], field: str
) -> None:
    assert_refused_naming(ward, "escalate", body, field)


def test_escalating_to_a_role_already_in_the_bleep_is_a_400_and_stores_nothing(
    ward: Ward,
) -> None:
    assert_refused_naming(ward, "escalate", {"role": ward.role.pk}, "role")


def test_an_acknowledged_bleep_cannot_be_escalated_or_redirected(ward: Ward) -> None:
    bleep_id = send(ward)
    client_for(ward.doctor_token).post(f"/api/bleeps/{bleep_id}/acknowledge", {}, format="json")
    switchboard = operator(ward)
    for path, body in [("escalate", {}), ("redirect", {"person": ward.operator.pk})]:
        response = switchboard.post(f"/api/bleeps/{bleep_id}/{path}", body, format="json")
        assert response.status_code == 409, response.content
        assert response.json()["current"] == "acknowledged"


def test_redirecting_to_a_role_brings_in_its_holder_and_releases_the_others(ward: Ward) -> None:
    other = factories.make_role("Surgical Registrar", bleep_number="2400")
    surgeon = factories.make_person("grace.moyo")
    factories.on_call_now(other, surgeon, ward.now)
    bleep_id = send(ward)
    response = operator(ward).post(
        f"/api/bleeps/{bleep_id}/redirect", {"role": other.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    states = {d["recipient"]["id"]: d["status"] for d in response.json()["deliveries"]}
    assert states == {ward.doctor.pk: "cancelled", surgeon.pk: "sent"}
    assert response.json()["status"] == "open"
    for person in (ward.nurse, ward.doctor, surgeon):
        event = StreamEvent.objects.get(user=person, type="bleep.redirected")
        assert event.data["by"]["id"] == ward.operator.pk
    assert BleepPlan.objects.get(bleep_id=bleep_id).reached_role == other
    # The released doctor can no longer take it: it is someone else's now.
    late = client_for(ward.doctor_token).post(f"/api/bleeps/{bleep_id}/acknowledge")
    assert late.status_code == 409


def test_redirecting_to_a_person_by_name_reaches_them(ward: Ward) -> None:
    other_doctor = factories.make_person("tom.fletcher")
    bleep_id = send(ward)
    response = operator(ward).post(
        f"/api/bleeps/{bleep_id}/redirect", {"person": other_doctor.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert Bleep.objects.get(pk=bleep_id).deliveries.filter(recipient=other_doctor).exists()
    assert BleepPlan.objects.get(bleep_id=bleep_id).reached_role is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "role"),
        ({"role": 1, "person": 1}, "role"),
        ({"role": 999999}, "role"),
        ({"person": 999999}, "person"),
    ],
)
def test_a_bad_redirect_is_a_400_naming_the_field_and_stores_nothing(
    ward: Ward, body: dict[str, Any], field: str
) -> None:
    assert_refused_naming(ward, "redirect", body, field)


def test_redirecting_to_someone_already_in_the_bleep_is_a_400_and_stores_nothing(
    ward: Ward,
) -> None:
    assert_refused_naming(ward, "redirect", {"person": ward.doctor.pk}, "person")


def test_a_delivered_receipt_over_rest_tells_the_sender(ward: Ward) -> None:
    bleep_id = send(ward)
    response = client_for(ward.doctor_token).post(f"/api/bleeps/{bleep_id}/delivered")
    assert response.status_code == 200, response.content
    assert response.json()["deliveries"][0]["status"] == "delivered"
    event = StreamEvent.objects.filter(user=ward.nurse, type="delivery.updated").get()
    assert event.data["delivery"]["status"] == "delivered"
    again = client_for(ward.doctor_token).post(f"/api/bleeps/{bleep_id}/delivered")
    assert again.status_code == 200
    assert StreamEvent.objects.filter(user=ward.nurse, type="delivery.updated").count() == 1


def switchboard_brought_in(ward: Ward, **fields: Any) -> int:
    """Send an emergency to the registrar and let its first step bring switchboard in."""
    make_policy(("notify_switchboard", 60), role=ward.role)
    bleep_id = send(ward, priority="emergency", **fields)
    fire_due_deadlines(now=timezone.now() + timedelta(minutes=2))
    assert Delivery.objects.filter(bleep_id=bleep_id, recipient=ward.operator).exists()
    return bleep_id


def statuses(bleep_id: int) -> dict[int, str]:
    deliveries = Delivery.objects.filter(bleep_id=bleep_id)
    return dict(deliveries.values_list("recipient_id", "status"))


@pytest.mark.hazard("HZ-12")
def test_switchboard_cannot_acknowledge_an_emergency_it_was_brought_into_and_nothing_is_stored(
    ward: Ward,
) -> None:
    bleep_id = switchboard_brought_in(ward)
    before = stored()

    response = operator(ward).post(
        f"/api/bleeps/{bleep_id}/acknowledge", {"comment": "coming"}, format="json"
    )

    assert response.status_code == 403, response.content
    assert response.json() == {
        "code": "switchboard_cannot_acknowledge",
        "detail": "switchboard cannot acknowledge for a clinician: take it on instead",
    }
    assert stored() == before
    assert Bleep.objects.get(pk=bleep_id).status == "open"
    assert statuses(bleep_id)[ward.operator.pk] == "sent"


@pytest.mark.hazard("HZ-12")
def test_switchboard_takes_an_emergency_on_and_everyone_sees_it_handling_while_it_stays_open(
    ward: Ward,
) -> None:
    bleep_id = switchboard_brought_in(ward)
    switchboard = operator(ward)

    response = switchboard.post(
        f"/api/bleeps/{bleep_id}/handle", {"note": "phoning the team"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["acknowledged_by"], body["for_switchboard"]) == (
        "open",
        None,
        False,
    )
    [handling] = body["handling"]
    assert handling["by"] == {"id": ward.operator.pk, "name": str(ward.operator)}
    assert handling["note"] == "phoning the team"
    assert statuses(bleep_id) == {ward.doctor.pk: "sent", ward.operator.pk: "handling"}
    for person in (ward.nurse, ward.doctor, ward.operator):
        event = StreamEvent.objects.get(user=person, type="bleep.handling")
        assert event.data["bleep"]["handling"] == body["handling"]
    [row] = switchboard.get("/api/switchboard/bleeps").json()["results"]
    assert row["handling"] == body["handling"]
    history = client_for(ward.nurse_token).get(f"/api/bleeps/{bleep_id}").json()["history"]
    [taken_on] = [entry for entry in history if entry["action"] == "handle"]
    assert taken_on["actor"]["id"] == ward.operator.pk
    assert (taken_on["to_status"], taken_on["detail"]) == (
        "handling",
        {"reason": "phoning the team"},
    )


@pytest.mark.hazard("HZ-12")
def test_after_switchboard_took_it_on_a_clinicians_acknowledgement_closes_the_bleep(
    ward: Ward,
) -> None:
    bleep_id = switchboard_brought_in(ward)
    operator(ward).post(f"/api/bleeps/{bleep_id}/handle", {}, format="json")

    response = client_for(ward.doctor_token).post(
        f"/api/bleeps/{bleep_id}/acknowledge", {"eta_minutes": 2}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"
    assert response.json()["acknowledged_by"]["id"] == ward.doctor.pk


@pytest.mark.parametrize("to", ["the switchboard role", "an operator by name"])
@pytest.mark.hazard("HZ-12")
def test_switchboard_may_still_acknowledge_a_bleep_addressed_to_switchboard(
    ward: Ward, to: str
) -> None:
    target: dict[str, Any] = {"bleep_number": "1000"}
    if to == "an operator by name":
        target = {"person": ward.operator.pk}
    body = {"message": "Can you find the on-call porter?", **target}
    sent = client_for(ward.nurse_token).post("/api/bleeps", body, format="json")
    assert sent.status_code == 201, sent.content
    assert sent.json()["for_switchboard"] is True

    response = operator(ward).post(
        f"/api/bleeps/{sent.json()['id']}/acknowledge", {"comment": "on it"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "acknowledged"


# Who may take a bleep on: only an operator it was sent to.
HANDLE_ANSWERS = {
    "sender": (403, "not_a_recipient"),
    "recipient": (403, "not_switchboard"),
    "another_nurse": (404, "not_found"),
    "another_doctor": (404, "not_found"),
    "switchboard": (200, None),
    "auditor": (403, "not_a_recipient"),
    "an operator not sent it": (403, "not_a_recipient"),
}


@pytest.mark.parametrize("who", list(HANDLE_ANSWERS))
@pytest.mark.hazard("HZ-12")
def test_only_an_operator_the_bleep_was_sent_to_may_take_it_on(ward: Ward, who: str) -> None:
    bleep_id = switchboard_brought_in(ward)
    if who == "an operator not sent it":
        other = factories.make_person("chris.dunn", job=Person.Job.SWITCHBOARD)
        token = factories.make_device(other)[1]
    else:
        token = tokens(ward)[who]
    before = stored()

    response = client_for(token).post(f"/api/bleeps/{bleep_id}/handle", {}, format="json")

    status, code = HANDLE_ANSWERS[who]
    assert response.status_code == status, response.content
    if code is not None:
        assert response.json()["code"] == code
        assert stored() == before


@pytest.mark.parametrize("then", ["handle", "acknowledge", "cancel"])
@pytest.mark.hazard("HZ-12")
def test_taking_on_twice_or_once_the_bleep_is_over_is_a_409_stating_the_state(
    ward: Ward, then: str
) -> None:
    bleep_id = switchboard_brought_in(ward)
    switchboard = operator(ward)
    expected = {"handle": "handling", "acknowledge": "acknowledged", "cancel": "cancelled"}[then]
    if then == "handle":
        assert switchboard.post(f"/api/bleeps/{bleep_id}/handle").status_code == 200
    else:
        answer = client_for(ward.doctor_token if then == "acknowledge" else ward.nurse_token)
        assert answer.post(f"/api/bleeps/{bleep_id}/{then}", {}, format="json").status_code == 200
    before = stored()

    response = switchboard.post(f"/api/bleeps/{bleep_id}/handle", {}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["current"] == expected
    assert response.json()["detail"] == f"cannot handle when {expected}"
    assert stored() == before


def test_a_take_on_note_over_the_limit_is_a_400_naming_it_and_stores_nothing(ward: Ward) -> None:
    bleep_id = switchboard_brought_in(ward)
    before = stored()

    response = operator(ward).post(
        f"/api/bleeps/{bleep_id}/handle", {"note": "x" * 201}, format="json"
    )

    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    assert stored() == before


@pytest.mark.parametrize("ending", ["redirect", "cancel"])
@pytest.mark.hazard("HZ-12")
def test_a_redirect_or_a_cancel_ends_switchboards_take_on(ward: Ward, ending: str) -> None:
    registrar = factories.make_person("tom.fletcher")
    bleep_id = switchboard_brought_in(ward)
    switchboard = operator(ward)
    switchboard.post(f"/api/bleeps/{bleep_id}/handle", {}, format="json")
    body = {"person": registrar.pk} if ending == "redirect" else {}

    response = switchboard.post(f"/api/bleeps/{bleep_id}/{ending}", body, format="json")

    assert response.status_code == 200, response.content
    assert statuses(bleep_id)[ward.operator.pk] == "cancelled"
    assert response.json()["handling"] == []


@pytest.mark.parametrize("action", ["escalate", "redirect"])
def test_escalate_and_redirect_check_their_actor_themselves_with_no_view_involved(
    ward: Ward, action: str
) -> None:
    bleep_id = send(ward)
    before = stored()

    with pytest.raises(NotAnOperator):
        if action == "escalate":
            switchboard.escalate_bleep(
                actor=ward.nurse, device=None, bleep_id=bleep_id, role=None, now=timezone.now()
            )
        else:
            switchboard.redirect_bleep(
                actor=ward.nurse,
                device=None,
                bleep_id=bleep_id,
                person=ward.doctor,
                now=timezone.now(),
            )

    assert stored() == before


def board_row(ward: Ward) -> dict[str, Any]:
    [row] = operator(ward).get("/api/switchboard/bleeps").json()["results"]
    return dict(row)


@pytest.mark.hazard("HZ-23")
def test_the_board_tells_the_escalation_in_words_and_never_counts_past_the_plan(
    ward: Ward,
) -> None:
    consultant_above(ward)
    bleep_id = send(ward, priority="urgent")
    sent_at = Bleep.objects.get(pk=bleep_id).created_at
    progress = board_row(ward)["escalation"]
    assert progress["summary"] == "no step yet; next: remind at 2 min"

    told = []
    for minutes in (2, 4, 6, 8, 10, 12):
        fire_due_deadlines(now=sent_at + timedelta(minutes=minutes, seconds=1))
        progress = board_row(ward)["escalation"]
        assert progress["steps_fired"] <= progress["steps_planned"] == 3
        told.append(progress["summary"])
    assert told == [
        "reminded at 2 min; next: escalate at 4 min",
        "reminded at 2 min, Consultant physician on call added at 4 min; "
        "next: bring in switchboard at 6 min",
        "reminded at 2 min, Consultant physician on call added at 4 min, "
        "switchboard in since 6 min; next: remind at 8 min",
        "reminded at 2 min, Consultant physician on call added at 4 min, "
        "switchboard in since 6 min, reminded at 8 min; next: remind at 10 min",
        "reminded at 2 min, Consultant physician on call added at 4 min, "
        "switchboard in since 6 min, reminded 2 times, last at 10 min; next: remind at 12 min",
        "reminded at 2 min, Consultant physician on call added at 4 min, "
        "switchboard in since 6 min, reminded 3 times, last at 12 min; next: remind at 14 min",
    ]
    assert progress["next_action"] == "renotify"
    assert [
        (step["action"], step["after_seconds"] // 60, step["reached"])
        for step in progress["so_far"]
    ] == [
        ("renotify", 2, []),
        ("escalate", 4, ["Consultant physician on call"]),
        ("notify_switchboard", 6, ["switchboard"]),
        ("renotify", 8, []),
        ("renotify", 10, []),
        ("renotify", 12, []),
    ]


@pytest.mark.hazard("HZ-23")
def test_the_board_says_switchboard_will_be_reminded_not_brought_in_when_it_is_in_already(
    ward: Ward,
) -> None:
    # A plan of one reminder: past it, the tail's switchboard step finds switchboard in.
    make_policy(("renotify", 60), role=ward.role)
    bleep_id = send(ward)
    sent_at = Bleep.objects.get(pk=bleep_id).created_at
    operator(ward).post(f"/api/bleeps/{bleep_id}/escalate", {}, format="json")
    fire_due_deadlines(now=sent_at + timedelta(minutes=1, seconds=1))
    progress = board_row(ward)["escalation"]
    assert progress["next_action"] == "renotify"
    assert progress["summary"].endswith("reminded at 1 min; next: remind at 2 min")
    assert progress["summary"].startswith("Switchboard added at 0 s, ")


@pytest.mark.hazard("HZ-23")
def test_the_board_counts_the_overdue_bleeps_of_the_whole_list_by_priority(ward: Ward) -> None:
    ages = {"emergency": [2, 4], "urgent": [5, 7], "routine": [14, 16, 30]}
    for priority, minutes_ago in ages.items():
        for minutes in minutes_ago:
            bleep_id = send(ward, priority=priority)
            Bleep.objects.filter(pk=bleep_id).update(
                created_at=timezone.now() - timedelta(minutes=minutes)
            )
    page = operator(ward).get("/api/switchboard/bleeps?limit=1").json()
    # Overdue after 3 min (emergency), 6 (urgent) and 15 (routine): 4, 7, 16 and 30.
    assert page["overdue"] == 4
    assert page["count"] == 7
    [row] = page["results"]
    assert row["priority"] == "emergency"
    sent_at = Bleep.objects.get(pk=row["id"]).created_at
    assert row["overdue_at"] == (sent_at + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
