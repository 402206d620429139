"""Build the demo hospital."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction

from rota import demo
from rota.models import Location, Person, Role, RotaManagerScope, Shift, Site, Team
from rota.wallclock import to_utc


def wall_clock_to_utc(*, day: date, hour: int, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of `hour`:00 on `day` in `zone` (shift times are wall-clock)."""
    return to_utc(day=day, at=time(hour), zone=zone)


def username_for(name: str) -> str:
    """Return the demo username for a display name: 'Dr Kemi Adeyemi' -> 'kemi.adeyemi'."""
    parts = [part for part in name.lower().split() if part != "dr"]
    return ".".join(parts)


def seed_demo_hospital(*, today: date) -> Site:
    """Create or top up the demo hospital, with shifts for the days around `today`.

    Idempotent: running it again adds nothing that is already there.
    """
    with transaction.atomic():
        site, _ = Site.objects.get_or_create(name=demo.SITE)
        for ward in demo.WARDS:
            Location.objects.get_or_create(site=site, name=ward)
        teams = {name: Team.objects.get_or_create(site=site, name=name)[0] for name in demo.TEAMS}
        roles = _seed_roles(site=site, teams=teams)
        for name, _ward in demo.NURSES:
            _person(name=name, job=Person.Job.NURSE)
        for name in demo.ROTA_MANAGERS:
            manager = _person(name=name, job=Person.Job.ROTA_MANAGER)
            RotaManagerScope.objects.get_or_create(person=manager, site=site)
        zone = ZoneInfo(site.time_zone)
        for spec in demo.ROLES:
            holders = [
                _person(name=name, job=Person.Job(spec.job), grade=spec.grade)
                for name in spec.holders
            ]
            _seed_shifts(role=roles[spec.name], holders=holders, today=today, zone=zone)
    return site


def _seed_roles(*, site: Site, teams: dict[str, Team]) -> dict[str, Role]:
    roles = {}
    for spec in demo.ROLES:
        roles[spec.name], _ = Role.objects.get_or_create(
            site=site,
            bleep_number=spec.bleep_number,
            defaults={
                "name": spec.name,
                "team": teams[spec.team],
                "kind": Role.Kind.CLINICAL if spec.fallback else Role.Kind.SWITCHBOARD,
            },
        )
    for spec in demo.ROLES:
        if spec.fallback:
            roles[spec.name].fallback = roles[spec.fallback]
            roles[spec.name].save(update_fields=["fallback"])
    return roles


def _person(*, name: str, job: Person.Job, grade: str = "") -> Person:
    first, _, last = name.removeprefix("Dr ").partition(" ")
    person, created = Person.objects.get_or_create(
        username=username_for(name),
        defaults={
            "first_name": first,
            "last_name": last,
            "display_name": name,
            "job": job,
            "grade": grade,
        },
    )
    if created:
        person.set_password(demo.DEMO_PASSWORD)
        person.save(update_fields=["password"])
    return person


def _seed_shifts(*, role: Role, holders: list[Person], today: date, zone: ZoneInfo) -> None:
    day_a, day_b, night_a, night_b = holders
    for offset in range(-demo.DAYS_BEFORE, demo.DAYS_AFTER + 1):
        day = today + timedelta(days=offset)
        # Each end is its own wall-clock time, so a night over a clock change is 11 or 13 h.
        day_start = wall_clock_to_utc(day=day, hour=demo.DAY_START_HOUR, zone=zone)
        night_start = wall_clock_to_utc(day=day, hour=demo.NIGHT_START_HOUR, zone=zone)
        next_morning = wall_clock_to_utc(
            day=day + timedelta(days=1), hour=demo.DAY_START_HOUR, zone=zone
        )
        # By the date itself, so seeding again on a later day picks the same person.
        alternate = day.toordinal() % 2 == 0
        Shift.objects.get_or_create(
            role=role, person=day_a if alternate else day_b, start=day_start, end=night_start
        )
        Shift.objects.get_or_create(
            role=role, person=night_a if alternate else night_b, start=night_start, end=next_morning
        )
