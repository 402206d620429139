"""Bleeps, their deliveries, and who is on call."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer, RoleSerializer, StrictSerializer
from messaging.models import Bleep, Delivery, HistoryEntry, Reply


class RoleOnCallSerializer(serializers.Serializer):
    role = RoleSerializer()
    holders = PersonBriefSerializer(many=True)


class AcknowledgeSerializer(StrictSerializer):
    eta_minutes = serializers.IntegerField(
        min_value=0,
        max_value=Delivery.ETA_MAX_MINUTES,
        required=False,
        allow_null=True,
        default=None,
    )
    comment = serializers.CharField(
        max_length=Delivery.NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )


class DeliverySerializer(serializers.ModelSerializer):
    recipient = PersonBriefSerializer()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "recipient",
            "role",
            "status",
            "updated_at",
            "eta_minutes",
            "comment",
            "decline_reason",
        ]


class BleepSerializer(serializers.ModelSerializer):
    role = RoleSerializer(allow_null=True)
    answering_role = RoleSerializer(allow_null=True)
    person = PersonBriefSerializer(allow_null=True)
    sender = PersonBriefSerializer()
    acknowledged_by = PersonBriefSerializer(allow_null=True)
    location = serializers.CharField(source="location.name", allow_null=True, default=None)
    deliveries = DeliverySerializer(many=True)

    class Meta:
        model = Bleep
        fields = [
            "id",
            "status",
            "priority",
            "role",
            "answering_role",
            "person",
            "team_call",
            "sender",
            "message",
            "location",
            "bed",
            "callback_extension",
            "nhs_number",
            "created_at",
            "acknowledged_by",
            "deliveries",
        ]


class DeclineSerializer(StrictSerializer):
    reason = serializers.CharField(
        max_length=Delivery.NOTE_MAX_LENGTH, help_text="Why, e.g. 'in theatre'."
    )


class ReplySerializer(StrictSerializer):
    text = serializers.CharField(max_length=Reply.TEXT_MAX_LENGTH)


class ReplyOutSerializer(serializers.ModelSerializer):
    author = PersonBriefSerializer()

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

    replies = ReplyOutSerializer(many=True)
    history = HistoryEntrySerializer(many=True)

    class Meta(BleepSerializer.Meta):
        fields = [*BleepSerializer.Meta.fields, "replies", "history"]


class EscalationProgressSerializer(serializers.Serializer):
    """How far an open bleep's escalation has gone (see docs/escalation.md)."""

    steps_fired = serializers.IntegerField()
    steps_planned = serializers.IntegerField(help_text="The policy's steps times (repeat + 1).")
    next_action = serializers.CharField(allow_null=True)
    next_due_at = serializers.DateTimeField(allow_null=True)
    reached_role = RoleSerializer(allow_null=True)


class OpenBleepSerializer(BleepSerializer):
    """An open bleep on the switchboard's board, with how long it has waited and its step."""

    age_seconds = serializers.SerializerMethodField()
    escalation = serializers.SerializerMethodField()

    class Meta(BleepSerializer.Meta):
        fields = [*BleepSerializer.Meta.fields, "age_seconds", "escalation"]

    def get_age_seconds(self, bleep: Bleep) -> int:
        return int((self.context["now"] - bleep.created_at).total_seconds())

    @extend_schema_field(EscalationProgressSerializer(allow_null=True))
    def get_escalation(self, bleep: Bleep) -> dict[str, Any] | None:
        progress = self.context["progress"].get(bleep.pk)
        if progress is None:
            return None
        return dict(EscalationProgressSerializer(progress._asdict()).data)


class EscalateSerializer(StrictSerializer):
    role = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The role to bring in; empty for the next role up the fallback chain.",
    )


class RedirectSerializer(StrictSerializer):
    role = serializers.IntegerField(required=False, help_text="The role to send the bleep to.")
    person = serializers.IntegerField(required=False, help_text="Or a person, by name.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("role" in attrs) == ("person" in attrs):
            raise serializers.ValidationError({"role": ["give exactly one of role or person"]})
        return attrs
