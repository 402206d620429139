"""Take secrets out of a request path before it is written to a log.

A calendar feed's URL carries its secret (`/api/rota/feeds/<secret>.ics`), and a query
string may carry a credential (`token=`, `key=`, `secret=`, `code=`, and an identity
provider's `state=` beside its `code=`...). Anyone who can read the logs could otherwise
subscribe to a feed or replay a credential. Every logger that writes a path calls
`redact_path`, so the rule lives here only.
"""

import logging
import re
from typing import Any

from daphne.access import AccessLogGenerator
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
access_logger = logging.getLogger("bleep.access")

_FEED_SECRET = re.compile(r"(/feeds/)[^/?#]+(\.ics)")
_QUERY_CREDENTIAL = re.compile(
    r"([?&](?:[^=&#]*[_-])?(?:token|key|secret|code|state|password|signature|auth)=)[^&#]*",
    re.IGNORECASE,
)


def redact_path(path: str) -> str:
    """Return `path` with any feed secret and query-string credential replaced."""
    path = _FEED_SECRET.sub(rf"\1{REDACTED}\2", path)
    return _QUERY_CREDENTIAL.sub(rf"\1{REDACTED}", path)


class RedactingAccessLogGenerator(AccessLogGenerator):
    """daphne's access log, with secrets taken out of each path before it is written; with
    LOG_FORMAT=json, each entry goes through logging (`bleep.access`) as a JSON line with
    its client, request, status and length as fields, like every other line."""

    def __call__(self, protocol: Any, action: Any, details: dict[str, Any]) -> None:
        if isinstance(details.get("path"), str):
            details = {**details, "path": redact_path(details["path"])}
        super().__call__(protocol, action, details)

    def write_entry(
        self,
        host: Any,
        date: Any,
        request: Any,
        status: Any = None,
        length: Any = None,
        ident: Any = None,
        user: Any = None,
    ) -> None:
        if settings.LOG_FORMAT != "json":
            super().write_entry(host, date, request, status, length, ident, user)
            return
        fields = {"client": host, "request": request, "status": status, "length": length}
        access_logger.info("%s %s", request, status or "-", extra=fields)


class RedactPathsFilter(logging.Filter):
    """A logging filter that redacts every string argument of a record, such as the path
    `django.request` prints for a 4xx or 5xx answer; installed on the console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        return True


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's JSON lines (LOG_FORMAT=json), every field redacted.

    A JSON line carries a record's extra attributes too, which a plain line leaves out:
    Django's `django.request` warnings, for one, attach the request, whose text is its path
    and query string. Each field that is not a number is written as redacted text.
    """

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        for key, value in list(log_data.items()):
            if value is not None and not isinstance(value, bool | int | float):
                log_data[key] = redact_path(value if isinstance(value, str) else str(value))
        return dict(super().process_log_record(log_data))
