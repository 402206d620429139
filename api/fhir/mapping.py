"""Bleep ↔ FHIR R4: an incoming CommunicationRequest as the same send a phone makes, and
bleeps, copies, roles, people and wards as the resources other systems read (docs/fhir.md
has the table)."""

import hashlib
from datetime import datetime
from typing import Any

from django.db.models import Min, Q
from fhir.resources.R4B.communicationrequest import CommunicationRequest
from pydantic import ValidationError

from api.fhir.outcome import FhirError, fhir_path
from messaging.actions import Action
from messaging.models import Bleep, BleepStatus, Delivery, DeliveryStatus, HistoryEntry, Priority
from rota.models import Location, Person, Role, Shift

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# Bleep's own identifier systems: a role's bleep number, a bleep's request identifier.
BLEEP_NUMBER_SYSTEM = "urn:bleep:bleep-number"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
BED_PHYSICAL_TYPE = "bd"

PRIORITY_IN = {
    "stat": Priority.EMERGENCY,
    "asap": Priority.URGENT,
    "urgent": Priority.URGENT,
    "routine": Priority.ROUTINE,
}
PRIORITY_OUT = {Priority.EMERGENCY: "stat", Priority.URGENT: "urgent", Priority.ROUTINE: "routine"}
REQUEST_STATUS = {
    BleepStatus.OPEN: "active",
    BleepStatus.ACKNOWLEDGED: "completed",
    BleepStatus.CANCELLED: "revoked",
}
COMMUNICATION_STATUS = {
    DeliveryStatus.SENT: "in-progress",
    DeliveryStatus.DELIVERED: "in-progress",
    DeliveryStatus.READ: "in-progress",
    DeliveryStatus.HANDLING: "in-progress",
    DeliveryStatus.ACKNOWLEDGED: "completed",
    DeliveryStatus.DECLINED: "stopped",
    DeliveryStatus.CANCELLED: "stopped",
}


def read_request(body: Any) -> dict[str, Any]:
    """Return an ITI-84 CommunicationRequest as the fields of a send (drafts'
    SendBleepSerializer), or raise FhirError naming the element at fault."""
    if not isinstance(body, dict) or body.get("resourceType") != "CommunicationRequest":
        raise FhirError(
            "the body must be a CommunicationRequest resource", expression="resourceType"
        )
    try:
        request = CommunicationRequest.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        raise FhirError(
            first["msg"], expression=fhir_path("CommunicationRequest", tuple(first["loc"]))
        ) from None
    if request.status not in {"active", "draft"}:
        raise FhirError(
            "an alert is sent with status `active`", expression="CommunicationRequest.status"
        )
    send: dict[str, Any] = {"message": _message(body), "priority": _priority(body)}
    send |= _target(body)
    send |= _patient(body)
    send |= _place(body)
    key = _business_key(body)
    if key:
        send["idempotency_key"] = key
    return send


def _message(body: dict[str, Any]) -> str:
    payload = body.get("payload") or []
    texts = [part.get("contentString") for part in payload if part.get("contentString")]
    if len(texts) != 1:
        raise FhirError(
            "give the alert's text as exactly one payload.contentString",
            expression="CommunicationRequest.payload",
        )
    return str(texts[0])


def _priority(body: dict[str, Any]) -> str:
    given = body.get("priority", "routine")
    if given not in PRIORITY_IN:
        raise FhirError(
            f"priority is one of {', '.join(PRIORITY_IN)}",
            code="code-invalid",
            expression="CommunicationRequest.priority",
        )
    return str(PRIORITY_IN[given])


