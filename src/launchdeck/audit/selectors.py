"""Reading the audit trail."""

import datetime

from django.db.models import Model, QuerySet

from launchdeck.audit.models import AuditEvent


def audit_event_list(
    *,
    user,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    event_type: str | None = None,
    source: str | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """Audit events `user` may read, newest first, filtered by object, actor (username), type, source and time.

    `event_type` ending in `.` or naming only an entity (`user`) matches every event of that entity.
    """
    events = AuditEvent.objects.restrict(user, "view").select_related("actor")
    if object_type:
        events = events.filter(object_type=object_type.lower())
    if object_id:
        events = events.filter(object_id=object_id)
    if actor:
        events = events.filter(actor_name=actor)
    if event_type:
        events = (
            events.filter(event_type=event_type)
            if "." in event_type.rstrip(".")
            else events.filter(event_type__startswith=event_type.rstrip(".") + ".")
        )
    if source:
        events = events.filter(source=source)
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    return events


def audit_event_history(*, user, obj: Model, limit: int = 200) -> list[AuditEvent]:
    """The history of one object as `user` may see it: the History tab of every object page."""
    return list(audit_event_list(user=user, object_type=obj._meta.label_lower, object_id=str(obj.pk))[:limit])
