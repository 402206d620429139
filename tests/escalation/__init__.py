from datetime import timedelta

from escalation.plans import DEFAULT_AFTER_SECONDS

# The built-in policy's interval between steps, per priority.
RENOTIFY_AFTER = {
    priority: timedelta(seconds=seconds) for priority, seconds in DEFAULT_AFTER_SECONDS.items()
}
