"""A base for audit tables: rows are added, never changed or removed, and on PostgreSQL the
database itself refuses anything else (docs/safety/append-only.md)."""

from typing import Any

from django.apps import apps
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuse bulk changes: an audit trail is evidence."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit rows are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit rows are never deleted")


class AppendOnlyModel(models.Model):
    """A model whose rows can be created and read, and nothing else."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("audit rows are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit rows are never deleted")


# The ORM's refusal above stops the app; these triggers stop everyone else who reaches the
# database (a raw UPDATE in psql, a script, a cascade). A few lines of PL/pgSQL written
# here rather than django-pgtrigger: two tables do not justify another app in
# INSTALLED_APPS with its own migration state.
REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Rows are added, never changed or removed: docs/safety/append-only.md';
END
$$
"""
CHANGE_TRIGGER = (
    "CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
)
TRUNCATE_TRIGGER = (
    "CREATE TRIGGER {trigger} BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
)


def refuse_trigger(table: str) -> str:
    """Return the name of the trigger refusing UPDATE and DELETE on `table`."""
    return f"{table}_append_only"


def truncate_trigger(table: str) -> str:
    """Return the name of the trigger refusing TRUNCATE on `table`."""
    return f"{table}_no_truncate"


def _function(table: str) -> str:
    # One function per table, so either app's migration can be reversed alone.
    return f"{table}_refuse_change"


def append_only_triggers(table: str) -> migrations.RunPython:
    """Return a migration operation installing `table`'s append-only triggers on PostgreSQL.

    On other databases (the embedded SQLite) it does nothing: the ORM's refusal is the guard.
    """
    names = {"table": table, "function": _function(table)}

    def install(_: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        # No parameters, so the `%` placeholders of RAISE reach PostgreSQL as written.
        schema_editor.execute(REFUSE_FUNCTION.format(**names), params=None)
        schema_editor.execute(CHANGE_TRIGGER.format(**names, trigger=refuse_trigger(table)))
        schema_editor.execute(TRUNCATE_TRIGGER.format(**names, trigger=truncate_trigger(table)))

    def remove(_: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {truncate_trigger(table)} ON {table}")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {refuse_trigger(table)} ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_function(table)}()")

    return migrations.RunPython(install, remove)


def append_only_tables() -> list[str]:
    """Return the table of every append-only model."""
    return [
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    ]


def allow_truncate_of_a_scratch_database(connection: BaseDatabaseWrapper) -> None:
    """Let TRUNCATE empty the append-only tables of a throwaway database, for good.

    For the test suite (whose teardown empties every table with TRUNCATE) and the bench,
    each on a database of its own; never for a hospital's. UPDATE and DELETE stay refused.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in append_only_tables():
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {truncate_trigger(table)}")
