"""The releases API: templates, releases, trains, scope, phases and milestones — wiring, permissions and errors.

Gates and transitions are in `test_api_gates.py`; freezes, the timeline, the calendar, the matrix, health, the report
and the query counts in `test_api_views.py`. The rules themselves are tested at the services.
"""

import datetime

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import SystemDependencyFactory, SystemFactory
from launchdeck.org.tests.factories import CalendarFactory
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory
from launchdeck.releases.choices import MilestoneKind, PhaseKind, ReleaseKind, ReleaseStatus
from launchdeck.releases.models import Milestone, Phase, Release, ReleaseSystem, ReleaseTemplate
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    GateTemplateFactory,
    MilestoneFactory,
    MilestoneTemplateFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    ReleaseTemplateFactory,
    TrainFactory,
    events_written,
    unchanged,
)

MONDAY = datetime.date(2027, 3, 1)


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def standard_template() -> ReleaseTemplate:
    """Build (10 working days) then test (5, right after), a go/no-go at the end of test, a gate on release."""
    template = ReleaseTemplateFactory(name="Standard")
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD, duration_days=10)
    test = PhaseTemplateFactory(
        template=template, position=2, name="Test", kind=PhaseKind.SIT, start_offset_days=10, duration_days=5
    )
    MilestoneTemplateFactory(template=template, phase=test, name="Go/no-go", kind=MilestoneKind.GO_NO_GO)
    GateTemplateFactory(template=template, phase=build, name="Build done", blocks=ReleaseStatus.IN_PROGRESS)
    GateTemplateFactory(template=template, name="Ready to ship", checklist=["Release notes"])
    return template


# Templates


def test_a_template_is_built_part_by_part_read_whole_and_taken_apart(api):
    created = api.post("/release-templates", {"name": "Quarterly", "description": "Four a year"})
    assert created.status_code == 201, created.json()
    template = created.json()
    assert (template["release_kind"], template["phases"], template["version"]) == ("project", [], 1)
    path = f"/release-templates/{template['id']}"

    build = api.post(f"{path}/phases", {"name": "Build", "kind": "build", "duration_days": 10})
    assert build.status_code == 201, build.json()
    test = api.post(f"{path}/phases", {"name": "SIT", "kind": "sit", "duration_days": 5, "environment_type": "sit"})
    assert (test.json()["position"], test.json()["start_offset_days"]) == (2, 10)  # right after the build
    milestone = api.post(
        f"{path}/milestones", {"name": "Code freeze", "kind": "code_freeze", "phase_id": build.json()["id"]}
    )
    assert milestone.status_code == 201, milestone.json()
    gate = api.post(
        f"{path}/gates",
        {
            "name": "Go",
            "approver_roles": ["release_manager"],
            "checklist": ["Notes"],
            "checks": ["required_phases_dated"],
        },
    )
    assert gate.status_code == 201, gate.json()
    assert gate.json()["phase_id"] is None and gate.json()["checks"] == ["required_phases_dated"]

    whole = api.get(path).json()
    assert [phase["name"] for phase in whole["phases"]] == ["Build", "SIT"]
    assert [m["name"] for m in whole["milestones"]] == ["Code freeze"]
    assert [g["name"] for g in whole["gates"]] == ["Go"]
    assert api.get("/release-templates").json()["items"][0]["phase_count"] == 2

    renamed = api.patch(path, {"version": 1, "name": "Quarterly release", "is_active": False})
    assert (renamed.status_code, renamed.json()["name"], renamed.json()["version"]) == (200, "Quarterly release", 2)
    moved = api.patch(f"/phase-templates/{test.json()['id']}", {"version": 1, "duration_days": 7})
    assert moved.json()["duration_days"] == 7
    assert api.get(f"/phase-templates/{test.json()['id']}").json() == moved.json()
    retimed = api.patch(f"/milestone-templates/{milestone.json()['id']}", {"version": 1, "offset_days": -2})
    assert retimed.json()["offset_days"] == -2
    assert api.get(f"/milestone-templates/{milestone.json()['id']}").json() == retimed.json()
    regated = api.patch(f"/gate-templates/{gate.json()['id']}", {"version": 1, "blocks": "in_progress"})
    assert regated.json()["blocks"] == "in_progress"
    assert api.get(f"/gate-templates/{gate.json()['id']}").json() == regated.json()

    assert api.delete(f"/gate-templates/{gate.json()['id']}").status_code == 204
    assert api.delete(f"/milestone-templates/{milestone.json()['id']}").status_code == 204
    assert api.delete(f"/phase-templates/{test.json()['id']}").status_code == 204
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert not ReleaseTemplate.objects.exists()
    events = set(AuditEvent.objects.values_list("event_type", "source"))
    assert ("releasetemplate.created", "api") in events and ("phasetemplate.deleted", "api") in events


