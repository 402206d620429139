"""Let a person linked to single sign-on sign in with their Bleep password for a while: the
identity provider is down and a doctor on call must still be reachable (docs/sso.md).

The grant and every sign-in it allows are in the sign-in audit trail (admin: Sign in
records), with the reason given here.
"""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from messaging.exceptions import SsoRefused
from messaging.services.sso import allow_break_glass
from rota.models import Person

LONGEST_GRANT_HOURS = 24


class Command(BaseCommand):
    help = (
        "Allow a person linked to single sign-on to sign in with their password until the "
        "grant ends; recorded with its reason in the sign-in audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail")
        parser.add_argument(
            "--hours",
            type=int,
            default=4,
            help=f"how long the grant lasts (default 4, at most {LONGEST_GRANT_HOURS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["hours"]
        if not 1 <= hours <= LONGEST_GRANT_HOURS:
            raise CommandError(f"--hours must be 1 to {LONGEST_GRANT_HOURS}")
        if not options["reason"].strip():
            raise CommandError("--reason must say why")
        person = Person.objects.filter(username=options["username"]).first()
        if person is None:
            raise CommandError(f"no such person: {options['username']}")
        now = timezone.now()
        until = now + timedelta(hours=hours)
        try:
            allow_break_glass(person=person, until=until, reason=options["reason"], now=now)
        except SsoRefused as refusal:
            raise CommandError(refusal.reason) from refusal
        self.stdout.write(
            f"{person.username} may sign in with their password until {until:%Y-%m-%d %H:%M} UTC"
        )
