"""The FHIR endpoint: IHE mACM ITI-84 and ITI-85, who is on call, system clients and their
scopes, and an OperationOutcome for every refusal. Every resource it writes is checked with
fhir.resources' models."""

import base64
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class
from rest_framework.test import APIClient

from messaging.models import Bleep, BleepStatus, HistoryEntry, SystemClient, SystemScope
from messaging.services.answers import acknowledge_bleep
from messaging.services.bleeps import cancel_bleep
from messaging.services.systems import create_client
from rota.models import Location
from tests.conftest import Ward

pytestmark = pytest.mark.django_db

ALL_SCOPES = list(SystemScope.values)
NHS_NUMBER = "9434765919"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Check `resource` (and any resources a Bundle holds) against the FHIR models."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    return resource


SECRETS: dict[str, str] = {}


def token_for(scopes: list[str], client_id: str = "obs") -> str:
    _, secret = create_client(
        client_id=client_id, name=f"{client_id} system", scopes=scopes, now=timezone.now()
    )
    SECRETS[client_id] = secret
    return token_of(client_id, " ".join(scopes))


def token_of(client_id: str, scope: str) -> str:
    """A token for a client made here, with `scope` (space-separated scopes)."""
    secret = SECRETS[client_id]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = token_request(
        {"grant_type": "client_credentials", "scope": scope}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert answer.status_code == 200, answer.content
    return str(answer.json()["access_token"])


def token_request(form: dict[str, str], **headers: Any) -> Any:
    """Ask the token endpoint as RFC 6749 says: a form."""
    return APIClient().post(
        "/fhir/auth/token",
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        **headers,
    )


def system(scopes: list[str] = ALL_SCOPES, client_id: str = "obs") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(scopes, client_id)}")
    return client


def alert(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "identifier": [{"system": "https://obs.example/alerts", "value": "a-1"}],
        "status": "active",
        "priority": "urgent",
        "recipient": [{"identifier": {"system": "urn:bleep:bleep-number", "value": "2345"}}],
        "payload": [{"contentString": "NEWS2 7 on Ward 7 bed 4, please review"}],
        "subject": {
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}
        },
    }
    return body | changes


def post(client: APIClient, body: Any) -> Any:
    return client.post(
        "/fhir/CommunicationRequest", json.dumps(body), content_type="application/fhir+json"
    )


