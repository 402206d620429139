"""The phone app in a real browser against the real server: a nurse, a doctor and
switchboard, each in a browser context of their own, as on three phones."""

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Page, WebSocket, expect

from messaging.models import Bleep, BleepStatus, Delivery, DeliveryStatus, Device, Priority
from rota.models import Person, Role
from tests import factories
from tests.e2e.browser import WAIT_MS, phone, sign_in, snap
from tests.e2e.conftest import Server, running_server
from tests.escalation.test_steps import make_policy
from tests.push_service import PushService

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Switchboard's board asks again this often; waiting for it allows two turns.
BOARD_REFRESH_WAIT_MS = 12_000


@contextmanager
def rest_login(server: Server, username: str) -> Iterator[httpx.Client]:
    """Sign in over REST (another phone) and give a client that sends the token."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.post(
            "/api/auth/login",
            json={"username": username, "password": factories.PASSWORD, "device_name": "test"},
        )
        assert answer.status_code == 201, answer.text
        client.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        yield client


def wait_for(page: Page, check: Callable[[], bool], what: str) -> None:
    """Wait for `check` to hold, letting the browser's events flow meanwhile."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def auth_frames_sent(context: BrowserContext) -> list[dict[str, Any]]:
    """Return a list that fills with every `auth` frame the app's sockets send."""
    frames: list[dict[str, Any]] = []

    def watch(socket: WebSocket) -> None:
        def sent(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame.get("type") == "auth":
                frames.append(frame)

        socket.on("framesent", sent)

    context.on("page", lambda page: page.on("websocket", watch))
    return frames


def delivery_status(person: Person, bleep_id: int) -> str:
    return Delivery.objects.get(bleep_id=bleep_id, recipient=person).status


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/static/app/manifest.webmanifest", "application/manifest+json"),
        ("/static/app/js/main.js", 'text/javascript; charset="utf-8"'),
        ("/static/app/styles.css", 'text/css; charset="utf-8"'),
        ("/static/app/icon-192.png", "image/png"),
    ],
)
def test_the_server_serves_the_app_files_with_their_content_types(
    bleep_server: Server, path: str, content_type: str
) -> None:
    response = httpx.get(f"{bleep_server.url}{path}", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type


def test_a_nurse_bleeps_a_role_the_doctor_acknowledges_and_everyone_sees_it_live(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    nurse_phone = phone(chromium)
    nurse_phone.new_page().goto(bleep_server.url)
    snap(nurse_phone.pages[0], "1-sign-in")
    nurse = sign_in(nurse_phone, bleep_server, "amina.okafor")
    doctor = sign_in(phone(chromium), bleep_server, "omar.haddad")
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")

    nurse.get_by_label("Search who is on call").fill("2345")
    nurse.get_by_role("button", name="Medical Registrar on call").click()
    expect(nurse.locator("#chosen")).to_contain_text("Dr Omar Haddad")
    nurse.get_by_text("Urgent", exact=True).click()
    nurse.get_by_label("Ward").select_option(label="Ward 7")
    nurse.get_by_label("Bed").fill("4")
    nurse.get_by_label("NHS number (optional)").fill("9434765918")
    expect(nurse.locator("#nhs-check")).to_have_text("Not a valid NHS number: check the digits")
    nurse.get_by_label("NHS number (optional)").fill("9434765919")
    expect(nurse.locator("#nhs-check")).to_have_text("Valid NHS number")
    nurse.get_by_label("Message").fill("Bed 4 NEWS 7, please review")
    nurse.get_by_label("Call me back on extension").fill("4321")
    snap(nurse, "2-nurse-send")
    nurse.get_by_role("button", name="Send bleep").click()
    expect(nurse.locator("#status-line")).to_contain_text("waiting for Dr Omar Haddad")
    bleep_id = int(nurse.url.rsplit("/", 1)[1])

    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    expect(card).to_contain_text("Bed 4 NEWS 7, please review")
    # The doctor's app confirmed receipt on its own, and the nurse saw it arrive.
    expect(nurse.locator("#bleep-state")).to_contain_text("Delivered")
    snap(doctor, "4-doctor-inbox")

    board_card = switchboard.locator(f"#board [data-bleep='{bleep_id}']")
    expect(board_card).to_contain_text(
        "Escalation: no step yet; next: remind at 2 min", timeout=BOARD_REFRESH_WAIT_MS
    )
    expect(board_card.locator(".age")).to_contain_text(" s")
    snap(switchboard, "6-switchboard-board")

    card.get_by_role("link", name="Medical Registrar on call (2345)").click()
    expect(nurse.locator("#bleep-state")).to_contain_text("Read")
    doctor.get_by_label("Coming in").select_option("10")
    doctor.get_by_role("button", name="Acknowledge", exact=True).click()

    expect(nurse.locator("#status-line")).to_have_text(
        "Acknowledged by Dr Omar Haddad, coming in 10 min"
    )
    snap(nurse, "3-nurse-watching-acknowledged")
    # The history's words are the server's (/api/me), not the action's bare name.
    expect(nurse.locator("#history")).to_contain_text("Dr Omar Haddad: acknowledged")
    # The copy's and the bleep's rows of one acknowledgement read as one line.
    expect(nurse.locator("#history li", has_text="Dr Omar Haddad: acknowledged")).to_have_count(1)
    expect(board_card).to_have_count(0, timeout=BOARD_REFRESH_WAIT_MS)
    assert delivery_status(people["doctor"], bleep_id) == DeliveryStatus.ACKNOWLEDGED


def test_an_emergency_bleep_takes_over_the_doctors_screen_until_they_answer(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), bleep_server, "omar.haddad")
    with rest_login(bleep_server, "amina.okafor") as nurse:
        sent = nurse.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": "emergency",
                "message": "Cardiac arrest, bay 2",
                "bed": "2",
            },
        )
    assert sent.status_code == 201, sent.text

    screen = doctor.get_by_role("alertdialog")
    expect(screen).to_be_visible()
    expect(screen).to_contain_text("EMERGENCY")
    expect(screen).to_contain_text("Cardiac arrest, bay 2")
    acknowledge = screen.get_by_role("button", name="Acknowledge: I'm coming")
    expect(acknowledge).to_be_focused()
    snap(doctor, "5-emergency")
    acknowledge.click()

    expect(screen).to_be_hidden()
    expect(doctor.locator("#status-line")).to_contain_text("Acknowledged by Dr Omar Haddad")
    assert delivery_status(people["doctor"], sent.json()["id"]) == DeliveryStatus.ACKNOWLEDGED


