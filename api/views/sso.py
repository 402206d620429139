"""Single sign-on (docs/sso.md): the browser's trip to the identity provider and back, the
app's exchange of the code it brings back for a device token, the provider's logout.

The browser pages are plain Django views: they redirect and render HTML, not JSON. No token
travels in an address: the provider's code and state are redacted from every log line
(bleep.redaction), and what the callback gives the app is a one-minute, single-use code in
the fragment, which browsers never send to a server.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.admin_site import SSO_ADMIN_SESSION_KEY
from api.serializers import auth as serializers
from api.views.base import valid_data
from messaging import sso
from messaging.exceptions import SsoRefused
from messaging.services import sso as sso_service
from rota.models import Person

logger = logging.getLogger(__name__)

# Where the app picks up the sign-in code (bleep/static/app/js/main.js).
APP_HANDOFF_ROUTE = "/#/signed-in/"
# Whether the sign-in under way is for the app or the admin.
SSO_TO_SESSION_KEY = "bleep_sso_to"


class SsoSettingsView(APIView):
    """How this deployment signs people in: the app draws its sign-in screen from it."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(responses=serializers.SsoSettingsSerializer)
    def get(self, request: Request) -> Response:
        body = {
            "sso": sso.enabled(),
            "provider_name": settings.OIDC_PROVIDER_NAME if sso.enabled() else "",
            "start_url": reverse("sso-start") if sso.enabled() else "",
            "password_sign_in": settings.PASSWORD_SIGN_IN,
        }
        return Response(serializers.SsoSettingsSerializer(body).data)


class SsoExchangeView(APIView):
    """Exchange the code a single sign-on brought back for this device's token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=serializers.SsoExchangeSerializer,
        responses={201: serializers.LoginResponseSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.SsoExchangeSerializer, request.data)
        device, token = sso_service.redeem_handoff(**data, now=timezone.now())
        body = {"token": token, "device": device, "user": device.user}
        return Response(
            serializers.LoginResponseSerializer(body).data, status=status.HTTP_201_CREATED
        )


def _absolute(request: HttpRequest, path: str) -> str:
    # APP_URL when set: behind a proxy the Host a request carries may not be the address
    # the provider has registered.
    base = settings.APP_URL or request.build_absolute_uri("/").rstrip("/")
    return f"{base}{path}"


def _refused(request: HttpRequest, reason: str, status_code: int) -> HttpResponse:
    response = render(request, "sso/refused.html", {"reason": reason}, status=status_code)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def start(request: HttpRequest) -> HttpResponse:
    """Send the browser to the provider, with state, nonce and PKCE kept in its session."""
    if not sso.enabled():
        return _refused(request, "single sign-on is not set up here", 404)
    request.session[SSO_TO_SESSION_KEY] = "admin" if request.GET.get("to") == "admin" else "app"
    try:
        return sso.provider().authorize_redirect(
            request, redirect_uri=_absolute(request, reverse("sso-callback"))
        )
    except OSError:
        logger.exception("the identity provider's discovery document could not be read")
        return _refused(request, "the identity provider did not answer; try again", 503)


@require_safe
def callback(request: HttpRequest) -> HttpResponse:
    """Check the provider's answer, find the person, and hand the app a sign-in code."""
    if not sso.enabled():
        return _refused(request, "single sign-on is not set up here", 404)
    now = timezone.now()
    try:
        signed_in = sso.finish_sign_in(request)
        identity = sso_service.identify(signed_in, now=now)
    except SsoRefused as refusal:
        logger.warning("single sign-on refused: %s", refusal.reason)
        return _refused(request, refusal.reason, 403)
    if request.session.pop(SSO_TO_SESSION_KEY, "app") == "admin":
        return _into_admin(request, signed_in, identity.person, now)
    code = sso_service.issue_handoff(
        identity=identity,
        session_id=signed_in.session_id,
        refresh_token=signed_in.refresh_token,
        now=now,
    )
    response = HttpResponseRedirect(APP_HANDOFF_ROUTE + code)
    response["Cache-Control"] = "no-store"
    return response


def _into_admin(
    request: HttpRequest, signed_in: sso.ProviderSignIn, person: Person, now: datetime
) -> HttpResponse:
    """Open the admin to an administrator whom the provider checked with two factors."""
    try:
        sso_service.admit_to_admin(person=person, claims=signed_in.claims, now=now)
    except SsoRefused as refusal:
        return _refused(request, refusal.reason, 403)
    auth_login(request, person, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SSO_ADMIN_SESSION_KEY] = True
    return HttpResponseRedirect(reverse("admin:index"))


@require_safe
def logout(request: HttpRequest) -> HttpResponse:
    """End the provider's session too (RP-initiated logout); the app has already ended the
    device's. Back to the app afterwards."""
    if not sso.enabled():
        return HttpResponseRedirect("/")
    try:
        url = sso.end_session_url(post_logout_redirect_uri=_absolute(request, "/"))
    except OSError:
        url = None
    return HttpResponseRedirect(url or "/")


@csrf_exempt  # The provider posts from its own server: no browser, no cookie to forge.
@require_POST
def backchannel_logout(request: HttpRequest) -> HttpResponse:
    """The provider ends a person's session: end every device of theirs, closing their
    sockets (OpenID Connect Back-Channel Logout 1.0)."""
    if not sso.enabled():
        return JsonResponse({"error": "invalid_request"}, status=400)
    response: HttpResponse
    try:
        logout_of = sso.read_logout_token(request.POST.get("logout_token", ""))
    except SsoRefused as refusal:
        logger.warning("back-channel logout refused: %s", refusal.reason)
        response = JsonResponse({"error": "invalid_request"}, status=400)
    else:
        issuer = sso.provider().load_server_metadata().get("issuer", settings.OIDC_ISSUER)
        ended = sso_service.log_out_from_provider(
            logout=logout_of, issuer=issuer, now=timezone.now()
        )
        logger.info("back-channel logout ended %d devices", ended)
        response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"
    return response
