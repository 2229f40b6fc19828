"""The releases API: freeze windows and the views of the plan (timeline, month calendar, impact matrix, health,
report), with the query counts of the lists and the timeline."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases.choices import FreezeScope, GateStatus, MilestoneKind, PhaseKind, Recurrence, ReleaseStatus
from launchdeck.releases.models import FreezeWindow
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    GateApprovalFactory,
    GateCriterionFactory,
    GateFactory,
    GateTemplateFactory,
    MilestoneFactory,
    MilestoneTemplateFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    TrainFactory,
    unchanged,
)

QUARTER = {"start": "2026-10-01", "end": "2026-12-31"}


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def queries(api, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, params)
    assert response.status_code == 200, response.json()
    return len(captured)


# Freeze windows


def test_a_freeze_window_is_declared_listed_changed_and_removed(api):
    portfolio = PortfolioFactory()
    created = api.post(
        "/freeze-windows",
        {
            "name": "Year-end freeze",
            "scope": "portfolios",
            "portfolio_ids": [portfolio.pk],
            "starts_on": "2026-12-18",
            "ends_on": "2027-01-03",
            "reason": "Trading peak",
        },
    )
    assert created.status_code == 201, created.json()
    window = created.json()
    assert (window["category"], window["portfolio_ids"], window["system_ids"], window["recurrence"]) == (
        "deployment",
        [portfolio.pk],
        [],
        "none",
    )
    path = f"/freeze-windows/{window['id']}"
    assert api.get(path).json() == window
    changed = api.patch(path, {"version": 1, "scope": "organisation", "portfolio_ids": [], "category": "change"})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["scope"], changed.json()["portfolio_ids"], changed.json()["version"]) == (
        "organisation",
        [],
        2,
    )
    assert api.delete(path).status_code == 204
    assert not FreezeWindow.objects.exists()


def test_freeze_windows_filter_by_category_scope_and_range(api):
    FreezeWindowFactory(name="Year end")
    FreezeWindowFactory(name="Summer", category="booking", starts_on="2026-08-01", ends_on="2026-08-14")
    FreezeWindowFactory(
        name="Month end",
        scope=FreezeScope.SYSTEMS,
        systems=[SystemFactory()],
        starts_on="2026-01-30",
        ends_on="2026-02-01",
        recurrence=Recurrence.MONTHLY,
        recurs_until="2026-12-31",
    )

    def names(**params) -> list[str]:
        response = api.get("/freeze-windows", params)
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["items"]]

    assert names() == ["Month end", "Summer", "Year end"]
    assert names(category="booking") == ["Summer"]
    assert names(scope="systems") == ["Month end"]
    assert names(**{"from": "2026-12-01", "to": "2026-12-31"}) == ["Month end", "Year end"]
    assert names(sort="-name") == ["Year end", "Summer", "Month end"]
    assert fields(api.get("/freeze-windows", {"from": "2026-12-31", "to": "2026-12-01"})) == ["to"]
    assert fields(api.get("/freeze-windows", {"category": "lunch"})) == ["category"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ends_on": "2026-12-01"}, "ends_on"),
        ({"scope": "portfolios"}, "portfolio_ids"),
        ({"portfolio_ids": [999999], "scope": "portfolios"}, "portfolio_ids"),
        ({"system_ids": [999999], "scope": "systems"}, "system_ids"),
        ({"system_ids": ["one"], "scope": "systems"}, "system_ids.0"),
        ({"environment_types": ["moon"], "scope": "environments"}, "environment_types.0"),
        ({"recurrence": "weekly", "ends_on": "2026-12-20"}, "recurs_until"),
        ({"recurrence": "hourly"}, "recurrence"),
        ({"category": "lunch"}, "category"),
        ({"name": "x" * 151}, "name"),
        ({"starts_on": None}, "starts_on"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_freeze_windows_are_a_422_naming_the_field(api, body, field):
    payload = {"name": "Freeze", "starts_on": "2026-12-18", "ends_on": "2026-12-31", **body}
    with unchanged():
        response = api.post("/freeze-windows", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_portfolios_freeze_without_portfolios_is_a_422_on_portfolio_ids(api):
    window = FreezeWindowFactory(scope=FreezeScope.PORTFOLIOS, portfolios=[PortfolioFactory()])
    with unchanged():
        response = api.patch(f"/freeze-windows/{window.pk}", {"version": 1, "portfolio_ids": []})
    assert response.status_code == 422
    assert fields(response) == ["portfolio_ids"]


def test_environment_and_service_managers_keep_freezes_project_managers_do_not(api_as, make_user):
    payload = {"name": "Freeze", "starts_on": "2026-12-18", "ends_on": "2026-12-31"}
    for number, role in enumerate((Role.ENVIRONMENT_MANAGER, Role.SERVICE_MANAGER)):
        client = api_as(make_user(role))
        assert client.post("/freeze-windows", {**payload, "name": f"Freeze {number}"}).status_code == 201
    client = api_as(make_user(Role.PROJECT_MANAGER))
    with unchanged():
        assert client.post("/freeze-windows", payload).status_code == 403


# Health and the report


def test_the_health_endpoint_answers_what_the_release_shows(api):
    release = ReleaseFactory(
        status=ReleaseStatus.IN_PROGRESS,
        planned_start=datetime.date(2026, 9, 1),
        planned_end=datetime.date(2026, 12, 18),
        baseline_end=datetime.date(2026, 11, 27),
    )
    PhaseFactory(release=release, planned_end=datetime.date(2026, 10, 30))
    MilestoneFactory(release=release, planned_date=datetime.date(2026, 10, 1))
    GateFactory(release=release, due_date=datetime.date(2026, 11, 2))
    ReleaseSystemFactory(release=release, system=SystemFactory(tier=1))
    health = api.get(f"/releases/{release.pk}/health")
    assert health.status_code == 200, health.json()
    assert health.json() == api.get(f"/releases/{release.pk}").json()["health"]
    keys = {factor["key"] for factor in health.json()["factors"]}
    assert {"schedule_slip", "overdue_milestones", "overdue_gates", "systems_in_scope"} <= keys
    assert health.json()["score"] == sum(factor["points"] for factor in health.json()["factors"])
    report = api.get(f"/releases/{release.pk}/report").json()
    assert (report["health"]["score"], report["health"]["status"]) == (health.json()["score"], health.json()["status"])
    row = next(item for item in api.get("/releases").json()["items"] if item["id"] == release.pk)
    assert (row["health"], row["score"]) == (health.json()["status"], health.json()["score"])


def test_a_train_rolls_up_the_health_of_its_children(api):
    train = TrainFactory(planned_start=datetime.date(2026, 9, 1), planned_end=datetime.date(2027, 3, 26))
    child = ReleaseFactory(train=train, planned_start=datetime.date(2026, 9, 1), planned_end=datetime.date(2027, 3, 26))
    for number in range(3):
        GateFactory(release=child, status=GateStatus.REJECTED, name=f"Rejected {number}")
    health = api.get(f"/releases/{train.pk}/health").json()
    assert "children" in {factor["key"] for factor in health["factors"]}
    assert health["score"] >= api.get(f"/releases/{child.pk}/health").json()["score"]


def test_the_report_holds_scope_dates_gates_approvals_and_history(api, release_manager):
    release = ReleaseFactory(name="Ledger")
    ReleaseSystemFactory(release=release, system=SystemFactory(name="Core"), target_version="4.2")
    gate = GateFactory(release=release, name="Go/no-go", status=GateStatus.PASSED)
    GateApprovalFactory(gate=gate, approver=release_manager, comment="Ship it")
    GateFactory(release=release, name="Security", status=GateStatus.OVERRIDDEN, override_reason="Accepted")
    phase = PhaseFactory(release=release, name="SIT")
    api.patch(f"/phases/{phase.pk}", {"version": 1, "planned_end": "2026-03-20"})
    response = api.get(f"/releases/{release.pk}/report")
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["release"]["name"] == "Ledger"
    assert [(row["system"], row["target_version"]) for row in report["scope"]] == [("Core", "4.2")]
    passed = next(row for row in report["gates"] if row["name"] == "Go/no-go")
    assert passed["approvals"][0]["comment"] == "Ship it"
    assert report["overrides"][0]["gate"] == "Security" and report["overrides"][0]["reason"] == "Accepted"
    assert report["date_history"][0]["changes"][0]["new"] == "2026-03-20"
    assert set(report["risks"]) == {"factors", "register_items"}


# The timeline


def test_the_timeline_answers_the_contract(api):
    train = TrainFactory(
        name="Winter train", planned_start=datetime.date(2026, 10, 5), planned_end=datetime.date(2026, 12, 18)
    )
    child = ReleaseFactory(
        name="Ledger", train=train, planned_start=datetime.date(2026, 10, 5), planned_end=datetime.date(2026, 12, 18)
    )
    PhaseFactory(release=child, name="SIT", kind=PhaseKind.SIT, percent_complete=40)
    MilestoneFactory(release=child, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=datetime.date(2026, 12, 18))
    GateFactory(release=child, name="Go/no-go")
    ReleaseFactory(name="Too early")
    FreezeWindowFactory(name="Year-end freeze")
    response = api.get("/timeline", QUARTER)
    assert response.status_code == 200, response.json()
    data = response.json()
    assert set(data) == {"start", "end", "today", "group_by", "groups", "releases", "freezes"}
    assert (data["start"], data["end"], data["group_by"]) == ("2026-10-01", "2026-12-31", "train")
    assert data["groups"] == [{"id": f"t{train.pk}", "label": "Winter train", "url": f"/releases/{train.pk}/"}]
    ledger = next(row for row in data["releases"] if row["id"] == child.pk)
    assert set(ledger) == {
        "id", "name", "groups", "kind", "status", "health", "score", "start", "end", "url", "train_id",
        "phases", "milestones", "gates",
    }  # fmt: skip
    assert (ledger["groups"], ledger["train_id"]) == ([f"t{train.pk}"], train.pk)
    assert ledger["phases"][0]["percent"] == 40
    assert ledger["milestones"] == [
        {
            "id": ledger["milestones"][0]["id"],
            "name": "Deploy",
            "kind": "deploy",
            "date": "2026-12-18",
            "in_freeze": True,
        }
    ]
    assert ledger["gates"][0]["status"] == "open"
    assert [freeze["name"] for freeze in data["freezes"]] == ["Year-end freeze"]
    assert [row["name"] for row in api.get("/timeline", {**QUARTER, "status": "released"}).json()["releases"]] == []
    by_portfolio = api.get("/timeline", {**QUARTER, "group_by": "portfolio"}).json()
    assert [group["id"] for group in by_portfolio["groups"]] == ["p0"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-31", "end": "2026-10-01"}, "end"),
        ({"start": "2026-01-01", "end": "2030-01-01"}, "end"),
        ({"start": "2026-10-01"}, "end"),
        ({"start": "October", "end": "2026-12-31"}, "start"),
        ({**QUARTER, "group_by": "colour"}, "group_by"),
        ({**QUARTER, "status": "shipped"}, "status"),
        ({**QUARTER, "portfolio": 0}, "portfolio"),
    ],
)
def test_a_bad_timeline_window_or_filter_is_a_422_naming_the_field(api, params, field):
    response = api.get("/timeline", params)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def _estate(size: int) -> None:
    """`size` trains of two children each, with phases, milestones, gates and systems, in the quarter."""
    start, end = datetime.date(2026, 10, 5), datetime.date(2026, 12, 18)
    portfolio = PortfolioFactory()
    for _ in range(size):
        train = TrainFactory(planned_start=start, planned_end=end, portfolio=portfolio)
        for release in (train, *(ReleaseFactory(train=train, planned_start=start, planned_end=end) for _ in range(2))):
            PhaseFactory(release=release)
            MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY)
            GateFactory(release=release)
            ReleaseSystemFactory(release=release)
    FreezeWindowFactory()


@pytest.mark.parametrize("group_by", ["train", "portfolio", "system"])
def test_the_timeline_takes_a_fixed_number_of_queries(api, django_assert_max_num_queries, group_by):
    _estate(2)
    params = {**QUARTER, "group_by": group_by}
    queries(api, "/timeline", params)
    few = queries(api, "/timeline", params)
    _estate(8)
    with django_assert_max_num_queries(few):
        response = api.get("/timeline", params)
    assert len(response.json()["releases"]) == 30


def test_the_release_list_takes_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    _estate(2)
    queries(api, "/releases")
    few = queries(api, "/releases", {"limit": 500})
    _estate(8)
    with django_assert_max_num_queries(few):
        assert api.get("/releases", {"limit": 500}).json()["count"] == 30


@pytest.mark.parametrize(
    "path", ["/release-templates", "/freeze-windows", "/releases/{id}", "/releases/{id}/report", "/releases/{id}/scope"]
)
def test_other_reads_take_a_fixed_number_of_queries(api, path):
    train = TrainFactory(planned_start=datetime.date(2026, 10, 5), planned_end=datetime.date(2026, 12, 18))
    path = path.format(id=train.pk)

    def grow(number: int) -> None:
        child = ReleaseFactory(train=train, planned_start=train.planned_start, planned_end=train.planned_end)
        PhaseFactory(release=train, name=f"Phase {number}")
        MilestoneFactory(release=train, kind=MilestoneKind.DEPLOY)
        gate = GateFactory(release=train)
        GateCriterionFactory(gate=gate)
        GateApprovalFactory(gate=gate)
        ReleaseSystemFactory(release=train)
        FreezeWindowFactory(systems=[SystemFactory()], scope=FreezeScope.SYSTEMS)
        PhaseFactory(release=child)
        phase = PhaseTemplateFactory()
        MilestoneTemplateFactory(phase=phase, template=phase.template)
        GateTemplateFactory(template=phase.template)

    grow(0)
    queries(api, path)
    few = queries(api, path)
    for number in range(1, 6):
        grow(number)
    assert queries(api, path) <= few


# The month calendar and the impact matrix


def test_the_month_calendar_shows_releases_milestones_and_gates_by_day(api):
    release = ReleaseFactory(
        name="Ledger", planned_start=datetime.date(2026, 11, 2), planned_end=datetime.date(2026, 11, 27)
    )
    MilestoneFactory(release=release, name="Deploy", planned_date=datetime.date(2026, 11, 20))
    GateFactory(release=release, name="Go/no-go", due_date=datetime.date(2026, 11, 19))
    response = api.get("/release-calendar", {"month": "2026-11"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["year"], body["month"], body["start"], body["end"]) == (2026, 11, "2026-10-26", "2026-12-06")
    days = {day["date"]: day for week in body["weeks"] for day in week}
    assert [entry["name"] for entry in days["2026-11-02"]["starts"]] == ["Ledger"]
    assert [entry["name"] for entry in days["2026-11-20"]["milestones"]] == ["Deploy"]
    assert [entry["name"] for entry in days["2026-11-19"]["gates"]] == ["Go/no-go"]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", "1899-12", "3000-01", ""])
def test_a_bad_calendar_month_is_a_422(api, month):
    response = api.get("/release-calendar", {"month": month})
    assert response.status_code == 422, response.json()
    assert fields(response) == ["month"]


def test_the_impact_matrix_crosses_systems_and_releases(api):
    core, billing = SystemFactory(name="Core", tier=1), SystemFactory(name="Billing")
    first = ReleaseFactory(
        name="First", planned_start=datetime.date(2026, 12, 1), planned_end=datetime.date(2027, 1, 29)
    )
    second = ReleaseFactory(
        name="Second", planned_start=datetime.date(2027, 2, 1), planned_end=datetime.date(2027, 3, 26)
    )
    ReleaseSystemFactory(release=first, system=core)
    ReleaseSystemFactory(release=second, system=core, impact="regression")
    ReleaseSystemFactory(release=second, system=billing)
    response = api.get("/impact-matrix", {"start": "2026-12-15", "months": 6})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["start"], body["months"]) == ("2026-12-01", 6)
    assert [system["name"] for system in body["systems"]] == ["Core", "Billing"]
    assert [release["name"] for release in body["releases"]] == ["First", "Second"]
    assert body["cells"] == [[0, 0, 2], [1, 0, 1], [1, 1, 2]]
    assert api.get("/impact-matrix").status_code == 200


@pytest.mark.parametrize(
    ("params", "field"), [({"months": 0}, "months"), ({"months": 13}, "months"), ({"start": "x"}, "start")]
)
def test_a_bad_impact_matrix_request_is_a_422(api, params, field):
    response = api.get("/impact-matrix", params)
    assert response.status_code == 422
    assert fields(response) == [field]


def test_every_role_reads_the_plan(api_as, make_user):
    release = ReleaseFactory()
    for role in Role.values:
        client = api_as(make_user(role))
        assert client.get("/releases").json()["count"] == 1
        assert client.get(f"/releases/{release.pk}/health").status_code == 200
        assert (
            client.get("/timeline", {"start": "2026-03-01", "end": "2026-06-30"}).json()["releases"][0]["id"]
            == release.pk
        )
