"""Create, change and delete rota records, each change checked and recorded with before and after.

Every write of rota data goes through here, so the rules and the audit live in one place,
whoever calls (REST, import, pattern, swap, admin). Who may is checked here too:
`save_record`, `create_site` and `delete_record` let only a rota manager whose scope covers
the record (before and after a move) change it, and raise ChangeNotAllowed for anyone else.
`write_record` and `erase_record` apply the same rules and audit without that check, for
services whose own rule has let the actor in: a swap (the colleague asked, or the team's
manager), an import (every line checked), a pattern (checked once for the pattern), the
admin (Django's staff permissions), the demo.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from django.db import models, transaction
from django.forms.models import model_to_dict

from rota.exceptions import InvalidRotaData, invalid
from rota.models import (
    Location,
    Pattern,
    Person,
    Role,
    RotaChange,
    RotaManagerScope,
    Shift,
    Site,
    Team,
)
from rota.permissions import RotaRecord, require_may_change
from rota.selectors import MAX_FALLBACK_DEPTH

M = TypeVar("M", bound=models.Model)
R = TypeVar("R", bound=RotaRecord)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Return the instance's fields as JSON-safe values, for the audit trail."""
    return {name: _json_safe(value) for name, value in model_to_dict(instance).items()}


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, models.Model):
        return value.pk
    return value


def record_change(
    *,
    actor: Person | None,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None,
    now: datetime,
    deleted: bool = False,
) -> RotaChange:
    """Append one change of `instance` to the rota's audit trail."""
    return RotaChange.objects.create(
        actor=actor,
        at=now,
        action=action,
        model=type(instance).__name__,
        object_id=instance.pk,
        before=before,
        after=None if deleted else snapshot(instance),
    )


def save_record(*, actor: Person, instance: R, changes: dict[str, Any], now: datetime) -> R:
    """Apply `changes` to a rota record as a rota manager of it; see `write_record`.

    Moving a record changes two scopes: `actor` must manage it as stored and as changed,
    else ChangeNotAllowed and nothing is stored.
    """
    with transaction.atomic():
        changed: RotaRecord = instance
        if not instance._state.adding:
            # The row as stored, not the caller's copy: that is what is being changed.
            changed = type(instance)._default_manager.get(pk=instance.pk)
            require_may_change(actor, changed)
        for name, value in changes.items():
            setattr(changed, name, value)
        require_may_change(actor, changed)
        return write_record(actor=actor, instance=instance, changes=changes, now=now)


def write_record(
    *,
    actor: Person | None,
    instance: M,
    changes: dict[str, Any],
    now: datetime,
    action: str = "",
) -> M:
    """Apply `changes` to `instance` (new or existing), check the rules, save and record it,
    without checking who `actor` is: for a service whose own rule has let them in.

    Owns its transaction: the row and its audit entry commit together, or neither does.
    """
    adding = instance._state.adding
    with transaction.atomic():
        before = None if adding else snapshot(type(instance)._default_manager.get(pk=instance.pk))
        for name, value in changes.items():
            setattr(instance, name, value)
        if isinstance(instance, Shift) and not adding and action != "expand":
            # A shift changed by hand (swap, cover, edit) leaves its pattern, so expanding
            # the pattern again cannot silently undo the change.
            instance.pattern = None
        if isinstance(instance, Shift):
            # Two writers booking one person at once would each see no clash; the lock on
            # the person makes the second wait and then see the first.
            Person.objects.select_for_update().filter(pk=instance.person_id).exists()
        check(instance)
        instance.save()
        record_change(
            actor=actor,
            action=action or ("create" if adding else "update"),
            instance=instance,
            before=before,
            now=now,
        )
    return instance


def create_site(*, actor: Person, changes: dict[str, Any], now: datetime) -> Site:
    """Add a site, as a rota manager of a whole site; its creator becomes one of this one."""
    with transaction.atomic():
        site = save_record(actor=actor, instance=Site(), changes=changes, now=now)
        RotaManagerScope.objects.create(person=actor, site=site)
    return site


def delete_record(*, actor: Person, instance: RotaRecord, now: datetime) -> None:
    """Delete a rota record as a rota manager of it, else raise ChangeNotAllowed; see
    `erase_record`."""
    with transaction.atomic():
        require_may_change(actor, type(instance)._default_manager.get(pk=instance.pk))
        erase_record(actor=actor, instance=instance, now=now)


