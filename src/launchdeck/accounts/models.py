from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property

from launchdeck.accounts.roles import Role
from launchdeck.core.models import BaseModel, RestrictedQuerySet


class UserQuerySet(RestrictedQuerySet):
    pass


class LaunchdeckUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person who signs in to Launchdeck; what they may do comes from their roles."""

    version = models.PositiveIntegerField(default=1)

    objects = LaunchdeckUserManager()

    class Meta:
        ordering = ["username"]

    @cached_property
    def roles(self) -> list[str]:
        """The user's role codes, in the order of the role table."""
        if self.pk is None:
            return []
        held = {assignment.role for assignment in self.role_assignments.all()}
        return [role for role in Role.values if role in held]

    @property
    def role_labels(self) -> list[str]:
        """The user's roles as people read them ("Release manager")."""
        return [Role(role).label for role in self.roles]

    @property
    def primary_role(self) -> str | None:
        """The role whose home page the user sees first."""
        return self.roles[0] if self.roles else None

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class RoleAssignment(models.Model):
    """One role held by one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="accounts_roleassignment_unique")]

    def __str__(self):
        return f"{self.user} as {self.get_role_display()}"


class ApiTokenQuerySet(RestrictedQuerySet):
    def active(self):
        """Tokens that still authenticate: not revoked and not expired.

        `services.api_token_authenticate` states the same condition in its one SQL query (every machine call takes
        that path); `accounts/tests` check both against the same revoked, expired and live tokens."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(BaseModel):
    """A bearer token for machines. Only a SHA-256 digest is stored; the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a token in lists.")
    digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"

    @classmethod
    def restrict_scope(cls, queryset, user, action):
        """People see and revoke their own tokens; user administrators see everyone's."""
        if user.has_perm("accounts.change_user"):
            return queryset
        return queryset.filter(user=user)
