"""Response-time analytics: what is asked, and what is answered (docs/operations.md)."""

from datetime import timedelta
from typing import Any

from rest_framework import serializers
from rest_framework.fields import Field

from api.serializers.base import StrictSerializer
from api.serializers.rota_reports import OffsetDateTimeField
from messaging.analytics import DIMENSIONS
from messaging.models import Priority

# A year: what a clinical safety officer reviews at once.
MAX_ANALYTICS_RANGE = timedelta(days=366)


class PeriodQuerySerializer(StrictSerializer):
    """A period of at most a year: `from` (inclusive) and `to` (exclusive)."""

    to = OffsetDateTimeField(help_text="The end of the period (exclusive).")

    def get_fields(self) -> dict[str, Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        start = OffsetDateTimeField(help_text="The start of the period (inclusive).")
        return {"from": start, **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["must be after from"]})
        if attrs["to"] - attrs["from"] > MAX_ANALYTICS_RANGE:
            raise serializers.ValidationError(
                {"to": [f"at most {MAX_ANALYTICS_RANGE.days} days after from"]}
            )
        return attrs


class ResponseTimesQuerySerializer(PeriodQuerySerializer):
    """A period, and how to group its bleeps."""

    by = serializers.ChoiceField(
        choices=DIMENSIONS,
        help_text="Group by role, team, ward, priority, hour (of the site's clock), weekday "
        "(weekday or weekend), daynight (night is 20:00 to 08:00), weekhour (the hour of the "
        "week, Monday 00:00 first) or day (the site's date).",
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, help_text="Only bleeps of this priority."
    )


class TimingSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many bleeps reached this moment.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds after sending.")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds; the 90th centile.")
    max = serializers.FloatField(allow_null=True, help_text="Seconds; the longest.")


class ResponseTimesGroupSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The group's id (a role's id, an hour, `night`…).")
    name = serializers.CharField(help_text="The group in words.")
    bleeps = serializers.IntegerField(help_text="Bleeps sent in the period in this group.")
    delivered = TimingSerializer(help_text="To a device of a recipient confirming it.")
    read = TimingSerializer(help_text="To a recipient opening it.")
    acknowledged = TimingSerializer(help_text="To its acknowledgement.")
    escalated = serializers.IntegerField(help_text="Bleeps escalation moved past someone.")
    escalated_to_step = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="How many bleeps escalation took as far as each step of their plan.",
    )
    declined = serializers.IntegerField(help_text="Bleeps a recipient declined.")
    redirected = serializers.IntegerField(help_text="Bleeps switchboard redirected.")
    reached_switchboard = serializers.IntegerField(help_text="Bleeps switchboard was sent.")


class LoadSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(help_text="The person's id.")
    name = serializers.CharField(help_text="The person's name.")
    bleeps = serializers.IntegerField(help_text="Bleeps that reached them (their copies).")
    hours_on_call = serializers.FloatField(help_text="Hours of their shifts within the period.")
    per_hour = serializers.FloatField(
        allow_null=True, help_text="Bleeps per hour on call: the interruption load."
    )
