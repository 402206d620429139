"""Bleeps, their deliveries, and who is on call."""

from datetime import datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer, RoleSerializer, StrictSerializer
from escalation.selectors import overdue_at
from messaging import events
from messaging.models import (
    Bleep,
    BleepStatus,
    DeliveryStatus,
    FloodAlert,
    HistoryEntry,
    Priority,
    Reply,
)
from rota.models import Person


class RoleOnCallSerializer(serializers.Serializer):
    role = RoleSerializer(help_text="The role on call.")
    holders = PersonBriefSerializer(many=True)


class RoleSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    bleep_number = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    """One recipient's copy of a bleep, as `events.delivery_summary` describes it."""

    id = serializers.IntegerField(read_only=True)
    recipient = PersonBriefSerializer(read_only=True)
    role = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The role it was sent as; null for a person."
    )
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    eta_minutes = serializers.IntegerField(read_only=True, allow_null=True)
    comment = serializers.CharField(read_only=True)
    decline_reason = serializers.CharField(read_only=True)


class HandlingSerializer(serializers.Serializer):
    """Switchboard has taken the bleep on: who, their note, since when (not an acknowledgement)."""

    by = PersonBriefSerializer(help_text="The switchboard operator who took it on.")
    note = serializers.CharField()
    since = serializers.DateTimeField()


class SenderSerializer(PersonBriefSerializer):
    """Who sent a bleep, with their job, so a recipient knows who is calling."""

    job = serializers.ChoiceField(
        choices=Person.Job.choices,
        read_only=True,
        help_text="Their job; `words.jobs` of /api/me says it in the app's words.",
    )


class BleepSerializer(serializers.Serializer):
    """A bleep with every copy of it, as its sender and its recipients see it.

    Its fields document the shape; `events.bleep_summary` writes it, for REST answers and
    events alike, so a phone holds one shape whichever way a bleep reached it. A subclass's
    own fields (a thread, a board's age) are added after it by DRF as usual.
    """

    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=BleepStatus.choices, read_only=True)
    priority = serializers.ChoiceField(choices=Priority.choices, read_only=True)
    role = RoleSummarySerializer(read_only=True, allow_null=True)
    answering_role = RoleSummarySerializer(read_only=True, allow_null=True)
    person = PersonBriefSerializer(read_only=True, allow_null=True)
    team_call = serializers.IntegerField(read_only=True, allow_null=True)
    sender = SenderSerializer(read_only=True)
    message = serializers.CharField(read_only=True)
    location = serializers.CharField(read_only=True, allow_null=True)
    bed = serializers.CharField(read_only=True)
    callback_extension = serializers.CharField(read_only=True)
    nhs_number = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    acknowledged_by = PersonBriefSerializer(read_only=True, allow_null=True)
    for_switchboard = serializers.BooleanField(
        read_only=True,
        help_text="Addressed to switchboard itself; on any other bleep switchboard takes it on "
        "(`handle`) and cannot acknowledge it.",
    )
    handling = HandlingSerializer(many=True, read_only=True)
    deliveries = DeliverySerializer(many=True, read_only=True)

    def to_representation(self, bleep: Bleep) -> dict[str, Any]:
        described = events.bleep_summary(bleep)
        for field in self._readable_fields:
            assert field.field_name is not None  # bound to this serializer
            if field.field_name not in described:
                described[field.field_name] = _represent(field, bleep)
        return described


def _represent(field: serializers.Field, instance: Any) -> Any:
    # As DRF's Serializer.to_representation fills one field.
    attribute = field.get_attribute(instance)
    return None if attribute is None else field.to_representation(attribute)


class ReplyOutSerializer(serializers.ModelSerializer):
    author = PersonBriefSerializer(help_text="Who wrote the reply.")

    class Meta:
        model = Reply
        fields = ["id", "author", "text", "created_at"]


class HistoryEntrySerializer(serializers.ModelSerializer):
    actor = PersonBriefSerializer(allow_null=True)
    device = serializers.CharField(source="device.name", allow_null=True, default=None)

    class Meta:
        model = HistoryEntry
        fields = [
            "at",
            "action",
            "delivery",
            "from_status",
            "to_status",
            "actor",
            "device",
            "detail",
        ]


