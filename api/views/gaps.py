"""Where the rota has nobody holding a role."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import rota_reports as serializers
from api.views.base import valid_data
from rota.selectors import gaps, report_roles


class GapsView(APIView):
    """Every stretch between two instants when a role has no holder (at most 92 days)."""

    @extend_schema(
        parameters=[serializers.GapsQuerySerializer], responses=serializers.GapSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        params = valid_data(serializers.GapsQuerySerializer, request.query_params)
        roles = report_roles(role=params.get("role"), team=params.get("team"))
        found = gaps(roles=roles, start=params["from"], end=params["to"])
        return Response(serializers.GapSerializer(found, many=True).data)
