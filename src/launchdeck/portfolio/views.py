import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from launchdeck.accounts.models import User
from launchdeck.core.errors import DomainError
from launchdeck.core.forms import without_version
from launchdeck.core.ui import PAGE_SIZE, Column, delete_page, detail_page, form_page, list_page
from launchdeck.org.models import Department, Team
from launchdeck.portfolio import charts, selectors, services
from launchdeck.portfolio.choices import OPEN_STATUSES, RegisterKind
from launchdeck.portfolio.forms import (
    AllocationForm,
    InitiativeFilterForm,
    InitiativeForm,
    PortfolioForm,
    PortfolioViewFilterForm,
    ProjectFilterForm,
    ProjectForm,
    RegisterFilterForm,
    RegisterItemForm,
    SearchForm,
    SpendEditForm,
    SpendForm,
    TeamLoadForm,
)
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.portfolio.periods import days_after, week_label
from launchdeck.portfolio.templatetags.portfolio_format import money, signed_money


def _may(request, permission: str, url: str) -> str | None:
    return url if request.user.has_perm(permission) else None


def _visible(model, user):
    return model.objects.restrict(user, "view")


def _apply(request, action, success: str) -> bool:
    """Run a service from a small inline form; its refusal becomes an error message, nothing is changed."""
    try:
        action()
    except DomainError as exc:
        detail = exc.detail
        if exc.errors and exc.errors[0]["field"] and exc.errors[0]["message"] != detail:
            detail = f"{detail} ({exc.errors[0]['field']}: {exc.errors[0]['message']})"
        messages.error(request, detail)
        return False
    messages.success(request, success)
    return True


SECTIONS = (
    ("portfolio:portfolio_list", "Portfolios"),
    ("portfolio:initiative_list", "Initiatives"),
    ("portfolio:project_list", "Projects"),
    ("portfolio:registeritem_list", "Register"),
)


def sections(current: str):
    """The portfolio's own pages, as a line of links above each list (the main navigation has one entry)."""
    links = format_html_join(
        " · ",
        "{}",
        (
            (
                format_html('<strong aria-current="page">{}</strong>', label)
                if name == current
                else format_html('<a href="{}">{}</a>', reverse(name), label),
            )
            for name, label in SECTIONS
        ),
    )
    return format_html('<span class="d-block small mb-1" data-testid="portfolio-sections">{}</span>', links)


def _intro(current: str, text: str):
    return format_html("{}{}", sections(current), text)


def _link(obj):
    """A detail-page value that links to the object's own page."""
    return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), obj) if obj is not None else None


def _users(user):
    return User.objects.restrict(user, "view").filter(is_active=True).order_by("first_name", "last_name", "username")


# Portfolios


@login_required
def portfolio_list(request):
    """The portfolio tree, indented, with each subtree's initiatives, budget and actual spend."""
    filters = SearchForm(request.GET or None, placeholder="Search portfolios")
    search = (filters.cleaned_data.get("q") or "").strip().lower() if filters.is_valid() else ""
    nodes = selectors.portfolio_tree(user=request.user)
    if search:
        nodes = [node for node in nodes if search in node.portfolio.name.lower()]
    return list_page(
        request,
        title="Portfolios",
        intro=_intro(
            "portfolio:portfolio_list",
            "Every change initiative, grouped in a tree of portfolios. Open a portfolio's view for its budget, "
            "spend, staffing, risks and lessons.",
        ),
        queryset=nodes,
        columns=[
            Column(
                "Name",
                lambda n: format_html(
                    '<span style="padding-left: {}rem">{}{}</span>',
                    0 if search else n.depth * 1.5,
                    "↳ " if n.depth and not search else "",
                    n.portfolio.name,
                ),
                link=True,
            ),
            Column("Initiatives (all levels)", lambda n: n.subtree_initiative_count, numeric=True),
            Column("Budget", lambda n: money(n.subtree_budget), numeric=True),
            Column("Spent", lambda n: money(n.subtree_spent), numeric=True),
            Column(
                "",
                lambda n: format_html(
                    '<a class="small" href="{}">Portfolio view</a>', reverse("portfolio:portfolio_view", args=[n.pk])
                ),
            ),
        ],
        filters=filters,
        create_url=_may(request, "portfolio.add_portfolio", reverse("portfolio:portfolio_create")),
    )


