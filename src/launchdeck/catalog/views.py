from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from launchdeck.catalog import selectors, services
from launchdeck.catalog.choices import Direction
from launchdeck.catalog.forms import ComponentForm, DependencyForm, SystemFilterForm, SystemForm
from launchdeck.catalog.models import System
from launchdeck.core.errors import DomainError, NotFound
from launchdeck.core.forms import without_version
from launchdeck.core.ui import Column, delete_page, detail_page, form_page, list_page
from launchdeck.org.models import Team

GRAPH_LEVELS = (1, 2, 3, 4)


def _teams(user):
    return Team.objects.restrict(user, "view").order_by("name")


@login_required
def system_list(request):
    filters = SystemFilterForm(request.GET or None, teams=_teams(request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    owner = data.get("owner_team")
    systems = selectors.system_list(
        user=request.user,
        search=data.get("q"),
        owner_team=owner.pk if owner else None,
        tier=data.get("tier") or None,
        lifecycle=data.get("lifecycle") or None,
    )
    return list_page(
        request,
        title="Systems",
        intro="The applications and services the organisation runs, who owns them, and how they depend on each other.",
        queryset=systems,
        columns=[
            Column("Name", lambda s: s.name, link=True),
            Column("Tier", lambda s: s.tier, numeric=True),
            Column("Kind", lambda s: s.get_kind_display()),
            Column("Lifecycle", lambda s: s.get_lifecycle_display()),
            Column("Owner team", lambda s: s.owner_team),
            Column("Depends on", lambda s: s.dependency_count, numeric=True),
            Column("Depended on by", lambda s: s.dependent_count, numeric=True),
        ],
        filters=filters,
        create_url=reverse("catalog:system_create") if request.user.has_perm("catalog.add_system") else None,
    )


@login_required
def system_detail(request, pk: int):
    system = selectors.system_get(user=request.user, pk=pk)
    try:
        levels = int(request.GET.get("levels", 2))
    except ValueError:
        levels = 2
    levels = levels if levels in GRAPH_LEVELS else 2
    graph = selectors.system_neighbourhood(user=request.user, system=system, levels=levels)
    downstream = selectors.system_closure(user=request.user, system=system, direction=Direction.DOWNSTREAM)
    names = {system.pk: system.name, **{row["id"]: row["name"] for row in downstream}}
    for row in downstream:
        row["path_names"] = [names[step] for step in row["path"]]
    may_change = request.user.has_perm("catalog.change_system")
    may_delete = request.user.has_perm("catalog.delete_system")
    return detail_page(
        request,
        obj=system,
        template="catalog/system_detail.html",
        list_url=reverse("catalog:system_list"),
        list_title="Systems",
        fields=[
            ("Kind", system.get_kind_display()),
            ("Criticality", system.get_tier_display()),
            ("Lifecycle", system.get_lifecycle_display()),
            ("Owner team", system.owner_team),
            ("External ids", ", ".join(f"{k}: {v}" for k, v in system.external_ids.items()) or None),
            ("Description", system.description),
        ],
        edit_url=reverse("catalog:system_edit", args=[pk]) if may_change else None,
        delete_url=reverse("catalog:system_delete", args=[pk]) if may_delete else None,
        graph={"kind": "dependency-graph", "title": f"Dependencies of {system.name}", "centre": system.pk, **graph},
        levels=levels,
        level_choices=GRAPH_LEVELS,
        dependencies=selectors.dependency_list(user=request.user, source=system.pk).order_by("target__name"),
        dependents=selectors.dependency_list(user=request.user, target=system.pk).order_by("source__name"),
        downstream=downstream,
        components=selectors.component_list(user=request.user, system=system.pk),
        dependency_form=(
            DependencyForm(systems=System.objects.restrict(request.user).exclude(pk=system.pk).order_by("name"))
            if request.user.has_perm("catalog.add_systemdependency")
            else None
        ),
        component_form=ComponentForm() if request.user.has_perm("catalog.add_component") else None,
    )


def _system_form(request, initial=None):
    return SystemForm(request.POST or None, initial=initial, teams=_teams(request.user))


@login_required
@permission_required("catalog.add_system", raise_exception=True)
def system_create(request):
    return form_page(
        request,
        form=_system_form(request),
        title="New system",
        save=lambda data: services.system_create(actor=request.user, **without_version(data)),
        success="System {object} is added to the catalogue.",
        cancel_url=reverse("catalog:system_list"),
    )


@login_required
@permission_required("catalog.change_system", raise_exception=True)
def system_edit(request, pk: int):
    system = selectors.system_get(user=request.user, pk=pk)
    initial = {
        "version": system.version,
        "name": system.name,
        "kind": system.kind,
        "owner_team": system.owner_team_id,
        "tier": system.tier,
        "lifecycle": system.lifecycle,
        "description": system.description,
        "external_ids": system.external_ids,
    }
    return form_page(
        request,
        form=_system_form(request, initial),
        title=f"Edit {system}",
        save=lambda data: services.system_update(actor=request.user, system=system, **data),
        success="System {object} is saved.",
        cancel_url=system.get_absolute_url(),
    )


@login_required
@permission_required("catalog.delete_system", raise_exception=True)
def system_delete(request, pk: int):
    system = selectors.system_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=system,
        delete=lambda: services.system_delete(actor=request.user, system=system),
        done_url=reverse("catalog:system_list"),
        cancel_url=system.get_absolute_url(),
    )


def _apply(request, action, success: str) -> None:
    try:
        action()
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success)


@login_required
@require_POST
@permission_required("catalog.add_systemdependency", raise_exception=True)
def dependency_add(request, pk: int):
    system = selectors.system_get(user=request.user, pk=pk)
    # Any visible system is accepted here so that the service's own rule explains a dependency on itself.
    form = DependencyForm(request.POST, systems=System.objects.restrict(request.user))
    if form.is_valid():
        _apply(
            request,
            lambda: services.dependency_create(actor=request.user, source=system, **form.cleaned_data),
            f"{system} now depends on {form.cleaned_data['target']}.",
        )
    else:
        messages.error(request, "Choose the system it depends on, the interface and the criticality.")
    return redirect(system.get_absolute_url())


@login_required
@require_POST
@permission_required("catalog.delete_systemdependency", raise_exception=True)
def dependency_remove(request, pk: int, dependency_id: int):
    system = selectors.system_get(user=request.user, pk=pk)
    dependency = selectors.dependency_list(user=request.user, system=system.pk).filter(pk=dependency_id).first()
    if dependency is None:
        raise NotFound("Dependency not found.")
    _apply(
        request,
        lambda: services.dependency_delete(actor=request.user, dependency=dependency),
        f"Removed: {dependency}.",
    )
    return redirect(system.get_absolute_url())


@login_required
@require_POST
@permission_required("catalog.add_component", raise_exception=True)
def component_add(request, pk: int):
    system = selectors.system_get(user=request.user, pk=pk)
    form = ComponentForm(request.POST)
    if form.is_valid():
        _apply(
            request,
            lambda: services.component_create(actor=request.user, system=system, **form.cleaned_data),
            f"Component {form.cleaned_data['name']} is added.",
        )
    else:
        messages.error(request, "A component needs a name of at most 150 characters.")
    return redirect(system.get_absolute_url())
