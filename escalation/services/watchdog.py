"""The watchdog: notice escalation steps nobody is firing, and tell switchboard."""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from escalation import events
from escalation.models import OverdueAlert
from escalation.selectors import overdue_deadlines
from messaging.selectors import switchboard_operator_ids
from messaging.services.stream import append_events, stream_transaction

logger = logging.getLogger(__name__)

# A step this late means no worker is firing steps (a worker fires within a second). With
# the watchdog looking every 30 s, an outage is reported within 90 s, inside two minutes.
OVERDUE_AFTER = timedelta(seconds=60)


def watch_deadlines(*, now: datetime) -> OverdueAlert | None:
    """Raise one alert while steps are overdue and clear it when they are not; return it.

    Owns its transaction. Any number of web processes may watch: at most one alert is open
    at a time (a partial unique index), so switchboard is told once per outage.
    """
    count, oldest = overdue_deadlines(older_than=now - OVERDUE_AFTER)
    with stream_transaction():
        alert = OverdueAlert.objects.select_for_update().filter(cleared_at__isnull=True).first()
        if count == 0 or oldest is None:
            if alert is not None:
                _clear(alert=alert, now=now)
            return None
        if alert is not None:
            return alert
        try:
            with transaction.atomic():
                alert = OverdueAlert.objects.create(
                    raised_at=now, overdue=count, oldest_due_at=oldest
                )
        except IntegrityError:
            return OverdueAlert.objects.filter(cleared_at__isnull=True).first()
        logger.error(
            "%d escalation steps overdue, the oldest due at %s: is the worker running?",
            count,
            oldest.isoformat(),
        )
        append_events(
            user_ids=switchboard_operator_ids(), event=events.escalations_overdue(alert), now=now
        )
    return alert


def _clear(*, alert: OverdueAlert, now: datetime) -> None:
    alert.cleared_at = now
    alert.save(update_fields=["cleared_at"])
    logger.warning("escalation steps are being fired again")
    append_events(
        user_ids=switchboard_operator_ids(), event=events.escalations_recovered(alert), now=now
    )
