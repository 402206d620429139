"""Fallback channels: text messages through GOV.UK Notify and pages through a WCTP gateway,
for when no device of a recipient confirms a bleep in time.

Escalation decides when a person is brought in; this package decides how else to reach
them. Each message is a row, queued in the transaction that brings the person in and
checked again when it falls due (a confirmed or answered bleep sends nothing more);
`gateways` speaks to the outside, `outbox` claims and settles the rows, and `sender` sends
each on a thread of its own, so a gateway that stalls delays no other message and no step.
"""
