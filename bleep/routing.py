"""WebSocket URL routes."""

from django.urls import path

from api.exceptions import describe_error_body
from escalation.services.sending import decline_bleep, send_bleep
from messaging.consumers import DeviceConsumer

# The consumer lives in messaging; sending and declining also run escalation's clock, so
# the escalation services are handed to it here, where the apps are put together, and so
# is the API's one table of error answers, so a refused frame is told what REST would say.
device_socket = DeviceConsumer.as_asgi(
    send_bleep=send_bleep, decline_bleep=decline_bleep, describe_error=describe_error_body
)

websocket_urlpatterns = [path("ws", device_socket)]
