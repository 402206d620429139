"""Response-time analytics against a generated month of bleeps whose answers are known: an
oracle computes each group from the generated moments, in Python, independently of the
query. October 2026 holds the clock change (25 October, 02:00 BST → 01:00 GMT) and nights
that cross midnight."""

import csv
import io
import random
import statistics
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from escalation.services.firing import fire_due_deadlines
from escalation.services.sending import send_bleep
from messaging.actions import Action
from messaging.analytics import (
    DIMENSIONS,
    ESCALATING,
    HISTORY_COLUMNS,
    Timing,
    history_rows,
    interruption_load,
    response_times,
)
from messaging.exceptions import AnalyticsNotAllowed
from messaging.models import Bleep, Device, HistoryEntry
from messaging.services.answers import acknowledge_bleep, record_receipt
from rota.models import Location, Person, Role, RotaManagerScope, Shift
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
BLEEPS = 160


@dataclass
class Sent:
    at: datetime
    role: Role
    ward: Location | None
    priority: str
    delivered: float | None
    read: float | None
    acknowledged: float | None


@dataclass
class Month:
    sent: list[Sent]
    roles: list[Role]
    doctors: list[Person]


def hold_all_month(role: Role, person: Person) -> None:
    """Twelve-hour shifts back to back for the whole month (shifts are at most a fortnight)."""
    at = START - timedelta(hours=12)
    shifts = []
    while at < END + timedelta(hours=12):
        shifts.append(Shift(role=role, person=person, start=at, end=at + timedelta(hours=12)))
        at += timedelta(hours=12)
    Shift.objects.bulk_create(shifts)


def instants(rng: random.Random) -> list[datetime]:
    """Random instants in the month, and the awkward ones: either side of midnight, and
    both 01:30s of the night the clocks go back."""
    awkward = [
        datetime(2026, 10, 9, 22, 50, tzinfo=UTC),  # 23:50 BST
        datetime(2026, 10, 9, 23, 10, tzinfo=UTC),  # 00:10 BST, the next day
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT, an hour later
        datetime(2026, 10, 25, 7, 59, tzinfo=UTC),  # 07:59 GMT: still night
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),  # 08:00 GMT: day
    ]
    span = (END - START).total_seconds() - 3600
    randoms = [START + timedelta(seconds=rng.uniform(0, span)) for _ in range(BLEEPS)]
    return sorted(awkward + randoms)


@pytest.fixture
def month() -> Month:
    rng = random.Random(2026)
    medicine = factories.make_team("Medicine")
    surgery = factories.make_team("Surgery", site=medicine.site)
    roles = [
        factories.make_role("Medical Registrar", team=medicine),
        factories.make_role("Surgical Registrar", team=surgery),
    ]
    wards = [Location.objects.create(site=medicine.site, name=n) for n in ("Ward 7", "Ward 9")]
    nurse = factories.make_person("amina.okafor", job=Person.Job.NURSE)
    nurse_device, _ = factories.make_device(nurse)
    doctors = [factories.make_person(f"doctor.{n}") for n in range(2)]
    devices: dict[int, Device] = {}
    for role, doctor in zip(roles, doctors, strict=True):
        hold_all_month(role, doctor)
        devices[role.pk], _ = factories.make_device(doctor)
    sent = []
    for at in instants(rng):
        role = rng.choice(roles)
        chosen = Sent(
            at=at,
            role=role,
            ward=rng.choice([*wards, None]),
            priority=rng.choice(["routine", "urgent", "emergency"]),
            delivered=rng.choice([None, round(rng.uniform(0.5, 60), 3)]),
            read=None,
            acknowledged=None,
        )
        if chosen.delivered is not None:
            chosen.read = rng.choice([None, chosen.delivered + round(rng.uniform(0, 120), 3)])
            chosen.acknowledged = rng.choice([None, chosen.delivered + rng.uniform(5, 900)])
        draft = factories.draft(role, priority=chosen.priority)
        draft = type(draft)(**{**draft.__dict__, "location": chosen.ward})
        bleep = send_bleep(sender=nurse, device=nurse_device, draft=draft, now=at).bleep
        device = devices[role.pk]
        if chosen.delivered is not None:
            when = at + timedelta(seconds=chosen.delivered)
            record_receipt(device=device, bleep_id=bleep.pk, action=Action.DELIVER, now=when)
        if chosen.read is not None:
            when = at + timedelta(seconds=chosen.read)
            record_receipt(device=device, bleep_id=bleep.pk, action=Action.READ, now=when)
        if chosen.acknowledged is not None:
            acknowledge_bleep(
                device=device,
                bleep_id=bleep.pk,
                eta_minutes=None,
                comment="",
                now=at + timedelta(seconds=chosen.acknowledged),
            )
        sent.append(chosen)
    return Month(sent=sent, roles=roles, doctors=doctors)


