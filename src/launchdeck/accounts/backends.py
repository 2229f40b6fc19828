from launchdeck.accounts.roles import roles_grant


class RoleBackend:
    """Django authentication backend: signs users in by password, answers `has_perm` from the role table."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from launchdeck.accounts.models import User

        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            User().set_password(password)  # same work as a real check, so timing does not reveal usernames
            return None
        if user.check_password(password) and user.is_active:
            return user
        return None

    def get_user(self, user_id):
        from launchdeck.accounts.models import User

        user = User._default_manager.filter(pk=user_id, is_active=True).first()
        return user

    def has_perm(self, user_obj, perm, obj=None):
        if not user_obj.is_active or not user_obj.is_authenticated:
            return False
        if user_obj.is_superuser:
            return True
        return roles_grant(user_obj.roles, perm)

    def has_module_perms(self, user_obj, app_label):
        return self.has_perm(user_obj, f"{app_label}.view_*") or self.has_perm(user_obj, f"{app_label}.*")
