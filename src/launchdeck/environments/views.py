"""The inventory pages: environments, their status and history, components, dependencies, and groups (lanes)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from launchdeck.catalog.models import Component, System
from launchdeck.core.errors import DomainError, NotFound
from launchdeck.core.forms import without_version
from launchdeck.core.ui import Column, delete_page, detail_page, form_page, list_page, parse_id
from launchdeck.environments import selectors, services
from launchdeck.environments.choices import EnvironmentStatus
from launchdeck.environments.forms import (
    EnvironmentComponentForm,
    EnvironmentDependencyForm,
    EnvironmentFilterForm,
    EnvironmentForm,
    EnvironmentGroupForm,
    EnvironmentStatusForm,
)
from launchdeck.environments.models import Environment, EnvironmentGroup
from launchdeck.org.models import Team

# One colour per status, for badges and the status band: green is up, amber degraded, red down, grey out of service.
STATUS_COLOURS = {
    EnvironmentStatus.AVAILABLE: ("success", "#198754"),
    EnvironmentStatus.IN_USE: ("primary", "#0d6efd"),
    EnvironmentStatus.DEGRADED: ("warning", "#ffc107"),
    EnvironmentStatus.DOWN: ("danger", "#dc3545"),
    EnvironmentStatus.MAINTENANCE: ("info", "#0dcaf0"),
    EnvironmentStatus.PROVISIONING: ("secondary", "#adb5bd"),
    EnvironmentStatus.DECOMMISSIONED: ("dark", "#343a40"),
}


def status_badge(status: str) -> str:
    """An environment status as a coloured badge."""
    label = EnvironmentStatus(status).label if status in EnvironmentStatus.values else status
    return format_html(
        '<span class="badge text-bg-{}">{}</span>', STATUS_COLOURS.get(status, ("secondary", ""))[0], label
    )


def percent(value: float | None) -> str | None:
    """Availability as people read it ("99.2%"); None when the environment was not in service."""
    return None if value is None else f"{value * 100:.1f}%"


def _teams(user):
    return Team.objects.restrict(user, "view").order_by("name")


def _groups(user):
    return EnvironmentGroup.objects.restrict(user, "view").order_by("name")


# Environments


@login_required
def environment_list(request):
    """The inventory: every environment with its status, capacity, open bookings and availability (90 days)."""
    filters = EnvironmentFilterForm(request.GET or None, teams=_teams(request.user), groups=_groups(request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    environments = selectors.environment_list(
        user=request.user,
        search=data.get("q") or None,
        environment_type=data.get("type") or None,
        category=data.get("category") or None,
        group=data["group"].pk if data.get("group") else None,
        status=data.get("status") or None,
        owner_team=data["owner_team"].pk if data.get("owner_team") else None,
    )
    start, end = selectors.default_history_window()

    def add_availability(rows):
        figures = selectors.environment_availability_map([row.pk for row in rows], start, end, user=request.user)
        for row in rows:
            row.availability = figures.get(row.pk)

    columns = [
        Column("Name", lambda e: e.name, link=True),
        Column("Type", lambda e: e.get_environment_type_display()),
        Column("Category", lambda e: e.get_category_display()),
        Column("Group", lambda e: e.group),
        Column("Status", lambda e: status_badge(e.status)),
        Column("Capacity", lambda e: e.capacity, numeric=True),
        Column("Open bookings", lambda e: e.open_booking_count, numeric=True),
        Column("Availability (90 days)", lambda e: percent(e.availability), numeric=True),
        Column("Owner team", lambda e: e.owner_team),
    ]
    may_add = request.user.has_perm("environments.add_environment")
    return list_page(
        request,
        title="Environments",
        intro="Production, test and data environments: what they are for, who owns them, how they are doing.",
        filters=filters,
        create_url=reverse("environments:environment_create") if may_add else None,
        queryset=environments,
        columns=columns,
        template="environments/environment_list.html",
        extra=add_availability,
    )


def _status_band(history, start: datetime.datetime, end: datetime.datetime, name: str) -> dict:
    """The status of each day as a calendar heat map: a column per week, a row per weekday (`charts.js` "heatmap")."""
    codes = {status: index for index, status in enumerate(EnvironmentStatus.values)}
    days = selectors.environment_status_band(history, start, end)
    first_monday = days[0][0] - datetime.timedelta(days=days[0][0].weekday())
    weeks = (days[-1][0] - first_monday).days // 7 + 1
    return {
        "kind": "heatmap",
        "title": f"Status of {name}, day by day",
        "x": [f"w/c {first_monday + datetime.timedelta(weeks=week):%-d %b}" for week in range(weeks)],
        "y": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "cells": [
            [(day - first_monday).days // 7, day.weekday(), codes[status]] for day, status in days if status in codes
        ],
        "levels": [
            {"value": codes[status], "label": status.label, "color": STATUS_COLOURS[status][1]}
            for status in EnvironmentStatus
        ],
    }


@login_required
def environment_detail(request, pk: int):
    """An environment: overview, status history and availability, components, dependencies, bookings, requests."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    start, end = selectors.default_history_window()
    history = selectors.environment_status_history(user=request.user, environment=environment, start=start, end=end)
    user = request.user
    others = Environment.objects.restrict(user, "view").exclude(pk=environment.pk)
    others = others.exclude(pk__in=[other.pk for other in environment.depends_on.all()]).order_by("name")
    return detail_page(
        request,
        obj=environment,
        template="environments/environment_detail.html",
        list_url=reverse("environments:environment_list"),
        list_title="Environments",
        fields=[
            (
                "Status",
                format_html(
                    "{} since {}", status_badge(environment.status), f"{environment.status_since:%-d %b %Y %H:%M}"
                ),
            ),
            ("Type", environment.get_environment_type_display()),
            ("Category", environment.get_category_display()),
            ("Hosting", environment.get_hosting_display()),
            ("Group", environment.group),
            ("Owner team", environment.owner_team),
            (
                "Capacity",
                "1 (exclusive)" if environment.capacity == 1 else f"{environment.capacity} overlapping bookings",
            ),
            ("Cost per day", f"{environment.cost_per_day:,.2f}"),
            ("URL", environment.url),
            ("Open bookings", environment.open_booking_count),
            ("Description", environment.description),
        ],
        edit_url=reverse("environments:environment_edit", args=[pk])
        if user.has_perm("environments.change_environment")
        else None,
        delete_url=reverse("environments:environment_delete", args=[pk])
        if user.has_perm("environments.delete_environment")
        else None,
        status_url=reverse("environments:environment_status", args=[pk])
        if user.has_perm("environments.add_environmentstatuschange")
        else None,
        availability=percent(selectors.environment_availability(environment, start, end, user=user)),
        history=[(change, status_badge(change.status)) for change in reversed(history)],
        band=_status_band(history, start, end, environment.name),
        window_start=start,
        window_end=end,
        components=selectors.environment_component_list(user=user, environment=environment),
        depends_on=[(other, status_badge(other.status)) for other in environment.depends_on.all()],
        needed_by=[(other, status_badge(other.status)) for other in environment.needed_by.all()],
        dependency_form=EnvironmentDependencyForm(environments=others)
        if user.has_perm("environments.change_environment")
        else None,
        may_add_component=user.has_perm("environments.add_environmentcomponent"),
        may_change_component=user.has_perm("environments.change_environmentcomponent"),
        may_remove_component=user.has_perm("environments.delete_environmentcomponent"),
        may_change=user.has_perm("environments.change_environment"),
    )


