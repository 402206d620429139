"""The phone app: its page at `/` and its service worker at `/sw.js`.

The files live in `bleep/static/app/` and are served like any static file (whitenoise);
these two need their own URLs: the page so the app opens at the site's root, and the
service worker so its scope is the whole site.
"""

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

APP_DIR = "app"
# Everything the page loads is this server's own: no inline script or style, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' {sockets}",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


@require_safe
def app_page(request: HttpRequest) -> HttpResponse:
    """Serve the phone app's page, which the service worker and every route share."""
    response = HttpResponse(_read("index.html"), content_type="text/html; charset=utf-8")
    host = request.get_host()
    sockets = f"ws://{host} wss://{host}"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(sockets=sockets)
    # The page names the current scripts: a stale copy after a deploy would load old code.
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def service_worker(request: HttpRequest) -> HttpResponse:
    """Serve the service worker from the root, so it controls the whole app."""
    response = HttpResponse(_read("sw.js"), content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker on navigation; no-cache makes that check real.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


def _read(name: str) -> bytes:
    if settings.DEBUG:
        return _path(name).read_bytes()
    return _cached(name)


@cache
def _cached(name: str) -> bytes:
    return _path(name).read_bytes()


def _path(name: str) -> Path:
    """Find an app file in the source folders, or in STATIC_ROOT after collectstatic."""
    found = finders.find(f"{APP_DIR}/{name}")
    if isinstance(found, str):
        return Path(found)
    return Path(settings.STATIC_ROOT) / APP_DIR / name
