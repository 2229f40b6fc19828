from django.contrib import admin

from launchdeck.audit.models import AuditEvent
from launchdeck.core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "event_type", "object_repr", "actor_name", "source", "request_id")
    list_filter = ("source", "event_type")
    search_fields = ("event_type", "object_repr", "actor_name", "request_id", "object_id")
    date_hierarchy = "occurred_at"
