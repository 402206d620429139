"""My numbers for text and pager messages, the test of my phone, and who cannot be reached."""

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.serializers import contacts as serializers
from api.serializers.base import PersonBriefSerializer
from api.views.base import ListView, device_of, person_of, valid_data
from messaging import events, selectors
from messaging.fallback.outbox import usable_channels
from messaging.models import ContactPoint, ShiftWarning
from messaging.services import contacts, reachability
from messaging.services.contacts import NewCode

# How far ahead "who has no number" looks: a rota manager's fortnight.
ROSTERED_WITHIN = timedelta(days=14)


def describe_new(new: NewCode) -> dict[str, Any]:
    """Describe a number just sent a code, with when another may be asked for."""
    return events.contact_summary(new.contact) | {"resend_at": new.resend_at.isoformat()}


def describe_contacts(page: list[ContactPoint]) -> list[dict[str, Any]]:
    """Describe a page of my numbers as their events do."""
    return [events.contact_summary(contact) for contact in page]


class ContactListView(ListView):
    """My numbers for text and pager messages; add one (a code is sent to it to verify)."""

    @extend_schema(responses=serializers.ContactSerializer(many=True))
    def get(self, request: Request) -> Response:
        return self.page(selectors.contact_points_of(person_of(request)), describe_contacts)

    @extend_schema(
        request=serializers.ContactInputSerializer,
        responses={201: serializers.NewContactSerializer},
    )
    def post(self, request: Request) -> Response:
        data = valid_data(serializers.ContactInputSerializer, request.data)
        new = contacts.add_contact_point(
            person=person_of(request),
            kind=data["kind"],
            address=data["address"],
            now=timezone.now(),
        )
        return Response(describe_new(new), status=status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    """One of my numbers: remove it."""

    @extend_schema(responses={204: None})
    def delete(self, request: Request, contact_id: int) -> Response:
        contacts.remove_contact_point(person=person_of(request), contact_id=contact_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactVerifyView(APIView):
    """Verify one of my numbers with the code sent to it."""

    @extend_schema(request=serializers.CodeInputSerializer, responses=serializers.ContactSerializer)
    def post(self, request: Request, contact_id: int) -> Response:
        data = valid_data(serializers.CodeInputSerializer, request.data)
        contact = contacts.verify_contact_point(
            person=person_of(request), contact_id=contact_id, code=data["code"], now=timezone.now()
        )
        return Response(events.contact_summary(contact))


class ContactCodeView(APIView):
    """Send a new code to one of my numbers not yet verified (at most once a minute)."""

    @extend_schema(request=None, responses={201: serializers.NewContactSerializer})
    def post(self, request: Request, contact_id: int) -> Response:
        new = contacts.resend_code(
            person=person_of(request), contact_id=contact_id, now=timezone.now()
        )
        return Response(describe_new(new), status=status.HTTP_201_CREATED)


class PhoneTestListView(APIView):
    """Test my phone: a test bleep to all my devices, which one of them must confirm."""

    @extend_schema(request=None, responses={201: serializers.PhoneTestSerializer})
    def post(self, request: Request) -> Response:
        test = reachability.start_phone_test(person=person_of(request), now=timezone.now())
        return Response(serializers.PhoneTestSerializer(test).data, status=status.HTTP_201_CREATED)


class PhoneTestConfirmView(APIView):
    """Confirm my test bleep reached this device: it then counts as one that rings."""

    @extend_schema(request=None, responses=serializers.PhoneTestSerializer)
    def post(self, request: Request, test_id: int) -> Response:
        test = reachability.confirm_phone_test(
            device=device_of(request), test_id=test_id, now=timezone.now()
        )
        return Response(serializers.PhoneTestSerializer(test).data)


class ShiftWarningListView(ListView):
    """People coming on call whom Bleep cannot reach, until put right: all for switchboard
    and auditors, a rota manager's teams', and my own."""

    @extend_schema(responses=serializers.ShiftWarningSerializer(many=True))
    def get(self, request: Request) -> Response:
        warnings = selectors.visible_shift_warnings(person_of(request))
        return self.page(warnings, describe_warnings)


def describe_warnings(page: list[ShiftWarning]) -> list[dict[str, Any]]:
    """Describe a page of warnings as the `shift.unreachable` event does."""
    return [events.shift_warning_summary(warning) for warning in page]


class WithoutNumberListView(ListView):
    """Who is on the rota in the next 14 days with no verified number to fall back on."""

    @extend_schema(responses=PersonBriefSerializer(many=True))
    def get(self, request: Request) -> Response:
        people = selectors.rostered_without_number(
            person_of(request),
            now=timezone.now(),
            within=ROSTERED_WITHIN,
            kinds=[str(kind) for kind in usable_channels()],
        )
        return self.page(people, lambda page: [events.person_summary(p) for p in page])
