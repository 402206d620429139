"""WebSocket URL routes."""

from django.urls import path

from escalation.services import send_bleep
from messaging.consumers import DeviceConsumer

websocket_urlpatterns = [path("ws", DeviceConsumer.as_asgi(send_bleep=send_bleep))]
