"""The environment requests API: wiring, permissions and the mapping of refusals to statuses."""

import datetime
from decimal import Decimal

import pytest

from launchdeck.environments.choices import MaskingStatus, RequestKind, RequestStatus
from launchdeck.environments.models import EnvironmentRequest
from launchdeck.environments.tests.factories import (
    EnvironmentRequestFactory,
)
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.tests.factories import PhaseFactory

D = datetime.date


@pytest.fixture
def team(db):
    return TeamFactory(name="Env team", capacity_person_days_per_week=Decimal("2"))


def body(team, sit, **fields) -> dict:
    return {
        "title": "Refresh SIT data",
        "kind": RequestKind.DATA_REFRESH,
        "team_id": team.pk,
        "environment_id": sit.pk,
        "effort_hours": "12.5",
        "due_on": "2026-03-20",
    } | fields


def test_a_project_manager_creates_a_request_due_before_its_phase(api_as, project_manager, team, sit):
    phase = PhaseFactory(name="SIT", planned_start=D(2026, 3, 16), planned_end=D(2026, 3, 27))
    response = api_as(project_manager).post(
        "/environment-requests", body(team, sit, phase_id=phase.pk, due_on=None, sla_days=2)
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["due_on"] == "2026-03-13" and data["starts_on"] == "2026-03-12"
    assert data["release_id"] == phase.release_id and data["phase"] == "SIT"
    assert data["masking"] == MaskingStatus.PENDING and data["environment"] == "SIT 1"
    assert data["effort_hours"] == 12.5 and data["requester"] == "project_manager"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"due_on": None}, "due_on", "Give a due date, or the phase that needs the environment."),
        ({"environment_id": None}, "environment", "A data refresh needs the environment it is for."),
        ({"team_id": 999999}, "team_id", "No team with id 999999."),
        ({"effort_hours": "0"}, "effort_hours", None),
        ({"due_on": "0202-01-01"}, "due_on", None),
        ({"title": "x" * 201}, "title", None),
        ({"colour": "red"}, "colour", None),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    api_as, environment_manager, team, sit, unchanged, fields, field, message
):
    client = api_as(environment_manager)
    with unchanged():
        response = client.post("/environment-requests", body(team, sit, **fields))
    assert response.status_code == 422, response.json()
    errors = response.json()["errors"]
    assert errors[0]["field"] == field
    if message:
        assert errors[0]["message"] == message


def test_a_viewer_reads_but_cannot_request(api_as, viewer, team, sit, unchanged):
    request = EnvironmentRequestFactory(team=team)
    client = api_as(viewer)
    listed = client.get("/environment-requests", {"team": team.pk})
    assert listed.status_code == 200 and [row["id"] for row in listed.json()["items"]] == [request.pk]
    assert client.get(f"/environment-requests/{request.pk}").json()["title"] == request.title
    with unchanged():
        assert client.post("/environment-requests", body(team, sit)).status_code == 403
        assert client.post(f"/environment-requests/{request.pk}/start").status_code == 403


def test_a_missing_request_is_a_404(api_as, viewer):
    assert api_as(viewer).get("/environment-requests/424242").status_code == 404


def test_the_list_reads_in_a_bounded_number_of_queries(api_as, viewer, django_assert_max_num_queries):
    for _ in range(12):
        EnvironmentRequestFactory(phase=PhaseFactory(), requester=viewer)
    client = api_as(viewer)
    with django_assert_max_num_queries(10):
        response = client.get("/environment-requests", {"open_only": True})
    assert response.json()["count"] == 12


def test_a_request_is_started_masked_and_completed(api_as, environment_manager, team, sit):
    client = api_as(environment_manager)
    created = client.post("/environment-requests", body(team, sit)).json()
    path = f"/environment-requests/{created['id']}"
    assert client.post(f"{path}/start").json()["status"] == RequestStatus.IN_PROGRESS
    refused = client.post(f"{path}/complete", {})
    assert refused.status_code == 409
    assert (
        refused.json()["detail"]
        == "The refreshed data is not masked yet: record the masking before completing the refresh."
    )
    assert client.post(f"{path}/mask-done").json()["masking"] == MaskingStatus.DONE
    done = client.post(f"{path}/complete", {"note": "Refreshed from prod snapshot"})
    assert done.status_code == 200 and done.json()["status"] == RequestStatus.DONE
    assert client.post(f"{path}/cancel", {}).status_code == 409


def test_a_patch_moves_the_dates_and_a_stale_version_is_a_409(api_as, environment_manager, team, sit):
    request = EnvironmentRequestFactory(team=team, environment=sit)
    client = api_as(environment_manager)
    response = client.patch(
        f"/environment-requests/{request.pk}", {"version": 1, "due_on": "2026-04-03", "sla_days": 5}
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["starts_on"], response.json()["due_on"]) == ("2026-03-30", "2026-04-03")
    stale = client.patch(f"/environment-requests/{request.pk}", {"version": 1, "title": "Late"})
    assert stale.status_code == 409
    assert EnvironmentRequest.objects.get(pk=request.pk).title == request.title


def test_the_team_load_endpoint_shows_weeks_against_capacity(api_as, viewer, team):
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("24"), starts_on=D(2026, 3, 9), due_on=D(2026, 3, 11))
    response = api_as(viewer).get(f"/teams/{team.pk}/environment-load", {"start": "2026-03-09", "weeks": 2})
    assert response.status_code == 200
    data = response.json()
    assert data["capacity"] == 2.0 and data["over_weeks"] == 1
    assert [(week["week"], week["committed"], week["over"]) for week in data["weeks"]] == [
        ("2026-W11", 3.0, True),
        ("2026-W12", 0.0, False),
    ]
    assert api_as(viewer).get(f"/teams/{team.pk}/environment-load", {"weeks": 500}).status_code == 422
    assert api_as(viewer).get("/teams/987654/environment-load").status_code == 404