@login_required
def portfolio_detail(request, pk: int):
    portfolio = selectors.portfolio_get(user=request.user, pk=pk)
    return detail_page(
        request,
        obj=portfolio,
        template="portfolio/portfolio_detail.html",
        list_url=reverse("portfolio:portfolio_list"),
        list_title="Portfolios",
        fields=[
            (
                "Inside",
                " / ".join(p.name for p in selectors.portfolio_ancestors(user=request.user, portfolio=portfolio))
                or "top level",
            ),
            ("Sub-portfolios", portfolio.child_count),
            ("Initiatives", portfolio.initiative_count),
            ("Description", portfolio.description),
        ],
        edit_url=_may(request, "portfolio.change_portfolio", reverse("portfolio:portfolio_edit", args=[pk])),
        delete_url=_may(request, "portfolio.delete_portfolio", reverse("portfolio:portfolio_delete", args=[pk])),
        children=selectors.portfolio_list(user=request.user, parent=portfolio.pk),
        initiatives=selectors.initiative_list(user=request.user, portfolio=portfolio.pk),
    )


def _portfolio_form(request, initial=None, exclude: int | None = None):
    choices = _visible(Portfolio, request.user).order_by("name")
    if exclude:
        choices = choices.exclude(pk=exclude)
    return PortfolioForm(request.POST or None, initial=initial, portfolios=choices)


@login_required
@permission_required("portfolio.add_portfolio", raise_exception=True)
def portfolio_create(request):
    return form_page(
        request,
        form=_portfolio_form(request, initial={"parent": request.GET.get("parent")}),
        title="New portfolio",
        save=lambda data: services.portfolio_create(actor=request.user, **without_version(data)),
        success="Portfolio {object} is created.",
        cancel_url=reverse("portfolio:portfolio_list"),
    )


@login_required
@permission_required("portfolio.change_portfolio", raise_exception=True)
def portfolio_edit(request, pk: int):
    portfolio = selectors.portfolio_get(user=request.user, pk=pk)
    initial = {
        "version": portfolio.version,
        "name": portfolio.name,
        "parent": portfolio.parent_id,
        "description": portfolio.description,
    }
    return form_page(
        request,
        form=_portfolio_form(request, initial, exclude=portfolio.pk),
        title=f"Edit {portfolio}",
        save=lambda data: services.portfolio_update(actor=request.user, portfolio=portfolio, **data),
        success="Portfolio {object} is saved.",
        cancel_url=portfolio.get_absolute_url(),
    )


@login_required
@permission_required("portfolio.delete_portfolio", raise_exception=True)
def portfolio_delete(request, pk: int):
    portfolio = selectors.portfolio_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=portfolio,
        delete=lambda: services.portfolio_delete(actor=request.user, portfolio=portfolio),
        done_url=reverse("portfolio:portfolio_list"),
        cancel_url=portfolio.get_absolute_url(),
    )


@login_required
def portfolio_view(request, pk: int):
    """The consolidated view of a portfolio and everything under it, by sponsoring department and months."""
    portfolio = selectors.portfolio_get(user=request.user, pk=pk)
    filters = PortfolioViewFilterForm(request.GET or None, departments=_visible(Department, request.user))
    data = filters.cleaned_data if filters.is_valid() else {}
    default_start, default_end = selectors.default_view_period()
    start, end = data.get("start") or default_start, data.get("end") or default_end
    try:
        view = selectors.portfolio_view(
            user=request.user, portfolio=portfolio, department=data.get("department"), start=start, end=end
        )
    except DomainError as exc:
        filters.add_error(None, exc.detail)
        view = selectors.portfolio_view(
            user=request.user,
            portfolio=portfolio,
            department=data.get("department"),
            start=default_start,
            end=default_end,
        )
    if not filters.is_bound:
        filters = PortfolioViewFilterForm(
            initial={"start": view["start"], "end": view["end"]}, departments=_visible(Department, request.user)
        )
    return render(
        request,
        "portfolio/portfolio_view.html",
        {
            **view,
            "filters": filters,
            "ancestors": selectors.portfolio_ancestors(user=request.user, portfolio=portfolio),
            "budget_chart": charts.initiative_budgets(view["initiatives"]),
            "spend_chart": charts.spend_by_month(view["spend_by_month"]),
            "staffing_chart": charts.staffing(view["staffing"]),
            "lessons_chart": charts.lessons_by_category(view["lessons"]["by_category"]),
            "chart_limit": charts.INITIATIVES_CHARTED,
        },
    )


