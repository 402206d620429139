"""WebSocket URL routes."""

from django.urls import path

from escalation.services.sending import decline_bleep, send_bleep
from messaging.consumers import DeviceConsumer

# The consumer lives in messaging; sending and declining also run escalation's clock, so
# the escalation services are handed to it here, where the apps are put together.
device_socket = DeviceConsumer.as_asgi(send_bleep=send_bleep, decline_bleep=decline_bleep)

websocket_urlpatterns = [path("ws", device_socket)]
