"""Switchboard's console on a phone: the board kept across tabs and its progress in words."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from messaging.models import Bleep
from rota.models import Person, Role
from tests.e2e.browser import phone, sign_in
from tests.e2e.conftest import Server
from tests.e2e.test_phone_app import BOARD_REFRESH_WAIT_MS, rest_login
from tests.escalation.test_steps import make_policy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def on_the_board(page: Page) -> None:
    expect(page.get_by_role("heading", name="Open bleeps")).to_be_visible()
    expect(page.locator("#tabs a[aria-current=page]")).to_have_text("Board")


def what_the_app_knows_of_me(page: Page) -> dict[str, Any]:
    """Return the app's `store.me`: the same module instance the page's own code imports."""
    me: dict[str, Any] = page.evaluate(
        "import('/static/app/js/store.js').then(({ store }) => store.me)"
    )
    return me


@pytest.mark.hazard("HZ-23")
def test_switchboard_keeps_its_board_through_every_tab_a_reload_and_a_reconnect(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")
    on_the_board(switchboard)
    for tab in ("Inbox", "Sent", "Send", "Board", "Inbox", "Board"):
        switchboard.locator("#tabs").get_by_role("link", name=tab).click()
        expect(switchboard.locator("#tabs a[aria-current=page]")).to_contain_text(tab)
    on_the_board(switchboard)

    switchboard.reload()
    switchboard.locator("#connection[data-state=live]").wait_for()
    on_the_board(switchboard)
    switchboard.locator("#tabs").get_by_role("link", name="Sent").click()
    switchboard.goto(f"{bleep_server.url}/#/board")
    on_the_board(switchboard)

    # The socket drops and comes back: its authenticated frame must not cost the board.
    switchboard.context.set_offline(True)
    switchboard.evaluate("window.dispatchEvent(new Event('offline'))")
    switchboard.locator("#connection[data-state=offline]").wait_for()
    switchboard.context.set_offline(False)
    switchboard.evaluate("window.dispatchEvent(new Event('online'))")
    switchboard.locator("#connection[data-state=live]").wait_for()
    switchboard.locator("#tabs").get_by_role("link", name="Inbox").click()
    switchboard.locator("#tabs").get_by_role("link", name="Board").click()
    on_the_board(switchboard)
    # The reconnect's authenticated frame adds to what /api/me said and takes nothing away
    # (the device aside: this phone's, not the one asking /api/me here).
    with rest_login(bleep_server, "pat.ellis") as api:
        from_api_me = api.get("/api/me").json()
    app_me = what_the_app_knows_of_me(switchboard)
    assert {name: app_me.get(name) for name in from_api_me if name != "device"} == {
        name: value for name, value in from_api_me.items() if name != "device"
    }
    assert set(app_me["device"]) == set(from_api_me["device"])


@pytest.mark.hazard("HZ-23")
def test_the_board_puts_emergencies_first_counts_the_overdue_and_tells_the_escalation_in_words(
    bleep_server: Server, chromium: Browser, people: dict[str, Person]
) -> None:
    # Switchboard is brought in a second after the send; then a reminder a minute later.
    make_policy(
        ("renotify", 1),
        ("notify_switchboard", 1),
        ("renotify", 60),
        role=Role.objects.get(bleep_number="2345"),
    )
    with rest_login(bleep_server, "amina.okafor") as nurse:
        for priority in ("routine", "urgent", "emergency"):
            sent = nurse.post(
                "/api/bleeps",
                json={"bleep_number": "2345", "priority": priority, "message": f"A {priority} one"},
            )
            assert sent.status_code == 201, sent.text
    # The routine one has waited past its 15 minutes.
    Bleep.objects.filter(priority="routine").update(
        created_at=timezone.now() - timedelta(minutes=16)
    )
    switchboard = sign_in(phone(chromium), bleep_server, "pat.ellis")
    cards = switchboard.locator("#board article")
    expect(cards).to_have_count(3)
    expect(cards.locator(".message")).to_have_text(
        ["A emergency one", "A urgent one", "A routine one"]
    )
    expect(switchboard.locator("#board-summary")).to_contain_text("3 open, 1 emergency, 1 overdue")
    expect(cards.nth(2).locator(".age")).to_contain_text("overdue")
    expect(cards.nth(0).locator(".age")).not_to_contain_text("overdue")
    step = cards.nth(0).locator(".step")
    expect(step).to_have_text(
        re.compile(
            r"^Escalation: reminded at \d s, switchboard in since \d s; next: remind at 1 min$"
        ),
        timeout=BOARD_REFRESH_WAIT_MS,
    )