# Initiatives


@login_required
def initiative_list(request):
    filters = InitiativeFilterForm(
        request.GET or None,
        portfolios=_visible(Portfolio, request.user).order_by("name"),
        departments=_visible(Department, request.user),
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    portfolio, department = data.get("portfolio"), data.get("department")
    initiatives = selectors.initiative_list(
        user=request.user,
        search=data.get("q"),
        within=portfolio,
        department=department.pk if department else None,
        status=data.get("status") or None,
    )
    return list_page(
        request,
        title="Initiatives",
        intro=_intro(
            "portfolio:initiative_list",
            "Change initiatives with their budget against actual spend (booked months) and the forecast "
            "(actuals, then the plan for the months to come). A portfolio filter includes its sub-portfolios.",
        ),
        queryset=initiatives,
        columns=[
            Column("Name", lambda i: i.name, link=True),
            Column("Portfolio", lambda i: i.portfolio),
            Column("Department", lambda i: i.department),
            Column("Status", lambda i: i.get_status_display()),
            Column("Ends", lambda i: i.end),
            Column("Budget", lambda i: money(i.budget), numeric=True),
            Column("Spent", lambda i: _over(money(i.spent), i.spent > i.budget), numeric=True),
            Column("Forecast", lambda i: _over(money(i.forecast), i.forecast > i.budget), numeric=True),
            Column("Variance", lambda i: signed_money(i.variance), numeric=True),
        ],
        filters=filters,
        create_url=_may(request, "portfolio.add_initiative", reverse("portfolio:initiative_create")),
    )


def _over(text: str, over: bool):
    return (
        format_html('<span class="text-danger fw-semibold" title="Above the budget">{}</span>', text) if over else text
    )


@login_required
def initiative_detail(request, pk: int):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    spend = list(selectors.spend_list(user=request.user, initiative=initiative.pk))
    allocations = list(selectors.allocation_list(user=request.user, initiative=initiative.pk))
    loads = {}
    if allocations:
        first = min(allocation.start for allocation in allocations)
        last = max(allocation.end for allocation in allocations)
        # The load is read for at most the longest window allowed, ending with the last allocation.
        first = max(first, datetime.date.fromordinal(max(1, last.toordinal() - (selectors.MAX_LOAD_WEEKS - 1) * 7)))
        for load in selectors.team_load(
            user=request.user, start=first, end=last, teams=sorted({a.team_id for a in allocations})
        ):
            loads[load.team.id] = load
    for allocation in allocations:
        load = loads.get(allocation.team_id)
        weeks = [w for w in load.weeks if w.monday <= allocation.end and w.sunday >= allocation.start] if load else []
        allocation.weeks_over = sum(1 for week in weeks if week.over_allocated)
        peaks = [week.load_percent for week in weeks if week.load_percent is not None]
        allocation.peak_percent = max(peaks) if peaks else None
    may_spend = request.user.has_perm("portfolio.add_spend")
    may_allocate = request.user.has_perm("portfolio.add_allocation")
    departments = _visible(Department, request.user)
    return detail_page(
        request,
        obj=initiative,
        template="portfolio/initiative_detail.html",
        list_url=reverse("portfolio:initiative_list"),
        list_title="Initiatives",
        fields=[
            ("Portfolio", _link(initiative.portfolio)),
            ("Sponsoring department", _link(initiative.department)),
            ("Owner", initiative.owner.display_name if initiative.owner_id else None),
            ("Status", initiative.get_status_display()),
            ("Runs", f"{initiative.start:%-d %b %Y} to {initiative.end:%-d %b %Y}"),
            ("Budget", money(initiative.budget)),
            ("Objective", initiative.objective),
        ],
        edit_url=_may(request, "portfolio.change_initiative", reverse("portfolio:initiative_edit", args=[pk])),
        delete_url=_may(request, "portfolio.delete_initiative", reverse("portfolio:initiative_delete", args=[pk])),
        spend=spend,
        spend_chart=charts.spend_by_month(selectors.spend_by_month(user=request.user, initiatives=[initiative.pk])),
        allocations=allocations,
        projects=selectors.project_list(user=request.user, initiative=initiative.pk).select_related("owner_team"),
        register=selectors.worst_first(selectors.register_list(user=request.user, initiative=initiative.pk)).order_by(
            "kind", "-impact_rank", "-raised_on"
        )[:100],
        over_budget=initiative.spent > initiative.budget,
        forecast_over_budget=initiative.forecast > initiative.budget,
        spend_form=SpendForm(departments=departments, initial={"department": initiative.department_id})
        if may_spend
        else None,
        allocation_form=AllocationForm(teams=_visible(Team, request.user).order_by("name")) if may_allocate else None,
    )


def _initiative_form(request, initial=None):
    return InitiativeForm(
        request.POST or None,
        initial=initial,
        portfolios=_visible(Portfolio, request.user).order_by("name"),
        departments=_visible(Department, request.user),
        users=_users(request.user),
    )


@login_required
@permission_required("portfolio.add_initiative", raise_exception=True)
def initiative_create(request):
    return form_page(
        request,
        form=_initiative_form(request, initial={"portfolio": request.GET.get("portfolio")}),
        title="New initiative",
        save=lambda data: services.initiative_create(actor=request.user, **without_version(data)),
        success="Initiative {object} is created.",
        cancel_url=reverse("portfolio:initiative_list"),
    )


@login_required
@permission_required("portfolio.change_initiative", raise_exception=True)
def initiative_edit(request, pk: int):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    initial = {
        "version": initiative.version,
        "name": initiative.name,
        "portfolio": initiative.portfolio_id,
        "department": initiative.department_id,
        "owner": initiative.owner_id,
        "objective": initiative.objective,
        "start": initiative.start,
        "end": initiative.end,
        "budget": initiative.budget,
        "status": initiative.status,
    }
    return form_page(
        request,
        form=_initiative_form(request, initial),
        title=f"Edit {initiative}",
        save=lambda data: services.initiative_update(actor=request.user, initiative=initiative, **data),
        success="Initiative {object} is saved.",
        cancel_url=initiative.get_absolute_url(),
    )


@login_required
@permission_required("portfolio.delete_initiative", raise_exception=True)
def initiative_delete(request, pk: int):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=initiative,
        delete=lambda: services.initiative_delete(actor=request.user, initiative=initiative),
        done_url=reverse("portfolio:initiative_list"),
        cancel_url=initiative.get_absolute_url(),
    )


