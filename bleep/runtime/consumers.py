"""How a WebSocket consumer handles each message: without Channels' stale-connection sweep."""

from typing import Any

from channels.consumer import get_handler_name


class DirectDispatch:
    """A consumer mixin handling each message without Channels' stale-connection sweep."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Handle one message, without Channels' closing of stale database connections first.

        Channels runs `close_old_connections` before every message a consumer handles, on
        asgiref's one thread for the whole process: every frame to every socket (a bleep, a
        receipt, a pong) queued on that thread and back (docs/benchmarks.md). A consumer using
        this touches the database only through `on_db_thread`, whose calls hand their
        connection back when they end, so there is nothing stale to close.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"no handler for message type {message['type']}")
        await handler(message)
