"""Every list is paged: the schema says so for each, every one keeps to the limit asked and
the maximum, and the board and the inbox put emergencies first and count them."""

from datetime import time, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from api.pagination import PAGE_DEFAULT, PAGE_MAX
from escalation.models import Policy
from escalation.services.sending import send_bleep
from messaging.models import (
    ContactKind,
    ContactPoint,
    FloodAlert,
    Priority,
    PushSubscription,
    ShiftWarning,
)
from rota.models import CalendarFeed, Pattern, RotaChange, Shift, Site, SwapRequest
from tests import factories
from tests.conftest import Ward, client_for

BOARD = "/api/switchboard/bleeps"
INBOX = "/api/bleeps"

# GET operations whose answer may be a bare array, each with why it is bounded. None is.
UNPAGED: dict[str, str] = {}


def schema_of(reference: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Return the schema `reference` points at, or itself when it is inline."""
    if "$ref" not in reference:
        return reference
    found: dict[str, Any] = schema["components"]["schemas"][reference["$ref"].split("/")[-1]]
    return found


def json_answers() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Return each GET operation's path, operation and JSON 200 answer's schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answers = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        content = (get or {}).get("responses", {}).get("200", {}).get("content", {})
        if get and "application/json" in content:
            answers.append((path, get, schema_of(content["application/json"]["schema"], schema)))
    return answers


@pytest.mark.hazard("HZ-23")
def test_no_get_operation_in_the_schema_answers_an_unpaged_list() -> None:
    unpaged = [
        path
        for path, _, answer in json_answers()
        if answer.get("type") == "array" and path not in UNPAGED
    ]
    assert unpaged == []


def test_every_paged_list_in_the_schema_takes_limit_and_offset_and_says_how_many_more() -> None:
    paged = [
        (path, get, answer)
        for path, get, answer in json_answers()
        if "results" in answer.get("properties", {})
    ]
    assert len(paged) >= 17
    for path, get, answer in paged:
        assert {"limit", "offset"} <= {p["name"] for p in get.get("parameters", [])}, path
        assert {"count", "more", "next", "previous", "results"} <= set(answer["required"]), path


def sites(count: int) -> None:
    Site.objects.bulk_create(
        Site(name=f"Site {n}", time_zone="Europe/London") for n in range(count)
    )


def test_a_list_answers_the_default_page_and_says_how_many_more_there_are(ward: Ward) -> None:
    sites(PAGE_DEFAULT + 3)
    total = Site.objects.count()

    body = client_for(ward.nurse_token).get("/api/rota/sites").json()

    assert (len(body["results"]), body["count"]) == (PAGE_DEFAULT, total)
    assert body["more"] == total - PAGE_DEFAULT
    assert body["previous"] is None
    assert f"offset={PAGE_DEFAULT}" in body["next"]


def test_a_list_keeps_to_the_limit_asked_and_the_offset(ward: Ward) -> None:
    sites(5)
    client = client_for(ward.nurse_token)
    everything = [site["id"] for site in client.get("/api/rota/sites?limit=100").json()["results"]]

    body = client.get("/api/rota/sites?limit=2&offset=2").json()

    assert [site["id"] for site in body["results"]] == everything[2:4]
    assert body["more"] == len(everything) - 4


def test_a_limit_past_the_maximum_gets_the_maximum(ward: Ward) -> None:
    sites(PAGE_MAX + 1)

    body = client_for(ward.nurse_token).get(f"/api/rota/sites?limit={PAGE_MAX * 5}").json()

    assert len(body["results"]) == PAGE_MAX
    assert body["more"] == body["count"] - PAGE_MAX


@pytest.mark.parametrize(
    ("query", "field"), [("limit=0", "limit"), ("limit=ten", "limit"), ("offset=-1", "offset")]
)
def test_a_limit_or_offset_that_is_not_a_whole_number_is_refused_naming_it(
    ward: Ward, query: str, field: str
) -> None:
    response = client_for(ward.nurse_token).get(f"/api/rota/sites?{query}")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_a_filtered_list_takes_limit_and_offset_beside_its_filters(ward: Ward) -> None:
    response = client_for(ward.nurse_token).get("/api/on-call?q=2345&limit=1&offset=0")

    assert response.status_code == 200, response.json()
    assert [row["role"]["bleep_number"] for row in response.json()["results"]] == ["2345"]


def flood(ward: Ward, priorities: str) -> list[int]:
    """Send one bleep a second to the ward's role: `e` an emergency, `u` urgent, `r` routine."""
    ids = []
    named = {"e": Priority.EMERGENCY, "u": Priority.URGENT, "r": Priority.ROUTINE}
    for n, letter in enumerate(priorities):
        priority = named[letter]
        sent = send_bleep(
            sender=ward.nurse,
            device=ward.nurse_device,
            draft=factories.draft(ward.role, message=f"bleep {n}", priority=priority),
            now=ward.now + timedelta(seconds=n),
        )
        ids.append(sent.bleep.pk)
    return ids


def pages(client: Any, url: str, limit: int) -> list[dict[str, Any]]:
    """Walk a list page by page with its `next` links."""
    found, page = [], client.get(f"{url}?limit={limit}").json()
    found.append(page)
    while page["next"]:
        page = client.get(page["next"]).json()
        found.append(page)
    return found


@pytest.mark.hazard("HZ-23")
def test_the_board_shows_every_emergency_first_across_its_pages_and_counts_them(
    ward: Ward,
) -> None:
    r1, e1, r2, r3, e2 = flood(ward, "rerre")
    operator = client_for(factories.make_device(ward.operator)[1])

    walked = pages(operator, BOARD, limit=2)

    assert [[row["id"] for row in page["results"]] for page in walked] == [
        [e1, e2],
        [r1, r2],
        [r3],
    ]
    assert [(page["count"], page["more"], page["emergencies"]) for page in walked] == [
        (5, 3, 2),
        (5, 1, 2),
        (5, 0, 2),
    ]


def test_the_board_goes_emergency_then_urgent_then_routine_oldest_first_in_each(
    ward: Ward,
) -> None:
    r1, u1, e1, r2, u2, e2 = flood(ward, "ruerue")
    operator = client_for(factories.make_device(ward.operator)[1])

    rows = operator.get(BOARD).json()["results"]

    assert [row["id"] for row in rows] == [e1, e2, u1, u2, r1, r2]


def test_the_inbox_goes_emergency_then_urgent_then_routine_newest_first_in_each(
    ward: Ward,
) -> None:
    r1, u1, e1, r2, u2, e2 = flood(ward, "ruerue")

    rows = client_for(ward.doctor_token).get(INBOX).json()["results"]

    assert [row["id"] for row in rows] == [e2, e1, u2, u1, r2, r1]


@pytest.mark.hazard("HZ-23")
def test_the_inbox_shows_every_emergency_first_across_its_pages_and_counts_them(
    ward: Ward,
) -> None:
    r1, e1, r2, e2 = flood(ward, "rere")

    walked = pages(client_for(ward.doctor_token), INBOX, limit=3)

    assert [[row["id"] for row in page["results"]] for page in walked] == [[e2, e1, r2], [r1]]
    assert [(page["more"], page["emergencies"]) for page in walked] == [(1, 2), (0, 2)]


@pytest.mark.hazard("HZ-23")
def test_the_board_reads_as_much_for_many_open_bleeps_as_for_a_few(
    ward: Ward, django_assert_max_num_queries: Any, settings: Any
) -> None:
    # One nurse sends the whole flood: the send limit is not what this test is about.
    settings.SEND_LIMIT_PER_MINUTE = settings.SEND_LIMIT_BURST = 100
    operator = client_for(factories.make_device(ward.operator)[1])
    flood(ward, "re")
    operator.get(BOARD)

    with CaptureQueriesContext(connection) as few:
        operator.get(BOARD)
    flood(ward, "r" * 30 + "e" * 5)

    with django_assert_max_num_queries(len(few)):
        body = operator.get(f"{BOARD}?limit=30").json()
    assert len(body["results"]) == 30


def test_the_sent_list_pages_past_what_it_used_to_cut_off(ward: Ward) -> None:
    ids = flood(ward, "r" * 3)

    body = client_for(ward.nurse_token).get("/api/bleeps/sent?limit=2&offset=2").json()

    assert [row["id"] for row in body["results"]] == [ids[0]]
    assert (body["count"], body["more"]) == (3, 0)
    assert "emergencies" not in body


def test_the_shift_list_keeps_to_its_limit_within_its_window(ward: Ward) -> None:
    for name in ("grace.moyo", "helen.carter"):
        factories.on_call_now(ward.role, factories.make_person(name), ward.now)
    client = client_for(ward.nurse_token)
    assert client.get("/api/rota/shifts").json()["count"] >= 3
    body = client.get("/api/rota/shifts?limit=1").json()
    assert len(body["results"]) == 1
    assert body["more"] == body["count"] - 1


def two_of_everything(ward: Ward) -> str:
    """Give the switchboard operator two of everything they may list; return their token."""
    now, operator = ward.now, ward.operator
    device, token = factories.make_device(operator)
    factories.make_device(operator, "second phone")
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_rotachange", "view_historyentry"])
    )
    factories.make_team("Surgery", site=ward.role.site)
    factories.make_site("Second General")
    operator_shift = Shift.objects.get(person=operator)
    flooded = (ward.role, ward.switchboard_role)
    for n in range(2):
        a_bleep = factories.draft(ward.switchboard_role, message=f"to switchboard {n}")
        send_bleep(sender=ward.nurse, device=ward.nurse_device, draft=a_bleep, now=now)
        a_bleep = factories.draft(ward.role, message=f"from switchboard {n}")
        send_bleep(sender=operator, device=device, draft=a_bleep, now=now)
        PushSubscription.objects.create(
            device=device,
            endpoint=f"https://push.example/{n}",
            p256dh="p" * 87,
            auth="a" * 22,
            created_at=now,
        )
        FloodAlert.objects.create(
            kind=FloodAlert.Kind.ROLE,
            subject=f"role:{flooded[n].pk}",
            role=flooded[n],
            count=20,
            first_at=now,
            last_at=now,
            raised_at=now,
        )
        factories.make_location(f"Ward {n}", site=ward.role.site)
        factories.make_role(f"Unheld {n}", team=ward.role.team)
        CalendarFeed.objects.create(
            token_digest=f"{n:064d}", owner=operator, person=operator, created_at=now
        )
        Pattern.objects.create(
            role=ward.role,
            name=f"Nights {n}",
            weekdays=[n],
            start_time=time(20),
            end_time=time(8),
            anchor_date=now.date(),
        )
        RotaChange.objects.create(
            actor=operator, at=now, action="create", model="site", object_id=n, after={}
        )
    for colleague in (ward.doctor, ward.nurse):
        SwapRequest.objects.create(
            shift=operator_shift, requester=operator, counterpart=colleague, created_at=now
        )
    Policy.objects.create(role=ward.role, updated_at=now)
    Policy.objects.create(site=ward.role.site, updated_at=now)
    for kind in ContactKind:
        ContactPoint.objects.create(person=operator, kind=kind, address="4455", created_at=now)
    for shift in Shift.objects.all()[:2]:
        ShiftWarning.objects.create(shift=shift, person=shift.person, raised_at=now)
    return token


