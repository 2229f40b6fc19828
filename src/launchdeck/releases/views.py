"""Release planning pages: thin views over the services and selectors."""

import datetime
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_POST

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role, role_label
from launchdeck.catalog.models import System
from launchdeck.core.errors import DomainError, NotFound
from launchdeck.core.forms import add_domain_error, without_version
from launchdeck.core.ui import PAGE_SIZE, Column, delete_page, detail_page, form_page, list_page
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar, Department
from launchdeck.portfolio import selectors as portfolio_selectors
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.releases import checks, freezes, layout, schedule_views, selectors, services, workflow
from launchdeck.releases.choices import (
    CLOSED_STATUSES,
    ApprovalDecision,
    CriterionKind,
    EnvironmentType,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    PhaseKind,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
)
from launchdeck.releases.forms import (
    CalendarFilterForm,
    ChildAddForm,
    CriterionTickForm,
    FreezeFilterForm,
    FreezeWindowForm,
    GateDecisionForm,
    GateForm,
    GateReasonForm,
    GateTemplateForm,
    ImpactMatrixFilterForm,
    MilestoneForm,
    MilestoneTemplateForm,
    PhaseForm,
    PhaseTemplateForm,
    ReleaseCreateForm,
    ReleaseEditForm,
    ReleaseFilterForm,
    ReleasePreviewForm,
    ScopeForm,
    TemplateFilterForm,
    TemplateForm,
    TemplatePreviewForm,
    TimelineFilterForm,
    TrainJoinForm,
    TransitionForm,
)
from launchdeck.releases.models import (
    Gate,
    GateApproval,
    GateCriterion,
    GateTemplate,
    Milestone,
    MilestoneTemplate,
    Phase,
    PhaseTemplate,
    Release,
    ReleaseTemplate,
)
from launchdeck.releases.sections import rendered_sections

# Releases


RELEASE_SORTS = {
    "start": ("planned_start", "name"),
    "-start": ("-planned_start", "name"),
    "end": ("planned_end", "name"),
    "name": ("name",),
}


def _may(request, permission: str, url: str) -> str | None:
    """`url` when the user holds `permission` (a link or button to offer), else None."""
    return url if request.user.has_perm(permission) else None


def _visible(model, user):
    """The rows of `model` that `user` may see (the one way these pages narrow a choice or a lookup)."""
    return model.objects.restrict(user, "view")


def _release_users(user):
    return _visible(User, user).filter(is_active=True).order_by("first_name", "last_name", "username")


def _domain_message(exc: DomainError):
    """A service's refusal as one message: its sentence, then each further reason (the blocking gates…) listed."""
    reasons = [error["message"] for error in exc.errors if error["message"] and error["message"] != exc.detail]
    if not reasons:
        return exc.detail
    heading = exc.detail
    if reasons[0] in heading:
        # The sentence already lists the reasons after a colon; keep its start and list them one a line.
        heading = heading[: heading.index(reasons[0])].rstrip(" :") + ":"
    items = format_html_join("", "<li>{}</li>", ((reason,) for reason in reasons))
    return format_html('{}<ul class="mb-0 mt-1">{}</ul>', heading, items)


def _apply(request, action, success: str) -> bool:
    """Run a service from a small form or button; a refusal becomes an error message (every reason of it) and
    nothing changes."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, _domain_message(exc))
        return False
    messages.success(request, success)
    return True


def _release_tab(release, tab: str) -> str:
    return f"{release.get_absolute_url()}#{tab}"


def _release_dates(start, end) -> str:
    if start is None:
        return "—"
    if end is None:
        return f"from {start:%-d %b %Y}"
    if start.year == end.year:
        return f"{start:%-d %b} \N{EN DASH} {end:%-d %b %Y}"
    return f"{start:%-d %b %Y} \N{EN DASH} {end:%-d %b %Y}"


def _status_badge(release):
    colours = {
        ReleaseStatus.DRAFT: "secondary",
        ReleaseStatus.PLANNED: "info",
        ReleaseStatus.IN_PROGRESS: "primary",
        ReleaseStatus.RELEASED: "success",
        ReleaseStatus.CANCELLED: "dark",
    }
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        colours.get(release.status, "secondary"),
        release.get_status_display(),
    )


def _health_badge(health):
    if health is None:
        return None
    colour = {"red": "danger", "amber": "warning", "green": "success"}.get(health.status, "secondary")
    return format_html(
        '<span class="badge text-bg-{}" title="Risk score {} of 100">{} · {}</span>',
        colour,
        health.score,
        health.status.capitalize(),
        health.score,
    )


def _release_filter_form(request) -> ReleaseFilterForm:
    user = request.user
    return ReleaseFilterForm(
        request.GET or None,
        trains=_visible(Release, user).filter(kind=ReleaseKind.ENTERPRISE).order_by("name"),
        portfolios=_visible(Portfolio, user).order_by("name"),
        departments=_visible(Department, user).order_by("name"),
        systems=_visible(System, user).order_by("name"),
    )


@login_required
def release_list(request):
    """Every release the user may see, filtered, with its health from the one health rule (one call per page)."""
    user = request.user
    filters = _release_filter_form(request)
    data = filters.cleaned_data if filters.is_valid() else {}
    status = data.get("status") or None
    releases = selectors.release_list(
        user=user,
        filters={
            "search": (data.get("q") or "").strip() or None,
            "kind": data.get("kind") or None,
            "status": status if status != "open" else None,
            "open": status == "open",
            "train": data.get("train"),
            "portfolio": data.get("portfolio"),
            "department": data.get("department"),
            "system": data.get("system"),
            "owner": user if data.get("owner") == "me" else None,
        },
    ).order_by(*RELEASE_SORTS[data.get("sort") or "start"])
    page = Paginator(releases, PAGE_SIZE).get_page(request.GET.get("page"))
    health = selectors.release_health_map(user=user, release_ids=[release.pk for release in page])
    columns = [
        Column("Name", lambda r: r.name, link=True),
        Column("Kind", lambda r: r.get_kind_display()),
        Column("Status", _status_badge),
        Column("Train", lambda r: r.train.name if r.train_id else None),
        Column("Planned", lambda r: _release_dates(r.planned_start, r.planned_end)),
        Column("Owner", lambda r: r.owner.display_name if r.owner_id else None),
        Column("Health", lambda r: _health_badge(health.get(r.pk))),
    ]
    rows = [
        {"url": row.get_absolute_url(), "cells": [(column, column.value(row)) for column in columns]} for row in page
    ]
    context = {
        "title": "Releases",
        "intro": format_html(
            "{}Enterprise releases (trains), the project releases travelling in them and independent releases. "
            "Health and the risk score come from one rule; a release's page explains them.",
            planning_sections("releases"),
        ),
        "columns": columns,
        "rows": rows,
        "page": page,
        "filters": filters,
        "create_url": _may(request, "releases.add_release", reverse("releases:release_create")),
    }
    template = "core/partials/_object_table.html" if request.htmx else "core/object_list.html"
    return render(request, template, context)


def _release_form_choices(user) -> dict:
    return {
        "users": _release_users(user),
        "portfolios": _visible(Portfolio, user).order_by("name"),
        "initiatives": _visible(Initiative, user).order_by("name"),
        "projects": _visible(Project, user).order_by("name"),
        "calendars": _visible(Calendar, user).order_by("name"),
    }


def _release_templates(user):
    return _visible(ReleaseTemplate, user).filter(is_active=True).order_by("name")


def _open_trains(user):
    return (
        _visible(Release, user)
        .filter(kind=ReleaseKind.ENTERPRISE)
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("planned_start", "name")
    )


@login_required
@permission_required("releases.add_release", raise_exception=True)
def release_create(request):
    """A new release, by hand or from a template laid out on the working calendar (previewed before saving)."""
    user = request.user
    initial = {key: request.GET.get(key) for key in ("kind", "train", "portfolio", "initiative", "project")}
    form = ReleaseCreateForm(
        request.POST or None,
        initial={key: value for key, value in initial.items() if value},
        templates=_release_templates(user),
        trains=_open_trains(user),
        **_release_form_choices(user),
    )

    def save(data):
        return services.release_create(actor=user, **data)

    return form_page(
        request,
        form=form,
        title="New release",
        save=save,
        success="Release {object} is created.",
        cancel_url=reverse("releases:release_list"),
        template="releases/release_form.html",
    )


@login_required
@require_GET
def release_preview(request):
    """The create form's preview: where the chosen template's phases, milestones and gates fall from the start."""
    user = request.user
    form = ReleasePreviewForm(request.GET, templates=_release_templates(user), calendars=_visible(Calendar, user))
    if not form.is_valid():
        return render(request, "releases/partials/_release_preview.html", {"layout": None})
    template, start = form.cleaned_data["template"], form.cleaned_data["planned_start"]
    calendar = form.cleaned_data.get("calendar")
    planned = layout.template_layout(template, start, working_calendar(calendar))
    train = None
    if request.GET.get("train") and request.GET.get("inherit_train_dates"):
        train = _open_trains(user).filter(pk=request.GET["train"]).first() if request.GET["train"].isdigit() else None
    return render(
        request,
        "releases/partials/_release_preview.html",
        {
            "layout": planned,
            "template": template,
            "start": start,
            "calendar": calendar,
            "train": train,
            "kind": request.GET.get("kind", ""),
        },
    )


def _release_fields(release) -> list:
    return [
        ("Kind", release.get_kind_display()),
        ("Train", _release_link(release.train)),
        ("Owner", release.owner.display_name if release.owner_id else None),
        ("Portfolio", _release_link(release.portfolio)),
        ("Initiative", _release_link(release.initiative)),
        ("Project", _release_link(release.project)),
        ("Template", _release_link(release.template)),
        ("Working calendar", _release_link(release.calendar) if release.calendar_id else "Weekends only"),
        ("Description", release.description),
    ]


def _release_link(obj):
    if obj is None:
        return None
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj)


def _gate_card(request, gate, *, evaluation=None, error=None) -> dict:
    """Everything one gate's card shows: criteria with their results, approvals, and the forms the user may use.
    `evaluation`: the gate's, when the page has evaluated its gates already."""
    user = request.user
    if evaluation is None:
        evaluation = checks.evaluate_gate(gate)
    roles = checks.gate_decidable_roles(user, gate)
    approvals = list(gate.approvals.all())
    for approval in approvals:
        approval.role_label = role_label(approval.role)
    is_open = gate.status == GateStatus.OPEN
    return {
        "gate": gate,
        "evaluation": evaluation,
        "criteria": [
            {"criterion": criterion, "ok": ok, "detail": detail, "manual": criterion.kind == CriterionKind.MANUAL}
            for criterion, ok, detail in evaluation.criteria
        ],
        "approvals": approvals,
        "missing_roles": [role_label(role) for role in evaluation.approvals_missing],
        "approver_labels": [role_label(role) for role in gate.approver_roles or ()],
        "may_tick": is_open and user.has_perm("releases.change_gatecriterion"),
        "decide_form": GateDecisionForm(roles=roles, prefix=f"gate{gate.pk}") if roles else None,
        "override_form": GateReasonForm(prefix=f"override{gate.pk}")
        if user.has_perm("releases.override_gate") and gate.status in (GateStatus.OPEN, GateStatus.REJECTED)
        else None,
        "reopen_form": GateReasonForm(prefix=f"reopen{gate.pk}")
        if gate.status == GateStatus.REJECTED and user.has_perm("releases.change_gate")
        else None,
        "may_edit": is_open and user.has_perm("releases.change_gate"),
        "may_delete": is_open and user.has_perm("releases.delete_gate"),
        "error": error,
    }


