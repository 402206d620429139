"""Ways to reach a person besides the app (a mobile number, a pager), the outbox of text and
pager messages, the phone tests that prove a device rings, and the warnings before a shift."""

from django.conf import settings
from django.db import models

from messaging.models.bleeps import Bleep, Device
from rota.models import Shift


class ContactKind(models.TextChoices):
    SMS = "sms", "Text message"
    PAGER = "pager", "Pager"


class ContactPoint(models.Model):
    """One of a person's numbers: used only once verified, and never again once unusable."""

    ADDRESS_MAX_LENGTH = 20

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_points"
    )
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    # A mobile number in E.164 (+447700900123), or the pager's number at the gateway.
    address = models.CharField(max_length=ADDRESS_MAX_LENGTH)
    created_at = models.DateTimeField()
    verified_at = models.DateTimeField(null=True, blank=True)
    # Set when the network says the number cannot be reached (Notify's permanent failure,
    # a gateway's unknown pager): nothing is sent to it again until it is added afresh.
    unusable_at = models.DateTimeField(null=True, blank=True)
    unusable_reason = models.CharField(max_length=200, blank=True)
    # Only a digest of the verification code is kept, with when it was sent and how many
    # wrong guesses it has had.
    code_digest = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="one_contact_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.person}"


class ChannelPurpose(models.TextChoices):
    BLEEP = "bleep", "A bleep the app has not confirmed"
    CODE = "code", "A verification code"
    NOTICE = "notice", "A notice to the person (such as before a shift)"


class ChannelStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent (accepted by the gateway)"
    DELIVERED = "delivered", "Delivered (the network says so)"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (not needed by the time it was due)"


class ChannelMessage(models.Model):
    """One text or pager message to send: a row in the outbox the worker empties."""

    contact = models.ForeignKey(
        ContactPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    purpose = models.CharField(max_length=10, choices=ChannelPurpose.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    bleep = models.ForeignKey(
        Bleep, on_delete=models.PROTECT, null=True, blank=True, related_name="channel_messages"
    )
    # A code or a notice's words; a bleep's are written when it is sent (how long it has
    # waited). A code's text is blanked once sent.
    text = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    # When to try next; pushed forward while a sender holds it, so a crashed one's rows return.
    due_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=ChannelStatus.choices, default=ChannelStatus.PENDING
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # The gateway's id for it (Notify's notification id), to read its delivery status.
    provider_id = models.CharField(max_length=64, blank=True)
    provider_status = models.CharField(max_length=30, blank=True)
    # When to ask the gateway next how delivery went, while it has not said for good.
    check_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["due_at"], name="channel_pending_due", condition=models.Q(status="pending")
            ),
            models.Index(
                fields=["check_at"],
                name="channel_check_due",
                condition=models.Q(check_at__isnull=False),
            ),
        ]
        constraints = [
            # However often escalation brings a person in, a bleep texts each number once.
            models.UniqueConstraint(
                fields=["bleep", "contact"],
                condition=models.Q(purpose="bleep"),
                name="one_fallback_per_bleep_and_contact",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.purpose} to {self.recipient} ({self.status})"


class PhoneTest(models.Model):
    """A test bleep a person sends themselves: it proves a device rings when it confirms it."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_tests"
    )
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Phone test of {self.person} at {self.created_at:%Y-%m-%d %H:%M}"


class ShiftWarning(models.Model):
    """A shift about to start whose holder Bleep cannot reach: told once, listed until fixed."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="warnings")
    # Whose: a shift that passes to someone else is theirs to be checked for afresh.
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    raised_at = models.DateTimeField()
    # Set when the person became reachable, or the shift ended or went.
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shift", "person"], name="one_warning_per_shift_holder")
        ]
        indexes = [
            models.Index(
                fields=["raised_at"],
                name="shift_warning_open",
                condition=models.Q(resolved_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"Cannot reach {self.person} for {self.shift}"