def outcome(answer: Any, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.content
    body = valid(answer.json())
    assert body["resourceType"] == "OperationOutcome"
    return dict(body["issue"][0])


def test_the_capability_statement_is_open_to_all_and_a_valid_resource(db: None) -> None:
    answer = APIClient().get("/fhir/metadata")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/fhir+json")
    statement = valid(answer.json())
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert types == {
        "CommunicationRequest",
        "Communication",
        "PractitionerRole",
        "Practitioner",
        "Location",
    }


@pytest.mark.hazard("HZ-29")
def test_an_alert_reaches_the_doctor_on_call_as_a_bleep_from_the_system(ward: Ward) -> None:
    answer = post(system(), alert())
    assert answer.status_code == 201, answer.content
    request = valid(answer.json())
    assert (request["status"], request["priority"]) == ("active", "urgent")
    bleep = Bleep.objects.get(pk=request["id"])
    assert answer["Location"].endswith(f"/fhir/CommunicationRequest/{bleep.pk}")
    assert (bleep.role, bleep.priority, bleep.nhs_number) == (ward.role, "urgent", NHS_NUMBER)
    assert [d.recipient for d in bleep.deliveries.all()] == [ward.doctor]
    assert str(bleep.sender) == "obs system"
    assert bleep.sender.job == "system"


@pytest.mark.hazard("HZ-29")
def test_the_same_alert_sent_again_is_the_same_bleep(ward: Ward) -> None:
    client = system()
    first = post(client, alert())
    again = post(client, alert())
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Bleep.objects.count() == 1


@pytest.mark.hazard("HZ-29")
@pytest.mark.parametrize(
    ("given", "meant"), [("stat", "emergency"), ("asap", "urgent"), ("routine", "routine")]
)
def test_priorities_map_to_bleep_priorities(ward: Ward, given: str, meant: str) -> None:
    answer = post(system(), alert(priority=given, identifier=[{"value": given}]))
    assert Bleep.objects.get(pk=answer.json()["id"]).priority == meant


def test_the_ward_and_bed_come_from_a_contained_encounter(ward: Ward) -> None:
    ward_7 = Location.objects.create(site=ward.role.site, name="Ward 7")
    encounter = {
        "resourceType": "Encounter",
        "id": "enc",
        "status": "in-progress",
        "class": {"code": "IMP"},
        "location": [
            {"location": {"reference": f"Location/{ward_7.pk}"}},
            {
                "location": {"display": "4"},
                "physicalType": {"coding": [{"code": "bd"}]},
            },
        ],
    }
    answer = post(system(), alert(contained=[encounter], encounter={"reference": "#enc"}))
    assert answer.status_code == 201, answer.content
    bleep = Bleep.objects.get(pk=answer.json()["id"])
    assert (bleep.location, bleep.bed) == (ward_7, "4")


@pytest.mark.hazard("HZ-29")
@pytest.mark.parametrize(
    ("body", "expression"),
    [
        pytest.param({"resourceType": "Patient"}, "resourceType", id="wrong resource type"),
        pytest.param(alert(payload="x"), "CommunicationRequest.payload", id="payload not a list"),
        pytest.param(alert(payload=[]), "CommunicationRequest.payload", id="no text"),
        pytest.param(
            alert(priority="soon"), "CommunicationRequest.priority", id="unknown priority"
        ),
        pytest.param(alert(status="completed"), "CommunicationRequest.status", id="not active"),
        pytest.param(alert(recipient=[]), "CommunicationRequest.recipient", id="no recipient"),
        pytest.param(
            alert(recipient=[{"reference": "Patient/1"}]),
            "CommunicationRequest.recipient[0]",
            id="recipient not a role",
        ),
        pytest.param(
            alert(
                subject={
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/nhs-number",
                        "value": "9434765918",
                    }
                }
            ),
            "CommunicationRequest.subject.identifier.value",
            id="bad NHS number",
        ),
        pytest.param(
            alert(subject={"reference": "Patient/1"}),
            "CommunicationRequest.subject.identifier",
            id="patient without NHS number",
        ),
        pytest.param(alert(bogus=1), "CommunicationRequest.bogus", id="unknown element"),
        pytest.param(
            alert(payload=[{"contentString": "x" * 5000}]),
            "CommunicationRequest.payload[0].contentString",
            id="text too long",
        ),
        pytest.param([1, 2], "resourceType", id="not an object"),
    ],
)
def test_a_malformed_alert_is_an_operation_outcome_naming_the_element_and_stores_nothing(
    ward: Ward, body: Any, expression: str
) -> None:
    issue = outcome(post(system(), body), 400)
    assert issue["expression"] == [expression]
    assert not Bleep.objects.exists()


@pytest.mark.hazard("HZ-29")
def test_an_unknown_role_is_refused_naming_the_recipient(ward: Ward) -> None:
    issue = outcome(post(system(), alert(recipient=[{"reference": "PractitionerRole/999"}])), 422)
    assert issue["expression"] == ["CommunicationRequest.recipient[0]"]


@pytest.mark.hazard("HZ-29")
def test_the_status_of_an_alert_follows_the_bleep_to_completed_with_the_answer(
    ward: Ward,
) -> None:
    client = system()
    bleep_id = post(client, alert()).json()["id"]
    found = valid(
        client.get(f"/fhir/Communication?based-on=CommunicationRequest/{bleep_id}").json()
    )
    [copy] = [entry["resource"] for entry in found["entry"]]
    assert copy["status"] == "in-progress"
    assert copy["recipient"][0]["reference"] == f"Practitioner/{ward.doctor.pk}"
    assert "sent" in copy and "received" not in copy

    acknowledge_bleep(
        device=ward.doctor_device, bleep_id=bleep_id, now=timezone.now(), eta_minutes=5, comment=""
    )
    request = valid(client.get(f"/fhir/CommunicationRequest/{bleep_id}").json())
    assert request["status"] == "completed"
    found = client.get(f"/fhir/Communication?based-on=CommunicationRequest/{bleep_id}").json()
    copy = found["entry"][0]["resource"]
    assert copy["status"] == "completed"
    assert copy["statusReason"]["text"].startswith(
        f"Acknowledged by {ward.doctor}, coming in 5 min"
    )


