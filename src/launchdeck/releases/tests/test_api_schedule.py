"""The schedule API: dependencies, what-if and apply — wiring, permissions and errors.

History, forecasts, the critical path and predictability are in `test_api_schedule_reports.py`; the rules themselves
are tested at the services and in `releases/schedule.py`'s tests.
"""

import contextlib
import datetime
import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.releases import schedule
from launchdeck.releases.choices import MilestoneKind, PhaseKind, PhaseStatus, ReleaseStatus
from launchdeck.releases.models import Phase, ScheduleChange, ScheduleDependency
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleDependencyFactory,
    events_written,
    unchanged,
)

START = datetime.date(2027, 3, 1)  # a Monday
END = datetime.date(2027, 6, 25)  # a Friday


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


@pytest.fixture
def project_manager(make_user):
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


@pytest.fixture
def quality_manager(make_user):
    return make_user(Role.QUALITY_MANAGER, username="quality_manager")


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


@contextlib.contextmanager
def nothing_written():
    """The block left the plan, its dependencies, the schedule history and the audit trail as they were."""
    dependencies = list(ScheduleDependency.objects.order_by("pk").values())
    history = ScheduleChange.objects.count()
    with unchanged():
        yield
    assert list(ScheduleDependency.objects.order_by("pk").values()) == dependencies
    assert ScheduleChange.objects.count() == history


def release_with_phases(name: str, **fields):
    """A release over spring 2027 with a build phase (1 to 12 March) and a test phase right after (15 to 26 March)."""
    release = ReleaseFactory(name=name, planned_start=START, planned_end=END, **fields)
    build = PhaseFactory(
        release=release,
        name=f"Build of {name}",
        kind=PhaseKind.BUILD,
        position=1,
        planned_start=START,
        planned_end=datetime.date(2027, 3, 12),
    )
    test = PhaseFactory(
        release=release,
        name=f"SIT of {name}",
        kind=PhaseKind.SIT,
        position=2,
        planned_start=datetime.date(2027, 3, 15),
        planned_end=datetime.date(2027, 3, 26),
    )
    return release, build, test


# Dependencies


def test_a_dependency_is_created_read_listed_changed_and_deleted(api):
    ledger, _, ledger_sit = release_with_phases("Ledger 4.2")
    payments, payments_build, _ = release_with_phases("Payments 7")
    with events_written() as written:
        created = api.post(
            "/dependencies",
            {
                "predecessor": f"phase:{ledger_sit.pk}",
                "successor": f"phase:{payments_build.pk}",
                "kind": "SS",
                "lag_days": 2,
                "note": "Shared test data",
            },
        )
    assert created.status_code == 201, created.json()
    assert written.types == ["schedule_dependency.created"]
    dependency = created.json()
    assert dependency["predecessor"] == {
        "key": f"phase:{ledger_sit.pk}",
        "kind": "phase",
        "id": ledger_sit.pk,
        "name": "SIT of Ledger 4.2",
        "release_id": ledger.pk,
        "release_name": "Ledger 4.2",
        "release_url": f"/releases/{ledger.pk}/",
    }
    assert (dependency["successor"]["key"], dependency["successor"]["release_name"]) == (
        f"phase:{payments_build.pk}",
        "Payments 7",
    )
    assert (dependency["kind"], dependency["lag_days"], dependency["note"], dependency["version"]) == (
        "SS",
        2,
        "Shared test data",
        1,
    )
    path = f"/dependencies/{dependency['id']}"
    assert api.get(path).json() == dependency

    listed = api.get("/dependencies", {"release": payments.pk}).json()
    assert (listed["count"], listed["items"], listed["limit"], listed["offset"]) == (1, [dependency], 50, 0)
    assert api.get("/dependencies", {"release": ledger.pk}).json()["count"] == 1
    assert api.get("/dependencies", {"release": ReleaseFactory().pk}).json()["count"] == 0
    assert api.get("/dependencies", {"kind": "SS"}).json()["count"] == 1
    assert api.get("/dependencies", {"kind": "FS"}).json()["count"] == 0

    changed = api.patch(path, {"version": 1, "kind": "FS", "lag_days": -3, "note": None})
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["kind"], changed.json()["lag_days"], changed.json()["note"], changed.json()["version"]) == (
        "FS",
        -3,
        "",
        2,
    )
    assert changed.json()["predecessor"] == dependency["predecessor"]
    assert api.get(path).json() == changed.json()

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    assert not ScheduleDependency.objects.exists()
    events = list(AuditEvent.objects.order_by("pk").values_list("event_type", "source"))
    assert [event for event in events if event[0].startswith("schedule_dependency.")] == [
        ("schedule_dependency.created", "api"),
        ("schedule_dependency.updated", "api"),
        ("schedule_dependency.deleted", "api"),
    ]


