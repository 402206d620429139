"""Recurring patterns, and the report of expanding one into shifts."""

from datetime import UTC
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import dates
from api.serializers.base import PersonBriefSerializer, StrictSerializer
from rota.models import Pattern, Person, Role
from rota.services.patterns import Expansion, PlannedShift
from rota.wallclock import to_wall_clock

# Shift times are whole minutes of the site's wall clock.
WALL_CLOCK_FORMAT = "%H:%M"
# The longest range one request may expand: a year and a bit, so the report stays readable.
MAX_EXPANSION_DAYS = 400
ROTATION_HELP = "When the next member takes over: each shift, or each week (Monday to Sunday)."


def wall_clock_time(help_text: str) -> serializers.TimeField:
    """Return a field for an "HH:MM" time on the site's wall clock."""
    return serializers.TimeField(
        format=WALL_CLOCK_FORMAT, input_formats=[WALL_CLOCK_FORMAT], help_text=help_text
    )


class PatternSerializer(serializers.ModelSerializer):
    """A recurring shift in wall-clock time and the people it rotates through."""

    role: serializers.PrimaryKeyRelatedField[Role] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )
    start_time = wall_clock_time("Start, HH:MM on the site's wall clock.")
    end_time = wall_clock_time("End, HH:MM; an end not after the start is on the next day.")
    members = serializers.SerializerMethodField()

    class Meta:
        model = Pattern
        fields = [
            "id",
            "role",
            "name",
            "weekdays",
            "start_time",
            "end_time",
            "rotation",
            "anchor_date",
            "members",
        ]
        extra_kwargs = {"rotation": {"help_text": ROTATION_HELP}}

    def get_members(self, pattern: Pattern) -> list[int]:
        """Return the rotation's person ids, in order."""
        return [member.person_id for member in pattern.members.all()]


class PatternInputSerializer(StrictSerializer):
    """A recurring shift in wall-clock time and the people it rotates through."""

    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.select_related("site", "team"))
    name = serializers.CharField(max_length=120)
    # Which days are allowed is a rota rule (records.check_pattern); only the shape is here.
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), help_text="Days the shift starts on: 0 Monday … 6 Sunday."
    )
    start_time = wall_clock_time("Start, HH:MM on the site's wall clock.")
    end_time = wall_clock_time("End, HH:MM; an end not after the start is on the next day.")
    rotation = serializers.ChoiceField(
        choices=Pattern.Rotation.choices,
        default=Pattern.Rotation.EACH_WEEK,
        help_text=ROTATION_HELP,
    )
    anchor_date = dates.DateField(
        help_text="The first member works the first shift (or week) on or after this day."
    )
    # A deactivated account holds nothing, so rotating through one would plan gaps.
    members = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=Person.objects.filter(is_active=True),
        help_text="The rotation: active people's ids, in order.",
    )


class PatternChangesSerializer(PatternInputSerializer):
    """The same fields, each optional: only those sent are changed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "partial": True})


class ExpandPatternSerializer(StrictSerializer):
    """The days to expand a pattern over, both included, at most 400 of them."""

    to = dates.DateField(help_text="The last day a shift may start on (inclusive).")
    dry_run = serializers.BooleanField(
        default=False, help_text="Report what would change and change nothing."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        first = dates.DateField(help_text="The first day a shift may start on.")
        return {"from": first, **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        days = (attrs["to"] - attrs["from"]).days + 1
        if days < 1:
            raise serializers.ValidationError({"to": ["must not be before from"]})
        if days > MAX_EXPANSION_DAYS:
            raise serializers.ValidationError(
                {"to": [f"at most {MAX_EXPANSION_DAYS} days from 'from', counting both"]}
            )
        return attrs


class ExpandedShiftSerializer(serializers.Serializer):
    """One shift the pattern makes, in UTC and on the site's clock."""

    person = PersonBriefSerializer(help_text="Whose turn of the rotation the shift is.")
    start = serializers.DateTimeField(default_timezone=UTC)
    end = serializers.DateTimeField(default_timezone=UTC)
    start_wall_clock = serializers.SerializerMethodField()
    end_wall_clock = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start_wall_clock(self, shift: PlannedShift) -> str:
        """Return the start on the site's clock, with its UTC offset."""
        return to_wall_clock(shift.start, self.context["zone"]).isoformat()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_end_wall_clock(self, shift: PlannedShift) -> str:
        """Return the end on the site's clock, with its UTC offset."""
        return to_wall_clock(shift.end, self.context["zone"]).isoformat()


class ExpansionSerializer(serializers.Serializer):
    """What an expansion changed (or, in a dry run, would change) and every shift it plans."""

    dry_run = serializers.SerializerMethodField()
    time_zone = serializers.SerializerMethodField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    removed = serializers.IntegerField()
    kept_by_hand = serializers.IntegerField(
        help_text="Slots left alone because a swap, cover or edit changed their shift."
    )
    shifts = ExpandedShiftSerializer(many=True, source="planned")

    def get_dry_run(self, expansion: Expansion) -> bool:
        """Return whether nothing was written."""
        return bool(self.context["dry_run"])

    def get_time_zone(self, expansion: Expansion) -> str:
        """Return the site's time zone, which the wall-clock times are in."""
        return str(self.context["zone"])
