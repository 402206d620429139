"""Send, list, read and acknowledge bleeps."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import bleeps as serializers
from api.views.base import device_of, person_of, valid_data
from escalation import services as escalation_services
from messaging import selectors, services
from messaging.models import Priority
from messaging.services import BleepDraft
from rota.selectors import get_role


class BleepListView(APIView):
    """Send a bleep to a role; list the open bleeps sent to me."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.open_bleeps_for(person_of(request))
        return Response(serializers.BleepSerializer(bleeps, many=True).data)

    @extend_schema(
        request=serializers.SendBleepSerializer, responses={201: serializers.BleepSerializer}
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.SendBleepSerializer, request.data)
        role = get_role(role_id=data.pop("role", None), bleep_number=data.pop("bleep_number", None))
        draft = BleepDraft(role=role, priority=Priority(data.pop("priority")), **data)
        bleep = escalation_services.send_bleep(
            sender=person_of(request), device=device_of(request), draft=draft, now=timezone.now()
        )
        return Response(serializers.BleepSerializer(bleep).data, status=status.HTTP_201_CREATED)


class BleepDetailView(APIView):
    """One bleep I may see, with its deliveries."""

    @extend_schema(responses=serializers.BleepSerializer)
    def get(self, request: Request, bleep_id: int) -> Response:
        bleep = selectors.access_bleep(person_of(request), bleep_id)
        return Response(serializers.BleepSerializer(bleep).data)


class AcknowledgeView(APIView):
    """Acknowledge a bleep sent to me ("coming, 10 min")."""

    @extend_schema(request=serializers.AcknowledgeSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.AcknowledgeSerializer, request.data)
        services.acknowledge_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        bleep = selectors.access_bleep(person_of(request), bleep_id)
        return Response(serializers.BleepSerializer(bleep).data)
