"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE on the rota's audit trail
(docs/safety/append-only.md)."""

from django.db import migrations

from bleep.append_only import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("rota", "0003_auditors"),
    ]

    operations = [append_only_triggers("rota_rotachange")]
