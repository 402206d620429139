"""An observations system raises an alert over FHIR (IHE mACM ITI-84) against the real server;
the doctor on call gets it on their phone in Chromium and acknowledges it in the app; the
system's ITI-85 query then shows it completed, with the answer."""

from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from messaging.models import DeliveryStatus, SystemScope
from messaging.services.systems import create_client
from rota.models import Person
from tests.e2e.browser import phone, sign_in
from tests.e2e.conftest import Server
from tests.e2e.test_answers import wait_for_status

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FHIR = "application/fhir+json"


def system_token(server: Server) -> str:
    _, secret = create_client(
        client_id="patientrack",
        name="Patientrack (observations)",
        scopes=list(SystemScope.values),
        now=timezone.now(),
    )
    answer = httpx.post(
        f"{server.url}/fhir/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("patientrack", secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


@pytest.mark.hazard("HZ-29")
def test_an_observations_alert_reaches_the_doctors_phone_and_its_answer_comes_back(
    bleep_server: Server, chromium: Browser, people: dict[str, Person], server_log: Path
) -> None:
    doctor = sign_in(phone(chromium), bleep_server, "omar.haddad")
    with httpx.Client(
        base_url=f"{bleep_server.url}/fhir",
        headers={"Authorization": f"Bearer {system_token(bleep_server)}", "Accept": FHIR},
    ) as fhir:
        ask_and_follow(fhir, doctor, people)


def ask_and_follow(fhir: httpx.Client, doctor: Page, people: dict[str, Person]) -> None:
    """Send the alert, acknowledge it on the doctor's phone, and follow it to `completed`."""
    alert: dict[str, Any] = {
        "resourceType": "CommunicationRequest",
        "identifier": [{"system": "https://patientrack.example/alerts", "value": "n2-77"}],
        "status": "active",
        "priority": "urgent",
        "recipient": [{"identifier": {"system": "urn:bleep:bleep-number", "value": "2345"}}],
        "payload": [{"contentString": "NEWS2 7, bed 4: please review"}],
    }
    sent = fhir.post("/CommunicationRequest", json=alert, headers={"Content-Type": FHIR})
    assert sent.status_code == 201, sent.text
    bleep_id = int(sent.json()["id"])

    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    expect(card).to_contain_text("Patientrack (observations)")
    card.get_by_role("button", name="Acknowledge: coming in 10 min").click()
    wait_for_status(people["doctor"], bleep_id, DeliveryStatus.ACKNOWLEDGED)

    assert fhir.get(f"/CommunicationRequest/{bleep_id}").json()["status"] == "completed"
    found = fhir.get("/Communication", params={"based-on": f"CommunicationRequest/{bleep_id}"})
    [copy] = [entry["resource"] for entry in found.json()["entry"]]
    assert copy["status"] == "completed"
    assert "received" in copy
    assert copy["statusReason"]["text"].startswith("Acknowledged by Dr Omar Haddad, coming in 10")
