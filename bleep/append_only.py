"""A base for audit tables: rows are added, never changed or removed."""

from typing import Any

from django.db import models


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
