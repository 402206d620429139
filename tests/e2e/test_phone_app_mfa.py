"""Two-step sign-in in the phone app, in a real browser against the real server: a rota
manager sets up an authenticator at first sign-in, then signs in on other phones with a
code and with a recovery code."""

import time
from base64 import b32decode

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django_otp.oath import TOTP
from playwright.sync_api import Browser, BrowserContext, Page, expect

from messaging.models import Device
from rota.models import Person
from tests import factories
from tests.e2e.browser import phone, snap
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STEP = 30


@pytest.fixture
def manager(transactional_db: None) -> Person:
    person = factories.make_person("fiona.hale", job=Person.Job.ROTA_MANAGER)
    # The server runs with the production hasher, not the tests' fast one.
    hasher = PBKDF2PasswordHasher()
    person.password = hasher.encode(factories.PASSWORD, hasher.salt())
    person.save(update_fields=["password"])
    return person


def code_for(secret: str, *, at: float | None = None, steps_ahead: int = 0) -> str:
    """Return what an authenticator app with `secret` shows at `at` (default: now),
    `steps_ahead` steps later.

    The code after the one that confirmed is counted from the confirming code's time, not
    from the time of the next sign-in: django-otp refuses any code not after the last one
    used, and, when that one arrived as the step turned, moves its clock a step back.
    """
    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = (time.time() if at is None else at) + steps_ahead * STEP
    return f"{totp.token():06d}"


def open_sign_in(context: BrowserContext, server: Server) -> Page:
    page = context.new_page()
    page.goto(server.url)
    page.get_by_label("Username").fill("fiona.hale")
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_a_rota_manager_enrols_then_signs_in_with_a_code_and_with_a_recovery_code(
    bleep_server: Server, chromium: Browser, manager: Person
) -> None:
    first = open_sign_in(phone(chromium), bleep_server)
    expect(first.get_by_role("heading", name="Set up two-step sign-in")).to_be_visible()
    secret = first.locator("#mfa-secret").inner_text()
    code_box = first.get_by_label("2. The 6-digit code the app shows")
    expect(code_box).to_have_attribute("autocomplete", "one-time-code")
    expect(code_box).to_have_attribute("inputmode", "numeric")
    snap(first, "mfa-1-enrol")
    confirmed_at = time.time()
    code_box.fill(code_for(secret, at=confirmed_at))
    first.get_by_role("button", name="Confirm").click()

    expect(first.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = first.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    proceed = first.get_by_role("button", name="Continue")
    expect(proceed).to_be_disabled()
    first.get_by_label("I have kept these codes").check()
    proceed.click()
    first.locator("#connection[data-state=live]").wait_for()

    second = open_sign_in(phone(chromium), bleep_server)
    asked = second.get_by_label("Code from your authenticator app")
    expect(asked).to_be_focused()
    expect(second.locator("#signin-problem")).to_have_text(
        "Enter the code from your authenticator app."
    )
    # The first code was used to confirm; the app now shows the next one.
    asked.fill(code_for(secret, at=confirmed_at, steps_ahead=1))
    second.get_by_role("button", name="Sign in").click()
    second.locator("#connection[data-state=live]").wait_for()

    third = open_sign_in(phone(chromium), bleep_server)
    third.get_by_role("button", name="Use a recovery code instead").click()
    recovery = third.get_by_label("Recovery code")
    expect(recovery).to_have_attribute("inputmode", "text")
    recovery.fill(codes[0])
    third.get_by_role("button", name="Sign in").click()
    third.locator("#connection[data-state=live]").wait_for()

    assert Device.objects.filter(user=manager, revoked_at__isnull=True).count() == 3


def test_a_wrong_code_is_refused_plainly_and_the_right_one_then_signs_in(
    bleep_server: Server, chromium: Browser, manager: Person
) -> None:
    page = open_sign_in(phone(chromium), bleep_server)
    secret = page.locator("#mfa-secret").inner_text()
    confirmed_at = time.time()
    page.get_by_label("2. The 6-digit code the app shows").fill(code_for(secret, at=confirmed_at))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("I have kept these codes").check()
    page.get_by_role("button", name="Continue").click()
    page.locator("#connection[data-state=live]").wait_for()

    other = open_sign_in(phone(chromium), bleep_server)
    right = code_for(secret, at=confirmed_at, steps_ahead=1)
    other.get_by_label("Code from your authenticator app").fill(
        f"{(int(right) + 1) % 1_000_000:06d}"
    )
    other.get_by_role("button", name="Sign in").click()
    expect(other.locator("#signin-problem")).to_contain_text("That code is wrong")
    # django-otp slows the next try by a second after a wrong code.
    other.wait_for_timeout(1_100)
    other.get_by_label("Code from your authenticator app").fill(right)
    other.get_by_role("button", name="Sign in").click()
    other.locator("#connection[data-state=live]").wait_for()
