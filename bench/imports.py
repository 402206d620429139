"""Emergency sends while four rota imports of the maximum size are applied, beside the same
sends with none (docs/safety/, HZ-24).

The server runs as in production: a web process and a worker. The same nurse sends
emergencies one after another over REST, first with nothing else running, then straight
after a rota manager has posted four files of 10,000 shifts each. Imports are jobs the
worker applies one at a time, so the sends meet the first of them being written (the
report says how many were still unfinished when the last send was answered).
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.db import connection
from django.utils import timezone

from bench.servers import product_commands, running
from bench.stats import summary_ms
from bench.world import clear_bleeps
from bleep.tokens import digest_token, new_token
from messaging.models import Device
from rota.models import ImportJob, Person, Role, RotaManagerScope, Shift, Site, Team
from rota.services.calendars.applying import IMPORT_MAX_SHIFTS

IMPORTS = 4
# One send every this long: a busy ward, not a load test (that is the delivery section).
SEND_INTERVAL_SECONDS = 0.1
FIRST_IMPORT_BLEEP_NUMBER = 7000


def measure(*, sends: int) -> dict[str, Any]:
    """Time `sends` emergency sends with no import, then as many while IMPORTS run."""
    _clear()
    nurse_token, manager_token, target, files = _seed()
    try:
        with running(product_commands) as server:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                quiet = _send(client, nurse_token, target, sends)
                posted = [_post_import(client, manager_token, body) for body in files]
                busy = _send(client, nurse_token, target, sends)
                unfinished = ImportJob.objects.exclude(
                    status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED]
                ).count()
    finally:
        _clear()
    return {
        "sends": sends,
        "imports": IMPORTS,
        "shifts_per_import": IMPORT_MAX_SHIFTS,
        "import_bytes": len(files[0]),
        "import_answer_ms": summary_ms(posted),
        "unfinished_after_sends": unfinished,
        "none": summary_ms(quiet),
        "four_imports": summary_ms(busy),
    }


def _send(client: httpx.Client, token: str, target: str, count: int) -> list[float]:
    took = []
    headers = {"Authorization": f"Bearer {token}"}
    for number in range(count):
        body = {"bleep_number": target, "priority": "emergency", "message": f"bench {number}"}
        started = time.perf_counter()
        response = client.post("/api/bleeps", json=body, headers=headers)
        took.append(time.perf_counter() - started)
        response.raise_for_status()
        time.sleep(SEND_INTERVAL_SECONDS)
    return took


def _post_import(client: httpx.Client, token: str, body: str) -> float:
    started = time.perf_counter()
    response = client.post(
        "/api/rota/imports/csv",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    took = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"import answered {response.status_code}: {response.text[:200]}")
    return took


def _seed() -> tuple[str, str, str, list[str]]:
    """A role on call with a doctor, a nurse, a rota manager of a team with IMPORTS roles,
    and a file of IMPORT_MAX_SHIFTS back-to-back hours for each of those roles."""
    now = timezone.now()
    # On UTC, so 10,000 back-to-back hours never meet a clock change's missing or repeated hour.
    site = Site.objects.create(name="Bench Imports General", time_zone="UTC")
    team = Team.objects.create(site=site, name="Bench Imports")
    on_call = Role.objects.create(site=site, team=team, name="Bench on call", bleep_number="6999")
    doctor = Person.objects.create(username="imports.doctor", job=Person.Job.DOCTOR)
    Shift.objects.create(
        role=on_call, person=doctor, start=now - timedelta(hours=1), end=now + timedelta(hours=12)
    )
    nurse = Person.objects.create(username="imports.nurse", job=Person.Job.NURSE)
    manager = Person.objects.create(username="imports.manager", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=team)
    files = []
    start = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
    for n in range(IMPORTS):
        number = str(FIRST_IMPORT_BLEEP_NUMBER + n)
        name = f"Bench import {n}"
        role = Role.objects.create(site=site, team=team, name=name, bleep_number=number)
        person = Person.objects.create(username=f"imports.person.{n}", job=Person.Job.DOCTOR)
        files.append(_file(role, person, start))
    return _token(nurse), _token(manager), on_call.bleep_number, files


def _file(role: Role, person: Person, start: datetime) -> str:
    rows = ["role,person,start,end"]
    for hour in range(IMPORT_MAX_SHIFTS):
        begins, ends = start + timedelta(hours=hour), start + timedelta(hours=hour + 1)
        rows.append(
            f"{role.bleep_number},{person.username},{begins:%Y-%m-%d %H:%M},{ends:%Y-%m-%d %H:%M}"
        )
    return "\n".join(rows) + "\n"


def _token(person: Person) -> str:
    token, now = new_token(), timezone.now()
    Device.objects.create(
        user=person,
        name="bench",
        token_digest=digest_token(token),
        created_at=now,
        last_seen_at=now,
    )
    return token


def _clear() -> None:
    """Forget the section's bleeps, jobs and shifts, so no worker applies them later."""
    clear_bleeps()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE rota_importjob, rota_shift, rota_rotachange CASCADE")