def oracle_timing(seconds: list[float]) -> Timing:
    if not seconds:
        return Timing(count=0, median=None, p90=None, max=None)
    ordered = sorted(seconds)
    # The standard library's own interpolation, not the module's: PostgreSQL's
    # percentile_cont is statistics' "inclusive" method.
    p90 = (
        statistics.quantiles(ordered, n=10, method="inclusive")[8]
        if len(ordered) > 1
        else ordered[0]
    )
    return Timing(
        count=len(ordered),
        median=round(statistics.median(ordered), 1),
        p90=round(p90, 1),
        max=round(ordered[-1], 1),
    )


def oracle_key(sent: Sent, by: str) -> str:
    local = sent.at.astimezone(LONDON)
    if by == "role":
        return str(sent.role.pk)
    if by == "team":
        return str(sent.role.team_id)
    if by == "ward":
        return str(sent.ward.pk) if sent.ward else "0"
    if by == "priority":
        return sent.priority
    if by == "hour":
        return str(local.hour)
    if by == "weekday":
        return "weekend" if local.weekday() >= 5 else "weekday"
    if by == "weekhour":
        return str(local.weekday() * 24 + local.hour)
    if by == "day":
        return local.date().isoformat()
    return "night" if local.hour >= 20 or local.hour < 8 else "day"


def oracle(sent: list[Sent], by: str) -> dict[str, tuple[int, Timing, Timing, Timing]]:
    groups: dict[str, list[Sent]] = {}
    for one in sent:
        groups.setdefault(oracle_key(one, by), []).append(one)
    return {
        key: (
            len(rows),
            oracle_timing([r.delivered for r in rows if r.delivered is not None]),
            oracle_timing([r.read for r in rows if r.read is not None]),
            oracle_timing([r.acknowledged for r in rows if r.acknowledged is not None]),
        )
        for key, rows in groups.items()
    }


def auditor() -> Person:
    return factories.make_person("cso", job=Person.Job.AUDITOR)


@pytest.mark.parametrize("by", DIMENSIONS)
def test_each_grouping_matches_the_oracle_over_a_month_with_a_clock_change(
    month: Month, by: str
) -> None:
    found = {
        group.key: (group.bleeps, group.delivered, group.read, group.acknowledged)
        for group in response_times(viewer=auditor(), start=START, end=END, by=by)
    }
    assert found == oracle(month.sent, by)


def test_both_half_past_ones_of_the_night_the_clocks_go_back_are_in_the_one_oclock_hour(
    month: Month,
) -> None:
    night = datetime(2026, 10, 25, tzinfo=UTC)
    groups = response_times(
        viewer=auditor(), start=night, end=night + timedelta(hours=2), by="hour"
    )
    assert [(g.key, g.bleeps) for g in groups] == [("1", 2)]


def test_a_night_crossing_midnight_is_one_night(month: Month) -> None:
    evening = datetime(2026, 10, 9, 22, 0, tzinfo=UTC)
    groups = response_times(
        viewer=auditor(), start=evening, end=evening + timedelta(hours=2), by="daynight"
    )
    assert [(g.key, g.bleeps) for g in groups] == [("night", 2)]


