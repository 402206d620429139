"""The one place errors become HTTP responses, all in one JSON shape.

Every error body is `{"code": str, "detail": str}`, plus `"fields": {name: [messages]}`
when particular fields are wrong, so a client can point at the field. DRF's views come
here through `handle_exception`; anything else that fails under /api/ comes through
`server_error`, Django's handler for an uncaught exception (bleep/urls.py).
"""

import logging
import math
import sys
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from bleep.database import RETRY_AFTER_SECONDS, is_database_unavailable
from bleep.transitions import IllegalMove
from escalation.exceptions import InvalidEscalationData, PolicyChangeNotAllowed
from messaging.exceptions import (
    AnalyticsNotAllowed,
    BleepNotFound,
    ContactNotFound,
    DeviceNotFound,
    InvalidContact,
    InvalidCredentials,
    InvalidPushSubscription,
    MfaEnrolmentRequired,
    MfaInvalid,
    MfaMandatory,
    MfaNotEnrolled,
    MfaRequired,
    MfaThrottled,
    NotAllowedToUnlock,
    NotAnOperator,
    NotARecipient,
    NotSwitchboard,
    NotTheSender,
    PasswordSignInOff,
    PhoneTestNotFound,
    PushSubscriptionNotFound,
    SendLimitReached,
    SignInLockedOut,
    SsoHandoffInvalid,
    SwitchboardCannotAcknowledge,
)
from rota.exceptions import (
    AuditTrailNotFound,
    ChangeNotAllowed,
    ImportJobNotFound,
    ImportNotAllowed,
    InvalidRotaData,
    NoHolderInChain,
    NotYourMove,
    PersonNotFound,
    RoleNotFound,
    SwapNotFound,
)

# A rota record or policy is read by everyone signed in: refusing a change of one says no
# more than DRF's own refusal said when the views checked it, in the same words.
NOT_ALLOWED = (
    status.HTTP_403_FORBIDDEN,
    str(exceptions.PermissionDenied.default_code),
    str(exceptions.PermissionDenied.default_detail),
)

DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    BleepNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such bleep"),
    DeviceNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such device"),
    PushSubscriptionNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such subscription"),
    NotARecipient: (status.HTTP_403_FORBIDDEN, "not_a_recipient", "you were not sent this bleep"),
    NotTheSender: (
        status.HTTP_403_FORBIDDEN,
        "not_the_sender",
        "only the sender or switchboard may do this",
    ),
    SwitchboardCannotAcknowledge: (
        status.HTTP_403_FORBIDDEN,
        SwitchboardCannotAcknowledge.code,
        SwitchboardCannotAcknowledge.detail,
    ),
    NotSwitchboard: (status.HTTP_403_FORBIDDEN, NotSwitchboard.code, NotSwitchboard.detail),
    NotAnOperator: (status.HTTP_403_FORBIDDEN, NotAnOperator.code, NotAnOperator.detail),
    # 401, as for a bad token: the credentials themselves were refused, not the request's form.
    InvalidCredentials: (
        status.HTTP_401_UNAUTHORIZED,
        "invalid_credentials",
        "unknown username or wrong password",
    ),
    PasswordSignInOff: (
        status.HTTP_403_FORBIDDEN,
        "password_sign_in_off",
        "password sign-in is off for this account: sign in with your organisation's account",
    ),
    SsoHandoffInvalid: (
        status.HTTP_401_UNAUTHORIZED,
        "sign_in_code_invalid",
        "this sign-in code is unknown, already used or more than a minute old: sign in again",
    ),
    NotAllowedToUnlock: (
        status.HTTP_403_FORBIDDEN,
        "forbidden",
        "only a rota manager or an administrator may clear a sign-in lockout",
    ),
    MfaMandatory: (
        status.HTTP_403_FORBIDDEN,
        "mfa_mandatory",
        "your role requires a second factor: it cannot be turned off",
    ),
    SwapNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such swap"),
    ContactNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such number"),
    PhoneTestNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such phone test"),
    ImportJobNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "no such import"),
    ImportNotAllowed: NOT_ALLOWED,
    ChangeNotAllowed: NOT_ALLOWED,
    PolicyChangeNotAllowed: NOT_ALLOWED,
    AuditTrailNotFound: (status.HTTP_404_NOT_FOUND, "not_found", "not found"),
    AnalyticsNotAllowed: (
        status.HTTP_403_FORBIDDEN,
        "forbidden",
        "only clinical safety officers and rota managers read the analytics",
    ),
    NoHolderInChain: (
        status.HTTP_409_CONFLICT,
        "no_holder",
        "nobody holds this role or any role on its fallback chain: phone switchboard",
    ),
}


logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
DATABASE_UNAVAILABLE_BODY = {
    "code": "database_unavailable",
    "detail": "Bleep's database is not answering just now; try again in a moment.",
}
SERVER_ERROR_BODY = {"code": "server_error", "detail": "something went wrong on the server"}


class ErrorAnswer(NamedTuple):
    """What a client is told of an error: REST's status and headers, and the body both ways
    in send (the socket's error frame is this body with its `type` and `ref`)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def describe_error(exc: Exception) -> ErrorAnswer | None:
    """Return what a client is told of a domain or validation error; None for any other."""
    if isinstance(exc, SignInLockedOut):
        body, headers = _locked_out(exc.retry_at, exc.retry_after)
        return ErrorAnswer(status.HTTP_429_TOO_MANY_REQUESTS, body, headers)
    if isinstance(exc, MfaRequired | MfaInvalid | MfaThrottled | MfaEnrolmentRequired):
        return _mfa_answer(exc)
    if isinstance(exc, MfaNotEnrolled):
        return _answer(409, "mfa_not_enrolled", str(exc))
    if isinstance(exc, SendLimitReached):
        return ErrorAnswer(
            status.HTTP_429_TOO_MANY_REQUESTS,
            {"code": exc.code, "detail": exc.detail, "retry_after": exc.seconds},
            {"Retry-After": str(exc.seconds)},
        )
    if isinstance(exc, InvalidRotaData | InvalidEscalationData):
        return _answer(400, "invalid", str(exc), fields=exc.errors)
    if isinstance(exc, InvalidPushSubscription | InvalidContact | RoleNotFound):
        detail = f"{exc.field}: {exc.message}"
        return _answer(400, "invalid", detail, fields={exc.field: [exc.message]})
    if isinstance(exc, PersonNotFound):
        return _answer(
            400, "invalid", "person: no such person", fields={"person": ["no such person"]}
        )
    if isinstance(exc, IllegalMove):
        return _answer(409, "conflict", str(exc), current=exc.current)
    if isinstance(exc, NotYourMove):
        return _answer(403, "forbidden", str(exc))
    for error_type, (code, name, detail) in DOMAIN_ERRORS.items():
        if isinstance(exc, error_type):
            return _answer(code, name, detail)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flat_fields(exc.detail)
        return _answer(400, "invalid", _first_message(fields), fields=fields)
    return None


def describe_error_body(exc: Exception) -> dict[str, Any] | None:
    """Return the body REST answers for a domain or validation error, for the socket to send.

    The socket's consumer lives in messaging, which may not import this layer; the project's
    routing hands it this function, as it hands it escalation's services, so a bad frame is
    told exactly what the same bad request is, from this one table.
    """
    answer = describe_error(exc)
    return None if answer is None else answer.body


def too_large_body(limit_bytes: int) -> dict[str, Any]:
    """Return the 413 body, saying the limit the request passed."""
    return {
        "code": "too_large",
        "detail": f"the request body is larger than the {limit_bytes:,} bytes allowed here",
        "limit_bytes": limit_bytes,
    }


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map domain and framework errors to one JSON error shape."""
    if is_database_unavailable(exc):
        # One line with the cause, not a traceback per request: an outage fails every call.
        logger.warning("answered 503, the database is unavailable: %s: %s", type(exc).__name__, exc)
        return Response(
            DATABASE_UNAVAILABLE_BODY,
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    described = describe_error(exc)
    if described is not None:
        return Response(described.body, status=described.status, headers=described.headers)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            too_large_body(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = {
            "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
            "detail": str(exc.detail),
        }
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an uncaught exception under /api/ in JSON, as 503 when the database failed.

    Django calls this (`handler500`) for anything that escapes a view or a middleware while
    DEBUG is off, still inside its `except` block, so `sys.exc_info()` names the error, as
    Django's own debug page reads it. Elsewhere (the app's page, the admin) its page stays.
    """
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    error = sys.exc_info()[1]
    if error is not None and is_database_unavailable(error):
        # Django has logged it with its traceback already (django.request).
        response = JsonResponse(DATABASE_UNAVAILABLE_BODY, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(SERVER_ERROR_BODY, status=500)


def locked_out(request: HttpRequest, response: Any = None, *_: Any) -> HttpResponseBase:
    """Answer a locked-out sign-in 429, saying when to try again (axes' AXES_LOCKOUT_CALLABLE).

    axes' middleware calls this for any request its backend locked out: the API's sign-in
    has answered it already (SignInLockedOut, above) and keeps that answer; the admin's
    sign-in page gets the same body. (axes 8.3's async middleware passes the credentials
    where the response goes; Bleep runs middleware synchronously, bleep/asgi.py, and the
    isinstance check keeps that path safe too.)
    """
    if isinstance(response, HttpResponseBase) and response.status_code == 429:
        return response
    cool_off = get_cool_off(request) or timedelta(0)
    body, headers = _locked_out(timezone.now() + cool_off, cool_off)
    return JsonResponse(body, status=status.HTTP_429_TOO_MANY_REQUESTS, headers=headers)


MFA_REQUIRED_DETAIL = (
    "this account signs in with a code: send the 6-digit code from its authenticator app, "
    "or a recovery code, as otp"
)
MFA_INVALID_DETAIL = "wrong code, or a recovery code already used"


def _mfa_answer(exc: Exception) -> ErrorAnswer:
    """Answer a second-factor refusal; the code's field is named `otp` wherever it is asked."""
    if isinstance(exc, MfaRequired):
        detail = MFA_REQUIRED_DETAIL
        return _answer(400, "mfa_required", detail, fields={"otp": [detail]})
    if isinstance(exc, MfaInvalid):
        return _answer(400, "mfa_invalid", MFA_INVALID_DETAIL, fields={"otp": [MFA_INVALID_DETAIL]})
    if isinstance(exc, MfaThrottled):
        seconds = math.ceil(exc.retry_after.total_seconds())
        detail = f"too many wrong codes in a row: try again in {seconds} seconds"
        body = {"code": "mfa_throttled", "detail": detail, "retry_after": seconds}
        return ErrorAnswer(status.HTTP_429_TOO_MANY_REQUESTS, body, {"Retry-After": str(seconds)})
    assert isinstance(exc, MfaEnrolmentRequired)
    return _answer(
        403,
        "mfa_enrolment_required",
        "this account must enrol an authenticator app before it signs in a device",
        enrolment_token=exc.token,
        expires_at=exc.expires_at.isoformat(),
    )


def _locked_out(
    retry_at: datetime, retry_after: timedelta
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return the lockout's body and its Retry-After header, in whole seconds."""
    seconds = math.ceil(retry_after.total_seconds())
    body = {
        "code": "locked_out",
        "detail": "too many failed sign-ins for this account from this address; "
        f"try again in {math.ceil(seconds / 60)} minutes",
        "retry_after": seconds,
        "retry_at": retry_at.isoformat(),
    }
    return body, {"Retry-After": str(seconds)}


def _answer(status_code: int, code: str, detail: str, **extra: Any) -> ErrorAnswer:
    return ErrorAnswer(status_code, {"code": code, "detail": detail, **extra}, {})


def _flat_fields(detail: Any, path: str = "") -> Any:
    """Name a nested field's errors by its dotted path (`keys.p256dh`), as clients point at it."""
    if not isinstance(detail, dict):
        return detail
    flat: dict[str, Any] = {}
    for name, messages in detail.items():
        inner = (
            path if name == "non_field_errors" and path else ".".join(filter(None, [path, name]))
        )
        if isinstance(messages, dict):
            flat.update(_flat_fields(messages, inner))
        else:
            flat[inner] = messages
    return flat


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        name, messages = next(iter(detail.items()))
        return f"{name}: {_first_message(messages)}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)
