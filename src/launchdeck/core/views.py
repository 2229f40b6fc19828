from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from launchdeck.core.registry import home_panels_for


@require_GET
@never_cache
def healthz(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """The process can reach its database; load balancers send traffic only when this says ready."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means not ready, whatever the driver raises
        return JsonResponse({"status": "unavailable", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ready", "database": "ok"})


@login_required
def home(request):
    """The signed-in user's home page: the panels for their roles, each with real data."""
    panels = [
        {"panel": panel, "template": panel.template, "context": panel.context(request.user)}
        for panel in home_panels_for(request.user)
    ]
    return render(request, "core/home.html", {"panels": panels})


def visible_object(user, object_type: str, object_id: str):
    """The object named by `<app>.<model>` and id if `user` may view it; otherwise 404, so nothing leaks."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        raise Http404("Unknown object type.") from None
    manager = model._default_manager
    queryset = manager.restrict(user, "view") if hasattr(manager, "restrict") else manager.none()
    field = getattr(model, "history_lookup_field", "pk")
    try:
        return queryset.get(**{field: object_id})
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404("Not found.") from None
