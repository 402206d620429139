"""Read Bleep's configuration from the environment, with the embedded default filled in."""

import base64
import re
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import environ
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured
from py_vapid import Vapid, VapidException

# A raw VAPID private key (as `web-push generate-vapid-keys` prints it) is one P-256 scalar.
RAW_VAPID_KEY_BYTES = 32
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# The real push services of Chrome and other Chromium browsers, Firefox, Edge and Safari.
DEFAULT_PUSH_HOSTS = [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "*.push.apple.com",
]
# A push-service host name, `*.` and a suffix, or an IP address; each with an optional port.
PUSH_HOST = re.compile(r"(\*\.)?[a-z0-9.-]+(:\d+)?|\[[0-9a-f:.]+\](:\d+)?")


class ConfigurationError(ImproperlyConfigured):
    """Start-up cannot go on; the message says which variable to set."""


def client_address_settings(trusted_proxies: int) -> tuple[list[str], int | None]:
    """Return axes' ipware header order and proxy count for `trusted_proxies` proxies in front.

    With none, the client is the socket peer and X-Forwarded-For is ignored: anyone can
    write it. With N proxies of our own, each appending the address it saw, the client is
    the entry the outermost one appended, N-th from the right; anything to its left the
    client wrote itself, so a rotating header changes nothing. ipware counts the proxies
    named in the header, one fewer than N (the last proxy is the socket peer), and falls
    back to the socket peer when the header is missing or shorter.
    """
    if trusted_proxies == 0:
        return ["REMOTE_ADDR"], None
    return ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"], trusted_proxies - 1


def read_or_create_secret(path: Path) -> str:
    """Return the secret kept at `path`, generating it on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def read_or_create_vapid_key(path: Path) -> str:
    """Return the PEM of the VAPID private key kept at `path`, generating it on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path.read_text()


def load_vapid_key(text: str) -> ec.EllipticCurvePrivateKey:
    """Return the VAPID private key from a PEM or a base64url raw P-256 key, or stop start-up."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        elif BASE64URL.fullmatch(text):
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) != RAW_VAPID_KEY_BYTES:
                raise ValueError("a raw key is 32 bytes")
            key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:
            raise ValueError("neither PEM nor base64url")
    except (ValueError, TypeError) as error:
        raise ConfigurationError(
            "VAPID_PRIVATE_KEY is neither a PEM nor a base64url raw key; set it to the output "
            "of `vapid --gen` or unset it for the embedded default"
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError("VAPID_PRIVATE_KEY must be an EC P-256 private key")
    return key


def vapid_public_key(private_key: str) -> str:
    """Return the application server key a browser passes to `pushManager.subscribe`."""
    raw = (
        load_vapid_key(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def check_vapid_subject(subject: str, private_key: str) -> str:
    """Return the VAPID subject if the signing library accepts it, or stop start-up."""
    # Signing once here applies py_vapid's own rule, so a subject it would refuse stops
    # start-up instead of failing every push in the middle of the night.
    claims = {"sub": subject, "aud": "https://push.invalid", "exp": int(time.time()) + 60}
    try:
        Vapid(private_key=load_vapid_key(private_key)).sign(claims)
    except VapidException as error:
        raise ConfigurationError(
            "set VAPID_SUBJECT to mailto:someone@your.hospital or an https:// URL "
            "(the contact push services see)"
        ) from error
    return subject


def check_push_hosts(entries: list[str]) -> list[str]:
    """Return the push-service allowlist in lower case, or stop on an entry that is not a host."""
    hosts = [entry.strip().lower() for entry in entries if entry.strip()]
    for host in hosts:
        if not PUSH_HOST.fullmatch(host) or not _has_valid_port(host):
            raise ConfigurationError(
                f"PUSH_HOSTS: {host!r} is not a host name, *.suffix or host:port"
            )
    return hosts


def check_ca_bundle(path: str) -> str | None:
    """Return the CA bundle path if set and readable, None if unset, or stop start-up."""
    if path and not Path(path).is_file():
        raise ConfigurationError(f"PUSH_CA_BUNDLE: no such file {path}")
    return path or None


def _has_valid_port(host: str) -> bool:
    try:
        port = urlsplit(f"//{host}").port
    except ValueError:
        return False
    return port is None or port > 0


def whole_number(env: environ.Env, name: str, default: int, *, least: int) -> int:
    """Read a whole-number setting, stopping start-up with one line if it is not one >= `least`."""
    try:
        value = env.int(name, default=default)
    except ValueError:
        value = least - 1
    if value < least:
        raise ConfigurationError(f"set {name} to a whole number, {least} or more")
    return value


def check_send_limits(per_minute: int, burst: int) -> None:
    """Stop start-up if a sender's burst allows more than their minute does."""
    if burst > per_minute:
        raise ConfigurationError("set SEND_LIMIT_BURST to no more than SEND_LIMIT_PER_MINUTE")