def test_a_dependency_between_releases_and_milestones_names_each_end(api):
    ledger = ReleaseFactory(name="Ledger", planned_start=START, planned_end=END)
    deploy = MilestoneFactory(release=ledger, name="Deploy Ledger", planned_date=END)
    later = ReleaseFactory(
        name="Later", planned_start=datetime.date(2027, 7, 5), planned_end=datetime.date(2027, 9, 24)
    )
    created = api.post("/dependencies", {"predecessor": f"milestone:{deploy.pk}", "successor": f"release:{later.pk}"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["predecessor"]["kind"], body["predecessor"]["name"], body["predecessor"]["release_id"]) == (
        "milestone",
        "Deploy Ledger",
        ledger.pk,
    )
    assert (body["successor"]["kind"], body["successor"]["id"], body["successor"]["name"]) == (
        "release",
        later.pk,
        "Later",
    )
    assert (body["kind"], body["lag_days"], body["note"]) == ("FS", 0, "")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"predecessor": "task:1"}, "predecessor"),
        ({"predecessor": "phase:"}, "predecessor"),
        ({"predecessor": "phase:-4"}, "predecessor"),
        ({"predecessor": "gate:1"}, "predecessor"),
        ({"predecessor": f"phase:{10**30}"}, "predecessor"),
        ({"predecessor": 12}, "predecessor"),
        ({"successor": None}, "successor"),
        ({"kind": "XX"}, "kind"),
        ({"lag_days": 251}, "lag_days"),
        ({"lag_days": -251}, "lag_days"),
        ({"lag_days": 10**12}, "lag_days"),
        ({"lag_days": "soon"}, "lag_days"),
        ({"note": "x" * 5001}, "note"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_dependencies_are_a_422_naming_the_field_and_change_nothing(api, body, field):
    _, build, test = release_with_phases("Ledger")
    payload = {"predecessor": f"phase:{build.pk}", "successor": f"phase:{test.pk}", **body}
    with nothing_written():
        response = api.post("/dependencies", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


@pytest.mark.parametrize("side", ["predecessor", "successor"])
def test_a_dependency_on_an_item_that_does_not_exist_is_a_422_on_that_end(api, side):
    _, build, _ = release_with_phases("Ledger")
    ends = {"predecessor": f"phase:{build.pk}", "successor": f"phase:{build.pk}", side: "milestone:999999"}
    with nothing_written():
        response = api.post("/dependencies", ends)
    assert response.status_code == 422, response.json()
    assert fields(response) == [side]


def test_a_dependency_closing_a_cycle_is_refused_naming_the_cycle(api):
    ledger, _, _ = release_with_phases("Ledger")
    payments, _, _ = release_with_phases("Payments")
    ScheduleDependencyFactory(predecessor_release=ledger, successor_release=payments)
    with nothing_written():
        response = api.post(
            "/dependencies", {"predecessor": f"release:{payments.pk}", "successor": f"release:{ledger.pk}"}
        )
    assert response.status_code == 422, response.json()
    assert fields(response) == ["predecessor"]
    assert "cycle" in response.json()["detail"]
    assert "Ledger" in response.json()["detail"] and "Payments" in response.json()["detail"]


def test_a_second_dependency_between_the_same_items_is_a_409(api):
    ledger, _, _ = release_with_phases("Ledger")
    payments, _, _ = release_with_phases("Payments")
    ScheduleDependencyFactory(predecessor_release=ledger, successor_release=payments)
    with nothing_written():
        response = api.post(
            "/dependencies",
            {"predecessor": f"release:{ledger.pk}", "successor": f"release:{payments.pk}", "kind": "SS"},
        )
    assert response.status_code == 409, response.json()


def test_a_dependency_on_an_item_of_a_released_release_is_refused(api):
    _, _, shipped_sit = release_with_phases("Shipped", status=ReleaseStatus.RELEASED)
    _, build, _ = release_with_phases("Open")
    with nothing_written():
        response = api.post(
            "/dependencies", {"predecessor": f"phase:{shipped_sit.pk}", "successor": f"phase:{build.pk}"}
        )
    assert response.status_code == 422, response.json()
    assert fields(response) == ["predecessor"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": None}, "kind"),
        ({"lag_days": None}, "lag_days"),
        ({"lag_days": 10**12}, "lag_days"),
        ({"kind": "later"}, "kind"),
        ({"version": 0}, "version"),
        ({"version": None}, "version"),
        ({"predecessor": "release:1"}, "predecessor"),
    ],
)
def test_bad_dependency_changes_are_a_422_and_change_nothing(api, body, field):
    dependency = ScheduleDependencyFactory()
    with nothing_written():
        response = api.patch(f"/dependencies/{dependency.pk}", {"version": 1, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_stale_dependency_edit_is_a_409_and_changes_nothing(api):
    dependency = ScheduleDependencyFactory(version=3)
    with nothing_written():
        response = api.patch(f"/dependencies/{dependency.pk}", {"version": 2, "lag_days": 5})
    assert response.status_code == 409 and fields(response) == ["version"]


def test_bad_dependency_list_filters_are_a_422(api):
    assert fields(api.get("/dependencies", {"kind": "XX"})) == ["kind"]
    assert fields(api.get("/dependencies", {"release": 0})) == ["release"]
    assert fields(api.get("/dependencies", {"release": "ledger"})) == ["release"]
    assert fields(api.get("/dependencies", {"limit": 501})) == ["limit"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/dependencies/999999"),
        ("patch", "/dependencies/999999"),
        ("delete", "/dependencies/999999"),
        ("get", "/releases/999999/schedule-history"),
        ("get", "/releases/999999/forecast"),
        ("get", "/releases/999999/critical-path"),
    ],
)
def test_ids_of_nothing_are_a_404(api, method, path):
    with nothing_written():
        response = api.patch(path, {"version": 1}) if method == "patch" else getattr(api, method)(path)
    assert response.status_code == 404, response.json()
    assert response.json()["detail"]


def test_the_dependency_list_takes_a_fixed_number_of_queries(api, django_assert_max_num_queries):
    names = itertools.count(1)

    def grow(number: int) -> None:
        for _ in range(number):
            ledger, _, ledger_sit = release_with_phases(f"Ledger {next(names)}")
            payments = ReleaseFactory(planned_start=START, planned_end=END)
            deploy = MilestoneFactory(release=payments)
            ScheduleDependencyFactory(
                predecessor_release=ledger, predecessor_phase=ledger_sit, successor_release=payments
            )
            ScheduleDependencyFactory(
                predecessor_release=ledger, successor_release=payments, successor_milestone=deploy, kind="FF"
            )

    grow(2)
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/dependencies").status_code == 200
    grow(8)
    with django_assert_max_num_queries(len(captured)):
        assert api.get("/dependencies", {"limit": 500}).json()["count"] == 20


# What-if


def test_a_what_if_answers_what_would_move_and_changes_nothing(api):
    ledger, build, test = release_with_phases("Ledger")
    payments, payments_build, _ = release_with_phases("Payments")
    ScheduleDependencyFactory(
        predecessor_release=ledger, predecessor_phase=test, successor_release=payments, successor_phase=payments_build
    )
    with nothing_written():
        response = api.post("/schedule/what-if", {"changes": [{"item": f"phase:{build.pk}", "shift_days": 5}]})
    assert response.status_code == 200, response.json()
    impact = response.json()
    assert [(change["item"], change["shift_days"], change["new_start"]) for change in impact["changes"]] == [
        (f"phase:{build.pk}", 5, "2027-03-08")
    ]
    assert "Build of Ledger" in impact["changes"][0]["name"]
    moved = {item["key"]: item for item in impact["moved"]}
    assert (moved[f"phase:{build.pk}"]["new_start"], moved[f"phase:{build.pk}"]["shift_days"]) == ("2027-03-08", 5)
    assert moved[f"phase:{test.pk}"]["new_start"] == "2027-03-22"
    pushed = moved[f"phase:{payments_build.pk}"]
    assert (pushed["old_start"], pushed["new_start"], pushed["release_name"], pushed["kind"]) == (
        "2027-03-01",
        "2027-04-05",
        "Payments",
        "phase",
    )
    assert [step["key"] for step in pushed["path"]] == [
        f"phase:{build.pk}",
        f"phase:{test.pk}",
        f"phase:{payments_build.pk}",
    ]
    assert {release["name"] for release in impact["releases"]} == {"Ledger", "Payments"}
    assert impact["summary"]["items_moved"] == len(impact["moved"])
    assert impact["fingerprint"]
    assert set(impact) == {
        "changes",
        "moved",
        "releases",
        "trains",
        "in_freeze",
        "postponed",
        "critical_path",
        "violations",
        "impacts",
        "summary",
        "fingerprint",
    }
    again = api.post("/schedule/what-if", {"changes": [{"item": f"phase:{build.pk}", "new_start": "2027-03-08"}]})
    assert again.json()["fingerprint"] == impact["fingerprint"]
    assert Phase.objects.get(pk=build.pk).planned_start == START


@pytest.fixture
def fake_provider():
    """An impact provider listing each moved phase, as environment bookings or test capacity would."""

    def preview(context):
        return [{"text": f"Phase {pk} moves", "url": None, "severity": "warning"} for pk in sorted(context.phases)]

    schedule.register_impact_provider("bookings", "Environment bookings", preview)
    yield
    schedule.unregister_impact_provider("bookings")


def test_a_what_if_names_freezes_postponements_and_what_the_providers_find(api, fake_provider):
    ledger = ReleaseFactory(name="Ledger", planned_start=START, planned_end=END)
    build = PhaseFactory(
        release=ledger, name="Build", position=1, planned_start=START, planned_end=datetime.date(2027, 3, 12)
    )
    deploy = MilestoneFactory(
        release=ledger, phase=build, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=datetime.date(2027, 3, 12)
    )
    FreezeWindowFactory(name="Quarter close", starts_on=datetime.date(2027, 3, 15), ends_on=datetime.date(2027, 3, 19))
    response = api.post("/schedule/what-if", {"changes": [{"item": f"phase:{build.pk}", "shift_days": 5}]})
    assert response.status_code == 200, response.json()
    impact = response.json()
    assert impact["postponed"] == [
        {
            "key": f"milestone:{deploy.pk}",
            "name": "Deploy",
            "release_name": "Ledger",
            "from": "2027-03-19",
            "to": "2027-03-22",
            "freeze": "Quarter close",
        }
    ]
    moved = {item["key"]: item for item in impact["moved"]}
    assert moved[f"milestone:{deploy.pk}"]["postponed_past"] == {
        "name": "Quarter close",
        "start": "2027-03-15",
        "end": "2027-03-19",
    }
    assert impact["impacts"] == [
        {
            "key": "bookings",
            "title": "Environment bookings",
            "items": [{"text": f"Phase {build.pk} moves", "url": None, "severity": "warning"}],
        }
    ]


TOO_MANY = [{"item": f"phase:{number}", "shift_days": 1} for number in range(1, 52)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"changes": []}, "changes"),
        ({"changes": TOO_MANY}, "changes"),
        ({"changes": None}, "changes"),
        ({"changes": "phase:1"}, "changes"),
        ({}, "changes"),
        ({"changes": [{"item": "{build}", "shift_days": 10**12}]}, "changes.0.shift_days"),
        ({"changes": [{"item": "{build}", "shift_days": -(10**12)}]}, "changes.0.shift_days"),
        ({"changes": [{"item": "{build}", "shift_days": 10_000}]}, "changes.0.shift_days"),
        ({"changes": [{"item": "{build}", "shift_days": 521}]}, "changes.0.shift_days"),
        ({"changes": [{"item": "{build}", "shift_days": 1.5}]}, "changes.0.shift_days"),
        ({"changes": [{"item": "{build}", "new_start": "2027-02-30"}]}, "changes.0.new_start"),
        ({"changes": [{"item": "{build}", "new_start": "9999-12-31"}]}, "changes.0.new_start"),
        ({"changes": [{"item": "{build}", "new_start": "0001-01-01"}]}, "changes.0.new_start"),
        ({"changes": [{"item": "finish:1", "shift_days": 1}]}, "changes.0.item"),
        ({"changes": [{"item": "phase:abc", "shift_days": 1}]}, "changes.0.item"),
        ({"changes": [{"item": f"phase:{10**30}", "shift_days": 1}]}, "changes.0.item"),
        ({"changes": [{"item": "{build}", "shift_days": 1, "colour": "red"}]}, "changes.0.colour"),
        ({"changes": [{"shift_days": 1}]}, "changes.0.item"),
        ({"changes": [{"item": "{build}", "shift_days": 1}], "reason": "extra"}, "reason"),
    ],
)
def test_bad_what_ifs_are_a_422_naming_the_field(api, body, field):
    _, build, _ = release_with_phases("Ledger")
    for change in body.get("changes") or []:
        if isinstance(change, dict) and "item" in change:
            change["item"] = change["item"].replace("{build}", f"phase:{build.pk}")
    with nothing_written():
        response = api.post("/schedule/what-if", body)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


