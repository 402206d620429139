"""Single sign-on against a real OpenID provider (the npm `oidc-provider` package, started
by these tests): the whole trip there and back, who is who, and each refusal on its own."""

import time
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.django_client import DjangoOAuth2App
from channels.db import database_sync_to_async
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import RSAKey

from bleep.tokens import seal, unseal
from messaging import sso as sso_module
from messaging.exceptions import InvalidToken
from messaging.models import Device, SignInMethod, SignInRecord, SsoHandoff, SsoIdentity
from messaging.services import sso as sso_service
from messaging.services.devices import authenticate_device
from messaging.services.systems import create_client
from rota.models import Person
from tests import factories
from tests.messaging.test_consumers import open_socket, read_until_caught_up
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider, sign_in_at, signing_key

CALLBACK = "http://testserver/auth/sso/callback"
OMAR = {"email": "omar.haddad@example.nhs.uk", "email_verified": True, "name": "Omar Haddad"}


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    started = OidcProvider(
        tmp_path_factory.mktemp("oidc"),
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=["http://testserver/"],
    ).start()
    yield started
    started.stop()


@pytest.fixture
def sso(settings: Any, provider: OidcProvider) -> OidcProvider:
    """Bleep configured for the provider, whose only account is Omar's (`sub` "omar-sub")."""
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "NHS Care Identity"
    provider.set_accounts({"omar-sub": OMAR})
    return provider


@pytest.fixture
def omar(db: None) -> Person:
    return factories.make_person("omar.haddad", email="Omar.Haddad@example.nhs.uk")


def start(browser: Client) -> str:
    """Begin a sign-in in `browser`; return the provider's authorization address."""
    answer = browser.get("/auth/sso/start")
    assert answer.status_code == 302
    return str(answer["Location"])


def sign_in(browser: Client, provider: OidcProvider, login: str = "omar-sub") -> Any:
    """Go to the provider and back as `login`; return Bleep's answer to the callback."""
    back = sign_in_at(provider, start(browser), login)
    assert back.startswith(CALLBACK)
    return browser.get(back.removeprefix("http://testserver"))


def exchange(browser: Client, answer: Any) -> Any:
    """Exchange the code the callback put in the app's fragment for a device token."""
    assert answer.status_code == 302
    location = str(answer["Location"])
    assert location.startswith("/#/signed-in/")
    code = location.removeprefix("/#/signed-in/")
    return browser.post(
        "/api/auth/sso/exchange", {"code": code, "device_name": "ward phone"}, "application/json"
    )


def test_a_person_signs_in_at_the_provider_and_the_device_gets_a_token(
    sso: OidcProvider, omar: Person
) -> None:
    browser = Client()
    answer = exchange(browser, sign_in(browser, sso))
    assert answer.status_code == 201, answer.content
    token = answer.json()["token"]
    me = browser.get("/api/me", headers={"authorization": f"Bearer {token}"})
    assert me.json()["username"] == "omar.haddad"
    identity = SsoIdentity.objects.get(person=omar)
    assert (identity.issuer, identity.subject) == (sso.issuer, "omar-sub")
    device = Device.objects.get(user=omar)
    assert device.sso_ends_at is not None
    assert SignInRecord.objects.filter(person=omar, method=SignInMethod.SSO).count() == 1


