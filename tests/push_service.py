"""A push service for tests that speaks the real protocol, over TLS, on localhost.

It checks what a real one checks (RFC 8030 headers, the RFC 8292 VAPID token, RFC 8291
encryption) by its own code rather than the sending library's, records what it received,
and can be told to answer a subscription with 404, 410, 429, 413, 5xx, or not at all.
"""

import base64
import json
import os
import ssl
import sys
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import http_ece
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# RFC 8292 section 2: a token's `exp` must be no more than 24 hours ahead.
VAPID_MAX_LIFETIME = timedelta(hours=24)
# Answer planned instead of a status code: hold the request until the service stops.
STALL = 0
# However long a stalled request is held, at most this (the client has long gone).
STALL_AT_MOST = timedelta(seconds=30)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserSubscription:
    """What `pushManager.subscribe()` makes: an endpoint, a P-256 key pair, an auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(raw)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """Return what the browser's `PushSubscription.toJSON()` returns."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": self.auth},
        }


@dataclass(frozen=True)
class ReceivedPush:
    """One push that passed every protocol check, with what the service answered."""

    endpoint: str
    status: int
    ttl: int
    urgency: str | None
    topic: str | None
    payload: dict[str, Any]
    claims: dict[str, Any]
    # When the request arrived, by the real clock.
    arrived_at: datetime


