from django.contrib import admin

from launchdeck.core.admin import ReadOnlyAdmin
from launchdeck.releases.models import (
    FreezeWindow,
    Gate,
    GateApproval,
    GateCriterion,
    GateTemplate,
    Milestone,
    MilestoneTemplate,
    Phase,
    PhaseTemplate,
    Release,
    ReleaseSystem,
    ReleaseTemplate,
)


@admin.register(ReleaseTemplate)
class ReleaseTemplateAdmin(ReadOnlyAdmin):
    list_display = ("name", "release_kind", "is_active")
    list_filter = ("release_kind", "is_active")
    search_fields = ("name",)


@admin.register(PhaseTemplate)
class PhaseTemplateAdmin(ReadOnlyAdmin):
    list_display = ("template", "position", "name", "kind", "start_offset_days", "duration_days")
    list_filter = ("kind",)
    search_fields = ("name", "template__name")


@admin.register(MilestoneTemplate)
class MilestoneTemplateAdmin(ReadOnlyAdmin):
    list_display = ("template", "name", "kind", "phase", "anchor", "offset_days")
    list_filter = ("kind",)
    search_fields = ("name", "template__name")


@admin.register(GateTemplate)
class GateTemplateAdmin(ReadOnlyAdmin):
    list_display = ("template", "name", "phase", "blocks")
    list_filter = ("blocks",)
    search_fields = ("name", "template__name")


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "status", "train", "planned_start", "planned_end", "portfolio")
    list_filter = ("kind", "status")
    search_fields = ("name",)
    date_hierarchy = "planned_start"


@admin.register(ReleaseSystem)
class ReleaseSystemAdmin(ReadOnlyAdmin):
    list_display = ("release", "system", "impact", "target_version")
    list_filter = ("impact",)
    search_fields = ("release__name", "system__name")


@admin.register(Phase)
class PhaseAdmin(ReadOnlyAdmin):
    list_display = ("release", "position", "name", "kind", "status", "planned_start", "planned_end")
    list_filter = ("kind", "status")
    search_fields = ("name", "release__name")


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ("release", "name", "kind", "planned_date", "actual_date")
    list_filter = ("kind",)
    search_fields = ("name", "release__name")


@admin.register(Gate)
class GateAdmin(ReadOnlyAdmin):
    list_display = ("release", "name", "blocks", "due_date", "status")
    list_filter = ("status", "blocks")
    search_fields = ("name", "release__name")


@admin.register(GateCriterion)
class GateCriterionAdmin(ReadOnlyAdmin):
    list_display = ("gate", "position", "kind", "text", "is_met")
    list_filter = ("kind", "is_met")


@admin.register(GateApproval)
class GateApprovalAdmin(ReadOnlyAdmin):
    list_display = ("gate", "role", "approver", "decision", "decided_at")
    list_filter = ("decision", "role")


@admin.register(FreezeWindow)
class FreezeWindowAdmin(ReadOnlyAdmin):
    list_display = ("name", "category", "scope", "starts_on", "ends_on", "recurrence", "recurs_until")
    list_filter = ("category", "scope", "recurrence")
    search_fields = ("name",)
