"""Single sign-on: who a person is at the hospital's identity provider, the one-minute codes
that hand a signed-in browser's result to the phone app, and the sign-in audit trail."""

from django.conf import settings
from django.db import models

from bleep.append_only import AppendOnlyModel
from messaging.models.bleeps import Device


class SsoIdentity(models.Model):
    """A person's account at the identity provider, kept after the first match: from then on
    the provider's `sub` finds them, whatever their email becomes."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField()
    # Until when this person may sign in with their local password though linked (an
    # operator's break-glass grant, `manage.py allow_break_glass`), or null.
    break_glass_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person} at {self.issuer}"


class SsoHandoff(models.Model):
    """A single-use, one-minute code that the browser which signed in at the provider hands
    to the app (in the address's fragment, which no server sees), to exchange for a device
    token by POST: the token itself never travels in an address."""

    code_digest = models.CharField(max_length=64, unique=True)
    identity = models.ForeignKey(SsoIdentity, on_delete=models.CASCADE, related_name="+")
    # The provider's session (the ID token's `sid`), which back-channel logout names.
    session_id = models.CharField(max_length=255, blank=True)
    # The provider's refresh token, sealed, for the device this code signs in.
    refresh_token = models.TextField(blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.OneToOneField(
        Device, on_delete=models.CASCADE, null=True, blank=True, related_name="sso_handoff"
    )

    def __str__(self) -> str:
        return f"sign-in of {self.identity.person} at {self.created_at:%H:%M:%S}"


class SignInMethod(models.TextChoices):
    PASSWORD = "password", "Password"
    SSO = "sso", "Single sign-on"
    BREAK_GLASS = "break_glass", "Break-glass password sign-in"
    BREAK_GLASS_ALLOWED = "break_glass_allowed", "Break-glass password sign-in allowed"
    PROVIDER_LOGOUT = "provider_logout", "Signed out by the identity provider"


class SignInRecord(AppendOnlyModel):
    """One sign-in event worth an auditor's eye: who, how, when, which device, and why."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=30, choices=SignInMethod.choices)
    at = models.DateTimeField()
    device = models.ForeignKey(Device, on_delete=models.PROTECT, null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.method} {self.person}"
