import datetime
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.accounts.selectors import user_named
from launchdeck.core.api import ERROR_RESPONSES, MAX_ID, READ_RESPONSES, Id, Pagination, apply_sort, referenced
from launchdeck.core.errors import ValidationFailed
from launchdeck.org.models import Department, Team
from launchdeck.portfolio import selectors, services
from launchdeck.portfolio.choices import Impact, InitiativeStatus, RegisterCategory, RegisterKind, RegisterStatus
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.portfolio.periods import days_after, week_label
from launchdeck.portfolio.schemas import (
    AllocationIn,
    AllocationOut,
    AllocationPatch,
    InitiativeIn,
    InitiativeOut,
    InitiativePatch,
    PortfolioIn,
    PortfolioNodeOut,
    PortfolioOut,
    PortfolioPatch,
    PortfolioViewOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    RegisterCloseIn,
    RegisterItemIn,
    RegisterItemOut,
    RegisterItemPatch,
    RegisterSummaryOut,
    SpendIn,
    SpendOut,
    SpendPatch,
    TeamLoadOut,
)

router = Router(tags=["Portfolio"])

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
SEARCH = Field(None, max_length=200)
SORT = Field(None, max_length=200)
PORTFOLIO_SORTS = {"name": "name"}
INITIATIVE_SORTS = {
    "name": "name",
    "start": "start",
    "end": "end",
    "status": "status",
    "budget": "budget",
    "spent": "spent",
    "variance": "variance",
    "portfolio": "portfolio__name",
    "department": "department__name",
}
PROJECT_SORTS = {"name": "name", "start": "start", "end": "end", "initiative": "initiative__name"}
SPEND_SORTS = {"month": "month", "planned": "planned", "actual": "actual", "department": "department__name"}
ALLOCATION_SORTS = {"start": "start", "end": "end", "amount": "amount", "team": "team__name"}
REGISTER_SORTS = {
    "raised_on": "raised_on",
    "closed_on": "closed_on",
    "title": "title",
    "impact": "impact_rank",
    "kind": "kind",
    "category": "category",
    "status": "status",
}
DEFAULT_LOAD_WEEKS = 13


class PortfolioFilter(Schema):
    search: str | None = SEARCH
    parent: Id | None = None
    sort: str | None = SORT


class InitiativeFilter(Schema):
    search: str | None = SEARCH
    portfolio: Id | None = Field(None, description="Initiatives directly in this portfolio.")
    within: Id | None = Field(None, description="Initiatives in this portfolio or any under it.")
    department: Id | None = None
    status: InitiativeStatus | None = None
    owner: str | None = Field(None, max_length=150, description="Username.")
    over_budget: bool | None = None
    sort: str | None = SORT


class ProjectFilter(Schema):
    search: str | None = SEARCH
    initiative: Id | None = None
    portfolio: Id | None = None
    owner_team: Id | None = None
    sort: str | None = SORT


class SpendFilter(Schema):
    initiative: Id | None = None
    department: Id | None = None
    portfolio: Id | None = None
    start: datetime.date | None = Field(None, description="First month (any day of it).")
    end: datetime.date | None = Field(None, description="Last month (any day of it).")
    booked: bool | None = Field(None, description="Only rows with (true) or without (false) actuals.")
    sort: str | None = SORT


class AllocationFilter(Schema):
    initiative: Id | None = None
    team: Id | None = None
    department: Id | None = Field(None, description="The team's department.")
    portfolio: Id | None = None
    active_on: datetime.date | None = None
    sort: str | None = SORT


class RegisterItemFilter(Schema):
    search: str | None = SEARCH
    kind: RegisterKind | None = None
    category: RegisterCategory | None = None
    impact: Impact | None = None
    status: RegisterStatus | None = None
    open_only: bool = Field(False, description="Only open and mitigating items.")
    tag: str | None = Field(None, max_length=40)
    initiative: Id | None = None
    project: Id | None = None
    portfolio: Id | None = None
    raised_from: datetime.date | None = None
    raised_to: datetime.date | None = None
    sort: str | None = SORT


def _refs(request, data: dict, required: dict[str, str] | None = None) -> dict:
    """Swap the `<name>_id` fields (and `owner`) of an input for the rows they name, checking the caller sees them."""
    user = request.auth
    models = {
        "parent_id": ("parent", Portfolio),
        "portfolio_id": ("portfolio", Portfolio),
        "department_id": ("department", Department),
        "initiative_id": ("initiative", Initiative),
        "project_id": ("project", Project),
        "owner_team_id": ("owner_team", Team),
        "team_id": ("team", Team),
    }
    for key, message in (required or {}).items():
        if key in data and data[key] is None:
            raise ValidationFailed.field(key, message)
    for key, (name, model) in models.items():
        if key in data:
            data[name] = referenced(model.objects.restrict(user), data.pop(key), field=key)
    if "owner" in data:
        data["owner"] = user_named(viewer=request.auth, username=data["owner"], field="owner")
    return data


