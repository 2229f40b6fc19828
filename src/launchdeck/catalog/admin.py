from django.contrib import admin

from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.core.admin import ReadOnlyAdmin


@admin.register(System)
class SystemAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "tier", "lifecycle", "owner_team")
    list_filter = ("tier", "lifecycle", "kind")
    search_fields = ("name",)


@admin.register(Component)
class ComponentAdmin(ReadOnlyAdmin):
    list_display = ("name", "system")
    search_fields = ("name", "system__name")


@admin.register(SystemDependency)
class SystemDependencyAdmin(ReadOnlyAdmin):
    list_display = ("source", "target", "interface_kind", "criticality")
    list_filter = ("interface_kind", "criticality")
