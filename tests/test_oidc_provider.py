"""The tests' own OpenID provider (tests/oidc_provider.py) runs from the project's Node
packages, publishes discovery and its keys, and rotates them on a restart: what the
single sign-on tests stand on."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.oidc_provider import OidcProvider, signing_key


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OidcProvider]:
    running = OidcProvider(tmp_path, redirect_uris=["http://127.0.0.1:8000/api/auth/sso/callback"])
    running.start()
    yield running
    running.stop()


def test_the_tests_openid_provider_publishes_discovery_with_pkce_and_logout(
    provider: OidcProvider,
) -> None:
    found = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert found["issuer"] == provider.issuer
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert found["end_session_endpoint"] == f"{provider.issuer}/session/end"
    keys = httpx.get(found["jwks_uri"]).json()["keys"]
    assert [key["kid"] for key in keys] == ["first"]
    # Only the public half is published.
    assert "d" not in keys[0]


def test_the_tests_openid_provider_signs_with_new_keys_after_a_restart(
    provider: OidcProvider,
) -> None:
    provider.stop()
    provider.keys = [signing_key("second")]
    provider.start()
    found = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert [key["kid"] for key in httpx.get(found["jwks_uri"]).json()["keys"]] == ["second"]