def test_a_rota_manager_sees_only_their_teams_roles(month: Month) -> None:
    manager = factories.make_person("rota.boss", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=month.roles[0].team)
    groups = response_times(viewer=manager, start=START, end=END, by="role")
    assert [g.key for g in groups] == [str(month.roles[0].pk)]
    assert groups[0].bleeps == sum(1 for s in month.sent if s.role == month.roles[0])


@pytest.mark.parametrize("job", [Person.Job.NURSE, Person.Job.DOCTOR, Person.Job.SWITCHBOARD])
def test_nurses_doctors_and_switchboard_see_no_analytics(db: None, job: str) -> None:
    with pytest.raises(AnalyticsNotAllowed):
        response_times(
            viewer=factories.make_person(f"someone.{job}", job=job),
            start=START,
            end=END,
            by="role",
        )


def test_the_api_answers_an_auditor_and_refuses_a_nurse_naming_bad_parameters(
    month: Month,
) -> None:
    reader = auditor()
    _, token = factories.make_device(reader)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    query = {"from": START.isoformat(), "to": END.isoformat(), "by": "priority"}
    answer = client.get("/api/analytics/response-times", query)
    assert answer.status_code == 200, answer.content
    body: Any = answer.json()
    assert sum(group["bleeps"] for group in body["results"]) == len(month.sent)
    wrong = client.get("/api/analytics/response-times", query | {"by": "colour"})
    assert wrong.status_code == 400 and "by" in wrong.json()["fields"]
    nurse = Person.objects.get(username="amina.okafor")
    _, nurse_token = factories.make_device(nurse)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {nurse_token}")
    assert client.get("/api/analytics/response-times", query).status_code == 403


def test_no_bleep_in_the_period_is_no_group(db: None) -> None:
    assert response_times(viewer=auditor(), start=START, end=END, by="role") == []


