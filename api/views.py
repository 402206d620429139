"""The REST views: validate, call one service, serialize what it returns."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from escalation import services as escalation_services
from messaging import selectors, services
from messaging.models import Device, Priority
from messaging.services import BleepDraft
from rota.models import Person
from rota.selectors import get_role, roles_on_call


class LoginView(APIView):
    """Sign in one device and return its token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=serializers.LoginSerializer, responses={201: serializers.LoginResponseSerializer}
    )
    def post(self, request: Request) -> Response:
        data = _valid(serializers.LoginSerializer, request.data)
        device, token = services.sign_in_device(**data, now=timezone.now())
        body = {"token": token, "device": device, "user": device.user}
        return Response(
            serializers.LoginResponseSerializer(body).data, status=status.HTTP_201_CREATED
        )


class LogoutView(APIView):
    """Revoke this device's token."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.revoke_device(device=_device(request), now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(APIView):
    """My signed-in devices, so a lost phone can be signed out from another."""

    @extend_schema(responses=serializers.DeviceDetailSerializer(many=True))
    def get(self, request: Request) -> Response:
        devices = selectors.live_devices_of(_person(request))
        context = {"current": _device(request)}
        return Response(
            serializers.DeviceDetailSerializer(devices, many=True, context=context).data
        )


class DeviceDetailView(APIView):
    """Sign out one of my devices: its token stops working and its sockets close."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, device_id: int) -> Response:
        device = selectors.access_device(_person(request), device_id)
        services.revoke_device(device=device, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who this token belongs to."""

    @extend_schema(responses=serializers.PersonSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.PersonSerializer(request.user).data)


class OnCallView(APIView):
    """Every role and who holds it now."""

    @extend_schema(responses=serializers.RoleOnCallSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [
            {"role": role, "holders": holders} for role, holders in roles_on_call(at=timezone.now())
        ]
        return Response(serializers.RoleOnCallSerializer(rows, many=True).data)


class BleepListView(APIView):
    """Send a bleep to a role; list the open bleeps sent to me."""

    @extend_schema(responses=serializers.BleepSerializer(many=True))
    def get(self, request: Request) -> Response:
        bleeps = selectors.open_bleeps_for(_person(request))
        return Response(serializers.BleepSerializer(bleeps, many=True).data)

    @extend_schema(
        request=serializers.SendBleepSerializer, responses={201: serializers.BleepSerializer}
    )
    def post(self, request: Request) -> Response:
        data = _valid(serializers.SendBleepSerializer, request.data)
        role = get_role(role_id=data.pop("role", None), bleep_number=data.pop("bleep_number", None))
        draft = BleepDraft(role=role, priority=Priority(data.pop("priority")), **data)
        bleep = escalation_services.send_bleep(
            sender=_person(request), device=_device(request), draft=draft, now=timezone.now()
        )
        return Response(serializers.BleepSerializer(bleep).data, status=status.HTTP_201_CREATED)


class BleepDetailView(APIView):
    """One bleep I may see, with its deliveries."""

    @extend_schema(responses=serializers.BleepSerializer)
    def get(self, request: Request, bleep_id: int) -> Response:
        bleep = selectors.access_bleep(_person(request), bleep_id)
        return Response(serializers.BleepSerializer(bleep).data)


class AcknowledgeView(APIView):
    """Acknowledge a bleep sent to me ("coming, 10 min")."""

    @extend_schema(request=serializers.AcknowledgeSerializer, responses=serializers.BleepSerializer)
    def post(self, request: Request, bleep_id: int) -> Response:
        data = _valid(serializers.AcknowledgeSerializer, request.data)
        services.acknowledge_bleep(
            device=_device(request), bleep_id=bleep_id, now=timezone.now(), **data
        )
        bleep = selectors.access_bleep(_person(request), bleep_id)
        return Response(serializers.BleepSerializer(bleep).data)


def _valid(serializer_class: type[serializers.serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _person(request: Request) -> Person:
    assert isinstance(request.user, Person)
    return request.user


def _device(request: Request) -> Device:
    assert isinstance(request.auth, Device)
    return request.auth
