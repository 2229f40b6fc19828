"""Browse-only admin pages: environments are changed through the app's pages and API (audited)."""

from django.contrib import admin

from launchdeck.core.admin import ReadOnlyAdmin
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
)


@admin.register(EnvironmentGroup)
class EnvironmentGroupAdmin(ReadOnlyAdmin):
    search_fields = ["name"]


@admin.register(Environment)
class EnvironmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "environment_type", "category", "status", "capacity", "owner_team"]
    list_filter = ["environment_type", "category", "status"]
    search_fields = ["name"]


@admin.register(EnvironmentComponent)
class EnvironmentComponentAdmin(ReadOnlyAdmin):
    list_display = ["environment", "system", "version"]
    raw_id_fields = ["environment", "system", "component"]


@admin.register(EnvironmentBooking)
class EnvironmentBookingAdmin(ReadOnlyAdmin):
    list_display = ["environment", "starts_at", "ends_at", "usage", "status"]
    list_filter = ["status", "usage"]
    raw_id_fields = ["environment", "requester", "team", "release", "phase", "decided_by"]


@admin.register(EnvironmentRequest)
class EnvironmentRequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "status", "team", "due_on"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["environment", "release", "phase", "team", "requester"]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ["system", "version", "environment", "deployed_at", "outcome"]
    list_filter = ["outcome", "source"]
    raw_id_fields = ["system", "environment", "release", "recorded_by"]