def test_the_authorization_request_asks_for_pkce_a_nonce_and_state(
    sso: OidcProvider, db: None
) -> None:
    query = parse_qs(urlsplit(start(Client())).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["nonce"][0] and query["state"][0]
    assert query["response_type"] == ["code"]


@pytest.mark.hazard("HZ-28")
def test_once_linked_the_provider_subject_finds_the_person_whatever_their_email(
    sso: OidcProvider, omar: Person
) -> None:
    browser = Client()
    assert exchange(browser, sign_in(browser, sso)).status_code == 201
    sso.set_accounts({"omar-sub": OMAR | {"email": "someone.else@example.nhs.uk"}})
    browser = Client()
    assert exchange(browser, sign_in(browser, sso)).status_code == 201
    assert Device.objects.filter(user=omar).count() == 2


@pytest.mark.hazard("HZ-28")
def test_an_unknown_person_is_refused_with_a_clear_page_when_creation_is_off(
    sso: OidcProvider, db: None
) -> None:
    sso.set_accounts({"stranger": {"email": "nobody@example.nhs.uk", "email_verified": True}})
    answer = sign_in(Client(), sso, "stranger")
    assert answer.status_code == 403
    assert b"Bleep has no account for you yet" in answer.content
    assert not Person.objects.exists() and not SsoHandoff.objects.exists()


@pytest.mark.hazard("HZ-28")
def test_an_unverified_email_matches_nobody(sso: OidcProvider, omar: Person) -> None:
    sso.set_accounts({"omar-sub": OMAR | {"email_verified": False}})
    assert sign_in(Client(), sso).status_code == 403
    assert not SsoIdentity.objects.exists()


def test_just_in_time_creation_gives_the_job_the_mapping_gives(
    sso: OidcProvider, settings: Any, db: None
) -> None:
    settings.OIDC_CREATE_PEOPLE = True
    settings.OIDC_JOB_MAP = {"R8000": "doctor", "R8001": "nurse"}
    sso.set_accounts({"new-sub": {"email": "new@example.nhs.uk", "groups": ["R8000"]}})
    assert exchange(Client(), sign_in(Client(), sso, "new-sub")).status_code == 201
    person = Person.objects.get(sso_identity__subject="new-sub")
    assert (person.job, person.email, person.has_usable_password()) == (
        "doctor",
        "new@example.nhs.uk",
        False,
    )


@pytest.mark.hazard("HZ-28")
def test_a_claim_naming_rota_manager_grants_nothing_unless_the_mapping_says_so(
    sso: OidcProvider, settings: Any, db: None
) -> None:
    settings.OIDC_CREATE_PEOPLE = True
    settings.OIDC_JOB_MAP = {"R8000": "doctor"}
    sso.set_accounts({"boss": {"email": "boss@example.nhs.uk", "groups": ["rota_manager"]}})
    answer = sign_in(Client(), sso, "boss")
    assert answer.status_code == 403
    assert b"no role Bleep knows" in answer.content
    assert not Person.objects.exists()


def test_an_account_disabled_at_the_provider_cannot_sign_in_again(
    sso: OidcProvider, omar: Person
) -> None:
    assert exchange(Client(), sign_in(Client(), sso)).status_code == 201
    sso.set_accounts({"omar-sub": OMAR | {"disabled": True}})
    browser = Client()
    with pytest.raises(AssertionError):
        answer = sign_in(browser, sso)
        exchange(browser, answer)
    assert Device.objects.filter(user=omar).count() == 1


@pytest.mark.hazard("HZ-28")
def test_a_sign_in_code_works_once(sso: OidcProvider, omar: Person) -> None:
    browser = Client()
    answer = sign_in(browser, sso)
    assert exchange(browser, answer).status_code == 201
    again = exchange(browser, answer)
    assert (again.status_code, again.json()["code"]) == (401, "sign_in_code_invalid")


def test_a_sign_in_code_is_refused_after_a_minute(omar: Person) -> None:
    now = timezone.now()
    identity = SsoIdentity.objects.create(person=omar, issuer="x", subject="s", linked_at=now)
    code = sso_service.issue_handoff(identity=identity, session_id="", now=now)
    with pytest.raises(Exception, match="SsoHandoffInvalid|"):
        sso_service.redeem_handoff(code=code, device_name="p", now=now + timedelta(seconds=61))
    assert not Device.objects.exists()


@pytest.mark.hazard("HZ-28")
def test_replaying_the_callback_is_refused_as_a_state_mismatch(
    sso: OidcProvider, omar: Person
) -> None:
    browser = Client()
    back = sign_in_at(sso, start(browser), "omar-sub").removeprefix("http://testserver")
    assert browser.get(back).status_code == 302
    replay = browser.get(back)
    assert replay.status_code == 403
    assert b"not started here" in replay.content


@pytest.mark.hazard("HZ-28")
def test_a_callback_in_another_browser_is_refused(sso: OidcProvider, omar: Person) -> None:
    back = sign_in_at(sso, start(Client()), "omar-sub").removeprefix("http://testserver")
    assert Client().get(back).status_code == 403
    assert not SsoHandoff.objects.exists()


# The ID token's own checks: the token endpoint's answer is replaced by one signed here,
# with the provider's key unless a test says otherwise, and one claim wrong.


def id_token(
    provider: OidcProvider, expected_nonce: str, key: dict[str, Any] | None = None, **claims: Any
) -> str:
    now = int(time.time())
    body = {
        "iss": provider.issuer,
        "sub": "omar-sub",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": expected_nonce,
    } | claims
    signer = key or provider.keys[0]
    return jwt.encode({"alg": "RS256", "kid": signer["kid"]}, body, RSAKey.import_key(signer))


def callback_with_token(
    browser: Client,
    provider: OidcProvider,
    monkeypatch: pytest.MonkeyPatch,
    make: Any,
    start_at: str = "/auth/sso/start",
) -> Any:
    """Start a sign-in at `start_at`, and finish it with the provider's token endpoint
    answering the ID token `make` signs for the sign-in's nonce."""
    query = parse_qs(urlsplit(str(browser.get(start_at)["Location"])).query)
    token = make(query["nonce"][0])
    monkeypatch.setattr(
        DjangoOAuth2App,
        "fetch_access_token",
        lambda self, **kw: {"access_token": "at", "token_type": "Bearer", "id_token": token},
    )
    monkeypatch.setattr(DjangoOAuth2App, "userinfo", lambda self, **kw: OMAR | {"sub": "omar-sub"})
    return browser.get(f"/auth/sso/callback?code=c&state={query['state'][0]}")


@pytest.mark.hazard("HZ-28")
@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param({"aud": "someone-else"}, id="wrong audience"),
        pytest.param({"iss": "http://127.0.0.1:9/elsewhere"}, id="wrong issuer"),
        pytest.param(
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, id="expired"
        ),
        pytest.param({"iat": int(time.time()) + 3600}, id="issued in the future"),
        pytest.param({"nonce": "from-an-earlier-sign-in"}, id="replayed nonce"),
    ],
)
def test_an_id_token_with_a_claim_wrong_is_refused(
    sso: OidcProvider, omar: Person, monkeypatch: pytest.MonkeyPatch, wrong: dict[str, Any]
) -> None:
    answer = callback_with_token(
        Client(), sso, monkeypatch, lambda nonce: id_token(sso, nonce, **wrong)
    )
    assert answer.status_code == 403
    assert not SsoHandoff.objects.exists()


