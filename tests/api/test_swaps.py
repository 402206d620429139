"""REST for swaps and cover: who may do what, and what each answer looks like."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from rota.models import Person, Role, RotaManagerScope, Shift, SwapRequest, Team
from rota.services.swaps import accept_swap, request_swap
from tests import factories
from tests.conftest import client_for

Status = SwapRequest.Status
PERSONAS = [
    "nurse",
    "requester",
    "colleague",
    "other_doctor",
    "other_manager",
    "manager",
    "switchboard",
]


@dataclass
class Crew:
    """A team's registrar rota with everyone who might touch a swap on it, signed in."""

    team: Team
    role: Role
    shift: Shift
    colleague_shift: Shift
    people: dict[str, Person] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, persona: str) -> APIClient:
        return client_for(self.tokens[persona])

    def swap(self, *, trade: bool = False, accepted: bool = False) -> SwapRequest:
        swap = request_swap(
            requester=self.people["requester"],
            shift=self.shift,
            counterpart=self.people["colleague"],
            counterpart_shift=self.colleague_shift if trade else None,
            now=timezone.now(),
        )
        if accepted:
            accept_swap(actor=self.people["colleague"], swap_id=swap.pk, now=timezone.now())
        return swap


@pytest.fixture
def crew(db: None) -> Crew:
    team = factories.make_team("Medicine")
    switchboard_role = factories.make_role(
        "Switchboard", bleep_number="1000", kind=Role.Kind.SWITCHBOARD
    )
    role = factories.make_role("Medical Registrar on call", fallback=switchboard_role, team=team)
    jobs = {
        "nurse": Person.Job.NURSE,
        "switchboard": Person.Job.SWITCHBOARD,
        "manager": Person.Job.ROTA_MANAGER,
        "other_manager": Person.Job.ROTA_MANAGER,
    }
    people = {
        name: factories.make_person(name, job=jobs.get(name, Person.Job.DOCTOR))
        for name in PERSONAS
    }
    RotaManagerScope.objects.create(person=people["manager"], team=team)
    RotaManagerScope.objects.create(
        person=people["other_manager"], team=factories.make_team("Surgery")
    )
    soon = timezone.now() + timedelta(days=2)
    shift = factories.make_shift(role, people["requester"], soon, hours=12)
    colleague_shift = factories.make_shift(role, people["colleague"], soon + timedelta(days=1))
    tokens = {name: factories.make_device(person)[1] for name, person in people.items()}
    return Crew(team, role, shift, colleague_shift, people, tokens)


def expect(allowed: dict[str, int], refused: int) -> list[tuple[str, int]]:
    """Return (persona, status) for every persona: `allowed` ones, the rest `refused`."""
    return [(persona, allowed.get(persona, refused)) for persona in PERSONAS]


def holder_of(shift: Shift) -> str:
    return Shift.objects.select_related("person").get(pk=shift.pk).person.username


# --- the permission matrix ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"), expect({"requester": 200, "colleague": 200, "manager": 200}, 404)
)
def test_a_swap_is_visible_to_its_two_doctors_and_the_team_s_rota_manager_only(
    crew: Crew, persona: str, status: int
) -> None:
    swap = crew.swap()

    response = crew.client(persona).get(f"/api/rota/swaps/{swap.pk}")

    assert response.status_code == status
    if status == 404:
        assert response.json() == {"code": "not_found", "detail": "no such swap"}
    else:
        assert response.json()["id"] == swap.pk


@pytest.mark.parametrize(("persona", "status"), expect({"requester": 201}, 403))
def test_only_the_shift_s_holder_may_offer_it(crew: Crew, persona: str, status: int) -> None:
    response = crew.client(persona).post(
        "/api/rota/swaps",
        {"shift": crew.shift.pk, "counterpart": crew.people["colleague"].pk},
        format="json",
    )

    assert response.status_code == status, response.json()
    assert SwapRequest.objects.exists() == (status == 201)


@pytest.mark.parametrize("action", ["accept", "decline"])
@pytest.mark.parametrize(
    ("persona", "status"),
    expect({"colleague": 200, "requester": 403, "manager": 403}, 404),
)
def test_only_the_colleague_asked_may_accept_or_decline(
    crew: Crew, action: str, persona: str, status: int
) -> None:
    swap = crew.swap()

    response = crew.client(persona).post(f"/api/rota/swaps/{swap.pk}/{action}")

    assert response.status_code == status, response.json()
    moved = SwapRequest.objects.get(pk=swap.pk).status != Status.REQUESTED
    assert moved == (status == 200)


@pytest.mark.parametrize(
    ("persona", "status"),
    expect({"requester": 200, "colleague": 403, "manager": 403}, 404),
)
def test_only_the_requester_may_cancel(crew: Crew, persona: str, status: int) -> None:
    swap = crew.swap()

    response = crew.client(persona).post(f"/api/rota/swaps/{swap.pk}/cancel")

    assert response.status_code == status, response.json()
    cancelled = SwapRequest.objects.get(pk=swap.pk).status == Status.CANCELLED
    assert cancelled == (status == 200)