def erase_record(
    *, actor: Person | None, instance: models.Model, now: datetime, action: str = "delete"
) -> None:
    """Delete a record and record what it was, without checking who `actor` is (for a
    service whose own rule let them in); refuse if other records depend on it."""
    with transaction.atomic():
        before = snapshot(instance)
        pk = instance.pk
        try:
            instance.delete()
        except models.ProtectedError as error:
            used_by = sorted({type(obj).__name__.lower() for obj in error.protected_objects})
            raise invalid("id", f"still used by: {', '.join(used_by)}") from None
        instance.pk = pk
        record_change(
            actor=actor, action=action, instance=instance, before=before, now=now, deleted=True
        )


def check(instance: models.Model) -> None:
    """Raise InvalidRotaData naming the field if `instance` breaks a rota rule."""
    checker = RULES.get(type(instance))
    if checker is not None:
        checker(instance)


def check_site(site: Site) -> None:
    if site.time_zone not in available_timezones():
        raise invalid("time_zone", f"unknown time zone {site.time_zone!r}; e.g. Europe/London")


def check_location(location: Location) -> None:
    clash = Location.objects.filter(site_id=location.site_id, name=location.name)
    if clash.exclude(pk=location.pk).exists():
        raise invalid("name", "this site already has a location with that name")


def check_team(team: Team) -> None:
    clash = Team.objects.filter(site_id=team.site_id, name=team.name)
    if clash.exclude(pk=team.pk).exists():
        raise invalid("name", "this site already has a team with that name")


def check_role(role: Role) -> None:
    """A bleep number is unique per site, and every fallback chain ends at switchboard."""
    if role.team.site_id != role.site_id:
        raise invalid("team", "the team belongs to another site")
    numbers = Role.objects.filter(site_id=role.site_id, bleep_number=role.bleep_number)
    if numbers.exclude(pk=role.pk).exists():
        raise invalid("bleep_number", f"bleep {role.bleep_number} is already used on this site")
    if role.kind == Role.Kind.SWITCHBOARD:
        if role.fallback_id is not None:
            raise invalid("fallback", "switchboard is the end of every chain: it has no fallback")
        return
    _check_chain(role)


def _check_chain(role: Role) -> None:
    seen = {role.pk} if role.pk else set()
    step = role.fallback
    for _ in range(MAX_FALLBACK_DEPTH):
        if step is None:
            break
        if step.pk in seen:
            raise invalid("fallback", "the fallback chain loops back on itself")
        if step.site_id != role.site_id:
            raise invalid("fallback", "a fallback must be a role on the same site")
        if step.kind == Role.Kind.SWITCHBOARD:
            return
        seen.add(step.pk)
        step = step.fallback
    # A gap must never swallow a bleep: every chain has to reach someone who answers.
    raise invalid("fallback", "the fallback chain must end at a switchboard role")


def check_shift(shift: Shift) -> None:
    """A shift ends after it starts, and nobody is booked on two overlapping shifts."""
    if shift.end <= shift.start:
        raise invalid("end", "the end must be after the start")
    if shift.end - shift.start > Shift.MAX_LENGTH:
        raise invalid("end", f"a shift lasts at most {Shift.MAX_LENGTH.days} days")
    overlapping = Shift.objects.filter(
        person_id=shift.person_id, start__lt=shift.end, end__gt=shift.start
    ).exclude(pk=shift.pk)
    clash = overlapping.select_related("role").first()
    if clash is not None:
        zone = ZoneInfo(shift.role.site.time_zone)
        raise InvalidRotaData(
            {
                "person": [
                    f"{shift.person} is already on {clash.role.name} from "
                    f"{clash.start.astimezone(zone):%Y-%m-%d %H:%M} to "
                    f"{clash.end.astimezone(zone):%Y-%m-%d %H:%M}"
                ]
            }
        )


def check_pattern(pattern: Pattern) -> None:
    days = pattern.weekdays

    def is_day(value: object) -> bool:
        return type(value) is int and 0 <= value <= 6

    if not (isinstance(days, list) and days and all(is_day(d) for d in days)):
        raise invalid("weekdays", "a list of days, 0 (Monday) to 6 (Sunday)")
    if len(set(days)) != len(days):
        raise invalid("weekdays", "each day once")
    if pattern.rotation not in Pattern.Rotation.values:
        raise invalid("rotation", f"one of {', '.join(Pattern.Rotation.values)}")


RULES: dict[type[models.Model], Any] = {
    Site: check_site,
    Location: check_location,
    Team: check_team,
    Role: check_role,
    Shift: check_shift,
    Pattern: check_pattern,
}