# Spend


@login_required
@require_POST
@permission_required("portfolio.add_spend", raise_exception=True)
def spend_record(request, pk: int):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    form = SpendForm(request.POST, departments=_visible(Department, request.user))
    if form.is_valid():
        data = form.cleaned_data
        _apply(
            request,
            lambda: services.spend_record(actor=request.user, initiative=initiative, **data),
            f"Spend for {data['month']:%B %Y} ({data['department']}) is recorded.",
        )
    else:
        messages.error(
            request,
            "Give the month, the department and a planned amount of 0 or more (and the actual, "
            "when booked, 0 or more).",
        )
    return redirect(initiative.get_absolute_url() + "#spend")


@login_required
@permission_required("portfolio.change_spend", raise_exception=True)
def spend_edit(request, pk: int):
    spend = selectors.spend_get(user=request.user, pk=pk)
    initial = {"version": spend.version, "planned": spend.planned, "actual": spend.actual}
    return form_page(
        request,
        form=SpendEditForm(request.POST or None, initial=initial),
        title=f"Spend of {spend.initiative} for {spend.month:%B %Y} ({spend.department})",
        save=lambda data: services.spend_update(actor=request.user, spend=spend, **data),
        success="Spend for {object} is saved.",
        cancel_url=spend.initiative.get_absolute_url(),
    )


@login_required
@require_POST
@permission_required("portfolio.delete_spend", raise_exception=True)
def spend_delete(request, pk: int):
    spend = selectors.spend_get(user=request.user, pk=pk)
    initiative = spend.initiative
    _apply(request, lambda: services.spend_delete(actor=request.user, spend=spend), f"Removed: {spend}.")
    return redirect(initiative.get_absolute_url() + "#spend")


# Allocations and team load