@pytest.mark.hazard("HZ-29")
def test_a_cancelled_alert_is_revoked(ward: Ward) -> None:
    client = system()
    bleep_id = post(client, alert()).json()["id"]
    answer = client.put(
        f"/fhir/CommunicationRequest/{bleep_id}",
        alert(id=str(bleep_id), status="revoked"),
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert valid(answer.json())["status"] == "revoked"
    assert Bleep.objects.get(pk=bleep_id).status == BleepStatus.CANCELLED
    copies = client.get(f"/fhir/Communication?based-on=CommunicationRequest/{bleep_id}").json()
    assert copies["entry"][0]["resource"]["status"] == "stopped"


@pytest.mark.hazard("HZ-29")
def test_a_bleep_cancelled_by_switchboard_shows_revoked_too(ward: Ward) -> None:
    client = system()
    bleep_id = post(client, alert()).json()["id"]
    cancel_bleep(actor=ward.operator, device=None, bleep_id=bleep_id, now=timezone.now())
    assert client.get(f"/fhir/CommunicationRequest/{bleep_id}").json()["status"] == "revoked"


@pytest.mark.hazard("HZ-29")
def test_an_alert_for_a_role_nobody_holds_goes_to_its_fallback_and_shows_who(ward: Ward) -> None:
    ward.role.shifts.all().delete()
    client = system()
    bleep_id = post(client, alert()).json()["id"]
    found = client.get(f"/fhir/Communication?based-on=CommunicationRequest/{bleep_id}").json()
    assert [e["resource"]["recipient"][0]["reference"] for e in found["entry"]] == [
        f"Practitioner/{ward.operator.pk}"
    ]


def test_communications_are_searched_by_recipient_status_and_last_updated(ward: Ward) -> None:
    client = system()
    post(client, alert())
    by_recipient = client.get(f"/fhir/Communication?recipient=Practitioner/{ward.doctor.pk}").json()
    assert by_recipient["total"] == 1
    assert client.get("/fhir/Communication?status=completed").json()["total"] == 0
    assert client.get("/fhir/Communication?_lastUpdated=ge2000-01-01").json()["total"] == 1
    assert client.get("/fhir/Communication?_lastUpdated=lt2000-01-01").json()["total"] == 0
    issue = outcome(client.get("/fhir/Communication?status=lost"), 400)
    assert issue["expression"] == ["status"]
    assert outcome(client.get("/fhir/Communication?colour=red"), 400)["code"] == "not-supported"


def test_who_is_on_call_is_each_role_with_its_holder_as_uk_core_practitioner_roles(
    ward: Ward,
) -> None:
    client = system([SystemScope.PRACTITIONER_ROLE_READ])
    found = valid(client.get("/fhir/PractitionerRole?active=true").json())
    roles = {e["resource"]["identifier"][0]["value"]: e["resource"] for e in found["entry"]}
    registrar = roles["2345"]
    assert registrar["practitioner"]["reference"] == f"Practitioner/{ward.doctor.pk}"
    assert registrar["telecom"] == [{"system": "pager", "value": "2345", "use": "work"}]
    assert "start" in registrar["period"] and "end" in registrar["period"]
    one = client.get("/fhir/PractitionerRole?identifier=urn:bleep:bleep-number|2345").json()
    assert one["total"] == 1
    tomorrow = (timezone.now() + timedelta(days=2)).date().isoformat()
    later = client.get(f"/fhir/PractitionerRole?active=true&date={tomorrow}").json()
    assert later["total"] == 0
    practitioner = valid(client.get(f"/fhir/Practitioner/{ward.doctor.pk}").json())
    assert practitioner["name"][0]["text"] == str(ward.doctor)
    assert valid(client.get(f"/fhir/PractitionerRole/{ward.role.pk}").json())["active"] is True


# System clients and their scopes.


@pytest.mark.hazard("HZ-29")
@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        ([SystemScope.PRACTITIONER_ROLE_READ], "post", "/fhir/CommunicationRequest"),
        ([SystemScope.COMMUNICATION_REQUEST_WRITE], "get", "/fhir/Communication"),
        ([SystemScope.COMMUNICATION_REQUEST_WRITE], "get", "/fhir/PractitionerRole"),
        ([SystemScope.COMMUNICATION_REQUEST_READ], "get", "/fhir/Practitioner/1"),
    ],
)
def test_a_client_without_the_scope_is_refused_403_with_an_operation_outcome(
    ward: Ward, scopes: list[str], method: str, path: str
) -> None:
    client = system(scopes)
    answer = getattr(client, method)(path, alert(), format="json")
    assert outcome(answer, 403)["code"] == "forbidden"
    assert not Bleep.objects.exists()


@pytest.mark.hazard("HZ-29")
def test_a_client_never_reads_an_alert_it_did_not_send(ward: Ward) -> None:
    bleep_id = post(system(client_id="obs"), alert()).json()["id"]
    other = system(client_id="lab")
    assert outcome(other.get(f"/fhir/CommunicationRequest/{bleep_id}"), 404)["code"] == "not-found"
    found = other.get(f"/fhir/Communication?based-on=CommunicationRequest/{bleep_id}").json()
    assert found["total"] == 0


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer nonsense", "Basic abc"],
    ids=["none", "unknown token", "not a bearer token"],
)
def test_without_a_live_token_every_resource_is_refused_401(ward: Ward, authorization: Any) -> None:
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    answer = client.get("/fhir/PractitionerRole")
    assert outcome(answer, 401)["code"] == "login"


