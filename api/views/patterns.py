"""Recurring patterns: everyone signed in reads them; the role's rota managers change them."""

from zoneinfo import ZoneInfo

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import patterns as serializers
from api.views.base import ListView, person_of, valid_data
from rota.models import Pattern, Person
from rota.services import patterns as services


def pattern_or_404(pattern_id: int) -> Pattern:
    """Return the pattern with this id, or raise the 404 (patterns are not secret)."""
    patterns = Pattern.objects.select_related("role__site", "role__team")
    found = patterns.filter(pk=pattern_id).first()
    if found is None:
        raise NotFound("no such pattern")
    return found


def members_of(pattern: Pattern) -> list[Person]:
    """Return the pattern's rotation as it stands, in order."""
    return [member.person for member in pattern.members.select_related("person")]


class PatternListView(ListView):
    """Every recurring pattern; create one for a role whose rota I manage."""

    @extend_schema(responses=serializers.PatternSerializer(many=True))
    def get(self, request: Request) -> Response:
        patterns = Pattern.objects.prefetch_related("members").order_by("pk")
        return self.page(patterns, lambda page: serializers.PatternSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.PatternInputSerializer,
        responses={201: serializers.PatternSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.PatternInputSerializer, request.data)
        members = data.pop("members")
        pattern = services.save_pattern(
            actor=person_of(request),
            pattern=Pattern(role=data["role"]),
            changes=data,
            members=members,
            now=timezone.now(),
        )
        return Response(serializers.PatternSerializer(pattern).data, status=status.HTTP_201_CREATED)


class PatternDetailView(APIView):
    """One recurring pattern: read it; change or delete it if I manage its role's rota."""

    @extend_schema(responses=serializers.PatternSerializer)
    def get(self, request: Request, pattern_id: int) -> Response:
        return Response(serializers.PatternSerializer(pattern_or_404(pattern_id)).data)

    @extend_schema(
        request=serializers.PatternChangesSerializer, responses=serializers.PatternSerializer
    )
    def patch(self, request: Request, pattern_id: int) -> Response:
        """Change the fields sent; shifts already made change only when expanded again."""
        data = valid_data(serializers.PatternChangesSerializer, request.data)
        pattern = pattern_or_404(pattern_id)
        members = data.pop("members") if "members" in data else members_of(pattern)
        pattern = services.save_pattern(
            actor=person_of(request),
            pattern=pattern,
            changes=data,
            members=members,
            now=timezone.now(),
        )
        return Response(serializers.PatternSerializer(pattern).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pattern_id: int) -> Response:
        """Delete the pattern; the shifts it already made stay on the rota (pattern=None)."""
        pattern = pattern_or_404(pattern_id)
        services.delete_pattern(actor=person_of(request), pattern=pattern, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExpandPatternView(APIView):
    """Make the pattern's shifts in a range of days match it, or (dry run) say what would change."""

    @extend_schema(
        request=serializers.ExpandPatternSerializer, responses=serializers.ExpansionSerializer
    )
    def post(self, request: Request, pattern_id: int) -> Response:
        data = valid_data(serializers.ExpandPatternSerializer, request.data)
        pattern = pattern_or_404(pattern_id)
        expansion = services.expand_pattern(
            actor=person_of(request),
            pattern=pattern,
            first_day=data["from"],
            last_day=data["to"],
            now=timezone.now(),
            dry_run=data["dry_run"],
        )
        context = {"zone": ZoneInfo(pattern.role.site.time_zone), "dry_run": data["dry_run"]}
        return Response(serializers.ExpansionSerializer(expansion, context=context).data)
