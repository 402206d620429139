"""Recompute every bleep's history chain and print each place it no longer holds together.

For a clinical safety officer or an operator: run it on a schedule and after any work on
the database; a break means the history was changed outside Bleep (docs/safety/append-only.md).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from messaging.services.history import ChainCount, find_history_breaks


class Command(BaseCommand):
    help = (
        "Check that no bleep's history was changed, removed or added to behind Bleep's back; "
        "print each break (bleep, entry, what is wrong) and exit 1 if there is any."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = ChainCount()
        breaks = 0
        for found in find_history_breaks(count=count):
            breaks += 1
            self.stdout.write(str(found))
        read = f"{count.bleeps} bleeps, {count.entries} history entries"
        if breaks:
            raise CommandError(f"{breaks} breaks in the history of {read}")
        self.stdout.write(f"history intact: {read}")
