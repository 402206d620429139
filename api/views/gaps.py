"""Where the rota has nobody holding a role."""

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers import rota_reports as serializers
from api.views.base import ListView
from rota.selectors import gaps, report_roles


class GapsView(ListView):
    """Every stretch between two instants when a role has no holder (at most 92 days)."""

    @extend_schema(
        parameters=[serializers.GapsQuerySerializer], responses=serializers.GapSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        params = self.filters(serializers.GapsQuerySerializer)
        roles = report_roles(role=params.get("role"), team=params.get("team"))
        found = gaps(roles=roles, start=params["from"], end=params["to"])
        return self.page(found, lambda page: serializers.GapSerializer(page, many=True).data)
