"""Durable deadlines and the worker's heartbeat."""

from django.db import models
from django.db.models import Q

from messaging.models import Bleep


class Deadline(models.Model):
    """When step `step` of a bleep's escalation is due; set `fired_at` once it has run."""

    bleep = models.ForeignKey(Bleep, on_delete=models.PROTECT, related_name="deadlines")
    step = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The guard that makes each step happen once, whatever the workers do.
            models.UniqueConstraint(fields=["bleep", "step"], name="one_deadline_per_step")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="deadline_pending_due", condition=Q(fired_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.bleep} step {self.step} due {self.due_at:%H:%M:%S}"


class WorkerHeartbeat(models.Model):
    """The last time each escalation worker showed it was alive."""

    name = models.CharField(max_length=120, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"
