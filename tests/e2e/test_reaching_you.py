"""Reaching a doctor when the app cannot, in a real browser against the real server and a
GOV.UK Notify that speaks its API: Test my phone, and a mobile number added and verified
with the code texted to it."""

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Browser, expect

from messaging.services.reachability import check_coming_shifts
from tests import factories, notify_service
from tests.e2e.axe import run_axe
from tests.e2e.browser import PHONE, WAIT_MS, phone, sign_in, snap
from tests.e2e.conftest import Server, running_server
from tests.notify_service import NotifyService

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def notify() -> Iterator[NotifyService]:
    service = NotifyService().start()
    yield service
    service.stop()
    assert service.refused_tokens == 0


@pytest.fixture
def server_with_texts(
    transactional_db: None, server_log: Path, notify: NotifyService
) -> Iterator[Server]:
    env = {
        "NOTIFY_API_KEY": notify_service.API_KEY,
        "NOTIFY_BASE_URL": notify.url,
        "NOTIFY_SMS_TEMPLATE_ID": notify_service.TEMPLATE_ID,
    }
    with running_server(log=server_log, extra_env=env) as server:
        yield server


@pytest.mark.hazard("HZ-27")
def test_a_doctor_tests_their_phone_and_adds_a_mobile_verified_by_its_code(
    server_with_texts: Server, chromium: Browser, people: dict[str, Any], notify: NotifyService
) -> None:
    # The app's policy allows no inline script, so axe needs it bypassed (tests only).
    context = chromium.new_context(**PHONE, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = sign_in(context, server_with_texts, "omar.haddad")
    page.goto(f"{server_with_texts.url}/#/account")
    page.get_by_label("Mobile number for text messages").wait_for()
    assert run_axe(page) == []
    page.get_by_role("button", name="Test my phone").click()
    page.get_by_role("button", name="It arrived: confirm").click()
    expect(page.locator("#reach-status")).to_have_text(
        "Confirmed: this phone counts as one that rings."
    )

    page.get_by_label("Mobile number for text messages").fill("07700 900123")
    page.get_by_role("button", name="Add and send a code").click()
    expect(page.locator("[data-contact=sms]")).to_contain_text("+447700900123")
    deadline = time.monotonic() + 10
    while not notify.texts and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run_axe(page) == []
    [text] = notify.texts
    code = re.search(r"\b(\d{6})\b", text.body)
    assert code is not None
    page.get_by_label("The 6-digit code sent to your mobile").fill(code.group(1))
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("[data-contact=sms]")).to_contain_text("verified: in use")
    snap(page, "reaching-you")


def test_without_text_messages_set_up_the_app_offers_only_the_phone_test(
    bleep_server: Server, chromium: Browser, people: dict[str, Any]
) -> None:
    page = sign_in(phone(chromium), bleep_server, "omar.haddad")
    page.goto(f"{bleep_server.url}/#/account")
    expect(page.get_by_role("button", name="Test my phone")).to_be_visible()
    expect(page.get_by_label("Mobile number for text messages")).to_have_count(0)


def check_then_hand_back(now: datetime) -> None:
    """Run the check before shifts, then close the thread's connection: one left open when
    its thread ends outlives the test, and PostgreSQL then counts it in every later one."""
    try:
        check_coming_shifts(now=now)
    finally:
        connection.close()


@pytest.mark.hazard("HZ-27")
def test_a_doctor_bleep_cannot_reach_before_their_shift_is_told_until_they_put_it_right(
    server_with_texts: Server, chromium: Browser, people: dict[str, Any], notify: NotifyService
) -> None:
    role = factories.make_role("Night registrar", bleep_number="2400")
    factories.make_shift(role, people["doctor"], timezone.now() + timedelta(minutes=30))
    # On a thread of its own: its events are sent after commit, which cannot be done on
    # the thread whose event loop drives the browser.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(check_then_hand_back, timezone.now()).result()
    context = chromium.new_context(**PHONE, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = sign_in(context, server_with_texts, "omar.haddad")
    warning = page.locator("#reach-warning")
    expect(warning).to_contain_text("on call as Night registrar from")
    expect(warning).to_contain_text("Bleep cannot reach your phone")
    assert run_axe(page) == []
    link = warning.get_by_role("link", name="Test my phone").bounding_box()
    assert link is not None and link["height"] >= 44
    warning.get_by_role("link", name="Test my phone").click()

    page.get_by_label("Mobile number for text messages").fill("07700 900123")
    page.get_by_role("button", name="Add and send a code").click()
    expect(page.locator("[data-contact=sms]")).to_contain_text("waiting for the code")
    deadline = time.monotonic() + 10
    while not notify.texts and time.monotonic() < deadline:
        time.sleep(0.1)
    code = re.search(r"\b(\d{6})\b", notify.texts[0].body)
    assert code is not None
    page.get_by_label("The 6-digit code sent to your mobile").fill(code.group(1))
    page.get_by_role("button", name="Verify").click()
    expect(warning).to_be_hidden()
