"""A doctor answers in one tap, from the inbox or the emergency screen, and by keyboard alone;
the emergency screen says who, where, how to call back and how long, and keeps focus."""

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from messaging.models import Delivery, DeliveryStatus
from rota.models import Location, Person
from tests.e2e.browser import phone, sign_in
from tests.e2e.conftest import Server, running_server
from tests.e2e.test_phone_app import rest_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DIAL_PREFIX = "01632 96"


@pytest.fixture
def server(transactional_db: None, server_log: Path) -> Iterator[Server]:
    """The server of a hospital whose phones dial 01632 96 before an extension."""
    with running_server(log=server_log, extra_env={"CALLBACK_DIAL_PREFIX": DIAL_PREFIX}) as running:
        yield running


def send(server: Server, priority: str = "urgent", **fields: str) -> int:
    with rest_login(server, "amina.okafor") as nurse:
        sent = nurse.post(
            "/api/bleeps",
            json={
                "bleep_number": "2345",
                "priority": priority,
                "message": "Bed 4 NEWS 7, please review",
                "location": Location.objects.get(name="Ward 7").pk,
                "bed": "4",
                "callback_extension": "4417",
                **fields,
            },
        )
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


def copy_of(person: Person, bleep_id: int) -> Delivery:
    return Delivery.objects.get(bleep_id=bleep_id, recipient=person)


def wait_for_status(person: Person, bleep_id: int, status: str) -> Delivery:
    deadline = time.monotonic() + 10
    while (copy := copy_of(person, bleep_id)).status != status:
        assert time.monotonic() < deadline, f"still {copy.status}, not {status}"
        time.sleep(0.1)
    return copy


def clear_of_the_tab_bar(page: Page, control: Locator) -> None:
    control.scroll_into_view_if_needed()
    place = control.bounding_box()
    bar = page.locator("#tabs").bounding_box()
    assert place is not None and bar is not None
    assert place["y"] + place["height"] <= bar["y"], f"{control} is under the tab bar"
    assert place["height"] >= 44 and place["width"] >= 44, f"{control} is smaller than 44 px"


