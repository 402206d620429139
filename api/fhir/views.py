"""The FHIR endpoint's views. Every write goes through the services, drafts and checks REST
and the socket use (drafts.SendBleepSerializer, send_bleep, cancel_bleep); what is here is
the FHIR shape of their answers and OperationOutcome for every refusal."""

import base64
import binascii
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, parsers, renderers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.fhir import mapping
from api.fhir.capability import capability_statement
from api.fhir.outcome import FhirError, operation_outcome
from api.parsers import JSONParser
from escalation.services import sending
from messaging import drafts
from messaging.exceptions import (
    BleepNotFound,
    IllegalTransition,
    InvalidToken,
    MessagingError,
    NotTheSender,
    SendLimitReached,
    SystemClientRefused,
)
from messaging.models import Bleep, Delivery, SystemScope, SystemToken
from messaging.services.bleeps import cancel_bleep
from messaging.services.systems import authenticate_system, issue_token
from rota.exceptions import PersonNotFound, RoleNotFound
from rota.models import Location, Person, Role, Shift
from rota.selectors import shifts_covering

FHIR_JSON = "application/fhir+json"
SEARCH_LIMIT = 200


class FhirRenderer(renderers.JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"


class FhirJSONParser(JSONParser):
    media_type = FHIR_JSON


class SystemTokenAuthentication:
    """`Authorization: Bearer <token>` from the token endpoint, for integrating systems only:
    a phone's device token is not one."""

    def authenticate(self, request: Request) -> tuple[Person, SystemToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(header) != 2 or header[0] != "Bearer":
            return None
        try:
            issued = authenticate_system(token=header[1], now=timezone.now())
        except InvalidToken:
            raise exceptions.AuthenticationFailed("invalid or expired access token") from None
        return issued.client.person, issued

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="fhir"'


class HasScope(BasePermission):
    """The token carries the scope the view asks for this method (`scopes`)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, SystemToken):
            return False
        needed = view.scopes.get(request.method)
        return needed is not None and needed in token.scopes


class FhirView(APIView):
    authentication_classes = [SystemTokenAuthentication]  # type: ignore[list-item]
    permission_classes = [HasScope]
    renderer_classes = [FhirRenderer, renderers.JSONRenderer]
    parser_classes = [FhirJSONParser, JSONParser]
    scopes: dict[str, str] = {}

    def handle_exception(self, exc: Exception) -> Response:
        issue = _as_fhir_error(exc)
        if issue is None:
            raise exc
        response = Response(operation_outcome([issue]), status=issue.status_code)
        if issue.status_code == status.HTTP_401_UNAUTHORIZED:
            response["WWW-Authenticate"] = 'Bearer realm="fhir"'
        if isinstance(exc, SendLimitReached):
            response["Retry-After"] = str(exc.seconds)
        return response

    def base(self, request: Request) -> str:
        return request.build_absolute_uri("/fhir").rstrip("/")

    def client_person(self, request: Request) -> Person:
        assert isinstance(request.user, Person)
        return request.user


def _as_fhir_error(exc: Exception) -> FhirError | None:
    if isinstance(exc, FhirError):
        return exc
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return FhirError(str(exc.detail), code="login", status_code=401)
    if isinstance(exc, exceptions.PermissionDenied):
        return FhirError(
            "this client's token lacks the scope for this", code="forbidden", status_code=403
        )
    if isinstance(exc, exceptions.ValidationError):
        return _validation_issue(exc)
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return FhirError(str(exc.detail), code="structure")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return FhirError(str(exc.detail), code="not-supported", status_code=405)
    if isinstance(exc, exceptions.NotAcceptable):
        return FhirError(str(exc.detail), code="not-supported", status_code=406)
    if isinstance(exc, BleepNotFound):
        return FhirError("no such CommunicationRequest", code="not-found", status_code=404)
    if isinstance(exc, RoleNotFound):
        return _unknown("no such PractitionerRole", "CommunicationRequest.recipient[0]")
    if isinstance(exc, PersonNotFound):
        return _unknown("no such Practitioner", "CommunicationRequest.recipient[0]")
    if isinstance(exc, SendLimitReached):
        return FhirError(str(exc), code="throttled", status_code=429)
    if isinstance(exc, IllegalTransition | NotTheSender):
        return FhirError(str(exc) or "not now", code="business-rule", status_code=409)
    if isinstance(exc, MessagingError):
        return FhirError(str(exc) or type(exc).__name__, code="processing", status_code=422)
    return None


def _unknown(words: str, expression: str) -> FhirError:
    return FhirError(words, code="not-found", status_code=422, expression=expression)


# Where each field of a send is in a CommunicationRequest, for the OperationOutcome.
SEND_FIELD_PATHS = {
    "message": "CommunicationRequest.payload[0].contentString",
    "priority": "CommunicationRequest.priority",
    "role": "CommunicationRequest.recipient[0]",
    "bleep_number": "CommunicationRequest.recipient[0].identifier.value",
    "person": "CommunicationRequest.recipient[0]",
    "nhs_number": "CommunicationRequest.subject.identifier.value",
    "location": "CommunicationRequest.encounter",
    "bed": "CommunicationRequest.encounter",
    "idempotency_key": "CommunicationRequest.identifier[0]",
}


def _validation_issue(exc: exceptions.ValidationError) -> FhirError:
    detail = exc.detail
    if isinstance(detail, dict) and detail:
        field, messages = next(iter(detail.items()))
        words = messages[0] if isinstance(messages, list) and messages else messages
        return FhirError(
            f"{field}: {words}",
            expression=SEND_FIELD_PATHS.get(str(field), "CommunicationRequest"),
        )
    return FhirError(str(detail))


class MetadataView(APIView):
    """The CapabilityStatement: exactly what this endpoint supports."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    renderer_classes = [FhirRenderer, renderers.JSONRenderer]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri("/fhir").rstrip("/")
        return Response(capability_statement(base=base, now=timezone.now()))


class TokenView(APIView):
    """OAuth 2.0 client credentials (RFC 6749 4.4): an integrating system's access token.
    Errors are OAuth's (`{"error": "invalid_client"}`), as clients of a token endpoint expect."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    renderer_classes = [renderers.JSONRenderer]
    # RFC 6749 asks for a form; JSON is taken too.
    parser_classes = [parsers.FormParser, JSONParser]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        data: Any = request.data
        if data.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", 400)
        client_id, secret = _client_credentials(request)
        try:
            token, issued = issue_token(
                client_id=client_id,
                secret=secret,
                scope=str(data.get("scope", "")),
                now=timezone.now(),
            )
        except SystemClientRefused as refusal:
            if refusal.reason == "invalid_scope":
                return _oauth_error("invalid_scope", 400)
            answer = _oauth_error("invalid_client", 401)
            answer["WWW-Authenticate"] = 'Basic realm="fhir"'
            return answer
        body = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int((issued.expires_at - issued.created_at).total_seconds()),
            "scope": " ".join(issued.scopes),
        }
        response = Response(body)
        response["Cache-Control"] = "no-store"
        return response


def _client_credentials(request: Request) -> tuple[str, str]:
    """From HTTP Basic (client_secret_basic) or the form (client_secret_post)."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(header) == 2 and header[0] == "Basic":
        try:
            client_id, _, secret = base64.b64decode(header[1]).decode().partition(":")
        except (ValueError, binascii.Error):
            return "", ""
        return client_id, secret
    data: Any = request.data
    return str(data.get("client_id", "")), str(data.get("client_secret", ""))


def _oauth_error(error: str, status_code: int) -> Response:
    response = Response({"error": error}, status=status_code)
    response["Cache-Control"] = "no-store"
    return response


class CommunicationRequestListView(FhirView):
    """ITI-84 Mobile Report Alert: a CommunicationRequest sends a bleep."""

    scopes = {"POST": SystemScope.COMMUNICATION_REQUEST_WRITE}

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        body: Any = request.data
        incoming = drafts.SendBleepSerializer(data=mapping.read_request(body))
        incoming.is_valid(raise_exception=True)
        sent = sending.send_bleep(
            sender=self.client_person(request),
            device=None,
            draft=incoming.draft(),
            now=timezone.now(),
        )
        resource = mapping.request_resource(sent.bleep)
        response = Response(resource, status=201 if sent.created else 200)
        response["Location"] = f"{self.base(request)}/CommunicationRequest/{sent.bleep.pk}"
        return response


class CommunicationRequestDetailView(FhirView):
    """One of this client's alerts, with the bleep's status; PUT with `revoked` cancels it."""

    scopes = {
        "GET": SystemScope.COMMUNICATION_REQUEST_READ,
        "PUT": SystemScope.COMMUNICATION_REQUEST_WRITE,
    }

    @extend_schema(exclude=True)
    def get(self, request: Request, bleep_id: int) -> Response:
        return Response(mapping.request_resource(self._own(request, bleep_id)))

    @extend_schema(exclude=True)
    def put(self, request: Request, bleep_id: int) -> Response:
        bleep = self._own(request, bleep_id)
        body: Any = request.data
        if not isinstance(body, dict) or body.get("status") != "revoked":
            raise FhirError(
                "only a change of status to `revoked` (cancelling the alert) is supported",
                code="not-supported",
                expression="CommunicationRequest.status",
            )
        if body.get("id") not in (None, str(bleep.pk)):
            raise FhirError(
                "the id must be the one in the address", expression="CommunicationRequest.id"
            )
        cancelled = cancel_bleep(
            actor=self.client_person(request), device=None, bleep_id=bleep.pk, now=timezone.now()
        )
        return Response(mapping.request_resource(cancelled))

    def _own(self, request: Request, bleep_id: int) -> Bleep:
        bleep = Bleep.objects.filter(pk=bleep_id, sender=self.client_person(request)).first()
        if bleep is None:
            raise BleepNotFound()
        return bleep


class CommunicationSearchView(FhirView):
    """ITI-85 Query for Alert Status: one Communication per person an alert reached."""

    scopes = {"GET": SystemScope.COMMUNICATION_REQUEST_READ}
    PARAMETERS = {"based-on", "recipient", "status", "_lastUpdated", "_count", "_format"}

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        query = _search_query(request, self.PARAMETERS)
        copies = Delivery.objects.filter(bleep__sender=self.client_person(request))
        copies = _filter_copies(copies, query)
        found = list(
            copies.select_related("bleep", "recipient").order_by("bleep_id", "pk")[:SEARCH_LIMIT]
        )
        return Response(mapping.bundle(mapping.communications(found), self.base(request)))


def _search_query(request: Request, supported: set[str]) -> Any:
    """The search's parameters, refusing one the search does not support (FHIR's strict
    handling: a parameter ignored would answer more than was asked)."""
    unknown = sorted(set(request.query_params) - supported)
    if unknown:
        raise FhirError(f"unsupported search parameter: {unknown[0]}", code="not-supported")
    return request.query_params


def _filter_copies(copies: QuerySet[Delivery], query: Any) -> QuerySet[Delivery]:
    if "based-on" in query:
        kind, _, ident = query["based-on"].partition("/")
        if kind != "CommunicationRequest" or not ident.isdigit():
            raise FhirError("based-on is CommunicationRequest/{id}", expression="based-on")
        copies = copies.filter(bleep_id=int(ident))
    if "recipient" in query:
        kind, _, ident = query["recipient"].partition("/")
        if kind != "Practitioner" or not ident.isdigit():
            raise FhirError("recipient is Practitioner/{id}", expression="recipient")
        copies = copies.filter(recipient_id=int(ident))
    if "status" in query:
        wanted = query["status"]
        statuses = [s for s, word in mapping.COMMUNICATION_STATUS.items() if word == wanted]
        if not statuses:
            raise FhirError(
                f"status is one of {', '.join(sorted(set(mapping.COMMUNICATION_STATUS.values())))}",
                code="code-invalid",
                expression="status",
            )
        copies = copies.filter(status__in=statuses)
    for value in query.getlist("_lastUpdated"):
        prefix, at = _prefixed_instant(value, "_lastUpdated")
        copies = copies.filter(**{f"updated_at__{prefix}": at})
    return copies


PREFIXES = {"gt": "gt", "ge": "gte", "lt": "lt", "le": "lte"}


def _prefixed_instant(value: str, name: str) -> tuple[str, datetime]:
    prefix, rest = (value[:2], value[2:]) if value[:2] in PREFIXES else ("ge", value)
    at = parse_datetime(rest) if "T" in rest else None
    if at is None:
        day = parse_date(rest)
        if day is None:
            raise FhirError(
                f"{name} is an instant or date with gt, ge, lt or le, such as ge2026-12-04",
                expression=name,
            )
        at = datetime(day.year, day.month, day.day)
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.get_current_timezone())
    return PREFIXES[prefix], at


class PractitionerRoleSearchView(FhirView):
    """Who is on call: each role, and who holds it at `date` (now by default)."""

    scopes = {"GET": SystemScope.PRACTITIONER_ROLE_READ}
    PARAMETERS = {"active", "date", "identifier", "_id", "_count", "_format"}

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        query = _search_query(request, self.PARAMETERS)
        at = timezone.now()
        if "date" in query:
            _, at = _prefixed_instant(query["date"], "date")
        roles = Role.objects.order_by("pk")
        if "identifier" in query:
            system, _, value = query["identifier"].rpartition("|")
            if system not in ("", mapping.BLEEP_NUMBER_SYSTEM):
                raise FhirError(
                    f"identifier is a bleep number ({mapping.BLEEP_NUMBER_SYSTEM}|2345)",
                    expression="identifier",
                )
            roles = roles.filter(bleep_number=value)
        if "_id" in query:
            roles = roles.filter(pk=int(query["_id"])) if query["_id"].isdigit() else roles.none()
        held = _holding(at)
        resources = [
            mapping.practitioner_role(role, held.get(role.pk)) for role in roles[:SEARCH_LIMIT]
        ]
        if "active" in query:
            if query["active"] not in ("true", "false"):
                raise FhirError("active is true or false", expression="active")
            resources = [r for r in resources if r["active"] == (query["active"] == "true")]
        return Response(mapping.bundle(resources, self.base(request)))


def _holding(at: datetime) -> dict[int, Shift]:
    """Each role's shift covering `at`, the one that began first where two overlap."""
    held: dict[int, Shift] = {}
    for shift in shifts_covering(at).select_related("person").order_by("start", "pk"):
        held.setdefault(shift.role_id, shift)
    return held


class PractitionerRoleDetailView(FhirView):
    scopes = {"GET": SystemScope.PRACTITIONER_ROLE_READ}

    @extend_schema(exclude=True)
    def get(self, request: Request, role_id: int) -> Response:
        role = Role.objects.filter(pk=role_id).first()
        if role is None:
            raise FhirError("no such PractitionerRole", code="not-found", status_code=404)
        return Response(mapping.practitioner_role(role, _holding(timezone.now()).get(role.pk)))


class PractitionerDetailView(FhirView):
    scopes = {"GET": SystemScope.PRACTITIONER_ROLE_READ}

    @extend_schema(exclude=True)
    def get(self, request: Request, person_id: int) -> Response:
        person = Person.objects.exclude(job=Person.Job.SYSTEM).filter(pk=person_id).first()
        if person is None:
            raise FhirError("no such Practitioner", code="not-found", status_code=404)
        return Response(mapping.practitioner(person))


class LocationDetailView(FhirView):
    scopes = {"GET": SystemScope.PRACTITIONER_ROLE_READ}

    @extend_schema(exclude=True)
    def get(self, request: Request, location_id: int) -> Response:
        place = Location.objects.filter(pk=location_id).first()
        if place is None:
            raise FhirError("no such Location", code="not-found", status_code=404)
        return Response(mapping.location(place))


def unsupported(request: HttpRequest) -> HttpResponse:
    """Any other address under /fhir/: an OperationOutcome saying what is supported."""
    issue = FhirError(
        "not supported here: see /fhir/metadata", code="not-supported", status_code=404
    )
    return JsonResponse(operation_outcome([issue]), status=404, content_type=FHIR_JSON)
