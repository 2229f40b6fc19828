"""The planning views: the consolidated timeline, the month calendar and the system impact matrix. What each page
embeds, how its filters narrow it, and that bad filters come back as form errors rather than 500s."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.org.tests.factories import DepartmentFactory
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory
from launchdeck.releases import views
from launchdeck.releases.choices import GateStatus, MilestoneKind, PhaseKind, Recurrence, ReleaseStatus, SystemImpact
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    TrainFactory,
)

D = datetime.date
TODAY = D(2026, 5, 14)


@pytest.fixture(autouse=True)
def today(today_is):
    """Every page and selector sees 14 May 2026 as today."""
    return today_is(TODAY)


@pytest.fixture
def signed_in(client, viewer):
    """A viewer: the planning views are read-only pages every role may open."""
    client.force_login(viewer)
    return client


def text(response) -> str:
    return response.content.decode()


def embedded(response, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', text(response), re.S)
    assert match, f"no embedded data {element_id}"
    return json.loads(match.group(1))


def not_embedded(response, element_id: str) -> bool:
    return f'id="{element_id}"' not in text(response)


@pytest.fixture
def plan(db):
    """A train with a child (phases, milestones, a gate), a standalone release, one outside the spring and a freeze."""
    train = TrainFactory(name="Summer train", planned_start=D(2026, 4, 1), planned_end=D(2026, 7, 31))
    child = ReleaseFactory(
        name="Payments 7.2",
        train=train,
        status=ReleaseStatus.PLANNED,
        planned_start=D(2026, 4, 6),
        planned_end=D(2026, 6, 26),
    )
    build = PhaseFactory(
        release=child, name="Build", kind=PhaseKind.BUILD, planned_start=D(2026, 4, 6), planned_end=D(2026, 5, 8)
    )
    sit = PhaseFactory(
        release=child, name="SIT", kind=PhaseKind.SIT, planned_start=D(2026, 5, 11), planned_end=D(2026, 6, 5)
    )
    deploy = MilestoneFactory(release=child, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 6, 24))
    gate = GateFactory(release=child, name="Go/no-go", due_date=D(2026, 6, 19), status=GateStatus.PASSED)
    standalone = ReleaseFactory(name="Intranet refresh", planned_start=D(2026, 5, 4), planned_end=D(2026, 5, 29))
    later = ReleaseFactory(name="Winter upgrade", planned_start=D(2026, 11, 2), planned_end=D(2026, 12, 11))
    freeze = FreezeWindowFactory(name="Midsummer freeze", starts_on=D(2026, 6, 22), ends_on=D(2026, 6, 26))
    return {
        "train": train,
        "child": child,
        "phases": [build, sit],
        "deploy": deploy,
        "gate": gate,
        "standalone": standalone,
        "later": later,
        "freeze": freeze,
    }


def release_ids(data: dict) -> set[int]:
    return {release["id"] for release in data["releases"]}


# The consolidated timeline


def test_the_timeline_embeds_the_releases_of_the_period_with_phases_markers_and_freezes(signed_in, plan):
    response = signed_in.get("/releases/timeline/", {"start": "2026-03-01", "end": "2026-07-31"})
    assert response.status_code == 200
    data = embedded(response, "timeline-data")
    assert release_ids(data) == {plan["train"].pk, plan["child"].pk, plan["standalone"].pk}
    child = next(release for release in data["releases"] if release["id"] == plan["child"].pk)
    assert child["groups"] == [f"t{plan['train'].pk}"]
    assert child["url"] == f"/releases/{plan['child'].pk}/"
    assert [phase["id"] for phase in child["phases"]] == [phase.pk for phase in plan["phases"]]
    assert child["milestones"] == [
        {"id": plan["deploy"].pk, "name": "Deploy", "kind": "deploy", "date": "2026-06-24", "in_freeze": True}
    ]
    assert [(gate["id"], gate["status"]) for gate in child["gates"]] == [(plan["gate"].pk, "passed")]
    assert [freeze["name"] for freeze in data["freezes"]] == ["Midsummer freeze"]
    assert {group["id"] for group in data["groups"]} == {f"t{plan['train'].pk}", "standalone"}
    page = text(response)
    assert 'data-timeline="timeline-data"' in page
    assert "3 releases and 1 freeze between 1 Mar 2026 and 31 Jul 2026, grouped by train" in page
    assert "Midsummer freeze" in page  # the freeze list under the legend
    assert 'data-testid="timeline-legend"' in page


def test_the_timeline_is_served_from_our_own_static_files(signed_in, plan):
    page = text(signed_in.get("/releases/timeline/"))
    assert "/static/vendor/vis-timeline/vis-timeline-graph2d.min.js" in page
    assert "/static/vendor/vis-timeline/vis-timeline-graph2d.min.css" in page
    assert "/static/launchdeck/timeline.js" in page
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing may come from another site"


def test_the_timeline_defaults_to_this_quarter_with_a_month_either_side(signed_in, plan):
    response = signed_in.get("/releases/timeline/")
    data = embedded(response, "timeline-data")
    assert (data["start"], data["end"], data["today"], data["group_by"]) == (
        "2026-03-01",
        "2026-07-31",
        "2026-05-14",
        "train",
    )
    assert 'name="start" value="2026-03-01"' in text(response)
    assert 'name="end" value="2026-07-31"' in text(response)


def test_one_end_of_the_period_gets_the_default_length(signed_in, plan):
    data = embedded(signed_in.get("/releases/timeline/", {"start": "2026-10-01"}), "timeline-data")
    assert (data["start"], data["end"]) == ("2026-10-01", "2027-02-28")
    assert release_ids(data) == {plan["later"].pk}
    data = embedded(signed_in.get("/releases/timeline/", {"end": "2026-04-30"}), "timeline-data")
    assert (data["start"], data["end"]) == ("2025-12-01", "2026-04-30")


def test_the_timeline_filters_by_portfolio_department_system_and_status(signed_in, plan):
    payments = DepartmentFactory(name="Payments")
    initiative = InitiativeFactory(department=payments)
    plan["child"].initiative = initiative
    plan["child"].save()
    retail = PortfolioFactory(name="Retail")
    plan["standalone"].portfolio = retail
    plan["standalone"].save()
    crm = SystemFactory(name="CRM")
    ReleaseSystemFactory(release=plan["train"], system=crm)
    period = {"start": "2026-03-01", "end": "2026-07-31"}

    def shown(**filters):
        return release_ids(embedded(signed_in.get("/releases/timeline/", {**period, **filters}), "timeline-data"))

    assert shown(portfolio=retail.pk) == {plan["standalone"].pk}
    assert shown(portfolio=initiative.portfolio_id) == {plan["child"].pk}
    assert shown(department=payments.pk) == {plan["child"].pk}
    assert shown(system=crm.pk) == {plan["train"].pk}
    assert shown(status="planned") == {plan["child"].pk}
    assert shown(status="draft", portfolio=retail.pk) == {plan["standalone"].pk}


def test_the_timeline_groups_by_portfolio_or_by_system(signed_in, plan):
    retail = PortfolioFactory(name="Retail")
    plan["standalone"].portfolio = retail
    plan["standalone"].save()
    crm, ledger = SystemFactory(name="CRM"), SystemFactory(name="Ledger")
    ReleaseSystemFactory(release=plan["child"], system=crm)
    ReleaseSystemFactory(release=plan["child"], system=ledger, impact=SystemImpact.REGRESSION)
    period = {"start": "2026-03-01", "end": "2026-07-31"}

    data = embedded(signed_in.get("/releases/timeline/", {**period, "group_by": "portfolio"}), "timeline-data")
    groups = {release["id"]: release["groups"] for release in data["releases"]}
    assert groups[plan["standalone"].pk] == [f"p{retail.pk}"]
    assert groups[plan["child"].pk] == ["p0"]

    response = signed_in.get("/releases/timeline/", {**period, "group_by": "system"})
    data = embedded(response, "timeline-data")
    groups = {release["id"]: release["groups"] for release in data["releases"]}
    assert groups[plan["child"].pk] == [f"s{crm.pk}", f"s{ledger.pk}"]
    assert "grouped by system" in text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-06-01", "end": "2026-05-01"}, "The end date cannot be before the start."),
        ({"start": "2026-01-01", "end": "2030-01-01"}, "Show at most three years at a time."),
        ({"start": "someday"}, "Enter a valid date."),
        ({"end": "2026-13-45"}, "Enter a valid date."),
        ({"start": "9999-12-31"}, "Enter a date between the years 1900 and 2999."),
        ({"portfolio": "999999"}, "Select a valid choice."),
        ({"department": "abc"}, "Select a valid choice."),
        ({"system": "999999"}, "Select a valid choice."),
        ({"status": "shipped"}, "Select a valid choice."),
        ({"group_by": "colour"}, "Select a valid choice."),
    ],
)
def test_bad_timeline_filters_are_form_errors_and_show_no_timeline(signed_in, plan, query, message):
    response = signed_in.get("/releases/timeline/", query)
    assert response.status_code == 200
    assert message in text(response)
    assert not_embedded(response, "timeline-data")
    assert 'data-testid="timeline-invalid"' in text(response)


def test_an_htmx_filter_change_gets_the_timeline_body_only(signed_in, plan):
    response = signed_in.get(
        "/releases/timeline/", {"start": "2026-03-01", "end": "2026-07-31", "status": "draft"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = text(response)
    assert "<html" not in page and 'data-testid="timeline-filters"' in page
    assert release_ids(embedded(response, "timeline-data")) == {plan["train"].pk, plan["standalone"].pk}


def test_the_timeline_page_reads_in_a_bounded_number_of_queries(signed_in, plan):
    period = {"start": "2026-03-01", "end": "2026-12-31"}
    with CaptureQueriesContext(connection) as few:
        signed_in.get("/releases/timeline/", period)
    for number in range(8):
        release = ReleaseFactory(train=plan["train"], planned_start=D(2026, 5, 4), planned_end=D(2026, 6, 26))
        PhaseFactory(release=release)
        MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY)
        GateFactory(release=release)
        ReleaseSystemFactory(release=release, system=SystemFactory(name=f"System {number}"))
    with CaptureQueriesContext(connection) as many:
        response = signed_in.get("/releases/timeline/", period)
    assert len(embedded(response, "timeline-data")["releases"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)


def test_beyond_its_row_limit_the_timeline_keeps_the_busiest_rows_and_says_so(signed_in, plan, monkeypatch):
    monkeypatch.setattr(views, "TIMELINE_ROWS", 1)
    for number in range(2):
        ReleaseFactory(name=f"Standalone {number}", planned_start=D(2026, 4, 1), planned_end=D(2026, 4, 30))
    response = signed_in.get("/releases/timeline/", {"start": "2026-03-01", "end": "2026-07-31"})
    data = embedded(response, "timeline-data")
    assert [group["id"] for group in data["groups"]] == ["standalone"]  # three releases against the train's two
    assert {release["name"] for release in data["releases"]} == {"Intranet refresh", "Standalone 0", "Standalone 1"}
    assert "1 more row and 2 releases only in them are left out" in text(response)


def test_an_empty_period_says_so(signed_in, db):
    response = signed_in.get("/releases/timeline/", {"start": "2030-01-01", "end": "2030-03-31"})
    assert embedded(response, "timeline-data")["releases"] == []
    assert 'data-testid="timeline-empty"' in text(response)


# The month calendar


def test_the_calendar_shows_a_month_monday_first_with_releases_milestones_gates_and_freeze_days(signed_in, plan):
    response = signed_in.get("/releases/calendar/", {"month": "2026-06"})
    assert response.status_code == 200
    page = text(response)
    assert "June 2026" in page
    weekdays = re.findall(r'<th scope="col">(\w+)</th>', page)
    assert weekdays == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    days = re.findall(r'data-date="([\d-]+)"', page)
    assert days[0] == "2026-06-01" and days[-1] == "2026-07-05" and len(days) == 35

    def cell(day: str) -> str:
        return re.search(rf'<td class="([^"]*)" data-date="{day}">(.*?)</td>', page, re.S).group(0)

    assert "Payments 7.2 ends" in cell("2026-06-26")
    assert "Deploy · Payments 7.2" in cell("2026-06-24") and "text-danger" in cell("2026-06-24")
    assert "Go/no-go · Payments 7.2" in cell("2026-06-19")
    assert "freeze" in cell("2026-06-22").split('"')[1] and "Midsummer freeze" in cell("2026-06-22")
    assert "freeze" not in cell("2026-06-19").split('"')[1]
    assert f'href="/releases/{plan["child"].pk}/"' in cell("2026-06-26")
    assert 'href="?month=2026-05"' in page and 'href="?month=2026-07"' in page


def test_the_calendar_opens_on_this_month_and_marks_today(signed_in, plan):
    page = text(signed_in.get("/releases/calendar/"))
    assert "May 2026" in page
    assert re.search(r'<td class="[^"]*today[^"]*" data-date="2026-05-14">', page)
    assert "Intranet refresh starts" in page
    assert 'href="?month=2026-04"' in page and 'href="?month=2026-06"' in page


@pytest.mark.parametrize(
    ("month", "message"),
    [("June", "Enter a valid date."), ("2026-13", "Enter a valid date."), ("9999-12", "between the years")],
)
def test_a_bad_calendar_month_is_an_error_and_shows_this_month(signed_in, plan, month, message):
    response = signed_in.get("/releases/calendar/", {"month": month})
    assert response.status_code == 200
    assert message in text(response)
    assert 'data-testid="calendar-errors"' in text(response)
    assert "May 2026" in text(response)


def test_a_busy_calendar_day_shows_five_entries_and_folds_the_rest(signed_in, plan):
    for number in range(6):
        GateFactory(release=plan["standalone"], name=f"Check {number}", due_date=D(2026, 5, 20))
    page = text(signed_in.get("/releases/calendar/", {"month": "2026-05"}))
    day = re.search(r'<td class="[^"]*" data-date="2026-05-20">(.*?)</td>', page, re.S).group(1)
    shown, folded = day.split("<details>")
    assert shown.count("<li>") == 5 and "1 more" in folded and folded.count("<li>") == 1
    assert '<span class="visually-hidden">Gate open:</span> Check 0 · Intranet refresh' in shown


def test_the_calendar_shades_the_days_of_a_recurring_freeze(signed_in, db):
    FreezeWindowFactory(
        name="Month-end close",
        starts_on=D(2026, 1, 30),
        ends_on=D(2026, 1, 31),
        recurrence=Recurrence.MONTHLY,
        recurs_until=D(2026, 12, 31),
    )
    page = text(signed_in.get("/releases/calendar/", {"month": "2026-07"}))
    shaded = re.findall(r'<td class="[^"]*freeze[^"]*" data-date="([\d-]+)"', page)
    assert shaded == ["2026-06-30", "2026-07-01", "2026-07-30", "2026-07-31"]  # June's runs into July


# The system impact matrix


@pytest.fixture
def scope(plan):
    crm, ledger, portal = SystemFactory(name="CRM"), SystemFactory(name="Ledger"), SystemFactory(name="Portal")
    ReleaseSystemFactory(release=plan["child"], system=crm)
    ReleaseSystemFactory(release=plan["child"], system=ledger, impact=SystemImpact.REGRESSION)
    ReleaseSystemFactory(release=plan["standalone"], system=crm)
    ReleaseSystemFactory(release=plan["later"], system=portal)
    return {"crm": crm, "ledger": ledger, "portal": portal}


def test_the_impact_matrix_embeds_a_heat_map_of_systems_by_releases_and_a_table(signed_in, plan, scope):
    response = signed_in.get("/releases/impact/")
    assert response.status_code == 200
    chart = embedded(response, "impact-chart")
    assert chart["kind"] == "heatmap"
    assert chart["y"] == ["CRM", "Ledger"]  # Portal's only release starts after these six months
    assert chart["x"] == ["Payments 7.2", "Intranet refresh"]
    assert sorted(chart["cells"]) == [[0, 0, 2], [0, 1, 1], [1, 0, 2]]
    assert [level["label"] for level in chart["levels"]] == ["Regression-dependent", "Impacted"]
    assert chart["x_links"][0] == f"/releases/{plan['child'].pk}/"
    page = text(response)
    assert 'data-chart="impact-chart"' in page and "/static/launchdeck/charts.js" in page
    table = re.search(r'<table class="[^"]*ld-impact-table.*?</table>', page, re.S).group(0)
    assert table.count('<td class="impacted"') == 2 and table.count('<td class="regression"') == 1
    assert "2 systems \N{MULTIPLICATION SIGN} 2 releases, 1 May 2026 to 31 Oct 2026" in re.sub(r"\s+", " ", page)


def test_the_impact_matrix_period_can_be_chosen(signed_in, plan, scope):
    chart = embedded(signed_in.get("/releases/impact/", {"start": "2026-10", "months": "3"}), "impact-chart")
    assert chart["x"] == ["Winter upgrade"] and chart["y"] == ["Portal"]
    response = signed_in.get("/releases/impact/", {"start": "2027-06"})
    assert not_embedded(response, "impact-chart") and 'data-testid="impact-empty"' in text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "last spring"}, "Enter a valid date."),
        ({"months": "7"}, "Select a valid choice."),
        ({"months": "many"}, "Select a valid choice."),
        ({"start": "0001-01"}, "between the years"),
    ],
)
def test_bad_impact_matrix_filters_are_form_errors(signed_in, plan, query, message):
    response = signed_in.get("/releases/impact/", query)
    assert response.status_code == 200
    assert message in text(response)
    assert not_embedded(response, "impact-chart") and 'data-testid="impact-invalid"' in text(response)


# Who may look


@pytest.mark.parametrize("path", ["/releases/timeline/", "/releases/calendar/", "/releases/impact/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", Role.values)
def test_every_role_may_read_the_planning_views(client, make_user, plan, scope, role):
    client.force_login(make_user(role))
    for path in ("/releases/timeline/", "/releases/calendar/", "/releases/impact/"):
        response = client.get(path)
        assert response.status_code == 200, (role, path)
    assert plan["child"].name in text(client.get("/releases/timeline/"))
