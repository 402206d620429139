"""The gateways a text or pager message leaves by: GOV.UK Notify for text messages, through
its official client, and a pager gateway speaking WCTP over HTTP.

Each send is one blocking request bounded by CHANNEL_TIMEOUT; the sender runs each on a
thread of its own, so a gateway that stalls holds up only its own message.
"""

import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Protocol
from xml.etree import ElementTree

import defusedxml.ElementTree
import requests
from django.conf import settings
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from requests.adapters import HTTPAdapter

from messaging.models import ContactKind

logger = logging.getLogger(__name__)

# Long enough for a gateway that is working (Notify answers in well under a second), short
# enough that a retry, or the next channel, comes while the bleep is still fresh.
CHANNEL_TIMEOUT = timedelta(seconds=10)
# As many connections to a gateway as the sender sends messages at once (sender.py's lanes).
CONNECTIONS = 320


class Outcome(enum.Enum):
    """What a gateway said about one message."""

    ACCEPTED = "accepted"  # taken on; for Notify, its delivery status can be read later
    DELIVERED = "delivered"  # the network says it reached the handset
    WAITING = "waiting"  # still on its way: ask again later
    RETRY = "retry"  # not taken on this time (busy, down, no answer): try again
    FAILED = "failed"  # refused, or never delivered: trying again will not help
    UNUSABLE = "unusable"  # the number itself cannot be reached: use it no more


@dataclass(frozen=True)
class ChannelAnswer:
    """What a gateway answered, and its own words for it."""

    outcome: Outcome
    provider_id: str = ""
    provider_status: str = ""
    detail: str = ""
    # No answer within CHANNEL_TIMEOUT: the gateway stalled.
    timed_out: bool = False


class Gateway(Protocol):
    """One way out: sends a message and, where the gateway can say, how delivery went."""

    kind: ContactKind

    def send(self, *, address: str, text: str, reference: str) -> ChannelAnswer: ...

    def delivery_status(self, *, provider_id: str) -> ChannelAnswer | None: ...


# Notify's statuses of a text message (docs.notifications.service.gov.uk, "Status - text
# message"): `created`, `sending` and `pending` are on the way; the rest are final.
NOTIFY_STATUSES = {
    "created": Outcome.WAITING,
    "sending": Outcome.WAITING,
    "pending": Outcome.WAITING,
    "sent": Outcome.DELIVERED,  # sent to an international number, which reports no further
    "delivered": Outcome.DELIVERED,
    # The number does not exist or is not a mobile: the provider could not deliver it.
    "permanent-failure": Outcome.UNUSABLE,
    # The phone was off or out of signal for the provider's 72 hours; a bleep is long stale.
    "temporary-failure": Outcome.FAILED,
    "technical-failure": Outcome.FAILED,
}
RATE_LIMITED = 429
SERVER_ERROR = 500
BAD_REQUEST = 400


class NotifySms:
    """Text messages through GOV.UK Notify's API, with its official Python client."""

    kind = ContactKind.SMS

    def __init__(self) -> None:
        self.client = NotificationsAPIClient(
            settings.NOTIFY_API_KEY,
            base_url=settings.NOTIFY_BASE_URL,
            timeout=CHANNEL_TIMEOUT.total_seconds(),
        )
        # The client's one session keeps 10 connections (requests' default) while the sender
        # sends on up to CONNECTIONS threads at once: past 10, each text paid a new TCP and
        # TLS handshake, and urllib3 logged a warning for every connection it threw away.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=CONNECTIONS)
        self.client.request_session.mount("https://", adapter)
        self.client.request_session.mount("http://", adapter)

    def send(self, *, address: str, text: str, reference: str) -> ChannelAnswer:
        """Send `text` to a mobile number through the template, referenced by our row."""
        try:
            response = self.client.send_sms_notification(
                phone_number=address,
                template_id=settings.NOTIFY_SMS_TEMPLATE_ID,
                personalisation={"message": text},
                reference=reference,
                sms_sender_id=settings.NOTIFY_SMS_SENDER_ID,
            )
        except HTTPError as error:
            return _notify_refusal(error)
        return ChannelAnswer(Outcome.ACCEPTED, provider_id=str(response["id"]))

    def delivery_status(self, *, provider_id: str) -> ChannelAnswer | None:
        """Ask Notify how a text message it accepted has gone."""
        try:
            response = self.client.get_notification_by_id(provider_id)
        except HTTPError as error:
            refusal = _notify_refusal(error)
            # However Notify refused to say, the message itself may yet be delivered.
            return ChannelAnswer(Outcome.WAITING, detail=refusal.detail, timed_out=False)
        status = str(response.get("status", ""))
        outcome = NOTIFY_STATUSES.get(status, Outcome.WAITING)
        return ChannelAnswer(outcome, provider_id=provider_id, provider_status=status)


def _notify_refusal(error: HTTPError) -> ChannelAnswer:
    timed_out = isinstance(error.__cause__, requests.Timeout)
    status = error.status_code
    detail = "timed out" if timed_out else f"{status} {_notify_message(error)}"[:200]
    if timed_out or status == RATE_LIMITED or status >= SERVER_ERROR:
        return ChannelAnswer(Outcome.RETRY, detail=detail, timed_out=timed_out)
    if status == BAD_REQUEST and "phone_number" in detail:
        # Notify's ValidationError on the number: not a UK mobile, too short, letters.
        return ChannelAnswer(Outcome.UNUSABLE, detail=detail)
    # 400 otherwise (a team key, a template's placeholder) and 403 (the key): our setup.
    logger.error("GOV.UK Notify refused a text message: %s", detail)
    return ChannelAnswer(Outcome.FAILED, detail=detail)