def test_the_template_list_filters_and_sorts(api):
    ReleaseTemplateFactory(name="B", is_active=False)
    ReleaseTemplateFactory(name="A", release_kind=ReleaseKind.ENTERPRISE)
    names = [item["name"] for item in api.get("/release-templates", {"sort": "-name"}).json()["items"]]
    assert names == ["B", "A"]
    assert api.get("/release-templates", {"is_active": "false"}).json()["count"] == 1
    assert api.get("/release-templates", {"release_kind": "enterprise"}).json()["items"][0]["name"] == "A"
    assert fields(api.get("/release-templates", {"sort": "colour"})) == ["sort"]


def test_a_template_milestone_on_a_phase_of_another_template_is_a_422_on_phase_id(api):
    template = ReleaseTemplateFactory()
    elsewhere = PhaseTemplateFactory()
    with unchanged():
        response = api.post(
            f"/release-templates/{template.pk}/milestones", {"name": "Freeze", "phase_id": elsewhere.pk}
        )
    assert response.status_code == 422
    assert fields(response) == ["phase_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"duration_days": 0}, "duration_days"),
        ({"duration_days": 1001}, "duration_days"),
        ({"kind": "party"}, "kind"),
        ({"environment_type": "moon"}, "environment_type"),
        ({"test_effort_days": "-1"}, "test_effort_days"),
        ({"name": "x" * 101}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_template_phases_are_a_422_naming_the_field(api, body, field):
    template = ReleaseTemplateFactory()
    with unchanged():
        response = api.post(
            f"/release-templates/{template.pk}/phases", {"name": "Build", "kind": "build", "duration_days": 5, **body}
        )
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"approver_roles": []}, "approver_roles"),
        ({"approver_roles": ["king"]}, "approver_roles.0"),
        ({"checks": ["telepathy"]}, "checks"),
        ({"blocks": "draft"}, "blocks"),
        ({"checklist": [""]}, "checklist.0"),
    ],
)
def test_bad_template_gates_are_a_422_naming_the_field(api, body, field):
    template = ReleaseTemplateFactory()
    with unchanged():
        response = api.post(
            f"/release-templates/{template.pk}/gates", {"name": "Go", "approver_roles": ["release_manager"], **body}
        )
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_the_layout_answers_the_dates_a_release_would_get_on_its_calendar(api):
    template = standard_template()
    plain = api.get(f"/release-templates/{template.pk}/layout", {"start": MONDAY.isoformat()})
    assert plain.status_code == 200, plain.json()
    body = plain.json()
    assert [(p["name"], p["start"], p["end"]) for p in body["phases"]] == [
        ("Build", "2027-03-01", "2027-03-12"),
        ("Test", "2027-03-15", "2027-03-19"),
    ]
    assert (body["end"], body["milestones"][0]["date"]) == ("2027-03-19", "2027-03-19")
    assert [(g["name"], g["due_date"]) for g in body["gates"]] == [
        ("Build done", "2027-03-12"),
        ("Ready to ship", "2027-03-19"),
    ]
    shutdown = CalendarFactory()
    shutdown.closures.create(name="Shutdown", start=MONDAY, end=MONDAY + datetime.timedelta(days=4))
    later = api.get(f"/release-templates/{template.pk}/layout", {"start": MONDAY.isoformat(), "calendar": shutdown.pk})
    assert later.json()["phases"][0]["start"] == "2027-03-08"
    assert later.json()["calendar_id"] == shutdown.pk
    assert fields(api.get(f"/release-templates/{template.pk}/layout", {"start": "2027-03-01", "calendar": 99999})) == [
        "calendar"
    ]
    assert fields(api.get(f"/release-templates/{template.pk}/layout", {"start": "tomorrow"})) == ["start"]