class ProtocolError(Exception):
    """The request broke the protocol; the service answers 400 or 403 and records why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class PushService:
    """An HTTPS push service on localhost with its own CA, run in a thread."""

    def __init__(self, directory: Path, *, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.ca_path = directory / "push-ca.pem"
        self.subscriptions: dict[str, BrowserSubscription] = {}
        self.plans: dict[str, deque[tuple[int, str | None]]] = defaultdict(deque)
        self.received: list[ReceivedPush] = []
        self.violations: list[str] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        # Requests it is stalling on now, and the most it has stalled on at once.
        self.held = 0
        self.most_held = 0
        context = _tls_context(directory, self.ca_path)
        self.server = _Server(("127.0.0.1", 0), _Handler, service=self, context=context)
        self.host = f"localhost:{self.server.server_address[1]}"
        self.origin = f"https://{self.host}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def subscribe(self) -> BrowserSubscription:
        """Make a new subscription as a browser would; this service accepts pushes to it."""
        subscription = BrowserSubscription(f"{self.origin}/push/{b64url(os.urandom(12))}")
        self.subscriptions[subscription.endpoint] = subscription
        return subscription

    def answer(
        self, subscription: BrowserSubscription, *statuses: int, retry_after: str | None = None
    ) -> None:
        """Answer the next pushes to `subscription` with these statuses (STALL: never), then 201."""
        for status in statuses:
            self.plans[subscription.endpoint].append((status, retry_after))

    def delivered(self) -> list[ReceivedPush]:
        """Return the pushes this service accepted (answered 201), in arrival order."""
        return [push for push in self.received if push.status == 201]

    def stall(self) -> None:
        """Hold a request unanswered until the service stops (or STALL_AT_MOST)."""
        with self.lock:
            self.held += 1
            self.most_held = max(self.most_held, self.held)
        try:
            self.release.wait(STALL_AT_MOST.total_seconds())
        finally:
            with self.lock:
                self.held -= 1

    def check(
        self, endpoint: str, headers: Any, body: bytes, *, arrived_at: datetime
    ) -> ReceivedPush:
        """Check one push as a real push service would; return it decrypted."""
        subscription = self.subscriptions.get(endpoint)
        if subscription is None:
            raise ProtocolError(404, f"no such subscription {endpoint}")
        claims = self.verify_vapid(headers.get("Authorization", ""))
        ttl = headers.get("TTL", "")
        if not ttl.isdigit() or int(ttl) <= 0:
            raise ProtocolError(400, f"TTL must be a positive number of seconds, not {ttl!r}")
        if headers.get("Content-Encoding") != "aes128gcm":
            raise ProtocolError(400, f"Content-Encoding {headers.get('Content-Encoding')!r}")
        try:
            plaintext = http_ece.decrypt(
                body,
                private_key=subscription.private_key,
                auth_secret=subscription.auth_secret,
                version="aes128gcm",
            )
        except (http_ece.ECEException, InvalidTag, ValueError) as error:
            raise ProtocolError(400, f"the body does not decrypt: {error!r}") from None
        return ReceivedPush(
            endpoint=endpoint,
            status=0,
            ttl=int(ttl),
            urgency=headers.get("Urgency"),
            topic=headers.get("Topic"),
            payload=json.loads(plaintext),
            claims=claims,
            arrived_at=arrived_at,
        )

    def verify_vapid(self, authorization: str) -> dict[str, Any]:
        """Return the claims of a valid `vapid t=<jwt>, k=<key>` header, or raise."""
        scheme, _, params = authorization.partition(" ")
        if scheme.lower() != "vapid":
            raise ProtocolError(401, f"Authorization scheme {scheme!r}, not vapid")
        parts = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if parts.get("k") != self.vapid_public_key:
            raise ProtocolError(403, "k is not the key the subscription was made with")
        try:
            header, claims, signature = parts.get("t", "").split(".")
            if json.loads(unb64url(header)) != {"typ": "JWT", "alg": "ES256"}:
                raise ProtocolError(403, "the token is not an ES256 JWT")
            _verify_es256(parts["k"], f"{header}.{claims}".encode(), unb64url(signature))
            return self.check_claims(json.loads(unb64url(claims)))
        except ValueError as error:
            raise ProtocolError(401, f"t is not a JWT: {error}") from None

    def check_claims(self, claims: dict[str, Any]) -> dict[str, Any]:
        if claims.get("aud") != self.origin:
            raise ProtocolError(403, f"aud {claims.get('aud')!r} is not {self.origin}")
        now = time.time()
        if not now < claims.get("exp", 0) <= now + VAPID_MAX_LIFETIME.total_seconds():
            raise ProtocolError(403, f"exp {claims.get('exp')} not within the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ProtocolError(403, f"sub {claims.get('sub')!r} is not mailto: or https:")
        return claims

    def next_answer(self, endpoint: str) -> tuple[int, str | None]:
        with self.lock:
            plan = self.plans[endpoint]
            return plan.popleft() if plan else (201, None)


def _verify_es256(key: str, signed: bytes, signature: bytes) -> None:
    if len(signature) != 64:
        raise ProtocolError(403, "an ES256 signature is 64 bytes")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ProtocolError(403, "the VAPID signature does not verify with k") from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any, service: PushService, context: ssl.SSLContext) -> None:
        super().__init__(*args)
        self.service = service
        self.context = context

    def get_request(self) -> tuple[Any, Any]:
        # The TLS handshake happens in the request's own thread, not in the accept loop.
        sock, address = self.socket.accept()
        wrapped = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Record a failure of this service itself; a client that gave up is not one."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | ssl.SSLError | TimeoutError):
            self.service.violations.append(f"the test push service failed: {error!r}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def do_POST(self) -> None:
        arrived_at = datetime.now(UTC)
        service = self.server.service
        endpoint = f"{service.origin}{self.path}"
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            push = service.check(endpoint, self.headers, body, arrived_at=arrived_at)
        except ProtocolError as error:
            if error.status != 404:
                service.violations.append(str(error))
            self.reply(error.status)
            return
        status, retry_after = service.next_answer(endpoint)
        if status == STALL:
            service.stall()
            return
        with service.lock:
            service.received.append(ReceivedPush(**{**push.__dict__, "status": status}))
        self.reply(status, retry_after=retry_after)

    def reply(self, status: int, *, retry_after: str | None = None) -> None:
        self.send_response(status)
        if status == 201:
            self.send_header("Location", f"{self.server.service.origin}/message/1")
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Length", "0")
        self.end_headers()


def _tls_context(directory: Path, ca_path: Path) -> ssl.SSLContext:
    """Make a CA and a certificate for localhost signed by it; return the server's context."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bleep test push CA")])
    now = datetime.now(UTC)
    ca_cert = (
        _certificate(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names = [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
    cert = (
        _certificate(name, ca_name, key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    chain = directory / "push-server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return context


def _certificate(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
