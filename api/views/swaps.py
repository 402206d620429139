"""Swaps of shifts between colleagues, and cover for sickness."""

from collections.abc import Callable

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import swaps as serializers
from api.views.base import ListView, person_of, valid_data
from rota.models import Shift, SwapRequest
from rota.permissions import access_swap, visible_swaps
from rota.services import swaps


class SwapListView(ListView):
    """Offer a shift to a colleague; list the swaps I am part of or whose team I manage."""

    @extend_schema(responses=serializers.SwapSerializer(many=True))
    def get(self, request: Request) -> Response:
        found = visible_swaps(person_of(request))
        return self.page(found, lambda page: serializers.SwapSerializer(page, many=True).data)

    @extend_schema(
        request=serializers.RequestSwapSerializer, responses={201: serializers.SwapSerializer}
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.RequestSwapSerializer, request.data)
        person = person_of(request)
        swap = swaps.request_swap(requester=person, now=timezone.now(), **data)
        body = serializers.SwapSerializer(access_swap(person, swap.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)


class SwapDetailView(APIView):
    """One swap I am part of or whose team I manage."""

    @extend_schema(responses=serializers.SwapSerializer)
    def get(self, request: Request, swap_id: int) -> Response:
        swap = access_swap(person_of(request), swap_id)
        return Response(serializers.SwapSerializer(swap).data)


class SwapMoveView(APIView):
    """Move a swap on by one step; each subclass names the service that does it."""

    move: Callable[..., SwapRequest]

    @extend_schema(request=None, responses=serializers.SwapSerializer)
    def post(self, request: Request, swap_id: int) -> Response:
        person = person_of(request)
        self.move(actor=person, swap_id=swap_id, now=timezone.now())
        return Response(serializers.SwapSerializer(access_swap(person, swap_id)).data)


class AcceptSwapView(SwapMoveView):
    """Agree to a swap I was asked; applied at once unless the team needs approval."""

    move = staticmethod(swaps.accept_swap)


class DeclineSwapView(SwapMoveView):
    """Say no to a swap I was asked."""

    move = staticmethod(swaps.decline_swap)


class ApproveSwapView(SwapMoveView):
    """Approve an agreed swap of a team I manage, applying it at once."""

    move = staticmethod(swaps.approve_swap)


class RejectSwapView(SwapMoveView):
    """Refuse an agreed swap of a team I manage."""

    move = staticmethod(swaps.reject_swap)


class CancelSwapView(SwapMoveView):
    """Withdraw a swap I asked for, before it is applied."""

    move = staticmethod(swaps.cancel_swap)


class CoverShiftView(APIView):
    """Hand part of a shift to someone covering (sickness); its holder keeps the rest."""

    @extend_schema(
        request=serializers.CoverSerializer, responses=serializers.ShiftSummarySerializer(many=True)
    )
    def post(self, request: Request, shift_id: int) -> Response:
        shift = Shift.objects.select_related("role__team").filter(pk=shift_id).first()
        if shift is None:
            raise NotFound("no such shift")
        data = valid_data(serializers.CoverSerializer, request.data)
        parts = swaps.cover_shift(actor=person_of(request), shift=shift, now=timezone.now(), **data)
        return Response(serializers.ShiftSummarySerializer(parts, many=True).data)
