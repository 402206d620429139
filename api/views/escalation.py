"""Escalation policies, the policy governing a role, and emergency calls to a whole team.

Everyone signed in reads policies; only a rota manager of a policy's scope changes it.
Every write goes through escalation.services.policies, which checks who may, checks the
rules and records the change in the rota's audit trail.
"""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import escalation as serializers
from api.views.base import ListView, device_of, person_of, valid_data
from escalation.models import Policy
from escalation.selectors import effective_policy, policies_within
from escalation.services import policies as services
from escalation.services.sending import send_team_call
from messaging.drafts import TeamCallSerializer


def policy_or_404(policy_id: int) -> Policy:
    """Return the policy with this id, or raise the 404 (policies are not secret)."""
    found = Policy.objects.select_related("role__team", "team", "site").filter(pk=policy_id).first()
    if found is None:
        raise NotFound("no such policy")
    return found


def valid_policy(request: Request) -> dict[str, Any]:
    """Return `save_policy`'s arguments from the body, or raise the 400 naming each bad field."""
    incoming = serializers.PolicyInputSerializer(data=request.data)
    incoming.is_valid(raise_exception=True)
    return incoming.policy()


class PolicyListView(ListView):
    """Every escalation policy, or those inside a role, team or site; create one."""

    @extend_schema(
        parameters=[serializers.PolicyFilterSerializer],
        responses=serializers.PolicySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filters = self.filters(serializers.PolicyFilterSerializer)
        policies = policies_within(**filters)
        return self.page(policies, lambda page: serializers.PolicySerializer(page, many=True).data)

    @extend_schema(
        request=serializers.PolicyInputSerializer,
        responses={201: serializers.PolicySerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_policy(request)
        policy = services.save_policy(
            actor=person_of(request), policy=None, now=timezone.now(), **data
        )
        return Response(serializers.PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(APIView):
    """One policy: read it; replace or delete it if I manage its scope."""

    @extend_schema(responses=serializers.PolicySerializer)
    def get(self, request: Request, policy_id: int) -> Response:
        return Response(serializers.PolicySerializer(policy_or_404(policy_id)).data)

    @extend_schema(
        request=serializers.PolicyInputSerializer, responses=serializers.PolicySerializer
    )
    def put(self, request: Request, policy_id: int) -> Response:
        """Replace the whole policy: its scope, `repeat` and every step."""
        data = valid_policy(request)
        policy = policy_or_404(policy_id)
        policy = services.save_policy(
            actor=person_of(request), policy=policy, now=timezone.now(), **data
        )
        return Response(serializers.PolicySerializer(policy).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, policy_id: int) -> Response:
        """Delete the policy: its scope falls back to its team's, its site's or the default."""
        policy = policy_or_404(policy_id)
        services.delete_policy(actor=person_of(request), policy=policy, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class EffectivePolicyView(APIView):
    """The policy a bleep to a role would escalate by if sent now, and where it comes from."""

    @extend_schema(
        parameters=[serializers.EffectiveQuerySerializer],
        responses=serializers.EffectivePolicySerializer,
    )
    def get(self, request: Request) -> Response:
        role = valid_data(serializers.EffectiveQuerySerializer, request.query_params)["role"]
        return Response(serializers.EffectivePolicySerializer(effective_policy(role)).data)


class TeamCallView(APIView):
    """Call a whole team in an emergency: anyone signed in may, as whoever finds the patient."""

    @extend_schema(
        request=TeamCallSerializer,
        responses={
            201: serializers.TeamCallOutSerializer,
            200: serializers.TeamCallOutSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        incoming = TeamCallSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        sent = send_team_call(
            sender=person_of(request),
            device=device_of(request),
            team=incoming.validated_data["team"],
            draft=incoming.draft(),
            now=timezone.now(),
        )
        code = status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK
        return Response(serializers.TeamCallOutSerializer(sent).data, status=code)
