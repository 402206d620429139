"""Point Django at a fresh benchmark database and Redis before anything imports models."""

import os
import secrets
import sys
from urllib.parse import urlparse

import django
import psycopg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bleep_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def prepare() -> dict[str, str]:
    """Recreate the benchmark database, migrate it, and return the backend in use."""
    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    _recreate(database_url)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Measured as deployed: DEBUG off (with DEBUG on, Django keeps and formats
            # every SQL statement), so the secrets production requires are made up here.
            "DEBUG": "0",
            # Plain HTTP on the loopback: no redirect to HTTPS.
            "HTTPS_ONLY": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "VAPID_PRIVATE_KEY": _new_vapid_key(),
            "VAPID_SUBJECT": "mailto:bench@localhost",
            "CHANNEL_LAYER_PREFIX": "bleep-bench",
            "LOG_LEVEL": "WARNING",
            "BLEEP_WORKER_IN_PROCESS": "0",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")
    django.setup()
    call_command("migrate", verbosity=0)
    return {"database_url": database_url, "redis_url": redis_url}


def _new_vapid_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _recreate(database_url: str) -> None:
    parsed = urlparse(database_url)
    name = parsed.path.lstrip("/")
    server = parsed._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        sys.exit(f"bench: PostgreSQL is not answering at {server} ({error}); start it first")
