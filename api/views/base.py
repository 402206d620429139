"""What every view needs: validated input, and the person and device behind a request."""

from typing import Any

from rest_framework.request import Request
from rest_framework.serializers import Serializer

from messaging.models import Device
from rota.models import Person


def valid_data(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    """Return the validated data, or raise the 400 that names each bad field."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def person_of(request: Request) -> Person:
    """Return the signed-in person of an authenticated request."""
    assert isinstance(request.user, Person)
    return request.user


def device_of(request: Request) -> Device:
    """Return the device whose token authenticated the request."""
    assert isinstance(request.auth, Device)
    return request.auth
