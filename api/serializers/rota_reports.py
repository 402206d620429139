"""The gaps report and the directory: what they are asked and what they answer."""

from datetime import UTC, datetime, timedelta
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field

from api.serializers import dates
from api.serializers.base import RoleSerializer, StrictSerializer
from rota.models import Role, Team

# About a quarter: long enough to plan a rotation, short enough to answer in one request.
MAX_GAPS_RANGE = timedelta(days=92)
MAX_QUERY_LENGTH = 100


class OffsetDateTimeField(dates.DateTimeField):
    """An ISO 8601 instant with its UTC offset, returned in UTC for arithmetic.

    A time without an offset is refused: around a clock change it names two instants, or none.
    """

    default_error_messages = {
        "naive": "give the time with its UTC offset, e.g. 2026-10-25T01:30:00+01:00",
    }

    def enforce_timezone(self, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        return super().enforce_timezone(value).astimezone(UTC)


class GapsQuerySerializer(StrictSerializer):
    to = OffsetDateTimeField(help_text="The end of the report (exclusive).")
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, help_text="Only this role."
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, help_text="Only this team's roles."
    )

    def get_fields(self) -> dict[str, Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        start = OffsetDateTimeField(help_text="The start of the report (inclusive).")
        return {"from": start, **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["must be after from"]})
        if attrs["to"] - attrs["from"] > MAX_GAPS_RANGE:
            raise serializers.ValidationError(
                {"to": [f"at most {MAX_GAPS_RANGE.days} days after from"]}
            )
        return attrs


class GapSerializer(serializers.Serializer):
    role = RoleSerializer(help_text="The role nobody holds from start to end.")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class OnCallQuerySerializer(StrictSerializer):
    at = OffsetDateTimeField(required=False, help_text="The instant to show (default: now).")
    q = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="Search role, team, bleep number or the holder's name (any case).",
    )