@pytest.mark.parametrize(
    "changes",
    [
        [{"item": "{build}"}],
        [{"item": "{build}", "shift_days": 2, "new_start": "2027-03-08"}],
        [{"item": "{build}", "shift_days": 2}, {"item": "{build}", "shift_days": 3}],
    ],
    ids=["neither-shift-nor-date", "both", "same-item-twice"],
)
def test_what_ifs_the_service_refuses_are_a_422(api, changes):
    _, build, _ = release_with_phases("Ledger")
    for change in changes:
        change["item"] = f"phase:{build.pk}"
    with nothing_written():
        response = api.post("/schedule/what-if", {"changes": changes})
    assert response.status_code == 422, response.json()
    assert response.json()["detail"] and response.json()["errors"]


def test_a_what_if_on_a_released_release_or_a_started_phase_is_a_422(api):
    _, _, shipped_sit = release_with_phases("Shipped", status=ReleaseStatus.RELEASED)
    _, running, _ = release_with_phases("Running", status=ReleaseStatus.IN_PROGRESS)
    Phase.objects.filter(pk=running.pk).update(status=PhaseStatus.IN_PROGRESS, actual_start=START)
    for key in (f"phase:{shipped_sit.pk}", f"phase:{running.pk}"):
        with nothing_written():
            response = api.post("/schedule/what-if", {"changes": [{"item": key, "shift_days": 3}]})
        assert response.status_code == 422, response.json()
        assert response.json()["detail"]


