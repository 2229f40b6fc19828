"""The schedule API's reads: a release's date-change history, its forecast and critical path, and predictability.

Dependencies, what-if and apply are in `test_api_schedule.py`; the figures themselves are tested at the selectors and
in `releases/schedule.py`'s tests.
"""

import datetime

import pytest

from launchdeck.releases.choices import PhaseKind, PhaseStatus, ReleaseKind, ReleaseStatus
from launchdeck.releases.tests.factories import (
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleChangeFactory,
    ScheduleDependencyFactory,
)

START = datetime.date(2027, 3, 1)  # a Monday
END = datetime.date(2027, 6, 25)  # a Friday


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


# History


def test_the_history_lists_a_releases_date_changes_newest_first_a_page_at_a_time(api, release_manager):
    release = ReleaseFactory(name="Ledger")
    older = ScheduleChangeFactory(release=release, reason="Supplier delay")
    newer = ScheduleChangeFactory(
        release=release,
        occurred_at=datetime.datetime(2026, 4, 1, 9, tzinfo=datetime.UTC),
        actor=release_manager,
        actor_name="Rita Release",
        reason="Test environment late",
        cause="Moved by SIT of Train 2027.1",
        start_shift_days=0,
        end_shift_days=3,
        items_moved=4,
    )
    ScheduleChangeFactory()  # another release's
    response = api.get(f"/releases/{release.pk}/schedule-history")
    assert response.status_code == 200, response.json()
    page = response.json()
    assert (page["count"], [row["id"] for row in page["items"]]) == (2, [newer.pk, older.pk])
    latest = page["items"][0]
    assert latest == {
        "id": newer.pk,
        "batch": str(newer.batch),
        "occurred_at": "2026-04-01T09:00:00Z",
        "actor": "release_manager",
        "actor_name": "Rita Release",
        "reason": "Test environment late",
        "cause": "Moved by SIT of Train 2027.1",
        "old_start": "2026-03-02",
        "old_end": "2026-06-26",
        "new_start": "2026-03-09",
        "new_end": "2026-07-03",
        "start_shift_days": 0,
        "end_shift_days": 3,
        "items_moved": 4,
        "audit_event_id": None,
    }
    assert page["items"][1]["actor"] is None
    second = api.get(f"/releases/{release.pk}/schedule-history", {"limit": 1, "offset": 1}).json()
    assert (second["count"], [row["id"] for row in second["items"]]) == (2, [older.pk])
    assert api.get(f"/releases/{ReleaseFactory().pk}/schedule-history").json()["count"] == 0


def test_viewers_read_the_history(api_as, viewer):
    entry = ScheduleChangeFactory()
    response = api_as(viewer).get(f"/releases/{entry.release_id}/schedule-history")
    assert response.status_code == 200 and response.json()["count"] == 1


# Predictability


def released(name: str, *, planned_end: datetime.date, actual_end: datetime.date, **fields):
    return ReleaseFactory(
        name=name,
        status=ReleaseStatus.RELEASED,
        planned_start=datetime.date(2026, 1, 5),
        planned_end=planned_end,
        actual_start=datetime.date(2026, 1, 5),
        actual_end=actual_end,
        **fields,
    )


