"""How every list is paged (REST_FRAMEWORK's default, and every list view's): limit/offset.

Every list answers `{"count", "more", "next", "previous", "results"}`; the board and the
inbox add `"emergencies"`, the board `"overdue"` too. Limit/offset, not a cursor: the board
and the inbox order by priority before time, an order a cursor cannot hold, and a phone
shows "N more".
"""

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

# A phone screen's worth and more; a page costs well under 100 ms at this size.
PAGE_DEFAULT = 50
# A bigger `limit` gets this many: 200 of the board's bleeps are about 185 KB of JSON.
PAGE_MAX = 200


class Pagination(LimitOffsetPagination):
    """DRF's limit/offset paging with a maximum, saying how many more lie past the page."""

    default_limit = PAGE_DEFAULT
    max_limit = PAGE_MAX
    template = None

    def get_limit(self, request: Request) -> int:
        return min(self._whole_number(request, self.limit_query_param, least=1), self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._whole_number(request, self.offset_query_param, least=0)

    def _whole_number(self, request: Request, name: str, *, least: int) -> int:
        # DRF falls back to the default on a bad number; a client that asked for
        # something else should hear it was not understood, naming the field.
        raw = request.query_params.get(name)
        if raw is None:
            return self.default_limit if name == self.limit_query_param else 0
        if not raw.isdigit() or int(raw) < least:
            message = f"give a whole number, at least {least}"
            raise serializers.ValidationError({name: [message]})
        return int(raw)

    def more(self) -> int:
        """Return how many items lie past this page."""
        count, offset, limit = self.count or 0, self.offset or 0, self.limit or 0
        return max(count - offset - limit, 0)

    def get_paginated_response(self, data: Any, **totals: int) -> Response:
        """Answer the page with its counts; `totals` adds counts of the whole list."""
        body = {
            "count": self.count,
            "more": self.more(),
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            **totals,
            "results": data,
        }
        return Response(body)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paged = super().get_paginated_response_schema(schema)
        paged["required"] = ["count", "more", "next", "previous", "results"]
        paged["properties"]["count"]["description"] = "How many items the whole list has."
        paged["properties"]["more"] = {
            "type": "integer",
            "description": "How many items lie past this page.",
        }
        paged["properties"]["emergencies"] = {
            "type": "integer",
            "description": "Board and inbox only: how many emergencies the whole list has "
            "(they come first, so a page that ends in routine bleeps has shown them all).",
        }
        paged["properties"]["overdue"] = {
            "type": "integer",
            "description": "Board only: how many of the whole list are past their overdue_at.",
        }
        paged["properties"]["unreachable"] = {
            "type": "integer",
            "description": "Board only: how many people coming on call Bleep cannot reach "
            "(listed at /api/contactability/warnings).",
        }
        for name in ("count", "next", "previous"):
            paged["properties"][name].pop("example", None)
        return paged

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"How many to return: default {PAGE_DEFAULT}, at most {PAGE_MAX} "
                    "(a bigger number gets the most)."
                )
        return parameters
