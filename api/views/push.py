"""Web Push: the server's public key, and this person's devices' subscriptions."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import push as serializers
from api.views.base import ListView, device_of, person_of, valid_data
from messaging import push, selectors


class PushKeyView(APIView):
    """The application server key a browser needs to subscribe to pushes from this server."""

    @extend_schema(responses=serializers.PushKeySerializer)
    def get(self, request: Request) -> Response:
        return Response({"public_key": push.application_server_key()})


class PushSubscriptionListView(ListView):
    """Register this browser's push subscription; list those of all my signed-in devices."""

    @extend_schema(responses=serializers.PushSubscriptionSerializer(many=True))
    def get(self, request: Request) -> Response:
        subscriptions = selectors.push_subscriptions_of(person_of(request))
        context = {"current": device_of(request)}
        return self.page(
            subscriptions,
            lambda page: (
                serializers.PushSubscriptionSerializer(page, many=True, context=context).data
            ),
        )

    @extend_schema(
        request=serializers.PushSubscriptionInputSerializer,
        responses={
            201: serializers.PushSubscriptionSerializer,
            200: serializers.PushSubscriptionSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.PushSubscriptionInputSerializer, request.data)
        device = device_of(request)
        subscription, created = push.register_push_subscription(
            device=device,
            endpoint=data["endpoint"],
            p256dh=data["keys"]["p256dh"],
            auth=data["keys"]["auth"],
            now=timezone.now(),
        )
        body = serializers.PushSubscriptionSerializer(subscription, context={"current": device})
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(body.data, status=code)


class PushSubscriptionDetailView(APIView):
    """Stop pushes to one of my devices' subscriptions (a lost tablet, an old browser)."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.access_push_subscription(person_of(request), subscription_id)
        push.delete_push_subscription(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
