"""Rota calendars: CSV and iCal imports and exports, and secret subscribable feeds."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import calendars as serializers
from api.views.base import ListView, person_of, valid_data
from rota import permissions, selectors
from rota.models import CalendarFeed, ImportJob, Shift
from rota.services.calendars import csv_format, ical_format
from rota.services.calendars.applying import IMPORT_MAX_BYTES
from rota.services.calendars.feeds import create_feed, revoke_feed
from rota.services.calendars.jobs import queue_import

CSV_TYPE = "text/csv; charset=utf-8"
ICAL_TYPE = "text/calendar; charset=utf-8"


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """Answer errors as JSON whatever a calendar app accepts; files are plain responses."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser:
        return next(iter(parsers))

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, str(renderer.media_type)


class FileParser(BaseParser):
    """Read a whole text file body, refusing it past the import limit."""

    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> dict[str, str]:
        # Not JSON: DRF reads JSON bodies through Django's DATA_UPLOAD_MAX_MEMORY_SIZE,
        # 64 KB here, and a department's rota is bigger than that.
        body = stream.read(IMPORT_MAX_BYTES + 1)
        if len(body) > IMPORT_MAX_BYTES:
            raise RequestDataTooBig()
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            return {"file": str(body.decode(encoding))}
        except (LookupError, UnicodeDecodeError):
            raise exceptions.ParseError(f"the file is not {encoding} text") from None


class CsvParser(FileParser):
    media_type = "text/csv"


class ICalendarParser(FileParser):
    media_type = "text/calendar"


def file_of(request: Request) -> str:
    """Return the uploaded file's text."""
    text = request.data.get("file") if isinstance(request.data, Mapping) else None
    if not isinstance(text, str):
        raise exceptions.ParseError("send the file itself as the request body")
    return text


def queue_file(request: Request, kind: ImportJob.Kind, options: dict[str, Any]) -> Response:
    """Queue the uploaded file for a worker; answer 202 with the job, and where to ask."""
    job = queue_import(
        actor=person_of(request),
        kind=kind,
        data=file_of(request),
        options=options,
        now=timezone.now(),
    )
    url = reverse("rota-import", kwargs={"job_id": job.pk})
    body = serializers.ImportJobSerializer(job, context={"url": url}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


def file_response(body: str | bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


IMPORT_RESPONSES = {
    202: OpenApiResponse(
        serializers.ImportJobSerializer, description="Queued: ask its url how it went"
    ),
}


class CsvImportView(APIView):
    """Create or update shifts from a CSV file, all or nothing; a dry run only reports."""

    parser_classes = [CsvParser]

    @extend_schema(
        request={"text/csv": OpenApiTypes.STR},
        parameters=[serializers.CsvImportQuerySerializer],
        responses=IMPORT_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        options = valid_data(serializers.CsvImportQuerySerializer, request.query_params)
        return queue_file(request, ImportJob.Kind.CSV, options)


class IcalImportView(APIView):
    """Create or update a shift per iCal event occurrence, all or nothing."""

    parser_classes = [ICalendarParser]

    @extend_schema(
        request={"text/calendar": OpenApiTypes.STR},
        parameters=[serializers.IcalImportQuerySerializer],
        responses=IMPORT_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        query = valid_data(serializers.IcalImportQuerySerializer, request.query_params)
        # The job keeps ids: the worker reads the role and person again when it runs.
        options = {
            **query,
            **{name: getattr(query[name], "pk", None) for name in ("role", "person")},
        }
        return queue_file(request, ImportJob.Kind.ICAL, options)


class ImportJobView(APIView):
    """How one of my rota imports went: queued, running, done with its report, or failed
    with its errors (capped, with how many more)."""

    @extend_schema(responses=serializers.ImportJobSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        job = permissions.access_import_job(person_of(request), job_id)
        url = reverse("rota-import", kwargs={"job_id": job.pk})
        return Response(serializers.ImportJobSerializer(job, context={"url": url}).data)


def exported_shifts(request: Request) -> QuerySet[Shift]:
    """Return the shifts the export query asks for (default: 30 days back, 400 ahead)."""
    query = valid_data(serializers.ExportQuerySerializer, request.query_params)
    now = timezone.now()
    return selectors.shifts_between(
        start=query.get("from", now - selectors.FEED_PAST),
        end=query.get("to", now + selectors.FEED_FUTURE),
        role=query.get("role"),
        person=query.get("person"),
    )


class CsvExportView(APIView):
    """Shifts as CSV in site wall-clock time, with UTC offsets."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        parameters=[serializers.ExportQuerySerializer],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        body = csv_format.export_csv(shifts=exported_shifts(request))
        return file_response(body, CSV_TYPE, "shifts.csv")


class IcalExportView(APIView):
    """Shifts as an iCalendar file, in UTC."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        parameters=[serializers.ExportQuerySerializer],
        responses={(200, "text/calendar"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> HttpResponse:
        shifts = exported_shifts(request)
        body = ical_format.export_ical(shifts=shifts, name="Bleep rota", now=timezone.now())
        return file_response(body, ICAL_TYPE, "shifts.ics")


class FeedListView(ListView):
    """My calendar feeds; create one of my own shifts, or of a role I manage."""

    @extend_schema(responses=serializers.FeedSerializer(many=True))
    def get(self, request: Request) -> Response:
        feeds = selectors.feeds_of(person_of(request))
        return self.page(feeds, lambda page: serializers.FeedSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.FeedCreateSerializer,
        responses={201: serializers.FeedCreatedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.FeedCreateSerializer, request.data)
        feed, token = create_feed(owner=person_of(request), now=timezone.now(), **data)
        url = request.build_absolute_uri(reverse("rota-feed-calendar", args=[token]))
        body = serializers.FeedCreatedSerializer(feed, context={"url": url}).data
        return Response(body, status=status.HTTP_201_CREATED)


class FeedDetailView(APIView):
    """Revoke one of my feeds: its URL stops working at once."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, feed_id: int) -> Response:
        try:
            feed = permissions.access_feed(person_of(request), feed_id)
        except CalendarFeed.DoesNotExist:
            raise exceptions.NotFound() from None
        revoke_feed(feed=feed, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class FeedCalendarView(APIView):
    """A feed's shifts for a calendar app, from 30 days ago to 400 days ahead."""

    # The one place a secret is in a URL: calendar apps subscribe to a bare URL and cannot
    # send an Authorization header. The token is long and random, only its digest is
    # stored, it shows shifts and never bleeps, and its owner can revoke it at once.
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(auth=[], responses={(200, "text/calendar"): OpenApiTypes.STR})
    def get(self, request: Request, token: str) -> HttpResponse:
        now = timezone.now()
        try:
            feed, shifts = selectors.feed_shifts(token, now)
        except CalendarFeed.DoesNotExist:
            raise exceptions.NotFound() from None
        body = ical_format.export_ical(shifts=shifts, name=selectors.feed_name(feed), now=now)
        response = HttpResponse(body, content_type=ICAL_TYPE)
        # The body is one person's rota: no shared cache may keep it.
        response["Cache-Control"] = "private, no-store"
        return response
