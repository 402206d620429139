"""Secret tokens for devices and calendar feeds: made here, and stored only as digests."""

import hashlib
import secrets

# 256 bits: far past guessing, even for a token that sits in a calendar feed's URL.
TOKEN_BYTES = 32


def new_token() -> str:
    """Return a new random URL-safe token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest_token(token: str) -> str:
    """Return the stored form of a token: its SHA-256 as hex."""
    return hashlib.sha256(token.encode()).hexdigest()