def test_the_token_as_the_provider_would_sign_it_is_accepted(
    sso: OidcProvider, omar: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control for the refusals above: only the one claim differs there.
    answer = callback_with_token(Client(), sso, monkeypatch, lambda nonce: id_token(sso, nonce))
    assert answer.status_code == 302


@pytest.mark.hazard("HZ-28")
def test_an_id_token_signed_by_another_key_with_the_providers_key_id_is_refused(
    sso: OidcProvider, omar: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    forged = signing_key(sso.keys[0]["kid"])
    answer = callback_with_token(
        Client(), sso, monkeypatch, lambda nonce: id_token(sso, nonce, key=forged)
    )
    assert answer.status_code == 403


@pytest.mark.hazard("HZ-28")
def test_an_id_token_signed_by_a_key_the_provider_no_longer_publishes_is_refused(
    sso: OidcProvider, omar: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    retired = signing_key("retired")
    answer = callback_with_token(
        Client(), sso, monkeypatch, lambda nonce: id_token(sso, nonce, key=retired)
    )
    assert answer.status_code == 403


def test_a_provider_that_rotates_its_keys_still_signs_people_in(
    tmp_path: Path, settings: Any, omar: Person
) -> None:
    provider = OidcProvider(tmp_path, redirect_uris=[CALLBACK]).start()
    try:
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
        provider.set_accounts({"omar-sub": OMAR})
        assert exchange(Client(), sign_in(Client(), provider)).status_code == 201
        provider.stop()
        provider.keys = [signing_key("rotated")]
        provider.start()
        assert exchange(Client(), sign_in(Client(), provider)).status_code == 201
    finally:
        provider.stop()


# Password sign-in beside single sign-on.


def password_sign_in(username: str = "omar.haddad") -> Any:
    body = {"username": username, "password": factories.PASSWORD, "device_name": "phone"}
    return Client().post("/api/auth/login", body, "application/json")


def test_a_person_linked_to_single_sign_on_cannot_sign_in_with_a_password(
    sso: OidcProvider, omar: Person
) -> None:
    SsoIdentity.objects.create(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    answer = password_sign_in()
    assert (answer.status_code, answer.json()["code"]) == (403, "password_sign_in_off")
    assert not Device.objects.exists()


@pytest.mark.hazard("HZ-28")
def test_a_break_glass_grant_lets_a_linked_person_sign_in_with_a_password_on_the_record(
    sso: OidcProvider, omar: Person
) -> None:
    now = timezone.now()
    SsoIdentity.objects.create(person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=now)
    sso_service.allow_break_glass(
        person=omar, until=now + timedelta(hours=1), reason="provider down", now=now
    )
    assert password_sign_in().status_code == 201
    methods = list(SignInRecord.objects.values_list("method", flat=True))
    assert methods == [SignInMethod.BREAK_GLASS_ALLOWED, SignInMethod.BREAK_GLASS]


def test_password_sign_in_switched_off_refuses_everyone_with_a_password(
    settings: Any, omar: Person
) -> None:
    settings.PASSWORD_SIGN_IN = False
    answer = password_sign_in()
    assert (answer.status_code, answer.json()["code"]) == (403, "password_sign_in_off")


def test_a_wrong_password_is_still_just_a_wrong_password_when_password_sign_in_is_off(
    settings: Any, omar: Person
) -> None:
    settings.PASSWORD_SIGN_IN = False
    body = {"username": "omar.haddad", "password": "wrong", "device_name": "phone"}
    answer = Client().post("/api/auth/login", body, "application/json")
    assert answer.json()["code"] == "invalid_credentials"


def test_the_app_learns_how_this_deployment_signs_people_in(sso: OidcProvider, db: None) -> None:
    assert Client().get("/api/auth/sso").json() == {
        "sso": True,
        "provider_name": "NHS Care Identity",
        "start_url": "/auth/sso/start",
        "password_sign_in": True,
    }


def test_without_single_sign_on_the_app_offers_passwords_only(db: None) -> None:
    assert Client().get("/api/auth/sso").json()["sso"] is False
    assert Client().get("/auth/sso/start").status_code == 404


# The device's session is bounded by the provider's.


def test_a_device_signed_in_at_the_provider_must_sign_in_again_after_the_set_time(
    settings: Any, omar: Person
) -> None:
    now = timezone.now()
    settings.OIDC_REAUTH_HOURS = 24
    assert sso_service.sso_session_end(person=omar, now=now) == now + timedelta(hours=24)
    identity = SsoIdentity.objects.create(person=omar, issuer="x", subject="s", linked_at=now)
    code = sso_service.issue_handoff(identity=identity, session_id="", now=now)
    _, token = sso_service.redeem_handoff(code=code, device_name="p", now=now)
    authenticate_device(token=token, now=now + timedelta(hours=23))
    with pytest.raises(InvalidToken):
        authenticate_device(token=token, now=now + timedelta(hours=24))


@pytest.mark.hazard("HZ-28")
def test_the_time_to_sign_in_again_never_falls_inside_a_shift(settings: Any, omar: Person) -> None:
    now = timezone.now()
    settings.OIDC_REAUTH_HOURS = 24
    role = factories.make_role()
    first = factories.make_shift(role, omar, start=now + timedelta(hours=20), hours=12)
    factories.make_shift(role, omar, start=first.end, hours=4)
    assert sso_service.sso_session_end(person=omar, now=now) == first.end + timedelta(hours=4)


# Back-channel logout.


def logout_token(provider: OidcProvider, key: dict[str, Any] | None = None, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": provider.issuer,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": f"logout-{now}",
        "sub": "omar-sub",
        "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
    } | claims
    signer = key or provider.keys[0]
    return jwt.encode({"alg": "RS256", "kid": signer["kid"]}, body, RSAKey.import_key(signer))


def post_logout(token: str) -> Any:
    return Client().post("/auth/sso/backchannel-logout", {"logout_token": token})


@pytest.mark.hazard("HZ-28")
@pytest.mark.django_db(transaction=True)
async def test_back_channel_logout_ends_every_device_of_the_person_and_closes_sockets_with_4401(
    sso: OidcProvider,
) -> None:
    omar = await database_sync_to_async(factories.make_person)("omar.haddad")
    (phone, phone_token), (_, tablet_token) = [
        await database_sync_to_async(factories.make_device)(omar, name) for name in ("p", "t")
    ]
    await database_sync_to_async(SsoIdentity.objects.create)(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    sockets = [await open_socket(t) for t in (phone_token, tablet_token)]
    for socket in sockets:
        await read_until_caught_up(socket)
    answer = await database_sync_to_async(post_logout)(logout_token(sso))
    assert answer.status_code == 200
    for socket in sockets:
        assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
    live = await database_sync_to_async(Device.objects.filter(revoked_at__isnull=True).count)()
    assert live == 0


@pytest.mark.parametrize(
    "wrong",
    [
        pytest.param({"aud": "someone-else"}, id="wrong audience"),
        pytest.param({"iss": "http://127.0.0.1:9/elsewhere"}, id="wrong issuer"),
        pytest.param({"events": {}}, id="no logout event"),
        pytest.param({"nonce": "n"}, id="a nonce"),
        pytest.param({"sub": ""}, id="neither sub nor sid"),
    ],
)
def test_a_logout_token_with_a_claim_wrong_ends_nothing(
    sso: OidcProvider, omar: Person, wrong: dict[str, Any]
) -> None:
    factories.make_device(omar)
    SsoIdentity.objects.create(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    assert post_logout(logout_token(sso, **wrong)).status_code == 400
    assert Device.objects.filter(revoked_at__isnull=True).count() == 1


def test_a_logout_token_signed_by_another_key_ends_nothing(sso: OidcProvider, omar: Person) -> None:
    factories.make_device(omar)
    SsoIdentity.objects.create(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    forged = signing_key(sso.keys[0]["kid"])
    assert post_logout(logout_token(sso, key=forged)).status_code == 400
    assert Device.objects.filter(revoked_at__isnull=True).count() == 1


def test_an_operator_grants_break_glass_from_the_command_line_with_a_reason(
    sso: OidcProvider, omar: Person
) -> None:
    SsoIdentity.objects.create(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    assert password_sign_in().status_code == 403
    out = StringIO()
    call_command("allow_break_glass", "omar.haddad", "--reason", "CIS2 outage", stdout=out)
    assert "may sign in with their password until" in out.getvalue()
    assert password_sign_in().status_code == 201
    grant = SignInRecord.objects.get(method=SignInMethod.BREAK_GLASS_ALLOWED)
    assert grant.detail["reason"] == "CIS2 outage"


def test_break_glass_is_refused_for_someone_not_linked(omar: Person) -> None:
    with pytest.raises(CommandError, match="not linked"):
        call_command("allow_break_glass", "omar.haddad", "--reason", "test")


# The account checked at the provider while the device is signed in.


def signed_in_device(browser: Client, provider: OidcProvider) -> Device:
    answer = exchange(browser, sign_in(browser, provider))
    assert answer.status_code == 201
    return Device.objects.get(pk=answer.json()["device"]["id"])


def after_check_interval(settings: Any) -> Any:
    return timezone.now() + timedelta(minutes=settings.OIDC_CHECK_MINUTES, seconds=1)


@pytest.mark.hazard("HZ-28")
def test_a_device_whose_account_the_provider_disabled_ends_at_the_next_check(
    sso: OidcProvider, omar: Person, settings: Any
) -> None:
    device = signed_in_device(Client(), sso)
    assert device.sso_refresh_token
    sso.set_accounts({"omar-sub": OMAR | {"disabled": True}})
    assert sso_service.check_provider_accounts(now=after_check_interval(settings)) == 1
    device.refresh_from_db()
    assert device.revoked_at is not None
    assert SignInRecord.objects.filter(method=SignInMethod.PROVIDER_LOGOUT).exists()


def test_a_device_whose_account_is_still_good_is_kept_with_its_renewed_token(
    sso: OidcProvider, omar: Person, settings: Any
) -> None:
    device = signed_in_device(Client(), sso)
    first = unseal(device.sso_refresh_token)
    assert sso_service.check_provider_accounts(now=timezone.now()) == 0  # not due yet
    assert sso_service.check_provider_accounts(now=after_check_interval(settings)) == 0
    device.refresh_from_db()
    assert device.revoked_at is None
    # The provider rotates refresh tokens: the old one would now be refused as reused.
    assert unseal(device.sso_refresh_token) not in ("", first)


@pytest.mark.hazard("HZ-28")
def test_a_provider_that_does_not_answer_ends_no_device(
    sso: OidcProvider, omar: Person, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = signed_in_device(Client(), sso)

    def unreachable(refresh_token: str) -> str:
        raise ConnectionError("no route to host")

    monkeypatch.setattr(sso_module, "renew", unreachable)
    assert sso_service.check_provider_accounts(now=after_check_interval(settings)) == 0
    device.refresh_from_db()
    assert device.revoked_at is None


@pytest.mark.hazard("HZ-28")
def test_a_provider_refusing_most_accounts_at_once_ends_none(
    settings: Any, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    for n in range(sso_service.MASS_REFUSAL_LEAST):
        device, _ = factories.make_device(factories.make_person(f"doctor.{n}"))
        Device.objects.filter(pk=device.pk).update(
            sso_refresh_token=seal("rt"), sso_checked_at=now - timedelta(hours=1)
        )

    def refused(refresh_token: str) -> str:
        raise sso_module.RenewalRefused("invalid_grant")

    monkeypatch.setattr(sso_module, "renew", refused)
    assert sso_service.check_provider_accounts(now=now) == 0
    assert not Device.objects.filter(revoked_at__isnull=False).exists()


def test_bleep_can_prove_itself_to_the_provider_with_a_private_key_jwt(
    tmp_path: Path, settings: Any, omar: Person
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "bleep-client.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = RSAKey.import_key(key.public_key()).as_dict() | {"use": "sig", "alg": "RS256"}
    provider = OidcProvider(
        tmp_path,
        redirect_uris=[CALLBACK],
        client_extra={
            "client_secret": None,
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "RS256",
            "jwks": {"keys": [public]},
        },
    ).start()
    try:
        settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID = provider.issuer, CLIENT_ID
        settings.OIDC_CLIENT_SECRET, settings.OIDC_PRIVATE_KEY_FILE = "", str(pem)
        provider.set_accounts({"omar-sub": OMAR})
        assert exchange(Client(), sign_in(Client(), provider)).status_code == 201
    finally:
        provider.stop()


# The admin.


def admin_callback(browser: Client, provider: OidcProvider, monkeypatch: Any, **claims: Any) -> Any:
    return callback_with_token(
        browser,
        provider,
        monkeypatch,
        lambda nonce: id_token(provider, nonce, **claims),
        start_at="/auth/sso/start?to=admin",
    )


def test_an_administrator_checked_with_two_factors_at_the_provider_opens_the_admin(
    sso: OidcProvider, omar: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    Person.objects.filter(pk=omar.pk).update(is_staff=True, is_superuser=True)
    browser = Client()
    assert browser.get("/admin/").status_code == 302  # to the admin's sign-in page
    answer = admin_callback(browser, sso, monkeypatch, amr=["pwd", "mfa"])
    assert (answer.status_code, answer["Location"]) == (302, "/admin/")
    assert browser.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    ("staff", "claims", "says"),
    [
        pytest.param(True, {"amr": ["pwd"]}, b"two-factor", id="one factor"),
        pytest.param(True, {}, b"two-factor", id="no amr or acr"),
        pytest.param(False, {"amr": ["mfa"]}, b"administrators only", id="not staff"),
    ],
)
def test_the_admin_stays_shut_to_single_sign_on_without_two_factors_or_staff(
    sso: OidcProvider,
    omar: Person,
    monkeypatch: pytest.MonkeyPatch,
    staff: bool,
    claims: dict[str, Any],
    says: bytes,
) -> None:
    Person.objects.filter(pk=omar.pk).update(is_staff=staff, is_superuser=staff)
    browser = Client()
    answer = admin_callback(browser, sso, monkeypatch, **claims)
    assert answer.status_code == 403
    assert says in answer.content
    assert browser.get("/admin/").status_code == 302


def test_cis2_assurance_levels_count_as_two_factors_when_configured(settings: Any) -> None:
    settings.OIDC_ADMIN_MFA = ["AAL3_ANY", "AAL2_OR_AAL3_ANY"]
    assert sso_service.shows_two_factors({"acr": "AAL3_ANY"})
    assert not sso_service.shows_two_factors({"acr": "AAL1_USERPASS"})


def test_the_admins_password_form_refuses_someone_linked_to_single_sign_on(
    sso: OidcProvider, omar: Person
) -> None:
    Person.objects.filter(pk=omar.pk).update(is_staff=True, is_superuser=True)
    SsoIdentity.objects.create(
        person=omar, issuer=sso.issuer, subject="omar-sub", linked_at=timezone.now()
    )
    browser = Client()
    page = browser.get("/admin/login/")
    assert b"Sign in with NHS Care Identity" in page.content
    answer = browser.post(
        "/admin/login/", {"username": "omar.haddad", "password": factories.PASSWORD}
    )
    assert b"Password sign-in is off for this account" in answer.content


@pytest.mark.hazard("HZ-28")
def test_an_email_two_bleep_accounts_share_links_neither(sso: OidcProvider, omar: Person) -> None:
    factories.make_person("omar.haddad2", email="omar.haddad@example.nhs.uk")
    answer = sign_in(Client(), sso)
    assert answer.status_code == 403
    assert b"more than one Bleep account" in answer.content
    assert not SsoIdentity.objects.exists()


@pytest.mark.hazard("HZ-28")
def test_a_sign_in_due_to_end_inside_a_shift_given_since_is_moved_past_it(
    omar: Person,
) -> None:
    now = timezone.now()
    device, token = factories.make_device(omar)
    Device.objects.filter(pk=device.pk).update(sso_ends_at=now + timedelta(minutes=5))
    shift = factories.make_shift(factories.make_role(), omar, start=now - timedelta(hours=2))
    assert sso_service.keep_through_shifts(now=now) == 1
    device.refresh_from_db()
    assert device.sso_ends_at == shift.end
    authenticate_device(token=token, now=now + timedelta(minutes=30))


def test_a_job_can_come_from_cis2s_national_rbac_role_codes(settings: Any) -> None:
    settings.OIDC_JOB_CLAIM = "nhsid_nrbac_roles.role_code"
    settings.OIDC_JOB_MAP = {"R8001": "nurse", "R8000": "doctor"}
    roles = [{"org_code": "RX1", "role_code": "S8000:G8000:R8000"}]
    assert sso_service.job_from_claims({"nhsid_nrbac_roles": roles}) == "doctor"
    assert sso_service.job_from_claims({"nhsid_nrbac_roles": [{"role_code": "R5080"}]}) is None


def test_a_job_can_come_from_entra_group_ids(settings: Any) -> None:
    nurses = "4f8e2c1a-0b6d-4e39-9a51-2d7f3c8b9e10"
    settings.OIDC_JOB_MAP = {nurses: "nurse"}
    assert sso_service.job_from_claims({"groups": ["other", nurses]}) == "nurse"
    assert sso_service.job_from_claims({"groups": nurses}) == "nurse"


def test_nobody_signs_in_as_an_integrating_systems_account(
    sso: OidcProvider, settings: Any, db: None
) -> None:
    create_client(
        client_id="patientrack",
        name="Patientrack",
        scopes=["system/PractitionerRole.read"],
        now=timezone.now(),
    )
    settings.OIDC_MATCH_CLAIM, settings.OIDC_MATCH_FIELD = "preferred_username", "username"
    sso.set_accounts({"intruder": {"preferred_username": "system.patientrack"}})
    assert sign_in(Client(), sso, "intruder").status_code == 403
    assert not SsoIdentity.objects.exists()
