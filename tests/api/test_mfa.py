"""The second factor over REST: enrolment, the sign-in challenge, recovery codes, who must.

Codes are computed with django-otp's own TOTP from the authenticator's key, at a time the
test controls (`authenticator_clock`), so no test waits for the next 30-second step.
"""

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from axes.models import AccessFailureLog
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp import models as totp_models
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from messaging.exceptions import InvalidToken
from messaging.models import Device
from messaging.services import mfa
from rota.models import Person
from tests import factories
from tests.conftest import Ward, client_for

LIMIT = 5
STEP = 30


class Clock:
    """The authenticator app's and the server's shared idea of the time, in Unix seconds."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // STEP * STEP)

    def next_step(self) -> None:
        self.now += STEP


@pytest.fixture
def authenticator_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """Make django-otp check codes at the test's time, not the wall clock's."""
    clock = Clock()
    monkeypatch.setattr(totp_models, "time", SimpleNamespace(time=lambda: clock.now))
    yield clock


@pytest.fixture(autouse=True)
def limits(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def no_slowing(settings: Any) -> None:
    """Let wrong codes follow each other at once (django-otp slows them by 1, 2, 4 … s)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code(person: Person, clock: Clock, *, confirmed: bool = True) -> str:
    """Return the 6-digit code `person`'s authenticator app shows at the clock's time."""
    device = TOTPDevice.objects.get(user=person, confirmed=confirmed)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = clock.now
    return f"{totp.token():0{device.digits}d}"


def login(username: str, **extra: Any) -> Any:
    body = {"username": username, "password": factories.PASSWORD, **extra}
    return APIClient().post("/api/auth/login", body, format="json")


def enrolment_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Enrolment {token}")
    return client


def enrol(client: APIClient, person: Person, clock: Clock) -> Any:
    """Enrol an authenticator through `client`; return the confirming answer."""
    started = client.post("/api/auth/mfa/enrolment", {}, format="json")
    assert started.status_code == 201, started.json()
    answer = client.post(
        "/api/auth/mfa/enrolment/confirm",
        {"otp": code(person, clock, confirmed=False)},
        format="json",
    )
    clock.next_step()
    return answer


def enrolled(username: str, job: str, clock: Clock, **extra: Any) -> tuple[Person, list[str]]:
    """Return a person with a confirmed authenticator, and their recovery codes."""
    person = factories.make_person(username, job=job, **extra)
    _, token = factories.make_device(person)
    answer = enrol(client_for(token), person, clock)
    assert answer.status_code == 200, answer.json()
    return person, answer.json()["recovery_codes"]


@pytest.fixture
def manager(db: None, authenticator_clock: Clock) -> tuple[Person, list[str]]:
    return enrolled("fiona.hale", Person.Job.ROTA_MANAGER, authenticator_clock)


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize(
    "extra",
    [{"job": Person.Job.ROTA_MANAGER}, {"job": Person.Job.AUDITOR}, {"is_superuser": True}],
    ids=["rota manager", "auditor", "superuser"],
)
def test_a_person_who_must_use_mfa_gets_no_device_until_enrolled(db: None, extra: Any) -> None:
    factories.make_person("fiona.hale", **extra)
    response = login("fiona.hale")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "mfa_enrolment_required"
    assert "token" not in body
    assert not Device.objects.exists()
    # The enrolment token opens enrolment and nothing else.
    client = enrolment_client(body["enrolment_token"])
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/bleeps").status_code == 401
    assert client.post("/api/auth/mfa/enrolment", {}, format="json").status_code == 201


@pytest.mark.hazard("HZ-08")
def test_a_rota_manager_enrols_with_the_enrolment_token_and_is_signed_in(
    db: None, authenticator_clock: Clock
) -> None:
    person = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
    token = login("fiona.hale", device_name="ward phone").json()["enrolment_token"]
    client = enrolment_client(token)
    started = client.post("/api/auth/mfa/enrolment", {}, format="json")
    assert started["Cache-Control"] == "no-store"
    secret = started.json()["secret"]
    assert started.json()["uri"].startswith("otpauth://totp/Bleep%3Afiona.hale?secret=" + secret)

    answer = client.post(
        "/api/auth/mfa/enrolment/confirm",
        {"otp": code(person, authenticator_clock, confirmed=False)},
        format="json",
    )

    assert answer.status_code == 201
    body = answer.json()
    assert len(body["recovery_codes"]) == 10
    assert len(set(body["recovery_codes"])) == 10
    assert body["mfa"] == {"enrolled": True, "required": True}
    assert body["device"]["name"] == "ward phone"
    me = client_for(body["token"]).get("/api/me").json()
    assert me["mfa"] == {"enrolled": True, "required": True}
    # The enrolment token was for one sign-in: once enrolled it is refused.
    assert client.post("/api/auth/mfa/enrolment", {}, format="json").status_code == 401


