"""The chart specifications of the portfolio pages, drawn by core's charts.js (kind "combo": bars and lines on one
category axis, stacked where a series names a stack, horizontal when asked, categories linking to pages)."""

from launchdeck.portfolio.periods import week_label

INITIATIVES_CHARTED = 25
BUDGET, SPENT, FORECAST = "#6c757d", "#0d6efd", "#adb5bd"
PLANNED, ACTUAL = "#adb5bd", "#0d6efd"
HERE, ELSEWHERE, CAPACITY, OVER = "#0d6efd", "#9ec5fe", "#198754", "#dc3545"
CATEGORY_SERIES = 6


def _money(value) -> float:
    return round(float(value or 0), 2)


def initiative_budgets(initiatives) -> dict:
    """Budget, spent and forecast of the largest initiatives (by budget), one horizontal group each."""
    shown = sorted(initiatives, key=lambda initiative: (-initiative.budget, initiative.name))[:INITIATIVES_CHARTED]
    return {
        "kind": "combo",
        "horizontal": True,
        "title": "Budget against spend",
        "categories": [initiative.name for initiative in shown],
        "links": [initiative.get_absolute_url() for initiative in shown],
        "series": [
            {"name": "Budget", "data": [_money(i.budget) for i in shown], "color": BUDGET},
            {"name": "Spent", "data": [_money(i.spent) for i in shown], "color": SPENT},
            {"name": "Forecast", "data": [_money(i.forecast) for i in shown], "color": FORECAST},
        ],
        "height": max(440, 28 * len(shown) + 70),
    }


def spend_by_month(months: list[dict]) -> dict:
    return {
        "kind": "combo",
        "title": "Spend per month",
        "categories": [row["month"].strftime("%b %Y") for row in months],
        "series": [
            {"name": "Planned", "data": [_money(row["planned"]) for row in months], "color": PLANNED},
            {
                "name": "Actual",
                "data": [None if row["actual"] is None else _money(row["actual"]) for row in months],
                "color": ACTUAL,
            },
        ],
    }


def staffing(rows: list[dict]) -> dict:
    """Per department: the person-days its allocated teams give these initiatives and others, against capacity."""
    return {
        "kind": "combo",
        "horizontal": True,
        "title": "Staffing against capacity (person-days over the period)",
        "categories": [row["department"] for row in rows],
        "series": [
            {
                "name": "These initiatives",
                "data": [round(row["allocated_here"], 1) for row in rows],
                "stack": "allocated",
                "color": HERE,
            },
            {
                "name": "Other initiatives",
                "data": [round(row["allocated_elsewhere"], 1) for row in rows],
                "stack": "allocated",
                "color": ELSEWHERE,
            },
            {"name": "Capacity", "data": [round(row["capacity"], 1) for row in rows], "color": CAPACITY},
        ],
        "height": max(200, 46 * len(rows) + 70),
    }


def lessons_by_category(rows: list[dict]) -> dict:
    return {
        "kind": "combo",
        "horizontal": True,
        "title": "Lessons learned by category",
        "categories": [row["label"] for row in rows],
        "series": [{"name": "Lessons", "data": [row["count"] for row in rows], "color": SPENT}],
        "height": max(180, 26 * len(rows) + 60),
    }


def register_over_time(summary: dict) -> dict:
    """Items raised per month, stacked by category: the most frequent categories, the rest together."""
    months = summary["months"]
    series = summary["series"][:CATEGORY_SERIES]
    rest = summary["series"][CATEGORY_SERIES:]
    stacked = [{"name": row["label"], "data": row["counts"], "stack": "items"} for row in series]
    if rest:
        stacked.append(
            {
                "name": "Other categories",
                "data": [sum(row["counts"][index] for row in rest) for index in range(len(months))],
                "stack": "items",
                "color": "#ced4da",
            }
        )
    return {
        "kind": "combo",
        "title": "Raised per month, by category",
        "categories": [month.strftime("%b %Y") for month in months],
        "series": stacked,
        "integer": True,
    }


def team_load(load) -> dict:
    """Each week's allocated person-days, the part above capacity in red, and the capacity as a line."""
    within = [round(min(week.allocated, week.capacity), 1) for week in load.weeks]
    above = [round(max(week.allocated - week.capacity, 0), 1) for week in load.weeks]
    return {
        "kind": "combo",
        "title": f"{load.team.name}: allocated against capacity per week",
        "categories": [week_label(week.monday) for week in load.weeks],
        "series": [
            {"name": "Allocated within capacity", "data": within, "stack": "load", "color": HERE},
            {"name": "Allocated above capacity", "data": above, "stack": "load", "color": OVER},
            {
                "name": "Capacity",
                "data": [round(week.capacity, 1) for week in load.weeks],
                "type": "line",
                "step": "middle",
                "color": CAPACITY,
            },
        ],
    }
