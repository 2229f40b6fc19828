"""Every write to users, roles and API tokens.

`actor` is the signed-in user making the change, or None for the trusted operator (a CLI command run on the
server, the demo loader); the operator is named by the open `audit_context()`.
"""

import datetime
import hashlib
import secrets

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connections, transaction
from django.db.models import Q
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


def _token_sql(connection) -> str:
    """The one query of a bearer token's check: the user's columns, one row per role held, and whether the token's
    last use is older than a minute; only for a token that is not revoked and not expired (the rule of
    `ApiToken.objects.active()`, written out here in SQL)."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(field.column)}" for field in User._meta.concrete_fields)
    return (
        f"SELECT {columns}, t.id AS token_id, r.role AS held_role, "
        "CASE WHEN t.last_used_at IS NULL OR t.last_used_at < %s THEN 1 ELSE 0 END AS token_stale "
        f"FROM {quote(ApiToken._meta.db_table)} t JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {quote(RoleAssignment._meta.db_table)} r ON r.user_id = u.id "
        "WHERE t.digest = %s AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s)"
    )


def api_token_authenticate(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None for an unknown, expired or revoked token.

    Every API call of a machine comes this way, so it is one plain SQL query (the ORM's building of the same
    queries cost ten times the query itself): the token, its user and the user's roles, which fill `User.roles` for
    this request's user object. The token's last use is written at most once a minute, by a conditional UPDATE, so
    that many processes serving one pipeline do not all write it.
    """
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = timezone.now()
    minute_ago = now - datetime.timedelta(minutes=1)
    connection = connections[User.objects.db]
    adapt = connection.ops.adapt_datetimefield_value
    rows = list(User.objects.raw(_token_sql(connection), [adapt(minute_ago), token_digest(raw), adapt(now)]))
    if not rows or not rows[0].is_active:
        return None
    user = rows[0]
    held = {row.held_role for row in rows}
    user.__dict__["roles"] = [role for role in Role.values if role in held]
    if user.token_stale:
        ApiToken.objects.filter(pk=user.token_id).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=minute_ago)
        ).update(last_used_at=now)
    return user


@transaction.atomic
def user_unlock(*, actor: User | None, user: User) -> int:
    """Clear the failed sign-in attempts that lock `user` out; returns how many records were cleared."""
    require_perm(actor, "accounts.change_user", user)
    from axes.utils import reset

    cleared = reset(username=user.username)
    audit_record(actor, "user.unlocked", user, new={"failed_attempt_records_cleared": cleared})
    return cleared
