"""The environment request pages: list, detail with its actions, form, a team's load, and the environment fragment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from launchdeck.core.errors import DomainError
from launchdeck.core.forms import without_version
from launchdeck.core.ui import PAGE_SIZE, form_page, parse_id
from launchdeck.environments import selectors, services
from launchdeck.environments.choices import OPEN_REQUEST_STATUSES, MaskingStatus, RequestStatus
from launchdeck.environments.forms import (
    CLOSED_RELEASE_STATUSES,
    EnvironmentRequestFilterForm,
    EnvironmentRequestForm,
    RequestNoteForm,
    TeamLoadForm,
)
from launchdeck.environments.models import Environment
from launchdeck.org.models import Team
from launchdeck.releases.models import Phase, Release

COMMITTED, OVER, CAPACITY = "#0d6efd", "#dc3545", "#212529"
STATUS_BADGES = {
    RequestStatus.REQUESTED: "text-bg-secondary",
    RequestStatus.IN_PROGRESS: "text-bg-primary",
    RequestStatus.DONE: "text-bg-success",
    RequestStatus.CANCELLED: "text-bg-light border",
}
MASKING_PENDING_NOTE = (
    "This refresh copies data into a non-production environment: record the masking of personal data before "
    "completing it."
)


def _teams(user):
    return Team.objects.restrict(user, "view").order_by("name")


def _with_badges(requests, today):
    for request in requests:
        request.badge = STATUS_BADGES.get(request.status, "text-bg-light")
        request.is_overdue = selectors.request_is_overdue(request, today)
    return requests


@login_required
def request_list(request):
    """Environment requests by due date, filtered by kind, status, team or a search."""
    filters = EnvironmentRequestFilterForm(request.GET or None, teams=_teams(request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    status = data.get("status") or None
    team = data.get("team")
    requests = selectors.environment_request_list(
        user=request.user,
        search=data.get("q"),
        kind=data.get("kind") or None,
        status=None if status == "open" else status,
        open_only=status == "open",
        team=team.pk if team else None,
        environment=parse_id(request.GET.get("environment", "")),
        release=parse_id(request.GET.get("release", "")),
    )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_badges(page.object_list, timezone.localdate())
    context = {
        "page": page,
        "filters": filters,
        "create_url": reverse("environments:request_create")
        if request.user.has_perm("environments.add_environmentrequest")
        else None,
    }
    template = "environments/partials/_request_table.html" if request.htmx else "environments/request_list.html"
    return render(request, template, context)


def _actions(user, environment_request) -> list[dict]:
    """The moves the user may make now, as buttons: the rules themselves stay in the services."""
    fulfils = user.has_perm(services.FULFIL_REQUEST)
    status = environment_request.status
    actions = []
    if fulfils and status == RequestStatus.REQUESTED:
        actions.append({"name": "start", "label": "Start work", "style": "btn-primary", "note": False})
    if fulfils and status in OPEN_REQUEST_STATUSES and environment_request.masking == MaskingStatus.PENDING:
        actions.append({"name": "mask_done", "label": "Masking done", "style": "btn-outline-primary", "note": False})
    if fulfils and status in OPEN_REQUEST_STATUSES:
        actions.append({"name": "complete", "label": "Complete", "style": "btn-success", "note": True})
    if user.has_perm("environments.change_environmentrequest") and status in OPEN_REQUEST_STATUSES:
        actions.append({"name": "cancel", "label": "Cancel the request", "style": "btn-outline-danger", "note": True})
    for action in actions:
        action["url"] = reverse(f"environments:request_{action['name']}", args=[environment_request.pk])
    return actions


@login_required
def request_detail(request, pk: int):
    """One request: what, for which phase, by when, its masking step and the moves open to the user."""
    environment_request = selectors.environment_request_get(user=request.user, pk=pk)
    _with_badges([environment_request], timezone.localdate())
    may_change = request.user.has_perm("environments.change_environmentrequest")
    return render(
        request,
        "environments/request_detail.html",
        {
            "object": environment_request,
            "object_type": environment_request._meta.label_lower,
            "actions": _actions(request.user, environment_request),
            "actions_intro": MASKING_PENDING_NOTE if environment_request.masking == MaskingStatus.PENDING else "",
            "note_form": RequestNoteForm(),
            "edit_url": reverse("environments:request_edit", args=[pk])
            if may_change and environment_request.status in OPEN_REQUEST_STATUSES
            else None,
            "load_url": reverse("environments:team_load") + f"?team={environment_request.team_id}",
        },
    )


def _request_form(request, *, initial=None, editing=False):
    user = request.user
    return EnvironmentRequestForm(
        request.POST or None,
        initial=initial,
        editing=editing,
        teams=_teams(user),
        environments=Environment.objects.restrict(user, "view").order_by("name"),
        phases=Phase.objects.restrict(user, "view")
        .exclude(release__status__in=CLOSED_RELEASE_STATUSES)
        .select_related("release")
        .order_by("release__name", "planned_start", "pk"),
        releases=Release.objects.restrict(user, "view").exclude(status__in=CLOSED_RELEASE_STATUSES).order_by("name"),
    )


def _prefill(request) -> dict:
    """Initial values from the address (`?environment=&phase=&kind=`), e.g. from an environment's page."""
    initial = {}
    for name in ("environment", "phase", "release", "team"):
        pk = parse_id(request.GET.get(name, ""))
        if pk:
            initial[name] = pk
    if request.GET.get("kind"):
        initial["kind"] = request.GET["kind"]
    return initial


@login_required
@permission_required("environments.add_environmentrequest", raise_exception=True)
def request_create(request):
    """Ask a team for environment work."""

    def save(data):
        data = without_version(data)
        return services.environment_request_create(actor=request.user, **data)

    return form_page(
        request,
        form=_request_form(request, initial=_prefill(request)),
        title="New environment request",
        save=save,
        success="The request {object} is recorded.",
        cancel_url=reverse("environments:request_list"),
        template="environments/request_form.html",
    )


@login_required
@permission_required("environments.change_environmentrequest", raise_exception=True)
def request_edit(request, pk: int):
    """Change an open request; its dates follow its phase or due date and its SLA."""
    environment_request = selectors.environment_request_get(user=request.user, pk=pk)
    initial = {
        "version": environment_request.version,
        "title": environment_request.title,
        "team": environment_request.team_id,
        "environment": environment_request.environment_id,
        "environment_type": environment_request.environment_type,
        "phase": environment_request.phase_id,
        "release": environment_request.release_id,
        "due_on": None if environment_request.phase_id else environment_request.due_on,
        "effort_hours": environment_request.effort_hours,
        "sla_days": environment_request.sla_days,
        "description": environment_request.description,
    }

    def save(data):
        if data.get("phase") is None and data.get("due_on") is None:
            data["due_on"] = environment_request.due_on  # no phase any more: keep the date it had
        return services.environment_request_update(actor=request.user, request=environment_request, **data)

    return form_page(
        request,
        form=_request_form(request, initial=initial, editing=True),
        title=f"Edit {environment_request}",
        save=save,
        success="The request {object} is saved.",
        cancel_url=environment_request.get_absolute_url(),
        template="environments/request_form.html",
    )


def _act(request, pk: int, action, success: str):
    environment_request = selectors.environment_request_get(user=request.user, pk=pk)
    try:
        action(environment_request)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success.format(object=environment_request))
    return redirect(environment_request.get_absolute_url())


def _note(request) -> str:
    form = RequestNoteForm(request.POST)
    return form.cleaned_data.get("note", "") if form.is_valid() else ""


@login_required
@require_POST
@permission_required(services.FULFIL_REQUEST, raise_exception=True)
def request_start(request, pk: int):
    """The team starts the work."""
    return _act(
        request,
        pk,
        lambda item: services.environment_request_start(actor=request.user, request=item),
        "Work on {object} has started.",
    )


@login_required
@require_POST
@permission_required(services.FULFIL_REQUEST, raise_exception=True)
def request_mask_done(request, pk: int):
    """The refreshed data is masked."""
    return _act(
        request,
        pk,
        lambda item: services.environment_request_mask_done(actor=request.user, request=item),
        "The data of {object} is masked.",
    )


@login_required
@require_POST
@permission_required(services.FULFIL_REQUEST, raise_exception=True)
def request_complete(request, pk: int):
    """The work is done."""
    return _act(
        request,
        pk,
        lambda item: services.environment_request_complete(actor=request.user, request=item, note=_note(request)),
        "{object} is done.",
    )


@login_required
@require_POST
@permission_required("environments.change_environmentrequest", raise_exception=True)
def request_cancel(request, pk: int):
    """Withdraw the request."""
    return _act(
        request,
        pk,
        lambda item: services.environment_request_cancel(actor=request.user, request=item, note=_note(request)),
        "{object} is cancelled.",
    )


def _load_chart(load: dict) -> dict:
    """Committed person-days per week as bars (the part over capacity in red) with the capacity as a line."""
    capacity = float(load["capacity"])
    within = [min(float(week["committed"]), capacity) for week in load["weeks"]]
    over = [max(float(week["committed"]) - capacity, 0) for week in load["weeks"]]
    return {
        "kind": "combo",
        "categories": [week["week"] for week in load["weeks"]],
        "series": [
            {"name": "Committed within capacity", "data": within, "stack": "committed", "color": COMMITTED},
            {"name": "Over capacity", "data": over, "stack": "committed", "color": OVER},
            {"name": "Capacity", "data": [capacity] * len(load["weeks"]), "type": "line", "color": CAPACITY},
        ],
    }


@login_required
def team_load(request):
    """A team's committed effort on open environment requests per week, against its capacity."""
    teams = _teams(request.user)
    form = TeamLoadForm(request.GET or None, teams=teams)
    load = chart = None
    status = 200
    if form.is_bound and form.is_valid():
        try:
            load = selectors.team_environment_load(
                user=request.user,
                team=form.cleaned_data["team"],
                start=form.cleaned_data.get("start"),
                weeks=form.cleaned_data.get("weeks") or 12,
            )
        except DomainError as exc:
            form.add_error(None, exc.detail)
            status = 422
        else:
            chart = _load_chart(load)
    elif form.is_bound:
        status = 422
    return render(request, "environments/team_load.html", {"form": form, "load": load, "chart": chart}, status=status)


@login_required
def environment_requests_panel(request, pk: int) -> HttpResponse:
    """The environment page's fragment: the work requested on this environment, open requests first."""
    environment = Environment.objects.restrict(request.user, "view").get_visible(pk=pk)
    requests = list(selectors.environment_request_list(user=request.user, environment=environment.pk)[:50])
    requests.sort(key=lambda item: (item.status not in OPEN_REQUEST_STATUSES, item.due_on, item.pk))
    _with_badges(requests, timezone.localdate())
    create_url = None
    if request.user.has_perm("environments.add_environmentrequest"):
        create_url = reverse("environments:request_create") + f"?environment={environment.pk}"
    return render(
        request,
        "environments/partials/_environment_requests.html",
        {"environment": environment, "requests": requests, "create_url": create_url},
    )