def required(env: environ.Env, name: str, why: str) -> str:
    """Return a variable that has no default here, or stop with one line naming it."""
    value = env.str(name, default="")
    if not value:
        raise ConfigurationError(f"set {name} ({why})")
    return value


# GOV.UK Notify's API keys end in the service id and the secret, two UUIDs of 36 characters.
NOTIFY_KEY_TAIL = 73
FALLBACK_KINDS = ("sms", "pager")


def check_channels(*, notify_key: str, notify_template: str, wctp_url: str) -> None:
    """Stop start-up on a Notify key or pager gateway address that could never work."""
    if notify_key:
        if len(notify_key) < NOTIFY_KEY_TAIL + 2 or notify_key[-NOTIFY_KEY_TAIL - 1] != "-":
            raise ConfigurationError(
                "set NOTIFY_API_KEY to a GOV.UK Notify API key (name-service id-secret)"
            )
        if not notify_template:
            raise ConfigurationError(
                "set NOTIFY_SMS_TEMPLATE_ID to the id of a text message template whose "
                "content is ((message))"
            )
    if wctp_url and urlsplit(wctp_url).scheme not in {"http", "https"}:
        raise ConfigurationError("set WCTP_URL to the pager gateway's http(s) address")


def check_fallback_order(kinds: list[str]) -> list[str]:
    """Return the fallback order, stopping start-up on a channel Bleep does not know."""
    unknown = sorted(set(kinds) - set(FALLBACK_KINDS))
    if unknown or len(set(kinds)) != len(kinds):
        raise ConfigurationError(
            f"set FALLBACK_ORDER to one or both of {', '.join(FALLBACK_KINDS)}, each once"
        )
    return kinds


# The jobs a person can have (rota.models.Person.Job), which single sign-on may give.
SSO_JOBS = ("nurse", "doctor", "practitioner", "switchboard", "rota_manager", "auditor")
SSO_MATCH_FIELDS = ("email", "username")


def check_sso(*, issuer: str, client_id: str, secret: str, key_file: str, match_field: str) -> None:
    """Stop start-up on single sign-on settings that could never work (docs/sso.md)."""
    if not issuer:
        return
    parts = urlsplit(issuer)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ConfigurationError("set OIDC_ISSUER to the identity provider's https address")
    if not client_id:
        raise ConfigurationError("set OIDC_CLIENT_ID (the client id the provider gave Bleep)")
    if bool(secret) == bool(key_file):
        raise ConfigurationError(
            "set one of OIDC_CLIENT_SECRET and OIDC_PRIVATE_KEY_FILE (private key JWT)"
        )
    if key_file and not Path(key_file).is_file():
        raise ConfigurationError(f"set OIDC_PRIVATE_KEY_FILE to a readable file: {key_file}")
    if match_field not in SSO_MATCH_FIELDS:
        raise ConfigurationError(f"set OIDC_MATCH_FIELD to one of {', '.join(SSO_MATCH_FIELDS)}")


def sso_job_map(entries: list[str]) -> dict[str, str]:
    """Return OIDC_JOB_MAP's `claim value=job` pairs, stopping start-up on a job Bleep lacks."""
    mapping: dict[str, str] = {}
    for entry in entries:
        value, sep, job = entry.rpartition("=")
        if not sep or not value.strip() or job.strip() not in SSO_JOBS:
            raise ConfigurationError(
                f"set OIDC_JOB_MAP to `claim value=job` pairs, each job one of "
                f"{', '.join(SSO_JOBS)} (not {entry!r})"
            )
        mapping[value.strip()] = job.strip()
    return mapping
