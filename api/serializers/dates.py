"""The range of dates and instants the API accepts, and the fields that hold to it.

Python's datetimes end at the year 9999: a query for shifts `from=9999-12-31T23:59:59+00:00`
adds the default window to it and overflows, answered 500. A date outside the years a rota
import accepts (rota/services/calendars/ical_format.py, the one place that range is set) is
a typing slip, so it is refused as bad input, naming the field; the range leaves room at
both ends for every window the API adds or subtracts.
"""

from datetime import date, datetime
from typing import Any

from rest_framework import serializers

from rota.services.calendars.ical_format import EARLIEST, LATEST

OUT_OF_RANGE = f"must be a date from {EARLIEST.year} to {LATEST.year - 1}"


def in_range(value: date | datetime) -> bool:
    """Whether `value` (a day, or an instant with or without its offset) is in range."""
    return EARLIEST.year <= value.year < LATEST.year


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
