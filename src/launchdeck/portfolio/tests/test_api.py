"""The portfolio's API: the wiring of every endpoint, its permissions, its error mapping and its query counts."""

import datetime
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
def api(api_as, manager):
    return api_as(manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def names(response) -> list[str]:
    return [item.get("name") or item.get("title") for item in response.json()["items"]]


def new_initiative(**overrides) -> dict:
    return {
        "name": "Ledger Replatforming",
        "portfolio_id": PortfolioFactory().pk,
        "department_id": DepartmentFactory().pk,
        "start": "2026-01-01",
        "end": "2026-12-31",
        "budget": "125000.50",
        **overrides,
    }


# Portfolios


def test_portfolio_create_list_get_move_delete(api):
    top = api.post("/portfolios", {"name": "Customer Experience"}).json()
    created = api.post("/portfolios", {"name": "Digital", "parent_id": top["id"], "description": "Apps"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Digital",
        "parent_id": top["id"],
        "description": "Apps",
        "child_count": 0,
        "initiative_count": 0,
        "version": 1,
    }
    assert api.get(f"/portfolios/{top['id']}").json()["child_count"] == 1
    assert names(api.get("/portfolios", {"parent": top["id"]})) == ["Digital"]
    moved = api.patch(f"/portfolios/{body['id']}", {"version": 1, "parent_id": None})
    assert moved.status_code == 200 and moved.json()["parent_id"] is None
    assert api.delete(f"/portfolios/{body['id']}").status_code == 204
    assert api.get(f"/portfolios/{body['id']}").status_code == 404
    events = AuditEvent.objects.filter(object_type="portfolio.portfolio").values_list("event_type", "source")
    assert sorted(set(events)) == [
        ("portfolio.created", "api"),
        ("portfolio.deleted", "api"),
        ("portfolio.updated", "api"),
    ]


def test_moving_a_portfolio_under_its_descendant_is_a_422_naming_the_parent(api, unchanged):
    top = PortfolioFactory(name="Top")
    child = PortfolioFactory(name="Child", parent=top)
    with unchanged():
        response = api.patch(f"/portfolios/{top.pk}", {"version": 1, "parent_id": child.pk})
    assert response.status_code == 422
    assert fields(response) == ["parent"]
    assert "cannot be its own ancestor" in response.json()["detail"]


def test_the_tree_lists_depth_and_subtree_totals(api):
    top = PortfolioFactory(name="Top")
    child = PortfolioFactory(name="Child", parent=top)
    SpendFactory(initiative=InitiativeFactory(portfolio=child, budget=Decimal("10")), actual=Decimal("4"))
    body = api.get("/portfolios/tree").json()
    assert [(node["name"], node["depth"], node["subtree_initiative_count"]) for node in body] == [
        ("Top", 0, 1),
        ("Child", 1, 1),
    ]
    assert (body[0]["subtree_budget"], body[0]["subtree_spent"]) == (10.0, 4.0)


def test_a_portfolio_in_use_is_a_409_naming_what_uses_it(api, unchanged):
    portfolio = PortfolioFactory(name="Busy")
    InitiativeFactory(portfolio=portfolio)
    with unchanged():
        response = api.delete(f"/portfolios/{portfolio.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == "Busy is still used by 1 initiative; move or remove them first."


def test_a_duplicate_portfolio_name_is_a_409(api, unchanged):
    PortfolioFactory(name="Digital")
    with unchanged():
        response = api.post("/portfolios", {"name": "DIGITAL"})
    assert response.status_code == 409
    assert response.json()["detail"] == "A portfolio with this name already exists."


# Initiatives


def test_initiative_create_get_update_delete(api, manager):
    response = api.post("/initiatives", new_initiative(owner=manager.username))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["budget"], body["status"], body["owner"], body["spent"], body["over_budget"]) == (
        125000.5,
        "proposed",
        manager.username,
        0,
        False,
    )
    path = f"/initiatives/{body['id']}"
    updated = api.patch(path, {"version": 1, "status": "active", "owner": None})
    assert updated.status_code == 200
    assert (updated.json()["status"], updated.json()["owner"], updated.json()["version"]) == ("active", None, 2)
    assert api.delete(path).status_code == 204
    assert not Initiative.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"budget": "-1"}, "budget"),
        ({"budget": -0.01}, "budget"),
        ({"end": "2025-12-31"}, "end"),
        ({"status": "dreaming"}, "status"),
        ({"owner": "nobody"}, "owner"),
        ({"portfolio_id": 999999}, "portfolio_id"),
        ({"department_id": 999999}, "department_id"),
        ({"budget": "1.001"}, "budget"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_initiative_create_answers_bad_input_with_422_naming_the_field(api, unchanged, body, field):
    payload = new_initiative(**body)
    with unchanged():
        response = api.post("/initiatives", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"budget": None}, "budget"),
        ({"portfolio_id": None}, "portfolio_id"),
        ({"start": "2027-01-01"}, "end"),
        ({"name": None}, "name"),
    ],
)
def test_initiative_update_answers_bad_input_with_422(api, unchanged, body, field):
    initiative = InitiativeFactory()
    with unchanged():
        response = api.patch(f"/initiatives/{initiative.pk}", {"version": 1, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_stale_initiative_update_is_a_409_and_changes_nothing(api, unchanged):
    initiative = InitiativeFactory(version=3)
    with unchanged():
        response = api.patch(f"/initiatives/{initiative.pk}", {"version": 2, "status": "cancelled"})
    assert response.status_code == 409 and fields(response) == ["version"]


def test_duplicate_initiative_name_is_a_409(api, unchanged):
    InitiativeFactory(name="Ledger Replatforming")
    payload = new_initiative(name="ledger replatforming")
    with unchanged():
        response = api.post("/initiatives", payload)
    assert response.status_code == 409


def test_an_initiative_in_use_is_a_409(api, unchanged):
    initiative = InitiativeFactory(name="Busy")
    SpendFactory(initiative=initiative)
    with unchanged():
        response = api.delete(f"/initiatives/{initiative.pk}")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("Busy is still used by 1 spend row")


def test_initiatives_filter_within_a_subtree_by_department_and_over_budget_and_sort(api):
    top = PortfolioFactory()
    child = PortfolioFactory(parent=top)
    department = DepartmentFactory()
    InitiativeFactory(name="Alpha", portfolio=top, budget=Decimal("10"))
    over = InitiativeFactory(name="Beta", portfolio=child, department=department, budget=Decimal("5"))
    SpendFactory(initiative=over, actual=Decimal("6"))
    InitiativeFactory(name="Gamma")
    assert names(api.get("/initiatives", {"within": top.pk})) == ["Alpha", "Beta"]
    assert names(api.get("/initiatives", {"portfolio": top.pk})) == ["Alpha"]
    assert names(api.get("/initiatives", {"department": department.pk})) == ["Beta"]
    assert names(api.get("/initiatives", {"over_budget": True})) == ["Beta"]
    assert names(api.get("/initiatives", {"sort": "-spent,name"}))[0] == "Beta"
    response = api.get("/initiatives", {"sort": "colour"})
    assert response.status_code == 422 and fields(response) == ["sort"]


# Projects


def test_project_create_update_delete_and_filter(api):
    initiative, team = InitiativeFactory(), TeamFactory()
    body = {
        "name": "Cutover",
        "initiative_id": initiative.pk,
        "owner_team_id": team.pk,
        "start": "2026-03-01",
        "end": "2026-06-30",
    }
    created = api.post("/projects", body)
    assert created.status_code == 201, created.json()
    assert (created.json()["initiative"], created.json()["owner_team"]) == (initiative.name, team.name)
    ProjectFactory(name="Elsewhere")
    assert names(api.get("/projects", {"initiative": initiative.pk})) == ["Cutover"]
    path = f"/projects/{created.json()['id']}"
    assert api.patch(path, {"version": 1, "end": "2026-02-01"}).status_code == 422
    assert api.patch(path, {"version": 1, "owner_team_id": None}).status_code == 422
    assert api.patch(path, {"version": 1, "name": "Go-live"}).json()["name"] == "Go-live"
    assert api.delete(path).status_code == 204


# Spend


def test_spend_is_recorded_booked_and_listed_with_its_variance(api):
    initiative = InitiativeFactory()
    recorded = api.post(
        "/spend",
        {
            "initiative_id": initiative.pk,
            "department_id": initiative.department_id,
            "month": "2026-03-17",
            "planned": 1000,
        },
    )
    assert recorded.status_code == 201, recorded.json()
    body = recorded.json()
    assert (body["month"], body["planned"], body["actual"], body["variance"]) == ("2026-03-01", 1000.0, None, None)
    booked = api.patch(f"/spend/{body['id']}", {"version": 1, "actual": "1250.25"})
    assert (booked.json()["actual"], booked.json()["variance"]) == (1250.25, 250.25)
    listed = api.get("/spend", {"initiative": initiative.pk, "booked": True}).json()
    assert [row["variance"] for row in listed["items"]] == [250.25]
    assert api.get("/spend", {"booked": False}).json()["count"] == 0
    assert api.get("/spend", {"start": "2026-04-01"}).json()["count"] == 0
    event = AuditEvent.objects.filter(event_type="spend.updated").get()
    assert (event.object_type, event.object_id) == ("portfolio.initiative", str(initiative.pk))
    assert api.delete(f"/spend/{body['id']}").status_code == 204


@pytest.mark.parametrize(("body", "field"), [({"planned": -1}, "planned"), ({"actual": "-0.5"}, "actual")])
def test_negative_spend_is_a_422_naming_the_field(api, unchanged, body, field):
    initiative = InitiativeFactory()
    payload = {"initiative_id": initiative.pk, "department_id": initiative.department_id, "month": "2026-03-01", **body}
    with unchanged():
        response = api.post("/spend", payload)
    assert response.status_code == 422 and fields(response) == [field]


def test_a_second_row_for_the_same_month_is_a_409(api, unchanged):
    spend = SpendFactory()
    payload = {"initiative_id": spend.initiative_id, "department_id": spend.department_id, "month": "2026-01-31"}
    with unchanged():
        response = api.post("/spend", payload)
    assert response.status_code == 409


def test_spend_planned_cannot_be_set_to_null(api, unchanged):
    spend = SpendFactory()
    with unchanged():
        response = api.patch(f"/spend/{spend.pk}", {"version": 1, "planned": None})
    assert response.status_code == 422 and fields(response) == ["planned"]


# Allocations and team load


def test_allocation_create_update_delete(api):
    initiative, team = InitiativeFactory(), TeamFactory()
    body = {
        "initiative_id": initiative.pk,
        "team_id": team.pk,
        "start": "2026-01-05",
        "end": "2026-03-29",
        "unit": "percent",
        "amount": 150,
    }
    created = api.post("/allocations", body)
    assert created.status_code == 201, created.json()
    assert (created.json()["amount"], created.json()["above_full_capacity"]) == (150.0, True)
    path = f"/allocations/{created.json()['id']}"
    assert (
        api.patch(path, {"version": 1, "amount": "7.5", "unit": "person_days"}).json()["above_full_capacity"] is False
    )
    assert api.get("/allocations", {"team": team.pk}).json()["count"] == 1
    assert api.get("/allocations", {"active_on": "2026-06-01"}).json()["count"] == 0
    assert api.delete(path).status_code == 204
    assert not Allocation.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -1}, "amount"),
        ({"end": "2025-01-01"}, "end"),
        ({"unit": "hours"}, "unit"),
    ],
)
def test_bad_allocations_are_a_422_naming_the_field(api, unchanged, body, field):
    initiative, team = InitiativeFactory(), TeamFactory()
    payload = {
        "initiative_id": initiative.pk,
        "team_id": team.pk,
        "start": "2026-01-05",
        "end": "2026-03-29",
        "amount": 5,
        **body,
    }
    with unchanged():
        response = api.post("/allocations", payload)
    assert response.status_code == 422 and fields(response) == [field]


