"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE on the history (docs/safety/append-only.md)."""

from django.db import migrations

from bleep.append_only import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0008_history_chain"),
    ]

    operations = [append_only_triggers("messaging_historyentry")]
