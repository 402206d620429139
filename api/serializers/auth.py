"""Sign-in and devices."""

from rest_framework import serializers

from api.serializers.base import PersonSerializer, StrictSerializer
from messaging.models import Device


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
