"""The ASGI application: Django for HTTP, the device consumer for WebSocket."""

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bleep.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

from bleep.config import ConfigurationError  # noqa: E402

try:
    django_asgi_app = get_asgi_application()
except ConfigurationError as error:
    # One line saying what to set, not a traceback from inside the server.
    sys.exit(f"bleep: {error}")

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from bleep.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
    }
)
