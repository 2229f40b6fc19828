"""Reading the portfolio: the tree, initiatives with their spend, staffing against capacity, the register, and the
consolidated portfolio view. Each in a fixed number of queries, whatever the size of the portfolio."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth

from launchdeck.core.errors import ValidationFailed
from launchdeck.org.calendars import team_calendar
from launchdeck.org.models import CalendarClosure, Department, Team
from launchdeck.portfolio.choices import (
    IMPACT_ORDER,
    OPEN_STATUSES,
    Impact,
    RegisterCategory,
    RegisterKind,
)
from launchdeck.portfolio.models import (
    Allocation,
    Initiative,
    Portfolio,
    Project,
    RegisterItem,
    RegisterTag,
    Spend,
)
from launchdeck.portfolio.periods import month_end, month_start, months_between
from launchdeck.portfolio.rollups import rollup_sections
from launchdeck.portfolio.staffing import AllocationSpan, TeamCapacity, TeamLoad, weekly_load

ZERO = Decimal("0")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
MAX_LOAD_WEEKS = 106
MAX_VIEW_MONTHS = 36
OPEN_RISKS_SHOWN = 50


# Portfolios


@dataclass
class PortfolioNode:
    """A portfolio in the tree, with what it and everything under it hold."""

    portfolio: Portfolio
    depth: int
    children: list["PortfolioNode"]
    initiative_count: int = 0
    budget: Decimal = ZERO
    spent: Decimal = ZERO
    subtree_initiative_count: int = 0
    subtree_budget: Decimal = ZERO
    subtree_spent: Decimal = ZERO

    def __getattr__(self, name):
        # Lets the list page treat a node like its portfolio (get_absolute_url, name, pk).
        return getattr(self.portfolio, name)


def portfolio_list(*, user, search: str | None = None, parent: int | None = None) -> QuerySet[Portfolio]:
    """Portfolios with their parent and how many sub-portfolios and initiatives each holds directly."""
    portfolios = (
        Portfolio.objects.restrict(user, "view")
        .select_related("parent")
        .annotate(child_count=Count("children", distinct=True), initiative_count=Count("initiatives", distinct=True))
        .order_by("name")
    )
    if search:
        portfolios = portfolios.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if parent:
        portfolios = portfolios.filter(parent_id=parent)
    return portfolios


def portfolio_get(*, user, pk: int) -> Portfolio:
    return portfolio_list(user=user).get_visible(pk=pk)


def portfolio_tree(*, user) -> list[PortfolioNode]:
    """Every visible portfolio as a tree, depth first by name, with direct and subtree totals.

    Three queries whatever the tree's size: the portfolios, their initiatives' budgets, their actual spend.
    """
    portfolios = list(Portfolio.objects.restrict(user, "view").order_by("name"))
    nodes = {portfolio.pk: PortfolioNode(portfolio=portfolio, depth=0, children=[]) for portfolio in portfolios}
    budgets = (
        Initiative.objects.restrict(user, "view")
        .values("portfolio_id")
        .annotate(count=Count("id"), budget=Sum("budget"))
        .order_by()
    )
    for row in budgets:
        node = nodes.get(row["portfolio_id"])
        if node:
            node.initiative_count, node.budget = row["count"], row["budget"] or ZERO
    spent = (
        Spend.objects.restrict(user, "view")
        .filter(initiative__in=Initiative.objects.restrict(user, "view"))
        .values("initiative__portfolio_id")
        .annotate(spent=Sum("actual"))
        .order_by()
    )
    for row in spent:
        node = nodes.get(row["initiative__portfolio_id"])
        if node:
            node.spent = row["spent"] or ZERO
    roots = []
    for portfolio in portfolios:
        parent = nodes.get(portfolio.parent_id)
        (parent.children if parent else roots).append(nodes[portfolio.pk])
    ordered: list[PortfolioNode] = []

    def walk(node: PortfolioNode, depth: int, trail: frozenset) -> None:
        node.depth = depth
        ordered.append(node)
        node.subtree_initiative_count, node.subtree_budget, node.subtree_spent = (
            node.initiative_count,
            node.budget,
            node.spent,
        )
        for child in node.children:
            if child.pk in trail:
                continue
            walk(child, depth + 1, trail | {child.pk})
            node.subtree_initiative_count += child.subtree_initiative_count
            node.subtree_budget += child.subtree_budget
            node.subtree_spent += child.subtree_spent

    for root in roots:
        walk(root, 0, frozenset({root.pk}))
    return ordered


def portfolio_subtree_ids(*, user, portfolio: Portfolio) -> list[int]:
    """The ids of `portfolio` and every portfolio under it, from one query of the whole (small) tree."""
    children = defaultdict(list)
    for pk, parent_id in Portfolio.objects.restrict(user, "view").values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, stack = [], [portfolio.pk]
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.append(pk)
        stack.extend(children.get(pk, ()))
    return found


def portfolio_ancestors(*, user, portfolio: Portfolio) -> list[Portfolio]:
    """The portfolios above `portfolio`, outermost first (for breadcrumbs)."""
    rows = Portfolio.objects.restrict(user, "view").in_bulk()
    chain, node, seen = [], rows.get(portfolio.parent_id), set()
    while node is not None and node.pk not in seen:
        seen.add(node.pk)
        chain.append(node)
        node = rows.get(node.parent_id)
    return chain[::-1]


# Initiatives


def _spend_total(expression, *, condition: Q | None = None):
    """A per-initiative spend total as a correlated subquery, so it never multiplies with other joins."""
    rows = Spend.objects.filter(initiative=OuterRef("pk"))
    if condition is not None:
        rows = rows.filter(condition)
    total = rows.order_by().values("initiative").annotate(total=Sum(expression)).values("total")
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), Value(ZERO), output_field=MONEY_FIELD)


def with_spend_totals(
    initiatives: QuerySet, *, start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet:
    """Annotate budget against spend, all in SQL:

    `planned_total` (every month), `spent` (actuals booked), `booked_planned` (plan of the booked months),
    `forecast` (actuals where booked, plan elsewhere), `variance` (spent - booked_planned), and, for the months
    `start`..`end` when given, `period_planned` and `period_actual`.
    """
    booked = Q(actual__isnull=False)
    initiatives = initiatives.annotate(
        planned_total=_spend_total("planned"),
        spent=_spend_total("actual", condition=booked),
        booked_planned=_spend_total("planned", condition=booked),
        forecast=_spend_total(Coalesce("actual", "planned")),
    ).annotate(variance=F("spent") - F("booked_planned"))
    if start or end:
        window = Q()
        if start:
            window &= Q(month__gte=month_start(start))
        if end:
            window &= Q(month__lte=month_start(end))
        initiatives = initiatives.annotate(
            period_planned=_spend_total("planned", condition=window),
            period_actual=_spend_total("actual", condition=window & booked),
        )
    return initiatives


def initiative_list(
    *,
    user,
    search: str | None = None,
    portfolio: int | None = None,
    within: Portfolio | None = None,
    department: int | None = None,
    status: str | None = None,
    owner: int | None = None,
    over_budget: bool | None = None,
) -> QuerySet[Initiative]:
    """Initiatives with portfolio, department, owner, number of projects and budget against spend (see
    `with_spend_totals`). `portfolio` is one portfolio; `within` is a portfolio and everything under it."""
    initiatives = (
        Initiative.objects.restrict(user, "view")
        .select_related("portfolio", "department", "owner")
        .annotate(
            project_count=Coalesce(
                Subquery(
                    Project.objects.filter(initiative=OuterRef("pk"))
                    .order_by()
                    .values("initiative")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            )
        )
        .order_by("name")
    )
    initiatives = with_spend_totals(initiatives)
    if search:
        initiatives = initiatives.filter(Q(name__icontains=search) | Q(objective__icontains=search))
    if portfolio:
        initiatives = initiatives.filter(portfolio_id=portfolio)
    if within is not None:
        initiatives = initiatives.filter(portfolio_id__in=portfolio_subtree_ids(user=user, portfolio=within))
    if department:
        initiatives = initiatives.filter(department_id=department)
    if status:
        initiatives = initiatives.filter(status=status)
    if owner:
        initiatives = initiatives.filter(owner_id=owner)
    if over_budget is not None:
        initiatives = (
            initiatives.filter(spent__gt=F("budget")) if over_budget else initiatives.exclude(spent__gt=F("budget"))
        )
    return initiatives


def initiative_get(*, user, pk: int) -> Initiative:
    return initiative_list(user=user).get_visible(pk=pk)


# Projects


def project_list(
    *,
    user,
    search: str | None = None,
    initiative: int | None = None,
    portfolio: int | None = None,
    owner_team: int | None = None,
) -> QuerySet[Project]:
    """Projects with their initiative, its portfolio and the owner team."""
    projects = (
        Project.objects.restrict(user, "view")
        .select_related("initiative", "initiative__portfolio", "owner_team")
        .order_by("name")
    )
    if search:
        projects = projects.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if initiative:
        projects = projects.filter(initiative_id=initiative)
    if portfolio:
        projects = projects.filter(initiative__portfolio_id=portfolio)
    if owner_team:
        projects = projects.filter(owner_team_id=owner_team)
    return projects


def project_get(*, user, pk: int) -> Project:
    return project_list(user=user).get_visible(pk=pk)


MAX_FILLED_MONTHS = 120


def _month_axis(first: datetime.date, last: datetime.date, present) -> list[datetime.date]:
    """Every month from `first` to `last` for a chart's axis; over ten years apart, only the months with data."""
    span = (last.year - first.year) * 12 + last.month - first.month
    return months_between(first, last) if span <= MAX_FILLED_MONTHS else sorted(present)