def _portfolio(request, pk: int) -> Portfolio:
    return selectors.portfolio_get(user=request.auth, pk=pk)


def _initiative(request, pk: int) -> Initiative:
    return selectors.initiative_get(user=request.auth, pk=pk)


def _project(request, pk: int) -> Project:
    return selectors.project_get(user=request.auth, pk=pk)


# Portfolios


@router.get("/portfolios", response={200: list[PortfolioOut], **READ_RESPONSES}, operation_id="list_portfolios")
@paginate(Pagination)
def list_portfolios(request: HttpRequest, filters: Query[PortfolioFilter]):
    """Portfolios, with how many sub-portfolios and initiatives each holds directly; `parent` lists one level."""
    portfolios = selectors.portfolio_list(user=request.auth, search=filters.search, parent=filters.parent)
    return apply_sort(portfolios, filters.sort, PORTFOLIO_SORTS, "name")


@router.get(
    "/portfolios/tree", response={200: list[PortfolioNodeOut], **READ_RESPONSES}, operation_id="get_portfolio_tree"
)
def get_portfolio_tree(request: HttpRequest):
    """Every portfolio depth first, with its depth and the initiatives, budget and spend of its whole subtree."""
    return selectors.portfolio_tree(user=request.auth)


@router.get("/portfolios/{portfolio_id}", response={200: PortfolioOut, **READ_RESPONSES}, operation_id="get_portfolio")
def get_portfolio(request: HttpRequest, portfolio_id: PathId):
    return _portfolio(request, portfolio_id)


@router.post("/portfolios", response={201: PortfolioOut, **ERROR_RESPONSES}, operation_id="create_portfolio")
def create_portfolio(request: HttpRequest, payload: PortfolioIn):
    portfolio = services.portfolio_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, _portfolio(request, portfolio.pk))


@router.patch(
    "/portfolios/{portfolio_id}", response={200: PortfolioOut, **ERROR_RESPONSES}, operation_id="update_portfolio"
)
def update_portfolio(request: HttpRequest, portfolio_id: PathId, payload: PortfolioPatch):
    """Rename or move a portfolio; moving it under itself or one of its descendants is a 422."""
    changes = _refs(request, payload.dict(exclude_unset=True), {"name": "A portfolio needs a name."})
    services.portfolio_update(actor=request.auth, portfolio=_portfolio(request, portfolio_id), **changes)
    return _portfolio(request, portfolio_id)


@router.delete("/portfolios/{portfolio_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_portfolio")
def delete_portfolio(request: HttpRequest, portfolio_id: PathId):
    services.portfolio_delete(actor=request.auth, portfolio=_portfolio(request, portfolio_id))
    return Status(204, None)


@router.get(
    "/portfolios/{portfolio_id}/view",
    response={200: PortfolioViewOut, **READ_RESPONSES},
    operation_id="get_portfolio_view",
)
def get_portfolio_view(
    request: HttpRequest,
    portfolio_id: PathId,
    department: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    start: Annotated[datetime.date | None, Query(description="First month (any day of it); default January.")] = None,
    end: Annotated[datetime.date | None, Query(description="Last month (any day of it); default December.")] = None,
):
    """The consolidated view of a portfolio and everything under it over a range of months (at most 36): the
    initiatives running then with budget against spend, spend per month and department, staffing against capacity per
    department, open risks and issues worst first, lessons by category, and the roll-ups other apps add."""
    portfolio = _portfolio(request, portfolio_id)
    chosen = referenced(Department.objects.restrict(request.auth), department, field="department")
    view = selectors.portfolio_view(user=request.auth, portfolio=portfolio, department=chosen, start=start, end=end)
    return {
        **view,
        "portfolio_id": portfolio.pk,
        "name": portfolio.name,
        "department_id": chosen.pk if chosen else None,
        "lessons_by_category": view["lessons"]["by_category"],
    }


# Initiatives