def _gate_fresh(pk: int) -> Gate:
    """A gate as its card shows it, read again after a change."""
    return (
        Gate.objects.select_related("release", "phase", "overridden_by")
        .prefetch_related(
            Prefetch("criteria", queryset=GateCriterion.objects.select_related("met_by").order_by("position", "id")),
            Prefetch("approvals", queryset=GateApproval.objects.select_related("approver").order_by("decided_at")),
        )
        .get(pk=pk)
    )


def _release_part(model, request, pk: int):
    """A phase, milestone or gate of a release the user may see (the release's page is where it is shown)."""
    return _visible(model, request.user).select_related("release").get_visible(pk=pk)


def _criterion_get(request, pk: int) -> GateCriterion:
    criterion = GateCriterion.objects.select_related("gate__release").filter(pk=pk).first()
    if criterion is None or not _visible(Release, request.user).filter(pk=criterion.gate.release_id).exists():
        raise NotFound("Gate criterion not found.")
    return criterion


@login_required
def release_detail(request, pk: int):
    """The release page: overview with status moves and health explained, phases, milestones, gates, scope, train."""
    user = request.user
    release = selectors.release_get(user=user, pk=pk)
    health = selectors.release_health_for(user=user, release=release)
    phases = list(release.phases.all())
    milestones = list(release.milestones.all())
    frozen = dict(freezes.deploy_milestones_in_freeze([release.pk]).get(release.pk, []))
    for milestone in milestones:
        milestone.freeze_name = frozen.get(milestone.pk)
    gates = list(release.gates.all())
    scope = list(release.scope.all())
    in_scope = {item.system_id for item in scope}
    suggestions = [
        {"system": system, "via": via}
        for system, via in selectors.release_regression_suggestions(user=user, release=release)
        if system.pk not in in_scope
    ]
    evaluations = checks.evaluate_gates(gates)
    transitions = _release_transitions(user, release, evaluations)
    children, child_health, child_form, join_form = [], {}, None, None
    may_change = user.has_perm("releases.change_release")
    if release.kind == ReleaseKind.ENTERPRISE:
        children = list(release.children.select_related("owner").order_by("planned_start", "name"))
        child_health = selectors.release_health_map(user=user, release_ids=[child.pk for child in children])
        for child in children:
            child.health = child_health.get(child.pk)
        if may_change and release.status not in CLOSED_STATUSES:
            candidates = (
                _visible(Release, user)
                .filter(kind=ReleaseKind.PROJECT, train__isnull=True)
                .exclude(status__in=CLOSED_STATUSES)
                .order_by("name")
            )
            child_form = ChildAddForm(releases=candidates)
    elif (
        release.kind == ReleaseKind.PROJECT
        and release.train_id is None
        and may_change
        and release.status not in CLOSED_STATUSES
    ):
        join_form = TrainJoinForm(trains=_open_trains(user))
    return detail_page(
        request,
        obj=release,
        template="releases/release_detail.html",
        list_url=reverse("releases:release_list"),
        list_title="Releases",
        fields=_release_fields(release),
        edit_url=_may(request, "releases.change_release", reverse("releases:release_update", args=[pk])),
        delete_url=_may(request, "releases.delete_release", reverse("releases:release_delete", args=[pk])),
        health=health,
        status_badge=_status_badge(release),
        transitions=transitions,
        phases=phases,
        milestones=milestones,
        frozen_count=sum(1 for milestone in milestones if milestone.freeze_name),
        gate_cards=[_gate_card(request, gate, evaluation=evaluations[gate.pk]) for gate in gates],
        scope=scope,
        suggestions=suggestions,
        scope_form=ScopeForm(systems=_visible(System, user).exclude(pk__in=in_scope).order_by("name"))
        if may_change
        else None,
        children=children,
        child_form=child_form,
        join_form=join_form,
        may_change=may_change,
        today=timezone.localdate(),
        timeline_url=reverse("releases:timeline"),
        critical_phase_ids=schedule_views.critical_phase_ids(release, phases),
        sections=rendered_sections(release, user),
    )


def _release_transitions(user, release, evaluations=None) -> list[dict]:
    """The moves the user's roles allow from the release's status, each with what blocks it now (if anything);
    `evaluations` is the page's one evaluation of its gates, when it has made one."""
    return [
        {
            "status": status,
            "label": _TRANSITION_LABELS.get(status, ReleaseStatus(status).label),
            "blockers": workflow.transition_blockers(release, status, evaluations=evaluations),
        }
        for status in workflow.allowed_transitions(user, release)
    ]


_TRANSITION_LABELS = {
    ReleaseStatus.PLANNED: "Mark as planned",
    ReleaseStatus.IN_PROGRESS: "Start",
    ReleaseStatus.RELEASED: "Mark as released",
    ReleaseStatus.CANCELLED: "Cancel the release",
}