# Spend


def spend_list(
    *,
    user,
    initiative: int | None = None,
    department: int | None = None,
    portfolio: int | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    booked: bool | None = None,
) -> QuerySet[Spend]:
    """Spend rows (month by department) of the initiatives the user may see; `start`/`end` are months."""
    rows = (
        Spend.objects.restrict(user, "view")
        .filter(initiative__in=Initiative.objects.restrict(user, "view"))
        .select_related("initiative", "department")
        .order_by("month", "department__name", "pk")
    )
    if initiative:
        rows = rows.filter(initiative_id=initiative)
    if department:
        rows = rows.filter(department_id=department)
    if portfolio:
        rows = rows.filter(initiative__portfolio_id=portfolio)
    if start:
        rows = rows.filter(month__gte=month_start(start))
    if end:
        rows = rows.filter(month__lte=month_start(end))
    if booked is not None:
        rows = rows.filter(actual__isnull=not booked)
    return rows


def spend_get(*, user, pk: int) -> Spend:
    return spend_list(user=user).get_visible(pk=pk)


def _variance(actual: Decimal | None, booked_planned: Decimal) -> Decimal | None:
    """Actual less the plan of the booked rows; None while nothing is booked."""
    return None if actual is None else actual - booked_planned


def spend_by_month(*, user, initiatives: QuerySet | list[int], start=None, end=None) -> list[dict]:
    """Planned and actual spend per month for these initiatives (in SQL), every month of the range present.

    `variance` is actual - planned over the booked rows of the month; None when nothing is booked yet.
    """
    rows = spend_list(user=user, start=start, end=end).filter(initiative__in=initiatives)
    totals = {
        row["month"]: row
        for row in rows.values("month")
        .annotate(
            planned_sum=Sum("planned"),
            actual_sum=Sum("actual"),
            booked_sum=Sum("planned", filter=Q(actual__isnull=False)),
        )
        .order_by("month")
    }
    if not (start and end) and not totals:
        return []
    first = month_start(start) if start else min(totals)
    last = month_start(end) if end else max(totals)
    result = []
    for month in _month_axis(first, last, totals):
        row = totals.get(month) or {}
        actual = row.get("actual_sum")
        result.append(
            {
                "month": month,
                "planned": row.get("planned_sum") or ZERO,
                "actual": actual,
                "variance": _variance(actual, row.get("booked_sum") or ZERO),
            }
        )
    return result


