"""Checks on what a sender types and a device registers, kept apart so the API, the socket
and the services use the same ones."""

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from messaging.exceptions import InvalidPushSubscription
from messaging.models import PushSubscription

P256DH_BYTES = 65  # an uncompressed P-256 point (RFC 8291 section 3.1)
AUTH_SECRET_BYTES = 16  # RFC 8291 section 3.2
HTTPS_PORT = 443
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
# Host, optional port, and nothing else: no user name, no characters that parsers disagree on.
NETLOC = re.compile(r"[A-Za-z0-9.:\[\]-]+")
# NHS number weights for the first nine digits (NHS Data Dictionary, "NHS Number").
NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
NHS_DIGITS = 10


def is_valid_nhs_number(value: str) -> bool:
    """Return whether `value` is ten digits whose last is the Modulus 11 check digit."""
    digits = value.replace(" ", "")
    if len(digits) != NHS_DIGITS or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    # A remainder giving 10 means no valid number has these first nine digits.
    return check != 10 and check == int(digits[9])


def check_push_endpoint(endpoint: str) -> str:
    """Return `endpoint` if it is https on an allowed push-service host, else raise."""

    def refuse(why: str) -> InvalidPushSubscription:
        return InvalidPushSubscription(field="endpoint", message=why)

    if len(endpoint) > PushSubscription.ENDPOINT_MAX_LENGTH:
        raise refuse(f"longer than {PushSubscription.ENDPOINT_MAX_LENGTH} characters")
    if not endpoint.isprintable() or " " in endpoint:
        raise refuse("must not contain spaces or control characters")
    try:
        url = urlsplit(endpoint)
        port = HTTPS_PORT if url.port is None else url.port
    except ValueError:
        raise refuse("not a URL") from None
    if url.scheme != "https":
        raise refuse("must be an https URL")
    if "@" in url.netloc:
        raise refuse("must not carry a user name or password")
    if not NETLOC.fullmatch(url.netloc) or not url.hostname:
        raise refuse("must name a host")
    # Anyone signed in chooses this URL and the server POSTs to it: only known push
    # services, or a login could make the server reach internal addresses (SSRF).
    if not _host_allowed(url.hostname, port):
        raise refuse(f"{url.hostname} is not a known push service")
    return endpoint


def check_p256dh(value: str) -> str:
    """Return the browser's public key, unpadded, if it is an uncompressed P-256 point."""
    raw = _decode(value, field="keys.p256dh", length=P256DH_BYTES)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise InvalidPushSubscription(
            field="keys.p256dh", message="not a point on the P-256 curve"
        ) from None
    return _encode(raw)


def check_auth_secret(value: str) -> str:
    """Return the browser's auth secret, unpadded, if it is 16 bytes of base64url."""
    return _encode(_decode(value, field="keys.auth", length=AUTH_SECRET_BYTES))


def _host_allowed(host: str, port: int) -> bool:
    is_ip = _is_ip(host)
    for entry in settings.PUSH_HOSTS:
        allowed = urlsplit(f"//{entry}")
        allowed_host = allowed.hostname or ""
        if port != (HTTPS_PORT if allowed.port is None else allowed.port):
            continue
        if host == allowed_host:
            return True
        # An IP literal is allowed only when named exactly, never by a wildcard.
        if allowed_host.startswith("*.") and not is_ip and host.endswith(allowed_host[1:]):
            return True
    return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _decode(value: str, *, field: str, length: int) -> bytes:
    if not BASE64URL.fullmatch(value):
        raise InvalidPushSubscription(field=field, message="not base64url")
    try:
        raw = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise InvalidPushSubscription(field=field, message="not base64url") from None
    if len(raw) != length:
        raise InvalidPushSubscription(field=field, message=f"must be {length} bytes")
    return raw


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
