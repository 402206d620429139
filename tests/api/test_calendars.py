"""REST for rota imports, exports and secret calendar feeds."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import icalendar
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from rota.models import (
    CalendarFeed,
    ImportJob,
    Person,
    Role,
    RotaChange,
    RotaManagerScope,
    Shift,
)
from rota.services.calendars.applying import IMPORT_MAX_BYTES
from rota.services.calendars.jobs import run_next_import
from tests import factories
from tests.conftest import client_for

CSV_IMPORT = "/api/rota/imports/csv"
ICAL_IMPORT = "/api/rota/imports/ical"
FEEDS = "/api/rota/feeds"


@dataclass
class Hospital:
    """Medicine's F1 role and Surgery's, with a nurse, two doctors and a manager per team."""

    role: Role
    surgery_role: Role
    doctor: Person
    colleague: Person
    tokens: dict[str, str]

    def client(self, who: str) -> APIClient:
        return client_for(self.tokens[who])


@pytest.fixture
def hospital(db: None) -> Hospital:
    medicine, surgery = factories.make_team("Medicine"), factories.make_team("Surgery")
    people = {
        "nurse": factories.make_person("amina.okafor", job=Person.Job.NURSE),
        "doctor": factories.make_person("priya.shah"),
        "colleague": factories.make_person("omar.haddad"),
        "manager": factories.make_person("rota.manager", job=Person.Job.ROTA_MANAGER),
        "surgery_manager": factories.make_person("cut.manager", job=Person.Job.ROTA_MANAGER),
    }
    RotaManagerScope.objects.create(person=people["manager"], team=medicine)
    RotaManagerScope.objects.create(person=people["surgery_manager"], team=surgery)
    return Hospital(
        role=factories.make_role("F1 Medicine on call", bleep_number="2345", team=medicine),
        surgery_role=factories.make_role("F1 Surgery on call", bleep_number="2400", team=surgery),
        doctor=people["doctor"],
        colleague=people["colleague"],
        tokens={who: factories.make_device(person)[1] for who, person in people.items()},
    )


def day(days_ahead: int, hour: int = 8) -> datetime:
    """Return an instant `days_ahead` days from now at `hour`:00 UTC."""
    today = timezone.now().astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return today + timedelta(days=days_ahead)


def csv_of(*rows: str) -> str:
    return "\n".join(["role,person,start,end", *rows]) + "\n"


def upload(
    hospital: Hospital, who: str, path: str, body: str | bytes, content_type: str, **query: Any
) -> Any:
    """Post a file; once queued, let a worker apply it and answer the job as its owner sees it."""
    url = f"{path}?{urlencode(query)}" if query else path
    response = hospital.client(who).post(url, body, content_type=content_type)
    if response.status_code != 202:
        return response
    assert response["Location"] == response.json()["url"]
    assert response.json()["status"] == "queued"
    run_next_import(now=timezone.now())
    return hospital.client(who).get(response["Location"])


def report_of(response: Any) -> Any:
    """Return a finished import's report, after checking it finished without error."""
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["error"]) == ("done", None)
    return response.json()["report"]


def error_of(response: Any) -> Any:
    """Return a failed import's error, after checking it failed and stored nothing."""
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["report"]) == ("failed", None)
    return response.json()["error"]


def upload_csv(hospital: Hospital, who: str, body: str | bytes, **query: Any) -> Any:
    return upload(hospital, who, CSV_IMPORT, body, "text/csv", **query)


GOOD_CSV = csv_of(
    "2345,priya.shah,2027-01-05 08:00,2027-01-05 17:00",
    "2345,omar.haddad,2027-01-05 17:00,2027-01-06 08:30",
)


# Imports


@pytest.mark.parametrize("who", ["nurse", "doctor"])
def test_only_a_rota_manager_may_import(hospital: Hospital, who: str) -> None:
    response = upload_csv(hospital, who, GOOD_CSV)

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "You do not have permission to perform this action.",
    }
    assert not Shift.objects.exists()


def test_a_rota_manager_of_another_team_has_the_import_refused(hospital: Hospital) -> None:
    response = upload_csv(hospital, "surgery_manager", GOOD_CSV)

    assert error_of(response) == {
        "code": "forbidden",
        "detail": "a shift of this file is outside your rota",
    }
    assert not Shift.objects.exists()