class BleepDetailSerializer(BleepSerializer):
    """A bleep with its thread and its full, append-only history."""

    replies = ReplyOutSerializer(many=True, read_only=True)
    history = HistoryEntrySerializer(many=True, read_only=True)


class FiredStepSerializer(serializers.Serializer):
    """One thing an escalation did: a step of its plan, or switchboard's hand."""

    action = serializers.CharField(
        help_text="What it did: renotify, escalate, notify_switchboard, broadcast_team, "
        "handover or redirect (the history's action)."
    )
    at = serializers.DateTimeField(help_text="When it did it (UTC).")
    after_seconds = serializers.IntegerField(help_text="How long after the send it did it.")
    reached = serializers.ListField(
        child=serializers.CharField(),
        help_text='The roles it brought in, by name ("switchboard" for operators brought '
        "in as themselves); empty for a reminder.",
    )


class EscalationProgressSerializer(serializers.Serializer):
    """How far an open bleep's escalation has gone (see docs/escalation.md)."""

    steps_fired = serializers.IntegerField(
        help_text="How many of the plan's steps have run; never more than steps_planned "
        "(past the plan come switchboard, if not in yet, and reminders: see summary)."
    )
    steps_planned = serializers.IntegerField(help_text="The policy's steps times (repeat + 1).")
    next_action = serializers.CharField(
        allow_null=True,
        help_text="What the next step does (renotify, escalate, notify_switchboard, "
        "broadcast_team); null once nothing more is planned.",
    )
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="When the next step is due (UTC); null with next_action."
    )
    reached_role = RoleSerializer(
        allow_null=True, help_text="The highest role the escalation has reached so far."
    )
    so_far = FiredStepSerializer(
        many=True,
        help_text="What the escalation has done, oldest first, reminders past the plan "
        "included: what summary tells in words.",
    )
    summary = serializers.CharField(
        help_text="What the escalation has done and what comes next, in words, times after "
        'the send: "reminded at 2 min, Consultant on call added at 4 min, switchboard in '
        'since 6 min; next: remind at 8 min".'
    )


class OpenBleepSerializer(BleepSerializer):
    """An open bleep on the switchboard's board, with how long it has waited and its step."""

    age_seconds = serializers.SerializerMethodField(
        help_text="Seconds since it was sent, at the time of the answer."
    )
    overdue_at = serializers.SerializerMethodField(
        help_text="When it counts as overdue unanswered (UTC): 3 min after the send for an "
        "emergency, 6 for urgent, 15 for routine, when the built-in plan has run its course."
    )
    escalation = serializers.SerializerMethodField()

    def get_age_seconds(self, bleep: Bleep) -> int:
        return int((self.context["now"] - bleep.created_at).total_seconds())

    def get_overdue_at(self, bleep: Bleep) -> datetime:
        return overdue_at(bleep)

    @extend_schema_field(EscalationProgressSerializer(allow_null=True))
    def get_escalation(self, bleep: Bleep) -> dict[str, Any] | None:
        progress = self.context["progress"].get(bleep.pk)
        if progress is None:
            return None
        return dict(EscalationProgressSerializer(progress._asdict()).data)


class EscalateSerializer(StrictSerializer):
    """Switchboard bringing another role into an open bleep."""

    role = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The role to bring in; empty for the next role up the fallback chain.",
    )


class RedirectSerializer(StrictSerializer):
    """Switchboard sending an open bleep on to another role or person instead."""

    role = serializers.IntegerField(required=False, help_text="The role to send the bleep to.")
    person = serializers.IntegerField(required=False, help_text="Or a person, by name.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("role" in attrs) == ("person" in attrs):
            raise serializers.ValidationError({"role": ["give exactly one of role or person"]})
        return attrs


class FloodAlertSerializer(serializers.Serializer):
    """A flood alert as `events.flood_alert_summary` describes it, for REST and events alike.

    Documents the answer's shape only: the view answers with the events' description, so the
    board and the `switchboard.flood` event never differ.
    """

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=FloodAlert.Kind.choices,
        help_text="sender: one sender past the send limit; role: too many bleeps to one role.",
    )
    sender = PersonBriefSerializer(allow_null=True)
    role = RoleSummarySerializer(allow_null=True)
    count = serializers.IntegerField(help_text="The most bleeps counted in one minute of it.")
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    raised_at = serializers.DateTimeField()
    detail = serializers.CharField()
