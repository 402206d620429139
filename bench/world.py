"""The hospital the load generator pages: roles with a doctor on shift, and signed-in phones.

Every phone is a real `Device` row with a token the generator knows. Tokens are stored only
as digests, so rows are made directly instead of signing in (hashing a password) N times.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.utils import timezone

from bench.phones import DOCTOR, NURSE, PhoneSpec
from bleep.tokens import digest_token, new_token
from messaging.models import Device
from rota.models import Person, Role, Shift, Site, Team

ROLES = 100
FIRST_BLEEP_NUMBER = 5000
SHIFT_LENGTH = timedelta(hours=12)


@dataclass
class World:
    """Phones in a fixed order: phones(n) is the first n/2 doctors' and n/2 nurses'."""

    doctors: list[PhoneSpec]
    nurses: list[PhoneSpec]
    targets: list[str]

    def phones(self, devices: int) -> list[PhoneSpec]:
        """Return `devices` phones, half doctors' (the on-shift ones first), half nurses'."""
        half = devices // 2
        return [*self.doctors[:half], *self.nurses[: devices - half]]


def seed_world(*, devices: int) -> World:
    """Create ROLES roles each with one doctor on shift now, and phones for `devices` people."""
    clear_bleeps()
    now = timezone.now()
    # Its own site: the rota-lookup scenario seeds "Bench General" in the same database.
    site = Site.objects.create(name="Bench Load General")
    team = Team.objects.create(site=site, name="Bench Medicine")
    numbers = [str(FIRST_BLEEP_NUMBER + r) for r in range(ROLES)]
    roles = Role.objects.bulk_create(
        Role(site=site, team=team, name=f"Bench role {n}", bleep_number=n) for n in numbers
    )
    half = max(devices // 2, ROLES)
    people = Person.objects.bulk_create(
        Person(username=f"load.{job}.{n}", job=job, password="!")
        for job in (Person.Job.DOCTOR, Person.Job.NURSE)
        for n in range(half)
    )
    doctors, nurses = people[:half], people[half:]
    Shift.objects.bulk_create(
        Shift(role=role, person=doctor, start=now - timedelta(hours=1), end=now + SHIFT_LENGTH)
        for role, doctor in zip(roles, doctors, strict=False)
    )
    tokens = {person.pk: new_token() for person in people}
    Device.objects.bulk_create(
        (
            Device(
                user=person,
                name="bench phone",
                token_digest=digest_token(tokens[person.pk]),
                created_at=now,
                last_seen_at=now,
            )
            for person in people
        ),
        batch_size=5_000,
    )
    return World(
        doctors=[
            PhoneSpec(tokens[d.pk], DOCTOR, f"role{numbers[i]}" if i < ROLES else f"p{d.pk}")
            for i, d in enumerate(doctors)
        ],
        nurses=[PhoneSpec(tokens[n.pk], NURSE, f"p{n.pk}") for n in nurses],
        targets=numbers,
    )


def clear_bleeps() -> None:
    """Forget every bleep and stream event, so each size starts with empty snapshots."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE escalation_deadline, escalation_bleepplan, messaging_historyentry, "
            "messaging_streamevent, messaging_streamhead, messaging_delivery, messaging_reply, "
            "messaging_bleep, escalation_workerheartbeat CASCADE"
        )