def _environment_form(request, initial=None, exclude_pk=None):
    environments = Environment.objects.restrict(request.user, "view").order_by("name")
    if exclude_pk:
        environments = environments.exclude(pk=exclude_pk)
    return EnvironmentForm(
        request.POST or None,
        initial=initial,
        teams=_teams(request.user),
        groups=_groups(request.user),
        environments=environments,
        new=exclude_pk is None,
    )


@login_required
@permission_required("environments.add_environment", raise_exception=True)
def environment_create(request):
    """A new environment, available or being provisioned from now."""
    return form_page(
        request,
        form=_environment_form(request),
        title="New environment",
        template="environments/environment_form.html",
        save=lambda data: services.environment_create(actor=request.user, **without_version(data)),
        success="Environment {object} is added to the inventory.",
        cancel_url=reverse("environments:environment_list"),
    )


@login_required
@permission_required("environments.change_environment", raise_exception=True)
def environment_edit(request, pk: int):
    """Change an environment's description, capacity, cost, group or dependencies."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    initial = {
        "version": environment.version,
        "name": environment.name,
        "environment_type": environment.environment_type,
        "category": environment.category,
        "hosting": environment.hosting,
        "group": environment.group_id,
        "owner_team": environment.owner_team_id,
        "capacity": environment.capacity,
        "cost_per_day": environment.cost_per_day,
        "url": environment.url,
        "description": environment.description,
        "depends_on": [other.pk for other in environment.depends_on.all()],
    }
    return form_page(
        request,
        form=_environment_form(request, initial, exclude_pk=environment.pk),
        title=f"Edit {environment}",
        template="environments/environment_form.html",
        save=lambda data: services.environment_update(actor=request.user, environment=environment, **data),
        success="Environment {object} is saved.",
        cancel_url=environment.get_absolute_url(),
    )


@login_required
@permission_required("environments.delete_environment", raise_exception=True)
def environment_delete(request, pk: int):
    """Delete an environment recorded by mistake; one that was used is decommissioned instead (the service says so)."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=environment,
        delete=lambda: services.environment_delete(actor=request.user, environment=environment),
        done_url=reverse("environments:environment_list"),
        cancel_url=environment.get_absolute_url(),
        template="environments/environment_delete.html",
    )