@pytest.mark.hazard("HZ-12")
def test_switchboard_takes_on_an_emergency_and_it_stays_open_until_the_doctor_acknowledges(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    # Switchboard is brought in a second after the send, and nothing else is due for a minute.
    make_policy(
        ("notify_switchboard", 1), ("renotify", 60), role=Role.objects.get(bleep_number="2345")
    )
    nurse = sign_in(phone(chromium), bleep_server, "amina.okafor")
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")
    with rest_login(bleep_server, "amina.okafor") as nurses_other_phone:
        sent = nurses_other_phone.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": "emergency",
                "message": "Cardiac arrest, bay 2",
            },
        )
    assert sent.status_code == 201, sent.text
    bleep_id = sent.json()["id"]
    nurse.evaluate(f"location.hash = '#/bleeps/{bleep_id}'")

    screen = switchboard.get_by_role("alertdialog")
    expect(screen).to_contain_text("Cardiac arrest, bay 2")
    take_on = screen.get_by_role("button", name="Take on: I'm phoning the team")
    expect(take_on).to_be_focused()
    expect(screen.get_by_role("button", name="Escalate now")).to_be_visible()
    expect(screen.get_by_role("button", name="Redirect")).to_be_visible()
    expect(screen.get_by_role("button", name="Acknowledge: I'm coming")).to_have_count(0)
    take_on.click()

    expect(screen).to_be_hidden()
    handling = "Switchboard (Pat Ellis) is handling: phoning the team"
    expect(nurse.locator("#status-line")).to_contain_text(handling)
    expect(nurse.locator("#status-line")).to_contain_text("waiting for Dr Omar Haddad")
    expect(nurse.locator("#status-line")).not_to_contain_text("Acknowledged")
    expect(switchboard.locator("#status-line")).to_contain_text(handling)
    assert Bleep.objects.get(pk=bleep_id).status == BleepStatus.OPEN
    assert delivery_status(people["operator"], bleep_id) == DeliveryStatus.HANDLING
    switchboard.evaluate("location.hash = '#/board'")
    expect(switchboard.locator(f"#board [data-bleep='{bleep_id}'] .handling")).to_have_text(
        handling
    )

    with rest_login(bleep_server, "omar.haddad") as doctor:
        answer = doctor.post(f"/api/bleeps/{bleep_id}/acknowledge", json={"eta_minutes": 2})
    assert answer.status_code == 200, answer.text
    expect(nurse.locator("#status-line")).to_have_text(
        "Acknowledged by Dr Omar Haddad, coming in 2 min"
    )
    expect(screen).to_be_hidden()


