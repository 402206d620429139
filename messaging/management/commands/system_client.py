"""Create, list and revoke the clients of integrating systems that use the FHIR endpoint
(docs/fhir.md). A superuser does the same in the admin (*System clients*)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from messaging.exceptions import SystemClientRefused
from messaging.models import SystemClient, SystemScope
from messaging.services.systems import create_client, revoke_client


class Command(BaseCommand):
    help = "Create, list or revoke an integrating system's FHIR client."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a client; prints its secret once")
        create.add_argument("client_id", help="lower-case letters, digits and dashes")
        create.add_argument("--name", required=True, help="how its bleeps are signed")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            choices=SystemScope.values,
            help="repeat for each scope",
        )
        actions.add_parser("list", help="list the clients")
        revoke = actions.add_parser("revoke", help="revoke a client and its tokens at once")
        revoke.add_argument("client_id")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["action"] == "create":
            try:
                client, secret = create_client(
                    client_id=options["client_id"],
                    name=options["name"],
                    scopes=options["scope"],
                    now=now,
                )
            except SystemClientRefused as refusal:
                raise CommandError(refusal.reason) from refusal
            self.stdout.write(f"client_id: {client.client_id}")
            self.stdout.write(f"client_secret: {secret}  (shown once: keep it in a vault)")
            return
        if options["action"] == "list":
            for client in SystemClient.objects.select_related("person").order_by("client_id"):
                state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "live"
                self.stdout.write(
                    f"{client.client_id}\t{client.person}\t{state}\t{' '.join(client.scopes)}"
                )
            return
        found = SystemClient.objects.filter(client_id=options["client_id"]).first()
        if found is None:
            raise CommandError(f"no such client: {options['client_id']}")
        revoke_client(client=found, now=now)
        self.stdout.write(f"{found.client_id} revoked: its tokens no longer work")
