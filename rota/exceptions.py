"""Errors the rota raises; api/exceptions.py maps them to HTTP."""

from bleep.transitions import IllegalMove


class RotaError(Exception):
    """Base of the rota's domain errors."""


class RoleNotFound(RotaError):
    """No role has that id or bleep number; `field` names which the caller gave."""

    def __init__(self, field: str = "role", message: str = "no such role") -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class PersonNotFound(RotaError):
    """No active person has that id."""


class NoHolderInChain(RotaError):
    """Nobody holds the role or any role in its fallback chain: a rota fault to report."""


class InvalidRotaData(RotaError):
    """Rota data breaks a rule; `errors` maps each field (or "row N: field") to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__(f"{field}: {messages[0]}")
        self.errors = errors


def invalid(field: str, message: str) -> InvalidRotaData:
    """Return the error for one bad field, to raise."""
    return InvalidRotaData({field: [message]})


class AuditTrailNotFound(RotaError):
    """The rota's audit trail is not this person's to read (clinical staff, switchboard)."""


class ImportNotAllowed(RotaError):
    """Only rota managers import rota files."""


class ImportJobNotFound(RotaError):
    """No such import, or not one this person made (the two are never told apart)."""


class SwapNotFound(RotaError):
    """No such swap, or not one this person may see (the two are never told apart)."""


class NotYourMove(RotaError):
    """The person may see the swap or shift, but this move is someone else's to make."""


class IllegalSwapMove(IllegalMove, RotaError):
    """The swap action is not allowed from the swap's current state."""

    subject = "a swap"


class ChangeNotAllowed(RotaError):
    """The person may read this rota record but not create, change or delete it."""
