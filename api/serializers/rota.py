"""Sites, locations, teams, roles, shifts and the rota's audit trail."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import dates
from api.serializers.base import RejectUnknownFields
from rota.models import Location, Person, Role, RotaChange, Shift, Site, Team
from rota.wallclock import to_utc


class SiteSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A hospital site, whose time zone its rota is read in."""

    class Meta:
        model = Site
        fields = ["id", "name", "time_zone"]


class LocationSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A ward or other place of a site that a bleep can be about."""

    class Meta:
        model = Location
        fields = ["id", "site", "name"]
        validators: list[Any] = []  # the rule lives in rota.services.records, named by field


class TeamSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A team of a site, such as Medicine, that holds roles and may manage its own rota."""

    class Meta:
        model = Team
        fields = ["id", "site", "name", "swaps_need_approval"]
        validators: list[Any] = []


class RoleRecordSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """A role people bleep by its number, whoever holds it on the rota."""

    class Meta:
        model = Role
        fields = ["id", "site", "team", "name", "bleep_number", "kind", "fallback"]
        validators: list[Any] = []
        extra_kwargs = {
            "kind": {
                "help_text": "clinical (the default) for a role people bleep; switchboard for "
                "the role every fallback chain ends at."
            }
        }


@extend_schema_field(OpenApiTypes.DATETIME)
class WallClockDateTimeField(serializers.Field):
    """An instant given with an offset, or as the site's wall-clock time without one."""

    default_error_messages = {
        "invalid": "give an ISO 8601 date and time, e.g. 2026-10-24T20:00 or …T20:00+01:00"
    }

    def to_internal_value(self, data: Any) -> datetime:
        parsed = parse_datetime(data) if isinstance(data, str) else None
        if parsed is None:
            self.fail("invalid")
        if not dates.in_range(parsed):
            raise serializers.ValidationError(dates.OUT_OF_RANGE, code="out_of_range")
        return parsed  # a naive value is resolved against the role's site in validate()

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


class ShiftSerializer(RejectUnknownFields, serializers.ModelSerializer):
    """One person holding one role from start to end."""

    start = WallClockDateTimeField(help_text="With an offset, or the site's wall-clock time.")
    end = WallClockDateTimeField(help_text="With an offset, or the site's wall-clock time.")
    start_local = serializers.SerializerMethodField(help_text="The start on the site's clock.")
    end_local = serializers.SerializerMethodField(help_text="The end on the site's clock.")
    person = serializers.PrimaryKeyRelatedField(queryset=Person.objects.filter(is_active=True))

    class Meta:
        model = Shift
        fields = ["id", "role", "person", "start", "end", "start_local", "end_local", "pattern"]
        read_only_fields = ["pattern"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        role = attrs.get("role") or (self.instance.role if self.instance else None)
        if role is not None:
            zone = ZoneInfo(role.site.time_zone)
            for name in ("start", "end"):
                value = attrs.get(name)
                if value is not None and value.tzinfo is None:
                    attrs[name] = to_utc(day=value.date(), at=value.time(), zone=zone)
        return attrs

    def get_start_local(self, shift: Shift) -> str:
        return shift.start.astimezone(ZoneInfo(shift.role.site.time_zone)).isoformat()

    def get_end_local(self, shift: Shift) -> str:
        return shift.end.astimezone(ZoneInfo(shift.role.site.time_zone)).isoformat()


class RotaChangeSerializer(serializers.ModelSerializer):
    actor: serializers.Field = serializers.StringRelatedField()

    class Meta:
        model = RotaChange
        fields = ["id", "at", "actor", "action", "model", "object_id", "before", "after"]
