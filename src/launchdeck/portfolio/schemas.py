import datetime
from decimal import Decimal

from ninja import Field, Schema

from launchdeck.core.api import Id, StrictIn, Version
from launchdeck.portfolio.choices import (
    AllocationUnit,
    Impact,
    InitiativeStatus,
    RegisterCategory,
    RegisterKind,
    RegisterStatus,
)

NAME = Field(min_length=1, max_length=150)
TEXT = Field("", max_length=5000)
MONEY_IN = {"ge": 0, "le": Decimal("999999999999.99"), "max_digits": 14, "decimal_places": 2}
AMOUNT_IN = {
    "gt": 0,
    "le": 100_000,
    "max_digits": 8,
    "decimal_places": 1,
    "description": "Person-days per week, or per cent of the team's capacity (above 100 is allowed and flagged).",
}
USERNAME = Field(None, max_length=150, description="The username of the owner; null for none.")
MONTH = "Any day of the month; stored as the month's first day."
TAGS = Field(
    default_factory=list,
    max_length=50,
    description="At most 10 tags of at most 40 characters; stored in lower case with blanks as hyphens.",
)


def _float(value) -> float | None:
    return None if value is None else float(value)


def _username(user) -> str | None:
    return user.username if user is not None else None


# Portfolios


class PortfolioOut(Schema):
    id: int
    name: str
    parent_id: int | None
    description: str
    child_count: int = 0
    initiative_count: int = 0
    version: int


class PortfolioIn(StrictIn):
    name: str = NAME
    parent_id: Id | None = Field(None, description="The portfolio this one sits in; null for a top-level portfolio.")
    description: str = TEXT


class PortfolioPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    parent_id: Id | None = Field(None, description="Move under another portfolio; null moves it to the top.")
    description: str | None = Field(None, max_length=5000)


class PortfolioNodeOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int
    initiative_count: int = Field(description="Initiatives directly in this portfolio.")
    subtree_initiative_count: int = Field(description="Initiatives in it and every portfolio under it.")
    subtree_budget: float
    subtree_spent: float

    @staticmethod
    def resolve_id(node) -> int:
        return node.portfolio.pk

    @staticmethod
    def resolve_name(node) -> str:
        return node.portfolio.name

    @staticmethod
    def resolve_parent_id(node) -> int | None:
        return node.portfolio.parent_id


# Initiatives


class InitiativeOut(Schema):
    id: int
    name: str
    portfolio_id: int
    portfolio: str = Field(alias="portfolio.name")
    department_id: int
    department: str = Field(alias="department.name")
    owner: str | None
    objective: str
    start: datetime.date
    end: datetime.date
    status: InitiativeStatus
    budget: float
    planned_total: float = Field(0, description="Planned spend over every month recorded.")
    spent: float = Field(0, description="Actual spend booked so far.")
    forecast: float = Field(0, description="Actuals where booked, the plan for the months not booked yet.")
    variance: float = Field(0, description="Spent less the plan of the booked months; above 0 is overspend.")
    over_budget: bool = Field(False, description="Spent is above the budget.")
    forecast_over_budget: bool = Field(False, description="The forecast is above the budget.")
    project_count: int = 0
    version: int

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)

    @staticmethod
    def resolve_over_budget(obj) -> bool:
        return getattr(obj, "spent", 0) > obj.budget

    @staticmethod
    def resolve_forecast_over_budget(obj) -> bool:
        return getattr(obj, "forecast", 0) > obj.budget


class InitiativeIn(StrictIn):
    name: str = NAME
    portfolio_id: Id
    department_id: Id = Field(description="The sponsoring department.")
    owner: str | None = USERNAME
    objective: str = TEXT
    start: datetime.date
    end: datetime.date = Field(description="On or after the start.")
    budget: Decimal = Field(Decimal("0"), **MONEY_IN)
    status: InitiativeStatus = InitiativeStatus.PROPOSED


class InitiativePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    portfolio_id: Id | None = None
    department_id: Id | None = None
    owner: str | None = USERNAME
    objective: str | None = Field(None, max_length=5000)
    start: datetime.date | None = None
    end: datetime.date | None = None
    budget: Decimal | None = Field(None, **MONEY_IN)
    status: InitiativeStatus | None = None


# Projects


class ProjectOut(Schema):
    id: int
    name: str
    initiative_id: int
    initiative: str = Field(alias="initiative.name")
    owner_team_id: int
    owner_team: str = Field(alias="owner_team.name")
    start: datetime.date
    end: datetime.date
    description: str
    version: int


