"""The rota: who works here, where, and which role each person holds when."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q


class Person(AbstractUser):
    """Anyone who signs in: ward staff, doctors, switchboard, rota managers."""

    class Job(models.TextChoices):
        NURSE = "nurse", "Nurse / ward staff"
        DOCTOR = "doctor", "Doctor"
        PRACTITIONER = "practitioner", "Hospital at Night practitioner"
        SWITCHBOARD = "switchboard", "Switchboard operator"
        ROTA_MANAGER = "rota_manager", "Rota manager"

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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="team_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """An addressable on-call position; bleeps go to roles, not to people."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="roles")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="roles")
    name = models.CharField(max_length=120)
    bleep_number = models.CharField(max_length=10)
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


class Shift(models.Model):
    """A person holds a role from `start` (inclusive) to `end` (exclusive), both UTC."""

    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="shifts")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="shifts")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="shift_ends_after_start")
        ]
        indexes = [models.Index(fields=["role", "start", "end"], name="shift_role_window")]

    def __str__(self) -> str:
        return f"{self.person} as {self.role} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M} UTC"
