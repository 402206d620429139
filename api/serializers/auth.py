"""Sign-in and devices."""

from datetime import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import PersonSerializer, StrictSerializer
from messaging.models import Device
from messaging.services.devices import device_expires_at


class LoginSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_name = serializers.CharField(max_length=80, default="phone")
    end_other_sessions = serializers.BooleanField(
        default=False, help_text="Sign out every other device of this person as well."
    )


class DeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    expires_at = serializers.SerializerMethodField(
        help_text="When this device's token stops working unless used again before then."
    )

    def get_expires_at(self, device: Device) -> datetime:
        return device_expires_at(device)


class DeviceDetailSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(help_text="Whether this request came from it.")
    expires_at = serializers.SerializerMethodField(
        help_text="When its token stops working unless used again before then."
    )

    class Meta:
        model = Device
        fields = ["id", "name", "created_at", "last_seen_at", "expires_at", "current"]

    def get_current(self, device: Device) -> bool:
        return bool(device.pk == self.context["current"].pk)

    def get_expires_at(self, device: Device) -> datetime:
        return device_expires_at(device)


class LoginResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Bearer <token>`; shown once.")
    device = DeviceSerializer()
    user = PersonSerializer()


class MeSerializer(PersonSerializer):
    device = serializers.SerializerMethodField(help_text="The device this request came from.")

    class Meta(PersonSerializer.Meta):
        fields = [*PersonSerializer.Meta.fields, "device"]

    @extend_schema_field(DeviceSerializer)
    def get_device(self, person: object) -> dict[str, object]:
        return dict(DeviceSerializer(self.context["device"]).data)
