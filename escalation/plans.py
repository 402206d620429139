"""The built-in policy, and which step of a bleep's plan comes when.

A plan is the policy's steps with the timings of the bleep's priority, run once and then
`repeat` more times. After that a bleep is never left to die quietly: switchboard is
bleeped if it is not in the bleep yet, and then everyone still waiting is reminded at the
last step's interval until someone acknowledges or the bleep is cancelled.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from escalation.models import PolicyStep, StepAction
from messaging.models import Priority


@dataclass(frozen=True)
class PlanStep:
    """One step of a bleep's plan: after `after_seconds`, do `action` (to a target, maybe)."""

    action: StepAction
    after_seconds: int
    target_role: int | None = None
    target_team: int | None = None

    @property
    def after(self) -> timedelta:
        return timedelta(seconds=self.after_seconds)

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "action": str(self.action)}


# The default for a role whose role, team and site have no policy of their own. One minute
# between steps for an emergency brings switchboard in within three minutes of silence;
# two for urgent (six) and five for routine (fifteen) keep a busy registrar from being
# drowned while still never letting a bleep sit unseen for long.
DEFAULT_AFTER_SECONDS = {Priority.ROUTINE: 300, Priority.URGENT: 120, Priority.EMERGENCY: 60}
DEFAULT_ACTIONS = (StepAction.RENOTIFY, StepAction.ESCALATE, StepAction.NOTIFY_SWITCHBOARD)
DEFAULT_REPEAT = 0
# When switchboard's board counts an open bleep as overdue: once the built-in plan would
# have run its course (3 min for an emergency, 6 urgent, 15 routine), everyone it brings in
# has been bleeped and nobody has answered, and a person should chase it. The same for every
# policy, so that "overdue" means one thing on the board whatever a role's policy says.
OVERDUE_AFTER = {
    priority: timedelta(seconds=after * len(DEFAULT_ACTIONS))
    for priority, after in DEFAULT_AFTER_SECONDS.items()
}


def default_steps(priority: Priority) -> list[PlanStep]:
    """Return the built-in steps with the timings of `priority`."""
    after = DEFAULT_AFTER_SECONDS[priority]
    return [PlanStep(action=action, after_seconds=after) for action in DEFAULT_ACTIONS]


def plan_steps(steps: list[PolicyStep], priority: Priority) -> list[PlanStep]:
    """Return a policy's steps as a plan with the timings of `priority`."""
    field = f"after_{priority}_seconds"
    return [
        PlanStep(
            action=StepAction(step.action),
            after_seconds=getattr(step, field),
            target_role=step.target_role_id,
            target_team=step.target_team_id,
        )
        for step in steps
    ]


def step_of_plan(steps: list[dict[str, Any]], repeat: int, number: int) -> PlanStep:
    """Return step `number` (from 1) of a stored plan, past its end included."""
    planned = [PlanStep(**{**step, "action": StepAction(step["action"])}) for step in steps]
    runs = len(planned) * (repeat + 1)
    if number <= runs:
        return planned[(number - 1) % len(planned)]
    action = StepAction.NOTIFY_SWITCHBOARD if number == runs + 1 else StepAction.RENOTIFY
    return PlanStep(action=action, after_seconds=planned[-1].after_seconds)


def in_tail(steps: list[dict[str, Any]], repeat: int, number: int) -> bool:
    """Return whether step `number` is past the plan and its switchboard step: a reminder."""
    return number > len(steps) * (repeat + 1) + 1
