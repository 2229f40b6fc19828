from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group

from launchdeck.accounts.models import ApiToken, RoleAssignment, User
from launchdeck.core.admin import ReadOnlyAdmin


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    """Users are created and changed on the People and roles page (audited); the admin only browses them."""

    list_display = ("username", "first_name", "last_name", "email", "is_active", "last_login")
    list_filter = ("is_active", "role_assignments__role")
    search_fields = ("username", "first_name", "last_name", "email")
    exclude = ("password", "user_permissions", "groups")
    inlines = [RoleAssignmentInline]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    exclude = ("digest",)


def lock_down_third_party_admin() -> None:
    """Make the admin pages of Django's groups and the login-throttling records browse-only.

    Called from the URL configuration, after every app's admin module has registered its models. Roles replace
    groups, and unlocking a user goes through the audited `user_unlock` service, not a silent delete here.
    """
    if admin.site.is_registered(Group):
        admin.site.unregister(Group)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, ReadOnlyAdmin)