def test_a_phones_device_token_is_not_a_system_token(ward: Ward) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ward.nurse_token}")
    assert client.get("/fhir/PractitionerRole").status_code == 401


def test_the_token_endpoint_refuses_a_wrong_secret_and_a_scope_not_granted(db: None) -> None:
    create_client(
        client_id="obs", name="Obs", scopes=[SystemScope.PRACTITIONER_ROLE_READ], now=timezone.now()
    )
    wrong = token_request(
        {"grant_type": "client_credentials", "client_id": "obs", "client_secret": "wrong"}
    )
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    answer = token_request({"grant_type": "password"})
    assert answer.json() == {"error": "unsupported_grant_type"}


def test_a_revoked_client_s_token_stops_at_once(ward: Ward) -> None:
    client = system()
    assert client.get("/fhir/PractitionerRole").status_code == 200
    call_command("system_client", "revoke", "obs")
    assert client.get("/fhir/PractitionerRole").status_code == 401


@pytest.mark.hazard("HZ-29")
def test_a_systems_bleeps_count_towards_its_own_send_limit(ward: Ward, settings: Any) -> None:
    settings.SEND_LIMIT_BURST = 1
    client = system()
    assert post(client, alert()).status_code == 201
    issue = outcome(post(client, alert(identifier=[{"value": "second"}])), 429)
    assert issue["code"] == "throttled"


@pytest.mark.hazard("HZ-29")
def test_every_action_of_a_system_is_in_the_history_under_its_name(ward: Ward) -> None:
    bleep_id = post(system(), alert()).json()["id"]
    entry = HistoryEntry.objects.filter(bleep_id=bleep_id).order_by("pk").first()
    assert entry is not None and str(entry.actor) == "obs system"


def test_a_system_account_cannot_be_bleeped_by_name(ward: Ward) -> None:
    client = system()
    person_id = SystemClient.objects.get(client_id="obs").person_id
    issue = outcome(
        post(client, alert(recipient=[{"reference": f"Practitioner/{person_id}"}])), 422
    )
    assert issue["code"] == "not-found"


# Every FHIR interaction × every scope: only its own scope opens it.
INTERACTIONS = [
    ("post", "/fhir/CommunicationRequest", SystemScope.COMMUNICATION_REQUEST_WRITE),
    ("get", "/fhir/CommunicationRequest/{bleep}", SystemScope.COMMUNICATION_REQUEST_READ),
    ("put", "/fhir/CommunicationRequest/{bleep}", SystemScope.COMMUNICATION_REQUEST_WRITE),
    ("get", "/fhir/Communication", SystemScope.COMMUNICATION_REQUEST_READ),
    ("get", "/fhir/PractitionerRole", SystemScope.PRACTITIONER_ROLE_READ),
    ("get", "/fhir/PractitionerRole/{role}", SystemScope.PRACTITIONER_ROLE_READ),
    ("get", "/fhir/Practitioner/{doctor}", SystemScope.PRACTITIONER_ROLE_READ),
    ("get", "/fhir/Location/{location}", SystemScope.PRACTITIONER_ROLE_READ),
]


@pytest.mark.parametrize("scope", list(SystemScope))
@pytest.mark.parametrize(("method", "path", "needed"), INTERACTIONS)
def test_each_interaction_opens_to_its_own_scope_and_no_other(
    ward: Ward, scope: SystemScope, method: str, path: str, needed: SystemScope
) -> None:
    sender = system(ALL_SCOPES, client_id="sender")
    bleep = post(sender, alert()).json()["id"]
    place = Location.objects.create(site=ward.role.site, name="Ward 9").pk
    address = path.format(bleep=bleep, role=ward.role.pk, doctor=ward.doctor.pk, location=place)
    # The same client that sent the bleep, with a token of one scope: only the scope can
    # stand in the way.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_of('sender', scope)}")
    body = json.dumps(
        alert(id=str(bleep), status="revoked")
        if method == "put"
        else alert(identifier=[{"value": "another"}])
    )
    if method == "get":
        answer = client.get(address)
    else:
        answer = getattr(client, method)(address, body, content_type="application/fhir+json")
    if scope == needed:
        assert answer.status_code in (200, 201), answer.content
    else:
        assert outcome(answer, 403)["code"] == "forbidden"


def test_a_system_token_opens_nothing_under_the_phones_api(ward: Ward) -> None:
    client = system()
    for path in ("/api/me", "/api/bleeps", "/api/on-call"):
        assert client.get(path).status_code == 401, path
