import io
import json
import logging

import pytest

from bleep.redaction import (
    RedactingAccessLogGenerator,
    RedactingJsonFormatter,
    RedactPathsFilter,
    redact_path,
)


def test_a_feed_secret_in_a_path_is_redacted():
    assert redact_path("/api/rota/feeds/s3cr3t-Token_1.ics") == "/api/rota/feeds/[redacted].ics"


def test_query_string_credentials_are_redacted_and_other_parameters_kept():
    path = "/x?token=abc&team=3&api_key=def&code=ghi&secret=jkl"
    assert redact_path(path) == (
        "/x?token=[redacted]&team=3&api_key=[redacted]&code=[redacted]&secret=[redacted]"
    )


def test_an_identity_providers_code_and_state_are_redacted_from_the_sign_in_callback():
    path = "/auth/sso/callback?code=abc&state=def&iss=https%3A%2F%2Fidp"
    assert redact_path(path) == (
        "/auth/sso/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fidp"
    )


def test_a_path_without_secrets_is_unchanged():
    assert redact_path("/api/rota/feeds/12") == "/api/rota/feeds/12"


def test_the_access_log_writes_the_feed_path_redacted():
    stream = io.StringIO()
    log = RedactingAccessLogGenerator(stream)
    details = {
        "method": "GET",
        "path": "/api/rota/feeds/s3cr3t.ics",
        "status": 200,
        "client": ["127.0.0.1", 1],
        "size": 10,
    }
    log("http", "complete", details)
    assert "s3cr3t" not in stream.getvalue()
    assert "/api/rota/feeds/[redacted].ics" in stream.getvalue()


def test_django_request_warnings_log_the_feed_path_redacted():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/api/rota/feeds/s3cr3t.ics",),
        None,
    )
    RedactPathsFilter().filter(record)
    assert record.getMessage() == "Not Found: /api/rota/feeds/[redacted].ics"


@pytest.mark.hazard("HZ-08")
def test_every_handler_a_django_request_warning_reaches_redacts_paths() -> None:
    # Django's own console handler (printing when DEBUG is on) wrote feed secrets unredacted.
    logger: logging.Logger | None = logging.getLogger("django.request")
    handlers: list[logging.Handler] = []
    while logger is not None:
        # pytest's own capture handlers are not the server's.
        handlers += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        logger = logger.parent if logger.propagate else None
    assert handlers
    for handler in handlers:
        assert any(isinstance(f, RedactPathsFilter) for f in handler.filters), handler


def test_a_json_log_line_redacts_the_extra_fields_a_plain_line_leaves_out() -> None:
    formatter = RedactingJsonFormatter("%(levelname)s %(name)s %(message)s")
    record = logging.LogRecord(
        "django.request", logging.WARNING, "", 0, "Unauthorized: %s", ("/api/me",), None
    )
    record.request = "<ASGIRequest: GET '/api/me?token=s3cr3t'>"
    record.status_code = 401
    line = json.loads(formatter.format(record))
    assert line["request"] == "<ASGIRequest: GET '/api/me?token=[redacted]"
    assert (line["status_code"], line["message"]) == (401, "Unauthorized: /api/me")
