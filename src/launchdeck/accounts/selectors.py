"""Reading users and API tokens."""

from django.db.models import Count, Prefetch, Q, QuerySet

from launchdeck.accounts.models import ApiToken, RoleAssignment, User
from launchdeck.core.errors import ValidationFailed


def user_list(
    *, user, search: str | None = None, role: str | None = None, is_active: bool | None = None
) -> QuerySet[User]:
    """Users `user` may see, with their roles prefetched (two queries for any page)."""
    users = User.objects.restrict(user, "view").prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.order_by("role"))
    )
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    if role:
        users = users.filter(role_assignments__role=role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    return users.distinct()


def user_get(*, user, username: str) -> User:
    """One user by username, or NotFound."""
    return user_list(user=user).get_visible(username=username)


def user_named(*, viewer, username: str | None, field: str) -> User | None:
    """The user an input field names by username, among those `viewer` may see; None for no name; a 422 on `field`
    for a name that matches no one."""
    if not username:
        return None
    found = User.objects.restrict(viewer).filter(username=username).first()
    if found is None:
        raise ValidationFailed.field(field, f"No user named {username!r}.")
    return found


def users_by_role(*, user) -> dict[str, int]:
    """How many active users hold each role."""
    if not user.has_perm("accounts.view_user"):
        return {}
    rows = (
        RoleAssignment.objects.filter(user__is_active=True).values("role").annotate(count=Count("id")).order_by("role")
    )
    return {row["role"]: row["count"] for row in rows}


def api_token_list(*, user, owner: User | None = None, state: str | None = None) -> QuerySet[ApiToken]:
    """Tokens `user` may see (their own; everyone's for user administrators)."""
    tokens = ApiToken.objects.restrict(user, "view").select_related("user")
    if owner is not None:
        tokens = tokens.filter(user=owner)
    if state == "active":
        tokens = tokens.active()
    elif state == "revoked":
        tokens = tokens.filter(revoked_at__isnull=False)
    return tokens


def api_token_get(*, user, token_id: int, action: str = "view") -> ApiToken:
    """One token `user` may see (or act on), or NotFound — never a hint that someone else's token exists."""
    return ApiToken.objects.restrict(user, action).select_related("user").get_visible(pk=token_id)


def user_failed_logins(*, user, subject: User) -> int:
    """How many failed sign-in attempts are held against `subject` (what locks them out), for administrators."""
    if not user.has_perm("accounts.change_user"):
        return 0
    from axes.models import AccessAttempt

    return sum(AccessAttempt.objects.filter(username=subject.username).values_list("failures_since_start", flat=True))
