"""Who may see and change what in the rota: one predicate per rule, and its `require_*`.

Every write service calls the `require_*` of its rule itself, so REST, the socket, a
command or any new way in gets the same answer without checking on its own. Reads that
check access (`access_*`, `visible_*`) answer not-found for what a person may not see.
"""

from django.db.models import BigIntegerField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from rota.exceptions import (
    AuditTrailNotFound,
    ChangeNotAllowed,
    ImportJobNotFound,
    ImportNotAllowed,
    SwapNotFound,
)
from rota.models import (
    CalendarFeed,
    ImportJob,
    Location,
    Pattern,
    Person,
    Role,
    RotaChange,
    RotaManagerScope,
    Shift,
    Site,
    SwapRequest,
    Team,
)
from rota.selectors import feeds_of

# What `may_change` decides about: the records a rota manager keeps by hand.
RotaRecord = Site | Location | Team | Role | Shift | Pattern


def is_switchboard(person: Person) -> bool:
    """Return whether `person` is a switchboard operator, with switchboard's rights."""
    return person.job == Person.Job.SWITCHBOARD


def _is_rota_manager(person: Person) -> bool:
    return person.job == Person.Job.ROTA_MANAGER and person.is_active


def may_import(person: Person) -> bool:
    """Return whether `person` may import rota files (each shift is then checked on its own)."""
    return _is_rota_manager(person)


def require_may_import(person: Person) -> None:
    """Raise ImportNotAllowed unless `person` may import rota files."""
    if not may_import(person):
        raise ImportNotAllowed()


def access_import_job(person: Person, job_id: int) -> ImportJob:
    """Return `person`'s own import job, or raise ImportJobNotFound."""
    job = ImportJob.objects.filter(pk=job_id, owner=person).first()
    if job is None:
        raise ImportJobNotFound()
    return job


def manages(person: Person, team: Team) -> bool:
    """Return whether `person` is a rota manager whose scope covers `team`."""
    if not _is_rota_manager(person):
        return False
    if team.pk is None:
        # A new team is the site's business.
        return manages_site(person, team.site)
    return managed_teams(person).filter(pk=team.pk).exists()


def manages_site(person: Person, site: Site) -> bool:
    """Return whether `person` is a rota manager of the whole of `site`."""
    if not _is_rota_manager(person):
        return False
    return RotaManagerScope.objects.filter(person=person, site=site).exists()


def may_change(person: Person, record: RotaRecord) -> bool:
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


def require_may_change(person: Person, record: RotaRecord) -> None:
    """Raise ChangeNotAllowed unless `person` may create, change or delete this rota record.

    The rota is read by everyone signed in, so a refusal is 403, not a not-found.
    """
    if not may_change(person, record):
        raise ChangeNotAllowed()


def managed_teams(person: Person) -> QuerySet[Team]:
    """Return the teams `person` manages as a rota manager, named one by one or by site."""
    if not _is_rota_manager(person):
        return Team.objects.none()
    scopes = RotaManagerScope.objects.filter(person=person)
    return Team.objects.filter(
        Q(pk__in=scopes.filter(team__isnull=False).values("team"))
        | Q(site__in=scopes.filter(site__isnull=False).values("site"))
    )


def visible_rota_changes(person: Person) -> QuerySet[RotaChange]:
    """Return the rota changes `person` may read, newest first: every one for a clinical
    safety officer (or anyone an administrator lets read the trail), those within their
    scope for a rota manager; raise AuditTrailNotFound for anyone else."""
    changes = RotaChange.objects.select_related("actor").order_by("-at", "-pk")
    if person.job == Person.Job.AUDITOR or person.has_perm("rota.view_rotachange"):
        return changes
    if not _is_rota_manager(person):
        raise AuditTrailNotFound()
    return _within_scope(changes, person)


def _within_scope(changes: QuerySet[RotaChange], person: Person) -> QuerySet[RotaChange]:
    # A change names what it was about in its before and after (`snapshot`): a role names
    # its team, a shift or pattern its role, a swap its shifts; a record moved between teams
    # is in both. Read from the JSON, not a column, so the rows already written are scoped
    # too. A change that names only rows since deleted (a shift of a deleted role) is in no
    # manager's scope: auditors still read it.
    teams = managed_teams(person).values("pk")
    roles = Role.objects.filter(team__in=teams).values("pk")
    shifts = Shift.objects.filter(role__in=roles).values("pk")
    in_scope = {
        "site": RotaManagerScope.objects.filter(person=person, site__isnull=False).values("site"),
        "team": teams,
        "role": roles,
        "pattern": Pattern.objects.filter(role__in=roles).values("pk"),
        "shift": shifts,
        "counterpart_shift": shifts,
    }
    named = Q(model="Site", object_id__in=in_scope["site"]) | Q(model="Team", object_id__in=teams)
    for key, ids in in_scope.items():
        for side in ("before", "after"):
            alias = f"{side}_{key}"
            changes = changes.alias(**{alias: Cast(KeyTextTransform(key, side), BigIntegerField())})
            named |= Q(**{f"{alias}__in": ids})
    return changes.filter(named)


def visible_swaps(person: Person) -> QuerySet[SwapRequest]:
    """Return the swaps `person` asked for or was asked, and those of teams they manage."""
    return (
        SwapRequest.objects.select_related(
            "shift__role__team",
            "shift__person",
            "counterpart_shift__role__team",
            "counterpart_shift__person",
            "requester",
            "counterpart",
            "decided_by",
        )
        .filter(
            Q(requester=person)
            | Q(counterpart=person)
            | Q(shift__role__team__in=managed_teams(person))
        )
        .order_by("-created_at", "-pk")
    )


def access_swap(person: Person, swap_id: int) -> SwapRequest:
    """Return the swap if `person` may see it; raise SwapNotFound otherwise, never 'forbidden'."""
    swap = visible_swaps(person).filter(pk=swap_id).first()
    if swap is None:
        raise SwapNotFound()
    return swap


def access_feed(person: Person, feed_id: int) -> CalendarFeed:
    """Return one of `person`'s live feeds, or raise CalendarFeed.DoesNotExist for any other."""
    return feeds_of(person).get(pk=feed_id)
