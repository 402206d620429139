"""The CapabilityStatement at /fhir/metadata: exactly what this endpoint supports, no more."""

from datetime import datetime
from typing import Any

from messaging.models import SystemScope

SMART_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _search(name: str, kind: str, words: str) -> dict[str, str]:
    return {"name": name, "type": kind, "documentation": words}


def capability_statement(*, base: str, now: datetime) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.date().isoformat(),
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "implementation": {"description": "Bleep: role-addressed hospital bleeps", "url": base},
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "IHE mACM's Alert Aggregator: Mobile Report Alert (ITI-84) and Query for "
                    "Alert Status (ITI-85); and who is on call, as PractitionerRole."
                ),
                "security": {
                    "service": [{"coding": [{"system": SMART_SECURITY, "code": "OAuth"}]}],
                    "description": (
                        "OAuth 2.0 client credentials at the token endpoint; scopes: "
                        + ", ".join(SystemScope.values)
                    ),
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}],
                        }
                    ],
                },
                "resource": [
                    {
                        "type": "CommunicationRequest",
                        "interaction": [{"code": "create"}, {"code": "read"}, {"code": "update"}],
                        "documentation": (
                            "create sends a bleep (ITI-84), idempotent by identifier; read "
                            "shows its status; update may only set status `revoked` (cancel)"
                        ),
                        "conditionalCreate": False,
                    },
                    {
                        "type": "Communication",
                        "interaction": [{"code": "search-type"}],
                        "searchParam": [
                            _search("based-on", "reference", "CommunicationRequest/{id}"),
                            _search("recipient", "reference", "Practitioner/{id}"),
                            _search("status", "token", "in-progress, completed or stopped"),
                            _search("_lastUpdated", "date", "gt, ge, lt or le an instant"),
                        ],
                    },
                    {
                        "type": "PractitionerRole",
                        "profile": (
                            "https://fhir.hl7.org.uk/StructureDefinition/UKCore-PractitionerRole"
                        ),
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            _search("active", "token", "held at `date` (true) or not (false)"),
                            _search("date", "date", "the instant asked about; now by default"),
                            _search("identifier", "token", "urn:bleep:bleep-number|{number}"),
                            _search("_id", "token", "the role's id"),
                        ],
                    },
                    {"type": "Practitioner", "interaction": [{"code": "read"}]},
                    {"type": "Location", "interaction": [{"code": "read"}]},
                ],
            }
        ],
    }
