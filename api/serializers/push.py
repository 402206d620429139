"""Web Push: the server's key and the browser's subscriptions."""

from collections.abc import Callable

from rest_framework import serializers

from api.serializers.auth import DeviceSerializer
from api.serializers.base import StrictSerializer
from messaging.exceptions import InvalidPushSubscription
from messaging.models import PushSubscription
from messaging.validators import check_auth_secret, check_p256dh, check_push_endpoint


def _checked(check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except InvalidPushSubscription as error:
        raise serializers.ValidationError(error.message) from None


class PushKeySerializer(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The VAPID key, base64url: `applicationServerKey` for pushManager.subscribe()."
    )


class PushKeysInputSerializer(StrictSerializer):
    """The keys of a browser's push subscription, as `PushSubscription.toJSON()` gives them."""

    p256dh = serializers.CharField(max_length=100, help_text="The browser's P-256 key, base64url.")
    auth = serializers.CharField(max_length=30, help_text="The browser's auth secret, base64url.")

    def validate_p256dh(self, value: str) -> str:
        return _checked(check_p256dh, value)

    def validate_auth(self, value: str) -> str:
        return _checked(check_auth_secret, value)


class PushSubscriptionInputSerializer(StrictSerializer):
    """The shape of the browser's `PushSubscription.toJSON()`, posted as it is."""

    endpoint = serializers.CharField(
        max_length=PushSubscription.ENDPOINT_MAX_LENGTH, trim_whitespace=False
    )
    keys = PushKeysInputSerializer(help_text="The subscription's keys, as the browser gives them.")
    # Named as the browser names it, so toJSON() can be posted unchanged.
    expirationTime = serializers.IntegerField(
        required=False, allow_null=True, help_text="Sent by browsers; ignored."
    )

    def validate_endpoint(self, value: str) -> str:
        return _checked(check_push_endpoint, value)


class PushSubscriptionSerializer(serializers.ModelSerializer):
    device = DeviceSerializer(help_text="The signed-in device whose pushes it receives.")
    current = serializers.SerializerMethodField(
        help_text="Whether it belongs to the device that asked."
    )

    class Meta:
        model = PushSubscription
        fields = ["id", "endpoint", "device", "created_at", "current"]

    def get_current(self, subscription: PushSubscription) -> bool:
        return bool(subscription.device_id == self.context["current"].pk)
