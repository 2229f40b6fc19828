from django.contrib import admin

from launchdeck.core.admin import ReadOnlyAdmin
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, Spend


@admin.register(Portfolio)
class PortfolioAdmin(ReadOnlyAdmin):
    list_display = ("name", "parent")
    search_fields = ("name",)


@admin.register(Initiative)
class InitiativeAdmin(ReadOnlyAdmin):
    list_display = ("name", "portfolio", "department", "status", "budget", "start", "end")
    list_filter = ("status",)
    search_fields = ("name",)


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ("name", "initiative", "owner_team", "start", "end")
    search_fields = ("name", "initiative__name")


@admin.register(Spend)
class SpendAdmin(ReadOnlyAdmin):
    list_display = ("initiative", "department", "month", "planned", "actual")
    list_filter = ("month",)
    search_fields = ("initiative__name",)


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ("team", "initiative", "start", "end", "unit", "amount")
    list_filter = ("unit",)
    search_fields = ("team__name", "initiative__name")


@admin.register(RegisterItem)
class RegisterItemAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "category", "impact", "status", "initiative", "raised_on")
    list_filter = ("kind", "category", "impact", "status")
    search_fields = ("title",)