class ProjectIn(StrictIn):
    name: str = NAME
    initiative_id: Id
    owner_team_id: Id
    start: datetime.date
    end: datetime.date = Field(description="On or after the start.")
    description: str = TEXT


class ProjectPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    initiative_id: Id | None = None
    owner_team_id: Id | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    description: str | None = Field(None, max_length=5000)


# Spend


class SpendOut(Schema):
    id: int
    initiative_id: int
    initiative: str = Field(alias="initiative.name")
    department_id: int
    department: str = Field(alias="department.name")
    month: datetime.date = Field(description="The first day of the month.")
    planned: float
    actual: float | None = Field(description="Null until the month is booked.")
    variance: float | None = Field(description="Actual less planned; null until booked.")
    version: int

    @staticmethod
    def resolve_actual(obj) -> float | None:
        return _float(obj.actual)

    @staticmethod
    def resolve_variance(obj) -> float | None:
        return _float(obj.variance)


class SpendIn(StrictIn):
    initiative_id: Id
    department_id: Id = Field(description="The department whose cost centre the spend is booked to.")
    month: datetime.date = Field(description=MONTH)
    planned: Decimal = Field(Decimal("0"), **MONEY_IN)
    actual: Decimal | None = Field(None, **MONEY_IN, description="Null until the month is booked.")


class SpendPatch(StrictIn):
    version: Version
    planned: Decimal | None = Field(None, **MONEY_IN)
    actual: Decimal | None = Field(None, **MONEY_IN, description="Null: not booked (yet).")


class SpendMonthOut(Schema):
    month: datetime.date
    planned: float
    actual: float | None
    variance: float | None


class SpendDepartmentOut(Schema):
    department_id: int
    department: str
    planned: float
    actual: float | None
    variance: float | None


# Allocations and team load


class AllocationOut(Schema):
    id: int
    initiative_id: int
    initiative: str = Field(alias="initiative.name")
    team_id: int
    team: str = Field(alias="team.name")
    start: datetime.date
    end: datetime.date
    unit: AllocationUnit
    amount: float
    above_full_capacity: bool = Field(description="A percentage above 100: more than the whole team on its own.")
    note: str
    version: int


class AllocationIn(StrictIn):
    initiative_id: Id
    team_id: Id
    start: datetime.date
    end: datetime.date = Field(description="On or after the start.")
    unit: AllocationUnit = AllocationUnit.PERSON_DAYS
    amount: Decimal = Field(**AMOUNT_IN)
    note: str = Field("", max_length=200)


class AllocationPatch(StrictIn):
    version: Version
    team_id: Id | None = None
    start: datetime.date | None = None
    end: datetime.date | None = None
    unit: AllocationUnit | None = None
    amount: Decimal | None = Field(None, **AMOUNT_IN)
    note: str | None = Field(None, max_length=200)


class TeamWeekInitiativeOut(Schema):
    initiative_id: int
    person_days: float


class TeamWeekOut(Schema):
    week: str = Field(description="The ISO week, e.g. 2026-W48.")
    start: datetime.date = Field(description="Its Monday.")
    end: datetime.date = Field(description="Its Sunday.")
    capacity: float = Field(description="Person-days the team can do that week (its calendar's working days).")
    allocated: float = Field(description="Person-days allocated that week, over every initiative.")
    load_percent: float | None = Field(description="Allocated as a percentage of capacity; null without capacity.")
    over_allocated: bool
    initiatives: list[TeamWeekInitiativeOut]


class TeamLoadOut(Schema):
    team_id: int
    team: str
    department_id: int
    department: str
    capacity_person_days_per_week: float
    start: datetime.date
    end: datetime.date
    weeks_over: int = Field(description="Weeks in which the team is over-allocated.")
    peak_percent: float | None
    weeks: list[TeamWeekOut]


# The register


class RegisterItemOut(Schema):
    id: int
    kind: RegisterKind
    title: str
    description: str
    category: RegisterCategory
    impact: Impact
    status: RegisterStatus
    owner: str | None
    initiative_id: int | None
    initiative: str | None
    project_id: int | None
    project: str | None
    raised_on: datetime.date
    closed_on: datetime.date | None
    tags: list[str]
    version: int

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)

    @staticmethod
    def resolve_initiative(obj) -> str | None:
        return obj.initiative.name if obj.initiative_id else None

    @staticmethod
    def resolve_project(obj) -> str | None:
        return obj.project.name if obj.project_id else None

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return obj.tag_names


