"""The OpenAPI schema's one error shape, added to every operation that can answer it, and
the descriptions of fields that do not describe themselves."""

from typing import Any

from api.field_words import BY_QUERY, description

ERROR_COMPONENT = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every 4xx and 5xx answer of the API has this shape (docs/protocol.md).",
    "required": ["code", "detail"],
    "properties": {
        "code": {
            "type": "string",
            "description": "What went wrong, for code to test: `invalid`, `not_found`, "
            "`forbidden`, `conflict`, `too_many_bleeps`, `database_unavailable` and the others "
            "docs/protocol.md lists. Stable across versions.",
        },
        "detail": {
            "type": "string",
            "description": "The same in words a person can read, naming the field and the limit "
            "where there is one.",
        },
        "fields": {
            "type": "object",
            "description": "For `invalid`: each field at fault, by its dotted path "
            "(`keys.p256dh`), with its messages.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
        "retry_after": {
            "type": "integer",
            "description": "For 429 and 503: seconds to wait before trying again, as the "
            "Retry-After header says.",
        },
    },
    "additionalProperties": True,
}

# Which error statuses an operation may answer, and when.
ALWAYS = {
    "503": "The database is not answering just now (`database_unavailable`); see Retry-After.",
}
SIGNED_IN = {
    "401": "No device token, or one that is revoked or expired; sign in again.",
    "403": "Signed in, but this person may not do this (`forbidden` and the codes named in "
    "docs/protocol.md).",
}
WITH_INPUT = {
    "400": "The input is not valid (`invalid`): `fields` names each field at fault.",
}
WITH_BODY = {
    "413": "The body is larger than the server reads (`too_large`): `detail` says the limit.",
}
WITH_PATH_ID = {
    "404": "No such object, or one this person may not see (`not_found`): the two are never told "
    "apart.",
}


def document_errors(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Add the Error component and each operation's error answers (a drf-spectacular hook)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, meaning in _errors_for(path, operation).items():
                responses.setdefault(status, _error_response(meaning))
    return result


def _errors_for(path: str, operation: dict[str, Any]) -> dict[str, str]:
    """Return the error statuses `operation` on `path` may answer, with what each means."""
    errors = dict(ALWAYS)
    if any(requirement for requirement in operation.get("security", [])):
        errors |= SIGNED_IN
    if "requestBody" in operation or operation.get("parameters"):
        errors |= WITH_INPUT
    if "requestBody" in operation:
        errors |= WITH_BODY
    if "{" in path:
        errors |= WITH_PATH_ID
    return errors


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
        },
    }


def describe_fields(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Give every property and path parameter without a description the one in
    api/field_words.py: one table, so a field that recurs is described once."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        paged = name.startswith("Paginated")
        for field, spec in (component.get("properties") or {}).items():
            if "description" in spec:
                continue
            said = PAGE_WORDS.get(field) if paged else description(name, field)
            if said is None:
                continue
            if "$ref" in spec:
                # A sibling of $ref is ignored by OpenAPI 3.0 tools: wrap it to say more.
                component["properties"][field] = {"allOf": [spec], "description": said}
            else:
                spec["description"] = said
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("description"):
                    continue
                if parameter.get("in") == "path":
                    thing = parameter["name"].removesuffix("_id").replace("_", " ")
                    parameter["description"] = f"The {thing}'s id."
                elif parameter["name"] in BY_QUERY:
                    parameter["description"] = BY_QUERY[parameter["name"]]
    return result


PAGE_WORDS = {
    "next": "The URL of the next page; null on the last.",
    "previous": "The URL of the page before; null on the first.",
    "results": "This page of the list.",
}
