"""Sign-in and devices."""

from datetime import datetime

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import PersonSerializer, StrictSerializer
from messaging.actions import WORDS
from messaging.fallback.outbox import usable_channels
from messaging.models import Device
from messaging.selectors import mfa_enrolled, mfa_required
from messaging.services.devices import device_expires_at
from rota.models import Person

OTP_HELP = "The 6-digit code from the authenticator app, or an unused recovery code."


class LoginSerializer(StrictSerializer):
    """A sign-in from a phone: who, their password, and a code once they have a second factor."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_name = serializers.CharField(max_length=80, default="phone")
    end_other_sessions = serializers.BooleanField(
        default=False, help_text="Sign out every other device of this person as well."
    )
    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=f"{OTP_HELP} Needed once the person has enrolled an authenticator.",
    )


class OtpSerializer(StrictSerializer):
    """A code from the authenticator app (or a recovery code) confirming who is asking."""

    otp = serializers.CharField(max_length=32, help_text=OTP_HELP)


class StartEnrolmentSerializer(StrictSerializer):
    """A request to enrol an authenticator app as the second factor."""

    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text=f"{OTP_HELP} Needed only to replace an enrolled authenticator.",
    )


class EnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The authenticator's secret, base32; shown once.")
    uri = serializers.CharField(help_text="The same as an otpauth:// URI, for a QR code.")


class MfaSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here: a field named `required` would shadow the serializer's own attribute.
        return {
            "enrolled": serializers.BooleanField(help_text="Sign-in asks this person for a code."),
            "required": serializers.BooleanField(
                help_text="This person's role requires a second factor."
            ),
        }


class RecoveryCodesSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ten single-use codes, each in place of a 6-digit code; shown once.",
    )
    mfa = MfaSerializer(help_text="This person's second factor, now enrolled.")


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
    device = DeviceSerializer(help_text="The device this sign-in made; the token is its own.")
    user = PersonSerializer(help_text="The person signed in.")


class EnrolledSignInSerializer(RecoveryCodesSerializer, LoginResponseSerializer):
    """The end of a sign-in finished by enrolling: recovery codes and the device's token."""


def mfa_status(person: Person) -> dict[str, bool]:
    """Return whether `person` has enrolled an authenticator and whether they must."""
    return {"enrolled": mfa_enrolled(person), "required": mfa_required(person)}


class WordsSerializer(serializers.Serializer):
    actions = serializers.DictField(
        child=serializers.CharField(), help_text="Each action as a line of a bleep's history."
    )
    steps = serializers.DictField(
        child=serializers.CharField(), help_text="Each escalation step as what comes next."
    )
    statuses = serializers.DictField(
        child=serializers.CharField(), help_text="Each status of a bleep or a copy of it."
    )
    jobs = serializers.DictField(
        child=serializers.CharField(), help_text="Each job, as a bleep's sender is named by."
    )
    channels = serializers.DictField(
        child=serializers.CharField(),
        help_text="Each way a bleep reaches a phone (push, sms, pager), as its history names it.",
    )


class MeSerializer(PersonSerializer):
    device = serializers.SerializerMethodField(help_text="The device this request came from.")
    mfa = serializers.SerializerMethodField(help_text="This person's second factor.")
    words = serializers.SerializerMethodField(help_text="What the app shows for each value.")
    dial_prefix = serializers.SerializerMethodField(
        help_text="Digits to dial before a callback extension (CALLBACK_DIAL_PREFIX), maybe "
        'empty: the app calls tel:{dial_prefix}{callback_extension}, e.g. "0163296" + "4417".'
    )

    channels = serializers.SerializerMethodField(
        help_text="The fallback channels this server sends on, in order (sms, pager): the "
        "kinds of number a person may add at /api/me/contacts; empty when none is set up."
    )

    class Meta(PersonSerializer.Meta):
        fields = [
            *PersonSerializer.Meta.fields,
            "device",
            "mfa",
            "words",
            "dial_prefix",
            "channels",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_channels(self, person: Person) -> list[str]:
        return [str(kind) for kind in usable_channels()]

    def get_dial_prefix(self, person: Person) -> str:
        return str(settings.CALLBACK_DIAL_PREFIX)

    @extend_schema_field(WordsSerializer)
    def get_words(self, person: Person) -> dict[str, dict[str, str]]:
        return WORDS

    @extend_schema_field(MfaSerializer)
    def get_mfa(self, person: Person) -> dict[str, bool]:
        return mfa_status(person)

    @extend_schema_field(DeviceSerializer)
    def get_device(self, person: object) -> dict[str, object]:
        return dict(DeviceSerializer(self.context["device"]).data)


class SsoSettingsSerializer(serializers.Serializer):
    """How this deployment signs people in, for the app's sign-in screen."""

    sso = serializers.BooleanField(help_text="Whether single sign-on is configured.")
    provider_name = serializers.CharField(
        help_text="The words after “Sign in with”, such as “NHS Care Identity”."
    )
    start_url = serializers.CharField(
        help_text="Where the app sends the browser to sign in at the identity provider."
    )
    password_sign_in = serializers.BooleanField(
        help_text="Whether the username and password form is offered at all."
    )


class SsoExchangeSerializer(StrictSerializer):
    """The code the identity provider's sign-in brought back, for this device's token."""

    code = serializers.CharField(
        max_length=64, help_text="From the address's fragment after signing in; works once."
    )
    device_name = serializers.CharField(max_length=80, default="phone")
