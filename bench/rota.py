"""Rota lookup: who holds a role at an instant, with a million shifts on PostgreSQL, beside
the same lookup as one raw SQL statement (the floor), so the ORM's share is visible."""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from bench.stats import summary_ms
from rota.models import Person, Role, Shift, Site, Team
from rota.selectors import holders_at

SHIFTS_PER_ROLE = 1_000
PEOPLE = 400
LOOKUPS = 5_000
FIRST_SHIFT = datetime(2025, 1, 1, 8, tzinfo=UTC)
# Twelve-hour days and nights; each shift runs into the next by a half-hour handover, so
# an instant in a handover has two holders, as on a real ward.
SHIFT_EVERY = timedelta(hours=12)
HANDOVER = timedelta(minutes=30)
# Consecutive shifts of a role go to a rotation of this many people.
ROTATION = 8
SEED = 6

# The lookup `holders_at` makes, written by hand: the floor the ORM is compared with.
FLOOR_SQL = """
    SELECT {columns} FROM rota_person
    WHERE is_active AND id IN (
        SELECT person_id FROM rota_shift
        WHERE role_id = %s AND start <= %s AND start > %s AND "end" > %s
    )
    ORDER BY id
"""


def measure(*, shifts: int, lookups: int = LOOKUPS) -> dict[str, Any]:
    """Seed `shifts` shifts, time `holders_at` at random instants, and the raw SQL floor."""
    roles = _seed(shifts=shifts)
    span = (shifts // len(roles)) * SHIFT_EVERY
    draw = random.Random(SEED)
    pairs = [(draw.choice(roles), FIRST_SHIFT + draw.random() * span) for _ in range(lookups)]
    found = [list(holders_at(role=role, at=at)) for role, at in pairs[:100]]  # warm up
    orm = _time(pairs, lambda role, at: len(list(holders_at(role=role, at=at))))
    floor = _time(pairs, _floor_lookup())
    return {
        "shifts": shifts,
        "roles": len(roles),
        "lookups": len(pairs),
        "holders_per_lookup": round(sum(map(len, found)) / len(found), 2),
        **summary_ms(orm),
        **summary_ms(floor, prefix="floor_"),
    }


def _time(
    lookups: list[tuple[Role, datetime]], lookup: Callable[[Role, datetime], int]
) -> list[float]:
    durations = []
    for role, at in lookups:
        began = time.perf_counter()
        lookup(role, at)
        durations.append(time.perf_counter() - began)
    return durations


def _floor_lookup() -> Callable[[Role, datetime], int]:
    columns = ", ".join(f'"{field.column}"' for field in Person._meta.concrete_fields)
    sql = FLOOR_SQL.format(columns=columns)
    connection.ensure_connection()
    # psycopg's own cursor, past Django's wrapper: only the database and the driver.
    cursor = connection.connection.cursor()

    def lookup(role: Role, at: datetime) -> int:
        cursor.execute(sql, (role.pk, at, at - Shift.MAX_LENGTH, at))
        return len(cursor.fetchall())

    return lookup


def _seed(*, shifts: int) -> list[Role]:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE rota_shift, rota_role, rota_team, rota_site CASCADE")
    people = _seed_people()
    site = Site.objects.create(name="Bench General")
    team = Team.objects.create(site=site, name="Medicine")
    roles = Role.objects.bulk_create(
        Role(site=site, team=team, name=f"Registrar {n}", bleep_number=f"{1000 + n}")
        for n in range(shifts // SHIFTS_PER_ROLE)
    )
    _copy_shifts(roles, people)
    with connection.cursor() as cursor:
        # Vacuumed too, so autovacuum does not wake for the million new rows mid-measurement.
        cursor.execute("VACUUM ANALYZE rota_shift, rota_person")
    return roles


def _seed_people() -> list[int]:
    people = Person.objects.filter(username__startswith="bench.rota.")
    if not people.exists():
        Person.objects.bulk_create(
            Person(username=f"bench.rota.{n}", job=Person.Job.DOCTOR, password="!")
            for n in range(PEOPLE)
        )
    return list(people.order_by("pk").values_list("pk", flat=True))


def _copy_shifts(roles: list[Role], people: list[int]) -> None:
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor, raw.transaction():
        columns = 'role_id, person_id, start, "end", external_uid'
        with cursor.copy(f"COPY rota_shift ({columns}) FROM STDIN") as copy:
            for number, role in enumerate(roles):
                # Each role's rotation is a different run of people, some shared with others.
                first = number * ROTATION % len(people)
                for n in range(SHIFTS_PER_ROLE):
                    start = FIRST_SHIFT + n * SHIFT_EVERY
                    person = people[(first + n // 2 % ROTATION) % len(people)]
                    copy.write_row((role.pk, person, start, start + SHIFT_EVERY + HANDOVER, ""))