class RegisterItemIn(StrictIn):
    kind: RegisterKind
    title: str = Field(min_length=1, max_length=200)
    category: RegisterCategory
    description: str = TEXT
    impact: Impact = Impact.MEDIUM
    status: RegisterStatus | None = Field(None, description="Default: recorded for a lesson, open for the others.")
    owner: str | None = USERNAME
    initiative_id: Id | None = Field(
        None, description="The initiative; taken from the project when only that is given."
    )
    project_id: Id | None = None
    raised_on: datetime.date | None = Field(None, description="Default: today.")
    closed_on: datetime.date | None = Field(None, description="Only for a closed item; default today when closed.")
    tags: list[str] = TAGS


class RegisterItemPatch(StrictIn):
    version: Version
    kind: RegisterKind | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    category: RegisterCategory | None = None
    description: str | None = Field(None, max_length=5000)
    impact: Impact | None = None
    status: RegisterStatus | None = None
    owner: str | None = USERNAME
    initiative_id: Id | None = None
    project_id: Id | None = None
    raised_on: datetime.date | None = None
    closed_on: datetime.date | None = None
    tags: list[str] | None = Field(None, max_length=50, description="Replaces the tags.")


class RegisterCloseIn(StrictIn):
    version: Version
    closed_on: datetime.date | None = Field(None, description="Default: today.")


class RegisterCategoryCountOut(Schema):
    category: RegisterCategory
    label: str
    count: int
    open: int
    initiatives: int = Field(description="Initiatives it turns up on.")
    share: float = Field(description="The part (0 to 1) of the initiatives with items that it turns up on.")
    recurring: bool = Field(description="It turns up on two initiatives or more.")


class RegisterTagCountOut(Schema):
    name: str
    count: int
    initiatives: int
    share: float
    recurring: bool


class RegisterSeriesOut(Schema):
    category: RegisterCategory
    label: str
    counts: list[int] = Field(description="Items raised per month, one per entry of `months`.")


class RegisterSummaryOut(Schema):
    total: int
    initiatives: int = Field(description="Initiatives with at least one of the items counted.")
    by_category: list[RegisterCategoryCountOut]
    by_tag: list[RegisterTagCountOut]
    months: list[datetime.date]
    series: list[RegisterSeriesOut]


# The portfolio view


class PortfolioViewInitiativeOut(Schema):
    id: int
    name: str
    portfolio_id: int
    department_id: int
    department: str = Field(alias="department.name")
    status: InitiativeStatus
    budget: float
    spent: float
    forecast: float
    variance: float
    period_planned: float
    period_actual: float
    over_budget: bool
    forecast_over_budget: bool


class PortfolioViewTotalsOut(Schema):
    budget: float
    planned_total: float
    spent: float
    forecast: float
    variance: float
    period_planned: float
    period_actual: float


class PortfolioStaffingOut(Schema):
    department_id: int
    department: str
    teams: int = Field(description="Teams of this department allocated to the initiatives shown.")
    capacity: float = Field(description="Those teams' person-days of capacity over the period.")
    allocated_here: float = Field(description="Person-days they are allocated to the initiatives shown.")
    allocated_elsewhere: float = Field(description="Person-days they are allocated to other initiatives.")
    over_allocated_team_ids: list[int]

    @staticmethod
    def resolve_over_allocated_team_ids(row) -> list[int]:
        return [team["team_id"] for team in row["over_allocated_teams"]]


class PortfolioRollupOut(Schema):
    key: str
    title: str
    data: dict


class PortfolioViewOut(Schema):
    portfolio_id: int
    name: str
    portfolio_count: int = Field(description="This portfolio and every one under it.")
    department_id: int | None
    start: datetime.date
    end: datetime.date
    totals: PortfolioViewTotalsOut
    initiatives: list[PortfolioViewInitiativeOut]
    spend_by_month: list[SpendMonthOut]
    spend_by_department: list[SpendDepartmentOut]
    staffing: list[PortfolioStaffingOut]
    open_risk_count: int
    open_risks_by_impact: dict[str, int]
    open_risks: list[RegisterItemOut] = Field(description="The worst 50 open risks and issues.")
    lessons_by_category: list[RegisterCategoryCountOut]
    rollups: list[PortfolioRollupOut]
