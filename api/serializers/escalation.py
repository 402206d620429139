"""Escalation policies and their steps, the policy governing a role, and team calls."""

from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings

from api.serializers.base import StrictSerializer
from api.serializers.bleeps import BleepSerializer
from escalation.exceptions import InvalidEscalationData
from escalation.models import Policy, PolicyStep, StepAction
from escalation.services.policies import StepDraft, check_scope
from rota.models import Role, Site, Team

SCOPE_HELP = "Give exactly one of role, team or site: the policy's scope."
POLICY_SOURCES = ["role", "team", "site", "default"]
WAIT_HELP = "Seconds after the previous step (or the send) for a bleep of this priority."
STEP_ACTION_HELP = (
    "What the step does: renotify the same people; escalate to target_role (or one up the "
    "fallback chain); notify_switchboard; or broadcast_team to target_team."
)


class PolicyStepSerializer(serializers.ModelSerializer):
    """One step: after the priority's wait, do `action` (to `target_role` or `target_team`)."""

    class Meta:
        model = PolicyStep
        fields = [
            "action",
            "target_role",
            "target_team",
            "after_routine_seconds",
            "after_urgent_seconds",
            "after_emergency_seconds",
        ]
        extra_kwargs = {"action": {"help_text": STEP_ACTION_HELP}}


class PolicySerializer(serializers.ModelSerializer):
    """A scope's escalation policy: its steps in order, run once and then `repeat` more times."""

    steps = PolicyStepSerializer(many=True)

    class Meta:
        model = Policy
        fields = ["id", "role", "team", "site", "repeat", "steps", "updated_at"]


class PolicyStepInputSerializer(StrictSerializer):
    """One step as written; which targets and waits are allowed is the service's rule."""

    action = serializers.ChoiceField(choices=StepAction.choices, help_text=STEP_ACTION_HELP)
    target_role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="escalate only: the role to reach; none means one up the fallback chain.",
    )
    target_team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="broadcast_team only (and required there): the team whose holders to bleep.",
    )
    after_routine_seconds = serializers.IntegerField(help_text=WAIT_HELP)
    after_urgent_seconds = serializers.IntegerField(help_text=WAIT_HELP)
    after_emergency_seconds = serializers.IntegerField(help_text=WAIT_HELP)


class PolicyInputSerializer(StrictSerializer):
    """A whole policy as written: its scope, `repeat` and every step, in order.

    Errors in a step are named `steps[i].field`, i counting from 0, as the service names them.
    """

    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.select_related("team"),
        required=False,
        allow_null=True,
        default=None,
        help_text=SCOPE_HELP,
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=SCOPE_HELP,
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=SCOPE_HELP,
    )
    repeat = serializers.IntegerField(
        default=0, help_text=f"More runs of the steps after the first, 0 to {Policy.MAX_REPEAT}."
    )
    steps = PolicyStepInputSerializer(
        many=True, help_text=f"1 to {Policy.MAX_STEPS} steps, in the order they run."
    )

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            raise serializers.ValidationError(flat_errors(error.detail)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Checked before the rest because who may write a policy depends on its scope.
        try:
            check_scope(role=attrs["role"], team=attrs["team"], site=attrs["site"])
        except InvalidEscalationData as error:
            raise serializers.ValidationError(error.errors) from None
        return attrs

    def policy(self) -> dict[str, Any]:
        """Return the keyword arguments of `save_policy` this body gives, steps as drafts."""
        data = dict(self.validated_data)
        data["steps"] = [StepDraft(**step) for step in data["steps"]]
        return data


def flat_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Return nested field errors keyed as `steps[1].action`, as the service names them."""
    if not isinstance(detail, dict):
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix: [str(message) for message in messages]}
    flat: dict[str, list[str]] = {}
    # A list's errors come keyed by the index of each bad item.
    for name, value in detail.items():
        flat.update(flat_errors(value, _key(prefix, name)))
    return flat


def _key(prefix: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{prefix}[{name}]"
    if not prefix:
        return name
    # "steps[2]" rather than "steps[2].non_field_errors" for a step that is not an object.
    return prefix if name == api_settings.NON_FIELD_ERRORS_KEY else f"{prefix}.{name}"


class PolicyFilterSerializer(StrictSerializer):
    """Which policies to list: those whose scope is inside the role, team or site given."""

    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), required=False, help_text="That role's own policy."
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, help_text="The team's and its roles'."
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(),
        required=False,
        help_text="The site's, its teams' and its roles'.",
    )


class EffectiveQuerySerializer(StrictSerializer):
    """Which role to show the governing policy of."""

    role = serializers.PrimaryKeyRelatedField(
        queryset=Role.objects.all(), help_text="The role's id."
    )


class EffectivePolicySerializer(serializers.Serializer):
    """The policy a bleep to the role would escalate by if sent now, and where it comes from."""

    policy = serializers.IntegerField(
        source="policy.pk",
        allow_null=True,
        default=None,
        help_text="The policy's id; null for the default.",
    )
    repeat = serializers.IntegerField()
    steps = PolicyStepSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        # "source" is an attribute every field has, so it cannot be declared as one.
        source = serializers.ChoiceField(
            choices=POLICY_SOURCES,
            help_text="The role's own policy, its team's, its site's, or the built-in default.",
        )
        return {"source": source, **super().get_fields()}


class TeamCallOutSerializer(serializers.Serializer):
    """A team call: one emergency bleep per clinical role of the team, each escalating alone."""

    id = serializers.IntegerField(source="call.pk")
    team = serializers.IntegerField(source="call.team_id")
    created_at = serializers.DateTimeField(source="call.created_at")
    bleeps = BleepSerializer(many=True)