@pytest.mark.hazard("HZ-26")
def test_the_doctor_acknowledges_with_an_eta_in_one_tap_from_the_inbox_card(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    bleep_id = send(server)
    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    ten = card.get_by_role("button", name="Acknowledge: coming in 10 min")
    expect(ten).to_be_visible()
    # The phone's own receipt redraws the card once; measure the card it settles on.
    expect(card.locator(".meta .state")).to_have_text("Delivered")
    for control in card.locator(".etas button, details.decline > summary").all():
        clear_of_the_tab_bar(doctor, control)
    # The callback extension calls the ward, the hospital's prefix dialled first.
    call = card.get_by_role("link", name="4417")
    expect(call).to_have_attribute("href", "tel:01632964417")

    ten.click()

    copy = wait_for_status(people["doctor"], bleep_id, DeliveryStatus.ACKNOWLEDGED)
    assert copy.eta_minutes == 10
    expect(doctor.locator(f"#answered [data-bleep='{bleep_id}']")).to_contain_text(
        "Acknowledged by Dr Omar Haddad, coming in 10 min"
    )


@pytest.mark.hazard("HZ-26")
def test_the_doctor_declines_from_the_inbox_card_one_tap_further_with_a_reason(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    bleep_id = send(server)
    card = doctor.locator(f"#inbox [data-bleep='{bleep_id}']")
    card.get_by_text("Can't come…").click()
    decline = card.get_by_role("button", name="Decline")
    decline.click()
    expect(card.get_by_role("alert")).to_have_text("Say why you cannot come.")
    assert copy_of(people["doctor"], bleep_id).status != DeliveryStatus.DECLINED

    card.get_by_label("Why you cannot come").fill("In theatre")
    decline.click()

    copy = wait_for_status(people["doctor"], bleep_id, DeliveryStatus.DECLINED)
    assert copy.decline_reason == "In theatre"


def tab_to(page: Page, selector: str, *, backwards: bool = False, most: int = 80) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector`, as a keyboard user would."""
    for _ in range(most):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.hazard("HZ-26")
def test_a_nurse_sends_and_the_doctor_answers_with_the_keyboard_alone(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    nurse = sign_in(phone(chromium), server, "amina.okafor")
    tab_to(nurse, "#bleep-number")
    nurse.keyboard.type("2345")
    tab_to(nurse, "input[name=priority]")
    nurse.keyboard.press("ArrowRight")  # routine → urgent
    tab_to(nurse, "#message")
    nurse.keyboard.type("Keyboard only: bed 4 please")
    tab_to(nurse, "form button[type=submit]")
    nurse.keyboard.press("Enter")
    expect(nurse.locator("#status-line")).to_contain_text("waiting for Dr Omar Haddad")
    bleep_id = int(nurse.url.rsplit("/", 1)[1])

    card = f"#inbox [data-bleep='{bleep_id}']"
    expect(doctor.locator(card)).to_contain_text("Keyboard only")
    expect(doctor.locator(card)).to_have_attribute("data-priority", "urgent")
    tab_to(doctor, f"{card} .etas button[aria-label$='5 min']")
    doctor.keyboard.press("Enter")

    copy = wait_for_status(people["doctor"], bleep_id, DeliveryStatus.ACKNOWLEDGED)
    assert copy.eta_minutes == 5
    expect(nurse.locator("#status-line")).to_have_text(
        "Acknowledged by Dr Omar Haddad, coming in 5 min"
    )


@pytest.mark.hazard("HZ-26")
def test_the_emergency_screen_says_who_where_how_to_call_back_and_how_long_and_keeps_focus(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    # The sign-in tap armed the sound: nothing says it is off.
    expect(doctor.locator("body")).to_have_attribute("data-sound", "on")
    expect(doctor.locator("#sound")).to_be_hidden()
    bleep_id = send(server, priority="emergency", message="Cardiac arrest")

    screen = doctor.get_by_role("alertdialog")
    expect(screen).to_be_visible()
    expect(screen.locator("#emergency-where")).to_have_text("Ward 7, bed 4")
    expect(screen.locator("#emergency-from")).to_have_text("Amina Okafor, Nurse / ward staff")
    expect(screen.get_by_role("link", name="4417")).to_have_attribute("href", "tel:01632964417")
    waited = screen.locator("#emergency-waiting")
    expect(waited).to_have_text(re.compile(r"^\d+ s$"))
    first = waited.text_content()
    expect(waited).not_to_have_text(first or "", timeout=3000)
    expect(screen.locator("button.sound")).to_be_hidden()

    for key in ["Tab"] * 20 + ["Shift+Tab"] * 20:
        doctor.keyboard.press(key)
        inside = doctor.evaluate(
            "document.getElementById('emergency').contains(document.activeElement)"
        )
        assert inside, f"{key} took the focus out of the emergency screen"
    # Escape is no way out: an emergency is answered, never waved away.
    doctor.keyboard.press("Escape")
    expect(screen).to_be_visible()
    expect(screen.get_by_role("status")).to_have_text("Answer it to close this screen.")
    expect(screen.get_by_role("button", name="Acknowledge: I'm coming")).to_be_focused()

    screen.get_by_role("button", name="Acknowledge: coming in 5 min").click()
    expect(screen).to_be_hidden()
    assert wait_for_status(people["doctor"], bleep_id, DeliveryStatus.ACKNOWLEDGED).eta_minutes == 5


@pytest.mark.hazard("HZ-26")
def test_after_a_reload_the_app_says_plainly_that_sound_is_off_until_tapped(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    doctor.reload()
    doctor.locator("#connection[data-state=live]").wait_for()
    off = doctor.get_by_role("button", name="Sound off: tap to turn on")
    expect(off).to_be_visible()
    off.click()
    expect(off).to_be_hidden()
    expect(doctor.locator("body")).to_have_attribute("data-sound", "on")


@pytest.mark.hazard("HZ-26")
def test_after_a_reload_a_touch_anywhere_turns_the_sound_on(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    doctor.reload()
    doctor.locator("#connection[data-state=live]").wait_for()
    expect(doctor.locator("body")).to_have_attribute("data-sound", "off")
    # A finger, not a mouse: a touch lets a page sound only once it lifts (pointerup).
    doctor.get_by_role("heading", name="Inbox").tap()
    expect(doctor.locator("body")).to_have_attribute("data-sound", "on")
    expect(doctor.get_by_role("button", name="Sound off: tap to turn on")).to_be_hidden()


@pytest.mark.hazard("HZ-26")
def test_every_part_of_the_emergency_screen_can_be_reached_on_a_phone(
    server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    doctor = sign_in(phone(chromium), server, "omar.haddad")
    send(server, priority="emergency", message="Cardiac arrest, bed 4, crash team on the way")
    screen = doctor.get_by_role("alertdialog")
    expect(screen).to_be_visible()
    screen.get_by_text("Can't come…").click()
    height = doctor.viewport_size["height"] if doctor.viewport_size else 0
    for part in screen.locator("h1, .facts dd, button, summary, input >> visible=true").all():
        part.scroll_into_view_if_needed()
        place = part.bounding_box()
        assert place is not None
        assert place["y"] >= 0 and place["y"] + place["height"] <= height, f"{part} is off screen"
