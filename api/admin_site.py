"""The admin site: django-otp's, which asks for an authenticator code with the password, and
which also lets in an administrator who signed in at the identity provider with two factors
(docs/sso.md). The password rule of messaging.services.devices applies here too."""

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from messaging import sso
from messaging.models import SignInMethod, SignInRecord
from messaging.services.devices import password_sign_in_method

# Set in a browser session by an administrator's sign-in at the identity provider.
SSO_ADMIN_SESSION_KEY = "bleep_sso_admin"


class AdminLoginForm(OTPAdminAuthenticationForm):
    """django-otp's form, refusing a password that password sign-in refuses."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        now = timezone.now()
        method = password_sign_in_method(person=user, now=now)
        if method is None:
            raise forms.ValidationError(
                "Password sign-in is off for this account: sign in with "
                f"{settings.OIDC_PROVIDER_NAME}.",
                code="password_sign_in_off",
            )
        if method == SignInMethod.BREAK_GLASS:
            SignInRecord.objects.create(person=user, method=method, at=now, detail={"to": "admin"})


class BleepAdminSite(OTPAdminSite):
    login_form = AdminLoginForm
    login_template = "sso/admin_login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        if super().has_permission(request):
            return True
        user = request.user
        return bool(request.session.get(SSO_ADMIN_SESSION_KEY) and user.is_active and user.is_staff)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        provider = settings.OIDC_PROVIDER_NAME if sso.enabled() else ""
        return super().login(request, {**(extra_context or {}), "sso_provider": provider})