def test_a_rota_manager_imports_shifts_of_their_team(hospital: Hospital) -> None:
    response = upload_csv(hospital, "manager", GOOD_CSV)

    body = report_of(response)
    assert (body["dry_run"], body["created"], body["updated"], body["unchanged"]) == (
        False,
        2,
        0,
        0,
    )
    assert [s["where"] for s in body["shifts"]] == ["row 2", "row 3"]
    assert body["shifts"][1]["person"]["username"] == "omar.haddad"
    assert body["shifts"][1]["start"] == "2027-01-05T17:00:00Z"
    assert body["shifts"][1]["shift_id"] == Shift.objects.get(person=hospital.colleague).pk
    assert (body["skipped"], body["skipped_events"], body["gaps"]) == (0, [], [])
    assert body["recurrence_window"] is None
    assert Shift.objects.count() == 2


def test_a_dry_run_reports_the_same_and_stores_nothing(
    hospital: Hospital,
) -> None:
    response = upload_csv(hospital, "manager", GOOD_CSV, dry_run="true")

    report = report_of(response)
    assert (report["dry_run"], report["created"]) == (True, 2)
    assert [s["shift_id"] for s in report["shifts"]] == [None, None]
    assert not Shift.objects.exists()
    assert not RotaChange.objects.exists()


def test_bad_rows_fail_the_import_naming_each_row_and_field_and_nothing_is_stored(
    hospital: Hospital,
) -> None:
    factories.make_shift(hospital.surgery_role, hospital.colleague, day(0), hours=9)
    text = csv_of(
        "9999,priya.shah,2027-01-05 08:00,2027-01-05 17:00",
        "2345,no.body,2027-01-05 08:00,2027-01-05 17:00",
        "2345,priya.shah,5th Jan 08:00,2027-01-05 17:00",
        "2345,priya.shah,2027-01-06 17:00,2027-01-06 08:00",
        f"2345,omar.haddad,{day(0):%Y-%m-%d %H:%M},{day(0, 17):%Y-%m-%d %H:%M}",
        "2345,priya.shah,2027-01-08 08:00,2027-01-08 17:00",
    )

    response = upload_csv(hospital, "manager", text)

    assert error_of(response)["code"] == "invalid"
    assert set(error_of(response)["fields"]) == {
        "row 2: role",
        "row 3: person",
        "row 4: start",
        "row 5: end",
        "row 6: person",
    }
    assert Shift.objects.count() == 1


def test_an_import_body_over_2_mb_is_refused(hospital: Hospital) -> None:
    response = upload_csv(hospital, "manager", GOOD_CSV + "\n" * IMPORT_MAX_BYTES)

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not Shift.objects.exists()


def test_an_import_bigger_than_djangos_64_kb_body_limit_is_accepted(hospital: Hospital) -> None:
    response = upload_csv(hospital, "manager", GOOD_CSV + "\n" * 100_000, dry_run="true")

    assert report_of(response)["created"] == 2


@pytest.mark.parametrize("option", ["dryrun", "accept_gap", "acceptgaps", "move_shift"])
def test_a_misspelt_option_is_refused_rather_than_ignored(hospital: Hospital, option: str) -> None:
    response = upload_csv(hospital, "manager", GOOD_CSV, **{option: "true"})

    assert response.status_code == 400
    assert option in response.json()["fields"]
    assert not Shift.objects.exists()


def test_an_import_sent_as_json_is_refused_as_the_wrong_media_type(hospital: Hospital) -> None:
    response = hospital.client("manager").post(CSV_IMPORT, {"data": GOOD_CSV}, format="json")

    assert response.status_code == 415
    assert not Shift.objects.exists()


def test_a_file_that_is_not_utf_8_is_refused(hospital: Hospital) -> None:
    text = csv_of("2345,zoë.smith,2027-01-05 08:00,2027-01-05 17:00").encode("latin-1")

    response = upload_csv(hospital, "manager", text)

    assert response.status_code == 400
    assert response.json()["detail"] == "the file is not utf-8 text"


def test_an_empty_import_body_is_refused(hospital: Hospital) -> None:
    response = upload_csv(hospital, "manager", "")

    assert response.status_code == 400
    assert not Shift.objects.exists()


