"""Build the demo hospital (idempotent) and print how to try it; with --month, play a month
of its bleeps first, for the Figures tab (escalation.demo).

Here rather than in rota: the month is played through the escalation and messaging services,
which the rota app may not import."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from escalation.demo import seed_demo_month
from rota import demo
from rota.models import Location
from rota.selectors import get_role, holders_at
from rota.services.demo import seed_demo_hospital, username_for

DEFAULT_URL = "http://127.0.0.1:8000"

EXAMPLE = """
Demo hospital ready: {site}. Every demo password is "{password}".
  nurse on Ward 7                {nurse}
  Medical Registrar on call now  {registrar}  (bleep 2345; shifts change at 08:00 and 20:00,
                                 run `.venv/bin/python manage.py seed_demo` again for who is on)
  switchboard on now             {switchboard}
  rota manager                   {manager}   (two-step sign-in: the phone app sets up an
                                 authenticator app at the first sign-in; also: /admin/
                                 after `manage.py createsuperuser`)

Try it once `make run` is serving: open the phone app at {url}/ in three
browser windows and sign in as the nurse, the registrar and switchboard. Or, each in its
own terminal from this folder:

  # 1. the registrar's phone: prints what arrives and acknowledges each new bleep
  .venv/bin/python manage.py listen {registrar}{url_option} --acknowledge "coming, 10 min"

  # 2. the nurse's phone: prints what arrives, including the acknowledgement
  .venv/bin/python manage.py listen {nurse}{url_option}

  # 3. the nurse sends a bleep to bleep 2345 over REST, from Ward 7 (location {ward7})
  TOKEN=$(curl -s -X POST {url}/api/auth/login \\
    -H 'Content-Type: application/json' \\
    -d '{{"username": "{nurse}", "password": "{password}", "device_name": "curl"}}' \\
    | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  curl -s -X POST {url}/api/bleeps \\
    -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\
    -d '{{"bleep_number": "2345", "priority": "urgent", "message": "Bed 4 NEWS 7, please review",
         "location": {ward7}, "bed": "4", "callback_extension": "4321"}}'

API docs: {url}/api/docs/   Health: {url}/healthz
"""


class Command(BaseCommand):
    help = "Create the demo hospital with 14 days of shifts around today (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=DEFAULT_URL,
            help=f"where the server is, for the example (default {DEFAULT_URL})",
        )
        parser.add_argument(
            "--month",
            action="store_true",
            help="also play the last 30 days of bleeps (once: skipped if any are there)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now, url = timezone.now(), options["url"].rstrip("/")
        site = seed_demo_hospital(today=timezone.localdate(now))
        if options["month"]:
            played = seed_demo_month(now=now)
            if played:
                self.stdout.write(f"Played {played} bleeps of the last 30 days (the Figures tab).")
        registrar = next(iter(holders_at(role=get_role(bleep_number="2345"), at=now)), None)
        switchboard = next(iter(holders_at(role=get_role(bleep_number="1000"), at=now)), None)
        self.stdout.write(
            EXAMPLE.format(
                site=site.name,
                password=demo.DEMO_PASSWORD,
                nurse=username_for(demo.NURSES[0][0]),
                registrar=registrar.username if registrar else "(nobody: check the rota)",
                switchboard=switchboard.username if switchboard else "(nobody)",
                manager=username_for(demo.ROTA_MANAGERS[0]),
                ward7=Location.objects.get(site=site, name="Ward 7").pk,
                url=url,
                url_option="" if url == DEFAULT_URL else f" --url {url}",
            )
        )
