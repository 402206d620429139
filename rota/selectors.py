"""Reads of the rota: who holds a role at an instant, and where a bleep goes."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from rota.exceptions import NoHolderInChain, RoleNotFound
from rota.models import Location, Pattern, Person, Role, RotaManagerScope, Shift, Site, Team

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
    on_shift = Shift.objects.filter(
        role=role, start__lte=at, start__gt=at - Shift.MAX_LENGTH, end__gt=at
    ).values("person_id")
    return Person.objects.filter(pk__in=on_shift, is_active=True).order_by("pk")


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
        if not holders and answering.kind == Role.Kind.SWITCHBOARD:
            # The last line: with a hole in the switchboard rota, every operator is bleeped.
            holders = list(
                Person.objects.filter(job=Person.Job.SWITCHBOARD, is_active=True).order_by("pk")
            )
        if holders:
            return Resolution(addressed=role, answering=answering, holders=holders)
        answering = answering.fallback
    raise NoHolderInChain()


def _is_rota_manager(person: Person) -> bool:
    return person.job == Person.Job.ROTA_MANAGER and person.is_active


def manages(person: Person, team: Team) -> bool:
    """Return whether `person` is a rota manager whose scope covers `team`."""
    if not _is_rota_manager(person):
        return False
    if team.pk is None:
        # A new team is the site's business.
        return manages_site(person, team.site)
    scopes = RotaManagerScope.objects.filter(person=person)
    return scopes.filter(Q(team=team) | Q(site_id=team.site_id)).exists()


def manages_site(person: Person, site: Site) -> bool:
    """Return whether `person` is a rota manager of the whole of `site`."""
    if not _is_rota_manager(person):
        return False
    return RotaManagerScope.objects.filter(person=person, site=site).exists()


def may_change(person: Person, record: Site | Location | Team | Role | Shift | Pattern) -> bool:
    """Return whether `person` may create, change or delete this rota record."""
    if isinstance(record, Site):
        if record.pk is None:
            # Adding a hospital is trusted to those who already run a whole site.
            return (
                _is_rota_manager(person) and person.rota_scopes.filter(site__isnull=False).exists()
            )
        return manages_site(person, record)
    if isinstance(record, Location):
        return manages_site(person, record.site)
    if isinstance(record, Team):
        return manages(person, record)
    if isinstance(record, Role):
        return manages(person, record.team)
    return manages(person, record.role.team)


def roles_on_call(*, at: datetime) -> list[tuple[Role, list[Person]]]:
    """Return every role with its holders at `at`, for the directory."""
    roles = Role.objects.select_related("team", "site").order_by("team__name", "name")
    return [(role, list(holders_at(role=role, at=at))) for role in roles]
