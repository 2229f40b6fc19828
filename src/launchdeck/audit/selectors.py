"""Reading the audit trail."""

import datetime

from django.db.models import Count, Model, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

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


def audit_activity_by_day(*, user, days: int = 30, **filters) -> dict:
    """Changes per calendar day (UTC) over the last `days` days, split by source: one query, for the chart."""
    today = timezone.now().date()
    first = today - datetime.timedelta(days=days - 1)
    since = datetime.datetime.combine(first, datetime.time.min, tzinfo=datetime.UTC)
    rows = (
        audit_event_list(user=user, since=since, **filters)
        .annotate(day=TruncDate("occurred_at", tzinfo=datetime.UTC))
        .order_by()
        .values("day", "source")
        .annotate(count=Count("id"))
    )
    labels = [first + datetime.timedelta(days=offset) for offset in range(days)]
    index = {day: position for position, day in enumerate(labels)}
    series: dict[str, list[int]] = {}
    for row in rows:
        counts = series.setdefault(row["source"], [0] * days)
        if row["day"] in index:
            counts[index[row["day"]]] += row["count"]
    return {"days": [day.isoformat() for day in labels], "series": series}