@login_required
@require_GET
def release_health(request, pk: int):
    """The health badge and its "why" table, as a fragment (the same values as the page, the API and the report)."""
    release = selectors.release_get(user=request.user, pk=pk)
    health = selectors.release_health_for(user=request.user, release=release)
    return render(
        request,
        "releases/partials/_release_health.html",
        {"health": health, "object": release},
    )


@login_required
@permission_required("releases.change_release", raise_exception=True)
def release_update(request, pk: int):
    user = request.user
    release = selectors.release_get(user=user, pk=pk)
    initial = {
        "version": release.version,
        "name": release.name,
        "kind": release.kind,
        "planned_start": release.planned_start,
        "planned_end": release.planned_end,
        "actual_start": release.actual_start,
        "actual_end": release.actual_end,
        "owner": release.owner_id,
        "portfolio": release.portfolio_id,
        "initiative": release.initiative_id,
        "project": release.project_id,
        "calendar": release.calendar_id,
        "description": release.description,
    }
    form = ReleaseEditForm(request.POST or None, initial=initial, **_release_form_choices(user))
    return form_page(
        request,
        form=form,
        title=f"Edit {release}",
        save=lambda data: services.release_update(actor=user, release=release, **_changed(data, initial)),
        success="Release {object} is saved.",
        cancel_url=release.get_absolute_url(),
    )


def _changed(data: dict, initial: dict) -> dict:
    """The version and the fields the form changed, so a service is asked only for what the user edited."""
    changes = {"version": data.get("version")}
    for key, value in data.items():
        if key == "version":
            continue
        before = initial.get(key)
        after = value.pk if hasattr(value, "pk") else value
        if after != before:
            changes[key] = value
    return changes


@login_required
@permission_required("releases.delete_release", raise_exception=True)
def release_delete(request, pk: int):
    release = selectors.release_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=release,
        delete=lambda: services.release_delete(actor=request.user, release=release),
        done_url=reverse("releases:release_list"),
        cancel_url=release.get_absolute_url(),
    )


