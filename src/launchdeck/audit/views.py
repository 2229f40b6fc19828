from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from launchdeck.audit import selectors
from launchdeck.audit.choices import AuditSource
from launchdeck.core.views import visible_object

PAGE_SIZE = 50


@require_GET
@login_required
def object_history(request, object_type: str, object_id: str):
    """The History tab of any object page (loaded with htmx), for objects the user may view."""
    obj = visible_object(request.user, object_type, object_id)
    events = selectors.audit_event_history(user=request.user, obj=obj)
    return render(request, "audit/partials/_history.html", {"events": events, "object": obj})


@require_GET
@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def audit_event_list(request):
    """The audit trail page: every change, filterable by type, actor and source."""
    filters = {
        key: request.GET.get(key, "").strip()[:150] or None
        for key in ("event_type", "actor", "source", "object_type", "object_id")
    }
    if filters["source"] not in AuditSource.values:
        filters["source"] = None
    events = selectors.audit_event_list(user=request.user, **filters)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "audit/partials/_event_table.html" if request.htmx else "audit/auditevent_list.html"
    context = {"page": page, "filters": filters, "sources": AuditSource.choices}
    if not request.htmx:
        activity = selectors.audit_activity_by_day(user=request.user, **filters)
        labels = dict(AuditSource.choices)
        context["activity_chart"] = {
            "kind": "stacked-bars",
            "categories": activity["days"],
            "series": [
                {"name": labels.get(source, source), "data": counts} for source, counts in activity["series"].items()
            ],
        }
    return render(request, template, context)
