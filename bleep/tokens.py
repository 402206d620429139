"""Secret tokens for devices and calendar feeds: made here, and stored only as digests; and
the few secrets of others Bleep must send back, stored sealed."""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

# 256 bits: far past guessing, even for a token that sits in a calendar feed's URL.
TOKEN_BYTES = 32


def new_token() -> str:
    """Return a new random URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest_token(token: str) -> str:
    """Return the stored form of a token: its SHA-256 as hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _sealing_key() -> Fernet:
    # Derived from SECRET_KEY, so a copy of the database alone opens nothing.
    derived = hashlib.sha256(f"bleep-sealed-tokens:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret: str) -> str:
    """Return `secret` encrypted and authenticated for storing (a provider's refresh token,
    which Bleep must send back, so cannot keep as a digest)."""
    return _sealing_key().encrypt(secret.encode()).decode() if secret else ""


def unseal(sealed: str) -> str:
    """Return the secret `seal` stored, or "" if there is none or it no longer opens (the
    SECRET_KEY changed)."""
    if not sealed:
        return ""
    try:
        return _sealing_key().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""
