"""Fixtures shared by every test folder: a small ward with a nurse and an on-call doctor."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from bleep.append_only import allow_truncate_of_a_scratch_database
from messaging.models import Device
from messaging.push import application_server_key
from rota.models import Person, Role
from tests import factories, notify_service, wctp_gateway
from tests.notify_service import NotifyService
from tests.push_service import PushService
from tests.safety.plugin import (  # noqa: F401  (hooks: the hazard log's traceability)
    pytest_collection_modifyitems,
    pytest_runtest_makereport,
    pytest_sessionfinish,
)
from tests.wctp_gateway import WctpGateway


@dataclass
class Ward:
    """A registrar role held now by one doctor, and a nurse who bleeps it."""

    now: datetime
    role: Role
    switchboard_role: Role
    nurse: Person
    doctor: Person
    operator: Person
    nurse_device: Device
    nurse_token: str
    doctor_device: Device
    doctor_token: str


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """Let a transactional test's teardown empty the append-only tables with TRUNCATE.

    Only on the test database, and only TRUNCATE: UPDATE and DELETE stay refused on
    PostgreSQL, so every test also shows that nothing rewrites the history.
    """
    with django_db_blocker.unblock():
        allow_truncate_of_a_scratch_database(connection)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Hash test passwords cheaply; the real hasher costs ~0.5 s a login by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def ward(db: None) -> Ward:
    now = timezone.now()
    switchboard_role = factories.make_role(
        "Switchboard", bleep_number="1000", kind=Role.Kind.SWITCHBOARD
    )
    role = factories.make_role(bleep_number="2345", fallback=switchboard_role)
    nurse = factories.make_person("amina.okafor", job=Person.Job.NURSE)
    doctor = factories.make_person("omar.haddad")
    operator = factories.make_person("pat.ellis", job=Person.Job.SWITCHBOARD)
    factories.on_call_now(role, doctor, now)
    factories.on_call_now(switchboard_role, operator, now)
    nurse_device, nurse_token = factories.make_device(nurse)
    doctor_device, doctor_token = factories.make_device(doctor)
    return Ward(
        now,
        role,
        switchboard_role,
        nurse,
        doctor,
        operator,
        nurse_device,
        nurse_token,
        doctor_device,
        doctor_token,
    )


@pytest.fixture
def push_service(settings: Any, tmp_path: Path) -> Iterator[PushService]:
    """Run a push service on localhost that the code under test is allowed to reach."""
    service = PushService(tmp_path, vapid_public_key=application_server_key())
    settings.PUSH_HOSTS = [*settings.PUSH_HOSTS, service.host]
    settings.PUSH_CA_BUNDLE = str(service.ca_path)
    service.start()
    yield service
    service.stop()
    assert service.violations == []


@pytest.fixture
def notify(settings: Any) -> Iterator[NotifyService]:
    """Run a GOV.UK Notify on localhost and point text messages at it."""
    service = NotifyService().start()
    settings.NOTIFY_API_KEY = notify_service.API_KEY
    settings.NOTIFY_BASE_URL = service.url
    settings.NOTIFY_SMS_TEMPLATE_ID = notify_service.TEMPLATE_ID
    yield service
    service.stop()
    assert service.refused_tokens == 0


@pytest.fixture
def pager_gateway(settings: Any) -> Iterator[WctpGateway]:
    """Run a WCTP paging gateway on localhost and point pages at it."""
    gateway = WctpGateway().start()
    settings.WCTP_URL = gateway.url
    settings.WCTP_SENDER_ID = wctp_gateway.SENDER_ID
    settings.WCTP_SECURITY_CODE = wctp_gateway.SECURITY_CODE
    yield gateway
    gateway.stop()


def client_for(token: str) -> APIClient:
    """Return an API client that sends `token` as a bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