def test_only_release_managers_change_templates(api_as, make_user):
    template = ReleaseTemplateFactory()
    for role in (Role.PROJECT_MANAGER, Role.QUALITY_MANAGER, Role.ENVIRONMENT_MANAGER):
        client = api_as(make_user(role))
        with unchanged():
            assert client.post("/release-templates", {"name": "Mine"}).status_code == 403
            assert client.patch(f"/release-templates/{template.pk}", {"version": 1, "name": "X"}).status_code == 403
            assert client.get(f"/release-templates/{template.pk}").status_code == 200


# Releases


def test_a_release_made_from_a_template_gets_the_layouts_dates(api, release_manager):
    template = standard_template()
    with events_written() as written:
        response = api.post(
            "/releases",
            {
                "name": "Spring",
                "template_id": template.pk,
                "planned_start": MONDAY.isoformat(),
                "owner": release_manager.username,
            },
        )
    assert response.status_code == 201, response.json()
    assert written.types == ["release.created"]
    release = response.json()
    layout = api.get(f"/release-templates/{template.pk}/layout", {"start": MONDAY.isoformat()}).json()
    assert (release["planned_start"], release["planned_end"]) == ("2027-03-01", layout["end"])
    assert [(p["name"], p["planned_start"], p["planned_end"]) for p in release["phases"]] == [
        (p["name"], p["start"], p["end"]) for p in layout["phases"]
    ]
    assert [(m["name"], m["planned_date"]) for m in release["milestones"]] == [
        (m["name"], m["date"]) for m in layout["milestones"]
    ]
    assert sorted((g["name"], g["due_date"]) for g in release["gates"]) == sorted(
        (g["name"], g["due_date"]) for g in layout["gates"]
    )
    ship = next(gate for gate in release["gates"] if gate["name"] == "Ready to ship")
    assert [c["text"] for c in ship["criteria"]] == ["Release notes"]
    assert ship["approvals_missing"] == ["release_manager"]
    assert (release["status"], release["owner"], release["template_id"]) == ("draft", "release_manager", template.pk)
    assert release["allowed_transitions"] == ["planned", "cancelled"]
    assert set(release["health"]) == {"status", "score", "factors"}


