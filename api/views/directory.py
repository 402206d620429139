"""Who is on call."""

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers import bleeps as serializers
from api.serializers.rota_reports import OnCallQuerySerializer
from api.views.base import ListView
from rota.models import Role
from rota.selectors import directory_roles, holders_listed


class OnCallView(ListView):
    """Every role and who holds it now (or at `at`), optionally searched with `q`."""

    @extend_schema(
        parameters=[OnCallQuerySerializer], responses=serializers.RoleOnCallSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        params = self.filters(OnCallQuerySerializer)
        at = params.get("at") or timezone.now()
        return self.page(directory_roles(at=at, query=params["q"]), describe_on_call)


def describe_on_call(page: list[Role]) -> Any:
    """Describe a page of the directory: each role with who holds it."""
    rows = [{"role": role, "holders": holders_listed(role)} for role in page]
    return serializers.RoleOnCallSerializer(rows, many=True).data
