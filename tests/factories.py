"""Plain factory functions: each test builds the little world it needs."""

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from messaging.models import Device
from messaging.services.bleeps import BleepDraft
from messaging.services.devices import register_device
from rota.models import Location, Person, Role, RotaManagerScope, Shift, Site, Team

PASSWORD = "correct horse battery"
_numbers = itertools.count(3000)


def make_site(name: str = "Test General") -> Site:
    return Site.objects.get_or_create(name=name)[0]


def make_team(name: str = "Medicine", site: Site | None = None) -> Team:
    return Team.objects.get_or_create(site=site or make_site(), name=name)[0]


def make_location(name: str = "Ward 7", site: Site | None = None) -> Location:
    return Location.objects.get_or_create(site=site or make_site(), name=name)[0]


def make_role(
    name: str = "Medical Registrar on call",
    bleep_number: str | None = None,
    fallback: Role | None = None,
    team: Team | None = None,
    kind: str = Role.Kind.CLINICAL,
) -> Role:
    team = team or make_team()
    return Role.objects.create(
        site=team.site,
        team=team,
        name=name,
        bleep_number=bleep_number or str(next(_numbers)),
        fallback=fallback,
        kind=kind,
    )


def make_person(username: str, job: str = Person.Job.DOCTOR, **extra: object) -> Person:
    person = Person(username=username, job=job, display_name=username.replace(".", " ").title())
    for name, value in extra.items():
        setattr(person, name, value)
    person.set_password(PASSWORD)
    person.save()
    return person


def site_manager(site: Site) -> Person:
    """Return a rota manager of the whole of `site`, made the first time it is asked for."""
    person, made = Person.objects.get_or_create(
        username=f"rota.manager.{site.pk}", defaults={"job": Person.Job.ROTA_MANAGER}
    )
    if made:
        RotaManagerScope.objects.create(person=person, site=site)
    return person


def make_shift(role: Role, person: Person, start: datetime, hours: float = 12) -> Shift:
    return Shift.objects.create(
        role=role, person=person, start=start, end=start + timedelta(hours=hours)
    )


def on_call_now(role: Role, person: Person, now: datetime | None = None) -> Shift:
    """Give `person` a shift on `role` that covers `now` (default: the real clock)."""
    now = now or timezone.now()
    return make_shift(role, person, start=now - timedelta(hours=1))


def sign_in_request(address: str = "127.0.0.1") -> HttpRequest:
    """Return a sign-in's HTTP request from `address`, as the sign-in throttle needs one."""
    return RequestFactory().post("/api/auth/login", REMOTE_ADDR=address)


def make_device(person: Person, name: str = "phone") -> tuple[Device, str]:
    """Return a device of `person` as a completed sign-in leaves it (second factor passed)."""
    return register_device(person=person, device_name=name, now=timezone.now())


def draft(role: Role, message: str = "Please review bed 4", **overrides: Any) -> BleepDraft:
    """Return a plain routine bleep to `role`, bed 4, callback 4321."""
    fields: dict[str, Any] = {"bed": "4", "callback_extension": "4321", **overrides}
    return BleepDraft(role=role, message=message, **fields)


def sign_in_to_admin(client: Client, person: Person) -> Client:
    """Sign `person` in to the admin as its sign-in form does: password and a second factor
    (a confirmed authenticator, verified for this session)."""
    device = TOTPDevice.objects.create(user=person, name="authenticator", confirmed=True)
    client.force_login(person)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
