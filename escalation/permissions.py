"""Who may change an escalation policy: a rota manager of its scope, as for the rota."""

from escalation.exceptions import PolicyChangeNotAllowed
from escalation.models import Policy
from rota.models import Person
from rota.permissions import manages, manages_site


def may_change_policy(person: Person, policy: Policy) -> bool:
    """Return whether `person` may create, change or delete a policy with this scope."""
    if policy.role is not None:
        return manages(person, policy.role.team)
    if policy.team is not None:
        return manages(person, policy.team)
    return policy.site is not None and manages_site(person, policy.site)


def require_may_change_policy(person: Person, policy: Policy) -> None:
    """Raise PolicyChangeNotAllowed unless `person` may write a policy with this scope.

    Policies are read by everyone signed in, so a refusal is 403, not a not-found.
    """
    if not may_change_policy(person, policy):
        raise PolicyChangeNotAllowed()