def csv_of(answer: Any) -> list[list[str]]:
    assert answer.status_code == 200, answer.content if hasattr(answer, "content") else answer
    assert answer["Content-Type"].startswith("text/csv")
    text = b"".join(answer.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def reader_client(person: Person) -> APIClient:
    _, token = factories.make_device(person)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_the_figures_export_as_csv_the_same_as_the_api_answers(month: Month) -> None:
    client = reader_client(auditor())
    query = {"from": START.isoformat(), "to": END.isoformat(), "by": "role"}
    rows = csv_of(client.get("/api/analytics/response-times.csv", query))
    assert rows[0][:3] == ["key", "name", "bleeps"]
    figures = client.get("/api/analytics/response-times", query).json()["results"]
    assert [(r[0], int(r[2])) for r in rows[1:]] == [(g["key"], g["bleeps"]) for g in figures]
    median = rows[0].index("acknowledged_median_s")
    assert [float(r[median]) for r in rows[1:]] == [g["acknowledged"]["median"] for g in figures]


def test_the_history_exports_as_csv_scoped_and_without_patient_details(month: Month) -> None:
    everything = csv_of(
        reader_client(auditor()).get(
            "/api/analytics/history.csv", {"from": START.isoformat(), "to": END.isoformat()}
        )
    )
    assert everything[0] == HISTORY_COLUMNS
    assert len(everything) - 1 == HistoryEntry.objects.count()
    manager = factories.make_person("rota.boss", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=month.roles[0].team)
    theirs = csv_of(
        reader_client(manager).get(
            "/api/analytics/history.csv", {"from": START.isoformat(), "to": END.isoformat()}
        )
    )
    role = HISTORY_COLUMNS.index("role")
    assert {row[role] for row in theirs[1:]} == {month.roles[0].name}
    text = "\n".join(",".join(row) for row in everything)
    assert factories.draft(month.roles[0]).message not in text


def test_a_nurse_is_refused_the_history_before_any_of_it_is_sent(month: Month) -> None:
    nurse = Person.objects.get(username="amina.okafor")
    answer = reader_client(nurse).get(
        "/api/analytics/history.csv", {"from": START.isoformat(), "to": END.isoformat()}
    )
    assert answer.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_history_export_streams_in_memory_that_does_not_grow_with_its_length() -> None:
    reader = auditor()
    bleep = Bleep.objects.create(
        sender=factories.make_person("amina.okafor", job=Person.Job.NURSE),
        message="m",
        created_at=START,
        role=factories.make_role(),
    )
    small = export_peak(reader, bleep, add=3_000)
    large = export_peak(reader, bleep, add=27_000)
    # Ten times the rows, and the peak grows by a chunk's worth at most, not by the file.
    assert large - small < 2_000_000, (small, large)


class Discard:
    """Where the rows go: nowhere, as a response streamed to a client keeps none of them."""

    def write(self, value: str) -> int:
        return len(value)


def export_peak(reader: Person, bleep: Bleep, *, add: int) -> int:
    """Add `add` entries to the history and return the peak memory of streaming it all."""
    HistoryEntry.objects.bulk_create(
        HistoryEntry(bleep=bleep, action="deliver", to_status="open", at=START, hash="h" * 64)
        for _ in range(add)
    )
    writer = csv.writer(Discard())
    tracemalloc.start()
    count = sum(
        1 for row in history_rows(viewer=reader, start=START, end=END) if writer.writerow(row)
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == HistoryEntry.objects.count() + 1
    return peak


def test_how_far_escalation_took_each_bleep_is_counted_by_step(db: None) -> None:
    team = factories.make_team("Medicine")
    switchboard = factories.make_role("Switchboard", team=team, kind=Role.Kind.SWITCHBOARD)
    consultant = factories.make_role("Consultant", team=team, fallback=switchboard)
    registrar = factories.make_role("Registrar", team=team, fallback=consultant)
    for role, name in ((registrar, "reg"), (consultant, "cons"), (switchboard, "op")):
        job = Person.Job.SWITCHBOARD if role == switchboard else Person.Job.DOCTOR
        hold_all_month(role, factories.make_person(name, job=job))
    nurse = factories.make_person("amina.okafor", job=Person.Job.NURSE)
    device, _ = factories.make_device(nurse)
    sent_at = START + timedelta(days=3)
    draft = factories.draft(registrar, priority="urgent")
    send_bleep(sender=nurse, device=device, draft=draft, now=sent_at)
    for minutes in range(1, 20):
        fire_due_deadlines(now=sent_at + timedelta(minutes=minutes))
    steps = [
        entry.detail["step"]
        for entry in HistoryEntry.objects.filter(action__in=ESCALATING)
        if entry.detail.get("step")
    ]
    assert steps, "the plan escalated the unanswered bleep"
    [group] = response_times(viewer=auditor(), start=START, end=END, by="role")
    assert group.escalated == 1
    assert group.escalated_to_step == {str(max(steps)): 1}
    assert group.reached_switchboard == 1


def test_interruption_load_is_bleeps_per_hour_on_call_for_each_person(month: Month) -> None:
    rows = {row.person_id: row for row in interruption_load(viewer=auditor(), start=START, end=END)}
    for role, doctor in zip(month.roles, month.doctors, strict=True):
        received = sum(1 for s in month.sent if s.role == role)
        row = rows[doctor.pk]
        # Held the role all month: 31 days of October in real hours (the hour the clocks
        # went back is not an extra one).
        assert row.hours_on_call == 31 * 24
        assert (row.bleeps, row.per_hour) == (received, round(received / (31 * 24), 2))
    manager = factories.make_person("rota.boss", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=month.roles[0].team)
    theirs = interruption_load(viewer=manager, start=START, end=END)
    assert [row.person_id for row in theirs] == [month.doctors[0].pk]
