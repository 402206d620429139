"""Who is on call."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import bleeps as serializers
from api.serializers.rota_reports import OnCallQuerySerializer
from api.views.base import valid_data
from rota.selectors import directory


class OnCallView(APIView):
    """Every role and who holds it now (or at `at`), optionally searched with `q`."""

    @extend_schema(
        parameters=[OnCallQuerySerializer], responses=serializers.RoleOnCallSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        params = valid_data(OnCallQuerySerializer, request.query_params)
        at = params.get("at") or timezone.now()
        rows = [
            {"role": role, "holders": holders}
            for role, holders in directory(at=at, query=params["q"])
        ]
        return Response(serializers.RoleOnCallSerializer(rows, many=True).data)
