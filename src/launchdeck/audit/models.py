from django.conf import settings
from django.db import models

from launchdeck.audit.choices import AuditSource
from launchdeck.core.models import RestrictedQuerySet


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(RestrictedQuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only: they cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Audit events are append-only: they cannot be changed.")


class AuditEvent(models.Model):
    """One change to the plan, written by the service that made it, in the same transaction. Never altered."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The actor's username when it acted.")
    source = models.CharField(max_length=16, choices=AuditSource.choices)
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    event_type = models.CharField(max_length=80, db_index=True, help_text="<entity>.<past tense>, e.g. user.created")
    object_type = models.CharField(max_length=80, help_text="<app label>.<model name> of the changed object")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    old_data = models.JSONField(null=True, blank=True)
    new_data = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-occurred_at"], name="audit_object_idx"),
            models.Index(fields=["actor_name", "-occurred_at"], name="audit_actor_idx"),
        ]

    def __str__(self):
        return f"{self.event_type} {self.object_repr} by {self.actor_name or 'system'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Audit events are append-only: they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only: they cannot be deleted.")
