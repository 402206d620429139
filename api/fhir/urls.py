"""Routes under /fhir/ (docs/fhir.md)."""

from django.urls import path, re_path

from api.fhir import views

urlpatterns = [
    path("metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("auth/token", views.TokenView.as_view(), name="fhir-token"),
    path(
        "CommunicationRequest",
        views.CommunicationRequestListView.as_view(),
        name="fhir-communication-requests",
    ),
    path(
        "CommunicationRequest/<int:bleep_id>",
        views.CommunicationRequestDetailView.as_view(),
        name="fhir-communication-request",
    ),
    path("Communication", views.CommunicationSearchView.as_view(), name="fhir-communications"),
    path("PractitionerRole", views.PractitionerRoleSearchView.as_view(), name="fhir-roles"),
    path(
        "PractitionerRole/<int:role_id>",
        views.PractitionerRoleDetailView.as_view(),
        name="fhir-role",
    ),
    path(
        "Practitioner/<int:person_id>",
        views.PractitionerDetailView.as_view(),
        name="fhir-practitioner",
    ),
    path("Location/<int:location_id>", views.LocationDetailView.as_view(), name="fhir-location"),
    # Anything else under /fhir/ is an OperationOutcome too, not the site's HTML 404.
    re_path(r"^.*$", views.unsupported, name="fhir-unsupported"),
]
