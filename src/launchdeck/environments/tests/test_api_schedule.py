"""The schedule, utilisation and demand API: wiring, defaults, the documented shape, error mapping, query counts."""

import datetime

import pytest

from launchdeck.config.api import api as ninja_api
from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType, ReleaseStatus
from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory

TODAY = datetime.date(2026, 3, 4)  # a Wednesday


@pytest.fixture(autouse=True)
def today(today_is):
    """The API's default windows count from 4 March 2026."""
    return today_is(TODAY)


@pytest.fixture
def api(api_as, viewer):
    return api_as(viewer)


def errors(response) -> list[tuple]:
    return [(error["field"], error["message"]) for error in response.json()["errors"]]


def test_the_schedule_answers_the_documented_shape_with_conflicts_flagged(api):
    lane = EnvironmentGroupFactory(name="Lane")
    environment = EnvironmentFactory(name="SIT 1", group=lane)
    first = EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    second = EnvironmentBookingFactory(environment=environment, starts_at=at(1), ends_at=at(3))

    response = api.get("/environments/schedule", {"start": "2026-03-02", "end": "2026-03-15", "group": lane.pk})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {
        "start", "end", "today", "group_by", "groups", "environments", "bookings", "freezes", "conflicts"
    }  # fmt: skip
    assert (body["start"], body["end"], body["today"], body["conflicts"]) == (
        "2026-03-02",
        "2026-03-15",
        "2026-03-04",
        2,
    )
    assert [(booking["id"], booking["conflict"]) for booking in body["bookings"]] == [
        (first.pk, True),
        (second.pk, True),
    ]
    assert body["groups"] == [{"id": f"g{lane.pk}", "label": "Lane", "environments": [environment.pk]}]


def test_the_schedule_defaults_to_a_quarter_from_last_week(api):
    body = api.get("/environments/schedule").json()
    assert (body["start"], body["end"], body["group_by"]) == ("2026-02-23", "2026-05-24", "group")
    from_start = api.get("/environments/schedule", {"start": "2026-04-06"}).json()
    assert (from_start["start"], from_start["end"]) == ("2026-04-06", "2026-07-05")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"start": "2026-03-10", "end": "2026-03-09"}, [("end", "The end must be after the start.")]),
        ({"start": "2026-01-01", "end": "2027-06-01"}, [("end", "Show at most a year at a time.")]),
        ({"group_by": "team"}, [("group_by", "String should match pattern '^(group|type|environment)$'")]),
        ({"start": "0202-01-01"}, [("start", "Input should be greater than or equal to 1900-01-01")]),
    ],
)
def test_the_schedule_refuses_bad_filters_with_422_naming_the_field(api, params, expected):
    response = api.get("/environments/schedule", params)
    assert response.status_code == 422
    assert errors(response) == expected


def test_the_fixed_paths_are_not_taken_for_an_environment_id(api):
    for path in ("/environments/schedule", "/environments/utilisation", "/environments/demand"):
        assert api.get(path).status_code == 200, path
    operation_ids = {
        spec["operationId"]
        for path, methods in ninja_api.get_openapi_schema(path_prefix="")["paths"].items()
        for spec in methods.values()
        if path in ("/environments/schedule", "/environments/utilisation", "/environments/demand")
    }
    assert operation_ids == {"get_environment_schedule", "get_environment_utilisation", "get_environment_demand"}


def test_reading_the_schedule_needs_a_signed_in_caller(api_as):
    response = api_as(None).get("/environments/schedule")
    assert response.status_code == 401


def test_the_schedule_reads_the_same_queries_for_more_bookings(api, django_assert_max_num_queries):
    for _ in range(8):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory())
        for day in range(0, 60, 5):
            EnvironmentBookingFactory(environment=environment, starts_at=at(day), ends_at=at(day + 3))
    # the token and its user, the caller's permissions, environments, bookings (nothing reaches beyond the window),
    # the freeze windows
    with django_assert_max_num_queries(8):
        response = api.get("/environments/schedule", {"start": "2026-03-02", "end": "2026-05-31"})
    assert len(response.json()["bookings"]) == 8 * 12


def test_utilisation_answers_per_environment_and_week(api):
    environment = EnvironmentFactory(name="SIT 1")
    EnvironmentBookingFactory(environment=environment, status=BookingStatus.APPROVED, starts_at=at(0), ends_at=at(2))

    response = api.get("/environments/utilisation", {"start": "2026-03-02", "end": "2026-03-08"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["weeks"] == [{"start": "2026-03-02", "label": "2026-W10"}]
    (row,) = body["environments"]
    assert (row["name"], row["weeks"], row["cost_per_day"], row["idle_cost"]) == (
        "SIT 1",
        [{"booked": 2.0, "available": 7.0, "utilisation": 28.6}],
        250.0,
        1250.0,
    )
    assert body["totals"]["idle_environments"] == 0


def test_utilisation_defaults_to_the_thirteen_weeks_ending_this_one(api):
    body = api.get("/environments/utilisation").json()
    assert (body["start"], body["end"], len(body["weeks"])) == ("2025-12-08", "2026-03-08", 13)


def test_utilisation_refuses_a_window_over_a_year(api):
    response = api.get("/environments/utilisation", {"start": "2025-01-01", "end": "2026-03-01"})
    assert (response.status_code, errors(response)) == (422, [("end", "Show at most a year at a time.")])


def test_demand_answers_per_type_and_week_from_this_week(api):
    release = ReleaseFactory(status=ReleaseStatus.PLANNED)
    PhaseFactory(
        release=release,
        environment_type=EnvironmentType.UAT,
        planned_start=datetime.date(2026, 3, 9),
        planned_end=datetime.date(2026, 3, 20),
    )

    response = api.get("/environments/demand", {"weeks": 3})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["start"], body["end"], body["shortage_weeks"]) == ("2026-03-02", "2026-03-22", 2)
    assert [(kind["type"], kind["demand"], kind["supply"], kind["shortage"]) for kind in body["types"]] == [
        ("uat", [0, 1, 1], 0, [False, True, True])
    ]


@pytest.mark.parametrize("weeks", ["0", "53", "many"])
def test_demand_refuses_weeks_out_of_range(api, weeks):
    response = api.get("/environments/demand", {"weeks": weeks})
    assert response.status_code == 422
    assert [field for field, _ in errors(response)] == ["weeks"]