def spend_by_department(*, user, initiatives: QuerySet | list[int], start=None, end=None) -> list[dict]:
    """Planned and actual spend per department (cost centre) for these initiatives, largest plan first."""
    rows = spend_list(user=user, start=start, end=end).filter(initiative__in=initiatives)
    totals = (
        rows.values("department_id", "department__name")
        .annotate(
            planned_sum=Sum("planned"),
            actual_sum=Sum("actual"),
            booked_sum=Sum("planned", filter=Q(actual__isnull=False)),
        )
        .order_by("-planned_sum", "department__name")
    )
    return [
        {
            "department_id": row["department_id"],
            "department": row["department__name"],
            "planned": row["planned_sum"] or ZERO,
            "actual": row["actual_sum"],
            "variance": _variance(row["actual_sum"], row["booked_sum"] or ZERO),
        }
        for row in totals
    ]


# Staffing


def allocation_list(
    *,
    user,
    initiative: int | None = None,
    team: int | None = None,
    department: int | None = None,
    portfolio: int | None = None,
    active_on: datetime.date | None = None,
) -> QuerySet[Allocation]:
    """Allocations with team and initiative; `department` is the team's department."""
    allocations = (
        Allocation.objects.restrict(user, "view")
        .filter(initiative__in=Initiative.objects.restrict(user, "view"))
        .select_related("initiative", "team", "team__department")
        .order_by("start", "team__name", "pk")
    )
    if initiative:
        allocations = allocations.filter(initiative_id=initiative)
    if team:
        allocations = allocations.filter(team_id=team)
    if department:
        allocations = allocations.filter(team__department_id=department)
    if portfolio:
        allocations = allocations.filter(initiative__portfolio_id=portfolio)
    if active_on:
        allocations = allocations.filter(start__lte=active_on, end__gte=active_on)
    return allocations


