from django.contrib import admin

from launchdeck.core.admin import ReadOnlyAdmin
from launchdeck.org.models import Calendar, Department, Person, Team


@admin.register(Calendar)
class CalendarAdmin(ReadOnlyAdmin):
    list_display = ("name", "country", "subdivision")
    search_fields = ("name",)


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "cost_centre", "calendar")
    search_fields = ("name", "cost_centre")


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "department", "capacity_person_days_per_week")
    list_filter = ("department",)
    search_fields = ("name",)


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("full_name", "email", "fte", "user")
    search_fields = ("full_name", "email")
