"""Escalation policies, each bleep's copy of its policy, durable deadlines, the heartbeat."""

from django.db import models
from django.db.models import Q

from messaging.models import Bleep
from rota.models import Role, Site, Team


class StepAction(models.TextChoices):
    RENOTIFY = "renotify", "Re-notify the same recipients"
    ESCALATE = "escalate", "Escalate to a role (or up the fallback chain)"
    NOTIFY_SWITCHBOARD = "notify_switchboard", "Notify switchboard"
    BROADCAST_TEAM = "broadcast_team", "Broadcast to a team"


class Policy(models.Model):
    """How an unanswered bleep escalates, for one role, or as the default of a team or site."""

    MAX_STEPS = 12
    MAX_REPEAT = 10

    # Exactly one scope: a role's own policy beats its team's, which beats its site's.
    role = models.OneToOneField(
        Role, on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="policy"
    )
    # How many more times the steps run after the first pass.
    repeat = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "policies"
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role__isnull=False, team__isnull=True, site__isnull=True)
                    | Q(role__isnull=True, team__isnull=False, site__isnull=True)
                    | Q(role__isnull=True, team__isnull=True, site__isnull=False)
                ),
                name="policy_has_one_scope",
            )
        ]

    def __str__(self) -> str:
        scope = self.role or self.team or self.site
        return f"Policy for {scope}"


class PolicyStep(models.Model):
    """One "after D, do A" of a policy, with D for each priority."""

    # A day: longer than that is not escalation, it is a lost bleep.
    MAX_AFTER_SECONDS = 24 * 60 * 60

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    action = models.CharField(max_length=20, choices=StepAction.choices)
    # For `escalate`: the role to reach; empty means the next role up the fallback chain.
    target_role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # For `broadcast_team`: the team whose role holders are all bleeped.
    target_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    after_routine_seconds = models.PositiveIntegerField()
    after_urgent_seconds = models.PositiveIntegerField()
    after_emergency_seconds = models.PositiveIntegerField()

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="one_step_per_position"),
            models.CheckConstraint(
                condition=Q(target_team__isnull=True) | Q(action="broadcast_team"),
                name="only_a_broadcast_names_a_team",
            ),
            models.CheckConstraint(
                condition=Q(target_role__isnull=True) | Q(action="escalate"),
                name="only_an_escalation_names_a_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} step {self.position}: {self.action}"


class BleepPlan(models.Model):
    """A bleep's own copy of its policy as it was when sent, and how far it has escalated.

    Later edits to the policy never change a bleep in flight.
    """

    bleep = models.OneToOneField(Bleep, on_delete=models.PROTECT, related_name="plan")
    # Where the copy came from, for the history ("role", "team", "site" or "default").
    source = models.CharField(max_length=20)
    # [{"action", "target_role", "target_team", "after_seconds"}], timings for this priority.
    steps = models.JSONField()
    repeat = models.PositiveSmallIntegerField()
    # The highest role reached so far; an `escalate` step without a target goes one above it.
    reached_role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Plan of {self.bleep}"


class Deadline(models.Model):
    """When step `step` of a bleep's escalation is due; `fired_at` is set once it has run.

    `fired_at` is the moment the step acted as of (its worker's turn began); `took_effect_at`
    is when that turn's transaction was about to commit, the moment phones could first
    ring, and lateness is measured to it from `due_at`. A step whose firing failed keeps
    its `due_at` (it is late, and the watchdog sees it) and waits until `retry_at`.
    """

    bleep = models.ForeignKey(Bleep, on_delete=models.PROTECT, related_name="deadlines")
    step = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    fired_at = models.DateTimeField(null=True, blank=True)
    took_effect_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The guard that makes each step happen once, whatever the workers do.
            models.UniqueConstraint(fields=["bleep", "step"], name="one_deadline_per_step")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="deadline_pending_due", condition=Q(fired_at__isnull=True)
            ),
            # The few steps waiting to be tried again, for the worker's next wake-up.
            models.Index(
                fields=["retry_at"],
                name="deadline_pending_retry",
                condition=Q(fired_at__isnull=True, retry_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bleep} step {self.step} due {self.due_at:%H:%M:%S}"


class WorkerHeartbeat(models.Model):
    """The last time each escalation worker showed it was alive."""

    name = models.CharField(max_length=120, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"


class OverdueAlert(models.Model):
    """A time the watchdog found escalations overdue (no worker firing them) and said so."""

    raised_at = models.DateTimeField()
    overdue = models.PositiveIntegerField()
    oldest_due_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    # Always "escalations": with the condition below, at most one alert is open at a time,
    # however many web processes run the watchdog.
    subject = models.CharField(max_length=20, default="escalations", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=Q(cleared_at__isnull=True), name="one_open_alert"
            )
        ]

    def __str__(self) -> str:
        return f"{self.overdue} overdue at {self.raised_at:%H:%M:%S}"
