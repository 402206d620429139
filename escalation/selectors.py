"""Reads of escalation state."""

from datetime import datetime, timedelta

from escalation.models import WorkerHeartbeat

# A worker beats every few seconds; this long without one means none is running.
HEARTBEAT_STALE_AFTER = timedelta(seconds=30)


def latest_heartbeat(*, now: datetime) -> tuple[datetime | None, bool]:
    """Return the newest worker heartbeat and whether it is recent enough to trust."""
    newest = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if newest is None:
        return None, False
    return newest.beat_at, now - newest.beat_at <= HEARTBEAT_STALE_AFTER
