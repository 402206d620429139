"""Origins, security headers on every HTML page, and the production security settings."""

import base64
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from bleep.origins import default_origins
from bleep.security import DEFAULT_POLICY
from tests.bleep.test_config import start

pytestmark = pytest.mark.django_db


def test_default_origins_name_scheme_host_and_port_for_each_allowed_host() -> None:
    assert default_origins(["bleep.example", "[::1]"], 8123) == [
        "https://bleep.example",
        "http://bleep.example:8123",
        "https://[::1]",
        "http://[::1]:8123",
    ]


def assert_framing_banned_under_a_policy(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/html")  # type: ignore[index]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_the_app_page_bans_framing_under_its_own_policy() -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert_framing_banned_under_a_policy(response)
    assert "ws://testserver" in response["Content-Security-Policy"]


def test_the_static_copy_of_the_app_page_bans_framing_under_a_policy() -> None:
    response = Client().get("/static/app/index.html")
    assert response.status_code == 200
    assert_framing_banned_under_a_policy(response)
    assert response["Content-Security-Policy"] == DEFAULT_POLICY
    response.close()


def test_the_admin_login_page_bans_framing_under_a_policy() -> None:
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert_framing_banned_under_a_policy(response)


def test_the_api_docs_page_bans_framing_and_has_no_inline_script() -> None:
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_framing_banned_under_a_policy(response)
    assert "script-src 'self';" in response["Content-Security-Policy"]
    # Swagger UI's start-up script is a file of its own, which script-src 'self' allows.
    assert b"<script>" not in response.content
    assert client.get("/api/docs/?script=").status_code == 200


PRODUCTION = {
    "DATABASE_URL": "postgres://db.invalid/bleep",
    "SECRET_KEY": "production-like-" + "k" * 50,
    "VAPID_PRIVATE_KEY": base64.urlsafe_b64encode(b"\x01" * 32).decode(),
    "VAPID_SUBJECT": "mailto:it@hospital.example",
    "ALLOWED_HOSTS": "bleep.hospital.example",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto=https",
}
SHOW = (
    "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
    " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
)


def test_the_deploy_check_is_clean_with_the_production_environment(tmp_path: Path) -> None:
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    result = start(command, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_with_debug_off_https_is_required_and_trusted_from_the_proxy(tmp_path: Path) -> None:
    result = start(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW], tmp_path, **PRODUCTION
    )
    assert result.stdout.split() == [
        "True",
        "31536000",
        "True",
        "True",
        "('HTTP_X_FORWARDED_PROTO',",
        "'https')",
    ]


def test_a_plain_http_deployment_turns_https_off_explicitly(tmp_path: Path) -> None:
    env = PRODUCTION | {"HTTPS_ONLY": "0", "SECURE_PROXY_SSL_HEADER": ""}
    result = start(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW], tmp_path, **env
    )
    assert result.stdout.split() == ["False", "0", "False", "False", "None"]


def test_the_embedded_default_serves_plain_http(tmp_path: Path) -> None:
    result = start([sys.executable, "manage.py", "shell", "--no-imports", "-c", SHOW], tmp_path)
    assert result.stdout.split() == ["False", "0", "False", "False", "None"]


@override_settings(SECURE_SSL_REDIRECT=True)
def test_https_only_redirects_plain_http_but_not_the_health_check() -> None:
    client = Client()
    assert client.get("/").status_code == 301
    # Answered, whatever it says (no worker runs here), rather than redirected.
    assert client.get("/healthz").status_code != 301
