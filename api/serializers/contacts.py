"""A person's numbers for text and pager messages, phone tests, and who cannot be reached."""

from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer
from api.serializers.bleeps import RoleSummarySerializer
from messaging.models import ContactKind, PhoneTest


class ContactSerializer(serializers.Serializer):
    """One of my numbers as `events.contact_summary` describes it."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=ContactKind.choices, help_text="sms: a mobile for text messages; pager: a pager."
    )
    address = serializers.CharField(
        help_text="The number: a mobile in international form (+447700900123), or the pager's."
    )
    verified = serializers.BooleanField(
        help_text="Whether its code came back: only a verified number is used for bleeps."
    )
    verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When its code came back; null until then."
    )
    usable = serializers.BooleanField(
        help_text="False once the network said it cannot be reached: add it again to retry."
    )
    unusable_reason = serializers.CharField(help_text="What the network said, if unusable.")


class NewContactSerializer(ContactSerializer):
    """A number just added or sent a new code, and when another code may be asked for."""

    resend_at = serializers.DateTimeField(help_text="When a new code may be asked for.")


class ContactInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ContactKind.choices, help_text="sms for a mobile number, pager for a pager."
    )
    address = serializers.CharField(
        max_length=40,
        help_text="The mobile number (07700 900123, +44 7700 900123) or the pager's number.",
    )


class CodeInputSerializer(serializers.Serializer):
    code = serializers.CharField(
        max_length=10, help_text="The six-digit code sent to the number by text or page."
    )


class PhoneTestSerializer(serializers.ModelSerializer):
    """A test bleep to my own devices; a device confirming it proves it rings."""

    confirmed_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When a device of mine confirmed it; null until one does.",
    )

    class Meta:
        model = PhoneTest
        fields = ["id", "created_at", "confirmed_at"]


class ShiftWarningSerializer(serializers.Serializer):
    """Someone coming on call whom Bleep cannot reach, as `events.shift_warning_summary`
    describes it for REST and the `shift.unreachable` event alike."""

    id = serializers.IntegerField()
    person = PersonBriefSerializer(help_text="Who is coming on call and cannot be reached.")
    role = RoleSummarySerializer(help_text="The role they are coming on call as.")
    shift_start = serializers.DateTimeField(help_text="When their shift starts.")
    shift_end = serializers.DateTimeField(help_text="When their shift ends.")
    raised_at = serializers.DateTimeField(help_text="When the check before the shift found it.")
    detail = serializers.CharField(help_text="The warning in words, with the local start time.")
