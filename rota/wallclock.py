"""Wall-clock time at a site and the UTC instants shifts are stored in.

The rule for the two awkward hours of the year (PEP 495, `fold=0`):
- a wall-clock time that does not exist (the spring-forward hour, 01:00–02:00 in London)
  means the instant it would have been on the clock before the change, so 01:30 becomes
  02:30 BST: a shift starting then starts an hour "late" on the clock, never early;
- a wall-clock time that happens twice (the fall-back hour) means its first occurrence
  (BST).
Arithmetic on instants is done in UTC, never on aware wall-clock datetimes, which subtract
by the clock face.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def to_utc(*, day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of wall-clock `at` on `day` in `zone`, by the rule above."""
    return datetime.combine(day, at.replace(fold=0), tzinfo=zone).astimezone(UTC)


def to_wall_clock(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return `instant` as an aware wall-clock datetime in `zone`, for showing to people."""
    return instant.astimezone(zone)
