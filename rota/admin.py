from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from rota.models import Location, Person, Role, Shift, Site, Team


@admin.register(Person)
class PersonAdmin(UserAdmin):
    list_display = ["username", "display_name", "job", "grade", "is_active"]
    list_filter = ["job", "grade", "is_active"]
    fieldsets = [
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Work", {"fields": ["display_name", "job", "grade"]}),
    ]


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "site"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "site"]


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "bleep_number", "team", "fallback"]
    search_fields = ["name", "bleep_number"]


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["role", "person", "start", "end"]
    list_filter = ["role"]
    date_hierarchy = "start"
