"""Waking the escalation workers: a hint after commit that a deadline or push is due soon.

The hint only saves time. Workers also read the next deadline from the database and poll
every second, so a lost hint (the channel layer is at-most-once) delays, never loses, a step.
"""

import logging
from datetime import timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from escalation.models import OverdueAlert

logger = logging.getLogger(__name__)

# The longest a worker sleeps without rereading its soonest deadline, hint or no hint: a
# deadline due later than this from now is found without one.
POLL_INTERVAL = timedelta(seconds=1)

WAKE_GROUP = "escalation.wake"
WAKE_MESSAGE = {"type": "escalation.wake"}


def wake_workers_on_commit() -> None:
    """Tell every worker to look at its deadlines and pushes once this transaction commits."""
    transaction.on_commit(_wake)


def _wake() -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(WAKE_GROUP, WAKE_MESSAGE)
    except Exception:
        logger.warning("could not wake the escalation workers; they poll", exc_info=True)


def escalations_overdue(alert: OverdueAlert) -> dict[str, Any]:
    """Switchboard's alarm: escalation steps are overdue, so bleeps may be going unanswered."""
    return {
        "type": "escalation.overdue",
        "overdue": alert.overdue,
        "oldest_due_at": alert.oldest_due_at.isoformat(),
        "detail": "escalations are not running: watch the open bleeps by hand",
    }


def escalations_recovered(alert: OverdueAlert) -> dict[str, Any]:
    """Tell switchboard the overdue steps are being fired again."""
    return {"type": "escalation.recovered", "raised_at": alert.raised_at.isoformat()}