def test_team_load_answers_per_iso_week_with_the_over_allocated_weeks_flagged(api):
    team = TeamFactory(capacity_person_days_per_week=Decimal("10"))
    first = AllocationFactory(
        team=team, start=datetime.date(2026, 1, 5), end=datetime.date(2026, 1, 18), amount=Decimal("6")
    )
    AllocationFactory(
        team=team,
        start=datetime.date(2026, 1, 12),
        end=datetime.date(2026, 1, 18),
        unit="percent",
        amount=Decimal("50"),
    )
    response = api.get(f"/teams/{team.pk}/load", {"start": "2026-01-05", "end": "2026-01-18"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["weeks_over"], body["peak_percent"]) == (1, 110.0)
    assert [(w["week"], w["capacity"], w["allocated"], w["over_allocated"]) for w in body["weeks"]] == [
        ("2026-W02", 10.0, 6.0, False),
        ("2026-W03", 10.0, 11.0, True),
    ]
    assert body["weeks"][0]["initiatives"] == [{"initiative_id": first.initiative_id, "person_days": 6.0}]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"start": "2026-02-01", "end": "2026-01-01"}, "end"), ({"start": "2026-01-01", "end": "2029-01-01"}, "end")],
)
def test_team_load_refuses_a_bad_window(api, params, field):
    team = TeamFactory()
    response = api.get(f"/teams/{team.pk}/load", params)
    assert response.status_code == 422 and fields(response) == [field]


