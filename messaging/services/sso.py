"""Single sign-on: who the provider's answer is, a code for the app to exchange for a device
token, back-channel logout, and break-glass password sign-in (docs/sso.md).

The checks of the provider's answer itself (state, PKCE, the ID token) are in messaging.sso;
everything here starts from a ProviderSignIn that passed them.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import BaseUserManager
from django.db import transaction

from bleep.tokens import digest_token, new_token, seal, unseal
from messaging import sso
from messaging.exceptions import SsoHandoffInvalid, SsoRefused
from messaging.models import Device, SignInMethod, SignInRecord, SsoHandoff, SsoIdentity
from messaging.services.devices import register_device, revoke_device
from messaging.sso import ProviderLogout, ProviderSignIn
from rota.models import Person, Shift

logger = logging.getLogger(__name__)

HANDOFF_LIFETIME = timedelta(minutes=1)
# Shifts back to back are followed this many times at most when moving a device's end
# past the shifts its person holds.
SHIFT_CHAIN_LIMIT = 10
# How far ahead the worker looks for provider sessions about to end inside a shift; it
# looks every minute, so a session is always moved well before it ends.
KEEP_LOOKAHEAD = timedelta(minutes=10)


def identify(sign_in: ProviderSignIn, *, now: datetime) -> SsoIdentity:
    """Return the identity the provider's answer stands for, linking or creating it.

    Linked before: found by the provider's `sub`. Not yet: found by OIDC_MATCH_CLAIM's value
    against OIDC_MATCH_FIELD (one person exactly), then linked, so the `sub` finds them from
    then on. Nobody matched: refused, unless OIDC_CREATE_PEOPLE, when a person is created
    with the job OIDC_JOB_MAP gives their claims, and refused if it gives none.
    """
    identity = (
        SsoIdentity.objects.select_related("person")
        .filter(issuer=sign_in.issuer, subject=sign_in.subject)
        .first()
    )
    if identity is None:
        with transaction.atomic():
            person = _match(sign_in) or _create(sign_in)
            if SsoIdentity.objects.filter(person=person).exists():
                raise SsoRefused(
                    "your Bleep account is linked to another account at the identity "
                    "provider: ask your rota manager"
                )
            identity = SsoIdentity.objects.create(
                person=person, issuer=sign_in.issuer, subject=sign_in.subject, linked_at=now
            )
        logger.info("single sign-on linked %r to its provider account", person.username)
    if not identity.person.is_active:
        raise SsoRefused("your Bleep account is disabled: ask your rota manager")
    return identity


def _match(sign_in: ProviderSignIn) -> Person | None:
    value = sign_in.claims.get(settings.OIDC_MATCH_CLAIM)
    if not isinstance(value, str) or not value.strip():
        return None
    if settings.OIDC_MATCH_CLAIM == "email" and sign_in.claims.get("email_verified") is False:
        # An address the provider has not verified is anyone's to type.
        return None
    # An integrating system's account is nobody's to sign in as.
    people = list(
        Person.objects.filter(**{f"{settings.OIDC_MATCH_FIELD}__iexact": value.strip()}).exclude(
            job=Person.Job.SYSTEM
        )[:2]
    )
    if len(people) > 1:
        raise SsoRefused(
            f"more than one Bleep account has this {settings.OIDC_MATCH_FIELD}: ask your rota "
            "manager to link yours"
        )
    return people[0] if people else None


def shows_two_factors(claims: dict[str, object]) -> bool:
    """Whether the provider says it checked two factors: its `acr`, or one of its `amr`,
    is among OIDC_ADMIN_MFA."""
    wanted = set(settings.OIDC_ADMIN_MFA)
    amr = claims.get("amr")
    methods = {m for m in amr if isinstance(m, str)} if isinstance(amr, list) else set()
    return claims.get("acr") in wanted or bool(methods & wanted)


def admit_to_admin(*, person: Person, claims: dict[str, object], now: datetime) -> None:
    """Refuse the admin to someone not an administrator, or whom the provider did not check
    with two factors (the admin's password sign-in asks for an authenticator code too);
    record an admission in the sign-in audit trail."""
    if not (person.is_staff and person.is_active):
        raise SsoRefused("the admin is for Bleep's administrators only")
    if not shows_two_factors(claims):
        raise SsoRefused(
            "the admin needs two-factor sign-in: sign in at the identity provider with two "
            "factors, or with your password and authenticator code"
        )
    SignInRecord.objects.create(
        person=person, method=SignInMethod.SSO, at=now, detail={"to": "admin"}
    )


def job_from_claims(claims: dict[str, object]) -> str | None:
    """Return the job OIDC_JOB_MAP gives the values of OIDC_JOB_CLAIM, the first entry of
    the map that matches; None if none does. No job is ever read from a claim unmapped.

    The claim may be a string, a list of strings (Entra ID's `groups`), or a list of objects
    with the field named after a dot (CIS2's `nhsid_nrbac_roles.role_code`); a value such as
    `S8000:G8000:R8000` matches an entry for the whole or for any of its parts.
    """
    values = _claim_values(claims, settings.OIDC_JOB_CLAIM)
    for value, job in settings.OIDC_JOB_MAP.items():
        if value in values:
            return str(job)
    return None


def _claim_values(claims: dict[str, object], path: str) -> set[str]:
    name, _, field = path.partition(".")
    raw = claims.get(name)
    items = raw if isinstance(raw, list) else [raw]
    values: set[str] = set()
    for item in items:
        if field and isinstance(item, dict):
            item = item.get(field)
        if isinstance(item, str):
            values |= {item, *item.split(":")}
    return values


def _create(sign_in: ProviderSignIn) -> Person:
    if not settings.OIDC_CREATE_PEOPLE:
        raise SsoRefused(
            "Bleep has no account for you yet: ask your rota manager to add you, with the "
            "email address your organisation's account has"
        )
    job = job_from_claims(sign_in.claims)
    if job is None:
        raise SsoRefused(
            "your organisation's account has no role Bleep knows: ask your rota manager"
        )
    claims = sign_in.claims
    email = claims.get("email") if claims.get("email_verified") is not False else ""
    username = _free_username(str(claims.get("preferred_username") or email or sign_in.subject))
    person = Person(
        username=username,
        email=BaseUserManager.normalize_email(str(email or "")),
        display_name=str(claims.get("name") or "")[:120],
        job=job,
    )
    person.set_unusable_password()
    person.save()
    logger.warning("single sign-on created %r as %s", username, job)
    return person


def _free_username(wanted: str) -> str:
    base = wanted.strip()[:140] or "person"
    candidate, n = base, 1
    while Person.objects.filter(username__iexact=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def issue_handoff(
    *, identity: SsoIdentity, session_id: str, now: datetime, refresh_token: str = ""
) -> str:
    """Return a single-use code, good for HANDOFF_LIFETIME, that the app exchanges for a
    device token (`redeem_handoff`); only its digest is stored."""
    code = new_token()
    SsoHandoff.objects.create(
        code_digest=digest_token(code),
        identity=identity,
        session_id=session_id[:255],
        refresh_token=seal(refresh_token),
        created_at=now,
        expires_at=now + HANDOFF_LIFETIME,
    )
    return code


def redeem_handoff(*, code: str, device_name: str, now: datetime) -> tuple[Device, str]:
    """Sign in a new device for the person a handoff code stands for; return it with its
    token (shown once). The code works once, within a minute. Owns its transaction."""
    with transaction.atomic():
        handoff = (
            SsoHandoff.objects.select_for_update()
            .select_related("identity__person")
            .filter(code_digest=digest_token(code), used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if handoff is None or not handoff.identity.person.is_active:
            raise SsoHandoffInvalid()
        person = handoff.identity.person
        device, token = register_device(person=person, device_name=device_name, now=now)
        device.sso_session_id = handoff.session_id
        device.sso_ends_at = sso_session_end(person=person, now=now)
        device.sso_refresh_token, device.sso_checked_at = handoff.refresh_token, now
        fields = ["sso_session_id", "sso_ends_at", "sso_refresh_token", "sso_checked_at"]
        device.save(update_fields=fields)
        handoff.refresh_token = ""
        handoff.used_at, handoff.device = now, device
        handoff.save(update_fields=["used_at", "device", "refresh_token"])
        SignInRecord.objects.create(
            person=person, method=SignInMethod.SSO, at=now, device=device, detail={}
        )
    return device, token


def sso_session_end(*, person: Person, now: datetime) -> datetime:
    """Return when a device signed in now through the provider must sign in there again:
    OIDC_REAUTH_HOURS on, moved past any shift its person holds then, so nobody is asked
    to sign in mid-shift (with a bleep open); the check before each shift warns of it."""
    return _past_shifts(person.pk, now + timedelta(hours=settings.OIDC_REAUTH_HOURS))


def _past_shifts(person_id: int, end: datetime) -> datetime:
    """Return `end`, or the end of the shifts back to back that `person_id` holds then."""
    for _ in range(SHIFT_CHAIN_LIMIT):
        covering = (
            Shift.objects.filter(person_id=person_id, start__lte=end, end__gt=end)
            .order_by("-end")
            .values_list("end", flat=True)
            .first()
        )
        if covering is None:
            break
        end = covering
    return end


def keep_through_shifts(*, now: datetime) -> int:
    """Move past their person's shifts the provider sessions of devices ending within
    KEEP_LOOKAHEAD: the rota may have given them a shift since they signed in. Return how
    many moved. Run by the worker every minute, before expired devices are ended."""
    due = Device.objects.filter(
        revoked_at__isnull=True, sso_ends_at__gt=now, sso_ends_at__lte=now + KEEP_LOOKAHEAD
    ).values_list("pk", "user_id", "sso_ends_at")
    moved = 0
    for pk, person_id, ends_at in due:
        assert ends_at is not None  # filtered on above
        later = _past_shifts(person_id, ends_at)
        if later != ends_at:
            Device.objects.filter(pk=pk, sso_ends_at=ends_at).update(sso_ends_at=later)
            moved += 1
    return moved


def log_out_from_provider(*, logout: ProviderLogout, issuer: str, now: datetime) -> int:
    """End every device of the person the provider signed out (by `sub`, or by the
    devices of its session `sid`), closing their sockets; return how many ended."""
    people = set(
        SsoIdentity.objects.filter(issuer=issuer, subject=logout.subject).values_list(
            "person_id", flat=True
        )
        if logout.subject
        else []
    )
    if logout.session_id:
        people |= set(
            Device.objects.filter(
                sso_session_id=logout.session_id, user__sso_identity__issuer=issuer
            ).values_list("user_id", flat=True)
        )
    ended = 0
    with transaction.atomic():
        live = Device.objects.filter(user_id__in=people, revoked_at__isnull=True)
        for device in live.select_for_update():
            revoke_device(device=device, now=now)
            ended += 1
        for person_id in people:
            SignInRecord.objects.create(
                person_id=person_id,
                method=SignInMethod.PROVIDER_LOGOUT,
                at=now,
                detail={"devices_ended": ended},
            )
    return ended


def allow_break_glass(*, person: Person, until: datetime, reason: str, now: datetime) -> None:
    """Let `person`, linked to single sign-on, sign in with their password until `until`
    (the provider is down, say); recorded in the sign-in audit trail with `reason`."""
    with transaction.atomic():
        updated = SsoIdentity.objects.filter(person=person).update(break_glass_until=until)
        if not updated:
            raise SsoRefused(f"{person.username} is not linked to single sign-on")
        SignInRecord.objects.create(
            person=person,
            method=SignInMethod.BREAK_GLASS_ALLOWED,
            at=now,
            detail={"until": until.isoformat(), "reason": reason},
        )
    logger.warning("break-glass password sign-in allowed for %r until %s", person.username, until)


# A round of checks that finds most accounts refused is the provider's fault (a restored
# backup, a new client secret), not a night of disabled doctors: it ends nobody.
MASS_REFUSAL_LEAST = 4


def check_provider_accounts(*, now: datetime, limit: int = 200) -> int:
    """Renew, at the provider, the refresh token of each device signed in there and not
    checked for OIDC_CHECK_MINUTES; a refusal (the account disabled or signed out there)
    ends every device of that person and closes their sockets. Return how many ended.

    The provider unreachable ends nothing: an outage there must not sign out the doctors on
    call. Most of a round refused ends nothing either (MASS_REFUSAL_LEAST), and says so.
    """
    due = list(
        Device.objects.filter(
            revoked_at__isnull=True,
            sso_checked_at__lte=now - timedelta(minutes=settings.OIDC_CHECK_MINUTES),
        )
        .exclude(sso_refresh_token="")
        .order_by("sso_checked_at")[:limit]
    )
    refused: list[Device] = []
    for device in due:
        try:
            kept = sso.renew(unseal(device.sso_refresh_token))
        except sso.RenewalRefused:
            refused.append(device)
            continue
        except Exception:
            logger.warning("the identity provider could not be asked about a device; kept it")
            kept = unseal(device.sso_refresh_token)
        Device.objects.filter(pk=device.pk).update(sso_refresh_token=seal(kept), sso_checked_at=now)
    if len(refused) >= MASS_REFUSAL_LEAST and len(refused) * 2 > len(due):
        logger.error(
            "the identity provider refused %d of %d renewals at once; ended none (check its "
            "client settings)",
            len(refused),
            len(due),
        )
        Device.objects.filter(pk__in=[d.pk for d in refused]).update(sso_checked_at=now)
        return 0
    ended = 0
    for person_id in {device.user_id for device in refused}:
        with transaction.atomic():
            live = Device.objects.filter(user_id=person_id, revoked_at__isnull=True)
            count = 0
            for device in live.select_for_update():
                revoke_device(device=device, now=now)
                count += 1
            SignInRecord.objects.create(
                person_id=person_id,
                method=SignInMethod.PROVIDER_LOGOUT,
                at=now,
                detail={"devices_ended": count, "why": "the provider refused to renew"},
            )
        ended += count
    return ended