def test_a_release_is_created_read_changed_and_deleted(api):
    portfolio = PortfolioFactory()
    response = api.post(
        "/releases",
        {
            "name": "Ledger 4.2",
            "kind": "independent",
            "planned_start": "2027-01-04",
            "planned_end": "2027-02-26",
            "portfolio_id": portfolio.pk,
            "description": "Year-end fixes",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["portfolio_id"], body["phases"], body["children"]) == (
        "independent",
        portfolio.pk,
        [],
        [],
    )
    path = f"/releases/{body['id']}"
    changed = api.patch(path, {"version": 1, "planned_end": "2027-03-31", "description": None})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["planned_end"], changed.json()["description"], changed.json()["version"]) == (
        "2027-03-31",
        "",
        2,
    )
    assert api.get(path).json() == changed.json()
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert list(AuditEvent.objects.order_by("pk").values_list("event_type", flat=True)).count("release.deleted") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_end": "2027-01-01"}, "planned_end"),
        ({"planned_end": None}, "planned_end"),
        ({"planned_start": "not a date"}, "planned_start"),
        ({"planned_start": 20270104}, "planned_start"),
        ({"kind": "weekly"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "x" * 151}, "name"),
        ({"description": "x" * 5001}, "description"),
        ({"name": ["a list"]}, "name"),
        ({"inherit_train_dates": "perhaps"}, "inherit_train_dates"),
        ({"portfolio_id": 999999}, "portfolio_id"),
        ({"portfolio_id": 0}, "portfolio_id"),
        ({"template_id": 999999}, "template_id"),
        ({"train_id": 999999}, "train_id"),
        ({"calendar_id": 999999}, "calendar_id"),
        ({"owner": "nobody"}, "owner"),
        ({"colour": "red"}, "colour"),
        ({"status": "released"}, "status"),
    ],
)
def test_bad_releases_are_a_422_naming_the_field_and_change_nothing(api, body, field):
    payload = {"name": "Ledger", "planned_start": "2027-01-04", "planned_end": "2027-02-26", **body}
    with unchanged():
        response = api.post("/releases", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_an_initiative_of_another_portfolio_is_a_422_on_initiative_id(api):
    initiative = InitiativeFactory()
    with unchanged():
        response = api.post(
            "/releases",
            {
                "name": "Mixed",
                "planned_start": "2027-01-04",
                "planned_end": "2027-02-26",
                "portfolio_id": PortfolioFactory().pk,
                "initiative_id": initiative.pk,
            },
        )
    assert response.status_code == 422
    assert fields(response) == ["initiative_id"]


def test_malformed_json_is_a_400_and_changes_nothing(api):
    with unchanged():
        response = api.post("/releases", raw='{"name": "Ledger", ')
    assert response.status_code == 400
    assert response.json()["detail"] == "The request body is not valid JSON."


def test_a_null_character_is_a_422(api):
    with unchanged():
        response = api.post(
            "/releases", {"name": "Led\x00ger", "planned_start": "2027-01-04", "planned_end": "2027-02-01"}
        )
    assert response.status_code == 422
    assert fields(response) == ["name"]


def test_a_duplicate_release_name_is_a_409(api):
    ReleaseFactory(name="Ledger")
    with unchanged():
        response = api.post("/releases", {"name": "LEDGER", "planned_start": "2027-01-04", "planned_end": "2027-02-26"})
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_end": "2026-03-01"}, "planned_end"),
        ({"planned_start": None}, "planned_start"),
        ({"status": "released"}, "status"),
        ({"train_id": 1}, "train_id"),
        ({"version": 0}, "version"),
    ],
)
def test_bad_release_changes_are_a_422_and_change_nothing(api, body, field):
    release = ReleaseFactory()
    with unchanged():
        response = api.patch(f"/releases/{release.pk}", {"version": 1, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_window_leaving_a_phase_outside_is_a_422_naming_the_phase(api):
    release = ReleaseFactory()
    PhaseFactory(release=release, name="UAT", planned_start=release.planned_end, planned_end=release.planned_end)
    with unchanged():
        response = api.patch(f"/releases/{release.pk}", {"version": 1, "planned_end": "2026-05-29"})
    assert response.status_code == 422
    assert fields(response) == ["planned_end"] and "UAT" in response.json()["detail"]


def test_a_stale_release_edit_is_a_409_and_changes_nothing(api):
    release = ReleaseFactory(version=3)
    with unchanged():
        response = api.patch(f"/releases/{release.pk}", {"version": 2, "name": "Late"})
    assert response.status_code == 409 and fields(response) == ["version"]


def test_a_planned_release_cannot_be_deleted(api):
    release = ReleaseFactory(status=ReleaseStatus.PLANNED)
    with unchanged():
        response = api.delete(f"/releases/{release.pk}")
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/releases/999999"),
        ("patch", "/releases/999999"),
        ("delete", "/releases/999999"),
        ("get", "/releases/999999/scope"),
        ("put", "/releases/999999/scope/1"),
        ("post", "/releases/999999/phases"),
        ("patch", "/phases/999999"),
        ("delete", "/milestones/999999"),
        ("get", "/gates/999999"),
        ("patch", "/gate-criteria/999999"),
        ("get", "/release-templates/999999"),
        ("delete", "/phase-templates/999999"),
        ("get", "/freeze-windows/999999"),
    ],
)
def test_ids_of_nothing_are_a_404(api, method, path):
    bodies = {
        "patch": {"version": 1},
        "put": {"impact": "impacted"},
        "post": {"name": "Build", "kind": "build", "planned_start": "2026-03-02", "planned_end": "2026-03-06"},
    }
    if path.startswith("/gate-criteria"):
        bodies["patch"] = {"is_met": True}
    with unchanged():
        response = getattr(api, method)(path, bodies[method]) if method in bodies else getattr(api, method)(path)
    assert response.status_code == 404, response.json()
    assert response.json()["detail"]