@login_required
@permission_required("environments.add_environmentstatuschange", raise_exception=True)
def environment_status(request, pk: int):
    """Record a new status (down, maintenance, decommissioned…) and why."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    form = EnvironmentStatusForm(request.POST or None, initial={"status": environment.status})
    return form_page(
        request,
        form=form,
        title=f"Change the status of {environment}",
        template="environments/environment_status.html",
        save=lambda data: services.environment_status_set(
            actor=request.user,
            environment=environment,
            status=data["status"],
            note=data.get("note") or "",
            at=data.get("at"),
        ),
        success="The status of {object} is saved.",
        cancel_url=environment.get_absolute_url(),
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
@permission_required("environments.change_environment", raise_exception=True)
def environment_dependency_add(request, pk: int):
    """Record that this environment needs another one."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    # Any visible environment is accepted here so that the service's own rule explains a dependency on itself.
    form = EnvironmentDependencyForm(request.POST, environments=Environment.objects.restrict(request.user, "view"))
    if form.is_valid():
        other = form.cleaned_data["depends_on"]
        current = list(environment.depends_on.all())
        _apply(
            request,
            lambda: services.environment_update(
                actor=request.user, environment=environment, depends_on=[*current, other]
            ),
            f"{environment} now depends on {other}.",
        )
    else:
        messages.error(request, "Choose the environment it depends on.")
    return redirect(environment.get_absolute_url())


@login_required
@require_POST
@permission_required("environments.change_environment", raise_exception=True)
def environment_dependency_remove(request, pk: int, other_pk: int):
    """Forget that this environment needs another one."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    current = list(environment.depends_on.all())
    other = next((item for item in current if item.pk == other_pk), None)
    if other is None:
        raise NotFound("Dependency not found.")
    _apply(
        request,
        lambda: services.environment_update(
            actor=request.user, environment=environment, depends_on=[item for item in current if item.pk != other_pk]
        ),
        f"{environment} no longer depends on {other}.",
    )
    return redirect(environment.get_absolute_url())


# Components


def _component_form(request, *, initial=None, fixed_system=None):
    systems = System.objects.restrict(request.user, "view").order_by("name")
    components = Component.objects.restrict(request.user, "view").select_related("system")
    system_pk = fixed_system.pk if fixed_system else parse_id(request.POST.get("system") or "")
    components = components.filter(system_id=system_pk) if system_pk else components
    return EnvironmentComponentForm(
        request.POST or None,
        initial=initial,
        systems=systems,
        components=components.order_by("system__name", "name"),
        fixed_system=fixed_system is not None,
    )


@login_required
@permission_required("environments.add_environmentcomponent", raise_exception=True)
def environmentcomponent_create(request, pk: int):
    """Record a system installed in the environment and its version (a system already there is replaced)."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    return form_page(
        request,
        form=_component_form(request),
        title=f"Add a system to {environment}",
        template="environments/environmentcomponent_form.html",
        save=lambda data: services.environment_component_set(actor=request.user, environment=environment, **data),
        success="{object} is recorded.",
        cancel_url=environment.get_absolute_url(),
        done_url=environment.get_absolute_url(),
    )


