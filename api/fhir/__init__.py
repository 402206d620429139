"""A FHIR R4 interface for other hospital systems (docs/fhir.md): IHE mACM's alert reporting
(ITI-84) and status (ITI-85) on CommunicationRequest and Communication, and who is on call
as PractitionerRole, for integrating systems that sign in as themselves."""
