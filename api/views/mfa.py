"""The second factor: enrol an authenticator, recovery codes, turn it off.

Enrolment also answers an enrolment token (`Authorization: Enrolment <token>`), from a
sign-in that said `mfa_enrolment_required`: confirming then signs that device in.
Answers holding a secret or recovery codes are marked not to be stored by any cache.
"""

from base64 import b32encode

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.authentication import DeviceTokenAuthentication, EnrolmentTokenAuthentication
from api.serializers import auth as serializers
from api.views.base import person_of, valid_data
from messaging.services import devices, mfa
from rota.models import Person

NO_STORE = {"Cache-Control": "no-store"}


class EnrolmentView(APIView):
    """Start enrolling an authenticator: its secret, to type or scan into an app (shown once)."""

    authentication_classes = [DeviceTokenAuthentication, EnrolmentTokenAuthentication]

    @extend_schema(
        request=serializers.StartEnrolmentSerializer,
        responses={201: serializers.EnrolmentSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.StartEnrolmentSerializer, request.data)
        device = mfa.start_enrolment(
            person=person_of(request), otp=data.get("otp"), now=timezone.now()
        )
        body = {"secret": b32encode(device.bin_key).decode(), "uri": device.config_url}
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)


class ConfirmEnrolmentView(APIView):
    """Confirm the new authenticator with its first code: it is in use from now, and the
    answer holds ten recovery codes (shown once) and, after an enrolment token, the device's
    sign-in."""

    authentication_classes = [DeviceTokenAuthentication, EnrolmentTokenAuthentication]

    @extend_schema(
        request=serializers.OtpSerializer,
        responses={
            200: serializers.RecoveryCodesSerializer,
            201: serializers.EnrolledSignInSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        otp = valid_data(serializers.OtpSerializer, request.data)["otp"]
        now = timezone.now()
        if isinstance(request.auth, mfa.EnrolmentTicket):
            device, codes, token = devices.finish_sign_in_by_enrolling(
                ticket=request.auth, otp=otp, now=now
            )
            person = person_of(request)
            body = _codes(person, codes) | {"token": token, "device": device, "user": person}
            data = serializers.EnrolledSignInSerializer(body).data
            return Response(data, status=status.HTTP_201_CREATED, headers=NO_STORE)
        person = person_of(request)
        codes = mfa.confirm_enrolment(person=person, otp=otp, now=now)
        return _codes_response(person, codes)


class RecoveryCodesView(APIView):
    """Replace my recovery codes with ten new ones (shown once); needs a current code."""

    @extend_schema(
        request=serializers.OtpSerializer, responses={200: serializers.RecoveryCodesSerializer}
    )
    def post(self, request: Request) -> Response:
        otp = valid_data(serializers.OtpSerializer, request.data)["otp"]
        person = person_of(request)
        codes = mfa.replace_recovery_codes(person=person, otp=otp, now=timezone.now())
        return _codes_response(person, codes)


class DisableView(APIView):
    """Turn my second factor off, where my role allows it; needs a current code."""

    @extend_schema(request=serializers.OtpSerializer, responses={200: serializers.MfaSerializer})
    def post(self, request: Request) -> Response:
        otp = valid_data(serializers.OtpSerializer, request.data)["otp"]
        person = person_of(request)
        mfa.disable_mfa(person=person, otp=otp, now=timezone.now())
        return Response(serializers.mfa_status(person))


def _codes(person: Person, codes: list[str]) -> dict[str, object]:
    return {"recovery_codes": codes, "mfa": serializers.mfa_status(person)}


def _codes_response(person: Person, codes: list[str]) -> Response:
    data = serializers.RecoveryCodesSerializer(_codes(person, codes)).data
    return Response(data, headers=NO_STORE)