def test_releases_are_listed_with_their_health_filtered_and_sorted(api):
    train = TrainFactory(name="Winter train")
    child = ReleaseFactory(name="Ledger", train=train, planned_start=datetime.date(2026, 5, 4))
    overdue = ReleaseFactory(name="Payments", planned_end=datetime.date(2027, 6, 25))
    MilestoneFactory(release=overdue, planned_date=datetime.date(2026, 11, 2))
    system = SystemFactory()
    ReleaseSystemFactory(release=child, system=system)
    body = api.get("/releases").json()
    assert body["count"] == 3
    rows = {row["name"]: row for row in body["items"]}
    assert rows["Payments"]["health"] in ("green", "amber", "red") and rows["Payments"]["score"] > 0
    assert rows["Ledger"]["score"] == api.get(f"/releases/{child.pk}/health").json()["score"]
    assert (rows["Ledger"]["train"], rows["Winter train"]["child_count"], rows["Ledger"]["system_count"]) == (
        "Winter train",
        1,
        1,
    )

    def names(**params) -> list[str]:
        return [row["name"] for row in api.get("/releases", params).json()["items"]]

    assert names(train=train.pk) == ["Ledger"]
    assert names(kind="enterprise") == ["Winter train"]
    assert names(system=system.pk) == ["Ledger"]
    assert names(q="pay") == ["Payments"]
    assert names(start="2026-07-01") == ["Payments"]
    assert names(sort="-name") == ["Winter train", "Payments", "Ledger"]
    assert names(sort="end,name") == ["Ledger", "Winter train", "Payments"]
    assert fields(api.get("/releases", {"start": "2026-07-01", "end": "2026-06-01"})) == ["end"]
    assert fields(api.get("/releases", {"status": "shipped"})) == ["status"]
    assert fields(api.get("/releases", {"sort": "health"})) == ["sort"]


# Trains


def test_a_release_joins_and_leaves_a_train(api):
    train = TrainFactory()
    train_phase = PhaseFactory(
        release=train,
        kind=PhaseKind.SIT,
        planned_start=datetime.date(2026, 4, 6),
        planned_end=datetime.date(2026, 4, 17),
    )
    release = ReleaseFactory()
    PhaseFactory(release=release, kind=PhaseKind.SIT)
    with events_written() as written:
        joined = api.post(f"/releases/{release.pk}/train", {"train_id": train.pk, "inherit_dates": True})
    assert joined.status_code == 200, joined.json()
    assert written.types[-1] == "release.joined_train"
    assert (joined.json()["train_id"], joined.json()["inherits_train_dates"]) == (train.pk, True)
    assert joined.json()["phases"][0]["train_phase_id"] == train_phase.pk
    assert joined.json()["phases"][0]["planned_start"] == "2026-04-06"
    assert api.get(f"/releases/{train.pk}").json()["children"] == [release.pk]
    left = api.delete(f"/releases/{release.pk}/train")
    assert left.status_code == 200 and left.json()["train_id"] is None
    assert api.delete(f"/releases/{release.pk}/train").status_code == 409


