"""What a sender may write in a bleep or a team call, and a recipient in an answer: one set
of checks for REST and the WebSocket.

They live here, in the lowest app that both ways in reach (the socket's consumer is in
messaging, which may not import `api`), so a field's limits and its words are written once.
"""

from typing import Any

from rest_framework import serializers

from bleep.strict import StrictSerializer, TextField
from messaging.models import Bleep, Delivery, Priority, Reply
from messaging.selectors import find_target
from messaging.services.bleeps import BleepDraft
from messaging.validators import is_valid_nhs_number
from rota.models import Location, Team


class BleepContentSerializer(StrictSerializer):
    """What every bleep says besides whom it is for: the message and the patient's context."""

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
        help_text="Chosen by the device; sending the same key again returns the first send (200).",
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


class SendBleepSerializer(BleepContentSerializer):
    """A bleep as its sender writes it, checked once for REST and the socket alike."""

    role = serializers.IntegerField(required=False, help_text="The role's id.")
    bleep_number = serializers.CharField(
        required=False, max_length=10, help_text="The role's bleep number, instead of its id."
    )
    person = serializers.IntegerField(
        required=False, help_text="A person's id, to bleep them by name instead of a role."
    )
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        targets = [name for name in ("role", "bleep_number", "person") if name in attrs]
        if len(targets) != 1:
            raise serializers.ValidationError(
                {"role": ["give exactly one of role, bleep_number or person"]}
            )
        return attrs

    def draft(self) -> BleepDraft:
        """Return the checked draft with its target looked up (RoleNotFound, PersonNotFound)."""
        data = dict(self.validated_data)
        role, person = find_target(
            role_id=data.pop("role", None),
            bleep_number=data.pop("bleep_number", None),
            person_id=data.pop("person", None),
        )
        priority = Priority(data.pop("priority"))
        return BleepDraft(role=role, person=person, priority=priority, **data)


class TeamCallSerializer(BleepContentSerializer):
    """An emergency call to a whole team: the team, and what each of its roles' bleeps says."""

    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        help_text="The team's id; each of its clinical roles is bleeped.",
    )

    def draft(self) -> BleepDraft:
        """Return the checked draft every role's bleep is made from (an emergency, no target)."""
        data = dict(self.validated_data)
        data.pop("team")
        return BleepDraft(priority=Priority.EMERGENCY, **data)


class AcknowledgeSerializer(StrictSerializer):
    """An acknowledgement: when the recipient expects to arrive, and a word for the sender."""

    eta_minutes = serializers.IntegerField(
        min_value=0,
        max_value=Delivery.ETA_MAX_MINUTES,
        required=False,
        allow_null=True,
        default=None,
    )
    comment = TextField(
        max_length=Delivery.NOTE_MAX_LENGTH, required=False, default="", allow_blank=True
    )


class DeclineSerializer(StrictSerializer):
    """A decline, with the reason everyone in the bleep reads."""

    reason = TextField(max_length=Delivery.NOTE_MAX_LENGTH, help_text="Why, e.g. 'in theatre'.")


class HandleSerializer(StrictSerializer):
    """Switchboard taking a bleep on, with what it is doing."""

    note = TextField(
        max_length=Delivery.NOTE_MAX_LENGTH,
        required=False,
        default="",
        allow_blank=True,
        help_text="What switchboard is doing, e.g. 'phoning the team'.",
    )


class ReplySerializer(StrictSerializer):
    """A reply in a bleep's thread."""

    text = TextField(max_length=Reply.TEXT_MAX_LENGTH)