# What a list needs asked beside `limit`: the gaps report has no default window.
ASKED_WITH: dict[str, dict[str, str]] = {
    "/api/rota/gaps": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
}


def asked_with(path: str) -> dict[str, str]:
    if path.startswith("/api/analytics/"):
        # A day either side of now, when two_of_everything sends its bleeps to two roles
        # and its people are on call.
        now = timezone.now()
        around = {"from": now - timedelta(days=1), "to": now + timedelta(days=1)}
        period = {name: at.isoformat() for name, at in around.items()}
        return period | ({"by": "role"} if path.endswith("response-times") else {})
    return ASKED_WITH.get(path, {})


def test_every_list_in_the_schema_answers_one_when_asked_for_one(ward: Ward) -> None:
    client = client_for(two_of_everything(ward))
    lists = [
        path
        for path, _, answer in json_answers()
        if answer.get("type") == "array" or "results" in answer.get("properties", {})
    ]
    assert len(lists) >= 17

    for path in lists:
        response = client.get(path, {"limit": "1", **asked_with(path)})
        assert response.status_code == 200, (path, response.json())
        body = response.json()
        assert isinstance(body, dict) and "results" in body, f"{path} is not paged"
        # Two or more, or a list that ignored `limit` would pass unseen.
        assert body["count"] >= 2, f"{path}: give two_of_everything two of these"
        assert (len(body["results"]), body["more"]) == (1, body["count"] - 1), path


@pytest.mark.parametrize("path", ["/api/rota/exports/shifts.csv", "/api/rota/exports/shifts.ics"])
@pytest.mark.parametrize("field", ["limit", "offset"])
def test_a_whole_file_refuses_paging_naming_the_field(ward: Ward, path: str, field: str) -> None:
    response = client_for(ward.nurse_token).get(path, {field: "1"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
