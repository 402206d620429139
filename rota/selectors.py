"""Reads of the rota: who holds a role at an instant, and where a bleep goes."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from rota.exceptions import NoHolderInChain, RoleNotFound
from rota.models import Person, Role

# A fallback chain longer than this is a loop in the data, not a real escalation ladder.
MAX_FALLBACK_DEPTH = 10


@dataclass(frozen=True)
class Resolution:
    """The role a bleep was addressed to, the role that answers it, and its holders."""

    addressed: Role
    answering: Role
    holders: list[Person]

    @property
    def via_fallback(self) -> bool:
        return self.addressed.pk != self.answering.pk


def holders_at(*, role: Role, at: datetime) -> QuerySet[Person]:
    """Return everyone holding `role` at instant `at` (handover overlaps give several)."""
    return (
        Person.objects.filter(
            shifts__role=role, shifts__start__lte=at, shifts__end__gt=at, is_active=True
        )
        .distinct()
        .order_by("pk")
    )


def get_role(*, role_id: int | None = None, bleep_number: str | None = None) -> Role:
    """Return the role with this id or bleep number, or raise RoleNotFound."""
    roles = Role.objects.select_related("site", "team", "fallback")
    if role_id is not None:
        found = roles.filter(pk=role_id).first()
    else:
        matches = list(roles.filter(bleep_number=bleep_number)[:2])
        # The same number on two sites is ambiguous: refuse rather than guess.
        found = matches[0] if len(matches) == 1 else None
    if found is None:
        raise RoleNotFound()
    return found


def resolve_role(*, role: Role, at: datetime) -> Resolution:
    """Return who answers a bleep to `role` at `at`, following the fallback chain on a gap."""
    answering: Role | None = role
    seen: set[int] = set()
    while answering is not None and answering.pk not in seen and len(seen) < MAX_FALLBACK_DEPTH:
        seen.add(answering.pk)
        holders = list(holders_at(role=answering, at=at))
        if holders:
            return Resolution(addressed=role, answering=answering, holders=holders)
        answering = answering.fallback
    raise NoHolderInChain()


def roles_on_call(*, at: datetime) -> list[tuple[Role, list[Person]]]:
    """Return every role with its holders at `at`, for the directory."""
    roles = Role.objects.select_related("team", "site").order_by("team__name", "name")
    return [(role, list(holders_at(role=role, at=at))) for role in roles]