@router.get("/initiatives", response={200: list[InitiativeOut], **READ_RESPONSES}, operation_id="list_initiatives")
@paginate(Pagination)
def list_initiatives(request: HttpRequest, filters: Query[InitiativeFilter]):
    """Initiatives with budget against planned, actual and forecast spend; filter by portfolio (or a whole subtree
    with `within`), department, status, owner, over budget or `search`."""
    owner = user_named(viewer=request.auth, username=filters.owner, field="owner")
    within = referenced(Portfolio.objects.restrict(request.auth), filters.within, field="within")
    initiatives = selectors.initiative_list(
        user=request.auth,
        search=filters.search,
        portfolio=filters.portfolio,
        within=within,
        department=filters.department,
        status=filters.status,
        owner=owner.pk if owner else None,
        over_budget=filters.over_budget,
    )
    return apply_sort(initiatives, filters.sort, INITIATIVE_SORTS, "name")


@router.get(
    "/initiatives/{initiative_id}", response={200: InitiativeOut, **READ_RESPONSES}, operation_id="get_initiative"
)
def get_initiative(request: HttpRequest, initiative_id: PathId):
    return _initiative(request, initiative_id)


INITIATIVE_REQUIRED = {
    "portfolio_id": "An initiative belongs to a portfolio.",
    "department_id": "An initiative is sponsored by a department.",
    "name": "An initiative needs a name.",
    "start": "Give the start date.",
    "end": "Give the end date.",
    "budget": "Give a budget (0 when there is none yet).",
    "status": "Give the status.",
}


@router.post("/initiatives", response={201: InitiativeOut, **ERROR_RESPONSES}, operation_id="create_initiative")
def create_initiative(request: HttpRequest, payload: InitiativeIn):
    """Start tracking an initiative; the end may not be before the start, the budget may not be negative."""
    initiative = services.initiative_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, _initiative(request, initiative.pk))


@router.patch(
    "/initiatives/{initiative_id}", response={200: InitiativeOut, **ERROR_RESPONSES}, operation_id="update_initiative"
)
def update_initiative(request: HttpRequest, initiative_id: PathId, payload: InitiativePatch):
    changes = _refs(request, payload.dict(exclude_unset=True), INITIATIVE_REQUIRED)
    services.initiative_update(actor=request.auth, initiative=_initiative(request, initiative_id), **changes)
    return _initiative(request, initiative_id)


@router.delete(
    "/initiatives/{initiative_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_initiative"
)
def delete_initiative(request: HttpRequest, initiative_id: PathId):
    """Remove an initiative recorded by mistake; one with projects, spend, allocations or register items is a 409."""
    services.initiative_delete(actor=request.auth, initiative=_initiative(request, initiative_id))
    return Status(204, None)


# Projects


@router.get("/projects", response={200: list[ProjectOut], **READ_RESPONSES}, operation_id="list_projects")
@paginate(Pagination)
def list_projects(request: HttpRequest, filters: Query[ProjectFilter]):
    projects = selectors.project_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(projects, filters.sort, PROJECT_SORTS, "name")


@router.get("/projects/{project_id}", response={200: ProjectOut, **READ_RESPONSES}, operation_id="get_project")
def get_project(request: HttpRequest, project_id: PathId):
    return _project(request, project_id)


PROJECT_REQUIRED = {
    "initiative_id": "A project belongs to an initiative.",
    "owner_team_id": "A project has an owner team.",
    "name": "A project needs a name.",
    "start": "Give the start date.",
    "end": "Give the end date.",
}


@router.post("/projects", response={201: ProjectOut, **ERROR_RESPONSES}, operation_id="create_project")
def create_project(request: HttpRequest, payload: ProjectIn):
    project = services.project_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, _project(request, project.pk))


@router.patch("/projects/{project_id}", response={200: ProjectOut, **ERROR_RESPONSES}, operation_id="update_project")
def update_project(request: HttpRequest, project_id: PathId, payload: ProjectPatch):
    changes = _refs(request, payload.dict(exclude_unset=True), PROJECT_REQUIRED)
    services.project_update(actor=request.auth, project=_project(request, project_id), **changes)
    return _project(request, project_id)


@router.delete("/projects/{project_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_project")
def delete_project(request: HttpRequest, project_id: PathId):
    services.project_delete(actor=request.auth, project=_project(request, project_id))
    return Status(204, None)


# Spend


@router.get("/spend", response={200: list[SpendOut], **READ_RESPONSES}, operation_id="list_spend")
@paginate(Pagination)
def list_spend(request: HttpRequest, filters: Query[SpendFilter]):
    """Planned and actual spend per initiative, department and month, with the variance (actual - planned)."""
    rows = selectors.spend_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(rows, filters.sort, SPEND_SORTS, "month")


