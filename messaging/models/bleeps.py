"""Devices, bleeps, their deliveries, their history, each person's event stream and pushes."""

from django.conf import settings
from django.db import models

from bleep.append_only import AppendOnlyModel
from rota.models import Location, Person, Role, Team


class Device(models.Model):
    """A signed-in phone or browser: one token, revocable on its own."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices"
    )
    name = models.CharField(max_length=80)
    # Only a digest is stored: a copy of the database must not let anyone sign in.
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When this device last confirmed that something reached it (a bleep's delivered
    # receipt, a phone test): the proof that it rings, which the check before a shift reads.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Signed in through the identity provider: the provider's session (`sid`, which its
    # back-channel logout names) and when the device must sign in there again.
    sso_session_id = models.CharField(max_length=255, blank=True)
    sso_ends_at = models.DateTimeField(null=True, blank=True)
    # The provider's refresh token, sealed (bleep.tokens.seal): renewing it now and then is
    # how Bleep learns an account was disabled or signed out there. When it last did.
    sso_refresh_token = models.TextField(blank=True)
    sso_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} of {self.user}"


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    EMERGENCY = "emergency", "Emergency"


class BleepStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    CANCELLED = "cancelled", "Cancelled"


class DeliveryStatus(models.TextChoices):
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    # Switchboard has taken the bleep on ("phoning the team"); not an acknowledgement.
    HANDLING = "handling", "Handling (switchboard)"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class TeamCall(models.Model):
    """An emergency call to a whole team: one bleep per role, and each role must answer."""

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_calls"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="team_calls")
    idempotency_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        # A sender's send limit counts their recent calls (messaging/services/limits.py).
        indexes = [models.Index(fields=["sender", "created_at"], name="team_call_sender_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_team_call_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"Team call {self.pk} to {self.team}"


class Bleep(models.Model):
    """One message from a sender to a role or a person; its recipients are fixed when sent."""

    MESSAGE_MAX_LENGTH = 500

    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sent_bleeps"
    )
    sender_device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True)
    # The target, exactly one of: a role (routed through the rota) or a person by name.
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="bleeps"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="direct_bleeps",
    )
    # Set when the bleep is one role's part of an emergency call to a whole team.
    team_call = models.ForeignKey(
        "TeamCall", on_delete=models.PROTECT, null=True, blank=True, related_name="bleeps"
    )
    # The role that answered: `role` itself, or the first role on its fallback chain with a holder.
    answering_role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    message = models.CharField(max_length=MESSAGE_MAX_LENGTH)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True)
    bed = models.CharField(max_length=20, blank=True)
    callback_extension = models.CharField(max_length=10, blank=True)
    # Checked with the Modulus 11 rule; shown to the people in the bleep, never on a lock screen.
    nhs_number = models.CharField(max_length=10, blank=True)
    # Chosen by the sender's device, so a retried send returns the first bleep, not a second.
    idempotency_key = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=BleepStatus.choices, default=BleepStatus.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="bleep_status_created"),
            # Send limits and flood alerts count a sender's, and a role's, last minute.
            models.Index(fields=["sender", "created_at"], name="bleep_sender_created"),
            models.Index(fields=["role", "created_at"], name="bleep_role_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_bleep_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role__isnull=False, person__isnull=True)
                    | models.Q(role__isnull=True, person__isnull=False)
                ),
                name="bleep_has_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Bleep {self.pk} to {self.target}"

    @property
    def target(self) -> Role | Person:
        """Return whom the bleep was addressed to: its role or its person."""
        target = self.role or self.person
        assert target is not None
        return target

    @property
    def for_switchboard(self) -> bool:
        """Return whether the bleep is addressed to switchboard itself: a switchboard role, or
        an operator by name (not a clinician's bleep that switchboard was brought into)."""
        if self.role is not None:
            return self.role.kind == Role.Kind.SWITCHBOARD
        return self.person is not None and self.person.job == Person.Job.SWITCHBOARD


class Delivery(models.Model):
    """One recipient's copy of a bleep, with its own state."""

    # A short answer fits a lock screen: "coming, 10 min", "in theatre".
    NOTE_MAX_LENGTH = 200
    # Four hours: beyond that "coming" is not an answer, it is a handover.
    ETA_MAX_MINUTES = 240

    bleep = models.ForeignKey(Bleep, on_delete=models.PROTECT, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deliveries"
    )
    # The role the recipient was reached as; empty for a bleep to a person by name.
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT
    )
    updated_at = models.DateTimeField()
    eta_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)
    decline_reason = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bleep", "recipient"], name="one_delivery_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.bleep} for {self.recipient}: {self.status}"


