"""Debian's Chromium, driven by playwright, for the phone app's browser tests.

The browser comes from the machine's package registry (`apt-get install chromium`; .ci/run
installs it); playwright never downloads one. Without it the browser tests skip, saying
why, unless BLEEP_REQUIRE_SERVICES=1 (CI), where a missing browser fails them.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from rota.models import Location, Person, Role
from tests import factories
from tests.e2e.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import Server

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "has_touch": True}
ALLOW_ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# Waits for the page are bounded, so a lost event fails the test instead of hanging it.
WAIT_MS = 15_000


def chromium_missing() -> str | None:
    """Return why the browser tests cannot run here, or None when they can."""
    if Path(CHROMIUM).exists():
        return None
    return f"browser tests skipped: Chromium is missing (apt-get install chromium gives {CHROMIUM})"


def launch_chromium() -> Iterator[Browser]:
    """Run one headless Chromium (for a module-scoped fixture); skip or fail without it."""
    missing = chromium_missing()
    if missing is not None:
        if os.environ.get("BLEEP_REQUIRE_SERVICES") == "1":
            pytest.fail(f"BLEEP_REQUIRE_SERVICES=1 but {missing}")
        pytest.skip(missing)
    # Playwright's sync API keeps its event loop running in this thread between calls, and
    # Django refuses queries while a loop runs in the thread (as it would inside an async
    # view). Nothing here runs on that loop: the tests' queries only pause it.
    earlier = os.environ.get(ALLOW_ASYNC_UNSAFE)
    os.environ[ALLOW_ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if earlier is None:
            del os.environ[ALLOW_ASYNC_UNSAFE]
        else:
            os.environ[ALLOW_ASYNC_UNSAFE] = earlier


def hospital() -> dict[str, Person]:
    """A nurse on Ward 7, a registrar on bleep 2345, and switchboard above it, with logins."""
    switchboard_role = factories.make_role(
        "Switchboard", bleep_number="1000", kind=Role.Kind.SWITCHBOARD
    )
    role = factories.make_role(bleep_number="2345", fallback=switchboard_role)
    Location.objects.create(site=role.site, name="Ward 7")
    people = {
        "nurse": factories.make_person("amina.okafor", job=Person.Job.NURSE),
        "doctor": factories.make_person("omar.haddad", display_name="Dr Omar Haddad"),
        "operator": factories.make_person("pat.ellis", job=Person.Job.SWITCHBOARD),
    }
    for person in people.values():
        # The server runs with the production hasher, not the tests' fast one.
        hasher = PBKDF2PasswordHasher()
        person.password = hasher.encode(factories.PASSWORD, hasher.salt())
        person.save(update_fields=["password"])
    factories.on_call_now(role, people["doctor"])
    factories.on_call_now(switchboard_role, people["operator"])
    return people


def phone(browser: Browser) -> BrowserContext:
    """Return a fresh phone-sized browser context: its own storage, as a separate phone."""
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    return context


def sign_in(context: BrowserContext, server: Server, username: str) -> Page:
    """Open the app, sign in, and return the page once its socket is live."""
    page = context.new_page()
    page.goto(server.url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#connection[data-state=live]").wait_for()
    return page


def snap(page: Page, name: str) -> None:
    """Keep phone-sized screenshots under docs/screenshots/, light and dark, only when asked to."""
    if os.environ.get("BLEEP_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-dark.png"))
        page.emulate_media(color_scheme="light")
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