@login_required
@require_POST
def release_transition(request, pk: int):
    """Move the release on; a move the role may not make, or that a gate blocks, is refused with the reasons."""
    release = selectors.release_get(user=request.user, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the status to move the release to.")
        return redirect(release.get_absolute_url())
    to_status = form.cleaned_data["to_status"]
    _apply(
        request,
        lambda: services.release_transition(
            actor=request.user, release=release, to_status=to_status, reason=form.cleaned_data["reason"]
        ),
        f"{release} is {ReleaseStatus(to_status).label.lower()}.",
    )
    return redirect(release.get_absolute_url())


@login_required
def release_report(request, pk: int):
    """The printable release report: scope, dates, gates and approvals, risks and the history of date changes."""
    release = selectors.release_get(user=request.user, pk=pk)
    report = selectors.release_report(user=request.user, release=release)
    return render(request, "releases/release_report.html", {"object": release, "report": report})


# Phases, milestones and gates of a release


def _phase_choices(release):
    return release.phases.order_by("position", "planned_start")


@login_required
def phase_create(request, pk: int):
    release = selectors.release_get(user=request.user, pk=pk)
    if not request.user.has_perm("releases.add_phase"):
        return _refused(request, release, "phases", "Your roles may not add phases.")
    form = PhaseForm(
        request.POST or None, initial={"planned_start": release.planned_start, "planned_end": release.planned_end}
    )
    return form_page(
        request,
        form=form,
        title=f"New phase of {release}",
        save=lambda data: services.phase_create(actor=request.user, release=release, **without_version(data)),
        success="Phase {object.name} is added.",
        done_url=_release_tab(release, "phases"),
        cancel_url=_release_tab(release, "phases"),
    )


def _refused(request, release, tab: str, message: str) -> HttpResponse:
    """A page the user's roles do not open: a 403 for a read, a message and back to the release for a post."""
    if request.method == "POST":
        messages.error(request, message)
        return redirect(_release_tab(release, tab))
    raise DjangoPermissionDenied(message)


@login_required
def phase_update(request, pk: int):
    phase = _release_part(Phase, request, pk)
    release = phase.release
    if not request.user.has_perm("releases.change_phase"):
        return _refused(request, release, "phases", "Your roles may not change phases.")
    initial = {
        "version": phase.version,
        "name": phase.name,
        "kind": phase.kind,
        "status": phase.status,
        "planned_start": phase.planned_start,
        "planned_end": phase.planned_end,
        "actual_start": phase.actual_start,
        "actual_end": phase.actual_end,
        "percent_complete": phase.percent_complete,
        "environment_type": phase.environment_type,
        "test_effort_days": phase.test_effort_days,
        "is_required": phase.is_required,
    }
    form = PhaseForm(request.POST or None, initial=initial)
    return form_page(
        request,
        form=form,
        title=f"Edit phase {phase.name} of {release}",
        save=lambda data: services.phase_update(actor=request.user, phase=phase, **_changed(data, initial)),
        success="Phase {object.name} is saved.",
        done_url=_release_tab(release, "phases"),
        cancel_url=_release_tab(release, "phases"),
    )


@login_required
@require_POST
def phase_delete(request, pk: int):
    phase = _release_part(Phase, request, pk)
    release = phase.release
    _apply(request, lambda: services.phase_delete(actor=request.user, phase=phase), f"Phase {phase.name} is removed.")
    return redirect(_release_tab(release, "phases"))


@login_required
def milestone_create(request, pk: int):
    release = selectors.release_get(user=request.user, pk=pk)
    if not request.user.has_perm("releases.add_milestone"):
        return _refused(request, release, "milestones", "Your roles may not add milestones.")
    form = MilestoneForm(
        request.POST or None, phases=_phase_choices(release), initial={"planned_date": release.planned_end}
    )
    return form_page(
        request,
        form=form,
        title=f"New milestone of {release}",
        save=lambda data: services.milestone_create(actor=request.user, release=release, **without_version(data)),
        success="Milestone {object.name} is added.",
        done_url=_release_tab(release, "milestones"),
        cancel_url=_release_tab(release, "milestones"),
    )


@login_required
def milestone_update(request, pk: int):
    milestone = _release_part(Milestone, request, pk)
    release = milestone.release
    if not request.user.has_perm("releases.change_milestone"):
        return _refused(request, release, "milestones", "Your roles may not change milestones.")
    initial = {
        "version": milestone.version,
        "name": milestone.name,
        "kind": milestone.kind,
        "planned_date": milestone.planned_date,
        "actual_date": milestone.actual_date,
        "phase": milestone.phase_id,
    }
    form = MilestoneForm(request.POST or None, initial=initial, phases=_phase_choices(release))
    return form_page(
        request,
        form=form,
        title=f"Edit milestone {milestone.name} of {release}",
        save=lambda data: services.milestone_update(actor=request.user, milestone=milestone, **_changed(data, initial)),
        success="Milestone {object.name} is saved.",
        done_url=_release_tab(release, "milestones"),
        cancel_url=_release_tab(release, "milestones"),
    )


@login_required
@require_POST
def milestone_delete(request, pk: int):
    milestone = _release_part(Milestone, request, pk)
    release = milestone.release
    _apply(
        request,
        lambda: services.milestone_delete(actor=request.user, milestone=milestone),
        f"Milestone {milestone.name} is removed.",
    )
    return redirect(_release_tab(release, "milestones"))


def _check_choices() -> list[tuple[str, str]]:
    return sorted(((key, check.label) for key, check in checks.gate_checks().items()), key=lambda pair: pair[1])


@login_required
def gate_create(request, pk: int):
    release = selectors.release_get(user=request.user, pk=pk)
    if not request.user.has_perm("releases.add_gate"):
        return _refused(request, release, "gates", "Your roles may not add gates.")
    form = GateForm(
        request.POST or None,
        phases=_phase_choices(release),
        checks=_check_choices(),
        initial={"due_date": release.planned_end, "approver_roles": ["release_manager"]},
    )
    return form_page(
        request,
        form=form,
        title=f"New gate of {release}",
        save=lambda data: services.gate_create(actor=request.user, release=release, **without_version(data)),
        success="Gate {object.name} is added.",
        done_url=_release_tab(release, "gates"),
        cancel_url=_release_tab(release, "gates"),
    )


@login_required
def gate_update(request, pk: int):
    gate = _release_part(Gate, request, pk)
    release = gate.release
    if not request.user.has_perm("releases.change_gate"):
        return _refused(request, release, "gates", "Your roles may not change gates.")
    initial = {
        "version": gate.version,
        "name": gate.name,
        "blocks": gate.blocks,
        "due_date": gate.due_date,
        "phase": gate.phase_id,
        "approver_roles": list(gate.approver_roles or ()),
        "checklist": [c.text for c in gate.criteria.order_by("position", "id") if c.kind == CriterionKind.MANUAL],
        "checks": [c.check_key for c in gate.criteria.order_by("position", "id") if c.kind == CriterionKind.AUTOMATIC],
    }
    form = GateForm(request.POST or None, initial=initial, phases=_phase_choices(release), checks=_check_choices())
    return form_page(
        request,
        form=form,
        title=f"Edit gate {gate.name} of {release}",
        save=lambda data: services.gate_update(actor=request.user, gate=gate, **_changed(data, initial)),
        success="Gate {object.name} is saved.",
        done_url=_release_tab(release, "gates"),
        cancel_url=_release_tab(release, "gates"),
    )


@login_required
@require_POST
def gate_delete(request, pk: int):
    gate = _release_part(Gate, request, pk)
    release = gate.release
    _apply(request, lambda: services.gate_delete(actor=request.user, gate=gate), f"Gate {gate.name} is removed.")
    return redirect(_release_tab(release, "gates"))


def _gate_answer(request, gate, action, success: str) -> HttpResponse:
    """Run a gate service; htmx gets the gate's card again (with the refusal in it), a plain post the page."""
    if request.htmx:
        error = None
        try:
            action()
        except DomainError as exc:
            error = _domain_message(exc)
        fresh = _gate_fresh(gate.pk)
        context = _gate_card(request, fresh, error=error)
        context["success"] = None if error else success
        return HttpResponse(
            render_to_string("releases/partials/_gate_card.html", context, request=request)
            + _release_overview_oob(request, fresh.release)
        )
    _apply(request, action, success)
    return redirect(_release_tab(gate.release, "gates"))


@login_required
@require_POST
def gate_decide(request, pk: int):
    """Approve or reject a gate as one of the roles the user holds and the gate needs."""
    gate = _release_part(Gate, request, pk)
    form = GateDecisionForm(request.POST, roles=gate.approver_roles or (), prefix=f"gate{gate.pk}")
    if not form.is_valid():
        return _gate_answer(request, gate, _refuse("Choose one of the gate's approving roles and a decision."), "")
    data = form.cleaned_data
    decided = "approved" if data["decision"] == ApprovalDecision.APPROVED else "rejected"
    return _gate_answer(
        request,
        gate,
        lambda: services.gate_decide(actor=request.user, gate=gate, **data),
        f"{gate.name}: {decided} as {role_label(data['role'])}.",
    )


def _release_overview_oob(request, release) -> str:
    """The release's status moves and health, re-rendered for htmx to swap in place: a gate decision can unblock a
    move or change the risk score."""
    context = {
        "object": release,
        "oob": True,
        "status_badge": _status_badge(release),
        "transitions": _release_transitions(request.user, release),
        "health": selectors.release_health_for(user=request.user, release=release),
    }
    badge = format_html(
        '<span id="release-health-badge" hx-swap-oob="true">{}</span>',
        render_to_string("releases/partials/_release_health_badge.html", context, request=request),
    )
    return (
        render_to_string("releases/partials/_release_status.html", context, request=request)
        + render_to_string("releases/partials/_release_health.html", context, request=request)
        + badge
    )


def _refuse(message: str):
    def action():
        raise DomainError(message)

    return action


@login_required
@require_POST
def gate_override(request, pk: int):
    """Pass a gate without meeting its criteria, with a reason that is shown on the gate from then on."""
    gate = _release_part(Gate, request, pk)
    form = GateReasonForm(request.POST, prefix=f"override{gate.pk}")
    if not form.is_valid():
        return _gate_answer(request, gate, _refuse("An override needs a reason."), "")
    reason = form.cleaned_data["reason"]
    return _gate_answer(
        request,
        gate,
        lambda: services.gate_override(actor=request.user, gate=gate, reason=reason),
        f"{gate.name} is overridden.",
    )


@login_required
@require_POST
def gate_reopen(request, pk: int):
    """Reopen a rejected gate: its decisions are cleared, with a reason."""
    gate = _release_part(Gate, request, pk)
    form = GateReasonForm(request.POST, prefix=f"reopen{gate.pk}")
    if not form.is_valid():
        return _gate_answer(request, gate, _refuse("Reopening a gate needs a reason."), "")
    reason = form.cleaned_data["reason"]
    return _gate_answer(
        request,
        gate,
        lambda: services.gate_reopen(actor=request.user, gate=gate, reason=reason),
        f"{gate.name} is open again.",
    )


@login_required
@require_POST
def criterion_tick(request, pk: int):
    """Tick (or untick) a checklist item of an open gate."""
    criterion = _criterion_get(request, pk)
    gate = criterion.gate
    form = CriterionTickForm(request.POST)
    is_met = form.is_valid() and form.cleaned_data["is_met"]
    return _gate_answer(
        request,
        gate,
        lambda: services.gate_criterion_set(actor=request.user, criterion=criterion, is_met=is_met),
        f"{criterion.text}: {'ticked' if is_met else 'not ticked'}.",
    )


# Scope and trains


@login_required
@require_POST
def scope_set(request, pk: int):
    """Add a system to the release's scope, or change its impact or target version."""
    release = selectors.release_get(user=request.user, pk=pk)
    form = ScopeForm(request.POST, systems=_visible(System, request.user))
    if form.is_valid():
        data = form.cleaned_data
        _apply(
            request,
            lambda: services.release_scope_set(actor=request.user, release=release, **data),
            f"{data['system']} is in scope.",
        )
    else:
        messages.error(request, "Choose a system and its impact.")
    return redirect(_release_tab(release, "scope"))


@login_required
@require_POST
def scope_remove(request, pk: int, system_id: int):
    release = selectors.release_get(user=request.user, pk=pk)
    system = _visible(System, request.user).get_visible(pk=system_id)
    _apply(
        request,
        lambda: services.release_scope_remove(actor=request.user, release=release, system=system),
        f"{system} is out of scope.",
    )
    return redirect(_release_tab(release, "scope"))


@login_required
@require_POST
def scope_add_suggested(request, pk: int):
    """Add every suggested regression-dependent system to the scope."""
    release = selectors.release_get(user=request.user, pk=pk)
    added = []

    def add():
        added.extend(services.release_scope_add_suggested(actor=request.user, release=release))

    if _apply(request, add, "Suggested systems are added as regression-dependent.") and not added:
        messages.info(request, "There was no system left to suggest.")
    return redirect(_release_tab(release, "scope"))


@login_required
@require_POST
def child_add(request, pk: int):
    """Put a project release into this train, keeping its own phase dates or inheriting the train's."""
    train = selectors.release_get(user=request.user, pk=pk)
    form = ChildAddForm(request.POST, releases=_visible(Release, request.user))
    if form.is_valid():
        child, inherit = form.cleaned_data["release"], form.cleaned_data["dates"] == "inherit"
        _apply(
            request,
            lambda: services.release_add_to_train(
                actor=request.user, train=train, release=child, inherit_dates=inherit
            ),
            f"{child} travels in {train}" + (", following its phase dates." if inherit else ", keeping its own dates."),
        )
    else:
        messages.error(request, "Choose the project release to add and whether it keeps its own dates.")
    return redirect(_release_tab(train, "train"))


@login_required
@require_POST
def train_join(request, pk: int):
    """From a standalone project release: join a train (the same service as adding it from the train's page)."""
    release = selectors.release_get(user=request.user, pk=pk)
    form = TrainJoinForm(request.POST, trains=_visible(Release, request.user))
    if form.is_valid():
        train, inherit = form.cleaned_data["train"], form.cleaned_data["dates"] == "inherit"
        _apply(
            request,
            lambda: services.release_add_to_train(
                actor=request.user, train=train, release=release, inherit_dates=inherit
            ),
            f"{release} travels in {train}.",
        )
    else:
        messages.error(request, "Choose the train and whether the release keeps its own dates.")
    return redirect(_release_tab(release, "train"))


@login_required
@require_POST
def child_remove(request, pk: int):
    """Take a project release out of its train (from either page); its phases keep the dates they have."""
    release = selectors.release_get(user=request.user, pk=pk)
    train = release.train
    _apply(
        request,
        lambda: services.release_remove_from_train(actor=request.user, release=release),
        f"{release} has left {train}." if train else f"{release} is in no train.",
    )
    back = request.POST.get("back")
    if back == "train" and train is not None:
        return redirect(_release_tab(train, "train"))
    return redirect(_release_tab(release, "train"))


# Timeline, calendar and impact matrix

TIMELINE_ZOOMS = [("day", "Day"), ("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]
# A browser draws a few hundred timeline rows briskly and thousands slowly (grouped by system, an enterprise has
# thousands): beyond this many rows the page keeps the busiest and says what it left out.
TIMELINE_ROWS = 200
CATEGORY_LABELS = dict(FreezeCategory.choices)
SCOPE_LABELS = dict(FreezeScope.choices)


def _planning_filter_choices(user) -> dict:
    """The portfolios, departments and systems `user` may narrow the planning views by."""
    return {
        "portfolios": _visible(Portfolio, user).order_by("name"),
        "departments": _visible(Department, user).order_by("name"),
        "systems": _visible(System, user).order_by("name"),
    }


def _freeze_rows(occurrences: list[dict]) -> list[dict]:
    """The freezes of a timeline or calendar as table rows, with labels and real dates."""
    return [
        {
            **occurrence,
            "start": datetime.date.fromisoformat(occurrence["start"]),
            "end": datetime.date.fromisoformat(occurrence["end"]),
            "category_label": CATEGORY_LABELS.get(occurrence["category"], occurrence["category"]),
            "scope_label": SCOPE_LABELS.get(occurrence["scope"], occurrence["scope"]),
        }
        for occurrence in occurrences
    ]


def _busiest_rows(data: dict, most: int) -> dict:
    """Keep the `most` groups with the most releases (in their order) and the releases in them; count the rest."""
    if len(data["groups"]) <= most:
        return {"groups": 0, "releases": 0}
    sizes = Counter(group for release in data["releases"] for group in release["groups"])
    kept = {group["id"] for group in sorted(data["groups"], key=lambda group: -sizes[group["id"]])[:most]}
    releases = len(data["releases"])
    data["groups"] = [group for group in data["groups"] if group["id"] in kept]
    for release in data["releases"]:
        release["groups"] = [group for group in release["groups"] if group in kept]
    data["releases"] = [release for release in data["releases"] if release["groups"]]
    return {"groups": len(sizes) - len(kept), "releases": releases - len(data["releases"])}


@login_required
def timeline(request):
    """The consolidated timeline: every release the user sees, by health, with phases, markers and freezes."""
    choices = _planning_filter_choices(request.user)
    form = TimelineFilterForm(request.GET, today=timezone.localdate(), **choices)
    data = None
    if form.is_valid():
        filters = form.cleaned_data
        try:
            data = selectors.timeline_data(
                user=request.user,
                start=filters["start"],
                end=filters["end"],
                group_by=filters["group_by"],
                portfolio=filters.get("portfolio"),
                department=filters.get("department"),
                system=filters.get("system"),
                status=filters.get("status") or None,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Show the period and grouping in effect, filled in where the request left them out.
            form = TimelineFilterForm(initial=filters, today=timezone.localdate(), **choices)
    context = {"form": form, "timeline": data, "zooms": TIMELINE_ZOOMS}
    if data is not None:
        context.update(
            left_out=_busiest_rows(data, TIMELINE_ROWS),
            start=datetime.date.fromisoformat(data["start"]),
            end=datetime.date.fromisoformat(data["end"]),
            group_by_label=dict(form.fields["group_by"].choices).get(data["group_by"], data["group_by"]),
            freezes=_freeze_rows(data["freezes"]),
            phase_kinds=PhaseKind.choices,
            gate_statuses=GateStatus.choices,
        )
    template = "releases/partials/_timeline_body.html" if request.htmx else "releases/timeline.html"
    return render(request, template, context)


CALENDAR_SHOWN = 5  # entries a day shows before "n more"; an enterprise has hundreds of gates due some days
GATE_ICONS = {
    GateStatus.PASSED: "bi-check-circle-fill text-success",
    GateStatus.REJECTED: "bi-x-circle-fill text-danger",
    GateStatus.OVERRIDDEN: "bi-exclamation-circle-fill text-warning",
}


def _calendar_entries(day: dict) -> list[dict]:
    """One day's releases starting and ending, milestones and gates due, as the lines the calendar shows."""
    entries = [
        {"url": r["url"], "text": r["name"], "title": f"{r['name']} {verb}", "icon": icon, "says": verb.capitalize()}
        for verb, icon in (("starts", "bi-play-fill text-success"), ("ends", "bi-stop-fill text-danger"))
        for r in day[verb]
    ]
    for m in day["milestones"]:
        if m["in_freeze"]:
            icon, title = "bi-exclamation-diamond-fill text-danger", f". Deploy inside the freeze {m['in_freeze']}"
        else:
            icon, title = "bi-diamond-fill " + ("text-primary" if m["kind"] == "deploy" else "text-body"), ""
        entries.append(
            {
                "url": m["url"],
                "text": f"{m['name']} · {m['release']}",
                "title": f"{m['release']}: {m['name']}{' (reached)' if m['reached'] else ''}{title}",
                "icon": icon + (" opacity-50" if m["reached"] else ""),
                "warning": bool(m["in_freeze"]),
                "says": "Deploy inside a freeze" if m["in_freeze"] else "Milestone",
            }
        )
    entries += [
        {
            "url": g["url"],
            "text": f"{g['name']} · {g['release']}",
            "title": f"{g['release']}: gate {g['name']} ({GateStatus(g['status']).label.lower()})",
            "icon": GATE_ICONS.get(g["status"], "bi-circle"),
            "says": f"Gate {GateStatus(g['status']).label.lower()}",
        }
        for g in day["gates"]
    ]
    return entries


@login_required
def calendar(request):
    """A month of releases starting and ending, milestones and gates due, and freeze days, Monday first."""
    form = CalendarFilterForm(request.GET)
    today = timezone.localdate()
    month = form.cleaned_data.get("month") if form.is_valid() else None
    month = month or today.replace(day=1)
    try:
        data = selectors.release_calendar(user=request.user, year=month.year, month=month.month)
    except DomainError as exc:
        add_domain_error(form, exc)
        month = today.replace(day=1)
        data = selectors.release_calendar(user=request.user, year=month.year, month=month.month)
    if not form.errors:
        form = CalendarFilterForm(initial={"month": month})
    for week in data["weeks"]:
        for day in week:
            entries = _calendar_entries(day)
            day["shown"], day["more"] = entries[:CALENDAR_SHOWN], entries[CALENDAR_SHOWN:]
    return render(
        request,
        "releases/calendar.html",
        {
            "form": form,
            "calendar": data,
            "month": month,
            "previous": datetime.date(data["previous"]["year"], data["previous"]["month"], 1),
            "next": datetime.date(data["next"]["year"], data["next"]["month"], 1),
            "this_month": today.replace(day=1),
        },
    )


IMPACT_COLOURS = {1: "#ffc107", 2: "#dc3545"}


def _impact_chart(matrix: dict) -> dict:
    """The matrix as a `heatmap` chart: releases across, systems down, a colour per impact level."""
    return {
        "kind": "heatmap",
        "x": [release["name"] for release in matrix["releases"]],
        "y": [system["name"] for system in matrix["systems"]],
        "cells": matrix["cells"],
        "levels": [
            {"value": level["value"], "label": level["label"], "color": IMPACT_COLOURS.get(level["value"], "#6c757d")}
            for level in matrix["impact_levels"]
        ],
        "x_links": [release["url"] for release in matrix["releases"]],
        "y_links": [system["url"] for system in matrix["systems"]],
        "height": 120 + 26 * len(matrix["systems"]),
    }


@login_required
def impact_matrix(request):
    """Which systems the coming months' releases change or put at regression risk: a heat map and its table."""
    form = ImpactMatrixFilterForm(request.GET)
    today = timezone.localdate()
    matrix = None
    if form.is_valid():
        start = form.cleaned_data.get("start") or today.replace(day=1)
        months = form.cleaned_data.get("months") or 6
        try:
            matrix = selectors.impact_matrix(user=request.user, start=start, months=months)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            form = ImpactMatrixFilterForm(initial={"start": start, "months": months})
    context = {"form": form, "matrix": matrix}
    if matrix is not None:
        cells = {(column, row): value for column, row, value in matrix["cells"]}
        levels = {level["value"]: level for level in matrix["impact_levels"]}
        context.update(
            start=datetime.date.fromisoformat(matrix["start"]),
            end=datetime.date.fromisoformat(matrix["end"]),
            chart=_impact_chart(matrix),
            rows=[
                {
                    "system": system,
                    "cells": [levels.get(cells.get((column, row))) for column in range(len(matrix["releases"]))],
                }
                for row, system in enumerate(matrix["systems"])
            ],
        )
    return render(request, "releases/impact_matrix.html", context)


# Templates and freeze windows


FREEZE_OCCURRENCES_SHOWN = 12
FREEZE_LOOKAHEAD_DAYS = 3 * 366  # how far ahead the list's "next" and the releases deploying inside look
FREEZE_OCCURRENCES_DAYS = 11 * 366  # the freeze's page lists its next occurrences from up to ten years of recurrence
FREEZE_RELEASES_SHOWN = 200


def planning_sections(current: str) -> str:
    """The line of links between the release-planning pages, for pages built by `core.ui`."""
    return render_to_string("releases/partials/_planning_views.html", {"current": current})


def _working_days(days: int) -> str:
    return f"{days} working day{'s' if days != 1 else ''}"


def _milestone_when(milestone) -> str:
    """Where a milestone template falls, in words: '2 working days before the end of UAT'."""
    anchor = f"the {'start' if milestone.anchor == MilestoneAnchor.PHASE_START else 'end'} of {milestone.phase.name}"
    if not milestone.offset_days:
        return f"At {anchor}"
    side = "after" if milestone.offset_days > 0 else "before"
    return f"{_working_days(abs(milestone.offset_days))} {side} {anchor}"


def _freeze_covers(window) -> str:
    """What a freeze window applies to, in words (its portfolios and systems prefetched)."""
    if window.scope == FreezeScope.PORTFOLIOS:
        names = [portfolio.name for portfolio in window.portfolios.all()]
    elif window.scope == FreezeScope.SYSTEMS:
        names = [system.name for system in window.systems.all()]
    elif window.scope == FreezeScope.ENVIRONMENTS:
        labels = dict(EnvironmentType.choices)
        names = [labels.get(kind, kind) for kind in window.environment_types or ()]
    else:
        return "Whole organisation"
    shown = ", ".join(sorted(names)[:5]) or "none chosen"
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f"{window.get_scope_display()}: {shown}{more}"


def _freeze_dates(window) -> str:
    return f"{window.starts_on:%-d %b %Y} to {window.ends_on:%-d %b %Y}"


def _freeze_repeats(window) -> str:
    if window.recurrence == Recurrence.NONE:
        return "One-off"
    until = f" until {window.recurs_until:%-d %b %Y}" if window.recurs_until else ""
    return f"{window.get_recurrence_display()}{until}"


def _freeze_upcoming(window, today: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """The occurrences of a window in force today or to come (within the look-ahead)."""
    return freezes.freeze_occurrences(window, today, today + datetime.timedelta(days=FREEZE_LOOKAHEAD_DAYS))


def _freeze_next(window, today: datetime.date):
    upcoming = _freeze_upcoming(window, today)
    if not upcoming:
        return None
    first, last = upcoming[0]
    if first <= today:
        return format_html('<span class="badge text-bg-danger">in force</span> to {}', f"{last:%-d %b %Y}")
    return f"{first:%-d %b %Y}"


# Release templates


@login_required
def template_list(request):
    """The standard release lifecycles, with how many phases each has and how long it runs."""
    filters = TemplateFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    templates = selectors.template_list(
        user=request.user,
        search=data.get("q") or None,
        release_kind=data.get("release_kind") or None,
        is_active={"yes": True, "no": False}.get(data.get("active") or ""),
    )
    return list_page(
        request,
        title="Release templates",
        intro=format_html(
            "{}{}",
            planning_sections("templates"),
            "Standard lifecycles: ordered phases with their default length in working days, milestones and quality "
            "gates. A release created from a template on a start date gets them laid out on its working calendar.",
        ),
        queryset=templates,
        columns=[
            Column("Name", lambda t: t.name, link=True),
            Column("For", lambda t: t.get_release_kind_display()),
            Column("Phases", lambda t: t.phase_count, numeric=True),
            Column("Working days", lambda t: t.working_days or 0, numeric=True),
            Column("Gates", lambda t: t.gate_count, numeric=True),
            Column("Releases made from it", lambda t: t.release_count, numeric=True),
            Column(
                "Active",
                lambda t: format_html(
                    '<span class="badge {}">{}</span>',
                    "text-bg-success" if t.is_active else "text-bg-secondary",
                    "active" if t.is_active else "inactive",
                ),
            ),
        ],
        filters=filters,
        create_url=_may(request, "releases.add_releasetemplate", reverse("releases:template_create")),
    )


def _template_preview(request, template) -> dict:
    """The template laid out on a sample start date: bars and markers placed in percent of the whole span."""
    calendars = _visible(Calendar, request.user).order_by("name")
    form = TemplatePreviewForm(request.GET or None, calendars=calendars)
    data = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    start = data.get("start") or today + datetime.timedelta(days=7 - today.weekday())
    chosen = data.get("calendar")
    if not form.is_bound:
        form = TemplatePreviewForm(initial={"start": start}, calendars=calendars)
    working = working_calendar(chosen)
    try:
        planned = layout.template_layout(template, start, working)
    except (ValueError, DomainError) as exc:
        form.add_error("start", getattr(exc, "detail", str(exc)))
        return {"form": form, "rows": []}
    if not planned.phases:
        return {"form": form, "rows": []}
    span_start = min(phase.start for phase in planned.phases)
    span_end = max([planned.end, *(m.date for m in planned.milestones), *(g.due_date for g in planned.gates)])
    total = (span_end - span_start).days + 1

    def left(day: datetime.date, middle: bool = False) -> float:
        return round(((day - span_start).days + (0.5 if middle else 0)) / total * 100, 2)

    def markers(phase_template_id):
        found = [
            {"left": left(m.date, True), "label": f"{m.template.name}: {m.date:%a %-d %b %Y}", "kind": "milestone"}
            for m in planned.milestones
            if m.template.phase_id == phase_template_id
        ]
        found += [
            {
                "left": left(g.due_date, True),
                "label": f"Gate {g.template.name}: {g.due_date:%a %-d %b %Y}",
                "kind": "gate",
            }
            for g in planned.gates
            if g.template.phase_id == phase_template_id
        ]
        return found

    rows = [
        {
            "name": phase.template.name,
            "kind": phase.template.kind,
            "start": phase.start,
            "end": phase.end,
            "left": left(phase.start),
            "width": round(((phase.end - phase.start).days + 1) / total * 100, 2),
            "markers": markers(phase.template.pk),
        }
        for phase in planned.phases
    ]
    release_end = [marker for marker in markers(None) if marker["kind"] == "gate"]
    ticks = []
    if total <= 70:  # a short lifecycle is marked by weeks (Mondays), a longer one by months
        day = span_start + datetime.timedelta(days=(7 - span_start.weekday()) % 7 or 7)
        while day <= span_end:
            ticks.append({"left": left(day), "label": f"{day:%-d %b}"})
            day += datetime.timedelta(days=7)
    else:
        month = span_start.replace(day=1)
        while month <= span_end:
            if month > span_start:
                ticks.append({"left": left(month), "label": f"{month:%b %Y}" if month.month == 1 else f"{month:%b}"})
            month = (month + datetime.timedelta(days=32)).replace(day=1)
    return {
        "form": form,
        "rows": rows,
        "release_end": release_end,
        "ticks": ticks,
        "start": span_start,
        "end": planned.end,
        "milestones": planned.milestones,
        "gates": planned.gates,
        "working_days": working.working_days_in(span_start, planned.end),
    }


@login_required
def template_detail(request, pk: int):
    """A template's lifecycle: its phases in order, milestones and gates, each editable, and a dated preview."""
    template = selectors.template_get(user=request.user, pk=pk)
    preview = _template_preview(request, template)
    if request.htmx and request.GET.get("preview"):
        return render(request, "releases/partials/_template_preview.html", {"object": template, "preview": preview})
    milestones = list(template.milestones.all())
    for milestone in milestones:
        milestone.when = _milestone_when(milestone)
    gates = list(template.gates.all())
    for gate in gates:
        gate.role_labels = [role_label(role) for role in gate.approver_roles or ()]
        gate.check_labels = [checks.check_label(key) for key in gate.checks or ()]
    phases = list(template.phases.all())
    return detail_page(
        request,
        obj=template,
        template="releases/template_detail.html",
        list_url=reverse("releases:template_list"),
        list_title="Release templates",
        fields=[
            ("For", template.get_release_kind_display()),
            ("Active", "Yes: offered when a release is created" if template.is_active else "No: kept, not offered"),
            ("Phases", len(phases)),
            ("Length", _working_days(template.working_days)),
            ("Releases made from it", template.release_count),
            ("Description", template.description),
        ],
        edit_url=_may(request, "releases.change_releasetemplate", reverse("releases:template_update", args=[pk])),
        delete_url=_may(request, "releases.delete_releasetemplate", reverse("releases:template_delete", args=[pk])),
        phases=phases,
        milestones=milestones,
        gates=gates,
        preview=preview,
    )


@login_required
@permission_required("releases.add_releasetemplate", raise_exception=True)
def template_create(request):
    return form_page(
        request,
        form=TemplateForm(request.POST or None, initial={"is_active": True}),
        title="New release template",
        save=lambda data: services.template_create(actor=request.user, **without_version(data)),
        success="Template {object} is created: add its phases, milestones and gates.",
        cancel_url=reverse("releases:template_list"),
    )


@login_required
@permission_required("releases.change_releasetemplate", raise_exception=True)
def template_update(request, pk: int):
    template = selectors.template_get(user=request.user, pk=pk)
    initial = {
        "version": template.version,
        "name": template.name,
        "release_kind": template.release_kind,
        "description": template.description,
        "is_active": template.is_active,
    }
    return form_page(
        request,
        form=TemplateForm(request.POST or None, initial=initial),
        title=f"Edit {template}",
        save=lambda data: services.template_update(actor=request.user, template=template, **data),
        success="Template {object} is saved.",
        cancel_url=template.get_absolute_url(),
    )


@login_required
@permission_required("releases.delete_releasetemplate", raise_exception=True)
def template_delete(request, pk: int):
    template = selectors.template_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=template,
        delete=lambda: services.template_delete(actor=request.user, template=template),
        done_url=reverse("releases:template_list"),
        cancel_url=template.get_absolute_url(),
    )


def _template_part(model, request, pk: int):
    """A phase, milestone or gate of a template the user may see, with its template."""
    return _visible(model, request.user).select_related("template").get_visible(pk=pk)


def _part_form(request, *, template, form, title: str, save, success: str):
    """The form for one phase, milestone or gate of a template: a page of its own, or (htmx) inline on the
    template's page. A valid save goes back to the template; a refusal is shown on the form."""
    back = template.get_absolute_url()
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, success)
            if request.htmx:
                return HttpResponse(status=204, headers={"HX-Redirect": back})
            return redirect(back)
    context = {"form": form, "title": title, "cancel_url": back, "owner": template, "action": request.path}
    if request.htmx:
        # htmx swaps only successful answers: the form with its messages comes back as a 200
        return render(request, "releases/partials/_template_part_form.html", context)
    return render(request, "releases/template_part_form.html", context, status=422 if form.errors else 200)


def _template_phase_choices(template):
    return PhaseTemplate.objects.filter(template=template).order_by("position")


@login_required
@permission_required("releases.add_phasetemplate", raise_exception=True)
def phasetemplate_create(request, pk: int):
    template = selectors.template_get(user=request.user, pk=pk)
    return _part_form(
        request,
        template=template,
        form=PhaseTemplateForm(request.POST or None, initial={"is_required": True, "test_effort_days": 0}),
        title=f"Add a phase to {template}",
        save=lambda data: services.phase_template_add(actor=request.user, template=template, **without_version(data)),
        success="The phase is added.",
    )


@login_required
@permission_required("releases.change_phasetemplate", raise_exception=True)
def phasetemplate_update(request, pk: int):
    phase = _template_part(PhaseTemplate, request, pk)
    initial = {
        "version": phase.version,
        "name": phase.name,
        "kind": phase.kind,
        "duration_days": phase.duration_days,
        "start_offset_days": phase.start_offset_days,
        "position": phase.position,
        "environment_type": phase.environment_type,
        "test_effort_days": phase.test_effort_days,
        "is_required": phase.is_required,
    }

    def save(data):
        # Left empty on an edit: kept as they are.
        for name in ("start_offset_days", "position"):
            if data.get(name) is None:
                data.pop(name, None)
        return services.phase_template_update(actor=request.user, phase_template=phase, **data)

    return _part_form(
        request,
        template=phase.template,
        form=PhaseTemplateForm(request.POST or None, initial=initial),
        title=f"Edit the phase {phase.name}",
        save=save,
        success=f"Phase {phase.name} is saved.",
    )


@login_required
@require_POST
@permission_required("releases.delete_phasetemplate", raise_exception=True)
def phasetemplate_delete(request, pk: int):
    phase = _template_part(PhaseTemplate, request, pk)
    _apply(
        request,
        lambda: services.phase_template_delete(actor=request.user, phase_template=phase),
        f"Phase {phase.name} is removed from the template.",
    )
    return redirect(phase.template.get_absolute_url())


@login_required
@permission_required("releases.add_milestonetemplate", raise_exception=True)
def milestonetemplate_create(request, pk: int):
    template = selectors.template_get(user=request.user, pk=pk)
    return _part_form(
        request,
        template=template,
        form=MilestoneTemplateForm(request.POST or None, phases=_template_phase_choices(template)),
        title=f"Add a milestone to {template}",
        save=lambda data: services.milestone_template_add(
            actor=request.user, template=template, **without_version(data)
        ),
        success="The milestone is added.",
    )


@login_required
@permission_required("releases.change_milestonetemplate", raise_exception=True)
def milestonetemplate_update(request, pk: int):
    milestone = _template_part(MilestoneTemplate, request, pk)
    initial = {
        "version": milestone.version,
        "name": milestone.name,
        "kind": milestone.kind,
        "phase": milestone.phase_id,
        "anchor": milestone.anchor,
        "offset_days": milestone.offset_days,
    }
    return _part_form(
        request,
        template=milestone.template,
        form=MilestoneTemplateForm(
            request.POST or None, initial=initial, phases=_template_phase_choices(milestone.template)
        ),
        title=f"Edit the milestone {milestone.name}",
        save=lambda data: services.milestone_template_update(actor=request.user, milestone_template=milestone, **data),
        success=f"Milestone {milestone.name} is saved.",
    )


@login_required
@require_POST
@permission_required("releases.delete_milestonetemplate", raise_exception=True)
def milestonetemplate_delete(request, pk: int):
    milestone = _template_part(MilestoneTemplate, request, pk)
    _apply(
        request,
        lambda: services.milestone_template_delete(actor=request.user, milestone_template=milestone),
        f"Milestone {milestone.name} is removed from the template.",
    )
    return redirect(milestone.template.get_absolute_url())


@login_required
@permission_required("releases.add_gatetemplate", raise_exception=True)
def gatetemplate_create(request, pk: int):
    template = selectors.template_get(user=request.user, pk=pk)
    form = GateTemplateForm(
        request.POST or None,
        initial={"approver_roles": [Role.RELEASE_MANAGER]},
        phases=_template_phase_choices(template),
        checks=_check_choices(),
    )
    return _part_form(
        request,
        template=template,
        form=form,
        title=f"Add a gate to {template}",
        save=lambda data: services.gate_template_add(actor=request.user, template=template, **without_version(data)),
        success="The gate is added.",
    )


@login_required
@permission_required("releases.change_gatetemplate", raise_exception=True)
def gatetemplate_update(request, pk: int):
    gate = _template_part(GateTemplate, request, pk)
    initial = {
        "version": gate.version,
        "name": gate.name,
        "phase": gate.phase_id,
        "blocks": gate.blocks,
        "approver_roles": gate.approver_roles,
        "checklist": gate.checklist,
        "checks": gate.checks,
    }
    known = _check_choices()
    # A check whose app is gone stays choosable on the gate that has it, so saving does not silently drop it.
    gone = [(key, f"{key} (no longer available)") for key in gate.checks or () if key not in dict(known)]
    form = GateTemplateForm(
        request.POST or None, initial=initial, phases=_template_phase_choices(gate.template), checks=known + gone
    )
    return _part_form(
        request,
        template=gate.template,
        form=form,
        title=f"Edit the gate {gate.name}",
        save=lambda data: services.gate_template_update(actor=request.user, gate_template=gate, **data),
        success=f"Gate {gate.name} is saved.",
    )


@login_required
@require_POST
@permission_required("releases.delete_gatetemplate", raise_exception=True)
def gatetemplate_delete(request, pk: int):
    gate = _template_part(GateTemplate, request, pk)
    _apply(
        request,
        lambda: services.gate_template_delete(actor=request.user, gate_template=gate),
        f"Gate {gate.name} is removed from the template.",
    )
    return redirect(gate.template.get_absolute_url())


# Freeze windows


@login_required
def freezewindow_list(request):
    """Blackouts for deployments, changes or bookings: once or recurring, for everyone or some portfolios, systems
    or environments."""
    filters = FreezeFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    today = timezone.localdate()
    when = data.get("when") or ""
    windows = selectors.freeze_list(
        user=request.user,
        filters={
            "search": data.get("q") or None,
            "category": data.get("category") or None,
            "scope": data.get("scope") or None,
            "start": today if when == "upcoming" else None,
        },
    )
    if when:
        # Exact, by the recurrence itself: a recurring freeze may have ended long before its "until".
        windows = [window for window in windows if bool(_freeze_upcoming(window, today)) == (when == "upcoming")]
    return list_page(
        request,
        title="Freeze windows",
        intro=format_html(
            "{}{}",
            planning_sections("freezes"),
            "Days in which deployments, changes or environment bookings are not allowed. Every timeline shades "
            "them; a release's deploy milestone inside a deployment freeze that covers it is flagged.",
        ),
        queryset=windows,
        columns=[
            Column("Name", lambda w: w.name, link=True),
            Column("Freezes", lambda w: w.get_category_display()),
            Column("Applies to", _freeze_covers),
            Column("Dates", _freeze_dates),
            Column("Repeats", _freeze_repeats),
            Column("Next", lambda w: _freeze_next(w, today)),
        ],
        filters=filters,
        create_url=_may(request, "releases.add_freezewindow", reverse("releases:freezewindow_create")),
    )


@login_required
def freezewindow_detail(request, pk: int):
    """A freeze window: what it covers, its next occurrences and the releases that deploy inside it."""
    window = selectors.freeze_get(user=request.user, pk=pk)
    today = timezone.localdate()
    upcoming = freezes.freeze_occurrences(window, today, today + datetime.timedelta(days=FREEZE_OCCURRENCES_DAYS))
    occurrences = [
        {"start": start, "end": end, "days": (end - start).days + 1, "now": start <= today <= end}
        for start, end in upcoming[:FREEZE_OCCURRENCES_SHOWN]
    ]
    affected = selectors.freeze_affected_releases(
        user=request.user, window=window, today=today, lookahead_days=FREEZE_LOOKAHEAD_DAYS
    )
    shown = affected[:FREEZE_RELEASES_SHOWN]
    health = selectors.release_health_map(
        user=request.user, release_ids=sorted({row["release"].pk for row in shown}), today=today
    )
    for row in shown:
        row["health"] = health.get(row["release"].pk)
    return detail_page(
        request,
        obj=window,
        template="releases/freezewindow_detail.html",
        list_url=reverse("releases:freezewindow_list"),
        list_title="Freeze windows",
        fields=[
            ("Freezes", window.get_category_display()),
            ("Applies to", _freeze_covers(window)),
            ("First occurrence", _freeze_dates(window)),
            ("Repeats", _freeze_repeats(window)),
            ("Reason", window.reason),
        ],
        edit_url=_may(request, "releases.change_freezewindow", reverse("releases:freezewindow_update", args=[pk])),
        delete_url=_may(request, "releases.delete_freezewindow", reverse("releases:freezewindow_delete", args=[pk])),
        occurrences=occurrences,
        more_occurrences=len(upcoming) > FREEZE_OCCURRENCES_SHOWN,
        affected=shown,
        affected_more=len(affected) > FREEZE_RELEASES_SHOWN,
        releases_apply=window.category == FreezeCategory.DEPLOYMENT and window.scope != FreezeScope.ENVIRONMENTS,
    )


def _freeze_form(request, initial=None):
    return FreezeWindowForm(
        request.POST or None,
        initial=initial,
        portfolios=_visible(Portfolio, request.user).order_by("name"),
        systems=_visible(System, request.user).order_by("name"),
    )


@login_required
@permission_required("releases.add_freezewindow", raise_exception=True)
def freezewindow_create(request):
    return form_page(
        request,
        form=_freeze_form(request),
        title="New freeze window",
        save=lambda data: services.freeze_create(actor=request.user, **without_version(data)),
        success="Freeze window {object} is created.",
        cancel_url=reverse("releases:freezewindow_list"),
        template="releases/freezewindow_form.html",
    )


@login_required
@permission_required("releases.change_freezewindow", raise_exception=True)
def freezewindow_update(request, pk: int):
    window = selectors.freeze_get(user=request.user, pk=pk)
    initial = {
        "version": window.version,
        "name": window.name,
        "category": window.category,
        "scope": window.scope,
        "portfolios": [portfolio.pk for portfolio in window.portfolios.all()],
        "systems": [system.pk for system in window.systems.all()],
        "environment_types": window.environment_types,
        "starts_on": window.starts_on,
        "ends_on": window.ends_on,
        "recurrence": window.recurrence,
        "recurs_until": window.recurs_until,
        "reason": window.reason,
    }
    return form_page(
        request,
        form=_freeze_form(request, initial),
        title=f"Edit {window}",
        save=lambda data: services.freeze_update(actor=request.user, window=window, **data),
        success="Freeze window {object} is saved.",
        cancel_url=window.get_absolute_url(),
        template="releases/freezewindow_form.html",
    )


@login_required
@permission_required("releases.delete_freezewindow", raise_exception=True)
def freezewindow_delete(request, pk: int):
    window = selectors.freeze_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=window,
        delete=lambda: services.freeze_delete(actor=request.user, window=window),
        done_url=reverse("releases:freezewindow_list"),
        cancel_url=window.get_absolute_url(),
    )


# Portfolio status report


@login_required
def portfolio_report(request, pk: int):
    """The printable status of a portfolio's releases: health and score, dates, slip, next milestone, open gates."""
    portfolio = portfolio_selectors.portfolio_get(user=request.user, pk=pk)
    report = selectors.portfolio_status_report(user=request.user, portfolio=portfolio)
    children = list(portfolio_selectors.portfolio_list(user=request.user, parent=portfolio.pk))
    rollup = (
        selectors.portfolio_release_health(user=request.user, portfolio_ids=[child.pk for child in children])
        if children
        else {}
    )
    return render(
        request,
        "releases/portfolio_report.html",
        {
            "portfolio": portfolio,
            "report": report,
            "ancestors": portfolio_selectors.portfolio_ancestors(user=request.user, portfolio=portfolio),
            "children": [{"portfolio": child, "health": rollup.get(child.pk)} for child in children],
        },
    )
