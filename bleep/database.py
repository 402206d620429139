"""When the database cannot be reached: which errors say so, and when a client should retry.

PostgreSQL down, restarting or unreachable reaches the code as one of these errors, raised
within the pool's wait (`DB_POOL_TIMEOUT`, README). Every way in answers them the same way:
REST with 503 and `Retry-After` (api/exceptions.py), the socket's sign-in by closing with
4503 (messaging/consumers.py). Nothing is half-stored: each service owns its transaction, so
a failed one rolled back, and a retried send with its idempotency key cannot make a second.
"""

from django.db import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

# Django wraps what psycopg raises inside its own calls (the pool's timeout included) as
# OperationalError or InterfaceError; PoolTimeout is named too in case one escapes unwrapped.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)

# What a client is told to wait before trying again: long enough that a ward's phones do
# not hammer a server that cannot answer, short enough that a bleep goes soon after the
# database is back (the pool reconnects within about two seconds of it, settings.py).
RETRY_AFTER_SECONDS = 2


def is_database_unavailable(error: BaseException) -> bool:
    """Say whether `error` means the database could not be reached or answer."""
    return isinstance(error, DATABASE_UNAVAILABLE)
