from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from bleep.admin import ReadOnlyAdmin
from messaging.exceptions import SystemClientRefused
from messaging.models import (
    Bleep,
    ChannelMessage,
    ContactPoint,
    Delivery,
    Device,
    FloodAlert,
    HistoryEntry,
    PushMessage,
    PushSubscription,
    ShiftWarning,
    SignInRecord,
    SsoIdentity,
    SystemClient,
    SystemScope,
)
from messaging.push import delete_push_subscription
from messaging.services.devices import disable_account, revoke_device
from messaging.services.systems import check_client, create_client, revoke_client
from rota.models import Person


# Registered here, not in rota, because disabling an account must also sign out its devices.
@admin.register(Person)
class PersonAdmin(UserAdmin):
    list_display = ["username", "display_name", "job", "grade", "is_active"]
    list_filter = ["job", "grade", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Work", {"fields": ["display_name", "job", "grade"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Person, form: Any, change: bool) -> None:
        disabling = change and not obj.is_active and "is_active" in form.changed_data
        super().save_model(request, obj, form, change)
        if disabling:
            disable_account(person=obj, now=timezone.now())


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ["recipient", "status", "updated_at", "eta_minutes", "comment"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Bleep)
class BleepAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "priority", "role", "sender", "status"]
    list_filter = ["status", "priority"]
    inlines = [DeliveryInline]


# Raised and kept current only by the send limits (messaging/services/limits.py).
@admin.register(FloodAlert)
class FloodAlertAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "kind", "sender", "role", "count", "last_at", "closed_at"]
    list_filter = ["kind"]


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "bleep", "action", "from_status", "to_status", "actor", "device"]


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "created_at", "last_seen_at", "confirmed_at", "revoked_at"]
    readonly_fields = [
        "user",
        "name",
        "token_digest",
        "created_at",
        "last_seen_at",
        "confirmed_at",
        "revoked_at",
        "sso_session_id",
        "sso_ends_at",
        "sso_checked_at",
    ]
    # The provider's refresh token, sealed: never shown, never typed in.
    exclude = ["sso_refresh_token"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Sign out the selected devices")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset:
            revoke_device(device=device, now=timezone.now())


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["device", "endpoint_host", "created_at"]
    search_fields = ["device__user__username", "device__user__display_name", "endpoint"]
    readonly_fields = ["device", "endpoint", "p256dh", "auth", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="push service")
    def endpoint_host(self, subscription: PushSubscription) -> str:
        return urlsplit(subscription.endpoint).netloc

    # Through the service, so pushes already queued for it are marked gone, not left behind.
    def delete_model(self, request: HttpRequest, obj: PushSubscription) -> None:
        delete_push_subscription(subscription=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PushSubscription]) -> None:
        for subscription in queryset:
            delete_push_subscription(subscription=subscription)


@admin.register(PushMessage)
class PushMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "bleep", "status", "urgency", "attempts", "sent_at", "last_error"]
    list_filter = ["status", "urgency"]


# Numbers are added and verified by their owners (messaging/services/contacts.py); the
# admin only looks, so no number is ever used unverified.
@admin.register(ContactPoint)
class ContactPointAdmin(ReadOnlyAdmin):
    list_display = ["person", "kind", "verified_at", "unusable_at", "unusable_reason"]
    list_filter = ["kind"]
    search_fields = ["person__username", "person__display_name"]
    exclude = ["code_digest"]


@admin.register(ChannelMessage)
class ChannelMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "purpose",
        "recipient",
        "bleep",
        "status",
        "provider_status",
        "attempts",
        "last_error",
    ]
    list_filter = ["kind", "purpose", "status"]
    # A code's words are blanked once sent; until then they are not for the admin's eyes.
    exclude = ["text"]


@admin.register(ShiftWarning)
class ShiftWarningAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "person", "shift", "resolved_at"]


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Who is linked to which account at the identity provider. Deleting a link (a wrong
    match) makes that person's next sign-in there match afresh; nobody links by hand."""

    list_display = ["person", "issuer", "subject", "linked_at", "break_glass_until"]
    search_fields = ["person__username", "subject"]
    readonly_fields = ["person", "issuer", "subject", "linked_at", "break_glass_until"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SignInRecord)
class SignInRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "person", "method", "device"]
    list_filter = ["method"]
    search_fields = ["person__username"]


class SystemClientCreationForm(forms.ModelForm):
    """A new client: its id, the name its bleeps are signed with, and its scopes."""

    name = forms.CharField(max_length=120, help_text="How recipients see its bleeps.")
    scopes = forms.MultipleChoiceField(
        choices=SystemScope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SystemClient
        fields = ["client_id"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            check_client(
                client_id=data.get("client_id", ""),
                name=data.get("name", ""),
                scopes=list(data.get("scopes", [])),
            )
        except SystemClientRefused as refusal:
            raise forms.ValidationError(refusal.reason) from refusal
        return data


@admin.register(SystemClient)
class SystemClientAdmin(admin.ModelAdmin):
    """Integrating systems' FHIR clients (docs/fhir.md), for superusers: created here (the
    secret is shown once, on the next page) or with `manage.py system_client create`, and
    revoked here or there."""

    list_display = ["client_id", "person", "created_at", "revoked_at"]
    readonly_fields = ["client_id", "person", "scopes", "created_at", "revoked_at"]
    exclude = ["secret_digest"]
    actions = ["revoke"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = SystemClientCreationForm
            kwargs["fields"] = ["client_id", "name", "scopes"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        client, secret = create_client(
            client_id=form.cleaned_data["client_id"],
            name=form.cleaned_data["name"],
            scopes=list(form.cleaned_data["scopes"]),
            now=timezone.now(),
        )
        obj.pk, obj.person, obj._state.adding = client.pk, client.person, False
        messages.warning(
            request,
            f"Client secret of {client.client_id}: {secret} (shown this once: keep it in the "
            "system's vault)",
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.action(description="Revoke the selected clients and their tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[SystemClient]) -> None:
        for client in queryset:
            revoke_client(client=client, now=timezone.now())