def test_an_ical_from_another_tool_is_imported_for_a_chosen_role_and_person(
    hospital: Hospital,
) -> None:
    start = day(7, hour=20)
    data = "\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Another rota tool//EN",
            "BEGIN:VEVENT",
            "UID:nights@other.tool",
            "SUMMARY:Nights",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(hours=12, minutes=30):%Y%m%dT%H%M%SZ}",
            "RRULE:FREQ=DAILY;COUNT=3",
            "END:VEVENT",
            "END:VCALENDAR",
        ]
    )

    response = upload(
        hospital,
        "manager",
        ICAL_IMPORT,
        data,
        "text/calendar",
        role=hospital.role.pk,
        person=hospital.doctor.pk,
    )

    assert report_of(response)["created"] == 3
    assert list(Shift.objects.order_by("start").values_list("start", flat=True)) == [
        start,
        start + timedelta(days=1),
        start + timedelta(days=2),
    ]
    assert set(Shift.objects.values_list("person", flat=True)) == {hospital.doctor.pk}


def ical_of(*events: str) -> str:
    header = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Another rota tool//EN"]
    return "\n".join([*header, *events, "END:VCALENDAR"])


def vevent(uid: str, start: str, end: str, *more: str) -> str:
    lines = [f"UID:{uid}", f"SUMMARY:{uid.split('@')[0].title()}", f"DTSTART:{start}"]
    return "\n".join(["BEGIN:VEVENT", *lines, f"DTEND:{end}", *more, "END:VEVENT"])


def upload_ical(hospital: Hospital, data: str, **query: Any) -> Any:
    query = {"role": hospital.role.pk, "person": hospital.doctor.pk, **query}
    return upload(hospital, "manager", ICAL_IMPORT, data, "text/calendar", **query)


@pytest.mark.hazard("HZ-13")
def test_an_ical_import_answers_with_its_window_and_every_event_it_skipped(
    hospital: Hospital,
) -> None:
    two_years_ago = day(-730)
    data = ical_of(
        vevent("old@x", f"{two_years_ago:%Y%m%dT%H%M%SZ}", f"{day(-730, 17):%Y%m%dT%H%M%SZ}"),
        vevent(
            "off@x", f"{day(3):%Y%m%dT%H%M%SZ}", f"{day(3, 17):%Y%m%dT%H%M%SZ}", "STATUS:CANCELLED"
        ),
        vevent(
            "weekly@x",
            f"{day(-70):%Y%m%dT%H%M%SZ}",
            f"{day(-70, 17):%Y%m%dT%H%M%SZ}",
            "RRULE:FREQ=WEEKLY;COUNT=12",
        ),
    )

    response = upload_ical(hospital, data)

    body = report_of(response)
    # Ten weeks back the series began: its first 10 occurrences are before the window.
    assert (body["created"], body["skipped"]) == (1 + 2, 1 + 10)
    assert Shift.objects.filter(start=two_years_ago).exists()
    window = body["recurrence_window"]
    now = timezone.now()
    assert timedelta(days=1) - timedelta(minutes=1) < now - datetime.fromisoformat(window["from"])
    assert datetime.fromisoformat(window["to"]) - now < timedelta(days=400)
    assert body["skipped_events"] == [
        {"where": "event off@x (Off)", "uid": "off@x", "reason": "cancelled", "occurrences": 1},
        {
            "where": "event weekly@x (Weekly)",
            "uid": "weekly@x",
            "reason": "before_recurrence_window",
            "occurrences": 10,
        },
    ]


# The day shift on 5 July 2027 (BST) that the gap tests move to the 6th.
JULY_DAY = datetime(2027, 7, 5, 8, 0, tzinfo=UTC)


def moving_the_july_day(shift: Shift) -> str:
    return (
        "role,person,start,end,uid\n"
        f"2345,priya.shah,2027-07-06 09:00,2027-07-06 21:00,shift-{shift.pk}@bleep\n"
    )


