"""The OpenAPI schema tells an app builder what every error looks like."""

from typing import Any

import pytest
from rest_framework.test import APIClient

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        answer = APIClient().get("/api/schema/", {"format": "json"})
    assert answer.status_code == 200
    return dict(answer.json())


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_the_schema_has_one_error_shape_with_a_code_and_words(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail"]
    assert {"code", "detail", "fields", "retry_after"} <= set(error["properties"])


def test_every_operation_documents_its_errors_in_that_shape(schema: dict[str, Any]) -> None:
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert "503" in responses, (method, path)
        errors = {status: answer for status, answer in responses.items() if status >= "400"}
        for status, answer in errors.items():
            reference = answer["content"]["application/json"]["schema"]["$ref"]
            assert reference == "#/components/schemas/Error", (method, path, status)


def test_an_operation_that_needs_a_token_documents_401_and_one_on_an_object_404(
    schema: dict[str, Any],
) -> None:
    bleep = schema["paths"]["/api/bleeps/{bleep_id}"]["get"]["responses"]
    assert {"401", "403", "404"} <= set(bleep)
    sending = schema["paths"]["/api/bleeps"]["post"]["responses"]
    assert {"400", "401", "413"} <= set(sending)


def undescribed(schema: dict[str, Any]) -> list[str]:
    """Return every property and parameter in the schema that says nothing of itself."""
    missing = []

    def walk(where: str, node: Any) -> None:
        if isinstance(node, dict):
            for name, field in (node.get("properties") or {}).items():
                # A field that is only a reference is described by what it refers to.
                described = "description" in field or "$ref" in field and len(field) == 1
                if not described and not ("allOf" in field and "description" in field):
                    missing.append(f"{where}.{name}")
                walk(f"{where}.{name}", field)
            for key in ("items", "additionalProperties"):
                if isinstance(node.get(key), dict):
                    walk(where, node[key])
            for key in ("allOf", "oneOf", "anyOf"):
                for part in node.get(key) or []:
                    walk(where, part)

    for name, component in schema["components"]["schemas"].items():
        walk(name, component)
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if not parameter.get("description"):
                missing.append(f"{method.upper()} {path} ?{parameter['name']}")
    return missing


def test_every_field_and_parameter_of_the_schema_says_what_it_is(schema: dict[str, Any]) -> None:
    missing = undescribed(schema)
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)