@pytest.mark.parametrize("action", ["approve", "reject"])
@pytest.mark.parametrize(
    ("persona", "status"),
    expect({"manager": 200, "requester": 403, "colleague": 403}, 404),
)
def test_only_a_rota_manager_of_the_team_may_approve_or_reject(
    crew: Crew, action: str, persona: str, status: int
) -> None:
    swap = crew.swap(trade=True, accepted=True)

    response = crew.client(persona).post(f"/api/rota/swaps/{swap.pk}/{action}")

    assert response.status_code == status, response.json()
    decided = SwapRequest.objects.get(pk=swap.pk).status != Status.ACCEPTED
    assert decided == (status == 200)
    applied = holder_of(crew.shift) == "colleague"
    assert applied == (status == 200 and action == "approve")


@pytest.mark.parametrize(("persona", "status"), expect({"manager": 200}, 403))
def test_only_a_rota_manager_of_the_team_may_arrange_cover(
    crew: Crew, persona: str, status: int
) -> None:
    start = crew.shift.start + timedelta(hours=2)
    body = {
        "person": crew.people["other_doctor"].pk,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=3)).isoformat(),
    }

    response = crew.client(persona).post(
        f"/api/rota/shifts/{crew.shift.pk}/cover", body, format="json"
    )

    assert response.status_code == status, response.json()
    assert Shift.objects.filter(role=crew.role).count() == (4 if status == 200 else 2)


@pytest.mark.parametrize(
    ("persona", "seen"),
    [
        ("nurse", False),
        ("requester", True),
        ("colleague", True),
        ("other_doctor", False),
        ("other_manager", False),
        ("manager", True),
        ("switchboard", False),
    ],
)
def test_the_swap_list_shows_my_swaps_and_those_of_teams_i_manage(
    crew: Crew, persona: str, seen: bool
) -> None:
    swap = crew.swap()

    response = crew.client(persona).get("/api/rota/swaps")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == ([swap.pk] if seen else [])


def test_the_permission_matrix_names_every_persona() -> None:
    assert len(PERSONAS) == len(set(PERSONAS)) == 7


# --- the flows over REST ------------------------------------------------------------------


def test_a_trade_asked_accepted_and_approved_over_rest_changes_the_rota(crew: Crew) -> None:
    asked = crew.client("requester").post(
        "/api/rota/swaps",
        {
            "shift": crew.shift.pk,
            "counterpart": crew.people["colleague"].pk,
            "counterpart_shift": crew.colleague_shift.pk,
        },
        format="json",
    )
    assert asked.status_code == 201, asked.json()
    body = asked.json()
    assert body["status"] == "requested"
    assert body["shift"]["person"]["id"] == crew.people["requester"].pk
    assert body["counterpart_shift"]["id"] == crew.colleague_shift.pk
    assert body["shift"]["role"]["bleep_number"] == crew.role.bleep_number

    accepted = crew.client("colleague").post(f"/api/rota/swaps/{body['id']}/accept")
    assert accepted.json()["status"] == "accepted"
    approved = crew.client("manager").post(f"/api/rota/swaps/{body['id']}/approve")

    assert approved.status_code == 200
    assert approved.json()["status"] == "applied"
    assert approved.json()["decided_by"]["id"] == crew.people["manager"].pk
    assert approved.json()["shift"]["person"]["id"] == crew.people["colleague"].pk
    assert holder_of(crew.colleague_shift) == "requester"


def test_without_approval_accepting_over_rest_applies_at_once(crew: Crew) -> None:
    crew.team.swaps_need_approval = False
    crew.team.save()
    swap = crew.swap()

    response = crew.client("colleague").post(f"/api/rota/swaps/{swap.pk}/accept")

    assert response.json()["status"] == "applied"
    assert response.json()["shift"]["person"]["id"] == crew.people["colleague"].pk


def test_an_illegal_move_is_a_409_that_states_the_current_state(crew: Crew) -> None:
    swap = crew.swap()
    crew.client("requester").post(f"/api/rota/swaps/{swap.pk}/cancel")

    response = crew.client("requester").post(f"/api/rota/swaps/{swap.pk}/cancel")

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "detail": "cannot cancel a swap that is cancelled",
        "current": "cancelled",
    }


def test_approving_before_the_colleague_accepts_is_a_409(crew: Crew) -> None:
    swap = crew.swap()

    response = crew.client("manager").post(f"/api/rota/swaps/{swap.pk}/approve")

    assert response.status_code == 409
    assert response.json()["current"] == "requested"


def test_a_refused_move_says_whose_move_it_is(crew: Crew) -> None:
    swap = crew.swap()

    response = crew.client("requester").post(f"/api/rota/swaps/{swap.pk}/accept")

    assert response.status_code == 403
    assert response.json() == {
        "code": "forbidden",
        "detail": "only the colleague asked can accept this swap",
    }