def flood_of_bleeps(people: dict[str, Person], routine: int, emergencies: int) -> list[int]:
    """Store `routine` old routine bleeps to 2345, then `emergencies` newer emergencies, open
    (stored directly: the board reads the table, and the test's browser runs an event loop
    that sending's after-commit events cannot share)."""
    role = Role.objects.get(bleep_number="2345")
    start = timezone.now() - timedelta(hours=1)
    bleeps = Bleep.objects.bulk_create(
        Bleep(
            sender=people["nurse"],
            role=role,
            priority=Priority.ROUTINE if n < routine else Priority.EMERGENCY,
            message=f"Flood {n}",
            created_at=start + timedelta(seconds=n),
        )
        for n in range(routine + emergencies)
    )
    return [bleep.pk for bleep in bleeps]


@pytest.mark.hazard("HZ-23")
def test_switchboard_pages_the_board_with_emergencies_first_and_is_told_how_many_more(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    # Oldest first alone would put both emergencies at the foot of the second page.
    ids = flood_of_bleeps(people, routine=60, emergencies=2)
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")
    switchboard.evaluate("location.hash = '#/board'")

    cards = switchboard.locator("#board > li")
    expect(cards).to_have_count(50)
    expect(switchboard.locator("#board-summary")).to_have_text(
        "62 open, 2 emergencies, 62 overdue: emergency, urgent, routine; oldest first in each"
    )
    assert [cards.nth(n).locator("article").get_attribute("data-bleep") for n in range(3)] == [
        str(ids[60]),
        str(ids[61]),
        str(ids[0]),
    ]
    expect(switchboard.locator("#board-more-line")).to_have_text("12 more open")
    more = switchboard.get_by_role("button", name="Show 12 more")
    expect(more).to_have_attribute("aria-controls", "board")
    more.click()

    expect(cards).to_have_count(62)
    expect(switchboard.locator(f"#board [data-bleep='{ids[59]}']")).to_be_visible()
    expect(switchboard.get_by_role("button", name="Show 12 more")).to_have_count(0)


@pytest.mark.hazard("HZ-25")
def test_a_nurse_past_the_send_limit_is_told_plainly_and_switchboards_board_shows_the_flood(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    nurse = sign_in(phone(chromium), bleep_server, "amina.okafor")
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")
    with rest_login(bleep_server, "amina.okafor") as nurses_other_phone:
        for n in range(settings.SEND_LIMIT_BURST):
            body = {"bleep_number": "2345", "message": f"job {n}"}
            assert nurses_other_phone.post("/api/bleeps", json=body).status_code == 201

    nurse.get_by_label("Search who is on call").fill("2345")
    nurse.get_by_role("button", name="Medical Registrar on call").click()
    nurse.get_by_label("Message").fill("Bed 9 fluids chart")
    nurse.get_by_role("button", name="Send bleep").click()

    expect(nurse.locator("#send-problem")).to_contain_text(
        "Not sent: Too many bleeps sent in the last minute. Try again in"
    )
    expect(nurse.locator("#send-problem")).to_contain_text(
        "or send it as an emergency if it is one."
    )
    switchboard.evaluate("location.hash = '#/board'")
    flood = switchboard.locator("#board-floods")
    expect(flood).to_contain_text("Flood of bleeps", timeout=BOARD_REFRESH_WAIT_MS)
    expect(flood).to_contain_text("sent 10 bleeps in a minute, past the send limit")
    expect(flood).not_to_contain_text("Bed 9")
    snap(switchboard, "9-switchboard-flood")


@pytest.mark.hazard("HZ-05")
def test_offline_the_app_says_so_plainly_and_back_online_it_resumes_from_its_last_event(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    context = phone(chromium)
    auth_frames = auth_frames_sent(context)
    doctor = sign_in(context, bleep_server, "omar.haddad")
    with rest_login(bleep_server, "amina.okafor") as nurse:
        first = nurse.post("/api/bleeps", json={"bleep_number": "2345", "message": "First"})
        expect(doctor.locator("#inbox")).to_contain_text("First")

        context.set_offline(True)
        banner = doctor.get_by_role("alert").filter(has_text="Offline")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("will not show until it reconnects")
        expect(doctor.locator("body")).to_have_class("stale")
        second = nurse.post("/api/bleeps", json={"bleep_number": "2345", "message": "Second"})
        assert second.status_code == 201

        context.set_offline(False)
        expect(banner).to_be_hidden()
        expect(doctor.locator("#connection")).to_have_text("Live")
        expect(doctor.locator("#inbox")).to_contain_text("Second")
    assert auth_frames[0]["last_seq"] == 0
    assert auth_frames[-1]["last_seq"] > 0
    for bleep_id in (first.json()["id"], second.json()["id"]):
        wait_for(
            doctor,
            lambda: delivery_status(people["doctor"], bleep_id) != "sent",  # noqa: B023
            f"the delivered receipt for bleep {bleep_id}",
        )


@pytest.mark.hazard("HZ-22")
def test_the_app_caught_up_on_an_empty_stream_resumes_and_shows_the_acknowledgement_it_missed(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    context = phone(chromium)
    auth_frames = auth_frames_sent(context)
    # The nurse's app is new: nothing in her stream yet, so it is caught up at 0.
    nurse = sign_in(context, bleep_server, "amina.okafor")
    nurse.get_by_role("link", name="Sent").click()
    context.set_offline(True)
    expect(nurse.get_by_role("alert").filter(has_text="Offline")).to_be_visible()
    # Meanwhile she bleeps from the ward's desktop and the registrar answers at once, so
    # the bleep is no longer open: only its events say what happened.
    with rest_login(bleep_server, "amina.okafor") as desktop:
        sent = desktop.post("/api/bleeps", json={"bleep_number": "2345", "message": "Bed 9"})
        assert sent.status_code == 201, sent.text
    with rest_login(bleep_server, "omar.haddad") as registrar:
        answer = registrar.post(f"/api/bleeps/{sent.json()['id']}/acknowledge", json={})
        assert answer.status_code == 200, answer.text

    context.set_offline(False)
    expect(nurse.locator("#connection")).to_have_text("Live")
    card = nurse.locator("#sent li").filter(has_text="Bed 9")
    expect(card).to_contain_text("Acknowledged by Dr Omar Haddad")
    assert [frame.get("resume") for frame in auth_frames] == [None, True]
    assert auth_frames[-1]["last_seq"] == 0


def test_with_no_signal_the_app_still_opens_even_after_a_visit_to_another_page(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    context = phone(chromium)
    doctor = sign_in(context, bleep_server, "omar.haddad")
    doctor.evaluate("navigator.serviceWorker.ready")
    doctor.reload()  # now under the service worker, which keeps the app's files
    doctor.locator("#connection[data-state=live]").wait_for()
    doctor.goto(f"{bleep_server.url}/api/docs/")  # a page of the server that is not the app

    context.set_offline(True)
    doctor.goto(bleep_server.url)

    expect(doctor.get_by_role("alert").filter(has_text="Offline")).to_be_visible()
    expect(doctor.locator("#connection")).not_to_have_text("Live")


@pytest.fixture
def push_server(
    transactional_db: None, server_log: Path, push_service: PushService
) -> Iterator[Server]:
    """The server, allowed to reach this test's own push service (it trusts its CA)."""
    push_env = {
        "PUSH_HOSTS": ",".join(settings.PUSH_HOSTS),
        "PUSH_CA_BUNDLE": str(push_service.ca_path),
    }
    with running_server(log=server_log, extra_env=push_env) as server:
        yield server


def deliver_push(page: Page, origin: str, payload: dict[str, Any]) -> None:
    """Hand a push to the app's service worker as the browser's push service would."""
    session = page.context.new_cdp_session(page)
    registrations: list[str] = []
    session.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda update: registrations.extend(r["registrationId"] for r in update["registrations"]),
    )
    session.send("ServiceWorker.enable")
    wait_for(page, lambda: bool(registrations), "the service worker's registration")
    session.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registrations[0], "data": json.dumps(payload)},
    )


@pytest.mark.hazard("HZ-07")
def test_the_service_worker_shows_a_push_without_patient_details_and_confirms_delivery(
    push_server: Server,
    push_service: PushService,
    chromium: Browser,
    people: dict[str, Person],
) -> None:
    context = phone(chromium)
    context.grant_permissions(["notifications"], origin=push_server.url)
    doctor = sign_in(context, push_server, "omar.haddad")
    doctor.evaluate("navigator.serviceWorker.ready")
    # No real push service is reachable here: the browser's own subscribe() cannot work.
    # The app's function registers a subscription this test's push service made instead.
    subscription = push_service.subscribe()
    registered = doctor.evaluate(
        "async (body) => (await import('/static/app/js/push.js')).saveSubscription(body)",
        subscription.to_json(),
    )
    assert registered["current"] is True
    # The app closes; the phone keeps its service worker.
    doctor.goto(f"{push_server.url}/healthz")

    with rest_login(push_server, "amina.okafor") as nurse:
        sent = nurse.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": "urgent",
                "message": "Bed 4 NEWS 7",
                "bed": "4",
                "nhs_number": "9434765919",
            },
        )
    bleep_id = sent.json()["id"]
    wait_for(doctor, lambda: bool(push_service.delivered()), "the server's push")
    payload = push_service.delivered()[0].payload
    assert payload["bleep_id"] == bleep_id
    assert delivery_status(people["doctor"], bleep_id) == DeliveryStatus.SENT

    deliver_push(doctor, push_server.url, payload)

    wait_for(
        doctor,
        lambda: delivery_status(people["doctor"], bleep_id) == DeliveryStatus.DELIVERED,
        "the service worker's delivered receipt",
    )
    shown = doctor.evaluate(
        """async () => (await (await navigator.serviceWorker.ready).getNotifications())
            .map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}))"""
    )
    assert shown == [
        {
            "title": "Urgent bleep",
            "body": "Medical Registrar on call (2345)",
            "tag": f"bleep-{bleep_id}",
            "url": f"/#/bleeps/{bleep_id}",
        }
    ]
    lock_screen = json.dumps(shown)
    for secret in ("NEWS", "9434765919", "Bed 4"):
        assert secret not in lock_screen


