"""What every view needs: validated input, the person and device behind a request, and
the paging every list has."""

from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from api.pagination import Pagination
from messaging.models import Device
from rota.models import Person


def valid_data(serializer_class: type[Serializer], data: Any) -> dict[str, Any]:
    """Return the validated data, or raise the 400 that names each bad field."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def person_of(request: Request) -> Person:
    """Return the signed-in person of an authenticated request."""
    assert isinstance(request.user, Person)
    return request.user


def device_of(request: Request) -> Device:
    """Return the device whose token authenticated the request."""
    assert isinstance(request.auth, Device)
    return request.auth


class ListView(APIView):
    """A view whose GET answers a list, one page at a time (DRF's paginator, as the generic
    views use it; the schema describes the paged answer from `pagination_class`)."""

    pagination_class = Pagination

    def page(
        self,
        items: QuerySet[Any] | Sequence[Any],
        describe: Callable[[list[Any]], Any],
        **totals: int,
    ) -> Response:
        """Answer the requested page of `items`, each described by `describe`, with counts."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, self.request, view=self)
        return paginator.get_paginated_response(describe(page or []), **totals)

    def filters(self, serializer_class: type[Serializer]) -> dict[str, Any]:
        """Return the validated query filters, the paging parameters set apart."""
        params = self.request.query_params.copy()
        paginator = self.pagination_class()
        for name in (paginator.limit_query_param, paginator.offset_query_param):
            params.pop(name, None)
        return valid_data(serializer_class, params)