class HistoryEntry(AppendOnlyModel):
    """One transition of a bleep or a delivery: who, what, when, from which device."""

    bleep = models.ForeignKey(Bleep, on_delete=models.PROTECT, related_name="history")
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # PROTECT, not SET_NULL: clearing it would rewrite the history (which the database
    # refuses), and a device is revoked, never deleted.
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True)
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    # A chain per bleep (messaging.services.history): each entry's hash covers the hash of
    # the entry before it and its own content, so an entry changed, removed or slipped in
    # behind the services' back shows.
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "history entries"

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.action} {self.from_status}→{self.to_status}"


class HistoryHead(models.Model):
    """Where a bleep's history chain ends: its last entry's hash and how many entries it has.

    Without it, removing a history's last entries would leave a shorter chain that still
    holds together. A row of its own, not a field of the bleep, so that no save of a bleep
    loaded earlier in a transaction can set it back.
    """

    bleep = models.OneToOneField(
        Bleep, on_delete=models.PROTECT, primary_key=True, related_name="history_head"
    )
    hash = models.CharField(max_length=64)
    length = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"History of {self.bleep_id}: {self.length} entries, {self.hash[:12]}…"


class Reply(models.Model):
    """A message in a bleep's thread ("coming in 10", "call me on 4321")."""

    TEXT_MAX_LENGTH = 500

    bleep = models.ForeignKey(Bleep, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True)
    text = models.CharField(max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "replies"

    def __str__(self) -> str:
        return f"{self.author} on {self.bleep}: {self.text[:40]}"


class StreamHead(models.Model):
    """The last sequence number handed out in one person's event stream."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user} at {self.last_seq}"


class StreamEvent(models.Model):
    """An event a person must see, numbered so a reconnecting device can resume."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    data = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="one_event_per_seq")]

    def __str__(self) -> str:
        return f"{self.user} #{self.seq} {self.type}"


class PushSubscription(models.Model):
    """One browser's Web Push subscription, belonging to the device signed in on it."""

    # Push-service endpoints run to a few hundred characters (WNS is the longest); this
    # leaves room and still fits a unique index on PostgreSQL.
    ENDPOINT_MAX_LENGTH = 2048

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=ENDPOINT_MAX_LENGTH, unique=True)
    # The browser's keys, base64url without padding: its P-256 public key and auth secret.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=30)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Push to {self.device} via {self.endpoint[:40]}"


class PushUrgency(models.TextChoices):
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"


class PushStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent (accepted by the push service)"
    GONE = "gone", "Gone (subscription no longer valid)"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (the bleep was answered or cancelled first)"


class PushMessage(models.Model):
    """One push to send to one subscription: a row in the outbox the worker empties."""

    # Kept when its subscription is deleted, so "was this phone woken?" has an answer.
    subscription = models.ForeignKey(
        PushSubscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A bleep's push, or a phone test's (which has no bleep).
    bleep = models.ForeignKey(
        Bleep, on_delete=models.PROTECT, null=True, blank=True, related_name="push_messages"
    )
    phone_test = models.ForeignKey(
        "messaging.PhoneTest", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField()
    urgency = models.CharField(max_length=10, choices=PushUrgency.choices)
    topic = models.CharField(max_length=32)
    ttl_seconds = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    # When to try next; pushed forward while a sender holds it, so a crashed one's rows return.
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=PushStatus.choices, default=PushStatus.PENDING)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"],
                name="push_pending_due",
                condition=models.Q(status="pending"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bleep__isnull=False) | models.Q(phone_test__isnull=False),
                name="push_wakes_for_a_bleep_or_a_test",
            )
        ]

    def __str__(self) -> str:
        return f"Push for {self.bleep or self.phone_test} ({self.status})"


class FloodAlert(models.Model):
    """Switchboard's warning: one sender passed the send limit, or one role got too many bleeps.

    One alert covers a whole flood: it stays open (`closed_at` empty) while bleeps keep coming
    within a minute of each other, its `count` and `last_at` kept current, and a partial unique
    index lets only one be open per subject. It names who sent and which role, never a patient.
    """

    class Kind(models.TextChoices):
        SENDER = "sender", "One sender past the send limit"
        ROLE = "role", "Too many bleeps to one role"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    # "sender:<person id>" or "role:<role id>": what the one-open-alert rule is kept on.
    subject = models.CharField(max_length=40)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, null=True, blank=True, related_name="flood_alerts"
    )
    # Bleeps counted in the minute before `last_at`, the first of them sent at `first_at`.
    count = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    raised_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_at"], name="flood_alert_last")]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=models.Q(closed_at__isnull=True),
                name="one_open_flood_alert_per_subject",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="sender", sender__isnull=False)
                    | models.Q(kind="role", role__isnull=False)
                ),
                name="flood_alert_names_its_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"Flood of {self.count} ({self.subject}) from {self.first_at:%H:%M:%S}"
