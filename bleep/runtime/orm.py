"""What Django's ORM has no public call for."""

from collections.abc import Sequence

from django.db.models import Model


def prefetch_known(instance: Model, relation: str, objects: Sequence[Model]) -> None:
    """Attach rows a service just wrote as `instance.<relation>.all()`, with no query.

    As `prefetch_related` leaves them. Django has no public call for rows already in hand,
    and reading back what was just inserted costs a send two queries per bleep.
    """
    queryset = getattr(instance, relation).all()
    queryset._result_cache = list(objects)
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset
