"""The range of dates and instants the API accepts, and the fields that hold to it.

Python's datetimes end at the year 9999: a query for shifts `from=9999-12-31T23:59:59+00:00`
adds the default window to it and overflows, answered 500. No rota, report or export is
about a time outside EARLIEST..LATEST, so anything outside is refused as bad input, naming
the field, with room left at both ends for every window the API adds or subtracts.
"""

from datetime import date, datetime
from typing import Any

from rest_framework import serializers

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
OUT_OF_RANGE = f"must be between {EARLIEST.year} and {LATEST.year}"


def in_range(value: date | datetime) -> bool:
    """Whether `value` (a day, or an instant with or without its offset) is in range."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST <= day <= LATEST


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing an instant outside EARLIEST..LATEST."""

    def enforce_timezone(self, value: datetime) -> datetime:
        # Checked before the value moves to another zone, which can overflow on its own.
        if not in_range(value):
            raise serializers.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return super().enforce_timezone(value)


class DateField(serializers.DateField):
    """DRF's DateField, refusing a day outside EARLIEST..LATEST."""

    def to_internal_value(self, value: Any) -> date:
        parsed = super().to_internal_value(value)
        if not in_range(parsed):
            raise serializers.ValidationError(OUT_OF_RANGE, code="out_of_range")
        return parsed
