"""Shapes shared by every area."""

__all__ = [
    "PersonBriefSerializer",
    "PersonSerializer",
    "RejectUnknownFields",
    "RoleSerializer",
    "StrictSerializer",
]


from rest_framework import serializers

from bleep.strict import RejectUnknownFields, StrictSerializer
from rota.models import Person, Role


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