def test_the_load_of_a_team_that_does_not_exist_is_a_404(api):
    assert api.get("/teams/999999/load").status_code == 404


# The register


def test_register_items_are_created_closed_and_deleted(api):
    project = ProjectFactory()
    created = api.post(
        "/register-items",
        {
            "kind": "risk",
            "title": "Vendor late",
            "category": "vendor",
            "project_id": project.pk,
            "tags": ["Late Vendor"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["initiative_id"], body["status"], body["tags"]) == (project.initiative_id, "open", ["late-vendor"])
    closed = api.post(f"/register-items/{body['id']}/close", {"version": 1, "closed_on": body["raised_on"]})
    assert closed.status_code == 200, closed.json()
    assert closed.json()["status"] == "closed"
    again = api.post(f"/register-items/{body['id']}/close", {"version": 2})
    assert again.status_code == 409
    reopened = api.patch(f"/register-items/{body['id']}", {"version": 2, "status": "mitigating"})
    assert (reopened.json()["status"], reopened.json()["closed_on"]) == ("mitigating", None)
    assert api.delete(f"/register-items/{body['id']}").status_code == 204
    assert not RegisterItem.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"initiative_id": None}, "initiative"),
        ({"tags": [f"t{n}" for n in range(11)]}, "tags"),
        ({"tags": ["x" * 41]}, "tags"),
        ({"status": "recorded"}, "status"),
        ({"kind": "rumour"}, "kind"),
        ({"closed_on": "2026-01-01"}, "closed_on"),
    ],
)
def test_bad_register_items_are_a_422_naming_the_field(api, unchanged, body, field):
    initiative = InitiativeFactory()
    payload = {"kind": "risk", "title": "Risk", "category": "testing", "initiative_id": initiative.pk, **body}
    with unchanged():
        response = api.post("/register-items", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_lesson_cannot_be_closed(api, unchanged):
    lesson = RegisterItemFactory(kind="lesson")
    with unchanged():
        response = api.post(f"/register-items/{lesson.pk}/close", {"version": 1})
    assert response.status_code == 422 and fields(response) == ["status"]


def test_the_register_filters_and_sorts_worst_first(api):
    RegisterItemFactory(title="Low", impact="low", tags=["test-data"])
    RegisterItemFactory(title="Critical", impact="critical")
    RegisterItemFactory(title="Lesson", kind="lesson")
    assert names(api.get("/register-items", {"sort": "-impact", "kind": "risk"})) == ["Critical", "Low"]
    assert names(api.get("/register-items", {"tag": "TEST-DATA"})) == ["Low"]
    assert names(api.get("/register-items", {"kind": "lesson"})) == ["Lesson"]


def test_the_register_summary_counts_by_category_and_tag(api):
    first, second = InitiativeFactory.create_batch(2)
    RegisterItemFactory(initiative=first, tags=["test-data"], raised_on=datetime.date(2026, 1, 5))
    RegisterItemFactory(initiative=second, tags=["test-data"], raised_on=datetime.date(2026, 2, 5))
    body = api.get("/register-items/summary").json()
    assert body["total"] == 2
    assert body["initiatives"] == 2
    assert body["by_category"] == [
        {
            "category": "environments",
            "label": "Environments",
            "count": 2,
            "open": 2,
            "initiatives": 2,
            "share": 1.0,
            "recurring": True,
        }
    ]
    assert body["by_tag"] == [{"name": "test-data", "count": 2, "initiatives": 2, "share": 1.0, "recurring": True}]
    assert body["months"] == ["2026-01-01", "2026-02-01"]
    assert body["series"][0]["counts"] == [1, 1]


# The portfolio view


def test_the_portfolio_view_answers_for_the_subtree_and_period(api):
    top = PortfolioFactory()
    child = PortfolioFactory(parent=top)
    initiative = InitiativeFactory(portfolio=child, budget=Decimal("100"))
    SpendFactory(initiative=initiative, planned=Decimal("60"), actual=Decimal("120"))
    AllocationFactory(initiative=initiative, start=datetime.date(2026, 1, 5), end=datetime.date(2026, 1, 11))
    RegisterItemFactory(initiative=initiative, impact="critical", raised_on=datetime.date(2026, 1, 2))
    RegisterItemFactory(initiative=initiative, impact="high", raised_on=datetime.date(2026, 2, 2))
    RegisterItemFactory(initiative=initiative, kind="lesson", category="testing", raised_on=datetime.date(2026, 1, 9))
    response = api.get(f"/portfolios/{top.pk}/view", {"start": "2026-01-01", "end": "2026-01-31"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["portfolio_count"], body["start"], body["end"]) == (2, "2026-01-01", "2026-01-01")
    assert body["totals"]["spent"] == 120.0 and body["totals"]["variance"] == 60.0
    [row] = body["initiatives"]
    assert (row["over_budget"], row["period_actual"]) == (True, 120.0)
    assert body["spend_by_month"] == [{"month": "2026-01-01", "planned": 60.0, "actual": 120.0, "variance": 60.0}]
    assert body["staffing"][0]["allocated_here"] == 10.0
    # Raised by the end of the period, and open now: the high risk raised in February is not yet there.
    assert [item["impact"] for item in body["open_risks"]] == ["critical"]
    assert [(row["category"], row["count"]) for row in body["lessons_by_category"]] == [("testing", 1)]
    assert body["rollups"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-05-01", "end": "2026-01-01"}, "end"),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "end"),
        ({"department": 999999}, "department"),
    ],
)
def test_the_portfolio_view_refuses_bad_filters(api, params, field):
    portfolio = PortfolioFactory()
    response = api.get(f"/portfolios/{portfolio.pk}/view", params)
    assert response.status_code == 422 and fields(response) == [field]


# Permissions


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/portfolios", {"name": "X"}),
        ("post", "/spend", {"initiative_id": 1, "department_id": 1, "month": "2026-01-01"}),
        ("post", "/register-items", {"kind": "risk", "title": "X", "category": "data", "initiative_id": 1}),
        ("delete", "/initiatives/1", None),
    ],
)
def test_viewers_are_refused_every_write(api_as, viewer, method, path, body):
    client = api_as(viewer)
    response = getattr(client, method)(path, body) if body is not None else getattr(client, method)(path)
    assert response.status_code == 403


