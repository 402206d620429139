"""Send, list, read and acknowledge bleeps."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import SwitchboardOnly
from api.serializers import bleeps as serializers
from api.views.base import device_of, person_of, valid_data
from escalation.services import sending
from messaging import selectors
from messaging.drafts import SendBleepSerializer
from messaging.services import answers
from messaging.services.bleeps import cancel_bleep

# The sent list is for a phone screen, not an archive: the newest this many.
SENT_PAGE = 100


class BleepListView(APIView):
    """Send a bleep to a role; list the open bleeps sent to me."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.open_bleeps_for(person_of(request))
        return Response(serializers.BleepSerializer(bleeps, many=True).data)

    @extend_schema(
        request=SendBleepSerializer,
        responses={201: serializers.BleepSerializer, 200: serializers.BleepSerializer},
    )
    def post(self, request: Request) -> Response:
        incoming = SendBleepSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        draft = incoming.draft()
        sent = sending.send_bleep(
            sender=person_of(request), device=device_of(request), draft=draft, now=timezone.now()
        )
        code = status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK
        return Response(serializers.BleepSerializer(sent.bleep).data, status=code)


class SentBleepListView(APIView):
    """The bleeps I sent, newest first."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.sent_bleeps_of(person_of(request))[:SENT_PAGE]
        return Response(serializers.BleepSerializer(bleeps, many=True).data)


class SwitchboardBoardView(APIView):
    """Every open bleep with its age, oldest first: switchboard's board."""

    permission_classes = [IsAuthenticated, SwitchboardOnly]

    @extend_schema(responses=serializers.OpenBleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        context = {"now": timezone.now()}
        bleeps = selectors.open_bleeps()
        return Response(serializers.OpenBleepSerializer(bleeps, many=True, context=context).data)


class BleepDetailView(APIView):
    """One bleep I may see, with its deliveries, replies and history."""

    @extend_schema(responses=serializers.BleepDetailSerializer)
    def get(self, request: Request, bleep_id: int) -> Response:
        bleep = selectors.access_bleep_with_thread(person_of(request), bleep_id)
        return Response(serializers.BleepDetailSerializer(bleep).data)


class ReadView(APIView):
    """Mark a bleep sent to me as read."""

    @extend_schema(request=None, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        answers.record_receipt(
            device=device_of(request), bleep_id=bleep_id, action="read", now=timezone.now()
        )
        return _bleep(request, bleep_id)


class DeclineView(APIView):
    """Decline a bleep sent to me, with a reason; it stays open for the escalation to place."""

    @extend_schema(request=serializers.DeclineSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.DeclineSerializer, request.data)
        sending.decline_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return _bleep(request, bleep_id)


class CancelView(APIView):
    """Cancel a bleep I sent (switchboard: any open bleep)."""

    @extend_schema(request=None, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        cancel_bleep(
            actor=person_of(request),
            device=device_of(request),
            bleep_id=bleep_id,
            now=timezone.now(),
        )
        return _bleep(request, bleep_id)


class ReplyView(APIView):
    """Reply in a bleep's thread; everyone in the bleep sees it live."""

    @extend_schema(
        request=serializers.ReplySerializer, responses={201: serializers.ReplyOutSerializer}
    )
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.ReplySerializer, request.data)
        reply = answers.reply_to_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return Response(serializers.ReplyOutSerializer(reply).data, status=status.HTTP_201_CREATED)


class AcknowledgeView(APIView):
    """Acknowledge a bleep sent to me ("coming, 10 min")."""

    @extend_schema(request=serializers.AcknowledgeSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.AcknowledgeSerializer, request.data)
        answers.acknowledge_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return _bleep(request, bleep_id)


def _bleep(request: Request, bleep_id: int) -> Response:
    bleep = selectors.access_bleep(person_of(request), bleep_id)
    return Response(serializers.BleepSerializer(bleep).data)
