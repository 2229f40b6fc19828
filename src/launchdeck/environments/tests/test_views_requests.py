"""The environment request pages: wiring, permissions, forms that re-render with messages, the team load chart."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from launchdeck.environments.choices import MaskingStatus, RequestKind, RequestStatus
from launchdeck.environments.models import EnvironmentRequest
from launchdeck.environments.tests.factories import (
    EnvironmentRequestFactory,
)
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.tests.factories import PhaseFactory

D = datetime.date
TODAY = D(2026, 3, 4)


@pytest.fixture(autouse=True)
def today(today_is):
    return today_is(TODAY)


@pytest.fixture
def team(db):
    return TeamFactory(name="Env team", capacity_person_days_per_week=Decimal("2"))


def text(response) -> str:
    return response.content.decode()


def test_the_list_shows_requests_and_filters_them(client, viewer, team):
    EnvironmentRequestFactory(title="Refresh SIT data", kind=RequestKind.DATA_REFRESH, masking=MaskingStatus.PENDING)
    EnvironmentRequestFactory(title="Old work", team=team, status=RequestStatus.DONE)
    EnvironmentRequestFactory(title="Late work", starts_on=D(2026, 2, 27), due_on=D(2026, 3, 3))
    client.force_login(viewer)
    page = text(client.get(reverse("environments:request_list")))
    assert "Refresh SIT data" in page and "masking pending" in page and "overdue" in page
    assert "New request" not in page  # a viewer may not request
    filtered = text(client.get(reverse("environments:request_list"), {"status": "open", "q": "refresh"}))
    assert "Refresh SIT data" in filtered and "Old work" not in filtered and "Late work" not in filtered
    fragment = client.get(reverse("environments:request_list"), {"team": team.pk}, headers={"HX-Request": "true"})
    assert "Old work" in text(fragment) and "<html" not in text(fragment)


def test_the_list_reads_in_a_bounded_number_of_queries(client, viewer, django_assert_max_num_queries):
    for _ in range(20):
        EnvironmentRequestFactory(phase=PhaseFactory())
    client.force_login(viewer)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("environments:request_list")).status_code == 200


def test_a_project_manager_requests_work_through_the_form(client, project_manager, team, sit):
    phase = PhaseFactory(name="UAT", planned_start=D(2026, 3, 16), planned_end=D(2026, 3, 27))
    client.force_login(project_manager)
    form = client.get(reverse("environments:request_create"), {"environment": sit.pk})
    assert form.status_code == 200 and f'<option value="{sit.pk}" selected>' in text(form)
    response = client.post(
        reverse("environments:request_create"),
        {
            "title": "Configure UAT",
            "kind": RequestKind.CONFIGURATION,
            "team": team.pk,
            "environment": sit.pk,
            "phase": phase.pk,
            "effort_hours": "6",
        },
    )
    request = EnvironmentRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == request.get_absolute_url()
    assert (request.due_on, request.starts_on, request.sla_days) == (D(2026, 3, 13), D(2026, 3, 11), 3)


def test_a_refused_request_re_renders_the_form_with_the_message(client, project_manager, team, unchanged):
    client.force_login(project_manager)
    with unchanged():
        response = client.post(
            reverse("environments:request_create"),
            {"title": "Provision perf", "kind": RequestKind.PROVISIONING, "team": team.pk, "effort_hours": "40"},
        )
    assert response.status_code == 422
    assert "Give a due date, or the phase that needs the environment." in text(response)


def test_a_viewer_cannot_open_the_form_or_move_a_request(client, viewer, unchanged):
    request = EnvironmentRequestFactory()
    client.force_login(viewer)
    assert client.get(reverse("environments:request_create")).status_code == 403
    with unchanged():
        assert client.post(reverse("environments:request_start", args=[request.pk])).status_code == 403


def test_the_detail_page_offers_the_moves_the_state_allows(client, environment_manager, viewer, sit):
    request = EnvironmentRequestFactory(kind=RequestKind.DATA_REFRESH, environment=sit, masking=MaskingStatus.PENDING)
    client.force_login(environment_manager)
    page = text(client.get(request.get_absolute_url()))
    assert "Start work" in page and "Masking done" in page and "Cancel the request" in page
    assert "record the masking of personal data before completing it" in page
    client.force_login(viewer)
    assert "Start work" not in text(client.get(request.get_absolute_url()))


def test_actions_move_the_request_and_refusals_are_shown(client, environment_manager, sit):
    request = EnvironmentRequestFactory(kind=RequestKind.DATA_REFRESH, environment=sit, masking=MaskingStatus.PENDING)
    client.force_login(environment_manager)
    started = client.post(reverse("environments:request_start", args=[request.pk]), follow=True)
    assert "Work on" in text(started)
    refused = client.post(reverse("environments:request_complete", args=[request.pk]), {"note": ""}, follow=True)
    assert "The refreshed data is not masked yet" in text(refused)
    client.post(reverse("environments:request_mask_done", args=[request.pk]))
    client.post(reverse("environments:request_complete", args=[request.pk]), {"note": "Done"})
    request.refresh_from_db()
    assert (request.status, request.masking) == (RequestStatus.DONE, MaskingStatus.DONE)


def test_editing_a_request_keeps_its_date_and_checks_the_version(client, environment_manager, sit):
    request = EnvironmentRequestFactory(environment=sit)
    client.force_login(environment_manager)
    url = reverse("environments:request_edit", args=[request.pk])
    assert client.get(url).status_code == 200
    data = {
        "version": 1,
        "title": "Renamed",
        "team": request.team_id,
        "environment": sit.pk,
        "effort_hours": "16",
        "sla_days": "2",
    }
    assert client.post(url, data).status_code == 302
    request.refresh_from_db()
    assert (request.title, request.due_on, request.starts_on) == ("Renamed", D(2026, 3, 12), D(2026, 3, 11))
    stale = client.post(url, data | {"title": "Again"})
    assert stale.status_code == 422 and "changed by someone else" in text(stale)


def test_the_team_load_page_draws_weeks_against_capacity(client, viewer, team):
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("24"), starts_on=D(2026, 3, 9), due_on=D(2026, 3, 11))
    client.force_login(viewer)
    assert "Choose a team" in text(client.get(reverse("environments:team_load")))
    response = client.get(reverse("environments:team_load"), {"team": team.pk, "weeks": 3})
    page = text(response)
    assert response.status_code == 200 and "over capacity in 1 week" in page
    chart = response.context["chart"]
    assert chart["categories"] == ["2026-W10", "2026-W11", "2026-W12"]
    assert chart["series"][1]["data"] == [0, 1.0, 0]  # the part over capacity
    bad = client.get(reverse("environments:team_load"), {"team": team.pk, "weeks": 500})
    assert bad.status_code == 422


def test_the_environment_fragment_lists_its_requests_open_first(client, project_manager, sit):
    EnvironmentRequestFactory(title="Finished", environment=sit, status=RequestStatus.DONE, due_on=D(2026, 3, 6))
    EnvironmentRequestFactory(title="Waiting", environment=sit, starts_on=D(2026, 4, 1), due_on=D(2026, 4, 3))
    client.force_login(project_manager)
    page = text(client.get(reverse("environments:environment_requests_panel", args=[sit.pk])))
    assert page.index("Waiting") < page.index("Finished")
    assert f"?environment={sit.pk}" in page  # request more work on it
    assert client.get(reverse("environments:environment_requests_panel", args=[987654])).status_code == 404


def test_the_release_page_shows_the_environments_section(client, viewer, sit):
    phase = PhaseFactory(name="SIT")
    EnvironmentRequestFactory(title="Configure SIT", environment=sit, release=phase.release, phase=phase)
    client.force_login(viewer)
    page = text(client.get(phase.release.get_absolute_url()))
    assert 'data-testid="release-section-environments"' in page and "Configure SIT" in page