@login_required
@permission_required("environments.change_environmentcomponent", raise_exception=True)
def environmentcomponent_edit(request, pk: int, component_pk: int):
    """Change the version, part or configuration recorded for a system in the environment."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    row = selectors.environment_component_get(user=request.user, environment=environment, pk=component_pk)
    initial = {
        "system": row.system_id,
        "component": row.component_id,
        "version": row.version,
        "configuration": row.configuration,
        "deployed_at": row.deployed_at,
    }
    return form_page(
        request,
        form=_component_form(request, initial=initial, fixed_system=row.system),
        title=f"Edit {row.system} in {environment}",
        template="environments/environmentcomponent_form.html",
        save=lambda data: services.environment_component_set(
            actor=request.user, environment=environment, **{**data, "system": row.system}
        ),
        success="{object} is saved.",
        cancel_url=environment.get_absolute_url(),
        done_url=environment.get_absolute_url(),
    )


@login_required
@require_POST
@permission_required("environments.delete_environmentcomponent", raise_exception=True)
def environmentcomponent_remove(request, pk: int, component_pk: int):
    """Forget that a system runs in the environment."""
    environment = selectors.environment_get(user=request.user, pk=pk)
    row = selectors.environment_component_get(user=request.user, environment=environment, pk=component_pk)
    _apply(
        request,
        lambda: services.environment_component_remove(actor=request.user, component=row),
        f"{row.system} is no longer recorded in {environment}.",
    )
    return redirect(environment.get_absolute_url())


# Groups


@login_required
def environmentgroup_list(request):
    """Groups ("lanes") of environments and how many environments each holds."""
    search = (request.GET.get("q") or "").strip()[:200]
    groups = selectors.environment_group_list(user=request.user, search=search or None)
    may_add = request.user.has_perm("environments.add_environmentgroup")
    may_change = request.user.has_perm("environments.change_environmentgroup")
    columns = [
        Column("Name", lambda g: g.name, link=True),
        Column("Environments", lambda g: g.environment_count, numeric=True),
        Column("Description", lambda g: g.description),
    ]
    if may_change:
        columns.append(
            Column(
                "",
                lambda g: format_html(
                    '<a href="{}">Edit</a>', reverse("environments:environmentgroup_edit", args=[g.pk])
                ),
            )
        )
    return list_page(
        request,
        title="Environment groups",
        intro="Lanes of environments planned together; the schedule groups environments by them.",
        create_url=reverse("environments:environmentgroup_create") if may_add else None,
        queryset=groups,
        columns=columns,
        template="environments/environmentgroup_list.html",
        context={"search": search},
    )


@login_required
@permission_required("environments.add_environmentgroup", raise_exception=True)
def environmentgroup_create(request):
    """A new group of environments."""
    return form_page(
        request,
        form=EnvironmentGroupForm(request.POST or None),
        title="New environment group",
        template="environments/environmentgroup_form.html",
        save=lambda data: services.environment_group_create(
            actor=request.user, name=data["name"], description=data.get("description") or ""
        ),
        success="Group {object} is added.",
        cancel_url=reverse("environments:environmentgroup_list"),
        done_url=reverse("environments:environmentgroup_list"),
    )


@login_required
@permission_required("environments.change_environmentgroup", raise_exception=True)
def environmentgroup_edit(request, pk: int):
    """Rename or describe a group."""
    group = selectors.environment_group_get(user=request.user, pk=pk)
    initial = {"version": group.version, "name": group.name, "description": group.description}
    return form_page(
        request,
        form=EnvironmentGroupForm(request.POST or None, initial=initial),
        title=f"Edit {group}",
        template="environments/environmentgroup_form.html",
        save=lambda data: services.environment_group_update(actor=request.user, group=group, **data),
        success="Group {object} is saved.",
        cancel_url=reverse("environments:environmentgroup_list"),
        done_url=reverse("environments:environmentgroup_list"),
    )


@login_required
@permission_required("environments.delete_environmentgroup", raise_exception=True)
def environmentgroup_delete(request, pk: int):
    """Remove a group; its environments stay, in no group."""
    group = selectors.environment_group_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=group,
        delete=lambda: services.environment_group_delete(actor=request.user, group=group),
        done_url=reverse("environments:environmentgroup_list"),
        cancel_url=reverse("environments:environmentgroup_edit", args=[pk]),
        template="environments/environmentgroup_delete.html",
    )