@pytest.mark.hazard("HZ-13", "HZ-18")
def test_a_new_gap_is_shown_by_a_dry_run_and_refused_until_accepted(hospital: Hospital) -> None:
    shift = factories.make_shift(hospital.role, hospital.doctor, JULY_DAY, hours=12)
    text = moving_the_july_day(shift)

    dry = upload_csv(hospital, "manager", text, dry_run="true")
    refused = upload_csv(hospital, "manager", text)
    shift.refresh_from_db()
    unmoved = shift.start
    accepted = upload_csv(hospital, "manager", text, accept_gaps="true")

    [gap] = report_of(dry)["gaps"]
    assert gap["role"]["bleep_number"] == "2345"
    assert (gap["start_local"], gap["end_local"]) == (
        "2027-07-05T09:00:00+01:00",
        "2027-07-05T21:00:00+01:00",
    )
    assert datetime.fromisoformat(gap["start"]) == JULY_DAY
    assert error_of(refused)["fields"] == {
        "gaps": [
            "F1 Medicine on call (bleep 2345) would have nobody from 2027-07-05T09:00+01:00 "
            "to 2027-07-05T21:00+01:00: to accept that, import with accept_gaps=true"
        ]
    }
    assert unmoved == JULY_DAY
    assert report_of(accepted)["gaps"] == report_of(dry)["gaps"]
    shift.refresh_from_db()
    assert shift.start == JULY_DAY + timedelta(days=1)


@pytest.mark.hazard("HZ-18")
def test_an_export_imported_for_another_role_is_refused_until_moving_is_asked(
    hospital: Hospital,
) -> None:
    other = factories.make_role("Medical Registrar", bleep_number="2346", team=hospital.role.team)
    shift = factories.make_shift(hospital.role, hospital.doctor, JULY_DAY, hours=12)
    query = {"role": str(hospital.role.pk), "to": "2028-01-01T00:00Z"}
    exported = hospital.client("manager").get("/api/rota/exports/shifts.ics", query)
    data = exported.content.decode()

    refused = upload_ical(hospital, data, role=other.pk)
    moved = upload_ical(hospital, data, role=other.pk, move_shifts="true", accept_gaps="true")

    field = f"event shift-{shift.pk}@bleep (F1 Medicine on call (bleep 2345)): uid"
    assert list(error_of(refused)["fields"]) == [field]
    assert "move_shifts=true" in error_of(refused)["fields"][field][0]
    assert report_of(moved)["updated"] == 1
    assert [g["role"]["bleep_number"] for g in report_of(moved)["gaps"]] == ["2345"]
    shift.refresh_from_db()
    assert shift.role == other


def test_an_ical_import_for_another_teams_role_is_refused(hospital: Hospital) -> None:
    data = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:a@x\n"
        "DTSTART:20270105T080000Z\nDTEND:20270105T170000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )

    response = upload(
        hospital,
        "manager",
        ICAL_IMPORT,
        data,
        "text/calendar",
        role=hospital.surgery_role.pk,
        person=hospital.doctor.pk,
    )

    assert error_of(response)["code"] == "forbidden"
    assert not Shift.objects.exists()


# Exports


