"""Every FHIR example in docs/fhir.md is a valid resource, and the alert example is one the
endpoint takes."""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rota.models import Location
from tests.conftest import Ward
from tests.fhir.test_fhir import system, valid

DOC = Path(__file__).resolve().parents[2] / "docs" / "fhir.md"


def examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    return [json.loads(block) for block in blocks]


def test_the_docs_have_examples_of_each_kind() -> None:
    kinds = {example["resourceType"] for example in examples()}
    assert kinds == {"CommunicationRequest", "Communication", "OperationOutcome"}


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["resourceType"])
def test_each_example_in_the_docs_is_a_valid_resource(example: dict[str, Any]) -> None:
    valid(example)


@pytest.mark.django_db
def test_the_docs_alert_is_taken_by_the_endpoint(ward: Ward) -> None:
    [alert] = [e for e in examples() if e["resourceType"] == "CommunicationRequest"]
    encounter = alert["contained"][0]
    encounter["location"][0]["location"]["reference"] = f"Location/{ward_location(ward)}"
    alert["recipient"] = [{"reference": f"PractitionerRole/{ward.role.pk}"}]
    answer = system().post(
        "/fhir/CommunicationRequest", json.dumps(alert), content_type="application/fhir+json"
    )
    assert answer.status_code == 201, answer.content


def ward_location(ward: Ward) -> int:
    return Location.objects.create(site=ward.role.site, name="Ward 7").pk