@login_required
@require_POST
@permission_required("portfolio.add_allocation", raise_exception=True)
def allocation_create(request, pk: int):
    initiative = selectors.initiative_get(user=request.user, pk=pk)
    form = AllocationForm(request.POST, teams=_visible(Team, request.user))
    if form.is_valid():
        data = without_version(form.cleaned_data)
        _apply(
            request,
            lambda: services.allocation_create(actor=request.user, initiative=initiative, **data),
            f"{data['team']} is allocated to {initiative}.",
        )
    else:
        messages.error(request, "Give the team, the period and an amount of at most one decimal.")
    return redirect(initiative.get_absolute_url() + "#staffing")


@login_required
@permission_required("portfolio.change_allocation", raise_exception=True)
def allocation_edit(request, pk: int):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    initial = {
        "version": allocation.version,
        "team": allocation.team_id,
        "start": allocation.start,
        "end": allocation.end,
        "unit": allocation.unit,
        "amount": allocation.amount,
        "note": allocation.note,
    }
    return form_page(
        request,
        form=AllocationForm(request.POST or None, initial=initial, teams=_visible(Team, request.user)),
        title=f"Allocation of {allocation.team} to {allocation.initiative}",
        save=lambda data: services.allocation_update(actor=request.user, allocation=allocation, **data),
        success="Allocation {object} is saved.",
        cancel_url=allocation.initiative.get_absolute_url(),
    )


@login_required
@require_POST
@permission_required("portfolio.delete_allocation", raise_exception=True)
def allocation_delete(request, pk: int):
    allocation = selectors.allocation_get(user=request.user, pk=pk)
    initiative = allocation.initiative
    _apply(
        request,
        lambda: services.allocation_delete(actor=request.user, allocation=allocation),
        f"Removed: {allocation}.",
    )
    return redirect(initiative.get_absolute_url() + "#staffing")


@login_required
def team_load(request, team_id: int):
    """A team's allocated person-days against its capacity, ISO week by ISO week."""
    team = Team.objects.restrict(request.user, "view").select_related("department").get_visible(pk=team_id)
    form = TeamLoadForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    today = datetime.date.today()
    start = data.get("start") or today - datetime.timedelta(days=today.weekday())
    weeks = data.get("weeks") or 13
    end = days_after(start, weeks * 7 - 1)
    try:
        [load] = selectors.team_load(user=request.user, start=start, end=end, teams=[team.pk])
    except DomainError as exc:
        form.add_error(None, exc.detail)
        start, end = today, today + datetime.timedelta(weeks=13)
        [load] = selectors.team_load(user=request.user, start=start, end=end, teams=[team.pk])
    if not form.is_bound:
        form = TeamLoadForm(initial={"start": start, "weeks": weeks})
    allocations = selectors.allocation_list(user=request.user, team=team.pk).filter(start__lte=end, end__gte=start)
    return render(
        request,
        "portfolio/team_load.html",
        {
            "team": team,
            "load": load,
            "form": form,
            "start": start,
            "end": end,
            "allocations": allocations,
            "chart": charts.team_load(load),
            "weeks": [(week_label(week.monday), week) for week in load.weeks],
        },
    )


# Projects