def allocation_get(*, user, pk: int) -> Allocation:
    return allocation_list(user=user).get_visible(pk=pk)


def check_window(start: datetime.date, end: datetime.date, *, most_weeks: int = MAX_LOAD_WEEKS) -> None:
    """A load window runs forwards and is at most about two years, so its answer stays small."""
    if end < start:
        raise ValidationFailed.field("end", "The end date cannot be before the start date.")
    if (end - start).days > most_weeks * 7:
        raise ValidationFailed.field("end", f"Ask for at most {most_weeks} weeks at a time.")


def team_load(*, user, start: datetime.date, end: datetime.date, teams: list[int] | None = None) -> list[TeamLoad]:
    """Per team and ISO week from `start` to `end`: allocated person-days against capacity, over-allocation flagged.

    `teams` None means every team with an allocation in the window. The one rule is `staffing.weekly_load`; this
    only reads the rows: the teams with their calendars (three queries) and their allocations (one).
    """
    check_window(start, end)
    overlapping = Allocation.objects.restrict(user, "view").filter(
        initiative__in=Initiative.objects.restrict(user, "view"), start__lte=end, end__gte=start
    )
    if teams is None:
        teams = list(overlapping.values_list("team_id", flat=True).distinct())
    closures = Prefetch("closures", queryset=CalendarClosure.objects.order_by("start"))
    rows = (
        Team.objects.restrict(user, "view")
        .filter(pk__in=teams)
        .select_related("department", "calendar", "department__calendar")
        .prefetch_related(
            Prefetch("calendar__closures", queryset=closures.queryset),
            Prefetch("department__calendar__closures", queryset=closures.queryset),
        )
        .order_by("name")
    )
    capacities = [
        TeamCapacity(
            id=team.pk,
            name=team.name,
            department_id=team.department_id,
            department=team.department.name,
            capacity=float(team.capacity_person_days_per_week),
            calendar=team_calendar(team),
        )
        for team in rows
    ]
    spans = [
        AllocationSpan(
            id=row["pk"],
            team_id=row["team_id"],
            initiative_id=row["initiative_id"],
            start=row["start"],
            end=row["end"],
            percent=row["unit"] == "percent",
            amount=float(row["amount"]),
        )
        for row in overlapping.filter(team_id__in=[team.id for team in capacities]).values(
            "pk", "team_id", "initiative_id", "start", "end", "unit", "amount"
        )
    ]
    return weekly_load(capacities, spans, start, end)


