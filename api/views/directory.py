"""Who is on call."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import bleeps as serializers
from rota.selectors import roles_on_call


class OnCallView(APIView):
    """Every role and who holds it now."""

    @extend_schema(responses=serializers.RoleOnCallSerializer(many=True))
    def get(self, request: Request) -> Response:
        rows = [
            {"role": role, "holders": holders} for role, holders in roles_on_call(at=timezone.now())
        ]
        return Response(serializers.RoleOnCallSerializer(rows, many=True).data)
