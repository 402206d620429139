"""Errors escalation raises; api/exceptions.py maps them to HTTP."""


class EscalationError(Exception):
    """Base of escalation's domain errors."""


class InvalidEscalationData(EscalationError):
    """A policy, team call or redirect breaks a rule; `errors` maps each field to messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        field, messages = next(iter(errors.items()))
        super().__init__(f"{field}: {messages[0]}")
        self.errors = errors


def invalid(field: str, message: str) -> InvalidEscalationData:
    """Return the error for one bad field, to raise."""
    return InvalidEscalationData({field: [message]})


class PolicyChangeNotAllowed(EscalationError):
    """The person may read this policy but not create, change or delete one with its scope."""