@router.get("/spend/{spend_id}", response={200: SpendOut, **READ_RESPONSES}, operation_id="get_spend")
def get_spend(request: HttpRequest, spend_id: PathId):
    return selectors.spend_get(user=request.auth, pk=spend_id)


@router.post("/spend", response={201: SpendOut, **ERROR_RESPONSES}, operation_id="record_spend")
def record_spend(request: HttpRequest, payload: SpendIn):
    """Record a month of planned (and, once booked, actual) spend; a second row for the same initiative, department
    and month is a 409: change the first one instead."""
    spend = services.spend_record(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.spend_get(user=request.auth, pk=spend.pk))


@router.patch("/spend/{spend_id}", response={200: SpendOut, **ERROR_RESPONSES}, operation_id="update_spend")
def update_spend(request: HttpRequest, spend_id: PathId, payload: SpendPatch):
    """Change the planned or actual amount (actual null: not booked)."""
    spend = selectors.spend_get(user=request.auth, pk=spend_id)
    changes = payload.dict(exclude_unset=True)
    if "planned" in changes and changes["planned"] is None:
        raise ValidationFailed.field("planned", "Give the planned spend (0 when none is planned).")
    services.spend_update(actor=request.auth, spend=spend, **changes)
    return selectors.spend_get(user=request.auth, pk=spend_id)


@router.delete("/spend/{spend_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_spend")
def delete_spend(request: HttpRequest, spend_id: PathId):
    services.spend_delete(actor=request.auth, spend=selectors.spend_get(user=request.auth, pk=spend_id))
    return Status(204, None)


# Allocations


@router.get("/allocations", response={200: list[AllocationOut], **READ_RESPONSES}, operation_id="list_allocations")
@paginate(Pagination)
def list_allocations(request: HttpRequest, filters: Query[AllocationFilter]):
    """Teams allocated to initiatives, per period, in person-days per week or % of capacity."""
    allocations = selectors.allocation_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(allocations, filters.sort, ALLOCATION_SORTS, "start")


@router.get(
    "/allocations/{allocation_id}", response={200: AllocationOut, **READ_RESPONSES}, operation_id="get_allocation"
)
def get_allocation(request: HttpRequest, allocation_id: PathId):
    return selectors.allocation_get(user=request.auth, pk=allocation_id)


ALLOCATION_REQUIRED = {
    "team_id": "An allocation is for a team.",
    "start": "Give the start date.",
    "end": "Give the end date.",
    "unit": "Give the unit.",
    "amount": "Give the amount allocated.",
}


@router.post("/allocations", response={201: AllocationOut, **ERROR_RESPONSES}, operation_id="create_allocation")
def create_allocation(request: HttpRequest, payload: AllocationIn):
    """Allocate a team to an initiative. More than the team's capacity is allowed and flagged by the team's load."""
    allocation = services.allocation_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.allocation_get(user=request.auth, pk=allocation.pk))


@router.patch(
    "/allocations/{allocation_id}", response={200: AllocationOut, **ERROR_RESPONSES}, operation_id="update_allocation"
)
def update_allocation(request: HttpRequest, allocation_id: PathId, payload: AllocationPatch):
    allocation = selectors.allocation_get(user=request.auth, pk=allocation_id)
    changes = _refs(request, payload.dict(exclude_unset=True), ALLOCATION_REQUIRED)
    services.allocation_update(actor=request.auth, allocation=allocation, **changes)
    return selectors.allocation_get(user=request.auth, pk=allocation_id)


@router.delete(
    "/allocations/{allocation_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_allocation"
)
def delete_allocation(request: HttpRequest, allocation_id: PathId):
    allocation = selectors.allocation_get(user=request.auth, pk=allocation_id)
    services.allocation_delete(actor=request.auth, allocation=allocation)
    return Status(204, None)