def test_an_enrolment_token_ends_after_ten_minutes_and_when_the_password_changes(
    db: None,
) -> None:
    person = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
    token = login("fiona.hale").json()["enrolment_token"]
    ticket = mfa.read_enrolment_token(token=token, now=timezone.now())
    assert ticket.person == person
    with pytest.raises(InvalidToken):
        later = timezone.now() + mfa.ENROLMENT_TOKEN_LIFETIME + timedelta(seconds=1)
        mfa.read_enrolment_token(token=token, now=later)
    person.set_password("a different long password")
    person.save()
    assert enrolment_client(token).post("/api/auth/mfa/enrolment", {}).status_code == 401


def test_confirming_with_a_wrong_code_leaves_the_authenticator_unused(
    db: None, authenticator_clock: Clock
) -> None:
    person = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
    client = enrolment_client(login("fiona.hale").json()["enrolment_token"])
    client.post("/api/auth/mfa/enrolment", {}, format="json")
    right = code(person, authenticator_clock, confirmed=False)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    answer = client.post("/api/auth/mfa/enrolment/confirm", {"otp": wrong}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "mfa_invalid"
    assert answer.json()["fields"] == {"otp": [answer.json()["detail"]]}
    assert not TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    assert not Device.objects.exists()


@pytest.mark.hazard("HZ-08")
def test_an_enrolled_person_without_a_code_is_asked_for_one_and_gets_no_token(
    manager: tuple[Person, list[str]],
) -> None:
    before = Device.objects.count()
    response = login("fiona.hale")
    assert response.status_code == 400
    assert response.json()["code"] == "mfa_required"
    assert "otp" in response.json()["fields"]
    assert "token" not in response.json()
    assert Device.objects.count() == before


def test_an_enrolled_person_signs_in_with_a_current_code(
    manager: tuple[Person, list[str]], authenticator_clock: Clock
) -> None:
    response = login("fiona.hale", otp=code(manager[0], authenticator_clock))
    assert response.status_code == 201
    assert client_for(response.json()["token"]).get("/api/me").status_code == 200


def test_a_code_signs_in_only_once(
    manager: tuple[Person, list[str]], authenticator_clock: Clock, no_slowing: None
) -> None:
    otp = code(manager[0], authenticator_clock)
    assert login("fiona.hale", otp=otp).status_code == 201
    again = login("fiona.hale", otp=otp)
    assert again.status_code == 400
    assert again.json()["code"] == "mfa_invalid"


@pytest.mark.hazard("HZ-08")
def test_wrong_codes_count_as_failed_sign_ins_and_lock_out_at_the_limit(
    manager: tuple[Person, list[str]], authenticator_clock: Clock, no_slowing: None
) -> None:
    right = code(manager[0], authenticator_clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for _ in range(LIMIT - 1):
        answer = login("fiona.hale", otp=wrong)
        assert answer.status_code == 400
        assert answer.json()["code"] == "mfa_invalid"
    assert AccessFailureLog.objects.filter(username="fiona.hale").count() == LIMIT - 1

    locking = login("fiona.hale", otp=wrong)
    assert locking.status_code == 429
    assert locking.json()["code"] == "locked_out"
    assert login("fiona.hale", otp=right).status_code == 429


def test_wrong_codes_in_quick_succession_are_slowed(
    manager: tuple[Person, list[str]], authenticator_clock: Clock
) -> None:
    right = code(manager[0], authenticator_clock)
    login("fiona.hale", otp=f"{(int(right) + 1) % 1_000_000:06d}")
    answer = login("fiona.hale", otp=right)
    assert answer.status_code == 429
    assert answer.json()["code"] == "mfa_throttled"
    assert int(answer["Retry-After"]) >= 0


@pytest.mark.hazard("HZ-08")
def test_a_recovery_code_signs_in_once(manager: tuple[Person, list[str]], no_slowing: None) -> None:
    first = manager[1][0]
    # Written as people copy them: upper case, in two groups.
    typed = f"{first[:4].upper()} {first[4:].upper()}"
    assert login("fiona.hale", otp=typed).status_code == 201
    assert StaticToken.objects.filter(device__user=manager[0]).count() == 9
    again = login("fiona.hale", otp=first)
    assert again.status_code == 400
    assert again.json()["code"] == "mfa_invalid"
    assert login("fiona.hale", otp=manager[1][1]).status_code == 201


@pytest.mark.hazard("HZ-08")
@pytest.mark.parametrize(
    "extra",
    [{"job": Person.Job.ROTA_MANAGER}, {"job": Person.Job.AUDITOR}, {"is_superuser": True}],
    ids=["rota manager", "auditor", "superuser"],
)
def test_a_person_who_must_use_mfa_cannot_turn_it_off(
    db: None, authenticator_clock: Clock, extra: Any
) -> None:
    job = extra.pop("job", Person.Job.DOCTOR)
    person, _ = enrolled("fiona.hale", job, authenticator_clock, **extra)
    _, token = factories.make_device(person)
    answer = client_for(token).post(
        "/api/auth/mfa/disable", {"otp": code(person, authenticator_clock)}, format="json"
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "mfa_mandatory"
    assert TOTPDevice.objects.filter(user=person, confirmed=True).exists()


def test_a_nurse_signs_in_without_a_code_until_she_enrols(ward: Ward) -> None:
    response = login("amina.okafor")
    assert response.status_code == 201
    me = client_for(response.json()["token"]).get("/api/me").json()
    assert me["mfa"] == {"enrolled": False, "required": False}


def test_a_nurse_enrols_from_her_phone_then_turns_it_off_with_a_code(
    ward: Ward, authenticator_clock: Clock
) -> None:
    client = client_for(ward.nurse_token)
    confirmed = enrol(client, ward.nurse, authenticator_clock)
    assert confirmed.status_code == 200
    assert confirmed.json()["mfa"] == {"enrolled": True, "required": False}
    assert "token" not in confirmed.json()
    assert login("amina.okafor").json()["code"] == "mfa_required"

    without = client.post("/api/auth/mfa/disable", {}, format="json")
    assert without.status_code == 400
    assert without.json()["fields"] == {"otp": ["This field is required."]}
    answer = client.post(
        "/api/auth/mfa/disable", {"otp": code(ward.nurse, authenticator_clock)}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json() == {"enrolled": False, "required": False}
    assert login("amina.okafor").status_code == 201
    assert not StaticToken.objects.filter(device__user=ward.nurse).exists()


def test_new_recovery_codes_need_a_current_code_and_end_the_old_ones(
    manager: tuple[Person, list[str]], authenticator_clock: Clock, no_slowing: None
) -> None:
    person, old = manager
    _, token = factories.make_device(person)
    client = client_for(token)
    refused = client.post("/api/auth/mfa/recovery-codes", {"otp": "000000"}, format="json")
    assert refused.json()["code"] in {"mfa_invalid"}

    answer = client.post(
        "/api/auth/mfa/recovery-codes", {"otp": code(person, authenticator_clock)}, format="json"
    )

    assert answer.status_code == 200
    new = answer.json()["recovery_codes"]
    assert len(new) == 10
    assert login("fiona.hale", otp=old[0]).json()["code"] == "mfa_invalid"
    assert login("fiona.hale", otp=new[0]).status_code == 201


def test_a_lost_authenticator_is_replaced_after_signing_in_with_a_recovery_code(
    manager: tuple[Person, list[str]], authenticator_clock: Clock
) -> None:
    person, codes = manager
    token = login("fiona.hale", otp=codes[0]).json()["token"]
    client = client_for(token)
    assert client.post("/api/auth/mfa/enrolment", {}, format="json").json()["code"] == (
        "mfa_required"
    )
    started = client.post("/api/auth/mfa/enrolment", {"otp": codes[1]}, format="json")
    assert started.status_code == 201
    # Until the new one is confirmed, the old authenticator still signs in.
    assert TOTPDevice.objects.filter(user=person, confirmed=True).count() == 1

    confirmed = client.post(
        "/api/auth/mfa/enrolment/confirm",
        {"otp": code(person, authenticator_clock, confirmed=False)},
        format="json",
    )

    assert confirmed.status_code == 200
    assert TOTPDevice.objects.filter(user=person).count() == 1
    authenticator_clock.next_step()
    assert login("fiona.hale", otp=code(person, authenticator_clock)).status_code == 201


@pytest.mark.hazard("HZ-08")
def test_a_doctor_made_rota_manager_keeps_the_devices_already_signed_in(ward: Ward) -> None:
    ward.doctor.job = Person.Job.ROTA_MANAGER
    ward.doctor.save()
    assert login("omar.haddad").json()["code"] == "mfa_enrolment_required"
    me = client_for(ward.doctor_token).get("/api/me")
    assert me.status_code == 200
    assert me.json()["mfa"] == {"enrolled": False, "required": True}


def test_secrets_and_codes_are_never_logged(
    db: None, authenticator_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    person = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
    token = login("fiona.hale").json()["enrolment_token"]
    client = enrolment_client(token)
    secret = client.post("/api/auth/mfa/enrolment", {}, format="json").json()["secret"]
    otp = code(person, authenticator_clock, confirmed=False)
    codes = client.post("/api/auth/mfa/enrolment/confirm", {"otp": otp}, format="json").json()
    logged = caplog.text
    for value in [secret, otp, token, *codes["recovery_codes"]]:
        assert value not in logged
