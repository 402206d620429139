"""Reads of escalation state: which policy governs a role, what is due, worker health."""

from datetime import datetime, timedelta

from django.db.models import Q

from escalation.models import Deadline, Policy, WorkerHeartbeat
from rota.models import Role

# A worker beats every few seconds; this long without one means none is running.
HEARTBEAT_STALE_AFTER = timedelta(seconds=30)


def latest_heartbeat(*, now: datetime) -> tuple[datetime | None, bool]:
    """Return the newest worker heartbeat and whether it is recent enough to trust."""
    newest = WorkerHeartbeat.objects.order_by("-beat_at").first()
    if newest is None:
        return None, False
    return newest.beat_at, now - newest.beat_at <= HEARTBEAT_STALE_AFTER


def policy_for(role: Role | None) -> Policy | None:
    """Return the policy governing bleeps to `role`: its own, else its team's, else its site's."""
    if role is None:
        return None
    candidates = Policy.objects.filter(
        Q(role=role) | Q(team_id=role.team_id) | Q(site_id=role.site_id)
    ).prefetch_related("steps")
    by_scope = {"role" if p.role_id else "team" if p.team_id else "site": p for p in candidates}
    return by_scope.get("role") or by_scope.get("team") or by_scope.get("site")


def next_deadline_due() -> datetime | None:
    """Return when the soonest pending deadline is due, if any."""
    soonest = (
        Deadline.objects.filter(fired_at__isnull=True).order_by("due_at").values("due_at").first()
    )
    return soonest["due_at"] if soonest else None


def overdue_deadlines(*, older_than: datetime) -> tuple[int, datetime | None]:
    """Return how many pending deadlines fell due before `older_than`, and the oldest's due."""
    overdue = Deadline.objects.filter(fired_at__isnull=True, due_at__lt=older_than)
    oldest = overdue.order_by("due_at").values("due_at").first()
    if oldest is None:
        return 0, None
    return overdue.count(), oldest["due_at"]