@login_required
def project_list(request):
    filters = ProjectFilterForm(
        request.GET or None,
        initiatives=_visible(Initiative, request.user).order_by("name"),
        teams=_visible(Team, request.user),
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    initiative, team = data.get("initiative"), data.get("owner_team")
    projects = selectors.project_list(
        user=request.user,
        search=data.get("q"),
        initiative=initiative.pk if initiative else None,
        owner_team=team.pk if team else None,
    )
    return list_page(
        request,
        title="Projects",
        intro=_intro(
            "portfolio:project_list", "The projects that deliver each initiative, and the team that owns each."
        ),
        queryset=projects,
        columns=[
            Column("Name", lambda p: p.name, link=True),
            Column("Initiative", lambda p: p.initiative),
            Column("Portfolio", lambda p: p.initiative.portfolio),
            Column("Owner team", lambda p: p.owner_team),
            Column("Starts", lambda p: p.start),
            Column("Ends", lambda p: p.end),
        ],
        filters=filters,
        create_url=_may(request, "portfolio.add_project", reverse("portfolio:project_create")),
    )


@login_required
def project_detail(request, pk: int):
    project = selectors.project_get(user=request.user, pk=pk)
    return detail_page(
        request,
        obj=project,
        template="portfolio/project_detail.html",
        list_url=reverse("portfolio:project_list"),
        list_title="Projects",
        fields=[
            ("Initiative", _link(project.initiative)),
            ("Portfolio", _link(project.initiative.portfolio)),
            ("Owner team", _link(project.owner_team)),
            ("Runs", f"{project.start:%-d %b %Y} to {project.end:%-d %b %Y}"),
            ("Description", project.description),
        ],
        edit_url=_may(request, "portfolio.change_project", reverse("portfolio:project_edit", args=[pk])),
        delete_url=_may(request, "portfolio.delete_project", reverse("portfolio:project_delete", args=[pk])),
        register=selectors.worst_first(selectors.register_list(user=request.user, project=project.pk))[:100],
    )


def _project_form(request, initial=None):
    return ProjectForm(
        request.POST or None,
        initial=initial,
        initiatives=_visible(Initiative, request.user).order_by("name"),
        teams=_visible(Team, request.user),
    )


@login_required
@permission_required("portfolio.add_project", raise_exception=True)
def project_create(request):
    return form_page(
        request,
        form=_project_form(request, initial={"initiative": request.GET.get("initiative")}),
        title="New project",
        save=lambda data: services.project_create(actor=request.user, **without_version(data)),
        success="Project {object} is created.",
        cancel_url=reverse("portfolio:project_list"),
    )


@login_required
@permission_required("portfolio.change_project", raise_exception=True)
def project_edit(request, pk: int):
    project = selectors.project_get(user=request.user, pk=pk)
    initial = {
        "version": project.version,
        "name": project.name,
        "initiative": project.initiative_id,
        "owner_team": project.owner_team_id,
        "start": project.start,
        "end": project.end,
        "description": project.description,
    }
    return form_page(
        request,
        form=_project_form(request, initial),
        title=f"Edit {project}",
        save=lambda data: services.project_update(actor=request.user, project=project, **data),
        success="Project {object} is saved.",
        cancel_url=project.get_absolute_url(),
    )


@login_required
@permission_required("portfolio.delete_project", raise_exception=True)
def project_delete(request, pk: int):
    project = selectors.project_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=project,
        delete=lambda: services.project_delete(actor=request.user, project=project),
        done_url=reverse("portfolio:project_list"),
        cancel_url=project.get_absolute_url(),
    )


# The register


REGISTER_COLUMNS = [
    Column("Title", lambda r: r.title, link=True),
    Column("Kind", lambda r: r.get_kind_display()),
    Column("Category", lambda r: r.get_category_display()),
    Column("Impact", lambda r: r.get_impact_display()),
    Column("Status", lambda r: r.get_status_display()),
    Column("Initiative", lambda r: r.initiative),
    Column("Tags", lambda r: ", ".join(tag.name for tag in r.tags.all())),
    Column("Raised", lambda r: r.raised_on.isoformat()),
]


@login_required
def register_list(request):
    """Lessons and RAID items, filtered; with counts by category and tag and per month, so recurring challenges
    stand out."""
    filters = RegisterFilterForm(
        request.GET or None,
        portfolios=_visible(Portfolio, request.user).order_by("name"),
        initiatives=_visible(Initiative, request.user).order_by("name"),
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    status = data.get("status") or None
    portfolio, initiative = data.get("portfolio"), data.get("initiative")
    items = selectors.register_list(
        user=request.user,
        search=data.get("q"),
        kind=data.get("kind") or None,
        category=data.get("category") or None,
        impact=data.get("impact") or None,
        status=status if status != "active" else None,
        open_only=status == "active",
        tag=data.get("tag") or None,
        initiative=initiative.pk if initiative else None,
        initiatives=(
            Initiative.objects.filter(
                portfolio_id__in=selectors.portfolio_subtree_ids(user=request.user, portfolio=portfolio)
            )
            if portfolio
            else None
        ),
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"url": row.get_absolute_url(), "cells": [(column, column.value(row)) for column in REGISTER_COLUMNS]}
        for row in page
    ]
    context = {"columns": REGISTER_COLUMNS, "rows": rows, "page": page}
    summary = selectors.register_summary(items=items)
    context.update(
        {
            "title": "Register",
            "filters": filters,
            "summary": summary,
            "chart": charts.register_over_time(summary),
            "create_url": _may(request, "portfolio.add_registeritem", reverse("portfolio:registeritem_create")),
            "sections": sections("portfolio:registeritem_list"),
        }
    )
    template = "portfolio/partials/_register_results.html" if request.htmx else "portfolio/registeritem_list.html"
    return render(request, template, context)


