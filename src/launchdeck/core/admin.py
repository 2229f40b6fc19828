from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Admin pages that browse data without changing it: every change goes through the services, and so is audited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
