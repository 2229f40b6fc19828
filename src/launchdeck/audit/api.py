from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.pagination import paginate

from launchdeck.audit import selectors
from launchdeck.audit.choices import AuditSource
from launchdeck.audit.schemas import AuditEventOut
from launchdeck.core.api import MAX_ID, READ_RESPONSES, Pagination, UtcDatetime, apply_sort
from launchdeck.core.errors import ValidationFailed

router = Router(tags=["Audit trail"])

AUDIT_SORTS = {"occurred_at": "occurred_at", "event_type": "event_type", "actor": "actor_name"}


class AuditEventFilter(Schema):
    object_type: str | None = Field(None, max_length=80, description="`<app>.<model>`, e.g. `accounts.user`.")
    object_id: str | None = Field(None, max_length=64)
    actor: str | None = Field(None, max_length=150, description="The acting username (or operator).")
    event_type: str | None = Field(None, max_length=80, description="`user.created`, or `user` for all user events.")
    source: AuditSource | None = None
    since: UtcDatetime | None = Field(None, description="From this time on (ISO 8601 with a time zone).")
    until: UtcDatetime | None = Field(None, description="Before this time (ISO 8601 with a time zone).")
    sort: str | None = None


@router.get("/audit-events", response={200: list[AuditEventOut], **READ_RESPONSES}, operation_id="list_audit_events")
@paginate(Pagination)
def list_audit_events(request: HttpRequest, filters: Query[AuditEventFilter]):
    """The audit trail, newest first: every change, who made it, from where, and why."""
    if filters.since and filters.until and filters.until <= filters.since:
        raise ValidationFailed.field("until", "`until` must be after `since`.")
    events = selectors.audit_event_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(events, filters.sort, AUDIT_SORTS, "-occurred_at")


@router.get("/audit-events/{event_id}", response={200: AuditEventOut, **READ_RESPONSES}, operation_id="get_audit_event")
def get_audit_event(request: HttpRequest, event_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    return selectors.audit_event_list(user=request.auth).get_visible(pk=event_id)
