"""Policies: create, replace and delete a scope's escalation policy, each change checked and
recorded in the rota's audit trail.

REST and the admin both come here, so the rules live in one place. A broken rule raises
`InvalidEscalationData` naming the field as the REST body spells it: `role`, `repeat`,
`steps`, or `steps[i].after_urgent_seconds` (i counting from 0, in the order sent).

Who may: `save_policy` and `delete_policy` let only a rota manager of the policy's scope
(before and after a move) write it, and raise PolicyChangeNotAllowed for anyone else, so
every way in gets the rule. `write_policy` and `erase_policy` skip that check, for the one
caller with a rule of its own: the admin, where Django's staff permissions decide.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from escalation.exceptions import InvalidEscalationData, invalid
from escalation.models import Policy, PolicyStep, StepAction
from escalation.permissions import require_may_change_policy
from escalation.selectors import policy_scope_site
from rota.models import Person, Role, RotaChange, Site, Team
from rota.services.records import snapshot

SCOPE_FIELDS = ("role", "team", "site")
# Left out of a step's audit: they are rewritten on every save and say nothing of the rule.
STEP_IDS = {"id", "policy"}
PRIORITY_FIELDS = ("after_routine_seconds", "after_urgent_seconds", "after_emergency_seconds")
# When a plan runs out, everyone still waiting is reminded at its last step's interval until
# someone answers (escalation.plans). A zero there would ring their phones in a tight loop
# and keep a worker busy doing nothing else, so the last step waits at least this long.
MIN_LAST_STEP_SECONDS = 30


@dataclass(frozen=True, kw_only=True)
class StepDraft:
    """One step as a rota manager writes it: after each priority's wait, do `action`."""

    action: StepAction
    after_routine_seconds: int
    after_urgent_seconds: int
    after_emergency_seconds: int
    target_role: Role | None = None
    target_team: Team | None = None


def save_policy(
    *,
    actor: Person,
    policy: Policy | None,
    role: Role | None = None,
    team: Team | None = None,
    site: Site | None = None,
    repeat: int,
    steps: list[StepDraft],
    now: datetime,
) -> Policy:
    """Create or replace a policy as a rota manager of its scope; see `write_policy`.

    Moving a policy changes two scopes: `actor` must manage both, else PolicyChangeNotAllowed
    and nothing is stored. Owns its transaction and locks the policy while it checks.
    """
    # Who may write a policy depends on its scope, so a scope that is no scope is refused
    # first, naming the field, as for anyone.
    check_scope(role=role, team=team, site=site)
    with transaction.atomic():
        if policy is not None and not policy._state.adding:
            # The scope as stored, not as the caller's copy says: that is what is changed.
            stored = Policy.objects.select_for_update().filter(pk=policy.pk).first()
            if stored is not None:
                require_may_change_policy(actor, stored)
        require_may_change_policy(actor, Policy(role=role, team=team, site=site))
        return write_policy(
            actor=actor,
            policy=policy,
            role=role,
            team=team,
            site=site,
            repeat=repeat,
            steps=steps,
            now=now,
        )


def write_policy(
    *,
    actor: Person | None,
    policy: Policy | None,
    role: Role | None = None,
    team: Team | None = None,
    site: Site | None = None,
    repeat: int,
    steps: list[StepDraft],
    now: datetime,
    action: str = "",
) -> Policy:
    """Create a policy (`policy` None or unsaved) or replace one whole, steps in order,
    without checking who `actor` is: for a caller whose own rule let them in (the admin).

    `action` names the change in the audit trail (default "create" or "update").

    Owns its transaction and locks an existing policy, so two managers saving at once each
    write a whole policy, one after the other; a rejected save stores nothing. Bleeps
    already sent keep the copy they were sent with.
    """
    policy = policy if policy is not None else Policy()
    check_policy(policy=policy, role=role, team=team, site=site, repeat=repeat)
    check_steps(steps=steps, site_id=policy_scope_site(role=role, team=team, site=site))
    try:
        with transaction.atomic():
            before = None
            if not policy._state.adding:
                before = _snapshot(Policy.objects.select_for_update().get(pk=policy.pk))
            policy.role, policy.team, policy.site = role, team, site
            policy.repeat, policy.updated_at = repeat, now
            policy.save()
            _replace_steps(policy=policy, steps=steps)
            _record(actor=actor, policy=policy, before=before, now=now, action=action)
    except IntegrityError:
        # Two managers creating a policy for one scope at the same moment: both passed the
        # check above, and the database's one-to-one refused the second.
        if _scope_taken(policy=policy, role=role, team=team, site=site) is None:
            raise
        raise _already_has_one(role=role, team=team) from None
    return policy


def delete_policy(*, actor: Person, policy: Policy, now: datetime) -> None:
    """Delete a policy as a rota manager of its scope, else raise PolicyChangeNotAllowed.

    Its scope falls back to the next wider policy. Owns its transaction and locks the policy.
    """
    with transaction.atomic():
        locked = Policy.objects.select_for_update().filter(pk=policy.pk).first()
        if locked is None:
            return
        require_may_change_policy(actor, locked)
        erase_policy(actor=actor, policy=locked, now=now)


def erase_policy(*, actor: Person | None, policy: Policy, now: datetime) -> None:
    """Delete a policy and its steps without checking who `actor` is (the admin's way).

    Owns its transaction. Bleeps already sent keep the copy they were sent with.
    """
    with transaction.atomic():
        locked = Policy.objects.select_for_update().filter(pk=policy.pk).first()
        if locked is None:
            return
        before = _snapshot(locked)
        locked.delete()
        locked.pk = policy.pk
        _record(actor=actor, policy=locked, before=before, now=now, action="delete")


