"""A paging gateway for tests, speaking WCTP 1.3: it parses each `wctp-SubmitRequest`,
checks the sender id and security code, records the page, and answers `wctp-Success`, or a
`wctp-Failure` with WCTP's error code (403 for an unknown pager, 604 for a busy system),
or stalls."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.etree import ElementTree

from tests.local_http import serve, stop

SENDER_ID = "bleep-tests"
SECURITY_CODE = "hunter2hunter2"
STALL_FOR_SECONDS = 30


@dataclass
class Page:
    pager: str
    text: str
    message_id: str
    at: float


@dataclass
class WctpGateway:
    pages: list[Page] = field(default_factory=list)
    # A pager's number → the WCTP error code to answer, or 0 to stall.
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set on stop: stalled requests end then, rather than outliving the test.
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    server: ThreadingHTTPServer | None = None

    def start(self) -> "WctpGateway":
        gateway = self

        class Handler(_Handler):
            wctp = gateway

        self.server = serve(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wctp"
        return self

    def stop(self) -> None:
        stop(self.server, self.released)


def _response(outcome: str, **attributes: str) -> bytes:
    operation = ElementTree.Element("wctp-Operation", wctpVersion="wctp-dtd-v1r3")
    answer = ElementTree.SubElement(operation, "wctp-SubmitRequestResponse")
    ElementTree.SubElement(answer, outcome, attributes)
    return ElementTree.tostring(operation, encoding="utf-8", xml_declaration=True)


class _Handler(BaseHTTPRequestHandler):
    wctp: WctpGateway

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _fail(self, code: int, text: str) -> None:
        self._answer(_response("wctp-Failure", errorCode=str(code), errorText=text))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            root = ElementTree.fromstring(raw)
        except ElementTree.ParseError:
            self._fail(301, "Input can not be parsed")
            return
        header = root.find("wctp-SubmitRequest/wctp-SubmitHeader")
        if root.tag != "wctp-Operation" or header is None:
            self._fail(300, "Operation not supported")
            return
        originator = header.find("wctp-Originator")
        recipient = header.find("wctp-Recipient")
        control = header.find("wctp-MessageControl")
        text = root.find("wctp-SubmitRequest/wctp-Payload/wctp-Alphanumeric")
        if originator is None or originator.get("senderID") != SENDER_ID:
            self._fail(401, "Invalid ID")
            return
        if originator.get("securityCode") != SECURITY_CODE:
            self._fail(402, "invalid security code")
            return
        if (
            recipient is None
            or control is None
            or text is None
            or not header.get("submitTimestamp")
        ):
            self._fail(302, "XML validation error")
            return
        pager = recipient.get("recipientID", "")
        failure = self.wctp.failures.get(pager)
        if failure == 0:
            self.wctp.released.wait(STALL_FOR_SECONDS)
            return
        if failure is not None:
            words = {403: "invalid recipientID", 604: "Internal server error"}
            self._fail(failure, words.get(failure, "error"))
            return
        with self.wctp.lock:
            self.wctp.pages.append(
                Page(pager, text.text or "", control.get("messageID", ""), time.monotonic())
            )
        self._answer(_response("wctp-Success", successCode="200", successText="Accepted"))