def test_a_release_created_in_a_train_inherits_its_dates_when_asked(api):
    template = standard_template()
    train = TrainFactory(planned_start=MONDAY, planned_end=datetime.date(2027, 6, 30))
    PhaseFactory(
        release=train,
        kind=PhaseKind.SIT,
        planned_start=datetime.date(2027, 4, 5),
        planned_end=datetime.date(2027, 4, 16),
    )
    response = api.post(
        "/releases",
        {
            "name": "Child",
            "template_id": template.pk,
            "planned_start": MONDAY.isoformat(),
            "train_id": train.pk,
            "inherit_train_dates": True,
        },
    )
    assert response.status_code == 201, response.json()
    sit = next(phase for phase in response.json()["phases"] if phase["kind"] == "sit")
    assert sit["planned_start"] == "2027-04-05" and sit["train_phase_id"] is not None


def test_a_release_in_one_train_added_to_another_is_a_409_and_changes_nothing(api):
    first, second = TrainFactory(name="First"), TrainFactory(name="Second")
    release = ReleaseFactory(name="Ledger", train=first)
    with unchanged():
        response = api.post(f"/releases/{release.pk}/train", {"train_id": second.pk, "inherit_dates": False})
    assert response.status_code == 409
    assert "already in train First" in response.json()["detail"]
    assert fields(response) == ["train_id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"train_id": None}, "train_id"), ({"train_id": 999999}, "train_id"), ({"inherit": True}, "inherit")],
)
def test_bad_train_input_is_a_422(api, body, field):
    release, train = ReleaseFactory(), TrainFactory()
    with unchanged():
        response = api.post(f"/releases/{release.pk}/train", {"train_id": train.pk, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_only_a_project_release_is_created_in_a_train(api):
    train = TrainFactory()
    with unchanged():
        response = api.post(
            "/releases",
            {
                "name": "Independent",
                "kind": "independent",
                "planned_start": "2026-03-02",
                "planned_end": "2026-03-27",
                "train_id": train.pk,
            },
        )
    assert response.status_code == 422
    assert fields(response) == ["kind"]


def test_a_release_that_is_not_a_train_cannot_take_children(api):
    not_a_train = ReleaseFactory(kind=ReleaseKind.INDEPENDENT)
    release = ReleaseFactory()
    with unchanged():
        response = api.post(f"/releases/{release.pk}/train", {"train_id": not_a_train.pk})
    assert response.status_code == 422
    assert fields(response) == ["train_id"]


# Scope


def test_the_scope_is_set_changed_suggested_and_emptied(api):
    release = ReleaseFactory()
    core, billing, portal = SystemFactory(name="Core"), SystemFactory(name="Billing"), SystemFactory(name="Portal")
    SystemDependencyFactory(source=billing, target=core)
    SystemDependencyFactory(source=portal, target=billing)
    put = api.put(f"/releases/{release.pk}/scope/{core.pk}", {"impact": "impacted", "target_version": "4.2"})
    assert put.status_code == 200, put.json()
    assert put.json() == {
        "system_id": core.pk,
        "system": "Core",
        "tier": 3,
        "impact": "impacted",
        "target_version": "4.2",
    }
    assert (
        api.put(f"/releases/{release.pk}/scope/{core.pk}", {"target_version": "4.3"}).json()["target_version"] == "4.3"
    )
    suggestions = api.get(f"/releases/{release.pk}/scope-suggestions")
    assert suggestions.status_code == 200, suggestions.json()
    assert [(s["system"], s["via_system"]) for s in suggestions.json()] == [("Billing", "Core"), ("Portal", "Core")]
    applied = api.post(f"/releases/{release.pk}/scope-suggestions/apply")
    assert applied.status_code == 200, applied.json()
    assert sorted((row["system"], row["impact"]) for row in applied.json()) == [
        ("Billing", "regression"),
        ("Portal", "regression"),
    ]
    assert [row["system"] for row in api.get(f"/releases/{release.pk}/scope").json()] == ["Billing", "Core", "Portal"]
    assert api.get(f"/releases/{release.pk}/scope-suggestions").json() == []
    assert api.delete(f"/releases/{release.pk}/scope/{core.pk}").status_code == 204
    assert api.delete(f"/releases/{release.pk}/scope/{core.pk}").status_code == 404
    assert ReleaseSystem.objects.filter(release=release).count() == 2


@pytest.mark.parametrize(
    ("body", "field"), [({"impact": "huge"}, "impact"), ({"target_version": "v" * 101}, "target_version")]
)
def test_bad_scope_input_is_a_422(api, body, field):
    release, system = ReleaseFactory(), SystemFactory()
    with unchanged():
        response = api.put(f"/releases/{release.pk}/scope/{system.pk}", body)
    assert response.status_code == 422
    assert fields(response) == [field]


def test_scope_of_a_system_that_does_not_exist_is_a_404(api):
    release = ReleaseFactory()
    with unchanged():
        assert api.put(f"/releases/{release.pk}/scope/999999", {}).status_code == 404


# Phases and milestones


def test_phases_are_added_changed_and_removed_within_the_release(api):
    release = ReleaseFactory()
    created = api.post(
        f"/releases/{release.pk}/phases",
        {
            "name": "UAT",
            "kind": "uat",
            "planned_start": "2026-05-04",
            "planned_end": "2026-05-15",
            "test_effort_days": "12.5",
        },
    )
    assert created.status_code == 201, created.json()
    phase = created.json()
    assert (phase["position"], phase["test_effort_days"], phase["environment_type"]) == (1, 12.5, None)
    changed = api.patch(f"/phases/{phase['id']}", {"version": 1, "percent_complete": 40, "status": "in_progress"})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["percent_complete"], changed.json()["status"]) == (40, "in_progress")
    assert api.get(f"/phases/{phase['id']}").json() == changed.json()
    assert api.delete(f"/phases/{phase['id']}").status_code == 204
    assert not Phase.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"planned_start": "2026-02-23"}, "planned_start"),
        ({"planned_end": "2026-07-03"}, "planned_end"),
        ({"planned_end": "2026-04-30"}, "planned_end"),
        ({"kind": "party"}, "kind"),
        ({"position": 0}, "position"),
    ],
)
def test_a_phase_outside_its_release_or_ending_before_it_starts_is_a_422(api, body, field):
    release = ReleaseFactory()
    payload = {"name": "UAT", "kind": "uat", "planned_start": "2026-05-04", "planned_end": "2026-05-15", **body}
    with unchanged():
        response = api.post(f"/releases/{release.pk}/phases", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"planned_end": "2026-07-31"}, "planned_end"),
        ({"status": None}, "status"),
        ({"release_id": 1}, "release_id"),
    ],
)
def test_bad_phase_changes_are_a_422(api, body, field):
    phase = PhaseFactory()
    with unchanged():
        response = api.patch(f"/phases/{phase.pk}", {"version": 1, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_milestones_are_added_in_a_phase_flagged_in_a_freeze_changed_and_removed(api):
    release = ReleaseFactory(planned_end=datetime.date(2026, 12, 31))
    phase = PhaseFactory(release=release)
    FreezeWindowFactory(name="Year end")
    created = api.post(
        f"/releases/{release.pk}/milestones",
        {"name": "Deploy", "kind": "deploy", "planned_date": "2026-12-21", "phase_id": phase.pk},
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["phase_id"], created.json()["in_freeze"]) == (phase.pk, "Year end")
    assert api.get(f"/releases/{release.pk}").json()["milestones"][0]["in_freeze"] == "Year end"
    moved = api.patch(
        f"/milestones/{created.json()['id']}", {"version": 1, "planned_date": "2026-12-11", "phase_id": None}
    )
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["in_freeze"], moved.json()["phase_id"]) == (None, None)
    assert api.get(f"/milestones/{created.json()['id']}").json() == moved.json()
    assert api.delete(f"/milestones/{created.json()['id']}").status_code == 204
    assert not Milestone.objects.exists()


@pytest.mark.parametrize("other", ["another release", "nothing"])
def test_a_milestone_in_a_phase_of_another_release_or_none_is_a_422_on_phase_id(api, other):
    release = ReleaseFactory()
    phase_id = PhaseFactory().pk if other == "another release" else 999999
    with unchanged():
        response = api.post(
            f"/releases/{release.pk}/milestones",
            {"name": "Deploy", "kind": "deploy", "planned_date": "2026-05-04", "phase_id": phase_id},
        )
    assert response.status_code == 422
    assert fields(response) == ["phase_id"]
    milestone = MilestoneFactory(release=release)
    with unchanged():
        response = api.patch(f"/milestones/{milestone.pk}", {"version": 1, "phase_id": 999999})
    assert response.status_code == 422
    assert fields(response) == ["phase_id"]


def test_a_milestone_outside_its_release_is_a_422(api):
    release = ReleaseFactory()
    with unchanged():
        response = api.post(f"/releases/{release.pk}/milestones", {"name": "Deploy", "planned_date": "2027-01-04"})
    assert response.status_code == 422
    assert fields(response) == ["planned_date"]


# Who may do what


def test_viewers_read_everything_and_change_nothing(api_as, viewer):
    release = ReleaseFactory()
    phase = PhaseFactory(release=release)
    client = api_as(viewer)
    assert client.get("/releases").status_code == 200
    assert client.get(f"/releases/{release.pk}").status_code == 200
    with unchanged():
        for response in (
            client.post("/releases", {"name": "X", "planned_start": "2027-01-04", "planned_end": "2027-01-08"}),
            client.patch(f"/releases/{release.pk}", {"version": 1, "name": "Y"}),
            client.delete(f"/releases/{release.pk}"),
            client.patch(f"/phases/{phase.pk}", {"version": 1, "percent_complete": 10}),
            client.post(f"/releases/{release.pk}/transition", {"to_status": "planned"}),
        ):
            assert response.status_code == 403


def test_project_managers_keep_phases_and_milestones_but_not_releases(api_as, make_user):
    client = api_as(make_user(Role.PROJECT_MANAGER))
    release = ReleaseFactory()
    phase, milestone = PhaseFactory(release=release), MilestoneFactory(release=release)
    with unchanged():
        assert (
            client.post(
                "/releases", {"name": "X", "planned_start": "2027-01-04", "planned_end": "2027-01-08"}
            ).status_code
            == 403
        )
        assert client.patch(f"/releases/{release.pk}", {"version": 1, "name": "Y"}).status_code == 403
        assert (
            client.post(
                f"/releases/{release.pk}/phases",
                {"name": "P", "kind": "uat", "planned_start": "2026-05-04", "planned_end": "2026-05-08"},
            ).status_code
            == 403
        )
        assert client.put(f"/releases/{release.pk}/scope/{SystemFactory().pk}", {}).status_code == 403
    assert client.patch(f"/phases/{phase.pk}", {"version": 1, "percent_complete": 30}).status_code == 200
    assert client.patch(f"/milestones/{milestone.pk}", {"version": 1, "actual_date": "2026-06-26"}).status_code == 200


def test_anonymous_callers_are_asked_to_authenticate(api_as):
    assert api_as(None).get("/releases").status_code == 401
    assert api_as(None).get("/timeline", {"start": "2026-10-01", "end": "2026-12-31"}).status_code == 401


def test_release_managers_may_do_everything(api_as, release_manager):
    assert Role.RELEASE_MANAGER in release_manager.roles
    release = ReleaseFactory(name="Everything")
    client = api_as(release_manager)
    assert client.patch(f"/releases/{release.pk}", {"version": 1, "name": "All"}).status_code == 200
    assert Release.objects.get(pk=release.pk).name == "All"
