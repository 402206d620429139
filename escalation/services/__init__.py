"""Writes of escalation, one module per concern: sending (a bleep, a team call, a decline,
each starting or moving the escalation clock), firing due steps, handing open bleeps to
the next shift, the watchdog, and policies."""
