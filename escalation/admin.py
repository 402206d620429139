"""The Django admin for escalation: policies are saved and deleted through the same service,
rules and audit as over REST (escalation.services.policies); plans, deadlines, heartbeats
and alerts are read only."""

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils import timezone

from bleep.admin import ReadOnlyAdmin
from escalation.exceptions import InvalidEscalationData
from escalation.models import (
    BleepPlan,
    Deadline,
    OverdueAlert,
    Policy,
    PolicyStep,
    StepAction,
    WorkerHeartbeat,
)
from escalation.selectors import policy_scope_site
from escalation.services.policies import (
    StepDraft,
    check_policy,
    check_step,
    check_steps,
    erase_policy,
    write_policy,
)
from rota.models import Person

# How the service names a field of one step: "steps[2].after_urgent_seconds".
STEP_FIELD = re.compile(r"^steps\[(\d+)\]\.(\w+)$")
STEP_FIELDS = (
    "order",
    "action",
    "target_role",
    "target_team",
    "after_routine_seconds",
    "after_urgent_seconds",
    "after_emergency_seconds",
)


def show_errors(form: forms.BaseForm, error: InvalidEscalationData) -> None:
    """Show a broken rule next to the field it names, or above the form."""
    for field, messages in error.errors.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, ValidationError(message))


def scope_site(policy: Policy | None) -> int | None:
    """Return the id of the site of the policy's scope as the form has it so far."""
    if policy is None:
        return None
    return policy_scope_site(role=policy.role, team=policy.team, site=policy.site)


class PolicyForm(forms.ModelForm):
    """A policy's scope and repeat, checked by the service before the steps are."""

    class Meta:
        model = Policy
        fields = ["role", "team", "site", "repeat"]

    def _post_clean(self) -> None:
        data = self.cleaned_data
        try:
            check_policy(
                policy=self.instance,
                role=data.get("role"),
                team=data.get("team"),
                site=data.get("site"),
                repeat=data.get("repeat", 0),
            )
        except InvalidEscalationData as error:
            show_errors(self, error)
        # After the service, so a field it refused is left out of the model's own checks
        # and the form shows one message per mistake.
        super()._post_clean()  # type: ignore[misc]  # Django builds the instance here


class PolicyStepForm(forms.ModelForm):
    """One step, checked by the service against its policy's site."""

    order = forms.IntegerField(
        required=False, min_value=1, help_text="Where the step comes; blank: after the others."
    )

    class Meta:
        model = PolicyStep
        fields = STEP_FIELDS

    def __init__(self, *args: Any, policy: Policy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        if self.instance.pk is not None:
            self.fields["order"].initial = self.instance.position

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if not self.errors:
            try:
                check_step(step=self.draft(), site_id=scope_site(self.policy))
            except InvalidEscalationData as error:
                show_errors(self, error)
        return data

    def draft(self) -> StepDraft:
        """Return the step as the service takes it."""
        data = self.cleaned_data
        return StepDraft(
            action=StepAction(data["action"]),
            target_role=data.get("target_role"),
            target_team=data.get("target_team"),
            after_routine_seconds=data["after_routine_seconds"],
            after_urgent_seconds=data["after_urgent_seconds"],
            after_emergency_seconds=data["after_emergency_seconds"],
        )


class PolicyStepFormSet(BaseInlineFormSet):
    """A policy's steps as one list, in order, checked whole by the service."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "policy": self.instance}

    def kept(self) -> list[PolicyStepForm]:
        """Return the forms of the steps to keep, in the order they will run."""
        forms_: list[Any] = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get(DELETION_FIELD_NAME)
        ]
        ordered = sorted(
            enumerate(forms_),
            key=lambda pair: (pair[1].cleaned_data.get("order") or len(forms_) + 1, pair[0]),
        )
        return [form for _, form in ordered]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        kept = self.kept()
        try:
            check_steps(steps=[form.draft() for form in kept], site_id=scope_site(self.instance))
        except InvalidEscalationData as error:
            for key, messages in error.errors.items():
                named = STEP_FIELD.match(key)
                if named is None:
                    raise ValidationError(messages) from None
                kept[int(named[1])].add_error(named[2], messages)


class PolicyStepInline(admin.TabularInline):
    model = PolicyStep
    form = PolicyStepForm
    formset = PolicyStepFormSet
    fields = STEP_FIELDS
    extra = 1
    max_num = Policy.MAX_STEPS


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Save and delete a policy with its steps through the policies service, audited."""

    form = PolicyForm
    inlines = [PolicyStepInline]
    list_display = ["scope", "repeat", "updated_at"]
    readonly_fields = ["updated_at"]

    @admin.display(description="scope")
    def scope(self, policy: Policy) -> str:
        return str(policy.role or policy.team or policy.site)

    def save_model(self, request: HttpRequest, obj: Policy, form: Any, change: bool) -> None:
        # Written with its steps in save_related, as one change.
        pass

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        policy: Policy = form.instance
        # The admin's own rule decides who writes here (Django's staff permissions), so
        # the write skips the rota manager's check that save_policy makes.
        write_policy(
            actor=request.user if isinstance(request.user, Person) else None,
            policy=policy,
            role=policy.role,
            team=policy.team,
            site=policy.site,
            repeat=policy.repeat,
            steps=[step.draft() for step in formsets[0].kept()],
            now=timezone.now(),
            action="admin",
        )

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # The steps were written by the service, not by the inline formsets.
        return super().construct_change_message(request, form, [], add)

    def delete_model(self, request: HttpRequest, obj: Policy) -> None:
        actor = request.user if isinstance(request.user, Person) else None
        erase_policy(actor=actor, policy=obj, now=timezone.now())

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Policy]) -> None:
        for policy in queryset:
            self.delete_model(request, policy)


@admin.register(BleepPlan)
class BleepPlanAdmin(ReadOnlyAdmin):
    list_display = ["bleep", "source", "repeat", "reached_role"]
    list_filter = ["source"]


@admin.register(OverdueAlert)
class OverdueAlertAdmin(ReadOnlyAdmin):
    list_display = ["raised_at", "overdue", "oldest_due_at", "cleared_at"]


# The escalation clock is read only by hand: a deadline deleted or marked fired would stop a
# bleep's escalation, and a heartbeat set by hand would hide a dead worker from /healthz.
# Only the worker's services write them.
@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyAdmin):
    list_display = ["bleep", "step", "due_at", "fired_at", "took_effect_at", "retry_at"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "beat_at"]