def test_anonymous_callers_are_asked_to_authenticate(api_as):
    assert api_as(None).get("/initiatives").status_code == 401


def test_project_managers_keep_the_register_but_not_the_budget(api_as, project_manager, unchanged):
    client = api_as(project_manager)
    initiative = InitiativeFactory()
    with unchanged():
        refused = client.patch(f"/initiatives/{initiative.pk}", {"version": 1, "budget": 1})
    assert refused.status_code == 403
    raised = client.post(
        "/register-items", {"kind": "issue", "title": "Blocked", "category": "data", "initiative_id": initiative.pk}
    )
    assert raised.status_code == 201


# Query counts


def _queries(api, path, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get(path, params).status_code == 200
    return len(captured)


def _estate(size: int) -> None:
    portfolio = PortfolioFactory()
    for _ in range(size):
        initiative = InitiativeFactory(portfolio=portfolio)
        SpendFactory(initiative=initiative, actual=Decimal("3"))
        AllocationFactory(initiative=initiative)
        ProjectFactory(initiative=initiative)
        RegisterItemFactory(initiative=initiative, tags=["a", "b"])


@pytest.mark.parametrize(
    "path",
    [
        "/portfolios",
        "/portfolios/tree",
        "/initiatives",
        "/projects",
        "/spend",
        "/allocations",
        "/register-items",
        "/register-items/summary",
    ],
)
def test_list_endpoints_take_a_fixed_number_of_queries(api, path):
    _estate(2)
    _queries(api, path)
    few = _queries(api, path)
    _estate(12)
    assert (
        _queries(api, path, {"limit": 500} if path not in ("/portfolios/tree", "/register-items/summary") else None)
        == few
    )


def test_the_portfolio_view_endpoint_takes_a_fixed_number_of_queries(api):
    _estate(2)
    top = Portfolio.objects.first()
    _queries(api, f"/portfolios/{top.pk}/view", {"start": "2026-01-01"})
    few = _queries(api, f"/portfolios/{top.pk}/view", {"start": "2026-01-01"})
    for _ in range(10):
        initiative = InitiativeFactory(portfolio=top)
        SpendFactory(initiative=initiative)
        AllocationFactory(initiative=initiative)
        RegisterItemFactory(initiative=initiative)
    assert _queries(api, f"/portfolios/{top.pk}/view", {"start": "2026-01-01"}) == few
    assert Spend.objects.count() == 12


def test_every_role_reads_the_portfolio(api_as, make_user):
    InitiativeFactory()
    for role in Role.values:
        assert api_as(make_user(role)).get("/initiatives").json()["count"] == 1
