"""Integrating systems (an observations system, a lab, the EPR) that send bleeps and read the
rota as themselves over FHIR (docs/fhir.md), and the access tokens they hold."""

from django.conf import settings
from django.db import models


class SystemScope(models.TextChoices):
    COMMUNICATION_REQUEST_WRITE = (
        "system/CommunicationRequest.write",
        "Send bleeps (ITI-84) and cancel its own",
    )
    COMMUNICATION_REQUEST_READ = (
        "system/CommunicationRequest.read",
        "Read its own bleeps and their status (ITI-85)",
    )
    PRACTITIONER_ROLE_READ = (
        "system/PractitionerRole.read",
        "Read who is on call, and the practitioners and locations that references",
    )


class SystemClient(models.Model):
    """An integrating system's client: its id and secret (only a digest kept), what it may do,
    and its own account, the sender of its bleeps (job `system`, named after it), so its
    send limits and every history entry are its own."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="system_client"
    )
    client_id = models.CharField(max_length=64, unique=True)
    secret_digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.client_id


class SystemToken(models.Model):
    """An access token a client got with its credentials: a digest, its scopes, its end."""

    client = models.ForeignKey(SystemClient, on_delete=models.CASCADE, related_name="tokens")
    token_digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"token of {self.client} until {self.expires_at:%H:%M}"
