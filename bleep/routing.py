"""WebSocket URL routes."""

from django.urls import path

from messaging.consumers import DeviceConsumer

websocket_urlpatterns = [path("ws", DeviceConsumer.as_asgi())]
