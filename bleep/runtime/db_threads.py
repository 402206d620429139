"""Blocking database calls from the event loop, on threads of our choosing rather than
asgiref's one thread for the process, each handing its connection back when it ends."""

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection

# Sockets' database work runs on this many threads of the process. Left to
# `database_sync_to_async`'s default it would all run on the one thread asgiref keeps for
# the whole process (Channels gives a socket no thread of its own), so every socket's sign-in,
# catch-up and acknowledgement queued behind every other's: a reconnect storm ran one
# sign-in at a time (docs/benchmarks.md). Each call is whole in itself (its own transaction,
# its connection handed back to the pool), so any thread will do; one socket's calls still
# run one after another.
SOCKET_DB_THREADS = 4
_socket_db_threads = ThreadPoolExecutor(SOCKET_DB_THREADS, thread_name_prefix="socket-db")


def on_executor(
    func: Callable[..., Any], executor: ThreadPoolExecutor
) -> Callable[..., Awaitable[Any]]:
    """Wrap a blocking database call to run on `executor`, handing its connection back after."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            # Back to the pool now: an idle thread must not sit on a connection.
            connection.close()

    return sync_to_async(call, thread_sensitive=False, executor=executor)


def on_db_thread(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Wrap a blocking database call for a socket, to run on the sockets' threads."""
    return on_executor(func, _socket_db_threads)
