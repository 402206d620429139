"""The phone app's page at `/` and its service worker at `/sw.js`, with DEBUG on and off."""

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from bleep import views

APP_FILES = ["index.html", "sw.js", "manifest.webmanifest", "styles.css", "js/main.js"]


@pytest.fixture(autouse=True)
def fresh_reads() -> None:
    views._cached.cache_clear()


def test_the_page_is_html_under_a_policy_that_allows_no_inline_script(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/static/app/js/main.js">' in response.content
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "ws://testserver" in policy
    assert response["Cache-Control"] == "no-cache"


def test_the_service_worker_is_javascript_from_the_root_and_never_cached(db: None) -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in response.content


def test_the_app_is_served_with_debug_off_and_after_collectstatic(
    db: None, settings: Any, tmp_path: Path
) -> None:
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    for name in APP_FILES:
        assert (tmp_path / "app" / name).is_file(), name
    client = Client()
    assert client.get("/").status_code == 200
    assert client.get("/sw.js").status_code == 200


def test_only_get_and_head_reach_the_page(db: None) -> None:
    assert Client().post("/").status_code == 405
