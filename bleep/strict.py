"""Input shapes that refuse what they do not know, shared by REST and the WebSocket."""

from typing import Any

from rest_framework import serializers


class RejectUnknownFields:
    """Reject fields the endpoint does not know, so a misspelt `bed` is not silently dropped."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(RejectUnknownFields, serializers.Serializer):
    """A plain serializer that rejects unknown fields."""


class TextField(serializers.CharField):
    """Text that must come as text: DRF's CharField would take the number 7 as "7".

    For what a person writes to another (a reason, a note, a reply), where a number is a
    broken client, not an answer.
    """

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))
