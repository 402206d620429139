"""Switchboard's board and hands: every open bleep with its step; escalate and redirect by
hand; and the delivered receipt a service worker posts over REST."""

from typing import Any

import pytest

from escalation.models import BleepPlan, Deadline
from messaging.models import Bleep, Delivery, HistoryEntry, StreamEvent
from rota.models import Person, Role
from tests import factories
from tests.api.test_bleep_access import WHO, tokens
from tests.conftest import Ward, client_for


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
    [row] = operator(ward).get("/api/switchboard/bleeps").json()
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
    [row] = operator(ward).get("/api/switchboard/bleeps").json()
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
