"""Errors of the messaging domain; api/exceptions.py maps them to HTTP."""

import math
from datetime import datetime, timedelta

from bleep.transitions import IllegalMove


class MessagingError(Exception):
    """Base of messaging's domain errors."""


class BleepNotFound(MessagingError):
    """No such bleep, or not one this person may see (the two are never told apart)."""


class IllegalTransition(IllegalMove, MessagingError):
    """The action is not allowed from the bleep's or delivery's current state."""


class AlreadyAcknowledged(IllegalTransition):
    """Someone else acknowledged first; the message names them."""

    def __init__(self, *, by: str) -> None:
        super().__init__(current="acknowledged", action="acknowledge")
        self.args = (f"already acknowledged by {by}",)
        self.by = by


class InvalidToken(MessagingError):
    """The device token is unknown or revoked."""


class NotARecipient(MessagingError):
    """The person may see the bleep but was not sent it, so cannot answer it."""


class SwitchboardRefusal(MessagingError):
    """Switchboard's answer is not a clinician's: `code` and `detail` say what to do instead.

    The REST and socket answers both use them, so a client reads the same words either way.
    """

    code = ""
    detail = ""

    def __init__(self) -> None:
        super().__init__(self.detail)


class SwitchboardCannotAcknowledge(SwitchboardRefusal):
    """An operator acknowledged a bleep meant for a clinician; they take it on instead."""

    code = "switchboard_cannot_acknowledge"
    detail = "switchboard cannot acknowledge for a clinician: take it on instead"


class NotSwitchboard(SwitchboardRefusal):
    """Someone other than a switchboard operator tried to take a bleep on."""

    code = "not_switchboard"
    detail = "only switchboard takes a bleep on; a clinician acknowledges or declines it"


class NotAnOperator(SwitchboardRefusal):
    """Someone other than a switchboard operator tried switchboard's escalate or redirect."""

    code = "switchboard_only"
    detail = "only switchboard escalates or redirects a bleep"


class SendLimitReached(MessagingError):
    """A routine or urgent bleep past its sender's send limit; wait `retry_after` to send again.

    REST answers 429 with Retry-After and the socket an error frame, both with `code` and
    `detail`, so the nurse reads the same words either way.
    """

    code = "too_many_bleeps"

    def __init__(self, *, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        # Whole seconds, rounded up: trying again a moment early would be refused again.
        self.seconds = max(1, math.ceil(retry_after.total_seconds()))
        unit = "second" if self.seconds == 1 else "seconds"
        self.detail = (
            f"Too many bleeps sent in the last minute. Try again in {self.seconds} {unit}, "
            "or send it as an emergency if it is one."
        )
        super().__init__(self.detail)


class InvalidCredentials(MessagingError):
    """Unknown username, wrong password, or a disabled account (never said which)."""


class SignInLockedOut(MessagingError):
    """Too many failed sign-ins for this account from this address; refused until `retry_at`."""

    def __init__(self, *, retry_at: datetime, retry_after: timedelta) -> None:
        super().__init__(f"locked out until {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.retry_after = retry_after


class NotAllowedToUnlock(MessagingError):
    """Only a rota manager or an administrator may clear a sign-in lockout."""


class DeviceNotFound(MessagingError):
    """No such device among this person's own live devices."""


class NotTheSender(MessagingError):
    """Only the bleep's sender (or switchboard) may do this."""


class PushSubscriptionNotFound(MessagingError):
    """No such push subscription among this person's own live devices."""


class InvalidPushSubscription(MessagingError):
    """A push subscription the server will not use; `field` names the part that is wrong."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class MfaRequired(MessagingError):
    """This person signs in with a second factor and none was sent."""


class MfaInvalid(MessagingError):
    """The second-factor code is wrong, expired, or a recovery code already used."""


class MfaThrottled(MessagingError):
    """Too many wrong codes in a row for this authenticator; refused until `retry_at`."""

    def __init__(self, *, retry_at: datetime, retry_after: timedelta) -> None:
        super().__init__(f"too many wrong codes; try again at {retry_at.isoformat()}")
        self.retry_at = retry_at
        self.retry_after = retry_after


class MfaEnrolmentRequired(MessagingError):
    """The password was right, but this person must enrol an authenticator before a device
    is signed in; `token` lets them do only that, until `expires_at`."""

    def __init__(self, *, token: str, expires_at: datetime) -> None:
        super().__init__("enrol an authenticator to finish signing in")
        self.token = token
        self.expires_at = expires_at


class MfaNotEnrolled(MessagingError):
    """The action needs an enrolled authenticator, or a pending one to confirm, and has none."""


class MfaMandatory(MessagingError):
    """This person's role requires a second factor, so it cannot be turned off."""


class InvalidContact(MessagingError):
    """A number, or its code, the server will not take; `field` names the part that is wrong."""

    def __init__(self, *, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ContactNotFound(MessagingError):
    """No such number, or not one of this person's."""


class PhoneTestNotFound(MessagingError):
    """No such phone test, or not one of this person's."""


class PasswordSignInOff(MessagingError):
    """Password sign-in is off here, or for this person (linked to single sign-on)."""


class SsoRefused(MessagingError):
    """The identity provider's answer did not sign anyone in; `reason` says why, in words
    for the page the person sees (never a token or a claim's value)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SsoHandoffInvalid(MessagingError):
    """The sign-in code is unknown, already used or more than a minute old."""


class SystemClientRefused(MessagingError):
    """An integrating system's client was refused: credentials, scopes, or its settings."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AnalyticsNotAllowed(MessagingError):
    """Only clinical safety officers and rota managers read the response-time analytics."""