def test_anyone_signed_in_exports_shifts_as_csv_filtered_by_role(hospital: Hospital) -> None:
    mine = factories.make_shift(hospital.role, hospital.doctor, day(1), hours=9)
    factories.make_shift(hospital.surgery_role, hospital.colleague, day(1), hours=9)

    response = hospital.client("nurse").get(
        "/api/rota/exports/shifts.csv", {"role": hospital.role.pk}, HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "role,person,start,start_offset,end,end_offset,uid"
    assert len(lines) == 2 and lines[1].startswith("2345,priya.shah,")
    assert lines[1].endswith(f",shift-{mine.pk}@bleep")


def test_an_ical_export_takes_a_window_and_a_person(hospital: Hospital) -> None:
    inside = factories.make_shift(hospital.role, hospital.doctor, day(3), hours=9)
    factories.make_shift(hospital.role, hospital.doctor, day(10), hours=9)
    factories.make_shift(hospital.role, hospital.colleague, day(3, hour=18), hours=9)
    query: dict[str, str | int] = {
        "from": day(2).isoformat(),
        "to": day(5).isoformat(),
        "person": hospital.doctor.pk,
    }

    response = hospital.client("doctor").get("/api/rota/exports/shifts.ics", query)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(response.content).events
    assert [str(e["UID"]) for e in events] == [f"shift-{inside.pk}@bleep"]


@pytest.mark.parametrize(
    ("query", "field"),
    [({"from": "2027-01-02", "to": "2027-01-01"}, "to"), ({"form": "2027-01-01"}, "form")],
)
def test_an_export_with_a_bad_query_answers_400_in_json(
    hospital: Hospital, query: dict[str, str], field: str
) -> None:
    response = hospital.client("nurse").get(
        "/api/rota/exports/shifts.ics", query, HTTP_ACCEPT="text/calendar"
    )

    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_exports_need_a_signed_in_person(hospital: Hospital) -> None:
    assert APIClient().get("/api/rota/exports/shifts.csv").status_code == 401


# Feeds


def subscribe(hospital: Hospital, who: str, **body: Any) -> Any:
    return hospital.client(who).post(FEEDS, body, format="json")


def feed_path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_doctor_subscribes_to_their_shifts_and_the_url_works_without_signing_in(
    hospital: Hospital,
) -> None:
    shift = factories.make_shift(hospital.role, hospital.doctor, day(2), hours=12)
    factories.make_shift(hospital.role, hospital.colleague, day(3), hours=12)

    created = subscribe(hospital, "doctor", person=hospital.doctor.pk)
    calendar = APIClient().get(feed_path(created.json()["url"]), HTTP_ACCEPT="text/calendar")

    assert created.status_code == 201, created.json()
    assert created.json()["url"].startswith("http://testserver/api/rota/feeds/")
    assert calendar.status_code == 200
    assert calendar["Content-Type"] == "text/calendar; charset=utf-8"
    events = icalendar.Calendar.from_ical(calendar.content).events
    assert [str(e["UID"]) for e in events] == [f"shift-{shift.pk}@bleep"]
    assert str(events[0]["SUMMARY"]) == "F1 Medicine on call (bleep 2345)"


def test_only_the_digest_of_a_feed_token_is_stored(hospital: Hospital) -> None:
    url = subscribe(hospital, "doctor", person=hospital.doctor.pk).json()["url"]
    token = url.rsplit("/", 1)[1].removesuffix(".ics")

    feed = CalendarFeed.objects.values().get()

    assert feed["token_digest"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(feed, default=str)


def test_a_revoked_feed_answers_404(hospital: Hospital) -> None:
    created = subscribe(hospital, "doctor", person=hospital.doctor.pk).json()

    revoked = hospital.client("doctor").delete(f"{FEEDS}/{created['id']}")
    calendar = APIClient().get(feed_path(created["url"]))

    assert revoked.status_code == 204
    assert calendar.status_code == 404
    assert calendar.json()["code"] == "not_found"
    assert hospital.client("doctor").delete(f"{FEEDS}/{created['id']}").status_code == 404


def test_an_unknown_feed_token_answers_404_whatever_the_client_accepts(
    hospital: Hospital,
) -> None:
    response = APIClient().get(f"{FEEDS}/{'x' * 43}.ics", HTTP_ACCEPT="text/calendar")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_another_persons_feed_cannot_be_revoked(hospital: Hospital) -> None:
    created = subscribe(hospital, "doctor", person=hospital.doctor.pk).json()

    response = hospital.client("colleague").delete(f"{FEEDS}/{created['id']}")

    assert response.status_code == 404
    assert APIClient().get(feed_path(created["url"])).status_code == 200


def test_my_feeds_list_only_mine_and_never_their_urls(hospital: Hospital) -> None:
    mine = subscribe(hospital, "doctor", person=hospital.doctor.pk).json()
    subscribe(hospital, "colleague", person=hospital.colleague.pk)

    response = hospital.client("doctor").get(FEEDS)

    assert response.status_code == 200
    feeds = response.json()["results"]
    assert [feed["id"] for feed in feeds] == [mine["id"]]
    assert "url" not in feeds[0]
    assert feeds[0]["person"]["id"] == hospital.doctor.pk


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("doctor", "colleague"),
        ("doctor", "role"),
        ("nurse", "role"),
        ("surgery_manager", "role"),
    ],
)
def test_a_feed_of_someone_elses_shifts_or_an_unmanaged_role_is_refused(
    hospital: Hospital, who: str, target: str
) -> None:
    body = {"role": hospital.role.pk} if target == "role" else {"person": hospital.colleague.pk}

    response = subscribe(hospital, who, **body)

    assert response.status_code == 403
    assert not CalendarFeed.objects.exists()