def test_predictability_groups_released_releases_by_quarter(api):
    released("On time", planned_end=datetime.date(2026, 3, 27), actual_end=datetime.date(2026, 3, 27))
    released("Late", planned_end=datetime.date(2026, 3, 20), actual_end=datetime.date(2026, 3, 27))  # 5 days
    released("Summer", planned_end=datetime.date(2026, 7, 3), actual_end=datetime.date(2026, 7, 1))  # 2 early
    ReleaseFactory(name="Still open")
    response = api.get("/predictability", {"group_by": "period"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["group_by"], body["start"], body["end"]) == ("period", None, None)
    rows = {row["key"]: row for row in body["rows"]}
    assert [row["key"] for row in body["rows"]] == ["2026-Q1", "2026-Q3", "all"]
    first = rows["2026-Q1"]
    assert (first["label"], first["releases"], first["on_time"], first["on_time_share"]) == ("2026 Q1", 2, 1, 0.5)
    assert first["mean_slip_days"] == 2.5
    assert (rows["2026-Q3"]["on_time"], rows["2026-Q3"]["mean_slip_days"]) == (1, -2.0)
    assert (rows["all"]["releases"], rows["all"]["on_time"]) == (3, 2)

    window = api.get("/predictability", {"group_by": "period", "start": "2026-06-01", "end": "2026-12-31"}).json()
    assert (window["start"], window["end"]) == ("2026-06-01", "2026-12-31")
    assert [row["key"] for row in window["rows"]] == ["2026-Q3", "all"]


def test_predictability_groups_by_team_by_default(api):
    released("Teamless", planned_end=datetime.date(2026, 3, 27), actual_end=datetime.date(2026, 3, 27))
    body = api.get("/predictability").json()
    assert body["group_by"] == "team"
    assert [(row["key"], row["label"], row["id"]) for row in body["rows"]] == [
        ("team:none", "No team", None),
        ("all", "All releases", None),
    ]


def test_predictability_without_released_releases_answers_an_empty_total(api):
    rows = api.get("/predictability", {"group_by": "portfolio"}).json()["rows"]
    assert rows == [
        {
            "key": "all",
            "label": "All releases",
            "id": None,
            "releases": 0,
            "on_time": 0,
            "on_time_share": None,
            "mean_slip_days": None,
            "p85_slip_days": None,
        }
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "moon"}, "group_by"),
        ({"start": "2026-13-01"}, "start"),
        ({"start": "0001-01-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "2026-06-01", "end": "2026-05-31"}, "end"),
    ],
)
def test_bad_predictability_queries_are_a_422_naming_the_field(api, params, field):
    response = api.get("/predictability", params)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_anonymous_callers_are_asked_to_authenticate(api_as):
    release = ReleaseFactory()
    anonymous = api_as(None)
    for path in (
        "/predictability",
        f"/releases/{release.pk}/schedule-history",
        f"/releases/{release.pk}/forecast",
        f"/releases/{release.pk}/critical-path",
    ):
        assert anonymous.get(path).status_code == 401, path


# Shared by the forecast and critical-path tests below


def release_with_phases(name: str, **fields):
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
        planned_end=END,
    )
    return release, build, test


# Forecast


def finished_sit_phases(*slips_in_days: int) -> None:
    """History: a released release with a two-week SIT phase per value, each finished that many days late."""
    shipped = released("Shipped", planned_end=datetime.date(2026, 6, 26), actual_end=datetime.date(2026, 6, 26))
    for slip in slips_in_days:
        PhaseFactory(
            release=shipped,
            kind=PhaseKind.SIT,
            status=PhaseStatus.DONE,
            planned_start=datetime.date(2026, 1, 5),
            planned_end=datetime.date(2026, 1, 16),
            actual_start=datetime.date(2026, 1, 5),
            actual_end=datetime.date(2026, 1, 16) + datetime.timedelta(days=slip),
        )


def test_without_history_the_forecast_keeps_the_planned_end(api):
    release, _, _ = release_with_phases("Ledger")
    response = api.get(f"/releases/{release.pk}/forecast")
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "release_id": release.pk,
        "planned_end": "2027-06-25",
        "p50": "2027-06-25",
        "p85": "2027-06-25",
        "probability_on_time": 1.0,
        "runs": 2000,
        "samples": 0,
        "basis": "No finished phases yet: planned durations.",
    }


def test_the_forecast_draws_from_history_the_same_for_the_same_seed(api, viewer, api_as):
    release, _, _ = release_with_phases("Ledger")
    finished_sit_phases(0, 14, 28)
    forecast = api.get(f"/releases/{release.pk}/forecast").json()
    assert forecast["p50"] > "2027-06-25" and forecast["p85"] >= forecast["p50"]
    assert 0 < forecast["probability_on_time"] < 1
    assert (forecast["runs"], forecast["samples"]) == (2000, 3)
    assert forecast["basis"].startswith("From 3 finished phases")
    assert api_as(viewer).get(f"/releases/{release.pk}/forecast").json() == forecast
    fewer = api.get(f"/releases/{release.pk}/forecast", {"runs": 100, "seed": 7}).json()
    assert fewer["runs"] == 100
    assert api.get(f"/releases/{release.pk}/forecast", {"runs": 100, "seed": 7}).json() == fewer


