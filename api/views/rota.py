"""Create, read, change and delete rota records, and read the rota's audit trail.

Everyone signed in reads the rota; a rota manager changes only what their teams or
sites cover. Every write goes through rota.services.records, which checks who may, checks
the rules and records the change.
"""

from datetime import timedelta
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer, ModelSerializer

from api.serializers import rota as serializers
from api.serializers.dates import OUT_OF_RANGE, in_range
from api.views.base import ListView, person_of
from rota.exceptions import invalid
from rota.models import Person, Site
from rota.permissions import visible_rota_changes
from rota.selectors import shifts_between
from rota.services.records import create_site, delete_record, save_record

# A shift listing covers at most this long, so a year of a big hospital is never one answer.
SHIFT_WINDOW_LIMIT = timedelta(days=92)
SHIFT_WINDOW_DEFAULT_BEFORE = timedelta(days=1)
SHIFT_WINDOW_DEFAULT_AFTER = timedelta(days=14)


class RecordListView(generics.ListCreateAPIView[Any]):
    """List the records of one kind; create one."""

    serializer_class: type[ModelSerializer[Any]]

    def get_queryset(self) -> QuerySet[Any]:
        return model_of(self.serializer_class)._default_manager.order_by("pk")

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        record = model_of(self.serializer_class)(**serializer.validated_data)
        serializer.instance = self.create_record(person_of(self.request), record)

    def create_record(self, actor: Person, record: Any) -> Model:
        return save_record(actor=actor, instance=record, changes={}, now=timezone.now())


class RecordDetailView(generics.RetrieveUpdateDestroyAPIView[Any]):
    """Read, change (PATCH) or delete one record."""

    serializer_class: type[ModelSerializer[Any]]
    lookup_url_kwarg = "record_id"
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return model_of(self.serializer_class)._default_manager.all()

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        record: Any = serializer.instance
        # The service checks the right to change the record where it is and where it goes.
        serializer.instance = save_record(
            actor=person_of(self.request),
            instance=record,
            changes=dict(serializer.validated_data),
            now=timezone.now(),
        )

    def perform_destroy(self, instance: Any) -> None:
        delete_record(actor=person_of(self.request), instance=instance, now=timezone.now())


class SiteListView(RecordListView):
    """Sites; a new site's creator becomes its rota manager."""

    serializer_class = serializers.SiteSerializer

    def create_record(self, actor: Person, record: Any) -> Model:
        assert isinstance(record, Site)
        changes = {"name": record.name, "time_zone": record.time_zone}
        return create_site(actor=actor, changes=changes, now=timezone.now())


class SiteDetailView(RecordDetailView):
    serializer_class = serializers.SiteSerializer


class LocationListView(RecordListView):
    serializer_class = serializers.LocationSerializer


class LocationDetailView(RecordDetailView):
    serializer_class = serializers.LocationSerializer


class TeamListView(RecordListView):
    serializer_class = serializers.TeamSerializer


class TeamDetailView(RecordDetailView):
    serializer_class = serializers.TeamSerializer


class RoleListView(RecordListView):
    serializer_class = serializers.RoleRecordSerializer


class RoleDetailView(RecordDetailView):
    serializer_class = serializers.RoleRecordSerializer


class ShiftListView(RecordListView):
    """Shifts overlapping a window (default: yesterday to a fortnight ahead)."""

    serializer_class = serializers.ShiftSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="ISO 8601; default a day ago"),
            OpenApiParameter("to", str, description="ISO 8601; at most 92 days after `from`"),
            OpenApiParameter("role", int),
            OpenApiParameter("person", int),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        request = self.request
        now = timezone.now()
        start = _instant(request, "from", now - SHIFT_WINDOW_DEFAULT_BEFORE)
        end = _instant(request, "to", start + SHIFT_WINDOW_DEFAULT_AFTER)
        if not start < end <= start + SHIFT_WINDOW_LIMIT:
            raise invalid("to", "must be after `from` and at most 92 days later")
        shifts = shifts_between(start=start, end=end)
        for name in ("role", "person"):
            if (chosen := _id_filter(request, name)) is not None:
                shifts = shifts.filter(**{f"{name}_id": chosen})
        return shifts.order_by("start", "pk")


class ShiftDetailView(RecordDetailView):
    serializer_class = serializers.ShiftSerializer


class RotaChangeListView(ListView):
    """The rota's audit trail, newest first: who changed what, and how it was before. A rota
    manager reads the changes within their scope; a clinical safety officer every change."""

    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("object_id", int)],
        responses=serializers.RotaChangeSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        changes = visible_rota_changes(person_of(request))
        if model := request.query_params.get("model"):
            changes = changes.filter(model=model)
        if (chosen := _id_filter(request, "object_id")) is not None:
            changes = changes.filter(object_id=chosen)
        return self.page(
            changes, lambda page: serializers.RotaChangeSerializer(page, many=True).data
        )


def _id_filter(request: Request, name: str) -> int | None:
    """Return the id a list is filtered by, None when not asked; refuse one that is not
    an id, naming it, rather than answer the whole list as if no filter were given."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise invalid(name, "give an id: a whole number")
    return int(raw)


def model_of(serializer_class: type[ModelSerializer[Any]]) -> type[Model]:
    """Return the model a record serializer is for."""
    model: type[Model] = getattr(serializer_class, "Meta").model  # noqa: B009
    return model


def _instant(request: Request, name: str, default: Any) -> Any:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    parsed = parse_datetime(raw)
    if parsed is None or parsed.tzinfo is None:
        raise invalid(name, "give an ISO 8601 date and time with an offset")
    if not in_range(parsed):
        raise invalid(name, OUT_OF_RANGE)
    return parsed
