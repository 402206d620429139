"""The rota: who works here, where, and which role each person holds when."""

from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q

from bleep.append_only import AppendOnlyModel


class Person(AbstractUser):
    """Anyone who signs in: ward staff, doctors, switchboard, rota managers."""

    class Job(models.TextChoices):
        NURSE = "nurse", "Nurse / ward staff"
        DOCTOR = "doctor", "Doctor"
        PRACTITIONER = "practitioner", "Hospital at Night practitioner"
        SWITCHBOARD = "switchboard", "Switchboard operator"
        ROTA_MANAGER = "rota_manager", "Rota manager"
        AUDITOR = "auditor", "Clinical safety officer (reads every bleep, acts on none)"
        # Not a human: an integrating system's own account (messaging.models.SystemClient),
        # the sender of its bleeps. It never holds a shift and is never bleeped.
        SYSTEM = "system", "Integrating system"

    class Grade(models.TextChoices):
        F1 = "f1", "Foundation year 1"
        F2 = "f2", "Foundation year 2"
        CT = "ct", "Core trainee (SHO)"
        ST = "st", "Specialty registrar"
        CONSULTANT = "consultant", "Consultant"

    job = models.CharField(max_length=20, choices=Job.choices, default=Job.NURSE)
    grade = models.CharField(max_length=20, choices=Grade.choices, blank=True)
    display_name = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class Site(models.Model):
    """A hospital; its time zone is the one shifts are entered and shown in."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/London")

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    """A ward or department of a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="locations")
    name = models.CharField(max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="location_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A clinical or support team that owns roles."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=120)
    # Whether an agreed swap also needs a rota manager's approval before it changes the rota.
    swaps_need_approval = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="team_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """An addressable on-call position; bleeps go to roles, not to people."""

    class Kind(models.TextChoices):
        CLINICAL = "clinical", "Clinical role"
        SWITCHBOARD = "switchboard", "Switchboard (where every fallback chain ends)"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="roles")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="roles")
    name = models.CharField(max_length=120)
    bleep_number = models.CharField(max_length=10)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CLINICAL)
    # Where a bleep goes when nobody holds this role; the chain ends at switchboard.
    fallback = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="fallback_for"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "bleep_number"], name="bleep_number_unique_per_site"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.bleep_number})"


class Pattern(models.Model):
    """A recurring shift in wall-clock time, rotating through people, expanded into shifts.

    "Mon–Thu nights 20:00–08:30, rotating weekly through these six registrars": weekdays
    [0, 1, 2, 3], start 20:00, end 08:30 (an end not after the start is on the next day).
    """

    class Rotation(models.TextChoices):
        EACH_SHIFT = "shift", "Next person each shift"
        EACH_WEEK = "week", "Next person each week"

    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="patterns")
    name = models.CharField(max_length=120)
    weekdays = models.JSONField(help_text="Days the shift starts on: 0 Monday … 6 Sunday.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    rotation = models.CharField(max_length=10, choices=Rotation.choices, default=Rotation.EACH_WEEK)
    # The first day of the rotation: the person at position 0 works the first shift or week.
    anchor_date = models.DateField()

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class PatternMember(models.Model):
    """One person's place in a pattern's rotation."""

    pattern = models.ForeignKey(Pattern, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["pattern", "position"], name="one_member_per_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}: {self.person}"


class Shift(models.Model):
    """A person holds a role from `start` (inclusive) to `end` (exclusive), both UTC."""

    # Long enough for a fortnight of consultant on-call from home; the bound is what lets
    # "who holds this role now" read a few index entries instead of a role's whole history.
    MAX_LENGTH = timedelta(days=14)

    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="shifts")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="shifts")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # Where it came from, so re-expanding a pattern or re-importing a calendar updates it.
    pattern = models.ForeignKey(
        Pattern, on_delete=models.SET_NULL, null=True, blank=True, related_name="shifts"
    )
    external_uid = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")
        ]
        indexes = [
            models.Index(fields=["role", "start", "end"], name="shift_role_window"),
            models.Index(fields=["person", "start", "end"], name="shift_person_window"),
        ]

    def __str__(self) -> str:
        return f"{self.person} as {self.role} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"


class SwapRequest(models.Model):
    """A doctor asks a colleague to take their shift, or to trade it for one of theirs."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted, awaiting a rota manager"
        APPLIED = "applied", "Applied to the rota"
        DECLINED = "declined", "Declined by the colleague"
        REJECTED = "rejected", "Rejected by a rota manager"
        CANCELLED = "cancelled", "Cancelled"

    shift = models.ForeignKey(Shift, on_delete=models.PROTECT, related_name="+")
    # None when the colleague simply takes the shift; else the shift they give in return.
    counterpart_shift = models.ForeignKey(
        Shift, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requester = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    counterpart = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.requester} → {self.counterpart}: {self.status}"


class RotaManagerScope(models.Model):
    """What a rota manager may change: one team, or every team of one site."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rota_scopes")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)
    site = models.ForeignKey(Site, on_delete=models.CASCADE, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=True) ^ Q(site__isnull=True),
                name="scope_is_a_team_or_a_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} manages {self.team or self.site}"


class CalendarFeed(models.Model):
    """A secret iCal URL for one role or one person, revocable on its own.

    Calendar apps cannot send headers, so here (and only here) the secret is in the URL;
    only its digest is stored, and it shows shifts, never bleeps.
    """

    token_digest = models.CharField(max_length=64, unique=True)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, null=True, blank=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, null=True, blank=True)
    owner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="calendar_feeds")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__isnull=True) ^ Q(person__isnull=True),
                name="feed_is_for_a_role_or_a_person",
            )
        ]

    def __str__(self) -> str:
        return f"feed of {self.role or self.person}"


class RotaChange(AppendOnlyModel):
    """One change to rota data: who, when, and the object before and after."""

    actor = models.ForeignKey(Person, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField()
    action = models.CharField(max_length=30)
    model = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["model", "object_id"], name="rota_change_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.model} {self.object_id}"


class ImportJob(models.Model):
    """A rota file waiting for, or done by, a worker: imports never hold a request thread.

    The row is the truth: a worker claims it, and applies the file and marks it finished in
    one transaction, so a crash part-way leaves it to be run again, never half-applied.
    """

    class Kind(models.TextChoices):
        CSV = "csv"
        ICAL = "ical"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    owner = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="import_jobs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Emptied once the job has finished: the report is what is kept.
    data = models.TextField()
    options = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    report = models.JSONField(null=True, blank=True)
    errors = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="import_job_unfinished",
                condition=Q(status__in=["queued", "running"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} import {self.pk} ({self.status})"
