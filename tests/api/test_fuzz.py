"""Every operation the OpenAPI schema names, fuzzed in-process: no input may give a 5xx.

The operations are read from the schema at run time, so new routes are walked without a
change here. Each person (a nurse, switchboard, a rota manager) gets a fresh device token
for every example, so an example that signs out or ends a device cannot turn the rest into
401s. Examples are few and derived from a fixed seed, so a run is bounded and repeatable.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from rota.models import Person, RotaManagerScope
from tests import factories
from tests.conftest import Ward

pytestmark = pytest.mark.django_db

SCHEMA_PATH = "/api/schema/"
SEED = 20_251_204
EXAMPLES_PER_OPERATION = 10

CONFIG = {
    "seed": SEED,
    "generation": {
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",
    },
    # The schema's examples, then random inputs. The coverage phase (boundary cases) found
    # nothing more and doubled the time; stateful chains would take longer still.
    "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": False}},
    "suppress-health-check": ["all"],
}


@pytest.fixture
def people(ward: Ward) -> dict[str, Person]:
    """A nurse, switchboard, and a rota manager of the ward's team."""
    manager = factories.make_person("rhea.manager", job=Person.Job.ROTA_MANAGER)
    RotaManagerScope.objects.create(person=manager, team=ward.role.team)
    return {"nurse": ward.nurse, "switchboard": ward.operator, "rota_manager": manager}


# Loaded when the module is collected, so the operations below are the schema's of the day.
# (schemathesis' fixture-based loader cannot run on pytest 9: it sets a removed attribute.)
schema = schemathesis.openapi.from_wsgi(
    SCHEMA_PATH, get_wsgi_application(), config=SchemathesisConfig.from_dict(CONFIG)
)


@pytest.fixture(autouse=True)
def connection_kept_between_requests() -> Iterator[None]:
    """Keep the test's database connection open across requests, as Django's test client does.

    A WSGI app closes the connection after each request; in a test that ends its transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call_as(person: Person, case: Any) -> None:
    """Send `case` with a fresh token of `person`'s; fail on any 5xx answer."""
    _, token = factories.make_device(person)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )


@schema.parametrize()
def test_no_input_from_a_nurse_to_any_operation_gives_a_server_error(
    case: Any, people: dict[str, Person]
) -> None:
    call_as(people["nurse"], case)


@schema.parametrize()
def test_no_input_from_switchboard_to_any_operation_gives_a_server_error(
    case: Any, people: dict[str, Person]
) -> None:
    call_as(people["switchboard"], case)


@schema.parametrize()
def test_no_input_from_a_rota_manager_to_any_operation_gives_a_server_error(
    case: Any, people: dict[str, Person]
) -> None:
    call_as(people["rota_manager"], case)
