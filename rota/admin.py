"""The Django admin for the rota: every save and delete goes through the same rules and audit
as the REST API (rota.services.records). Who may is the admin's own rule (Django's staff
and model permissions), so its writes skip the rota manager's check the API makes."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from bleep.admin import ReadOnlyAdmin
from rota.exceptions import InvalidRotaData
from rota.models import (
    CalendarFeed,
    Location,
    Pattern,
    PatternMember,
    Person,
    Role,
    RotaChange,
    RotaManagerScope,
    Shift,
    Site,
    SwapRequest,
    Team,
)
from rota.services.records import check, erase_record, write_record


class RuleCheckedForm(forms.ModelForm):
    """Show a broken rota rule next to the field it names, instead of failing on save."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]  # Django builds the instance here
        try:
            check(self.instance)
        except InvalidRotaData as error:
            for field, messages in error.errors.items():
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, ValidationError(message))


class AuditedAdmin(admin.ModelAdmin):
    """Save and delete through the rota's records service, so the change is audited."""

    form = RuleCheckedForm

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        actor = request.user if isinstance(request.user, Person) else None
        write_record(actor=actor, instance=obj, changes={}, now=timezone.now(), action="admin")

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        actor = request.user if isinstance(request.user, Person) else None
        erase_record(actor=actor, instance=obj, now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    list_display = ["name", "time_zone"]


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ["name", "site"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin):
    list_display = ["name", "site", "swaps_need_approval"]


@admin.register(Role)
class RoleAdmin(AuditedAdmin):
    list_display = ["name", "bleep_number", "kind", "team", "fallback"]
    search_fields = ["name", "bleep_number"]


@admin.register(Shift)
class ShiftAdmin(AuditedAdmin):
    list_display = ["role", "person", "start", "end", "pattern"]
    list_filter = ["role"]
    date_hierarchy = "start"


class PatternMemberInline(admin.TabularInline):
    model = PatternMember
    extra = 1


@admin.register(Pattern)
class PatternAdmin(AuditedAdmin):
    list_display = ["name", "role", "weekdays", "start_time", "end_time", "rotation"]
    inlines = [PatternMemberInline]


@admin.register(RotaManagerScope)
class RotaManagerScopeAdmin(admin.ModelAdmin):
    list_display = ["person", "team", "site"]


@admin.register(SwapRequest)
class SwapRequestAdmin(admin.ModelAdmin):
    """Swaps move through their own services; the admin only shows them."""

    list_display = ["requester", "counterpart", "shift", "status", "created_at"]
    list_filter = ["status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["owner", "role", "person", "created_at", "revoked_at"]
    readonly_fields = ["token_digest", "owner", "role", "person", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RotaChange)
class RotaChangeAdmin(ReadOnlyAdmin):
    """The audit trail: read only."""

    list_display = ["at", "actor", "action", "model", "object_id"]
    list_filter = ["model", "action"]