@login_required
def registeritem_detail(request, pk: int):
    item = selectors.register_item_get(user=request.user, pk=pk)
    may_close = (
        item.kind != RegisterKind.LESSON
        and item.status in OPEN_STATUSES
        and request.user.has_perm("portfolio.change_registeritem")
    )
    return detail_page(
        request,
        obj=item,
        template="portfolio/registeritem_detail.html",
        list_url=reverse("portfolio:registeritem_list"),
        list_title="Register",
        fields=[
            ("Kind", item.get_kind_display()),
            ("Category", item.get_category_display()),
            ("Impact", item.get_impact_display()),
            ("Status", item.get_status_display()),
            ("Initiative", _link(item.initiative)),
            ("Project", _link(item.project)),
            ("Owner", item.owner.display_name if item.owner_id else None),
            ("Raised", f"{item.raised_on:%-d %b %Y}"),
            ("Closed", f"{item.closed_on:%-d %b %Y}" if item.closed_on else None),
            ("Tags", ", ".join(item.tag_names)),
            ("Description", item.description),
        ],
        edit_url=_may(request, "portfolio.change_registeritem", reverse("portfolio:registeritem_edit", args=[pk])),
        delete_url=_may(request, "portfolio.delete_registeritem", reverse("portfolio:registeritem_delete", args=[pk])),
        may_close=may_close,
    )


def _register_form(request, initial=None):
    return RegisterItemForm(
        request.POST or None,
        initial=initial,
        initiatives=_visible(Initiative, request.user).order_by("name"),
        projects=_visible(Project, request.user).order_by("name"),
        users=_users(request.user),
    )


@login_required
@permission_required("portfolio.add_registeritem", raise_exception=True)
def registeritem_create(request):
    initial = {key: request.GET.get(key) for key in ("initiative", "project", "kind") if request.GET.get(key)}
    return form_page(
        request,
        form=_register_form(request, initial=initial),
        title="New register item",
        save=lambda data: services.register_item_create(actor=request.user, **without_version(data)),
        success="{object} is recorded.",
        cancel_url=reverse("portfolio:registeritem_list"),
    )


@login_required
@permission_required("portfolio.change_registeritem", raise_exception=True)
def registeritem_edit(request, pk: int):
    item = selectors.register_item_get(user=request.user, pk=pk)
    initial = {
        "version": item.version,
        "kind": item.kind,
        "title": item.title,
        "category": item.category,
        "impact": item.impact,
        "status": item.status,
        "initiative": item.initiative_id,
        "project": item.project_id,
        "owner": item.owner_id,
        "raised_on": item.raised_on,
        "closed_on": item.closed_on,
        "tags": item.tag_names,
        "description": item.description,
    }

    def save(data):
        if data.get("status") is None:
            data.pop("status")
        return services.register_item_update(actor=request.user, item=item, **data)

    return form_page(
        request,
        form=_register_form(request, initial),
        title=f"Edit {item}",
        save=save,
        success="{object} is saved.",
        cancel_url=item.get_absolute_url(),
    )


@login_required
@permission_required("portfolio.delete_registeritem", raise_exception=True)
def registeritem_delete(request, pk: int):
    item = selectors.register_item_get(user=request.user, pk=pk)
    return delete_page(
        request,
        obj=item,
        delete=lambda: services.register_item_delete(actor=request.user, item=item),
        done_url=reverse("portfolio:registeritem_list"),
        cancel_url=item.get_absolute_url(),
    )


@login_required
@require_POST
@permission_required("portfolio.change_registeritem", raise_exception=True)
def registeritem_close(request, pk: int):
    item = selectors.register_item_get(user=request.user, pk=pk)
    try:
        version = int(request.POST.get("version") or item.version)
    except ValueError:
        version = item.version
    _apply(
        request,
        lambda: services.register_item_close(actor=request.user, item=item, version=version),
        f"{item} is closed.",
    )
    return redirect(item.get_absolute_url())
