"""A Content-Security-Policy and a frame ban on every HTML response."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

# For pages with no policy of their own (the admin, the API docs, a copy of the app under
# /static): scripts only from this server; inline style, which the admin and Swagger UI use.
DEFAULT_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class HtmlPolicyMiddleware:
    """Give every HTML response a Content-Security-Policy and `X-Frame-Options: DENY`.

    Django 5.2 sets no Content-Security-Policy (6.0 adds one), and its frame ban does not
    reach files whitenoise serves, so this sits outside both. A view that sets its own
    policy (the app page) keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", DEFAULT_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
