"""Rota imports, exports and calendar feeds."""

from typing import Any
from zoneinfo import ZoneInfo

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import dates
from api.serializers.base import (
    PersonBriefSerializer,
    PersonSerializer,
    RoleSerializer,
    StrictSerializer,
)
from api.serializers.rota_reports import GapSerializer
from rota.models import CalendarFeed, ImportJob, Person, Role
from rota.selectors import Gap
from rota.services.calendars.applying import ImportReport, Outcome, SkipReason


class CsvImportQuerySerializer(StrictSerializer):
    dry_run = serializers.BooleanField(
        default=False, help_text="Check and report what would change, and save nothing."
    )
    move_shifts = serializers.BooleanField(
        default=False,
        help_text="Let a uid that names another role's shift move it to the line's role.",
    )
    accept_gaps = serializers.BooleanField(
        default=False,
        help_text="Apply even if a role is left without a holder where it had one.",
    )


class IcalImportQuerySerializer(CsvImportQuerySerializer):
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.select_related("site", "team"),
        required=False,
        default=None,
        help_text="Every event's role (id), instead of its X-BLEEP-ROLE.",
    )
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        default=None,
        help_text="Every event's person (id), instead of its X-BLEEP-PERSON.",
    )


class ImportedShiftSerializer(serializers.Serializer):
    where = serializers.CharField(
        source="label", help_text='Where in the file: "row 3", or "event <UID> (<summary>) …".'
    )
    uid = serializers.CharField()
    outcome = serializers.ChoiceField(
        choices=[outcome.value for outcome in Outcome],
        help_text="What the import did (or, in a dry run, would do) with the shift.",
    )
    shift_id = serializers.IntegerField(allow_null=True, help_text="None for a dry run's new one.")
    role = RoleSerializer(help_text="The role the file's shift is for.")
    person = PersonSerializer(help_text="Who holds the role during the shift.")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class SkippedEventSerializer(serializers.Serializer):
    where = serializers.CharField(
        source="label", help_text='The event: "event <UID> (<summary>)", and which occurrence.'
    )
    uid = serializers.CharField()
    reason = serializers.ChoiceField(
        choices=[reason.value for reason in SkipReason],
        help_text="Why no shift came of it: the event is cancelled; a repeat's occurrences "
        "fall before or after the window imported; or its exceptions leave no occurrence.",
    )
    occurrences = serializers.IntegerField(
        allow_null=True, help_text="How many; null after the window of a repeat without end."
    )


class RecurrenceWindowSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword, so it cannot be declared in the class body.
        return {
            "from": serializers.DateTimeField(
                source="start",
                help_text="A repeating event's occurrences from this instant become shifts (UTC).",
            ),
            "to": serializers.DateTimeField(
                source="end", help_text="Up to this instant (UTC); later ones are skipped."
            ),
        }


class ImportGapSerializer(GapSerializer):
    start_local = serializers.SerializerMethodField(help_text="The start on the site's clock.")
    end_local = serializers.SerializerMethodField(help_text="The end on the site's clock.")

    def get_start_local(self, gap: Gap) -> str:
        return gap.start.astimezone(ZoneInfo(gap.role.site.time_zone)).isoformat()

    def get_end_local(self, gap: Gap) -> str:
        return gap.end.astimezone(ZoneInfo(gap.role.site.time_zone)).isoformat()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.SerializerMethodField()
    updated = serializers.SerializerMethodField()
    unchanged = serializers.SerializerMethodField()
    skipped = serializers.IntegerField(
        source="skipped_occurrences",
        help_text="Occurrences that became no shift (an endless repeat's future not counted).",
    )
    shifts = ImportedShiftSerializer(many=True, help_text="The first 500.")
    shifts_not_shown = serializers.IntegerField()
    skipped_events = SkippedEventSerializer(source="skipped", many=True)
    recurrence_window = RecurrenceWindowSerializer(
        allow_null=True, help_text="iCal: where repeats become shifts; null for CSV."
    )
    skipped_events_not_shown = serializers.IntegerField()
    gaps = ImportGapSerializer(
        many=True, help_text="Where a role would have, or now has, nobody because of this file."
    )

    def get_created(self, report: ImportReport) -> int:
        return report.count(Outcome.CREATED)

    def get_updated(self, report: ImportReport) -> int:
        return report.count(Outcome.UPDATED)

    def get_unchanged(self, report: ImportReport) -> int:
        return report.count(Outcome.UNCHANGED)


@extend_schema_field(ImportReportSerializer)
class StoredReportField(serializers.JSONField):
    """A finished import's report, stored by the worker in the shape described here."""


class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="Where to ask how the import went.")
    kind = serializers.ChoiceField(
        choices=ImportJob.Kind.choices, help_text="What the file was: CSV or iCalendar."
    )
    status = serializers.ChoiceField(
        choices=ImportJob.Status.choices,
        help_text="queued, running, then done (see report) or failed (see error).",
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    report = StoredReportField(
        allow_null=True,
        help_text="When done: what the import did (a dry run: would do); lists are capped at "
        "500 with how many were not shown.",
    )
    error = serializers.JSONField(
        source="errors",
        allow_null=True,
        help_text="When failed: the error as any 4xx answer gives it, {code, detail, fields}; "
        "fields name the first 50 places, and more_errors how many more.",
    )

    def get_url(self, job: ImportJob) -> str:
        return str(self.context["url"])


class ExportQuerySerializer(StrictSerializer):
    to = dates.DateTimeField(
        required=False, help_text="Shifts starting before this (default: 400 days ahead)."
    )
    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, help_text="Only this role's shifts."
    )
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(), required=False, help_text="Only this person's shifts."
    )

    def get_fields(self) -> dict[str, Any]:
        # `from` is a Python keyword, so it cannot be declared in the class body.
        fields = {
            "from": dates.DateTimeField(
                required=False, help_text="Shifts ending after this (default: 30 days ago)."
            )
        }
        return {**fields, **super().get_fields()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "from" in attrs and "to" in attrs and attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["must be after from"]})
        return attrs


class FeedCreateSerializer(StrictSerializer):
    """What a new calendar feed lists: one person's shifts or one role's."""

    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.select_related("team"),
        required=False,
        allow_null=True,
        default=None,
        help_text="A role you manage as a rota manager.",
    )
    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Yourself.",
    )


class FeedSerializer(serializers.ModelSerializer):
    role = RoleSerializer(allow_null=True)
    person = PersonBriefSerializer(allow_null=True)

    class Meta:
        model = CalendarFeed
        fields = ["id", "role", "person", "created_at"]


class FeedCreatedSerializer(FeedSerializer):
    url = serializers.SerializerMethodField(
        help_text="The secret URL to subscribe to; shown once, never again."
    )

    class Meta(FeedSerializer.Meta):
        fields = [*FeedSerializer.Meta.fields, "url"]

    def get_url(self, feed: CalendarFeed) -> str:
        return str(self.context["url"])