def load_summary(load: TeamLoad, initiative_ids=None) -> dict:
    """A team's totals over the window: capacity, allocated (to `initiative_ids` and to anything), weeks over."""
    chosen = set(initiative_ids) if initiative_ids is not None else None
    allocated = sum(week.allocated for week in load.weeks)
    here = (
        allocated
        if chosen is None
        else sum(days for week in load.weeks for initiative, days in week.by_initiative.items() if initiative in chosen)
    )
    return {
        "team_id": load.team.id,
        "team": load.team.name,
        "department_id": load.team.department_id,
        "department": load.team.department,
        "capacity": sum(week.capacity for week in load.weeks),
        "allocated": allocated,
        "allocated_here": here,
        "weeks_over": len(load.over_allocated_weeks),
        "peak_percent": load.peak_percent,
    }


def over_allocated_teams(*, user, start: datetime.date, end: datetime.date, limit: int = 10) -> dict:
    """Teams over-allocated in at least one week of the window, most weeks over first."""
    summaries = [load_summary(load) for load in team_load(user=user, start=start, end=end)]
    over = sorted(
        (row for row in summaries if row["weeks_over"]),
        key=lambda row: (-row["weeks_over"], -(row["peak_percent"] or 0), row["team"]),
    )
    return {"count": len(over), "teams": over[:limit]}


# The register


def register_list(
    *,
    user,
    search: str | None = None,
    kind: str | None = None,
    kinds=None,
    category: str | None = None,
    impact: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    tag: str | None = None,
    initiative: int | None = None,
    initiatives=None,
    project: int | None = None,
    portfolio: int | None = None,
    raised_from: datetime.date | None = None,
    raised_to: datetime.date | None = None,
) -> QuerySet[RegisterItem]:
    """Lessons and RAID items with their links, owner and tags (prefetched); newest first."""
    items = (
        RegisterItem.objects.restrict(user, "view")
        .select_related("initiative", "project", "owner")
        .prefetch_related(Prefetch("tags", queryset=RegisterTag.objects.order_by("name")))
        .order_by("-raised_on", "-pk")
    )
    if search:
        items = items.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if kind:
        items = items.filter(kind=kind)
    if kinds:
        items = items.filter(kind__in=kinds)
    if category:
        items = items.filter(category=category)
    if impact:
        items = items.filter(impact=impact)
    if status:
        items = items.filter(status=status)
    if open_only:
        items = items.filter(status__in=OPEN_STATUSES)
    if tag:
        items = items.filter(pk__in=RegisterTag.objects.filter(name=tag.strip().lower()).values("item_id"))
    if initiative:
        items = items.filter(initiative_id=initiative)
    if initiatives is not None:
        items = items.filter(initiative__in=initiatives)
    if project:
        items = items.filter(project_id=project)
    if portfolio:
        items = items.filter(initiative__portfolio_id=portfolio)
    if raised_from:
        items = items.filter(raised_on__gte=raised_from)
    if raised_to:
        items = items.filter(raised_on__lte=raised_to)
    return items


def worst_first(items: QuerySet[RegisterItem]) -> QuerySet[RegisterItem]:
    """Critical first, then high, medium, low; the oldest first within an impact."""
    rank = Case(
        *[When(impact=impact, then=Value(order)) for impact, order in IMPACT_ORDER.items()],
        default=Value(0),
        output_field=IntegerField(),
    )
    return items.annotate(impact_rank=rank).order_by("-impact_rank", "raised_on", "pk")


def register_item_get(*, user, pk: int) -> RegisterItem:
    return register_list(user=user).get_visible(pk=pk)


