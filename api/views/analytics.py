"""Response-time analytics for clinical safety officers and rota managers."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers import analytics as serializers
from api.views.base import ListView, person_of
from messaging.analytics import response_times


class ResponseTimesView(ListView):
    """How long bleeps took to reach a device, be read and be acknowledged, by group."""

    @extend_schema(
        parameters=[serializers.ResponseTimesQuerySerializer],
        responses=serializers.ResponseTimesGroupSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = self.filters(serializers.ResponseTimesQuerySerializer)
        groups = response_times(
            viewer=person_of(request),
            start=params["from"],
            end=params["to"],
            by=params["by"],
            priority=params.get("priority"),
        )
        return self.page(
            [asdict(group) for group in groups],
            lambda page: serializers.ResponseTimesGroupSerializer(page, many=True).data,
        )
