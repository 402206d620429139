"""Request and response shapes of the REST API."""

from typing import Any

from rest_framework import serializers

from messaging.models import Bleep, Delivery, Device, Priority
from rota.models import Location, Person, Role


class StrictSerializer(serializers.Serializer):
    """Reject fields the endpoint does not know, so a misspelt `bed` is not silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "username", "name", "job"]


class PersonBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "name"]


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_name = serializers.CharField(max_length=80, default="phone")


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DeviceDetailSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request came from it.")

    class Meta:
        model = Device
        fields = ["id", "name", "created_at", "last_seen_at", "current"]

    def get_current(self, device: Device) -> bool:
        return bool(device.pk == self.context["current"].pk)


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown once.")
    device = DeviceSerializer()
    user = PersonSerializer()


class RoleSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name")

    class Meta:
        model = Role
        fields = ["id", "name", "bleep_number", "team"]


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