@pytest.mark.parametrize("key", ["phase:999999", "milestone:999999", "release:999999", "gate:999999"])
def test_a_what_if_on_an_item_that_does_not_exist_is_a_404(api, key):
    with nothing_written():
        response = api.post("/schedule/what-if", {"changes": [{"item": key, "shift_days": 3}]})
    assert response.status_code == 404, response.json()


def test_malformed_json_is_a_400_and_changes_nothing(api):
    for path in ("/dependencies", "/schedule/what-if", "/schedule/apply"):
        with nothing_written():
            response = api.post(path, raw='{"changes": [')
        assert response.status_code == 400, path
        assert response.json() == {"detail": "The request body is not valid JSON.", "errors": []}
    dependency = ScheduleDependencyFactory()
    with nothing_written():
        response = api.patch(f"/dependencies/{dependency.pk}", raw="{version: 1}")
    assert response.status_code == 400


def test_a_null_character_is_a_422(api):
    _, build, test = release_with_phases("Ledger")
    with nothing_written():
        response = api.post(
            "/dependencies", {"predecessor": f"phase:{build.pk}", "successor": f"phase:{test.pk}", "note": "a\x00b"}
        )
    assert response.status_code == 422
    assert fields(response) == ["note"]


# Apply


def test_an_applied_change_moves_the_plan_and_records_it(api):
    ledger, build, test = release_with_phases("Ledger")
    change = {"item": f"phase:{build.pk}", "shift_days": 5}
    preview = api.post("/schedule/what-if", {"changes": [change]}).json()
    with events_written() as written:
        response = api.post(
            "/schedule/apply",
            {"changes": [change], "reason": "Supplier delay", "fingerprint": preview["fingerprint"]},
        )
    assert response.status_code == 200, response.json()
    applied = response.json()
    assert written.types == ["release.rescheduled"]
    assert (applied["applied"], applied["audit_event_id"]) == (True, written.event.pk)
    assert {key: applied[key] for key in preview if key != "fingerprint"} == {
        key: preview[key] for key in preview if key != "fingerprint"
    }
    assert Phase.objects.get(pk=build.pk).planned_start == datetime.date(2027, 3, 8)
    assert Phase.objects.get(pk=test.pk).planned_start == datetime.date(2027, 3, 22)
    entry = ScheduleChange.objects.get(release=ledger)
    assert (str(entry.batch), entry.reason, entry.audit_event_id) == (
        applied["batch"],
        "Supplier delay",
        written.event.pk,
    )
    history = api.get(f"/releases/{ledger.pk}/schedule-history").json()
    assert history["count"] == 1
    assert (history["items"][0]["batch"], history["items"][0]["actor"]) == (applied["batch"], "release_manager")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": None}, "reason"),
        ({"reason": "x" * 5001}, "reason"),
        ({"fingerprint": "x" * 101}, "fingerprint"),
        ({"fingerprint": 12}, "fingerprint"),
        ({"changes": [{"item": "{build}", "shift_days": 10**12}]}, "changes.0.shift_days"),
    ],
)
def test_bad_applies_are_a_422_and_change_nothing(api, body, field):
    _, build, _ = release_with_phases("Ledger")
    payload = {"changes": [{"item": f"phase:{build.pk}", "shift_days": 5}], "reason": "Supplier delay", **body}
    for change in payload["changes"]:
        change["item"] = change["item"].replace("{build}", f"phase:{build.pk}")
    with nothing_written():
        response = api.post("/schedule/apply", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_an_apply_without_a_reason_is_a_422_on_reason(api):
    _, build, _ = release_with_phases("Ledger")
    for body in ({}, {"reason": "   "}):
        with nothing_written():
            response = api.post(
                "/schedule/apply", {"changes": [{"item": f"phase:{build.pk}", "shift_days": 5}], **body}
            )
        assert response.status_code == 422, response.json()
        assert fields(response) == ["reason"]


def test_an_apply_after_the_plan_changed_since_the_preview_is_a_409(api):
    _, build, _ = release_with_phases("Ledger")
    change = {"item": f"phase:{build.pk}", "shift_days": 5}
    preview = api.post("/schedule/what-if", {"changes": [change]}).json()
    Phase.objects.filter(pk=build.pk).update(planned_end=datetime.date(2027, 3, 11))
    with nothing_written():
        response = api.post(
            "/schedule/apply", {"changes": [change], "reason": "Late", "fingerprint": preview["fingerprint"]}
        )
    assert response.status_code == 409, response.json()
    assert "preview" in response.json()["detail"]


# Who may do what


def test_viewers_read_the_schedule_and_change_nothing(api_as, viewer):
    _, build, test = release_with_phases("Ledger")
    dependency = ScheduleDependencyFactory()
    client = api_as(viewer)
    assert client.get("/dependencies").status_code == 200
    assert client.get(f"/dependencies/{dependency.pk}").status_code == 200
    change = {"item": f"phase:{build.pk}", "shift_days": 5}
    with nothing_written():
        for response in (
            client.post("/dependencies", {"predecessor": f"phase:{build.pk}", "successor": f"phase:{test.pk}"}),
            client.patch(f"/dependencies/{dependency.pk}", {"version": 1, "lag_days": 3}),
            client.delete(f"/dependencies/{dependency.pk}"),
            client.post("/schedule/apply", {"changes": [change], "reason": "Late"}),
            # A read-only role is refused every POST up front, the preview included.
            client.post("/schedule/what-if", {"changes": [change]}),
            # Before its input is even read.
            client.post("/schedule/apply", {"changes": "nonsense"}),
        ):
            assert response.status_code == 403, response.json()


def test_quality_managers_preview_but_neither_link_nor_apply(api_as, quality_manager):
    _, build, test = release_with_phases("Ledger")
    dependency = ScheduleDependencyFactory()
    client = api_as(quality_manager)
    change = {"item": f"phase:{build.pk}", "shift_days": 5}
    with nothing_written():
        assert client.post("/schedule/what-if", {"changes": [change]}).status_code == 200
        for response in (
            client.post("/dependencies", {"predecessor": f"phase:{build.pk}", "successor": f"phase:{test.pk}"}),
            client.patch(f"/dependencies/{dependency.pk}", {"version": 1, "lag_days": 3}),
            client.delete(f"/dependencies/{dependency.pk}"),
            client.post("/schedule/apply", {"changes": [change], "reason": "Late"}),
        ):
            assert response.status_code == 403, response.json()


def test_project_managers_link_and_reschedule(api_as, project_manager):
    ledger, build, _ = release_with_phases("Ledger")
    payments, _, _ = release_with_phases("Payments")
    client = api_as(project_manager)
    created = client.post(
        "/dependencies", {"predecessor": f"release:{ledger.pk}", "successor": f"release:{payments.pk}"}
    )
    assert created.status_code == 201, created.json()
    changed = client.patch(f"/dependencies/{created.json()['id']}", {"version": 1, "lag_days": 1})
    assert changed.status_code == 200, changed.json()
    applied = client.post(
        "/schedule/apply", {"changes": [{"item": f"phase:{build.pk}", "shift_days": 1}], "reason": "Late"}
    )
    assert applied.status_code == 200, applied.json()
    assert client.delete(f"/dependencies/{created.json()['id']}").status_code == 204


def test_anonymous_callers_are_asked_to_authenticate(api_as):
    anonymous = api_as(None)
    assert anonymous.get("/dependencies").status_code == 401
    assert anonymous.post("/schedule/what-if", {"changes": []}).status_code == 401
