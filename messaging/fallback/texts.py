"""The words of a text or pager message. A text is shown on a lock screen and a pager's
screen, and kept by the network: it says which role, how urgent, how long it has waited and
where to call back, with a link to open the bleep in the app, and nothing about a patient."""

from datetime import datetime

from django.conf import settings

from messaging.models import Bleep, Priority


def bleep_text(*, bleep: Bleep, now: datetime) -> str:
    """Return the words that tell someone a bleep is waiting for them, without its details."""
    priority = Priority(bleep.priority).label.upper()
    if bleep.role is not None:
        to = f"{bleep.role.name} ({bleep.role.bleep_number})"
    else:
        to = "you by name"
    words = [f"Bleep: {priority} for {to}, waiting {waited(bleep.created_at, now)}."]
    if bleep.callback_extension:
        words.append(f"Call back ext {bleep.callback_extension}.")
    words.append(f"Open the app to answer{link(bleep)}.")
    return " ".join(words)


def waited(since: datetime, now: datetime) -> str:
    """Return how long since `since`, in whole minutes, as a person would say it."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    return "under a minute" if minutes < 1 else f"{minutes} min"


def link(bleep: Bleep) -> str:
    """Return ": <address of the bleep in the app>", or nothing if APP_URL is not set."""
    return f": {settings.APP_URL}/#/bleeps/{bleep.pk}" if settings.APP_URL else ""


def code_text(code: str) -> str:
    """Return the words that carry a verification code."""
    return f"Your Bleep code is {code}. Type it in the app to start using this number."
