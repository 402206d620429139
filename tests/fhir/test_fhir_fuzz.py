"""Whatever a system posts or asks, the FHIR endpoint answers with a resource or an
OperationOutcome, never a server error: a bounded property-based pass over its bodies and
search parameters."""

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from messaging.models import Bleep
from tests.conftest import Ward
from tests.escalation.test_worker_properties import rolled_back
from tests.fhir.test_fhir import alert, system, valid

pytestmark = pytest.mark.django_db

ANSWERS = {200, 201, 400, 404, 409, 422, 429}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=12,
)
# The elements an alert has, each given a value of any shape in turn.
ELEMENTS = [
    "resourceType",
    "identifier",
    "status",
    "priority",
    "recipient",
    "payload",
    "subject",
    "encounter",
    "contained",
    "id",
]


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.dictionaries(st.sampled_from(ELEMENTS), json_values, max_size=3),
    body=st.one_of(st.none(), json_values),
    whole=st.booleans(),
)
def test_no_alert_body_gets_a_server_error_and_every_refusal_is_an_operation_outcome(
    ward: Ward, changes: dict[str, Any], body: Any, whole: bool
) -> None:
    with rolled_back():
        client = system(client_id="fuzz")
        sent = body if whole else alert(**changes)
        answer = client.post(
            "/fhir/CommunicationRequest", json.dumps(sent), content_type="application/fhir+json"
        )
        assert answer.status_code in ANSWERS, answer.content
        resource = valid(answer.json())
        if answer.status_code >= 400:
            assert resource["resourceType"] == "OperationOutcome"
            assert not Bleep.objects.exists()


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(["/fhir/Communication", "/fhir/PractitionerRole"]),
    query=st.dictionaries(
        st.sampled_from(
            [
                "based-on",
                "recipient",
                "status",
                "_lastUpdated",
                "active",
                "date",
                "identifier",
                "_id",
                "x",
            ]
        ),
        st.text(max_size=30),
        max_size=3,
    ),
)
def test_no_search_gets_a_server_error(ward: Ward, path: str, query: dict[str, str]) -> None:
    with rolled_back():
        answer = system(client_id="fuzz").get(path, query)
        assert answer.status_code in ANSWERS, answer.content
        valid(answer.json())


def test_a_body_that_is_not_json_is_an_operation_outcome(ward: Ward) -> None:
    answer = system().post(
        "/fhir/CommunicationRequest", "{not json", content_type="application/fhir+json"
    )
    assert answer.status_code == 400
    assert valid(answer.json())["resourceType"] == "OperationOutcome"


def test_an_unknown_fhir_address_is_an_operation_outcome_404(ward: Ward) -> None:
    answer = APIClient().get("/fhir/Patient/1")
    assert answer.status_code == 404
    assert valid(answer.json())["issue"][0]["code"] == "not-supported"
