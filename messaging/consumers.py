"""The WebSocket every signed-in device keeps open (protocol: docs/protocol.md)."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.serializers import Serializer

from bleep import json_depth, metrics
from bleep.database import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS
from bleep.runtime.consumers import DirectDispatch
from bleep.runtime.db_threads import on_db_thread
from messaging import events, selectors
from messaging.actions import Action
from messaging.drafts import (
    AcknowledgeSerializer,
    DeclineSerializer,
    HandleSerializer,
    ReplySerializer,
    SendBleepSerializer,
)
from messaging.exceptions import InvalidToken
from messaging.models import Bleep, Delivery, Device
from messaging.services import answers, devices
from messaging.services.bleeps import BleepDraft
from rota.models import Person

logger = logging.getLogger(__name__)

# A socket that has sent nothing within this many seconds is closed. One that has sent its
# `auth` frame is not: its sign-in may be waiting for the database, and closing it as if it
# had never spoken (4408) told the phone to fix itself when it had done nothing wrong.
AUTH_TIMEOUT_SECONDS = 10.0

# A first frame that is not a valid `auth` frame, or any frame that is not JSON text.
CLOSE_BAD_FIRST_MESSAGE = 4400
CLOSE_INVALID_TOKEN = 4401
CLOSE_AUTH_TIMEOUT = 4408
# Sign-in could not reach the database: reconnect with backoff. HTTP's 503 in the 4xxx range,
# as 4401 and 4408 are; WebSocket's own 1013 ("try again later") is refused by daphne's
# autobahn, which sends only 1000 and 3000-4999.
CLOSE_TRY_AGAIN_LATER = 4503

# A frame's envelope, not an action's fields: left out when those are checked, as REST
# checks a request's body and not its URL.
FRAME_KEYS = ("type", "ref", "bleep_id")


class SendBleep(Protocol):
    """Send a bleep and start its escalation clock; return it and whether it is new."""

    def __call__(
        self, *, sender: Person, device: Device | None, draft: BleepDraft, now: datetime
    ) -> tuple[Bleep, bool]: ...


class DeclineBleep(Protocol):
    """Decline one's copy of a bleep; escalate at once when nobody is left waiting."""

    def __call__(
        self, *, device: Device, bleep_id: int, reason: str, now: datetime
    ) -> Delivery: ...


class DescribeError(Protocol):
    """Return the body REST answers for a domain or validation error; None for any other."""

    def __call__(self, exc: Exception) -> dict[str, Any] | None: ...


class DeviceConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """One device's socket: authenticate, catch up from a sequence number, then stay live."""

    device: Device | None = None
    last_seq: int = 0
    auth_timer: asyncio.Task[None] | None = None

    def __init__(
        self,
        *args: Any,
        send_bleep: SendBleep,
        decline_bleep: DeclineBleep,
        describe_error: DescribeError,
        **kwargs: Any,
    ) -> None:
        # Sending starts a bleep's escalation clock and a decline may move it: both belong
        # to `escalation`, the app above this one. The project's routing hands those two
        # services in, so imports still go one way and the socket acts exactly as REST does.
        # It hands in REST's table of error answers too: one table, in `api`, says what
        # every refusal is called whichever way it came in, rather than a second copy here.
        super().__init__(*args, **kwargs)
        self.send_bleep = send_bleep
        self.decline_bleep = decline_bleep
        self.describe_error = describe_error

    async def connect(self) -> None:
        await self.accept()
        self.auth_timer = asyncio.create_task(self._close_unless_authenticated())

    async def disconnect(self, code: int) -> None:
        self._stop_auth_timer()
        if self.device is not None:
            metrics.OPEN_SOCKETS.dec()
            await self.channel_layer.group_discard(
                events.user_group(self.device.user_id), self.channel_name
            )

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # Bounded in depth: a frame of a thousand `[` raised RecursionError, closing 1011.
        return json_depth.loads(text_data)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Decode one frame, closing the socket with 4400 when it is not JSON text.

        Channels' own `receive` raises on a binary frame or text that is not JSON, which
        closed the socket 1011 and logged a traceback for a client's mistake. The protocol
        is JSON text frames only, so a frame that is anything else means a broken client,
        before sign-in or after, and it is told so with 4400, as a bad first frame is.
        """
        if not text_data:
            await self._refuse_frame("a binary or empty frame")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError as error:  # JSONDecodeError, TooDeep and bad UTF-16 are ValueErrors
            await self._refuse_frame(f"a frame that is not JSON ({error})")
            return
        await self.receive_json(content, **kwargs)

    async def _refuse_frame(self, what: str) -> None:
        self._stop_auth_timer()
        logger.info("socket closed 4400 on %s", what)
        await self.close(code=CLOSE_BAD_FIRST_MESSAGE)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) and self.device is None:
            await self._refuse_frame("a first frame that is not a JSON object")
            return
        if not isinstance(content, dict):
            await self.send_json(
                {"type": "error", "code": "invalid", "detail": "send a JSON object"}
            )
            return
        if self.device is None:
            await self._authenticate(content)
            return
        handler = self._actions().get(str(content.get("type")))
        if handler is None:
            await self._error(
                content, "unknown_type", f"unknown message type {content.get('type')!r}"
            )
            return
        try:
            await handler(content)
        except DATABASE_UNAVAILABLE as error:
            # A signed-in phone keeps its socket through an outage: this action is refused
            # now and the phone tries again. Nothing was half-stored (each service owns its
            # transaction), and closing would only add a reconnect storm to the outage.
            logger.warning("socket %s refused, the database is unavailable: %s", content, error)
            await self._error(
                content,
                "database_unavailable",
                "Bleep's database is not answering just now: try again shortly",
                retry_after=RETRY_AFTER_SECONDS,
            )

    async def stream_event(self, message: dict[str, Any]) -> None:
        """Forward a live event from the channel layer, filling any gap from the database."""
        if self.device is None:
            return
        event = message["event"]
        if event["seq"] <= self.last_seq:
            return
        if event["seq"] > self.last_seq + 1:
            await self._catch_up(upto=event["seq"] - 1)
        await self.send_json(event)
        self.last_seq = event["seq"]

    async def device_revoked(self, message: dict[str, Any]) -> None:
        """Close this socket if it is the device whose token was revoked."""
        if self.device is not None and message["device_id"] == self.device.pk:
            await self.close(code=CLOSE_INVALID_TOKEN)

    async def _authenticate(self, content: dict[str, Any]) -> None:
        # This socket has spoken: the timer is for silent ones only.
        self._stop_auth_timer()
        last_seq = content.get("last_seq", 0)
        resume = content.get("resume", False)
        if (
            content.get("type") != "auth"
            or not isinstance(content.get("token"), str)
            or not (isinstance(last_seq, int) and last_seq >= 0)
            or not isinstance(resume, bool)
        ):
            await self.close(code=CLOSE_BAD_FIRST_MESSAGE)
            return
        try:
            await self._sign_in(content["token"], last_seq, resume=resume or last_seq > 0)
        except InvalidToken:
            await self.close(code=CLOSE_INVALID_TOKEN)
        except DATABASE_UNAVAILABLE as error:
            logger.warning("socket sign-in closed 4503, the database is unavailable: %s", error)
            await self.close(code=CLOSE_TRY_AGAIN_LATER)

    async def _sign_in(self, token: str, last_seq: int, *, resume: bool) -> None:
        """Find the device, then bring it up to date from `last_seq` and make it live.

        A device that has been caught up before resumes, even from 0: one whose person's
        stream was still empty then has seen nothing, and a snapshot now would hold only the
        bleeps still open, so an acknowledgement made while it was away never reached it
        (docs/safety/, HZ-22). Only a device with nothing to resume from gets a snapshot.
        """
        device = await on_db_thread(devices.authenticate_device)(token=token, now=timezone.now())
        metrics.OPEN_SOCKETS.inc()
        self.device, self.last_seq = device, last_seq
        # Join before reading the backlog: an event committed in between arrives live and
        # is dropped or gap-filled by its number, never lost.
        await self.channel_layer.group_add(events.user_group(device.user_id), self.channel_name)
        await self.send_json(
            {
                "type": "authenticated",
                # The job too, so the app knows from the first frame which screens are its own
                # (switchboard's board) even when it opened without /api/me.
                "user": {"id": device.user_id, "name": str(device.user), "job": device.user.job},
                "device": {
                    "id": device.pk,
                    "name": device.name,
                    "expires_at": devices.device_expires_at(device).isoformat(),
                },
            }
        )
        if not resume:
            await self._send_snapshot()
        else:
            await self._catch_up()
        await self.send_json({"type": "caught_up", "seq": self.last_seq})

    async def _send_snapshot(self) -> None:
        """Give a new device the open bleeps it is part of, and the stream's current number.

        Cheaper and clearer than replaying a person's whole history to a new phone; a bleep
        sent meanwhile can arrive both here and as a live event, and carries its id.
        """
        assert self.device is not None
        head, bleeps = await on_db_thread(selectors.snapshot_for)(self.device.user)
        await self.send_json(
            {"type": "snapshot", "seq": head, "bleeps": [events.bleep_summary(b) for b in bleeps]}
        )
        self.last_seq = head

    async def _catch_up(self, upto: int | None = None) -> None:
        assert self.device is not None
        while True:
            missed = await on_db_thread(selectors.events_after)(
                self.device.user_id, self.last_seq, upto=upto
            )
            if not missed:
                return
            for stored in missed:
                await self.send_json(events.wire_format(stored))
                self.last_seq = stored.seq

    async def _close_unless_authenticated(self) -> None:
        await asyncio.sleep(AUTH_TIMEOUT_SECONDS)
        if self.device is None:
            await self.close(code=CLOSE_AUTH_TIMEOUT)

    def _stop_auth_timer(self) -> None:
        if self.auth_timer is not None:
            self.auth_timer.cancel()
            # A cancelled task keeps its exception and frames: 1.7 KiB on every open socket.
            self.auth_timer = None

    def _actions(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "ping": self._pong,
            "delivered": self._receipt(Action.DELIVER),
            "read": self._receipt(Action.READ),
            "acknowledge": self._answer(answers.acknowledge_bleep, AcknowledgeSerializer),
            "decline": self._answer(self.decline_bleep, DeclineSerializer),
            "handle": self._answer(answers.handle_bleep, HandleSerializer),
            "reply": self._answer(answers.reply_to_bleep, ReplySerializer),
            "send": self._send,
        }

    async def _pong(self, content: dict[str, Any]) -> None:
        # The live path can drop events (a Redis restart) without the socket closing; a ping
        # is the phone's chance to learn of them, so it first gets anything stored since.
        await self._catch_up()
        await self.send_json({"type": "pong", "ref": content.get("ref"), "seq": self.last_seq})

    def _receipt(self, action: Action) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def handle(content: dict[str, Any]) -> None:
            await self._call(
                content, answers.record_receipt, action=action, bleep_id=content.get("bleep_id")
            )

        return handle

    def _answer(
        self, service: Callable[..., Any], form: type[Serializer]
    ) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """Return an action that checks its frame with REST's serializer, then runs `service`."""

        async def handle(content: dict[str, Any]) -> None:
            body = {key: value for key, value in content.items() if key not in FRAME_KEYS}
            incoming = form(data=body)
            try:
                # On the event loop: these serializers' plain fields read no database.
                incoming.is_valid(raise_exception=True)
            except ValidationError as error:
                await self._refuse(content, error)
                return
            await self._call(
                content, service, bleep_id=content.get("bleep_id"), **incoming.validated_data
            )

        return handle

    async def _send(self, content: dict[str, Any]) -> None:
        body = {key: value for key, value in content.items() if key not in ("type", "ref")}
        try:
            bleep, created = await on_db_thread(self._send_draft)(body)
        except Exception as error:
            await self._refuse(content, error)
        else:
            await self.send_json(
                {"type": "ok", "ref": content.get("ref"), "bleep_id": bleep.pk, "created": created}
            )

    def _send_draft(self, body: dict[str, Any]) -> tuple[Bleep, bool]:
        assert self.device is not None
        incoming = SendBleepSerializer(data=body)
        incoming.is_valid(raise_exception=True)
        return self.send_bleep(
            sender=self.device.user, device=self.device, draft=incoming.draft(), now=timezone.now()
        )

    async def _call(
        self, content: dict[str, Any], service: Callable[..., Any], **kwargs: Any
    ) -> None:
        """Run one service for this device and answer `ok` or `error` with the client's ref."""
        if not isinstance(kwargs.get("bleep_id"), int):
            await self._error(content, "invalid", "bleep_id must be a whole number")
            return
        try:
            await on_db_thread(service)(device=self.device, now=timezone.now(), **kwargs)
        except Exception as error:
            await self._refuse(content, error)
        else:
            await self.send_json({"type": "ok", "ref": content.get("ref")})

    async def _refuse(self, content: dict[str, Any], error: Exception) -> None:
        """Answer an error frame with REST's code and words for `error`; re-raise any other."""
        body = self.describe_error(error)
        if body is None:
            raise error
        await self.send_json({"type": "error", "ref": content.get("ref"), **body})

    async def _error(self, content: dict[str, Any], code: str, detail: str, **extra: Any) -> None:
        await self.send_json(
            {"type": "error", "ref": content.get("ref"), "code": code, "detail": detail, **extra}
        )
