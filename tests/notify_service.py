"""A GOV.UK Notify for tests, speaking its API: the official client is pointed at it.

It checks what Notify checks of a request (the JWT in `Authorization: Bearer`: HS256, `iss`
the service id, `iat` within 30 seconds, signed with the key's secret), answers
`POST /v2/notifications/sms` and `GET /v2/notifications/{id}` with Notify's own shapes, and
can be told to refuse a number (400 ValidationError), to rate-limit (429), to fail (500),
to stall, or what delivery status to report for a number.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

from tests.local_http import serve, stop

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"bleep_tests-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
# Notify refuses a token issued more than 30 seconds either side of its clock.
TOKEN_LEEWAY_SECONDS = 30
STALL_FOR_SECONDS = 30


@dataclass
class Plan:
    """What to do with a number: answer a status code, stall, or report a delivery status."""

    status: int = 201
    stall: bool = False
    delivery: str = "delivered"


@dataclass
class ReceivedText:
    id: str
    phone_number: str
    body: str
    reference: str
    at: float
    # Wall-clock time, for comparing with a row's due time (the benchmark's).
    wall: float = 0.0


@dataclass
class NotifyService:
    """The fake's state: what it received and what it was told to do."""

    texts: list[ReceivedText] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set on stop: stalled requests end then, rather than outliving the test.
    released: threading.Event = field(default_factory=threading.Event)
    refused_tokens: int = 0
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def plan(self, phone_number: str, **how: Any) -> None:
        self.plans[phone_number] = Plan(**how)

    def start(self) -> "NotifyService":
        service = self

        class Handler(_Handler):
            notify = service

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        stop(self.server, self.released)


def _error(status: int, error: str, message: str) -> dict[str, Any]:
    return {"status_code": status, "errors": [{"error": error, "message": message}]}


class _Handler(BaseHTTPRequestHandler):
    notify: NotifyService

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        try:
            claims = jwt.decode(
                token,
                SECRET,
                algorithms=["HS256"],
                options={"require": ["iss", "iat"], "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            self.notify.refused_tokens += 1
            self._answer(403, _error(403, "AuthError", f"Invalid token: {error}"))
            return False
        if claims["iss"] != SERVICE_ID or abs(time.time() - claims["iat"]) > TOKEN_LEEWAY_SECONDS:
            self.notify.refused_tokens += 1
            self._answer(403, _error(403, "AuthError", "Invalid token: iss or iat"))
            return False
        return True

    def do_POST(self) -> None:
        if self.path != "/v2/notifications/sms":
            self._answer(404, _error(404, "NotFoundError", "Not found"))
            return
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        number = body.get("phone_number", "")
        plan = self.notify.plans.get(number, Plan())
        if plan.stall:
            self.notify.released.wait(STALL_FOR_SECONDS)
            return
        if plan.status == 400:
            self._answer(400, _error(400, "ValidationError", "phone_number Not a UK mobile number"))
            return
        if plan.status == 429:
            message = "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
            self._answer(429, _error(429, "RateLimitError", message))
            return
        if plan.status >= 500:
            self._answer(500, _error(500, "Exception", "Internal server error"))
            return
        if body.get("template_id") != TEMPLATE_ID or "message" not in body.get(
            "personalisation", {}
        ):
            self._answer(400, _error(400, "BadRequestError", "Missing personalisation: message"))
            return
        text = ReceivedText(
            id=str(uuid.uuid4()),
            phone_number=number,
            body=body["personalisation"]["message"],
            reference=body.get("reference", ""),
            at=time.monotonic(),
            wall=time.time(),
        )
        with self.notify.lock:
            self.notify.texts.append(text)
        self._answer(
            201,
            {
                "id": text.id,
                "reference": text.reference,
                "content": {"body": text.body, "from_number": "GOVUK"},
                "uri": f"{self.notify.url}/v2/notifications/{text.id}",
                "template": {
                    "id": TEMPLATE_ID,
                    "version": 1,
                    "uri": f"{self.notify.url}/services/{SERVICE_ID}/templates/{TEMPLATE_ID}",
                },
            },
        )

    def do_GET(self) -> None:
        if not self.path.startswith("/v2/notifications/"):
            self._answer(404, _error(404, "NotFoundError", "Not found"))
            return
        if not self._authorised():
            return
        wanted = self.path.rsplit("/", 1)[-1]
        text = next((t for t in self.notify.texts if t.id == wanted), None)
        if text is None:
            self._answer(404, _error(404, "NoResultFound", "No result found"))
            return
        status = self.notify.plans.get(text.phone_number, Plan()).delivery
        now = datetime.now(UTC).isoformat()
        self._answer(
            200,
            {
                "id": text.id,
                "reference": text.reference,
                "phone_number": text.phone_number,
                "type": "sms",
                "status": status,
                "body": text.body,
                "created_at": now,
                "sent_at": now,
                "completed_at": now if status not in {"created", "sending", "pending"} else None,
            },
        )
