"""Base model and queryset shared by every domain app."""

from django.db import models
from django.db.models import F

from launchdeck.core.errors import NotFound, StaleVersion


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can narrow itself to what a user may see or do (NetBox's `restrict`)."""

    def restrict(self, user, action: str = "view") -> "RestrictedQuerySet":
        """Only the rows `user` may perform `action` on.

        The model-level permission `<app>.<action>_<model>` decides first (the role table, through the
        authentication backend); a model may narrow further with a `restrict_scope(queryset, user, action)`
        classmethod, for example to the user's own rows.

        `None` is the trusted operator (a command run on the server, a job), as in `require_perm`: it sees all.
        """
        if user is None:
            return self
        if not user.is_authenticated or not user.is_active:
            return self.none()
        meta = self.model._meta
        if not user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"):
            return self.none()
        scope = getattr(self.model, "restrict_scope", None)
        return scope(self, user, action) if scope else self

    def get_visible(self, **lookup):
        """One row, or `NotFound` — for rows that do not exist and rows the caller may not see alike."""
        try:
            return self.get(**lookup)
        except self.model.DoesNotExist:
            raise NotFound(f"{self.model._meta.verbose_name.capitalize()} not found.") from None


class BaseModel(models.Model):
    """Timestamps and an edit version; every domain model derives from this."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, help_text="Incremented on every edit; stale edits are refused.")

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True


def bump_version(instance: BaseModel, expected_version: int | None) -> None:
    """Claim the next version of `instance` in the database, or raise `StaleVersion` if someone else did first.

    Call inside the service's transaction before saving the changed fields; the conditional UPDATE makes
    two concurrent edits of the same version serialise, and the second one fails.
    """
    model = type(instance)
    expected = instance.version if expected_version is None else expected_version
    claimed = model._default_manager.filter(pk=instance.pk, version=expected).update(version=F("version") + 1)
    if not claimed:
        current = model._default_manager.filter(pk=instance.pk).values_list("version", flat=True).first()
        if current is None:
            raise NotFound(f"{model._meta.verbose_name.capitalize()} not found.")
        raise StaleVersion(expected=expected, current=current)
    instance.version = expected + 1
