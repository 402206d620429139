"""FHIR's errors: every refusal under /fhir/ is an OperationOutcome naming what was wrong and,
where one element was, its FHIRPath (`CommunicationRequest.payload[0]`)."""

from typing import Any

from rest_framework import status


class FhirError(Exception):
    """A refusal to answer as an OperationOutcome with `status`."""

    def __init__(
        self,
        diagnostics: str,
        *,
        code: str = "invalid",
        status_code: int = status.HTTP_400_BAD_REQUEST,
        expression: str | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.code = code
        self.status_code = status_code
        self.expression = expression


def operation_outcome(issues: list[FhirError]) -> dict[str, Any]:
    """Return an OperationOutcome with one issue for each refusal."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": issue.code,
                "diagnostics": issue.diagnostics,
                **({"expression": [issue.expression]} if issue.expression else {}),
            }
            for issue in issues
        ],
    }


def fhir_path(resource_type: str, location: tuple[Any, ...]) -> str:
    """Return the FHIRPath of a pydantic error's location: ("payload", 0) → payload[0]."""
    path = resource_type
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path
