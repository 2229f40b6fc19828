from django.contrib import admin

from launchdeck.core.admin import ReadOnlyAdmin
from launchdeck.integrations.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "file_format", "status", "created_by", "created_at", "applied_at")
    list_filter = ("status", "file_format")
    exclude = ("content",)