def token_ends_in(person: Person, left: timedelta) -> Device:
    """Make `person`'s signed-in device's token end `left` from now (90 days from sign-in)."""
    device = Device.objects.get(user=person, revoked_at__isnull=True)
    signed_in = timezone.now() + left - timedelta(days=settings.DEVICE_LIFETIME_DAYS)
    Device.objects.filter(pk=device.pk).update(created_at=signed_in)
    return device


def stored_token(page: Page) -> str:
    return str(page.evaluate("localStorage.getItem('bleep.token')"))


RENEW_TEXT = re.compile(
    r"^Your sign-in ends at \d\d:\d\d (today|tomorrow)\. "
    r"Sign in again now so bleeps keep reaching you\.$"
)


@pytest.mark.hazard("HZ-05")
def test_the_app_asks_to_sign_in_again_before_its_token_ends_never_over_a_bleep_and_ends_the_old_device(  # noqa: E501
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    context = phone(chromium)
    sockets = auth_frames_sent(context)
    doctor = sign_in(context, bleep_server, "omar.haddad")
    old_token = stored_token(doctor)
    old_device = token_ends_in(people["doctor"], timedelta(hours=2))
    with rest_login(bleep_server, "amina.okafor") as nurse:
        sent = nurse.post(
            "/api/bleeps",
            json={"bleep_number": "2345", "priority": "urgent", "message": "Bed 4 NEWS 7"},
        )
    bleep_id = sent.json()["id"]
    # The doctor is reading the bleep when the app learns its token ends soon.
    doctor.goto(f"{bleep_server.url}/#/bleeps/{bleep_id}")
    doctor.reload()
    doctor.locator("#connection[data-state=live]").wait_for()
    expect(doctor.locator("#bleep-state")).to_be_visible()
    known = doctor.evaluate("JSON.parse(localStorage.getItem('bleep.user')).device.expires_at")
    assert datetime.fromisoformat(known) < timezone.now() + timedelta(hours=3)
    notice = doctor.get_by_role("region", name="Sign-in ending")
    expect(notice).to_be_hidden()

    doctor.get_by_role("link", name="Inbox").click()
    expect(notice.get_by_role("status")).to_have_text(RENEW_TEXT)
    snap(doctor, "7-sign-in-again")
    notice.get_by_role("button", name="Sign in again").click()
    expect(notice.get_by_label("Password")).to_be_focused()
    notice.get_by_label("Password").fill(factories.PASSWORD)
    notice.get_by_role("button", name="Sign in again").click()

    expect(notice).to_be_hidden()
    wait_for(
        doctor,
        lambda: Device.objects.get(pk=old_device.pk).revoked_at is not None,
        "the old device to be ended",
    )
    new_token = stored_token(doctor)
    assert new_token != old_token
    wait_for(doctor, lambda: sockets[-1]["token"] == new_token, "the socket on the new token")
    assert sockets[-1]["last_seq"] > 0 and sockets[-1]["resume"] is True
    expect(doctor.locator("#connection")).to_have_attribute("data-state", "live")
    new_device = Device.objects.get(user=people["doctor"], revoked_at__isnull=True)
    assert new_device.name == old_device.name
    with rest_login(bleep_server, "amina.okafor") as nurse:
        again = nurse.post(
            "/api/bleeps",
            json={"bleep_number": "2345", "priority": "urgent", "message": "Bed 9 NEWS 6"},
        )
    expect(doctor.locator(f"#inbox [data-bleep='{again.json()['id']}']")).to_be_visible()


@pytest.mark.hazard("HZ-05")
def test_the_app_asks_to_sign_in_again_when_its_token_would_end_in_a_later_shift(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    role = Role.objects.get(bleep_number="2345")
    night = timezone.now() + timedelta(days=3)
    factories.make_shift(role, people["doctor"], start=night)
    doctor = sign_in(phone(chromium), bleep_server, "omar.haddad")
    token_ends_in(people["doctor"], timedelta(days=3, hours=6))  # in that night shift
    doctor.reload()

    notice = doctor.get_by_role("region", name="Sign-in ending")
    expect(notice.get_by_role("status")).to_contain_text(
        re.compile(r"^Your sign-in ends at \d\d:\d\d on \w+day \d+ \w+\. Sign in again now")
    )
