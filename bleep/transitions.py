"""The one mechanism every state machine uses: a table (state, action) -> state, and the
error for a move the table does not allow."""

from typing import TypeVar

S = TypeVar("S")
A = TypeVar("A", bound=str)


class IllegalMove(Exception):
    """The action is not allowed from the current state; the API answers 409 naming it."""

    subject = ""

    def __init__(self, *, current: str, action: str) -> None:
        what = f" {self.subject} that is" if self.subject else " when"
        super().__init__(f"cannot {action}{what} {current}")
        self.current = current
        self.action = action


def next_state(table: dict[tuple[S, A], S], current: S, action: A, error: type[IllegalMove]) -> S:
    """Return the state `action` moves `current` to, or raise `error`."""
    try:
        return table[(current, action)]
    except KeyError:
        raise error(current=str(current), action=str(action)) from None


def may(table: dict[tuple[S, A], S], current: S, action: A) -> bool:
    """Return whether the table allows `action` from `current`: for callers that skip it."""
    return (current, action) in table