def _target(body: dict[str, Any]) -> dict[str, Any]:
    recipients = body.get("recipient") or []
    where = "CommunicationRequest.recipient"
    if len(recipients) != 1:
        raise FhirError("give exactly one recipient", expression=where)
    recipient = recipients[0]
    reference = str(recipient.get("reference") or "")
    kind, _, ident = reference.partition("/")
    if kind == "PractitionerRole" and ident.isdigit():
        return {"role": int(ident)}
    if kind == "Practitioner" and ident.isdigit():
        return {"person": int(ident)}
    identifier = recipient.get("identifier") or {}
    if not reference and identifier.get("system") == BLEEP_NUMBER_SYSTEM:
        return {"bleep_number": str(identifier.get("value") or "")}
    raise FhirError(
        "the recipient is PractitionerRole/{id}, Practitioner/{id}, or a PractitionerRole "
        f"by its bleep number (identifier system {BLEEP_NUMBER_SYSTEM})",
        expression=f"{where}[0]",
    )


def _patient(body: dict[str, Any]) -> dict[str, Any]:
    subject = body.get("subject")
    if not subject:
        return {}
    identifier = subject.get("identifier") or {}
    if identifier.get("system") != NHS_NUMBER_SYSTEM:
        raise FhirError(
            f"the subject is a Patient by NHS number (identifier system {NHS_NUMBER_SYSTEM})",
            expression="CommunicationRequest.subject.identifier",
        )
    return {"nhs_number": str(identifier.get("value") or "")}


def _place(body: dict[str, Any]) -> dict[str, Any]:
    """The ward (a Location by id) and bed (a location of physical type `bd`) of the
    contained Encounter that `encounter` points to, where one is given."""
    reference = str((body.get("encounter") or {}).get("reference") or "")
    if not reference:
        return {}
    contained = {
        f"#{resource.get('id')}": resource
        for resource in body.get("contained") or []
        if isinstance(resource, dict) and resource.get("resourceType") == "Encounter"
    }
    encounter = contained.get(reference)
    if encounter is None:
        raise FhirError(
            "the encounter is one contained in the request (#id), with its locations",
            expression="CommunicationRequest.encounter",
        )
    place: dict[str, Any] = {}
    for entry in encounter.get("location") or []:
        location = entry.get("location") or {}
        codings = (entry.get("physicalType") or {}).get("coding") or []
        if any(coding.get("code") == BED_PHYSICAL_TYPE for coding in codings):
            place["bed"] = str(location.get("display") or "")
            continue
        kind, _, ident = str(location.get("reference") or "").partition("/")
        if kind == "Location" and ident.isdigit():
            place["location"] = int(ident)
    return place


def _business_key(body: dict[str, Any]) -> str:
    """The request's business identifier as a send's idempotency key: the same alert sent
    again (a retry) returns the first bleep."""
    identifiers = body.get("identifier") or []
    if not identifiers:
        return ""
    first = identifiers[0]
    whole = f"{first.get('system', '')}|{first.get('value', '')}"
    return "fhir:" + hashlib.sha256(whole.encode()).hexdigest()[:59]


def request_resource(bleep: Bleep) -> dict[str, Any]:
    """A bleep as the CommunicationRequest an integrating system sent (or would have)."""
    resource: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "id": str(bleep.pk),
        "status": REQUEST_STATUS[BleepStatus(bleep.status)],
        "priority": PRIORITY_OUT[Priority(bleep.priority)],
        "payload": [{"contentString": bleep.message}],
        "authoredOn": _instant(bleep.created_at),
        "requester": {"display": str(bleep.sender)},
    }
    if bleep.role_id is not None:
        resource["recipient"] = [{"reference": f"PractitionerRole/{bleep.role_id}"}]
    elif bleep.person_id is not None:
        resource["recipient"] = [{"reference": f"Practitioner/{bleep.person_id}"}]
    if bleep.nhs_number:
        resource["subject"] = {
            "identifier": {"system": NHS_NUMBER_SYSTEM, "value": bleep.nhs_number}
        }
    return resource


