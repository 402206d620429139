"""Bleeps, their deliveries, and who is on call."""

from typing import Any

from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer, RoleSerializer, StrictSerializer
from messaging.models import Bleep, Delivery, Priority
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
    callback_extension = serializers.RegexField(
        r"^[0-9]{1,10}$",
        required=False,
        default="",
        allow_blank=True,
        error_messages={"invalid": "an extension is 1 to 10 digits"},
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("role" in attrs) == ("bleep_number" in attrs):
            raise serializers.ValidationError({"role": ["give either role or bleep_number"]})
        return attrs


class AcknowledgeSerializer(StrictSerializer):
    eta_minutes = serializers.IntegerField(
        min_value=0, max_value=240, required=False, allow_null=True, default=None
    )
    comment = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class DeliverySerializer(serializers.ModelSerializer):
    recipient = PersonBriefSerializer()

    class Meta:
        model = Delivery
        fields = ["id", "recipient", "status", "updated_at", "eta_minutes", "comment"]


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
            "created_at",
            "acknowledged_by",
            "deliveries",
        ]
