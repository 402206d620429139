"""Send, list, read, acknowledge and take on bleeps."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import SwitchboardOnly
from api.serializers import bleeps as serializers
from api.views.base import ListView, device_of, person_of, valid_data
from escalation.selectors import count_overdue, escalation_progress
from escalation.services import sending, switchboard
from messaging import drafts, events, selectors
from messaging.actions import Action
from messaging.models import Bleep, FloodAlert
from messaging.services import answers
from messaging.services.bleeps import cancel_bleep
from messaging.services.limits import FLOOD_ALERT_SHOWN_FOR
from rota.selectors import get_person, get_role


def describe_bleeps(page: list[Bleep]) -> Any:
    """Describe a page of bleeps as their senders and recipients see them, as events do."""
    return [events.bleep_summary(bleep) for bleep in page]


class BleepListView(ListView):
    """Send a bleep to a role; list the open bleeps sent to me, emergencies first."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.open_bleeps_for(person_of(request))
        return self.page(bleeps, describe_bleeps, emergencies=selectors.count_emergencies(bleeps))

    @extend_schema(
        request=drafts.SendBleepSerializer,
        responses={201: serializers.BleepSerializer, 200: serializers.BleepSerializer},
    )
    def post(self, request: Request) -> Response:
        incoming = drafts.SendBleepSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        draft = incoming.draft()
        sent = sending.send_bleep(
            sender=person_of(request), device=device_of(request), draft=draft, now=timezone.now()
        )
        code = status.HTTP_201_CREATED if sent.created else status.HTTP_200_OK
        return Response(events.bleep_summary(sent.bleep), status=code)


class SentBleepListView(ListView):
    """The bleeps I sent, newest first."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.page(selectors.sent_bleeps_of(person_of(request)), describe_bleeps)


class SwitchboardBoardView(ListView):
    """Every open bleep with its age and escalation, emergencies first, then oldest first:
    switchboard's board."""

    permission_classes = [IsAuthenticated, SwitchboardOnly]

    @extend_schema(responses=serializers.OpenBleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.open_bleeps()
        return self.page(
            bleeps,
            describe_open,
            emergencies=selectors.count_emergencies(bleeps),
            overdue=count_overdue(bleeps, now=timezone.now()),
            # People coming on call whom Bleep cannot reach (listed at contactability/warnings).
            unreachable=selectors.visible_shift_warnings(person_of(request)).count(),
        )


def describe_open(page: list[Bleep]) -> Any:
    """Describe a page of the board, reading the escalation of that page's bleeps only."""
    context = {
        "now": timezone.now(),
        "progress": escalation_progress([bleep.pk for bleep in page]),
    }
    return serializers.OpenBleepSerializer(page, many=True, context=context).data


class FloodAlertListView(ListView):
    """Switchboard's flood alerts with a bleep in the last 15 minutes, the latest first."""

    permission_classes = [IsAuthenticated, SwitchboardOnly]

    @extend_schema(responses=serializers.FloodAlertSerializer(many=True))
    def get(self, request: Request) -> Response:
        alerts = selectors.recent_flood_alerts(since=timezone.now() - FLOOD_ALERT_SHOWN_FOR)
        return self.page(alerts, describe_alerts)


def describe_alerts(page: list[FloodAlert]) -> Any:
    """Describe a page of flood alerts as the `switchboard.flood` event does."""
    return [events.flood_alert_summary(alert) for alert in page]


class BleepDetailView(APIView):
    """One bleep I may see, with its deliveries, replies and history."""

    @extend_schema(responses=serializers.BleepDetailSerializer)
    def get(self, request: Request, bleep_id: int) -> Response:
        bleep = selectors.access_bleep_with_thread(person_of(request), bleep_id)
        return Response(serializers.BleepDetailSerializer(bleep).data)


class ReceiptView(APIView):
    """Record a receipt (`action`) for a bleep sent to me."""

    action: Action

    @extend_schema(request=None, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        answers.record_receipt(
            device=device_of(request), bleep_id=bleep_id, action=self.action, now=timezone.now()
        )
        return _bleep(request, bleep_id)


class DeliveredView(ReceiptView):
    """Confirm a bleep sent to me reached this device (a service worker shown a push)."""

    action = Action.DELIVER


class ReadView(ReceiptView):
    """Mark a bleep sent to me as read."""

    action = Action.READ


class DeclineView(APIView):
    """Decline a bleep sent to me, with a reason; it stays open for the escalation to place."""

    @extend_schema(request=drafts.DeclineSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(drafts.DeclineSerializer, request.data)
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

    @extend_schema(request=drafts.ReplySerializer, responses={201: serializers.ReplyOutSerializer})
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(drafts.ReplySerializer, request.data)
        reply = answers.reply_to_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return Response(serializers.ReplyOutSerializer(reply).data, status=status.HTTP_201_CREATED)


class AcknowledgeView(APIView):
    """Acknowledge a bleep sent to me ("coming, 10 min")."""

    @extend_schema(request=drafts.AcknowledgeSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(drafts.AcknowledgeSerializer, request.data)
        answers.acknowledge_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return _bleep(request, bleep_id)


class HandleView(APIView):
    """Switchboard takes on a bleep it was brought into ("phoning the team"); it stays open."""

    @extend_schema(request=drafts.HandleSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(drafts.HandleSerializer, request.data)
        answers.handle_bleep(
            device=device_of(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        return _bleep(request, bleep_id)


class EscalateView(APIView):
    """Switchboard brings the next role up (or a named role) into an open bleep now."""

    permission_classes = [IsAuthenticated, SwitchboardOnly]

    @extend_schema(request=serializers.EscalateSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.EscalateSerializer, request.data)
        role = get_role(role_id=data["role"]) if data["role"] is not None else None
        switchboard.escalate_bleep(
            actor=person_of(request),
            device=device_of(request),
            bleep_id=bleep_id,
            role=role,
            now=timezone.now(),
        )
        return _bleep(request, bleep_id)


class RedirectView(APIView):
    """Switchboard sends an open bleep to another role or person instead."""

    permission_classes = [IsAuthenticated, SwitchboardOnly]

    @extend_schema(request=serializers.RedirectSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = valid_data(serializers.RedirectSerializer, request.data)
        switchboard.redirect_bleep(
            actor=person_of(request),
            device=device_of(request),
            bleep_id=bleep_id,
            role=get_role(role_id=data["role"]) if "role" in data else None,
            person=get_person(person_id=data["person"]) if "person" in data else None,
            now=timezone.now(),
        )
        return _bleep(request, bleep_id)


def _bleep(request: Request, bleep_id: int) -> Response:
    bleep = selectors.access_bleep(person_of(request), bleep_id)
    return Response(events.bleep_summary(bleep))
