"""The hospital's OpenID Connect provider, through Authlib's Django client (docs/sso.md).

Authlib rather than mozilla-django-oidc: it reads the provider's discovery document (no
endpoint to configure by hand), sends PKCE and a nonce itself, fetches the provider's keys
again when a token names one it has not seen (key rotation), signs private key JWT client
assertions (which CIS2 asks for), and leaves the session to us: a sign-in here ends in a
device token, not in Django's session login that mozilla-django-oidc is built around.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from django.conf import settings
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from messaging.exceptions import SsoRefused

HTTP_TIMEOUT_SECONDS = 10
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class ProviderSignIn:
    """Who the provider says signed in: its issuer, their `sub`, the provider's session
    (`sid`, empty if it sends none) and every claim of the ID token and userinfo."""

    issuer: str
    subject: str
    session_id: str
    claims: dict[str, Any]
    # The provider's refresh token, if it gave one: how Bleep checks on the account later.
    refresh_token: str = ""


@dataclass(frozen=True)
class ProviderLogout:
    """A back-channel logout: the person's `sub` and/or the provider session's `sid`."""

    subject: str
    session_id: str


def enabled() -> bool:
    """Whether single sign-on is configured (OIDC_ISSUER)."""
    return bool(settings.OIDC_ISSUER)


def provider() -> DjangoOAuth2App:
    """Return the configured provider's client; one per configuration, kept for the process
    so its discovery document and keys are fetched once (and again on an unknown key)."""
    return _provider(
        settings.OIDC_ISSUER,
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        settings.OIDC_PRIVATE_KEY_FILE,
        settings.OIDC_SCOPES,
    )


@lru_cache(maxsize=4)
def _provider(
    issuer: str, client_id: str, secret: str, key_file: str, scopes: str
) -> DjangoOAuth2App:
    client_kwargs: dict[str, Any] = {
        "scope": scopes,
        "code_challenge_method": "S256",
        "default_timeout": HTTP_TIMEOUT_SECONDS,
    }
    auth_methods = None
    if key_file:
        secret = Path(key_file).read_text()
        client_kwargs["token_endpoint_auth_method"] = PrivateKeyJWT.name
        auth_methods = [PrivateKeyJWT(alg="RS256")]
    client: DjangoOAuth2App = OAuth().register(
        "hospital",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs=client_kwargs,
        client_auth_methods=auth_methods,
    )
    return client


def finish_sign_in(request: Any) -> ProviderSignIn:
    """Check the provider's answer to the sign-in `request` is for: `state` against the
    session's, then the code exchanged with the PKCE verifier and the ID token checked
    (signature by the provider's keys, `iss`, `aud`, `exp` and `iat` with the leeway,
    `nonce`); the userinfo's claims are added when the provider has them. Raises SsoRefused.
    """
    client = provider()
    try:
        token = client.authorize_access_token(request, leeway=settings.OIDC_CLOCK_LEEWAY_SECONDS)
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SsoRefused("the provider sent no ID token")
        metadata = client.load_server_metadata()
        if metadata.get("userinfo_endpoint"):
            info = dict(client.userinfo(token=token))
            if info.get("sub") != claims["sub"]:
                raise SsoRefused("the provider's userinfo is for someone else")
            claims = info | claims
    except (OAuthError, JoseError) as error:
        raise SsoRefused(_refusal(error)) from error
    except OSError as error:
        raise SsoRefused("the identity provider did not answer; try again") from error
    return ProviderSignIn(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        session_id=str(claims.get("sid", "")),
        claims=claims,
        refresh_token=str(token.get("refresh_token") or ""),
    )


class RenewalRefused(Exception):
    """The provider refused to renew: the account is disabled, or its session ended there."""


def renew(refresh_token: str) -> str:
    """Renew at the provider with `refresh_token`; return the refresh token to keep (a new
    one if the provider rotates them). Raises RenewalRefused if the provider says no
    (`invalid_grant`), and OSError or OAuthError if it could not be asked."""
    client = provider()
    try:
        token = client.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
    except OAuthError as error:
        if error.error == "invalid_grant":
            raise RenewalRefused(error.description or "invalid_grant") from error
        raise
    return str(token.get("refresh_token") or refresh_token)


def _refusal(error: Exception) -> str:
    name = type(error).__name__
    if name == "MismatchingStateError":
        return "this sign-in was not started here, or was already finished: start again"
    if isinstance(error, OAuthError) and error.error:
        return f"the identity provider refused: {error.error}"
    return f"the identity provider's answer failed a check ({name})"


def read_logout_token(logout_token: str) -> ProviderLogout:
    """Check a back-channel logout token (OpenID Connect Back-Channel Logout 1.0, 2.6):
    signed by the provider's keys, for Bleep (`aud`), from the issuer, recent (`iat`), with
    the logout event and `sub` or `sid`, and no nonce. Raises SsoRefused."""
    client = provider()
    metadata = client.load_server_metadata()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    try:
        try:
            token = jwt.decode(
                logout_token, KeySet.import_key_set(client.fetch_jwk_set()), algorithms=algorithms
            )
        except InvalidKeyIdError:
            keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
            token = jwt.decode(logout_token, keys, algorithms=algorithms)
        jwt.JWTClaimsRegistry(
            leeway=settings.OIDC_CLOCK_LEEWAY_SECONDS,
            iss={"essential": True, "value": metadata.get("issuer", settings.OIDC_ISSUER)},
            aud={"essential": True, "value": settings.OIDC_CLIENT_ID},
            iat={"essential": True},
            events={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise SsoRefused(f"logout token refused ({type(error).__name__})") from error
    claims = token.claims
    events = claims.get("events")
    if not isinstance(events, dict) or BACKCHANNEL_LOGOUT_EVENT not in events:
        raise SsoRefused("logout token refused (no back-channel logout event)")
    if "nonce" in claims:
        raise SsoRefused("logout token refused (it carries a nonce)")
    subject, session_id = str(claims.get("sub", "")), str(claims.get("sid", ""))
    if not subject and not session_id:
        raise SsoRefused("logout token refused (neither sub nor sid)")
    return ProviderLogout(subject=subject, session_id=session_id)


def end_session_url(*, post_logout_redirect_uri: str) -> str | None:
    """Return the provider's end-session address that also ends the provider's session
    (RP-initiated logout), or None if it has none."""
    client = provider()
    endpoint = client.load_server_metadata().get("end_session_endpoint")
    if not endpoint:
        return None
    result = client.create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri, client_id=settings.OIDC_CLIENT_ID
    )
    return str(result["url"])