@router.get("/teams/{team_id}/load", response={200: TeamLoadOut, **READ_RESPONSES}, operation_id="get_team_load")
def get_team_load(
    request: HttpRequest,
    team_id: PathId,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
):
    """The team's allocated person-days against its capacity per ISO week (default: this week and the next 12; at
    most 106 weeks), with the weeks it is over-allocated flagged. Over-allocation is allowed, never capped."""
    team = Team.objects.restrict(request.auth).get_visible(pk=team_id)
    today = datetime.date.today()
    start = start or today
    end = end or days_after(start, DEFAULT_LOAD_WEEKS * 7 - 1)
    [load] = selectors.team_load(user=request.auth, start=start, end=end, teams=[team.pk])
    return {
        "team_id": team.pk,
        "team": team.name,
        "department_id": load.team.department_id,
        "department": load.team.department,
        "capacity_person_days_per_week": load.team.capacity,
        "start": start,
        "end": end,
        "weeks_over": len(load.over_allocated_weeks),
        "peak_percent": None if load.peak_percent is None else round(load.peak_percent, 1),
        "weeks": [
            {
                "week": week_label(week.monday),
                "start": week.monday,
                "end": week.sunday,
                "capacity": round(week.capacity, 2),
                "allocated": round(week.allocated, 2),
                "load_percent": None if week.load_percent is None else round(week.load_percent, 1),
                "over_allocated": week.over_allocated,
                "initiatives": [
                    {"initiative_id": initiative, "person_days": round(days, 2)}
                    for initiative, days in sorted(week.by_initiative.items())
                ],
            }
            for week in load.weeks
        ],
    }


# The register


def _register_items(request, filters: RegisterItemFilter):
    return selectors.register_list(user=request.auth, **filters.dict(exclude={"sort"}))


@router.get(
    "/register-items", response={200: list[RegisterItemOut], **READ_RESPONSES}, operation_id="list_register_items"
)
@paginate(Pagination)
def list_register_items(request: HttpRequest, filters: Query[RegisterItemFilter]):
    """Lessons learned and RAID items (risks, assumptions, issues, dependencies), newest first; filter by kind,
    category, impact, status, tag, initiative, project, portfolio, the dates raised or `search`."""
    items = selectors.worst_first(_register_items(request, filters))
    return apply_sort(items, filters.sort, REGISTER_SORTS, "-raised_on")


@router.get(
    "/register-items/summary",
    response={200: RegisterSummaryOut, **READ_RESPONSES},
    operation_id="get_register_summary",
)
def get_register_summary(request: HttpRequest, filters: Query[RegisterItemFilter]):
    """The items matching the filters counted by category, by tag (the 20 most used) and per month raised, so the
    challenges that recur across initiatives stand out."""
    return selectors.register_summary(items=_register_items(request, filters))


@router.get(
    "/register-items/{item_id}", response={200: RegisterItemOut, **READ_RESPONSES}, operation_id="get_register_item"
)
def get_register_item(request: HttpRequest, item_id: PathId):
    return selectors.register_item_get(user=request.auth, pk=item_id)


@router.post("/register-items", response={201: RegisterItemOut, **ERROR_RESPONSES}, operation_id="create_register_item")
def create_register_item(request: HttpRequest, payload: RegisterItemIn):
    """Record a lesson or raise a RAID item on an initiative or a project (its initiative is taken from it)."""
    item = services.register_item_create(actor=request.auth, **_refs(request, payload.dict()))
    return Status(201, selectors.register_item_get(user=request.auth, pk=item.pk))


REGISTER_REQUIRED = {
    "kind": "Give the kind.",
    "title": "Give a title.",
    "category": "Give a category.",
    "impact": "Give the impact.",
    "status": "Give the status.",
    "raised_on": "Give the date it was raised.",
}


@router.patch(
    "/register-items/{item_id}",
    response={200: RegisterItemOut, **ERROR_RESPONSES},
    operation_id="update_register_item",
)
def update_register_item(request: HttpRequest, item_id: PathId, payload: RegisterItemPatch):
    """Change an item; setting status `closed` closes it (today unless `closed_on`), another status reopens it."""
    item = selectors.register_item_get(user=request.auth, pk=item_id)
    changes = _refs(request, payload.dict(exclude_unset=True), REGISTER_REQUIRED)
    services.register_item_update(actor=request.auth, item=item, **changes)
    return selectors.register_item_get(user=request.auth, pk=item_id)


@router.post(
    "/register-items/{item_id}/close",
    response={200: RegisterItemOut, **ERROR_RESPONSES},
    operation_id="close_register_item",
)
def close_register_item(request: HttpRequest, item_id: PathId, payload: RegisterCloseIn):
    """Close a risk, assumption, issue or dependency; a lesson is not closed (422), a closed item is a 409."""
    item = selectors.register_item_get(user=request.auth, pk=item_id)
    services.register_item_close(actor=request.auth, item=item, **payload.dict())
    return selectors.register_item_get(user=request.auth, pk=item_id)


@router.delete(
    "/register-items/{item_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_register_item"
)
def delete_register_item(request: HttpRequest, item_id: PathId):
    services.register_item_delete(actor=request.auth, item=selectors.register_item_get(user=request.auth, pk=item_id))
    return Status(204, None)