def test_a_closed_release_has_nothing_to_forecast(api):
    release, _, _ = release_with_phases("Shipped", status=ReleaseStatus.RELEASED)
    response = api.get(f"/releases/{release.pk}/forecast")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["p50"], body["p85"], body["probability_on_time"], body["runs"]) == (None, None, None, 0)
    assert body["basis"] == "Released: its dates are history."


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"runs": 0}, "runs"),
        ({"runs": 20_001}, "runs"),
        ({"runs": 10**30}, "runs"),
        ({"runs": "many"}, "runs"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
    ],
)
def test_bad_forecast_queries_are_a_422_naming_the_field(api, params, field):
    release, _, _ = release_with_phases("Ledger")
    response = api.get(f"/releases/{release.pk}/forecast", params)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


# Critical path


def test_the_critical_path_gives_each_items_float(api, viewer, api_as):
    release, build, test = release_with_phases("Ledger")
    demo = MilestoneFactory(release=release, name="Demo", planned_date=datetime.date(2027, 4, 1))
    response = api.get(f"/releases/{release.pk}/critical-path")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["release_id"], body["project_end"]) == (release.pk, "2027-06-25")
    assert [(row["key"], row["total_float"], row["critical"]) for row in body["items"]] == [
        (f"phase:{build.pk}", 0, True),
        (f"phase:{test.pk}", 0, True),
        (f"milestone:{demo.pk}", 61, False),
    ]
    assert body["items"][2] == {
        "key": f"milestone:{demo.pk}",
        "kind": "milestone",
        "id": demo.pk,
        "name": "Demo",
        "release_id": release.pk,
        "release_name": "Ledger",
        "start": "2027-04-01",
        "end": "2027-04-01",
        "total_float": 61,
        "critical": False,
    }
    assert api_as(viewer).get(f"/releases/{release.pk}/critical-path").json() == body


def test_a_trains_critical_path_takes_in_its_childrens_items(api):
    train, _, _ = release_with_phases("Train 2027.1", kind=ReleaseKind.ENTERPRISE)
    child, child_build, _ = release_with_phases("Payments", train=train)
    body = api.get(f"/releases/{train.pk}/critical-path").json()
    assert {row["release_name"] for row in body["items"]} == {"Train 2027.1", "Payments"}
    assert f"phase:{child_build.pk}" in {row["key"] for row in body["items"]}
    own = api.get(f"/releases/{child.pk}/critical-path").json()
    assert {row["release_name"] for row in own["items"]} == {"Payments"}


def test_a_stored_cycle_is_a_422_naming_it_for_the_critical_path_and_the_forecast(api):
    release, build, test = release_with_phases("Ledger")
    # Build waits for SIT, which follows Build: only concurrent creations can store this, so it is written directly.
    ScheduleDependencyFactory(
        predecessor_release=release, predecessor_phase=test, successor_release=release, successor_phase=build
    )
    refusal = {
        "detail": "The plan has a dependency cycle: Build of Ledger of Ledger → SIT of Ledger of Ledger → Build of "
        "Ledger of Ledger. Remove one of its dependencies first.",
        "errors": [],
    }
    for path in (f"/releases/{release.pk}/critical-path", f"/releases/{release.pk}/forecast"):
        response = api.get(path)
        assert (response.status_code, response.json()) == (422, refusal), path


def test_an_empty_release_has_an_empty_critical_path(api):
    release = ReleaseFactory(planned_start=START, planned_end=END)
    body = api.get(f"/releases/{release.pk}/critical-path").json()
    assert (body["release_id"], body["items"]) == (release.pk, [])