def test_a_rota_manager_subscribes_to_a_role_they_manage(hospital: Hospital) -> None:
    factories.make_shift(hospital.role, hospital.doctor, day(1), hours=12)
    factories.make_shift(hospital.role, hospital.colleague, day(1, hour=20), hours=12)

    created = subscribe(hospital, "manager", role=hospital.role.pk)
    calendar = APIClient().get(feed_path(created.json()["url"]))

    assert created.status_code == 201
    assert created.json()["role"]["bleep_number"] == "2345"
    people = [
        str(e["X-BLEEP-PERSON"]) for e in icalendar.Calendar.from_ical(calendar.content).events
    ]
    assert people == ["priya.shah", "omar.haddad"]


def test_a_feed_needs_a_role_or_a_person(hospital: Hospital) -> None:
    response = subscribe(hospital, "doctor")

    assert response.status_code == 400
    assert "role" in response.json()["fields"]


# Imports as jobs


def post_csv(hospital: Hospital, who: str, text: str) -> Any:
    return hospital.client(who).post(CSV_IMPORT, text, content_type="text/csv")


@pytest.mark.hazard("HZ-24")
def test_an_import_is_queued_for_a_worker_and_the_request_applies_nothing(
    hospital: Hospital,
) -> None:
    queued = post_csv(hospital, "manager", GOOD_CSV)
    waiting = hospital.client("manager").get(queued["Location"]).json()
    stored_before_the_worker = Shift.objects.count()
    run_next_import(now=timezone.now())
    finished = hospital.client("manager").get(queued["Location"]).json()

    assert queued.status_code == 202
    assert (waiting["status"], waiting["report"], waiting["started_at"]) == ("queued", None, None)
    assert stored_before_the_worker == 0
    assert finished["status"] == "done"
    assert finished["report"]["created"] == 2
    assert Shift.objects.count() == 2
    assert ImportJob.objects.get().data == ""


def test_someone_elses_import_answers_404(hospital: Hospital) -> None:
    queued = post_csv(hospital, "manager", GOOD_CSV)

    for who in ("surgery_manager", "nurse"):
        response = hospital.client(who).get(queued["Location"])
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_an_import_is_applied_once_and_a_worker_with_none_waiting_does_nothing(
    hospital: Hospital,
) -> None:
    post_csv(hospital, "manager", GOOD_CSV)

    first = run_next_import(now=timezone.now())
    second = run_next_import(now=timezone.now())

    assert first is not None and first.status == ImportJob.Status.DONE
    assert second is None
    assert RotaChange.objects.filter(action="import").count() == 2


@pytest.mark.hazard("HZ-24")
def test_an_import_left_running_by_a_worker_that_died_is_applied_by_the_next(
    hospital: Hospital,
) -> None:
    post_csv(hospital, "manager", GOOD_CSV)
    # What a worker killed after taking the job leaves: the job marked running, unlocked,
    # and nothing of the file applied (its transaction rolled back).
    ImportJob.objects.update(status=ImportJob.Status.RUNNING, started_at=timezone.now())

    job = run_next_import(now=timezone.now())

    assert job is not None and job.status == ImportJob.Status.DONE
    assert Shift.objects.count() == 2


@pytest.mark.hazard("HZ-24")
def test_a_csv_of_more_than_10000_shifts_fails_naming_the_cap(hospital: Hospital) -> None:
    rows = [f"2345,priya.shah,2027-01-05 08:00,2027-01-05 09:00,r{n}" for n in range(10_001)]
    text = "role,person,start,end,uid\n" + "\n".join(rows) + "\n"

    response = upload_csv(hospital, "manager", text)

    assert error_of(response)["fields"] == {"data": ["more than 10000 shifts: split the file"]}
    assert not Shift.objects.exists()


@pytest.mark.hazard("HZ-24")
def test_a_file_of_many_bad_rows_names_the_first_50_and_counts_the_rest(
    hospital: Hospital,
) -> None:
    text = csv_of(*["9999,priya.shah,2027-01-05 08:00,2027-01-05 17:00" for _ in range(200)])

    error = error_of(upload_csv(hospital, "manager", text))

    assert len(error["fields"]) == 51
    # The first 50 rows, 2 to 51 (the header is row 1), in any order: PostgreSQL's jsonb
    # keeps a stored object's keys in an order of its own.
    assert set(error["fields"]) - {"more_errors"} == {f"row {n}: role" for n in range(2, 52)}
    assert error["fields"]["more_errors"] == [
        "150 more errors not shown: correct these and import again"
    ]
    assert len(json.dumps(error)) < 10_000
