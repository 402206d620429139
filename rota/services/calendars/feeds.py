"""Secret calendar feeds: create one of my shifts or of a role I manage, and revoke it."""

from datetime import datetime

from django.core.exceptions import PermissionDenied

from bleep.tokens import digest_token, new_token
from rota.exceptions import invalid
from rota.models import CalendarFeed, Person, Role
from rota.permissions import may_change


def create_feed(
    *, owner: Person, role: Role | None = None, person: Person | None = None, now: datetime
) -> tuple[CalendarFeed, str]:
    """Create a secret feed of my own shifts or of a role I manage; return it and its token.

    Only the token's digest is stored: the token is shown once, in the feed's URL.
    """
    if (role is None) == (person is None):
        raise invalid("role", "give either a role or a person")
    if person is not None and person.pk != owner.pk:
        raise PermissionDenied()
    if role is not None and not may_change(owner, role):
        raise PermissionDenied()
    token = new_token()
    feed = CalendarFeed.objects.create(
        token_digest=digest_token(token), role=role, person=person, owner=owner, created_at=now
    )
    return feed, token


def revoke_feed(*, feed: CalendarFeed, now: datetime) -> CalendarFeed:
    """Revoke a feed: its URL stops working at once."""
    if feed.revoked_at is None:
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
    return feed
