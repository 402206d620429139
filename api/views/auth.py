"""Sign in, sign out, and my devices."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import auth as serializers
from api.views.base import ListView, device_of, person_of, valid_data
from messaging import selectors
from messaging.services import devices


class LoginView(APIView):
    """Sign in one device and return its token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=serializers.LoginSerializer, responses={201: serializers.LoginResponseSerializer}
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.LoginSerializer, request.data)
        # The Django request, not DRF's wrapper: the throttle marks a lockout on it, where
        # axes' middleware looks.
        device, token = devices.sign_in_device(**data, request=request._request, now=timezone.now())
        body = {"token": token, "device": device, "user": device.user}
        return Response(
            serializers.LoginResponseSerializer(body).data, status=status.HTTP_201_CREATED
        )


class LogoutView(APIView):
    """Revoke this device's token."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        devices.revoke_device(device=device_of(request), now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(ListView):
    """My signed-in devices, so a lost phone can be signed out from another."""

    @extend_schema(responses=serializers.DeviceDetailSerializer(many=True))
    def get(self, request: Request) -> Response:
        live = selectors.live_devices_of(person_of(request))
        context = {"current": device_of(request)}
        return self.page(
            live,
            lambda page: serializers.DeviceDetailSerializer(page, many=True, context=context).data,
        )


class DeviceDetailView(APIView):
    """Sign out one of my devices: its token stops working and its sockets close."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, device_id: int) -> Response:
        device = selectors.access_device(person_of(request), device_id)
        devices.revoke_device(device=device, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignInLockoutView(APIView):
    """Clear a person's sign-in lockout (rota managers and administrators)."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, username: str) -> Response:
        devices.unlock_sign_in(actor=person_of(request), username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who this token belongs to, and its device with when its token expires."""

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        context = {"device": device_of(request)}
        return Response(serializers.MeSerializer(person_of(request), context=context).data)