def check_scope(*, role: Role | None, team: Team | None, site: Site | None) -> None:
    """Raise the error naming `role` unless exactly one of role, team or site is given."""
    if sum(scope is not None for scope in (role, team, site)) != 1:
        raise invalid("role", "give exactly one of role, team or site")


def check_policy(
    *, policy: Policy, role: Role | None, team: Team | None, site: Site | None, repeat: int
) -> None:
    """Raise the error naming the field if the scope or `repeat` breaks a rule."""
    check_scope(role=role, team=team, site=site)
    if _scope_taken(policy=policy, role=role, team=team, site=site) is not None:
        raise _already_has_one(role=role, team=team)
    if not 0 <= repeat <= Policy.MAX_REPEAT:
        raise invalid("repeat", f"from 0 to {Policy.MAX_REPEAT} more runs of the steps")


def check_steps(*, steps: list[StepDraft], site_id: int | None) -> None:
    """Raise the error naming the step and field if `steps` breaks a rule.

    `site_id` is the site of the policy's scope, which every target must be on.
    """
    if not 1 <= len(steps) <= Policy.MAX_STEPS:
        raise invalid("steps", f"from 1 to {Policy.MAX_STEPS} steps")
    for index, step in enumerate(steps):
        check_step(step=step, site_id=site_id, where=f"steps[{index}]")
    for field in PRIORITY_FIELDS:
        if getattr(steps[-1], field) < MIN_LAST_STEP_SECONDS:
            raise invalid(
                _named(f"steps[{len(steps) - 1}]", field),
                f"the last step repeats until someone answers: wait at least "
                f"{MIN_LAST_STEP_SECONDS} seconds",
            )


def check_step(*, step: StepDraft, site_id: int | None, where: str = "") -> None:
    """Raise the error naming the field (after `where`, e.g. "steps[2]") if a step breaks a rule."""
    for field in PRIORITY_FIELDS:
        if not 0 <= getattr(step, field) <= PolicyStep.MAX_AFTER_SECONDS:
            raise invalid(_named(where, field), f"from 0 to {PolicyStep.MAX_AFTER_SECONDS} seconds")
    # A nurse who calls an emergency expects it never to wait longer than a routine bleep
    # would; a policy where it did would be a trap nobody notices until it matters.
    if step.after_emergency_seconds > step.after_urgent_seconds:
        raise invalid(
            _named(where, "after_emergency_seconds"),
            "an emergency must not wait longer than urgent",
        )
    if step.after_urgent_seconds > step.after_routine_seconds:
        raise invalid(
            _named(where, "after_urgent_seconds"), "urgent must not wait longer than routine"
        )
    _check_target(step=step, site_id=site_id, where=where)


def _check_target(*, step: StepDraft, site_id: int | None, where: str) -> None:
    role, team = step.target_role, step.target_team
    if role is not None and step.action != StepAction.ESCALATE:
        raise invalid(_named(where, "target_role"), "only an escalate step names a role")
    if team is not None and step.action != StepAction.BROADCAST_TEAM:
        raise invalid(_named(where, "target_team"), "only a broadcast_team step names a team")
    if step.action == StepAction.BROADCAST_TEAM and team is None:
        raise invalid(_named(where, "target_team"), "name the team to broadcast to")
    if role is not None and role.site_id != site_id:
        raise invalid(_named(where, "target_role"), "the role must be on the policy's site")
    if team is not None and team.site_id != site_id:
        raise invalid(_named(where, "target_team"), "the team must be on the policy's site")


def _named(where: str, field: str) -> str:
    return f"{where}.{field}" if where else field


def _scope_taken(
    *, policy: Policy, role: Role | None, team: Team | None, site: Site | None
) -> Policy | None:
    """Return another policy that already has this scope, if any."""
    given = {name: value for name, value in zip(SCOPE_FIELDS, (role, team, site), strict=True)}
    scope = {name: value for name, value in given.items() if value is not None}
    return Policy.objects.filter(**scope).exclude(pk=policy.pk).first() if scope else None


def _already_has_one(*, role: Role | None, team: Team | None) -> InvalidEscalationData:
    field = "role" if role is not None else "team" if team is not None else "site"
    return invalid(field, f"this {field} already has a policy: change that one instead")


def _replace_steps(*, policy: Policy, steps: list[StepDraft]) -> None:
    PolicyStep.objects.filter(policy=policy).delete()
    PolicyStep.objects.bulk_create(
        PolicyStep(
            policy=policy,
            position=position,
            action=step.action,
            target_role=step.target_role,
            target_team=step.target_team,
            after_routine_seconds=step.after_routine_seconds,
            after_urgent_seconds=step.after_urgent_seconds,
            after_emergency_seconds=step.after_emergency_seconds,
        )
        for position, step in enumerate(steps, start=1)
    )


def _snapshot(policy: Policy) -> dict[str, Any]:
    """Return the policy and its steps, in order, as JSON for the audit trail."""
    steps = PolicyStep.objects.filter(policy=policy).order_by("position")
    return {
        **snapshot(policy),
        "steps": [
            {name: value for name, value in snapshot(step).items() if name not in STEP_IDS}
            for step in steps
        ],
    }


def _record(
    *,
    actor: Person | None,
    policy: Policy,
    before: dict[str, Any] | None,
    now: datetime,
    action: str,
) -> None:
    # Like rota.services.records.record_change, but "before" and "after" include the
    # steps, so one row tells the whole change of a policy.
    deleted = action == "delete"
    RotaChange.objects.create(
        actor=actor,
        at=now,
        action=action or ("create" if before is None else "update"),
        model="Policy",
        object_id=policy.pk,
        before=before,
        after=None if deleted else _snapshot(policy),
    )
