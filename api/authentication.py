"""Device-token authentication: `Authorization: Bearer <token>`, never a token in a URL."""

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from messaging.exceptions import InvalidToken
from messaging.models import Device
from messaging.services.devices import authenticate_device
from messaging.services.mfa import EnrolmentTicket, read_enrolment_token
from rota.models import Person


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate a request by the bearer token of one signed-in device.

    Written here rather than taken from DRF's TokenAuthentication or django-rest-knox:
    a token must identify a *device* (audit, push subscriptions, revocation of one phone),
    and only its digest may be stored.
    """

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Person, Device] | None:
        header = authentication.get_authorization_header(request).decode("latin1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("send Authorization: Bearer <token>")
        try:
            device = authenticate_device(token=header[1], now=timezone.now())
        except InvalidToken:
            raise exceptions.AuthenticationFailed("invalid or revoked token") from None
        return device.user, device

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class EnrolmentTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate by `Authorization: Enrolment <token>`, from a sign-in that answered
    `mfa_enrolment_required`: the person, with no device, on the enrolment routes only."""

    keyword = "Enrolment"

    def authenticate(self, request: Request) -> tuple[Person, EnrolmentTicket] | None:
        header = authentication.get_authorization_header(request).decode("latin1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("send Authorization: Enrolment <token>")
        try:
            ticket = read_enrolment_token(token=header[1], now=timezone.now())
        except InvalidToken:
            raise exceptions.AuthenticationFailed("invalid or expired enrolment token") from None
        return ticket.person, ticket

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class DeviceTokenScheme(OpenApiAuthenticationExtension):
    """Describe device-token authentication in the OpenAPI schema."""

    target_class = DeviceTokenAuthentication
    name = "deviceToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A device token from POST /api/auth/login.",
        }


class EnrolmentTokenScheme(OpenApiAuthenticationExtension):
    """Describe enrolment-token authentication in the OpenAPI schema."""

    target_class = EnrolmentTokenAuthentication
    name = "enrolmentToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Enrolment <token>`, from a sign-in answered mfa_enrolment_required.",
        }