def communications(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """Each copy of a bleep as an ITI-85 Communication: sent, received (when a device of the
    recipient confirmed it), its status and, once answered, why."""
    times = (
        HistoryEntry.objects.filter(delivery__in=deliveries)
        .values("delivery_id")
        .annotate(sent=Min("at"), received=Min("at", filter=Q(action=Action.DELIVER)))
    )
    when: dict[int, dict[str, Any]] = {row["delivery_id"]: dict(row) for row in times}
    return [_communication(delivery, when.get(delivery.pk, {})) for delivery in deliveries]


def _communication(delivery: Delivery, times: dict[str, Any]) -> dict[str, Any]:
    bleep = delivery.bleep
    status = DeliveryStatus(delivery.status)
    resource: dict[str, Any] = {
        "resourceType": "Communication",
        "id": str(delivery.pk),
        "basedOn": [{"reference": f"CommunicationRequest/{bleep.pk}"}],
        "status": COMMUNICATION_STATUS[status],
        "priority": PRIORITY_OUT[Priority(bleep.priority)],
        "recipient": [
            {
                "reference": f"Practitioner/{delivery.recipient_id}",
                "display": str(delivery.recipient),
            }
        ],
        "payload": [{"contentString": bleep.message}],
        "meta": {"lastUpdated": _instant(delivery.updated_at)},
    }
    if times.get("sent"):
        resource["sent"] = _instant(times["sent"])
    if times.get("received"):
        resource["received"] = _instant(times["received"])
    reason = _reason(delivery, status)
    if reason:
        resource["statusReason"] = {"text": reason}
    return resource


def _reason(delivery: Delivery, status: DeliveryStatus) -> str:
    if status == DeliveryStatus.ACKNOWLEDGED:
        eta = f", coming in {delivery.eta_minutes} min" if delivery.eta_minutes else ""
        comment = f": {delivery.comment}" if delivery.comment else ""
        return f"Acknowledged by {delivery.recipient}{eta}{comment}"
    if status == DeliveryStatus.DECLINED:
        return f"Declined by {delivery.recipient}: {delivery.decline_reason or 'no reason given'}"
    if status == DeliveryStatus.CANCELLED:
        return "Cancelled"
    if status == DeliveryStatus.HANDLING:
        return "Switchboard is handling it"
    return ""


def practitioner_role(role: Role, shift: Shift | None) -> dict[str, Any]:
    """A role as UK Core's PractitionerRole: its bleep number as a pager, and who holds it
    (with the shift's period) when one is given."""
    resource: dict[str, Any] = {
        "resourceType": "PractitionerRole",
        "id": str(role.pk),
        "meta": {"profile": [f"{UK_CORE}UKCore-PractitionerRole"]},
        "identifier": [{"system": BLEEP_NUMBER_SYSTEM, "value": role.bleep_number}],
        "active": shift is not None,
        "code": [{"text": role.name}],
        "telecom": [{"system": "pager", "value": role.bleep_number, "use": "work"}],
    }
    if shift is not None:
        resource["practitioner"] = {
            "reference": f"Practitioner/{shift.person_id}",
            "display": str(shift.person),
        }
        resource["period"] = {"start": _instant(shift.start), "end": _instant(shift.end)}
    return resource


def practitioner(person: Person) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": str(person.pk),
        "meta": {"profile": [f"{UK_CORE}UKCore-Practitioner"]},
        "active": person.is_active,
        "name": [{"text": str(person)}],
    }


def location(place: Location) -> dict[str, Any]:
    return {
        "resourceType": "Location",
        "id": str(place.pk),
        "meta": {"profile": [f"{UK_CORE}UKCore-Location"]},
        "status": "active",
        "name": place.name,
        "mode": "instance",
    }


def bundle(resources: list[dict[str, Any]], base: str) -> dict[str, Any]:
    """A searchset Bundle of `resources`, each with its full URL under `base`."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {
                "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
                "resource": resource,
                "search": {"mode": "match"},
            }
            for resource in resources
        ],
    }


def _instant(at: datetime) -> str:
    return at.isoformat()
