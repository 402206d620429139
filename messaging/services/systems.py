"""Integrating systems: created and revoked by a superuser, and signing in with the OAuth 2.0
client credentials grant for an hour's access token (docs/fhir.md).

The grant is written here rather than with Authlib's authorization server: that server is
built around clients with redirect URIs and keeps access tokens as they are, and a client
credentials grant with tokens stored as digests is these few functions.
"""

import hmac
import logging
import re
from datetime import datetime, timedelta

from django.db import transaction

from bleep.tokens import digest_token, new_token
from messaging.exceptions import InvalidToken, SystemClientRefused
from messaging.models import SystemClient, SystemScope, SystemToken
from rota.models import Person

logger = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(hours=1)
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_client(
    *, client_id: str, name: str, scopes: list[str], now: datetime
) -> tuple[SystemClient, str]:
    """Create an integrating system's client and its account; return it with its secret
    (shown once). `name` is how recipients see it ("Patientrack (observations)")."""
    secret = new_token()
    with transaction.atomic():
        check_client(client_id=client_id, name=name, scopes=scopes)
        person = Person(
            username=f"system.{client_id}", display_name=name.strip()[:120], job=Person.Job.SYSTEM
        )
        person.set_unusable_password()
        person.save()
        client = SystemClient.objects.create(
            person=person,
            client_id=client_id,
            secret_digest=digest_token(secret),
            scopes=sorted(set(scopes)),
            created_at=now,
        )
    logger.warning("integrating system %r created with %s", client_id, ", ".join(client.scopes))
    return client, secret


def check_client(*, client_id: str, name: str, scopes: list[str]) -> None:
    """Refuse a new client's settings that are wrong (SystemClientRefused), before anything
    is made: the command and the admin's form both ask here."""
    unknown = sorted(set(scopes) - set(SystemScope.values))
    if unknown:
        raise SystemClientRefused(f"unknown scopes: {', '.join(unknown)}")
    if not scopes:
        raise SystemClientRefused("give the client at least one scope")
    if not _CLIENT_ID.match(client_id):
        raise SystemClientRefused("a client id is 2 to 63 lower-case letters, digits and dashes")
    if not name.strip():
        raise SystemClientRefused("give the system a name its bleeps are shown with")
    if Person.objects.filter(username=f"system.{client_id}").exists():
        raise SystemClientRefused(f"a client {client_id} exists already")


def revoke_client(*, client: SystemClient, now: datetime) -> SystemClient:
    """Stop a client: its tokens stop working at once and it gets no new ones."""
    with transaction.atomic():
        client.revoked_at = client.revoked_at or now
        client.save(update_fields=["revoked_at"])
        SystemToken.objects.filter(client=client).delete()
    logger.warning("integrating system %r revoked", client.client_id)
    return client


def issue_token(
    *, client_id: str, secret: str, scope: str, now: datetime
) -> tuple[str, SystemToken]:
    """Check a client's credentials and return a new access token (shown once) with the
    scopes asked for (all the client's if none), or raise SystemClientRefused."""
    client = SystemClient.objects.filter(client_id=client_id, revoked_at__isnull=True).first()
    # Compared in constant time, and a digest compared even for an unknown client, so the
    # answer's timing does not say which client ids exist.
    expected = client.secret_digest if client else digest_token(new_token())
    if not hmac.compare_digest(expected, digest_token(secret)) or client is None:
        raise SystemClientRefused("invalid_client")
    asked = set(scope.split()) if scope.strip() else set(client.scopes)
    if not asked <= set(client.scopes):
        raise SystemClientRefused("invalid_scope")
    token = new_token()
    issued = SystemToken.objects.create(
        client=client,
        token_digest=digest_token(token),
        scopes=sorted(asked),
        created_at=now,
        expires_at=now + TOKEN_LIFETIME,
    )
    return token, issued


def authenticate_system(*, token: str, now: datetime) -> SystemToken:
    """Return the live access token `token` is, with its client and account, or raise
    InvalidToken."""
    issued = (
        SystemToken.objects.select_related("client__person")
        .filter(token_digest=digest_token(token), expires_at__gt=now)
        .filter(client__revoked_at__isnull=True, client__person__is_active=True)
        .first()
    )
    if issued is None:
        raise InvalidToken()
    return issued
