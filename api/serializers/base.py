"""Shapes shared by every area."""

from typing import Any

from rest_framework import serializers

from rota.models import Person, Role


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


class RoleSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="team.name")

    class Meta:
        model = Role
        fields = ["id", "name", "bleep_number", "team"]