def test_a_double_booking_swap_is_a_400_naming_the_person_and_changes_nothing(
    crew: Crew,
) -> None:
    crew.team.swaps_need_approval = False
    crew.team.save()
    sho = factories.make_role("Medical SHO on call", team=crew.team)
    factories.make_shift(sho, crew.people["colleague"], crew.shift.start + timedelta(hours=1))
    swap = crew.swap()

    response = crew.client("colleague").post(f"/api/rota/swaps/{swap.pk}/accept")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["person"]
    assert SwapRequest.objects.get(pk=swap.pk).status == Status.REQUESTED
    assert holder_of(crew.shift) == "requester"


def test_offering_a_shift_that_has_started_is_a_400_naming_the_shift(crew: Crew) -> None:
    started = factories.make_shift(
        crew.role, crew.people["requester"], timezone.now() - timedelta(hours=1)
    )

    response = crew.client("requester").post(
        "/api/rota/swaps",
        {"shift": started.pk, "counterpart": crew.people["colleague"].pk},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["shift"]


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"counterpart": "PEER"}, "shift"),
        ({"shift": 999999, "counterpart": "PEER"}, "shift"),
        ({"shift": "SHIFT"}, "counterpart"),
        ({"shift": "SHIFT", "counterpart": 999999}, "counterpart"),
        (
            {"shift": "SHIFT", "counterpart": "PEER", "counterpart_shift": 0},
            "counterpart_shift",
        ),
        ({"shift": "SHIFT", "counterpart": "PEER", "note": "please"}, "note"),
        ({"shift": "SHIFT", "counterpart": "REQUESTER"}, "counterpart"),
        ({"shift": "SHIFT", "counterpart": "NURSE"}, "counterpart"),
    ],
)
def test_a_bad_swap_request_is_a_400_naming_the_field(
    crew: Crew, body: dict[str, Any], field_name: str
) -> None:
    names = {
        "SHIFT": crew.shift.pk,
        "PEER": crew.people["colleague"].pk,
        "NURSE": crew.people["nurse"].pk,
        "REQUESTER": crew.people["requester"].pk,
    }
    filled = {key: names.get(value, value) for key, value in body.items()}

    response = crew.client("requester").post("/api/rota/swaps", filled, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field_name in response.json()["fields"]
    assert not SwapRequest.objects.exists()


# --- cover over REST ----------------------------------------------------------------------


def cover(crew: Crew, **body: object) -> Any:
    return crew.client("manager").post(
        f"/api/rota/shifts/{crew.shift.pk}/cover", body, format="json"
    )


def test_cover_over_rest_returns_the_three_parts_in_london_time(crew: Crew) -> None:
    start = crew.shift.start + timedelta(hours=2)
    end = start + timedelta(hours=3)

    response = cover(
        crew, person=crew.people["other_doctor"].pk, start=start.isoformat(), end=end.isoformat()
    )

    assert response.status_code == 200, response.json()
    parts = response.json()
    assert [part["person"]["id"] for part in parts] == [
        crew.people["requester"].pk,
        crew.people["other_doctor"].pk,
        crew.people["requester"].pk,
    ]
    assert parts[0]["id"] == crew.shift.pk
    starts = [datetime.fromisoformat(part["start"]) for part in parts]
    assert starts == [crew.shift.start, start, end]
    assert [instant.utcoffset() for instant in starts] == [
        timezone.localtime(instant).utcoffset() for instant in starts
    ]


@pytest.mark.parametrize(
    ("start_hours", "end_hours", "field_name"),
    [(-1, 2, "start"), (3, 3, "end"), (5, 4, "end"), (11, 13, "end")],
)
def test_cover_outside_the_shift_is_a_400_naming_the_field(
    crew: Crew, start_hours: int, end_hours: int, field_name: str
) -> None:
    response = cover(
        crew,
        person=crew.people["other_doctor"].pk,
        start=(crew.shift.start + timedelta(hours=start_hours)).isoformat(),
        end=(crew.shift.start + timedelta(hours=end_hours)).isoformat(),
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field_name]
    assert Shift.objects.filter(role=crew.role).count() == 2


def test_cover_times_without_a_utc_offset_are_refused(crew: Crew) -> None:
    start = crew.shift.start + timedelta(hours=2)

    response = cover(
        crew,
        person=crew.people["other_doctor"].pk,
        start=start.replace(tzinfo=None).isoformat(),
        end=(start + timedelta(hours=1)).isoformat(),
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["start"]
    assert "UTC offset" in response.json()["fields"]["start"][0]


def test_cover_of_a_shift_that_does_not_exist_is_a_404(crew: Crew) -> None:
    response = crew.client("manager").post("/api/rota/shifts/999999/cover", {}, format="json")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "no such shift"}


def test_cover_by_someone_already_booked_is_a_400_naming_the_person(crew: Crew) -> None:
    booked = factories.make_shift(
        factories.make_role("Medical SHO on call"),
        crew.people["other_doctor"],
        crew.shift.start + timedelta(hours=1),
    )
    response = cover(
        crew,
        person=booked.person.pk,
        start=crew.shift.start.isoformat(),
        end=crew.shift.end.isoformat(),
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["person"]
    assert holder_of(crew.shift) == "requester"
