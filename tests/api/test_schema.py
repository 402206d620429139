"""The OpenAPI schema tells an app builder what every error looks like."""

import inspect
from typing import Any

import pytest
from rest_framework.test import APIClient

from bleep.strict import RejectUnknownFields, StrictSerializer

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
    """Return every property and parameter in the schema that says nothing of itself, in the
    components and in the bodies written inline in an operation."""
    missing = []

    def walk(where: str, node: Any) -> None:
        if isinstance(node, dict):
            for name, field in (node.get("properties") or {}).items():
                # A bare reference says what the object is, not what it is here (the
                # requester, the counterpart): it is described by an allOf around it.
                if "description" not in field:
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
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media, content in (body.get("content") or {}).items():
                walk(f"{method.upper()} {path} {media}", content.get("schema"))
    return missing


def test_every_field_and_parameter_of_the_schema_says_what_it_is(schema: dict[str, Any]) -> None:
    missing = undescribed(schema)
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_no_object_of_the_schema_is_described_by_the_docstring_of_a_base_it_shares(
    schema: dict[str, Any],
) -> None:
    # drf-spectacular describes a serializer by its docstring, inherited when it has none.
    shared = {inspect.getdoc(base) for base in (RejectUnknownFields, StrictSerializer)}
    components = schema["components"]["schemas"].items()
    borrowed = [name for name, component in components if component.get("description") in shared]
    assert not borrowed, f"say what each is: {borrowed}"
