from django.contrib import admin

from escalation.models import Deadline, WorkerHeartbeat


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ["bleep", "step", "due_at", "fired_at"]
    readonly_fields = ["bleep", "step", "due_at", "fired_at"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at"]
