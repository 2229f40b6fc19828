"""The deployment pages: the history list, the form to record one, the version matrix, and the environment fragment."""

import datetime

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from launchdeck.catalog.models import System
from launchdeck.core.ui import PAGE_SIZE, form_page, parse_id
from launchdeck.environments import selectors, services
from launchdeck.environments.choices import DeploymentOutcome, EnvironmentStatus
from launchdeck.environments.forms import DeploymentFilterForm, DeploymentForm, VersionMatrixFilterForm
from launchdeck.environments.models import Environment, EnvironmentGroup
from launchdeck.releases.models import Release

OUTCOME_BADGES = {
    DeploymentOutcome.SUCCEEDED: "text-bg-success",
    DeploymentOutcome.FAILED: "text-bg-danger",
    DeploymentOutcome.ROLLED_BACK: "text-bg-warning",
}
MATRIX_ROWS_PER_PAGE = 50


def _choices(user):
    """The environments, systems and releases a user may pick, for the filters and the form."""
    return {
        "environments": Environment.objects.restrict(user, "view").order_by("name"),
        "systems": System.objects.restrict(user, "view").order_by("name"),
        "releases": Release.objects.restrict(user, "view").order_by("-planned_start", "name"),
    }


def _with_badges(deployments):
    for deployment in deployments:
        deployment.badge = OUTCOME_BADGES.get(deployment.outcome, "text-bg-light")
    return deployments


def _day_start(day: datetime.date | None) -> datetime.datetime | None:
    return selectors.day_start(day) if day else None


@login_required
def deployment_list(request):
    """Deployments, newest first, filtered by environment, system, release, outcome, source, dates or a search."""
    filters = DeploymentFilterForm(request.GET or None, **_choices(request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    until = data.get("until")
    deployments = selectors.deployment_list(
        user=request.user,
        environment=data["environment"].pk if data.get("environment") else None,
        system=data["system"].pk if data.get("system") else None,
        release=data["release"].pk if data.get("release") else None,
        outcome=data.get("outcome") or None,
        source=data.get("source") or None,
        since=_day_start(data.get("since")),
        until=_day_start(until + datetime.timedelta(days=1)) if until else None,
        search=data.get("q") or None,
    )
    page = Paginator(deployments, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_badges(page.object_list)
    context = {
        "page": page,
        "filters": filters,
        "create_url": reverse("environments:deployment_create")
        if request.user.has_perm("environments.add_deployment")
        else None,
    }
    template = "environments/partials/_deployment_table.html" if request.htmx else "environments/deployment_list.html"
    return render(request, template, context)


@login_required
@permission_required("environments.add_deployment", raise_exception=True)
def deployment_create(request):
    """Record a deployment by hand; `?environment=&system=` prefill the form."""
    choices = _choices(request.user)
    choices["environments"] = choices["environments"].exclude(status=EnvironmentStatus.DECOMMISSIONED)
    initial = {
        "environment": parse_id(request.GET.get("environment", "")),
        "system": parse_id(request.GET.get("system", "")),
    }
    form = DeploymentForm(request.POST or None, initial=initial, **choices)
    return form_page(
        request,
        form=form,
        title="Record a deployment",
        template="environments/deployment_form.html",
        save=lambda data: services.deployment_record(actor=request.user, **data),
        success="Deployment of {object} is recorded.",
        cancel_url=reverse("environments:deployment_list"),
    )


@login_required
def version_matrix(request):
    """Systems by environments with the version each runs; drift from production and a release's targets shown."""
    filters = VersionMatrixFilterForm(
        request.GET or None,
        groups=EnvironmentGroup.objects.restrict(request.user, "view").order_by("name"),
        releases=_choices(request.user)["releases"],
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    page_number = parse_id(request.GET.get("page", "")) or 1
    matrix = selectors.version_matrix(
        user=request.user,
        release=data.get("release"),
        environment_type=data.get("type") or None,
        group=data["group"].pk if data.get("group") else None,
        drift_only=bool(data.get("drift_only")),
        limit=MATRIX_ROWS_PER_PAGE,
        offset=(page_number - 1) * MATRIX_ROWS_PER_PAGE,
    )
    pages = max(1, -(-matrix["system_count"] // MATRIX_ROWS_PER_PAGE))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "matrix": matrix,
        "release": data.get("release"),
        "page_number": page_number,
        "pages": pages,
        "query": query.urlencode(),
        "may_record": request.user.has_perm("environments.add_deployment"),
    }
    return render(request, "environments/version_matrix.html", context)


@login_required
def environment_deployments_panel(request, pk: int):
    """The environment page's fragment: its latest deployments and how they went."""
    environment = Environment.objects.restrict(request.user, "view").get_visible(pk=pk)
    history = selectors.deployment_history(user=request.user, environment=environment.pk, limit=10)
    _with_badges(history["deployments"])
    may_record = request.user.has_perm("environments.add_deployment")
    context = {
        "environment": environment,
        "history": history,
        "create_url": (reverse("environments:deployment_create") + f"?environment={environment.pk}")
        if may_record and environment.status != EnvironmentStatus.DECOMMISSIONED
        else None,
    }
    return render(request, "environments/partials/_environment_deployments.html", context)
