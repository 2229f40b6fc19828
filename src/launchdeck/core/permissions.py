"""Permission checks for services. The rules themselves are the role table behind `user.has_perm`."""

from launchdeck.core.errors import NotAuthenticated, PermissionDenied


def require_perm(actor, permission: str, obj=None) -> None:
    """Refuse `actor` unless they may do `permission`. `None` is the trusted operator (CLI, jobs) and may."""
    if actor is None:
        return
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if not actor.is_active or not actor.has_perm(permission, obj):
        raise PermissionDenied(f"Your role does not allow this ({permission}).")
