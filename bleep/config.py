"""Read Bleep's configuration from the environment, with the embedded default filled in."""

import base64
import secrets
from pathlib import Path

import environ
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured


class ConfigurationError(ImproperlyConfigured):
    """Start-up cannot go on; the message says which variable to set."""


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


def vapid_public_key(private_pem: str) -> str:
    """Return the application server key a browser passes to `pushManager.subscribe`."""
    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except ValueError as error:
        raise ConfigurationError(
            "VAPID_PRIVATE_KEY is not a PEM private key; set it to the output of "
            "`vapid --gen` or unset it for the embedded default"
        ) from error
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ConfigurationError("VAPID_PRIVATE_KEY must be an EC P-256 private key")
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def required(env: environ.Env, name: str, why: str) -> str:
    """Return a variable that has no default here, or stop with one line naming it."""
    value = env.str(name, default="")
    if not value:
        raise ConfigurationError(f"set {name} ({why})")
    return value
