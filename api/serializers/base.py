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
from rota.models import Person


class PersonSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = Person
        fields = ["id", "username", "name", "job"]
        extra_kwargs = {
            "job": {
                "help_text": "Their job, set by an administrator: it decides what they may do "
                "(switchboard reads the board, a rota manager changes the rota)."
            }
        }


class PersonBriefSerializer(serializers.Serializer):
    """A person as others see them, in every bleep and delivery of every answer.

    This and RoleSerializer are plain serializers: a ModelSerializer derives its fields from
    the model again for every instance, which cost a sent bleep's answer 1.1 ms of its 1.7
    (docs/benchmarks.md).
    """

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="__str__", read_only=True)


class RoleSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    bleep_number = serializers.CharField(read_only=True)
    team = serializers.CharField(
        source="team.name", read_only=True, help_text="The name of the team it belongs to."
    )