def _notify_message(error: HTTPError) -> str:
    message = error.message
    if isinstance(message, list):
        return "; ".join(f"{item.get('error', '')}: {item.get('message', '')}" for item in message)
    return str(message)


WCTP_VERSION = "wctp-dtd-v1r3"
# WCTP 1.3's error codes by hundred: 300s the XML, 400s the content (401/402 our sender id
# or security code, 403/404 the pager), 500s the message, 600s the gateway's own systems.
WCTP_RECIPIENT_ERRORS = {403, 404}
WCTP_SYSTEM_ERRORS = range(600, 700)
# A bleep's text is well under this; the cap keeps a page to what a pager's small screen
# shows, the role and priority first, should a role's name be long.
WCTP_TEXT_MAX = 240


class WctpPager:
    """Pages through a gateway speaking WCTP 1.3 (XML over HTTP POST)."""

    kind = ContactKind.PAGER

    def send(self, *, address: str, text: str, reference: str) -> ChannelAnswer:
        """Submit an alphanumeric page to the pager `address`; `reference` is its messageID."""
        body = wctp_submit(
            sender=settings.WCTP_SENDER_ID,
            security_code=settings.WCTP_SECURITY_CODE,
            recipient=address,
            message_id=reference,
            text=text[:WCTP_TEXT_MAX],
            now=datetime.now(UTC),
        )
        try:
            response = requests.post(
                settings.WCTP_URL,
                data=body,
                headers={"Content-Type": "text/xml; charset=utf-8"},
                timeout=CHANNEL_TIMEOUT.total_seconds(),
                allow_redirects=False,
            )
        except requests.Timeout:
            return ChannelAnswer(Outcome.RETRY, detail="timed out", timed_out=True)
        except requests.RequestException as error:
            return ChannelAnswer(Outcome.RETRY, detail=f"{type(error).__name__}"[:200])
        if response.status_code >= SERVER_ERROR:
            return ChannelAnswer(Outcome.RETRY, detail=f"HTTP {response.status_code}")
        return _wctp_answer(response.content, reference=reference)

    def delivery_status(self, *, provider_id: str) -> ChannelAnswer | None:
        """A one-way page has no delivery report to read."""
        return None


def wctp_submit(
    *, sender: str, security_code: str, recipient: str, message_id: str, text: str, now: datetime
) -> bytes:
    """Return a WCTP 1.3 `wctp-SubmitRequest` for one alphanumeric page."""
    operation = ElementTree.Element("wctp-Operation", wctpVersion=WCTP_VERSION)
    submit = ElementTree.SubElement(operation, "wctp-SubmitRequest")
    header = ElementTree.SubElement(
        submit, "wctp-SubmitHeader", submitTimestamp=now.strftime("%Y-%m-%dT%H:%M:%S")
    )
    originator = {"senderID": sender}
    if security_code:
        originator["securityCode"] = security_code
    ElementTree.SubElement(header, "wctp-Originator", originator)
    ElementTree.SubElement(
        header,
        "wctp-MessageControl",
        messageID=message_id,
        allowResponse="false",
        notifyWhenDelivered="false",
    )
    ElementTree.SubElement(header, "wctp-Recipient", recipientID=recipient)
    payload = ElementTree.SubElement(submit, "wctp-Payload")
    ElementTree.SubElement(payload, "wctp-Alphanumeric").text = text
    return ElementTree.tostring(operation, encoding="utf-8", xml_declaration=True)


def _wctp_answer(content: bytes, *, reference: str) -> ChannelAnswer:
    try:
        # defusedxml: the gateway's answer is parsed without entities or external DTDs.
        root = defusedxml.ElementTree.fromstring(content)
    except (ElementTree.ParseError, defusedxml.DefusedXmlException):
        return ChannelAnswer(Outcome.RETRY, detail="the gateway's answer was not WCTP")
    success = root.find(".//wctp-Success")
    if success is not None:
        return ChannelAnswer(
            Outcome.ACCEPTED, provider_id=reference, provider_status=success.get("successCode", "")
        )
    failure = root.find(".//wctp-Failure")
    if failure is None:
        return ChannelAnswer(Outcome.RETRY, detail="the gateway's answer was not WCTP")
    code = int(failure.get("errorCode", "0") or 0)
    detail = f"WCTP {code} {failure.get('errorText', '')}".strip()[:200]
    if code in WCTP_RECIPIENT_ERRORS:
        return ChannelAnswer(Outcome.UNUSABLE, provider_status=str(code), detail=detail)
    if code in WCTP_SYSTEM_ERRORS:
        return ChannelAnswer(Outcome.RETRY, provider_status=str(code), detail=detail)
    logger.error("the pager gateway refused a page: %s", detail)
    return ChannelAnswer(Outcome.FAILED, provider_status=str(code), detail=detail)


def configured_gateways() -> dict[ContactKind, Gateway]:
    """Return the gateways this deployment has settings for, by kind."""
    return _gateways(settings.NOTIFY_API_KEY, settings.NOTIFY_BASE_URL, settings.WCTP_URL)


@cache
def _gateways(notify_key: str, notify_url: str, wctp_url: str) -> dict[ContactKind, Gateway]:
    gateways: dict[ContactKind, Gateway] = {}
    if notify_key:
        gateways[ContactKind.SMS] = NotifySms()
    if wctp_url:
        gateways[ContactKind.PAGER] = WctpPager()
    return gateways
