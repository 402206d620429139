"""Configuration comes from the environment; a mistake stops start-up with one clear line."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bleep.config import (
    SSO_JOBS,
    ConfigurationError,
    check_push_hosts,
    load_vapid_key,
    read_or_create_secret,
    read_or_create_vapid_key,
    vapid_public_key,
)
from rota.models import Person

ROOT = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).with_name("daphne"))


def start(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}}
    clean["BLEEP_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_URL": "postgres://db.invalid/bleep"}, "set SECRET_KEY"),
        (
            {"DATABASE_URL": "postgres://db.invalid/bleep", "SECRET_KEY": "s" * 50},
            "set VAPID_PRIVATE_KEY",
        ),
        (
            {
                "DATABASE_URL": "postgres://db.invalid/bleep",
                "SECRET_KEY": "s" * 50,
                "VAPID_PRIVATE_KEY": base64.urlsafe_b64encode(b"\x01" * 32).decode(),
            },
            "set VAPID_SUBJECT",
        ),
        ({"DATABASE_URL": "nonsense://what"}, "set DATABASE_URL"),
        ({"DEBUG": "perhaps"}, "set DEBUG"),
        ({"VAPID_PRIVATE_KEY": "not a key"}, "VAPID_PRIVATE_KEY"),
        ({"HTTP_CONCURRENCY": "0"}, "set HTTP_CONCURRENCY"),
        ({"HTTP_BODY_MAX_BYTES": "1024"}, "set HTTP_BODY_MAX_BYTES"),
        ({"HTTP_BODY_MAX_BYTES": "2 MB"}, "set HTTP_BODY_MAX_BYTES"),
        ({"DB_POOL_TIMEOUT": "soon"}, "set DB_POOL_TIMEOUT"),
        ({"HTTPS_ONLY": "sometimes"}, "set HTTPS_ONLY"),
        ({"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}, "set SECURE_PROXY_SSL_HEADER"),
        ({"DEVICE_IDLE_DAYS": "0"}, "set DEVICE_IDLE_DAYS"),
        ({"DEVICE_LIFETIME_DAYS": "ninety"}, "DEVICE_LIFETIME_DAYS"),
        ({"SEND_LIMIT_PER_MINUTE": "0"}, "set SEND_LIMIT_PER_MINUTE"),
        ({"SEND_LIMIT_BURST": "many"}, "set SEND_LIMIT_BURST"),
        ({"SEND_LIMIT_PER_MINUTE": "5", "SEND_LIMIT_BURST": "10"}, "set SEND_LIMIT_BURST"),
        ({"FLOOD_ROLE_PER_MINUTE": "-1"}, "set FLOOD_ROLE_PER_MINUTE"),
        ({"CALLBACK_DIAL_PREFIX": "9, then"}, "set CALLBACK_DIAL_PREFIX"),
        ({"NOTIFY_API_KEY": "just-a-secret"}, "set NOTIFY_API_KEY"),
        (
            {"NOTIFY_API_KEY": f"live-{'1' * 36}-{'2' * 36}"},
            "set NOTIFY_SMS_TEMPLATE_ID",
        ),
        ({"WCTP_URL": "gateway.trust.nhs.uk/wctp"}, "set WCTP_URL"),
        ({"FALLBACK_ORDER": "sms,fax"}, "set FALLBACK_ORDER"),
        ({"FALLBACK_URGENT_SECONDS": "soon"}, "set FALLBACK_URGENT_SECONDS"),
        ({"CONTACT_CHECK_LEAD_MINUTES": "0"}, "set CONTACT_CHECK_LEAD_MINUTES"),
        ({"OIDC_ISSUER": "idp.trust.nhs.uk"}, "set OIDC_ISSUER"),
        ({"OIDC_ISSUER": "https://idp.trust.nhs.uk"}, "set OIDC_CLIENT_ID"),
        (
            {"OIDC_ISSUER": "https://idp.trust.nhs.uk", "OIDC_CLIENT_ID": "bleep"},
            "set one of OIDC_CLIENT_SECRET and OIDC_PRIVATE_KEY_FILE",
        ),
        (
            {
                "OIDC_ISSUER": "https://idp.trust.nhs.uk",
                "OIDC_CLIENT_ID": "bleep",
                "OIDC_PRIVATE_KEY_FILE": "/nowhere/bleep.pem",
            },
            "set OIDC_PRIVATE_KEY_FILE",
        ),
        (
            {
                "OIDC_ISSUER": "https://idp.trust.nhs.uk",
                "OIDC_CLIENT_ID": "bleep",
                "OIDC_CLIENT_SECRET": "s",
                "OIDC_MATCH_FIELD": "staff_number",
            },
            "set OIDC_MATCH_FIELD",
        ),
        ({"OIDC_JOB_MAP": "R8000=consultant"}, "set OIDC_JOB_MAP"),
        ({"OIDC_CHECK_MINUTES": "0"}, "set OIDC_CHECK_MINUTES"),
        ({"PASSWORD_SIGN_IN": "0"}, "set OIDC_ISSUER before PASSWORD_SIGN_IN=0"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "manage.py", "check"],
        [DAPHNE, "-p", "0", "bleep.asgi:application"],
    ],
    ids=["manage.py", "daphne"],
)
def test_a_misconfiguration_stops_start_up_with_one_line_and_no_traceback(
    tmp_path: Path, env: dict[str, str], says: str, command: list[str]
) -> None:
    result = start(command, tmp_path, **env)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bleep: ")
    assert says in lines[0]


def test_the_embedded_default_needs_no_configuration_and_keeps_its_secrets(
    tmp_path: Path,
) -> None:
    assert start([sys.executable, "manage.py", "check"], tmp_path).returncode == 0
    kept = {name: (tmp_path / name).read_bytes() for name in ("secret_key", "vapid_private.pem")}
    assert start([sys.executable, "manage.py", "check"], tmp_path).returncode == 0
    assert {name: (tmp_path / name).read_bytes() for name in kept} == kept


def test_an_empty_database_url_means_the_embedded_default(tmp_path: Path) -> None:
    result = start([sys.executable, "manage.py", "check"], tmp_path, DATABASE_URL="")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").exists()


def test_generated_secrets_are_readable_only_by_their_owner(tmp_path: Path) -> None:
    read_or_create_secret(tmp_path / "secret")
    read_or_create_vapid_key(tmp_path / "vapid.pem")
    assert (tmp_path / "secret").stat().st_mode & 0o077 == 0
    assert (tmp_path / "vapid.pem").stat().st_mode & 0o077 == 0


def test_the_vapid_public_key_is_an_uncompressed_p256_point_in_base64url(tmp_path: Path) -> None:
    public = vapid_public_key(read_or_create_vapid_key(tmp_path / "vapid.pem"))
    assert "=" not in public
    assert len(public) == 87  # 65 bytes, unpadded base64url


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"VAPID_SUBJECT": "switchboard"}, "set VAPID_SUBJECT to mailto:"),
        ({"PUSH_HOSTS": "https://fcm.googleapis.com/"}, "PUSH_HOSTS: 'https://fcm"),
        ({"PUSH_CA_BUNDLE": "/nonexistent/ca.pem"}, "PUSH_CA_BUNDLE: no such file"),
    ],
)
def test_a_web_push_misconfiguration_stops_start_up_with_one_line(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = start([sys.executable, "manage.py", "check"], tmp_path, **env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert says in result.stderr


def test_a_raw_base64url_vapid_key_is_the_same_key_as_its_pem() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    raw = base64.urlsafe_b64encode(key.private_numbers().private_value.to_bytes(32, "big"))
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    assert vapid_public_key(raw.rstrip(b"=").decode()) == vapid_public_key(pem)
    assert load_vapid_key(raw.decode()).private_numbers() == key.private_numbers()


def test_push_hosts_take_names_wildcards_ports_and_ip_literals_in_lower_case() -> None:
    hosts = ["FCM.googleapis.com", "*.push.apple.com", "localhost:8443", "[::1]:8443", " "]
    assert check_push_hosts(hosts) == [
        "fcm.googleapis.com",
        "*.push.apple.com",
        "localhost:8443",
        "[::1]:8443",
    ]
    for bad in ("push.example:99999", "*", "user@push.example", "push.example/path"):
        with pytest.raises(ConfigurationError):
            check_push_hosts([bad])


def test_the_jobs_single_sign_on_may_give_are_every_human_job() -> None:
    # An integrating system's account is no job a provider's claim may give.
    assert set(SSO_JOBS) == set(Person.Job.values) - {Person.Job.SYSTEM}
