"""Swaps of shifts between colleagues, and cover for sickness."""

from rest_framework import serializers

from api.serializers.base import PersonBriefSerializer, RoleSerializer, StrictSerializer
from api.serializers.rota_reports import OffsetDateTimeField
from rota.models import Person, Shift, SwapRequest


class ShiftSummarySerializer(serializers.ModelSerializer):
    role = RoleSerializer(help_text="The role held during the shift.")
    person = PersonBriefSerializer(help_text="Who holds the role during the shift.")

    class Meta:
        model = Shift
        fields = ["id", "role", "person", "start", "end"]


class SwapSerializer(serializers.ModelSerializer):
    shift = ShiftSummarySerializer(help_text="The requester's shift, offered.")
    counterpart_shift = ShiftSummarySerializer(
        allow_null=True, help_text="The colleague's shift offered in return; null for a give-away."
    )
    requester = PersonBriefSerializer(help_text="Who offered their shift.")
    counterpart = PersonBriefSerializer(help_text="The colleague asked to take it.")
    decided_by = PersonBriefSerializer(allow_null=True)

    class Meta:
        model = SwapRequest
        fields = [
            "id",
            "status",
            "shift",
            "counterpart_shift",
            "requester",
            "counterpart",
            "created_at",
            "decided_at",
            "decided_by",
        ]
        extra_kwargs = {
            "status": {
                "help_text": "Where the swap has got to; the rota changes only once it is applied."
            }
        }


class RequestSwapSerializer(StrictSerializer):
    """An offer of my shift to a colleague, for nothing or for one of theirs."""

    shift = serializers.PrimaryKeyRelatedField(
        queryset=Shift.objects.all(), help_text="My shift that I offer."
    )
    counterpart = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.filter(is_active=True), help_text="The colleague I ask."
    )
    counterpart_shift = serializers.PrimaryKeyRelatedField(
        queryset=Shift.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="The colleague's shift I take in return; leave out to give mine away.",
    )


class CoverSerializer(StrictSerializer):
    """Cover of part of a shift by another person, such as for sickness."""

    person = serializers.PrimaryKeyRelatedField(
        queryset=Person.objects.filter(is_active=True), help_text="Who covers."
    )
    start = OffsetDateTimeField(help_text="When the cover starts, within the shift.")
    end = OffsetDateTimeField(help_text="When the cover ends, within the shift.")