def register_summary(*, items: QuerySet[RegisterItem], top_tags: int = 20) -> dict:
    """`items` (a `register_list`) counted by category, by tag and per month, so recurring challenges stand out.

    Categories and tags are ranked by the number of initiatives they turn up on, then by items; one is `recurring`
    when it turns up on two initiatives or more, and `share` is the part of the initiatives with items it turns up
    on. Four queries.
    """
    items = items.order_by()
    labels = dict(RegisterCategory.choices)
    initiatives = items.aggregate(count=Count("initiative", distinct=True))["count"] or 0

    def share(count: int) -> float:
        return round(count / initiatives, 3) if initiatives else 0.0

    by_category = [
        {
            "category": row["category"],
            "label": labels.get(row["category"], row["category"]),
            "count": row["count"],
            "open": row["open"],
            "initiatives": row["initiatives"],
            "share": share(row["initiatives"]),
            "recurring": row["initiatives"] >= 2,
        }
        for row in items.values("category")
        .annotate(
            count=Count("id"),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            initiatives=Count("initiative", distinct=True),
        )
        .order_by("-initiatives", "-count", "category")
    ]
    by_tag = [
        {**row, "share": share(row["initiatives"]), "recurring": row["initiatives"] >= 2}
        for row in RegisterTag.objects.filter(item__in=items.values("pk"))
        .values("name")
        .annotate(count=Count("id"), initiatives=Count("item__initiative", distinct=True))
        .order_by("-initiatives", "-count", "name")[:top_tags]
    ]
    monthly = list(
        items.annotate(month=TruncMonth("raised_on"))
        .values("month", "category")
        .annotate(count=Count("id"))
        .order_by("month", "category")
    )
    counts: dict[str, dict[datetime.date, int]] = defaultdict(dict)
    for row in monthly:
        month = row["month"].date() if isinstance(row["month"], datetime.datetime) else row["month"]
        counts[row["category"]][month] = row["count"]
    seen = {month for by_month in counts.values() for month in by_month}
    months = _month_axis(min(seen), max(seen), seen) if seen else []
    series = [
        {
            "category": row["category"],
            "label": row["label"],
            "counts": [counts[row["category"]].get(month, 0) for month in months],
        }
        for row in sorted(by_category, key=lambda row: (-row["count"], row["category"]))
    ]
    return {
        "total": sum(row["count"] for row in by_category),
        "initiatives": initiatives,
        "by_category": by_category,
        "by_tag": by_tag,
        "months": months,
        "series": series,
    }


# The portfolio view


