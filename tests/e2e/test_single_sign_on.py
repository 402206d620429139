"""Single sign-on in Chromium through the phone app, against a real OpenID provider (the
npm `oidc-provider` package): sign in at the provider, receive a bleep, acknowledge it, sign
out, and the provider's session ends too; its back-channel logout ends the person's other
devices and closes their sockets with 4401."""

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect
from websockets.exceptions import ConnectionClosed

from messaging.models import DeliveryStatus, Device, SsoIdentity
from rota.models import Person
from tests import factories
from tests.e2e.axe import run_axe
from tests.e2e.browser import PHONE, WAIT_MS
from tests.e2e.clients import authenticate, open_socket
from tests.e2e.conftest import Server, free_port, running_server
from tests.e2e.test_answers import send, wait_for_status
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROVIDER_NAME = "NHS Care Identity"


@pytest.fixture
def provider_and_server(
    tmp_path: Path, server_log: Path, people: dict[str, Person]
) -> Iterator[tuple[OidcProvider, Server]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    provider = OidcProvider(
        tmp_path,
        redirect_uris=[f"{base}/auth/sso/callback"],
        post_logout_redirect_uris=[f"{base}/"],
        backchannel_logout_uri=f"{base}/auth/sso/backchannel-logout",
    )
    provider.set_accounts(
        {"omar-sub": {"email": "omar.haddad@example.nhs.uk", "email_verified": True}}
    )
    Person.objects.filter(username="omar.haddad").update(email="omar.haddad@example.nhs.uk")
    env = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": PROVIDER_NAME,
        # Everything the server says, to search it for the sign-in's secrets afterwards.
        "LOG_LEVEL": "DEBUG",
    }
    provider.start()
    try:
        with running_server(log=server_log, extra_env=env, port=port, access_log=True) as server:
            yield provider, server
    finally:
        provider.stop()


async def closed_with(server: Server, token: str) -> int | None:
    """Hold a socket open as `token`'s device; return the code it is closed with."""
    async with open_socket(server) as socket:
        await authenticate(socket, token)
        try:
            while True:
                json.loads(await asyncio.wait_for(socket.recv(), timeout=30))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


@pytest.mark.hazard("HZ-28")
def test_a_doctor_signs_in_with_the_hospital_account_answers_a_bleep_and_signs_out_there_too(
    provider_and_server: tuple[OidcProvider, Server],
    chromium: Browser,
    people: dict[str, Person],
    server_log: Path,
) -> None:
    provider, server = provider_and_server
    # The app's policy allows no inline script, so axe needs it bypassed (tests only).
    context = chromium.new_context(**PHONE, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(server.url)
    expect(page.get_by_text("Or with a Bleep username and password:")).to_be_visible()
    assert run_axe(page) == []
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    # The provider's own pages: its sign-in, then consent for Bleep.
    page.locator("input[name=login]").fill("omar-sub")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.locator("#connection[data-state=live]").wait_for()
    assert "signed-in" not in page.url
    token = page.evaluate("localStorage.getItem('bleep.token')")
    assert token
    doctor = people["doctor"]
    assert SsoIdentity.objects.get(person=doctor).subject == "omar-sub"

    bleep_id = send(server)
    card = page.locator(f"#inbox [data-bleep='{bleep_id}']")
    card.get_by_role("button", name="Acknowledge: coming in 10 min").click()
    wait_for_status(doctor, bleep_id, DeliveryStatus.ACKNOWLEDGED)

    # Another device of the same doctor, with its socket open, for the back-channel logout.
    _, tablet_token = factories.make_device(doctor, "tablet")
    # On a thread of its own: Playwright's loop runs on this one.
    with ThreadPoolExecutor(1) as pool:
        tablet = pool.submit(asyncio.run, closed_with(server, tablet_token))
        time.sleep(1)
        page.get_by_role("button", name="Sign out").click()
        # The provider asks before ending its own session.
        page.get_by_role("button", name="Yes, sign me out").click()
        page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").wait_for()
        assert tablet.result(timeout=30) == 4401
    assert not Device.objects.filter(user=doctor, revoked_at__isnull=True).exists()

    # The provider's session ended too: signing in again asks for the account afresh.
    page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.locator("input[name=login]")).to_be_visible()

    # Neither the device token nor the provider's code and state reached the server's log.
    output = server_log.read_text()
    assert "/auth/sso/callback?code=[redacted]&state=[redacted]" in output
    assert token not in output


def test_with_password_sign_in_off_the_app_offers_only_the_hospital_account(
    tmp_path: Path, server_log: Path, chromium: Browser, people: dict[str, Any]
) -> None:
    port = free_port()
    provider = OidcProvider(tmp_path, redirect_uris=[f"http://127.0.0.1:{port}/auth/sso/callback"])
    env = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_PROVIDER_NAME": PROVIDER_NAME,
        "PASSWORD_SIGN_IN": "0",
    }
    with running_server(log=server_log, extra_env=env, port=port) as server:
        # The app's policy allows no inline script, so axe needs it bypassed (tests only).
        context = chromium.new_context(**PHONE, bypass_csp=True)  # type: ignore[arg-type]
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.goto(server.url)
        expect(page.get_by_role("button", name=f"Sign in with {PROVIDER_NAME}")).to_be_focused()
        assert run_axe(page) == []
        expect(page.get_by_label("Password")).to_be_hidden()
        expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_hidden()
