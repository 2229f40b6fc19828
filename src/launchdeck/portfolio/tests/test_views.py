"""The portfolio's pages: the tree, lists that filter, detail pages, forms that save through the services, the
portfolio view, the register's counts and the home panel."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.org.tests.factories import DepartmentFactory, TeamFactory
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, RegisterItem, Spend
from launchdeck.portfolio.tests.factories import (
    AllocationFactory,
    InitiativeFactory,
    PortfolioFactory,
    ProjectFactory,
    RegisterItemFactory,
    SpendFactory,
)


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def text(response) -> str:
    return response.content.decode()


def chart(response, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', text(response), re.S)
    assert match, f"no chart {element_id}"
    return json.loads(match.group(1))


def web_event(event_type: str) -> AuditEvent:
    event = AuditEvent.objects.get(event_type=event_type)
    assert event.source == "web"
    return event


# The tree and the lists


def test_the_portfolio_list_is_an_indented_tree_with_subtree_totals(signed_in):
    top = PortfolioFactory(name="Customer Experience")
    child = PortfolioFactory(name="Digital Channels", parent=top)
    InitiativeFactory(portfolio=child, budget=Decimal("1234567"))
    page = text(signed_in.get("/portfolio/portfolios/"))
    assert page.index("Customer Experience") < page.index("Digital Channels")
    assert 'padding-left: 1.5rem">↳ Digital Channels' in page
    assert page.count("1,234,567") == 2
    assert f"/portfolio/portfolios/{top.pk}/view/" in page
    assert 'href="/portfolio/portfolios/new/"' in page


def test_searching_portfolios_lists_the_matches_flat(signed_in):
    top = PortfolioFactory(name="Customer Experience")
    PortfolioFactory(name="Digital Channels", parent=top)
    page = text(signed_in.get("/portfolio/portfolios/", {"q": "digital"}))
    assert "Digital Channels" in page and "Customer Experience" not in page and "↳" not in page


def test_the_initiative_list_filters_by_portfolio_subtree_department_status_and_search(signed_in):
    top = PortfolioFactory()
    child = PortfolioFactory(parent=top)
    payments = DepartmentFactory(name="Payments")
    InitiativeFactory(name="Ledger Move", portfolio=child, department=payments)
    InitiativeFactory(name="Card Switch", status="on_hold")
    page = text(signed_in.get("/portfolio/initiatives/", {"portfolio": top.pk}))
    assert "Ledger Move" in page and "Card Switch" not in page
    page = text(signed_in.get("/portfolio/initiatives/", {"department": payments.pk}))
    assert "Ledger Move" in page and "Card Switch" not in page
    page = text(signed_in.get("/portfolio/initiatives/", {"status": "on_hold"}))
    assert "Card Switch" in page and "Ledger Move" not in page
    page = text(signed_in.get("/portfolio/initiatives/", {"q": "ledger"}, headers={"HX-Request": "true"}))
    assert page.startswith('<div id="object-table">') and "Ledger Move" in page


def test_an_initiative_over_budget_is_marked_in_the_list(signed_in):
    initiative = InitiativeFactory(name="Overspent", budget=Decimal("100"))
    SpendFactory(initiative=initiative, planned=Decimal("100"), actual=Decimal("150"))
    page = text(signed_in.get("/portfolio/initiatives/"))
    assert 'title="Above the budget">150</span>' in page and "+50" in page


def test_the_project_list_filters_by_initiative_and_owner_team(signed_in):
    falcon = TeamFactory(name="Falcon")
    project = ProjectFactory(name="Cutover", owner_team=falcon)
    ProjectFactory(name="Discovery")
    page = text(signed_in.get("/portfolio/projects/", {"owner_team": falcon.pk}))
    assert "Cutover" in page and "Discovery" not in page
    page = text(signed_in.get("/portfolio/projects/", {"initiative": project.initiative_id}))
    assert "Cutover" in page and "Discovery" not in page


# Detail pages


def test_the_portfolio_page_lists_sub_portfolios_and_initiatives_and_links_its_history(signed_in):
    top = PortfolioFactory(name="Top")
    PortfolioFactory(name="Child", parent=top)
    InitiativeFactory(name="Direct", portfolio=top)
    page = text(signed_in.get(f"/portfolio/portfolios/{top.pk}/"))
    assert "Child" in page and "Direct" in page
    assert f"/audit/history/portfolio.portfolio/{top.pk}/" in page
    assert f"/portfolio/initiatives/new/?portfolio={top.pk}" in page
    assert f"/portfolio/portfolios/{top.pk}/view/" in page


def test_the_initiative_page_shows_spend_staffing_projects_and_register(signed_in):
    team = TeamFactory(name="Falcon", capacity_person_days_per_week=Decimal("10"))
    initiative = InitiativeFactory(name="Ledger Move", budget=Decimal("1000"))
    SpendFactory(initiative=initiative, planned=Decimal("600"), actual=Decimal("1200"))
    AllocationFactory(initiative=initiative, team=team, unit="percent", amount=Decimal("120"))
    ProjectFactory(initiative=initiative, name="Cutover")
    RegisterItemFactory(initiative=initiative, title="UAT double-booked", tags=["uat"])
    response = signed_in.get(f"/portfolio/initiatives/{initiative.pk}/")
    page = text(response)
    assert "Over budget: 1,200 spent against a budget of 1,000." in page
    assert "+600" in page
    assert "120% of capacity" in page and "above 100%" in page and "over-allocated" in page
    assert "Cutover" in page and "UAT double-booked" in page
    assert f"/portfolio/initiatives/{initiative.pk}/spend/" in page
    assert f"/portfolio/initiatives/{initiative.pk}/allocations/" in page
    assert f"/audit/history/portfolio.initiative/{initiative.pk}/" in page
    assert chart(response, "initiative-spend-chart")["series"][1]["data"] == [1200.0]


def test_the_register_item_page_offers_to_close_an_open_risk(signed_in):
    item = RegisterItemFactory(title="Vendor late", tags=["late-vendor"])
    page = text(signed_in.get(f"/portfolio/register/{item.pk}/"))
    assert f"/portfolio/register/{item.pk}/close/" in page and "tag=late-vendor" in page
    lesson = RegisterItemFactory(kind="lesson")
    assert "/close/" not in text(signed_in.get(f"/portfolio/register/{lesson.pk}/"))


def test_the_project_page_lists_its_register_items(signed_in):
    project = ProjectFactory()
    RegisterItemFactory(initiative=project.initiative, project=project, title="Data late")
    RegisterItemFactory(initiative=project.initiative, title="Not this project")
    page = text(signed_in.get(f"/portfolio/projects/{project.pk}/"))
    assert "Data late" in page and "Not this project" not in page


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ENVIRONMENT_MANAGER])
def test_readers_see_the_pages_without_edit_delete_or_record_forms(client, make_user, role):
    client.force_login(make_user(role))
    initiative = InitiativeFactory()
    item = RegisterItemFactory(initiative=initiative)
    for path in (
        f"/portfolio/initiatives/{initiative.pk}/",
        f"/portfolio/portfolios/{initiative.portfolio_id}/",
        f"/portfolio/register/{item.pk}/",
    ):
        page = text(client.get(path))
        assert "/edit/" not in page and "/delete/" not in page, path
        assert "Record spend" not in page and "/close/" not in page, path


# Forms


def test_creating_an_initiative_saves_it_through_the_service(signed_in, manager):
    portfolio, department = PortfolioFactory(), DepartmentFactory()
    response = signed_in.post(
        "/portfolio/initiatives/new/",
        {
            "name": "Ledger Move",
            "portfolio": portfolio.pk,
            "department": department.pk,
            "owner": manager.pk,
            "start": "2026-01-01",
            "end": "2026-12-31",
            "budget": "250000",
            "status": "active",
        },
    )
    initiative = Initiative.objects.get()
    assert response.status_code == 302 and response["Location"] == initiative.get_absolute_url()
    assert (initiative.owner, initiative.budget) == (manager, Decimal("250000"))
    assert web_event("initiative.created").actor == manager


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end": "2025-12-31"}, "The end date cannot be before the start date."),
        ({"budget": "-5"}, "Ensure this value is greater than or equal to 0."),
    ],
)
def test_an_invalid_initiative_form_is_shown_again_with_the_message(signed_in, unchanged, changes, message):
    data = {
        "name": "Ledger Move",
        "portfolio": PortfolioFactory().pk,
        "department": DepartmentFactory().pk,
        "start": "2026-01-01",
        "end": "2026-12-31",
        "budget": "1",
        "status": "active",
        **changes,
    }
    with unchanged():
        response = signed_in.post("/portfolio/initiatives/new/", data)
    assert response.status_code == 422 and message in text(response)


def test_a_stale_edit_is_refused_on_the_form(signed_in, unchanged):
    initiative = InitiativeFactory(version=2)
    data = {
        "version": 1,
        "name": initiative.name,
        "portfolio": initiative.portfolio_id,
        "department": initiative.department_id,
        "start": "2026-01-01",
        "end": "2026-12-31",
        "budget": "5",
        "status": "active",
    }
    with unchanged():
        response = signed_in.post(f"/portfolio/initiatives/{initiative.pk}/edit/", data)
    assert response.status_code == 422 and "changed by someone else" in text(response)


def test_moving_a_portfolio_under_its_child_is_refused_on_the_form(signed_in, unchanged):
    top = PortfolioFactory(name="Top")
    child = PortfolioFactory(name="Child", parent=top)
    with unchanged():
        response = signed_in.post(
            f"/portfolio/portfolios/{top.pk}/edit/", {"version": 1, "name": "Top", "parent": child.pk}
        )
    assert response.status_code == 422 and "cannot be its own ancestor" in text(response)


def test_the_portfolio_form_does_not_offer_the_portfolio_itself_as_parent(signed_in):
    portfolio = PortfolioFactory(name="Itself")
    page = text(signed_in.get(f"/portfolio/portfolios/{portfolio.pk}/edit/"))
    assert f'<option value="{portfolio.pk}"' not in page


def test_spend_is_recorded_and_edited_from_the_initiative_page(signed_in):
    initiative = InitiativeFactory()
    response = signed_in.post(
        f"/portfolio/initiatives/{initiative.pk}/spend/",
        {"month": "2026-03", "department": initiative.department_id, "planned": "1000", "actual": ""},
    )
    assert response.status_code == 302 and response["Location"].endswith("#spend")
    spend = Spend.objects.get()
    assert (spend.month, spend.actual) == (datetime.date(2026, 3, 1), None)
    web_event("spend.recorded")
    response = signed_in.post(f"/portfolio/spend/{spend.pk}/edit/", {"version": 1, "planned": "1000", "actual": "900"})
    assert response.status_code == 302 and Spend.objects.get().actual == Decimal("900")


def test_a_second_row_for_the_same_month_is_refused_with_a_message(signed_in, unchanged):
    spend = SpendFactory()
    with unchanged():
        response = signed_in.post(
            f"/portfolio/initiatives/{spend.initiative_id}/spend/",
            {"month": "2026-01", "department": spend.department_id, "planned": "5"},
            follow=True,
        )
    assert "already recorded" in text(response)


def test_negative_spend_is_refused_on_the_initiative_page(signed_in, unchanged):
    initiative = InitiativeFactory()
    with unchanged():
        response = signed_in.post(
            f"/portfolio/initiatives/{initiative.pk}/spend/",
            {"month": "2026-01", "department": initiative.department_id, "planned": "-5"},
            follow=True,
        )
    assert "0 or more" in text(response)


def test_allocations_are_made_and_removed_from_the_initiative_page(signed_in):
    initiative, team = InitiativeFactory(), TeamFactory()
    response = signed_in.post(
        f"/portfolio/initiatives/{initiative.pk}/allocations/",
        {"team": team.pk, "start": "2026-01-05", "end": "2026-02-01", "unit": "percent", "amount": "130"},
    )
    assert response.status_code == 302
    allocation = Allocation.objects.get()
    assert allocation.amount == Decimal("130")
    signed_in.post(f"/portfolio/allocations/{allocation.pk}/delete/")
    assert not Allocation.objects.exists()
    assert [e.event_type for e in AuditEvent.objects.order_by("pk")] == ["allocation.created", "allocation.deleted"]


def test_an_allocation_of_nothing_is_refused_with_a_message(signed_in, unchanged):
    initiative, team = InitiativeFactory(), TeamFactory()
    with unchanged():
        response = signed_in.post(
            f"/portfolio/initiatives/{initiative.pk}/allocations/",
            {"team": team.pk, "start": "2026-01-05", "end": "2026-02-01", "unit": "person_days", "amount": "0"},
            follow=True,
        )
    assert "An allocation must be more than zero." in text(response)


def test_a_register_item_is_raised_with_tags_and_closed(signed_in):
    initiative = InitiativeFactory()
    response = signed_in.post(
        "/portfolio/register/new/",
        {
            "kind": "risk",
            "title": "UAT double-booked",
            "category": "environments",
            "impact": "high",
            "initiative": initiative.pk,
            "raised_on": "2026-03-02",
            "tags": "UAT, Environment Contention",
        },
    )
    item = RegisterItem.objects.get()
    assert response.status_code == 302 and item.tag_names == ["environment-contention", "uat"]
    signed_in.post(f"/portfolio/register/{item.pk}/close/", {"version": 1})
    item = RegisterItem.objects.get()
    assert (item.status, item.closed_on) == ("closed", datetime.date.today())
    assert web_event("register_item.closed")


def test_editing_a_register_item_keeps_its_status_when_none_is_chosen(signed_in):
    item = RegisterItemFactory(status="mitigating", tags=["a"])
    data = {
        "version": 1,
        "kind": "risk",
        "title": "Renamed",
        "category": item.category,
        "impact": "low",
        "status": "",
        "initiative": item.initiative_id,
        "raised_on": "2026-03-02",
        "tags": "a, b",
    }
    assert signed_in.post(f"/portfolio/register/{item.pk}/edit/", data).status_code == 302
    item = RegisterItem.objects.get()
    assert (item.title, item.status, item.tag_names) == ("Renamed", "mitigating", ["a", "b"])


def test_deleting_an_initiative_in_use_is_refused_and_nothing_is_removed(signed_in, unchanged):
    initiative = InitiativeFactory(name="Busy")
    ProjectFactory(initiative=initiative)
    with unchanged():
        response = signed_in.post(f"/portfolio/initiatives/{initiative.pk}/delete/", follow=True)
    assert "Busy is still used by 1 project" in text(response)


def test_an_empty_portfolio_is_deleted_from_its_page(signed_in):
    portfolio = PortfolioFactory()
    response = signed_in.post(f"/portfolio/portfolios/{portfolio.pk}/delete/")
    assert response.status_code == 302 and not Portfolio.objects.exists()


# The portfolio view and the team load


@pytest.fixture
def estate(db):
    top = PortfolioFactory(name="Top")
    child = PortfolioFactory(name="Child", parent=top)
    payments = DepartmentFactory(name="Payments")
    team = TeamFactory(name="Falcon", department=payments, capacity_person_days_per_week=Decimal("10"))
    over = InitiativeFactory(name="Overspent", portfolio=child, department=payments, budget=Decimal("100"))
    SpendFactory(initiative=over, planned=Decimal("100"), actual=Decimal("180"))
    fine = InitiativeFactory(name="On track", portfolio=top, budget=Decimal("1000"))
    SpendFactory(initiative=fine, planned=Decimal("50"), actual=Decimal("40"))
    AllocationFactory(initiative=over, team=team, start=datetime.date(2026, 1, 5), end=datetime.date(2026, 1, 25))
    AllocationFactory(
        initiative=fine,
        team=team,
        start=datetime.date(2026, 1, 12),
        end=datetime.date(2026, 1, 18),
        unit="percent",
        amount=Decimal("50"),
    )
    RegisterItemFactory(
        initiative=over, title="Critical outage risk", impact="critical", raised_on=datetime.date(2026, 1, 2)
    )
    RegisterItemFactory(
        initiative=fine, kind="lesson", category="testing", raised_on=datetime.date(2026, 1, 20), tags=["test-data"]
    )
    return {"top": top, "payments": payments, "team": team}


def test_the_portfolio_view_shows_budget_spend_staffing_risks_and_lessons(signed_in, estate):
    response = signed_in.get(f"/portfolio/portfolios/{estate['top'].pk}/view/", {"start": "2026-01", "end": "2026-12"})
    page = text(response)
    assert response.status_code == 200
    assert "January 2026 to December 2026" in page
    assert "Critical outage risk" in page and "test-data · 1" in page
    assert chart(response, "budget-chart")["categories"] == ["On track", "Overspent"]
    assert chart(response, "budget-chart")["series"][1]["data"] == [40.0, 180.0]
    staffing = chart(response, "staffing-chart")
    assert staffing["categories"] == ["Payments"]
    assert staffing["series"][0]["data"] == [35.0]
    assert "Falcon" in page and "bi-exclamation-triangle-fill" in page
    assert chart(response, "lessons-chart")["categories"] == ["Testing"]
    assert "data-rollup" not in page


def test_the_portfolio_view_filters_by_department(signed_in, estate):
    page = text(signed_in.get(f"/portfolio/portfolios/{estate['top'].pk}/view/", {"department": estate["payments"].pk}))
    assert "Overspent" in page and "On track" not in page


def test_a_backwards_period_shows_a_message_and_the_default_year(signed_in, estate):
    response = signed_in.get(f"/portfolio/portfolios/{estate['top'].pk}/view/", {"start": "2026-06", "end": "2026-01"})
    assert response.status_code == 200 and "The last month cannot be before the first." in text(response)


def test_the_portfolio_view_page_takes_a_fixed_number_of_queries(signed_in, estate):
    path = f"/portfolio/portfolios/{estate['top'].pk}/view/"
    params = {"start": "2026-01", "end": "2026-12"}
    signed_in.get(path, params)
    with CaptureQueriesContext(connection) as few:
        signed_in.get(path, params)
    for _ in range(8):
        initiative = InitiativeFactory(portfolio=estate["top"])
        SpendFactory(initiative=initiative, actual=Decimal("1"))
        AllocationFactory(initiative=initiative, team=TeamFactory())
        RegisterItemFactory(initiative=initiative, impact="high", tags=["x"])
    with CaptureQueriesContext(connection) as many:
        signed_in.get(path, params)
    assert len(many) == len(few)


def test_the_team_load_page_shows_the_weeks_over_capacity(signed_in, estate):
    response = signed_in.get(f"/portfolio/teams/{estate['team'].pk}/load/", {"start": "2026-01-05", "weeks": 13})
    page = text(response)
    assert "Over-allocated in 1 of 13 weeks, at most 150% of capacity." in page
    data = chart(response, "team-load-chart")
    assert data["series"][1]["data"][:3] == [0, 5.0, 0]


# The register


def test_the_register_page_counts_by_category_and_tag_and_charts_months(signed_in):
    first, second = InitiativeFactory.create_batch(2)
    RegisterItemFactory(initiative=first, title="UAT clash", tags=["test-data"], raised_on=datetime.date(2026, 1, 5))
    RegisterItemFactory(initiative=second, title="No data", tags=["test-data"], raised_on=datetime.date(2026, 3, 5))
    RegisterItemFactory(initiative=second, title="Vendor", category="vendor", raised_on=datetime.date(2026, 3, 9))
    response = signed_in.get("/portfolio/register/")
    page = text(response)
    assert "UAT clash" in page and 'href="?tag=test-data">test-data</a>' in page
    assert page.index('href="?category=environments"') < page.index('href="?category=vendor"')
    data = chart(response, "register-chart")
    assert data["categories"] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert [(s["name"], s["data"]) for s in data["series"]] == [("Environments", [1, 0, 1]), ("Vendor", [0, 0, 1])]


def test_the_register_page_filters_by_tag_and_answers_htmx_with_the_results(signed_in):
    RegisterItemFactory(title="Tagged", tags=["test-data"])
    RegisterItemFactory(title="Untagged")
    response = signed_in.get("/portfolio/register/", {"tag": "test-data"}, headers={"HX-Request": "true"})
    page = text(response)
    assert page.startswith('<div id="register-results">') and "Tagged" in page and "Untagged" not in page


def test_the_register_page_filters_open_items_in_a_portfolio(signed_in):
    portfolio = PortfolioFactory()
    RegisterItemFactory(initiative=InitiativeFactory(portfolio=portfolio), title="Mine open")
    RegisterItemFactory(
        initiative=InitiativeFactory(portfolio=portfolio),
        title="Mine closed",
        status="closed",
        closed_on=datetime.date(2026, 4, 1),
    )
    RegisterItemFactory(title="Not mine")
    page = text(signed_in.get("/portfolio/register/", {"portfolio": portfolio.pk, "status": "active"}))
    assert "Mine open" in page and "Mine closed" not in page and "Not mine" not in page


# Navigation and home


def test_the_navigation_has_a_portfolio_entry_and_the_home_page_a_portfolio_panel(signed_in, estate):
    page = text(signed_in.get("/"))
    assert 'href="/portfolio/portfolios/"' in page and 'data-panel="portfolio"' in page


@pytest.mark.parametrize(("role", "panel"), [(Role.PROJECT_MANAGER, True), (Role.ENVIRONMENT_MANAGER, False)])
def test_the_home_panel_is_for_portfolio_and_project_managers(client, make_user, role, panel):
    client.force_login(make_user(role))
    assert ('data-panel="portfolio"' in text(client.get("/"))) is panel


def test_the_home_panel_names_what_needs_attention(signed_in, estate):
    page = text(signed_in.get("/"))
    assert "Overspent" in page and "(+80)" in page and "Critical outage risk" in page