def default_view_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The current calendar year, January to December: the budget year."""
    today = today or datetime.date.today()
    return datetime.date(today.year, 1, 1), datetime.date(today.year, 12, 1)


def check_view_period(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        raise ValidationFailed.field("end", "The last month cannot be before the first.")
    if len(months_between(start, end)) > MAX_VIEW_MONTHS:
        raise ValidationFailed.field("end", f"Show at most {MAX_VIEW_MONTHS} months at a time.")


def portfolio_view(
    *,
    user,
    portfolio: Portfolio,
    department: Department | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> dict:
    """Everything a portfolio manager looks at for one node of the tree and all under it, for a range of months:

    initiatives running in the period (optionally of one sponsoring department) with budget against spend; spend
    per month and per department; the staffing of the teams allocated to them against those teams' capacity, per
    department; their open risks and issues, worst first; their lessons by category; and every registered roll-up.
    """
    default_start, default_end = default_view_period()
    start, end = month_start(start or default_start), month_start(end or default_end)
    check_view_period(start, end)
    period_first, period_last = start, month_end(end)
    subtree = portfolio_subtree_ids(user=user, portfolio=portfolio)
    initiatives = (
        with_spend_totals(
            Initiative.objects.restrict(user, "view").select_related("portfolio", "department", "owner"),
            start=start,
            end=end,
        )
        .filter(portfolio_id__in=subtree, start__lte=period_last, end__gte=period_first)
        .order_by("-budget", "name")
    )
    if department is not None:
        initiatives = initiatives.filter(department=department)
    initiatives = list(initiatives)
    ids = [initiative.pk for initiative in initiatives]
    totals = {
        name: sum((getattr(initiative, name) for initiative in initiatives), ZERO)
        for name in ("budget", "planned_total", "spent", "forecast", "variance", "period_planned", "period_actual")
    }
    for initiative in initiatives:
        initiative.over_budget = initiative.spent > initiative.budget
        initiative.forecast_over_budget = initiative.forecast > initiative.budget
    staffing_by_team = (
        [
            load_summary(load, ids)
            for load in team_load(
                user=user,
                start=period_first,
                end=period_last,
                teams=list(
                    Allocation.objects.filter(initiative_id__in=ids, start__lte=period_last, end__gte=period_first)
                    .values_list("team_id", flat=True)
                    .distinct()
                ),
            )
        ]
        if ids
        else []
    )
    staffing: dict[int, dict] = {}
    for row in staffing_by_team:
        entry = staffing.setdefault(
            row["department_id"],
            {
                "department_id": row["department_id"],
                "department": row["department"],
                "teams": 0,
                "capacity": 0.0,
                "allocated_here": 0.0,
                "allocated_elsewhere": 0.0,
                "over_allocated_teams": [],
            },
        )
        entry["teams"] += 1
        entry["capacity"] += row["capacity"]
        entry["allocated_here"] += row["allocated_here"]
        entry["allocated_elsewhere"] += row["allocated"] - row["allocated_here"]
        if row["weeks_over"]:
            entry["over_allocated_teams"].append(row)
    risks = worst_first(
        register_list(user=user, kinds=[RegisterKind.RISK, RegisterKind.ISSUE], open_only=True, initiatives=ids)
    ).filter(raised_on__lte=period_last)
    open_risks = list(risks[:OPEN_RISKS_SHOWN])
    by_impact = dict(risks.order_by().values_list("impact").annotate(count=Count("id")))
    lessons = register_summary(
        items=register_list(
            user=user, kind=RegisterKind.LESSON, initiatives=ids, raised_from=period_first, raised_to=period_last
        )
    )
    return {
        "portfolio": portfolio,
        "portfolio_count": len(subtree),
        "department": department,
        "start": start,
        "end": end,
        "initiatives": initiatives,
        "totals": totals,
        "over_budget": [initiative for initiative in initiatives if initiative.over_budget],
        "spend_by_month": spend_by_month(user=user, initiatives=ids, start=start, end=end),
        "spend_by_department": spend_by_department(user=user, initiatives=ids, start=start, end=end),
        "staffing": sorted(staffing.values(), key=lambda row: row["department"]),
        "staffing_by_team": sorted(staffing_by_team, key=lambda row: (-row["weeks_over"], row["team"])),
        "open_risks": open_risks,
        "open_risk_count": sum(by_impact.values()),
        "open_risks_by_impact": {impact: by_impact.get(impact, 0) for impact in Impact.values},
        "lessons": lessons,
        "rollups": rollup_sections(ids, user),
    }


def portfolio_home(*, user, today: datetime.date | None = None) -> dict:
    """The home panel: initiatives over budget, teams over-allocated in the next twelve weeks, open high and
    critical risks and issues."""
    today = today or datetime.date.today()
    over_budget = (
        initiative_list(user=user, over_budget=True)
        .annotate(overspend=F("spent") - F("budget"))
        .order_by("-overspend", "name")
    )
    severe = worst_first(
        register_list(user=user, kinds=[RegisterKind.RISK, RegisterKind.ISSUE], open_only=True)
    ).filter(impact__in=[Impact.HIGH, Impact.CRITICAL])
    return {
        "initiatives": Initiative.objects.restrict(user, "view").count(),
        "over_budget_count": over_budget.count(),
        "over_budget": list(over_budget[:5]),
        "over_allocated": over_allocated_teams(
            user=user, start=today, end=today + datetime.timedelta(weeks=12), limit=5
        ),
        "severe_count": severe.count(),
        "severe": list(severe[:5]),
        "window_end": today + datetime.timedelta(weeks=12),
    }
