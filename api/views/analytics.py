"""Response-time analytics for clinical safety officers and rota managers."""

import csv
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import analytics as serializers
from api.views.base import ListView, person_of, valid_data
from api.views.calendars import CSV_TYPE, IgnoreClientContentNegotiation
from messaging.analytics import (
    Group,
    group_rows,
    history_rows,
    interruption_load,
    response_times,
    visible_bleeps,
)


def groups_asked(request: Request, params: dict[str, Any]) -> list[Group]:
    """The groups a checked ResponseTimesQuerySerializer's parameters ask for."""
    return response_times(
        viewer=person_of(request),
        start=params["from"],
        end=params["to"],
        by=params["by"],
        priority=params.get("priority"),
    )


class ResponseTimesView(ListView):
    """How long bleeps took to reach a device, be read and be acknowledged, by group."""

    @extend_schema(
        parameters=[serializers.ResponseTimesQuerySerializer],
        responses=serializers.ResponseTimesGroupSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = self.filters(serializers.ResponseTimesQuerySerializer)
        groups = groups_asked(request, params)
        return self.page(
            [asdict(group) for group in groups],
            lambda page: serializers.ResponseTimesGroupSerializer(page, many=True).data,
        )


class Echo:
    """A file that hands back what is written to it: csv.writer's rows, one at a time, for
    a streaming response (Django's own recipe for large CSV)."""

    def write(self, value: str) -> str:
        return value


def csv_stream(rows: Iterator[list[object]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class ResponseTimesCsvView(APIView):
    """The response-time figures as CSV, for a clinical safety officer's own analysis."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        parameters=[serializers.ResponseTimesQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = valid_data(serializers.ResponseTimesQuerySerializer, request.query_params)
        groups = groups_asked(request, params)
        return csv_stream(group_rows(groups), f"response-times-by-{params['by']}.csv")


class HistoryExportView(APIView):
    """The bleeps' history (the append-only audit trail) in a period, as streaming CSV."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        parameters=[serializers.PeriodQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = valid_data(serializers.PeriodQuerySerializer, request.query_params)
        viewer = person_of(request)
        # Refused before the first byte, not halfway through a stream.
        visible_bleeps(viewer)
        rows = history_rows(viewer=viewer, start=params["from"], end=params["to"])
        return csv_stream(rows, "bleep-history.csv")


class LoadView(ListView):
    """Interruption load: bleeps per hour on call, for each person on call in the period."""

    @extend_schema(
        parameters=[serializers.PeriodQuerySerializer],
        responses=serializers.LoadSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = self.filters(serializers.PeriodQuerySerializer)
        rows = interruption_load(viewer=person_of(request), start=params["from"], end=params["to"])
        return self.page(
            [asdict(row) for row in rows],
            lambda page: serializers.LoadSerializer(page, many=True).data,
        )
