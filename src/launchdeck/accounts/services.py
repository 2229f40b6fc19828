"""Every write to users, roles and API tokens.

`actor` is the signed-in user making the change, or None for the trusted operator (a CLI command run on the
server, the demo loader); the operator is named by the open `audit_context()`.
"""

import datetime
import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Aggregate, CharField, OuterRef, Q, Subquery
from django.utils import timezone

from launchdeck.accounts.models import ApiToken, RoleAssignment, User
from launchdeck.accounts.roles import Role, is_valid_role
from launchdeck.audit.services import audit_record, changed_fields
from launchdeck.core.errors import Conflict, ValidationFailed
from launchdeck.core.models import bump_version
from launchdeck.core.permissions import require_perm

TOKEN_PREFIX = "ld_"
MAX_TOKEN_DAYS = 3650
USERNAME_MAX = 150


def _clean_roles(roles) -> list[str]:
    roles = list(dict.fromkeys(roles))
    unknown = [role for role in roles if not is_valid_role(role)]
    if unknown:
        raise ValidationFailed.field("roles", f"Unknown role {', '.join(unknown)}; roles are {', '.join(Role.values)}.")
    return roles


def _check_password(password: str, user: User, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), errors=[(field, message) for message in exc.messages]) from None


def _user_data(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "roles": list(user.roles),
    }


def _set_roles(user: User, roles: list[str]) -> None:
    RoleAssignment.objects.filter(user=user).exclude(role__in=roles).delete()
    existing = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
    RoleAssignment.objects.bulk_create([RoleAssignment(user=user, role=role) for role in roles if role not in existing])
    user.is_staff = Role.ADMIN in roles
    # Forget roles read earlier (a prefetch or the cached property), so the audit data and the response
    # describe the roles as they are now.
    getattr(user, "_prefetched_objects_cache", {}).pop("role_assignments", None)
    user.__dict__.pop("roles", None)


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    roles: list[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    """Create a user who can sign in with `password` and holds `roles`."""
    require_perm(actor, "accounts.add_user")
    username = username.strip()
    if not username:
        raise ValidationFailed.field("username", "A username is required.")
    if len(username) > USERNAME_MAX:
        raise ValidationFailed.field("username", f"A username has at most {USERNAME_MAX} characters.")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"A user named {username!r} already exists.", errors=[("username", "This username is taken.")])
    roles = _clean_roles(roles)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    _check_password(password, user)
    user.set_password(password)
    user.save()
    _set_roles(user, roles)
    user.save(update_fields=["is_staff"])
    audit_record(actor, "user.created", user, new=_user_data(user))
    return user


@transaction.atomic
def user_update(
    *,
    actor: User | None,
    user: User,
    version: int | None = None,
    roles: list[str] | None = None,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's details, roles or whether they may sign in; refused if `version` is stale."""
    require_perm(actor, "accounts.change_user", user)
    removes_own_admin = is_active is False or (roles is not None and Role.ADMIN not in roles)
    if actor is not None and actor.pk == user.pk and Role.ADMIN in user.roles and removes_own_admin:
        raise ValidationFailed.field("roles", "You cannot remove your own administrator role or deactivate yourself.")
    before = _user_data(user)
    bump_version(user, version)
    for field, value in (("email", email), ("first_name", first_name), ("last_name", last_name)):
        if value is not None:
            setattr(user, field, value)
    if is_active is not None:
        user.is_active = is_active
    if roles is not None:
        _set_roles(user, _clean_roles(roles))
    user.save()
    old, new = changed_fields(before, _user_data(user))
    audit_record(actor, "user.updated", user, old=old, new=new)
    return user


@transaction.atomic
def user_set_password(*, actor: User | None, user: User, password: str) -> None:
    """Set a new password: people may set their own, user administrators anyone's."""
    if actor is None or actor.pk != user.pk:
        require_perm(actor, "accounts.change_user", user)
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor, "user.password_changed", user)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, actor: User | None, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Create a bearer token for `user`; returns the token row and the token itself, which is never stored."""
    if actor is None or actor.pk != user.pk or not actor.has_perm("accounts.add_apitoken"):
        require_perm(actor, "accounts.change_user", user)
    if not user.is_active:
        raise ValidationFailed.field("user", "Tokens cannot be created for a deactivated user.")
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.field("name", "Give the token a name that says what it is for.")
    if len(name) > 100:
        raise ValidationFailed.field("name", "A token name has at most 100 characters.")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise ValidationFailed.field("expires_in_days", f"Expiry must be between 1 and {MAX_TOKEN_DAYS} days.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + datetime.timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:10], digest=token_digest(raw), expires_at=expires_at
    )
    audit_record(actor, "api_token.created", token, new={"user": user.username, "name": name, "expires_at": expires_at})
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: User | None, token: ApiToken, reason: str = "") -> ApiToken:
    """Revoke a token at once; a revoked token never authenticates again."""
    if actor is None or actor.pk != token.user_id:
        require_perm(actor, "accounts.change_user", token)
    else:
        require_perm(actor, "accounts.change_apitoken", token)
    if token.revoked_at is not None:
        raise Conflict("This token is already revoked.")
    bump_version(token, None)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "version", "updated_at"])
    audit_record(actor, "api_token.revoked", token, new={"revoked_at": token.revoked_at}, reason=reason)
    return token


class _RoleList(Aggregate):
    """The role codes of a user's assignments as one comma-separated text (to read them with the token)."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)


def api_token_authenticate(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown, expired or revoked token."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    # One query for the token, its user and the user's roles: every API call comes this way, so the roles are not
    # read again (`User.roles` is filled from the joined list; it lives as long as this request's user object).
    roles = RoleAssignment.objects.filter(user_id=OuterRef("user_id")).order_by().values("user_id")
    found = list(
        ApiToken.objects.active()
        .select_related("user")
        .annotate(role_list=Subquery(roles.annotate(names=_RoleList("role")).values("names")))
        .filter(digest=token_digest(raw))[:1]
    )
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    held = set((token.role_list or "").split(","))
    token.user.__dict__["roles"] = [role for role in Role.values if role in held]
    now = timezone.now()
    last_used = now - datetime.timedelta(minutes=1)
    if token.last_used_at is None or token.last_used_at < last_used:
        # At most one write a minute per token, also with many processes: the UPDATE itself checks the time.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=last_used)
        ).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_unlock(*, actor: User | None, user: User) -> int:
    """Clear the failed sign-in attempts that lock `user` out; returns how many records were cleared."""
    require_perm(actor, "accounts.change_user", user)
    from axes.utils import reset

    cleared = reset(username=user.username)
    audit_record(actor, "user.unlocked", user, new={"failed_attempt_records_cleared": cleared})
    return cleared
