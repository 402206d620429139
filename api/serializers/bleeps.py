"""Bleeps, their deliveries, and who is on call."""

from typing import Any

from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer, RoleSerializer, StrictSerializer
from messaging.models import Bleep, Delivery, HistoryEntry, Priority, Reply
from messaging.validators import is_valid_nhs_number
from rota.models import Location


class RoleOnCallSerializer(serializers.Serializer):
    role = RoleSerializer()
    holders = PersonBriefSerializer(many=True)


class SendBleepSerializer(StrictSerializer):
    role = serializers.IntegerField(required=False, help_text="The role's id.")
    bleep_number = serializers.CharField(
        required=False, max_length=10, help_text="The role's bleep number, instead of its id."
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    message = serializers.CharField(max_length=Bleep.MESSAGE_MAX_LENGTH)
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, allow_null=True, default=None
    )
    bed = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    nhs_number = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=12,
        help_text="Optional; ten digits, checked with the Modulus 11 rule.",
    )
    idempotency_key = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        max_length=64,
        help_text="Chosen by the device; sending the same key again returns the same bleep (200).",
    )
    callback_extension = serializers.RegexField(
        r"^[0-9]{1,10}$",
        required=False,
        default="",
        allow_blank=True,
        error_messages={"invalid": "an extension is 1 to 10 digits"},
    )

    def validate_nhs_number(self, value: str) -> str:
        if value and not is_valid_nhs_number(value):
            raise serializers.ValidationError("not a valid NHS number (Modulus 11 check failed)")
        return value.replace(" ", "")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("role" in attrs) == ("bleep_number" in attrs):
            raise serializers.ValidationError({"role": ["give either role or bleep_number"]})
        return attrs


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
            "status",
            "updated_at",
            "eta_minutes",
            "comment",
            "decline_reason",
        ]


class BleepSerializer(serializers.ModelSerializer):
    role = RoleSerializer()
    answering_role = RoleSerializer()
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


class OpenBleepSerializer(BleepSerializer):
    """An open bleep on the switchboard's board, with how long it has waited."""

    age_seconds = serializers.SerializerMethodField()

    class Meta(BleepSerializer.Meta):
        fields = [*BleepSerializer.Meta.fields, "age_seconds"]

    def get_age_seconds(self, bleep: Bleep) -> int:
        return int((self.context["now"] - bleep.created_at).total_seconds())
