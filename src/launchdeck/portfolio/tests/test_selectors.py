"""Reading the portfolio: the tree, spend totals and variance, team load, the register's counts and the portfolio
view, on fixtures whose numbers are worked out by hand; and the number of queries each read takes."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import ValidationFailed
from launchdeck.org.tests.factories import CalendarFactory, DepartmentFactory, TeamFactory
from launchdeck.portfolio import rollups, selectors
from launchdeck.portfolio.models import Spend
from launchdeck.portfolio.tests.factories import (
    AllocationFactory,
    InitiativeFactory,
    PortfolioFactory,
    RegisterItemFactory,
    SpendFactory,
)

JAN, FEB, MAR = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)
MON_5_JAN = datetime.date(2026, 1, 5)


def d(value) -> Decimal:
    return Decimal(str(value))


@pytest.fixture
def reader(make_user):
    """A viewer whose roles are already read, so query counts are those of the read itself."""
    user = make_user(Role.VIEWER)
    assert user.roles == [Role.VIEWER]
    return user


def queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


# The tree


def test_the_tree_is_depth_first_by_name_with_subtree_totals(reader):
    top = PortfolioFactory(name="B Top")
    child = PortfolioFactory(name="Child", parent=top)
    PortfolioFactory(name="Grandchild", parent=child)
    PortfolioFactory(name="A Other")
    InitiativeFactory(portfolio=top, budget=d(100))
    spent = InitiativeFactory(portfolio=child, budget=d(50))
    SpendFactory(initiative=spent, actual=d(70))
    nodes = selectors.portfolio_tree(user=reader)
    assert [(node.name, node.depth) for node in nodes] == [
        ("A Other", 0),
        ("B Top", 0),
        ("Child", 1),
        ("Grandchild", 2),
    ]
    top_node = nodes[1]
    assert (top_node.initiative_count, top_node.subtree_initiative_count) == (1, 2)
    assert (top_node.subtree_budget, top_node.subtree_spent) == (d(150), d(70))
    assert (nodes[2].subtree_budget, nodes[2].subtree_spent) == (d(50), d(70))


def test_the_tree_takes_three_queries_whatever_its_size(reader):
    PortfolioFactory()
    few = queries(lambda: selectors.portfolio_tree(user=reader))
    parent = PortfolioFactory()
    for _ in range(10):
        InitiativeFactory(portfolio=PortfolioFactory(parent=parent))
    assert queries(lambda: selectors.portfolio_tree(user=reader)) == few == 3


def test_the_subtree_holds_every_descendant_and_nothing_else(reader):
    top = PortfolioFactory()
    child = PortfolioFactory(parent=top)
    grandchild = PortfolioFactory(parent=child)
    PortfolioFactory()
    subtree = selectors.portfolio_subtree_ids(user=reader, portfolio=top)
    assert sorted(subtree) == sorted([top.pk, child.pk, grandchild.pk])
    assert selectors.portfolio_ancestors(user=reader, portfolio=grandchild) == [top, child]


# Spend and variance


def test_spend_variance_is_actual_less_planned_and_empty_until_booked(db):
    booked = SpendFactory(planned=d(1000), actual=d(1200))
    under = SpendFactory(planned=d(1000), actual=d(800))
    unbooked = SpendFactory(planned=d(1000), actual=None)
    assert (booked.variance, under.variance, unbooked.variance) == (d(200), d(-200), None)


def test_initiative_totals_count_only_booked_months_in_the_variance(reader):
    initiative = InitiativeFactory(budget=d(25000))
    other = DepartmentFactory()
    SpendFactory(initiative=initiative, month=JAN, planned=d(10000), actual=d(12000))
    SpendFactory(initiative=initiative, month=FEB, planned=d(10000), actual=d(9000))
    SpendFactory(initiative=initiative, month=MAR, planned=d(10000), actual=None)
    SpendFactory(initiative=initiative, department=other, month=JAN, planned=d(5000), actual=d(5000))
    row = selectors.initiative_get(user=reader, pk=initiative.pk)
    assert row.planned_total == d(35000)
    assert row.spent == d(26000)
    assert row.booked_planned == d(25000)
    assert row.variance == d(1000)
    assert row.forecast == d(36000)
    assert row.spent > row.budget
    assert list(selectors.initiative_list(user=reader, over_budget=True)) == [initiative]


def test_an_initiative_without_spend_has_zero_totals(reader):
    initiative = InitiativeFactory()
    row = selectors.initiative_get(user=reader, pk=initiative.pk)
    assert (row.planned_total, row.spent, row.variance, row.forecast, row.project_count) == (0, 0, 0, 0, 0)


def test_spend_by_month_fills_every_month_and_leaves_unbooked_variance_empty(reader):
    initiative = InitiativeFactory()
    SpendFactory(initiative=initiative, month=JAN, planned=d(100), actual=d(130))
    SpendFactory(initiative=initiative, department=DepartmentFactory(), month=JAN, planned=d(50), actual=None)
    SpendFactory(initiative=initiative, month=MAR, planned=d(100), actual=None)
    months = selectors.spend_by_month(user=reader, initiatives=[initiative.pk], start=JAN, end=MAR)
    assert [(m["month"], m["planned"], m["actual"], m["variance"]) for m in months] == [
        (JAN, d(150), d(130), d(30)),
        (FEB, d(0), None, None),
        (MAR, d(100), None, None),
    ]


def test_the_initiative_list_takes_one_query_whatever_the_spend(reader):
    for _ in range(2):
        SpendFactory(initiative=InitiativeFactory())
    few = queries(lambda: list(selectors.initiative_list(user=reader)))
    for _ in range(10):
        initiative = InitiativeFactory()
        for month in (JAN, FEB, MAR):
            SpendFactory(initiative=initiative, month=month)
    assert queries(lambda: list(selectors.initiative_list(user=reader))) == few == 1


# Team load


@pytest.fixture
def team(db):
    """20 person-days a week, weekends only (no public holidays)."""
    return TeamFactory(name="Falcon", capacity_person_days_per_week=d(20))


def load_of(reader, team, start, end):
    [load] = selectors.team_load(user=reader, start=start, end=end, teams=[team.pk])
    return load


def test_team_load_adds_every_allocation_and_flags_the_week_above_capacity(reader, team):
    AllocationFactory(team=team, start=MON_5_JAN, end=datetime.date(2026, 1, 18), amount=d(10))
    AllocationFactory(
        team=team, start=datetime.date(2026, 1, 12), end=datetime.date(2026, 1, 25), unit="percent", amount=d(60)
    )
    load = load_of(reader, team, MON_5_JAN, datetime.date(2026, 1, 25))
    assert [(w.monday.day, w.capacity, w.allocated, w.over_allocated) for w in load.weeks] == [
        (5, 20.0, 10.0, False),
        (12, 20.0, 22.0, True),
        (19, 20.0, 12.0, False),
    ]
    assert [round(w.load_percent) for w in load.weeks] == [50, 110, 60]
    assert load.peak_percent == pytest.approx(110)
    assert [w.monday for w in load.over_allocated_weeks] == [datetime.date(2026, 1, 12)]


def test_exactly_full_capacity_is_not_over_allocated(reader, team):
    AllocationFactory(team=team, start=MON_5_JAN, end=datetime.date(2026, 1, 11), amount=d(12))
    AllocationFactory(team=team, start=MON_5_JAN, end=datetime.date(2026, 1, 11), unit="percent", amount=d(40))
    [week] = load_of(reader, team, MON_5_JAN, datetime.date(2026, 1, 11)).weeks
    assert (week.allocated, week.over_allocated) == (20.0, False)


def test_a_partial_week_counts_its_working_days(reader, team):
    # Wednesday to Sunday: three working days of five.
    AllocationFactory(team=team, start=datetime.date(2026, 1, 7), end=datetime.date(2026, 1, 11), amount=d(10))
    [week] = load_of(reader, team, MON_5_JAN, datetime.date(2026, 1, 11)).weeks
    assert week.allocated == pytest.approx(6.0)


def test_a_percentage_above_a_hundred_is_over_allocated_on_its_own(reader, team):
    AllocationFactory(team=team, start=MON_5_JAN, end=datetime.date(2026, 1, 11), unit="percent", amount=d(150))
    [week] = load_of(reader, team, MON_5_JAN, datetime.date(2026, 1, 11)).weeks
    assert (week.allocated, week.load_percent, week.over_allocated) == (30.0, 150.0, True)


def test_a_team_without_capacity_is_over_allocated_by_any_person_days(reader):
    idle = TeamFactory(capacity_person_days_per_week=d(0))
    AllocationFactory(team=idle, start=MON_5_JAN, end=datetime.date(2026, 1, 11), amount=d(1))
    [week] = load_of(reader, idle, MON_5_JAN, datetime.date(2026, 1, 11)).weeks
    assert (week.capacity, week.allocated, week.load_percent, week.over_allocated) == (0.0, 1.0, None, True)


def test_public_holidays_shrink_capacity_and_allocation_alike(reader):
    england = CalendarFactory(country="GB", subdivision="ENG")
    team = TeamFactory(capacity_person_days_per_week=d(20), calendar=england)
    christmas_week = datetime.date(2026, 12, 21)
    AllocationFactory(team=team, start=christmas_week, end=datetime.date(2026, 12, 27), unit="percent", amount=d(100))
    [week] = load_of(reader, team, christmas_week, datetime.date(2026, 12, 27)).weeks
    # Friday 25 December is Christmas Day: four working days of five.
    assert (week.capacity, week.allocated, week.over_allocated) == (16.0, 16.0, False)


def test_team_load_without_teams_reads_every_allocated_team_in_a_fixed_number_of_queries(reader, team):
    AllocationFactory(team=team, start=MON_5_JAN, end=MON_5_JAN)
    window = {"start": MON_5_JAN, "end": datetime.date(2026, 3, 29)}
    calendar = CalendarFactory(country="GB", subdivision="ENG")
    AllocationFactory(team=TeamFactory(calendar=calendar), start=MON_5_JAN, end=datetime.date(2026, 2, 1))
    few = queries(lambda: selectors.team_load(user=reader, **window))
    for _ in range(8):
        AllocationFactory(team=TeamFactory(calendar=calendar), start=MON_5_JAN, end=datetime.date(2026, 2, 1))
    assert queries(lambda: selectors.team_load(user=reader, **window)) == few
    assert len(selectors.team_load(user=reader, **window)) == 10


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime.date(2026, 2, 1), datetime.date(2026, 1, 1), "cannot be before"),
        (datetime.date(2026, 1, 1), datetime.date(2028, 6, 1), "at most 106 weeks"),
    ],
)
def test_team_load_refuses_a_backwards_or_too_long_window(reader, team, start, end, message):
    with pytest.raises(ValidationFailed, match=message):
        selectors.team_load(user=reader, start=start, end=end, teams=[team.pk])


# The register


def test_the_register_is_counted_by_category_tag_and_month_and_recurring_ones_stand_out(reader):
    first, second, third = InitiativeFactory.create_batch(3)
    RegisterItemFactory(initiative=first, category="environments", raised_on=datetime.date(2026, 1, 5), tags=["uat"])
    RegisterItemFactory(
        initiative=first, category="environments", raised_on=datetime.date(2026, 1, 20), tags=["uat", "test-data"]
    )
    RegisterItemFactory(
        initiative=second,
        kind="lesson",
        category="environments",
        raised_on=datetime.date(2026, 3, 2),
        tags=["test-data"],
    )
    RegisterItemFactory(
        initiative=third,
        category="vendor",
        status="closed",
        raised_on=datetime.date(2026, 3, 9),
        closed_on=datetime.date(2026, 3, 10),
    )
    summary = selectors.register_summary(items=selectors.register_list(user=reader))
    assert (summary["total"], summary["initiatives"]) == (4, 3)
    categories = [
        (r["category"], r["count"], r["open"], r["initiatives"], r["share"], r["recurring"])
        for r in summary["by_category"]
    ]
    assert categories == [("environments", 3, 2, 2, 0.667, True), ("vendor", 1, 0, 1, 0.333, False)]
    tags = [(t["name"], t["count"], t["initiatives"], t["recurring"]) for t in summary["by_tag"]]
    assert tags == [("test-data", 2, 2, True), ("uat", 2, 1, False)]
    assert summary["months"] == [JAN, FEB, MAR]
    assert [(s["category"], s["counts"]) for s in summary["series"]] == [
        ("environments", [2, 0, 1]),
        ("vendor", [0, 0, 1]),
    ]


def test_the_register_filters_by_tag_kind_status_and_portfolio(reader):
    portfolio = PortfolioFactory()
    mine = InitiativeFactory(portfolio=portfolio)
    tagged = RegisterItemFactory(initiative=mine, tags=["test-data"])
    lesson = RegisterItemFactory(initiative=mine, kind="lesson")
    closed = RegisterItemFactory(status="closed", closed_on=datetime.date(2026, 4, 1))
    assert list(selectors.register_list(user=reader, tag="Test-Data ")) == [tagged]
    assert list(selectors.register_list(user=reader, kind="lesson")) == [lesson]
    assert closed not in selectors.register_list(user=reader, open_only=True)
    assert set(selectors.register_list(user=reader, portfolio=portfolio.pk)) == {tagged, lesson}


def test_the_register_summary_takes_four_queries_whatever_its_size(reader):
    RegisterItemFactory(tags=["a"])
    few = queries(lambda: selectors.register_summary(items=selectors.register_list(user=reader)))
    for number in range(20):
        RegisterItemFactory(tags=[f"t{number % 4}", "b"], raised_on=datetime.date(2026, 1 + number % 12, 1))
    assert queries(lambda: selectors.register_summary(items=selectors.register_list(user=reader))) == few == 4


# The portfolio view, on a fixture worked out by hand


@pytest.fixture
def estate(db):
    """Top (with Child) and Other; initiatives A (Top) and B (Child) run in 2026, C in Other, D in Top in 2025."""
    top = PortfolioFactory(name="Top")
    child = PortfolioFactory(name="Child", parent=top)
    other = PortfolioFactory(name="Other")
    d1, d2 = DepartmentFactory(name="D1"), DepartmentFactory(name="D2")
    a = InitiativeFactory(name="A", portfolio=top, department=d1, budget=d(100000))
    b = InitiativeFactory(name="B", portfolio=child, department=d2, budget=d(20000), end=datetime.date(2026, 6, 30))
    c = InitiativeFactory(name="C", portfolio=other, department=d1, budget=d(5))
    InitiativeFactory(
        name="D", portfolio=top, department=d1, start=datetime.date(2025, 1, 1), end=datetime.date(2025, 12, 31)
    )
    for initiative, department, month, planned, actual in [
        (a, d1, JAN, 10000, 12000),
        (a, d1, FEB, 10000, 9000),
        (a, d1, MAR, 10000, None),
        (a, d2, JAN, 5000, 5000),
        (b, d2, JAN, 8000, 15000),
        (b, d2, FEB, 8000, 10000),
        (c, d1, JAN, 99999, 99999),
    ]:
        Spend.objects.create(
            initiative=initiative,
            department=department,
            month=month,
            planned=d(planned),
            actual=None if actual is None else d(actual),
        )
    falcon = TeamFactory(name="Falcon", department=d1, capacity_person_days_per_week=d(20))
    AllocationFactory(initiative=a, team=falcon, start=MON_5_JAN, end=datetime.date(2026, 1, 18), amount=d(10))
    AllocationFactory(
        initiative=c, team=falcon, start=datetime.date(2026, 1, 12), end=datetime.date(2026, 1, 18), amount=d(15)
    )
    RegisterItemFactory(initiative=a, title="High risk", impact="high", raised_on=datetime.date(2026, 1, 10))
    RegisterItemFactory(
        initiative=b,
        title="Critical issue",
        kind="issue",
        impact="critical",
        status="mitigating",
        raised_on=datetime.date(2026, 2, 1),
    )
    RegisterItemFactory(initiative=a, title="Closed", status="closed", closed_on=FEB, raised_on=JAN)
    RegisterItemFactory(initiative=a, title="Assumed", kind="assumption")
    RegisterItemFactory(initiative=c, title="Elsewhere", impact="critical")
    for category, raised_on in [
        ("environments", datetime.date(2026, 1, 15)),
        ("environments", datetime.date(2026, 2, 15)),
        ("testing", datetime.date(2026, 2, 20)),
        ("testing", datetime.date(2025, 6, 1)),
    ]:
        RegisterItemFactory(initiative=a, kind="lesson", category=category, raised_on=raised_on)
    return {"top": top, "child": child, "a": a, "b": b, "d1": d1, "d2": d2, "falcon": falcon}


def view(reader, estate, **filters):
    return selectors.portfolio_view(
        user=reader, portfolio=estate["top"], **{"start": JAN, "end": datetime.date(2026, 12, 1), **filters}
    )


def test_the_portfolio_view_adds_up_its_subtree_for_the_period(reader, estate):
    result = view(reader, estate)
    assert result["portfolio_count"] == 2
    assert [i.name for i in result["initiatives"]] == ["A", "B"]
    totals = result["totals"]
    assert (totals["budget"], totals["spent"], totals["forecast"], totals["variance"]) == (
        d(120000),
        d(51000),
        d(61000),
        d(10000),
    )
    assert (totals["period_planned"], totals["period_actual"]) == (d(51000), d(51000))
    assert [i.name for i in result["over_budget"]] == ["B"]
    a, b = result["initiatives"]
    assert (a.spent, a.variance, a.forecast, a.over_budget, a.forecast_over_budget) == (
        d(26000),
        d(1000),
        d(36000),
        False,
        False,
    )
    assert (b.spent, b.variance, b.over_budget) == (d(25000), d(9000), True)


def test_the_portfolio_view_spend_follows_the_months_asked_for(reader, estate):
    result = view(reader, estate, start=FEB, end=MAR)
    months = [(m["month"], m["planned"], m["actual"], m["variance"]) for m in result["spend_by_month"]]
    assert months == [(FEB, d(18000), d(19000), d(1000)), (MAR, d(10000), None, None)]
    a, b = result["initiatives"]
    assert (a.period_planned, a.period_actual, b.period_planned, b.period_actual) == (
        d(20000),
        d(9000),
        d(8000),
        d(10000),
    )
    departments = [(r["department"], r["planned"], r["actual"]) for r in result["spend_by_department"]]
    assert departments == [("D1", d(20000), d(9000)), ("D2", d(8000), d(10000))]


def test_the_portfolio_view_by_department_keeps_that_departments_initiatives(reader, estate):
    result = view(reader, estate, department=estate["d2"])
    assert [i.name for i in result["initiatives"]] == ["B"]
    assert result["totals"]["budget"] == d(20000)
    assert [item.title for item in result["open_risks"]] == ["Critical issue"]


def test_the_portfolio_view_weighs_staffing_here_and_elsewhere_against_capacity(reader, estate):
    result = view(reader, estate, start=JAN, end=JAN)
    [row] = result["staffing"]
    # Five ISO weeks touch January 2026 (29 Dec to 1 Feb): 5 x 20 person-days of capacity.
    assert (row["department"], row["teams"], row["capacity"]) == ("D1", 1, 100.0)
    assert (row["allocated_here"], row["allocated_elsewhere"]) == (20.0, 15.0)
    assert [team["team"] for team in row["over_allocated_teams"]] == ["Falcon"]
    assert [(team["team"], team["weeks_over"]) for team in result["staffing_by_team"]] == [("Falcon", 1)]


def test_the_portfolio_view_lists_open_risks_and_issues_worst_first(reader, estate):
    result = view(reader, estate)
    assert [item.title for item in result["open_risks"]] == ["Critical issue", "High risk"]
    assert result["open_risk_count"] == 2
    assert result["open_risks_by_impact"] == {"low": 0, "medium": 0, "high": 1, "critical": 1}


def test_the_portfolio_view_counts_the_periods_lessons_by_category(reader, estate):
    lessons = view(reader, estate)["lessons"]
    assert [(row["category"], row["count"]) for row in lessons["by_category"]] == [
        ("environments", 2),
        ("testing", 1),
    ]


def test_the_portfolio_view_of_a_period_without_initiatives_is_empty(reader, estate):
    result = view(reader, estate, start=datetime.date(2030, 1, 1), end=datetime.date(2030, 3, 1))
    assert result["initiatives"] == [] and result["staffing"] == [] and result["open_risks"] == []
    assert result["totals"]["budget"] == 0


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [(MAR, JAN, "cannot be before the first"), (JAN, datetime.date(2029, 1, 1), "at most 36 months")],
)
def test_the_portfolio_view_refuses_a_backwards_or_too_long_period(reader, estate, start, end, message):
    with pytest.raises(ValidationFailed, match=message) as caught:
        view(reader, estate, start=start, end=end)
    assert caught.value.errors[0]["field"] == "end"


def test_the_portfolio_view_takes_a_fixed_number_of_queries(reader, estate):
    few = queries(lambda: view(reader, estate))
    calendar = CalendarFactory(country="GB")
    for number in range(6):
        initiative = InitiativeFactory(portfolio=estate["child"])
        SpendFactory(initiative=initiative, month=JAN, actual=d(5))
        AllocationFactory(initiative=initiative, team=TeamFactory(calendar=calendar))
        RegisterItemFactory(initiative=initiative, kind="lesson", tags=[f"tag{number}"])
        RegisterItemFactory(initiative=initiative, impact="critical", tags=["x"])
    # The teams' calendars and their closures are two more queries once any team has a calendar of its own.
    assert queries(lambda: view(reader, estate)) <= few + 2


# Roll-ups other apps register


@pytest.fixture
def no_rollups(monkeypatch):
    """An empty registry for the test, so the roll-ups the installed apps register stay out of it."""
    monkeypatch.setattr(rollups, "_rollups", {})


@pytest.fixture
def release_health(no_rollups):
    seen = []

    def health(initiative_ids, user):
        seen.append(sorted(initiative_ids))
        return {"green": len(initiative_ids)}

    rollups.register_rollup("release_health", "Release health", health, template="portfolio/partials/_impact.html")
    rollups.register_rollup("silent", "Nothing to say", lambda ids, user: None, template="x.html")
    return seen


def test_with_no_roll_up_registered_the_view_has_none(reader, estate, no_rollups):
    assert rollups.registered_rollups() == []
    assert view(reader, estate)["rollups"] == []


def test_a_registered_roll_up_gets_the_initiatives_shown_and_one_with_nothing_to_say_is_left_out(
    reader, estate, release_health
):
    sections = view(reader, estate)["rollups"]
    assert [(s["key"], s["title"], s["data"]) for s in sections] == [("release_health", "Release health", {"green": 2})]
    assert release_health == [sorted([estate["a"].pk, estate["b"].pk])]


# The home panel


def test_the_home_panel_names_initiatives_over_budget_teams_over_allocated_and_severe_risks(reader, estate):
    home = selectors.portfolio_home(user=reader, today=datetime.date(2026, 1, 5))
    assert [i.name for i in home["over_budget"]] == ["C", "B"]
    assert home["over_budget"][1].overspend == d(5000)
    assert [team["team"] for team in home["over_allocated"]["teams"]] == ["Falcon"]
    assert [item.title for item in home["severe"]] == ["Critical issue", "Elsewhere", "High risk"]
