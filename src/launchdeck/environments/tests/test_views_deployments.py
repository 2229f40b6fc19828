"""The deployment pages: history list, record form, version matrix and the environment's fragment."""

import pytest
from django.urls import reverse

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.environments.choices import EnvironmentCategory, EnvironmentStatus
from launchdeck.environments.models import Deployment, EnvironmentComponent
from launchdeck.environments.tests.factories import (
    DeploymentFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.models import ReleaseSystem
from launchdeck.releases.tests.factories import ReleaseFactory


def signed_in(client, user):
    client.force_login(user)
    return client


# History


def test_the_history_lists_deployments_newest_first_and_filters(
    client, viewer, ledger, sit, django_assert_max_num_queries
):
    uat = EnvironmentFactory(name="UAT 1")
    DeploymentFactory(system=ledger, environment=sit, version="2.0.0", deployed_at=at(1))
    DeploymentFactory(system=ledger, environment=uat, version="1.9.9", deployed_at=at(2), outcome="rolled_back")
    for day in range(20):
        DeploymentFactory(environment=uat, deployed_at=at(3 + day))
    signed_in(client, viewer)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("environments:deployment_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "2.0.0" in html and "Rolled back" in html
    assert "Record a deployment" not in html
    filtered = client.get(
        reverse("environments:deployment_list"), {"environment": sit.pk}, headers={"HX-Request": "true"}
    )
    assert "2.0.0" in filtered.content.decode() and "1.9.9" not in filtered.content.decode()
    assert 'id="deployment-table"' in filtered.content.decode() and "<html" not in filtered.content.decode()


def test_bad_filters_do_not_break_the_history(client, viewer):
    signed_in(client, viewer)
    response = client.get(reverse("environments:deployment_list"), {"since": "0202-01-01", "environment": "abc"})
    assert response.status_code == 200


# Record form


def test_a_service_manager_records_a_deployment_from_the_form(client, service_manager, ledger, sit):
    signed_in(client, service_manager)
    form = client.get(reverse("environments:deployment_create"), {"environment": sit.pk})
    assert form.status_code == 200
    assert f'<option value="{sit.pk}" selected>' in form.content.decode()
    response = client.post(
        reverse("environments:deployment_create"),
        {
            "system": ledger.pk,
            "environment": sit.pk,
            "version": "2.0.0",
            "deployed_at": "2026-03-02T09:00",
            "outcome": "succeeded",
            "source": "manual",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("environments:deployment_list") + f"?environment={sit.pk}"
    deployment = Deployment.objects.get()
    assert (deployment.version, deployment.deployed_at, deployment.recorded_by) == ("2.0.0", at(0), service_manager)
    assert EnvironmentComponent.objects.get().version == "2.0.0"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"version": "x" * 10_000}, "Ensure this value has at most 100 characters (it has 10000)."),
        ({"version": "1.0\t2"}, "A version is one line of printable characters: no tabs, line breaks or codes."),
        ({"deployed_at": "2999-01-01T00:00"}, "A deployment cannot be recorded more than 5 minutes ahead of now."),
        ({"system": 999_999}, "Select a valid choice."),
    ],
)
def test_bad_input_re_renders_the_form_with_the_message(
    client, service_manager, ledger, sit, unchanged, values, message
):
    signed_in(client, service_manager)
    data = {"system": ledger.pk, "environment": sit.pk, "version": "2.0", "outcome": "succeeded", "source": "ci"}
    with unchanged():
        response = client.post(reverse("environments:deployment_create"), {**data, **values})
    assert response.status_code == 422
    assert message in response.content.decode()


def test_a_decommissioned_environment_is_not_offered(client, service_manager, ledger, unchanged):
    retired = EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    signed_in(client, service_manager)
    assert "Old UAT" not in client.get(reverse("environments:deployment_create")).content.decode()
    with unchanged():
        response = client.post(
            reverse("environments:deployment_create"),
            {"system": ledger.pk, "environment": retired.pk, "version": "2", "outcome": "succeeded", "source": "ci"},
        )
    assert response.status_code == 422


def test_who_may_not_record_is_refused_the_form(client, viewer, project_manager):
    for user in (viewer, project_manager):
        signed_in(client, user)
        assert client.get(reverse("environments:deployment_create")).status_code == 403


# Version matrix


def test_the_version_matrix_highlights_drift(client, viewer, ledger, sit):
    production = EnvironmentFactory(
        name="PROD", environment_type=EnvironmentType.PRODUCTION, category=EnvironmentCategory.PRODUCTION
    )
    EnvironmentComponentFactory(environment=production, system=ledger, version="2.0")
    EnvironmentComponentFactory(environment=sit, system=ledger, version="2.1")
    release = ReleaseFactory(name="2026.04")
    ReleaseSystem.objects.create(release=release, system=ledger, target_version="2.1")
    signed_in(client, viewer)
    page = client.get(reverse("environments:version_matrix"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-drift="production"' in html and "target" not in html.split('data-testid="version-matrix"')[1]
    with_release = client.get(reverse("environments:version_matrix"), {"release": release.pk}).content.decode()
    assert 'data-drift="production"' in with_release and 'data-drift="target"' in with_release
    assert "1 from the targets of 2026.04" in with_release
    only_production = client.get(reverse("environments:version_matrix"), {"type": "production"}).content.decode()
    assert "SIT 1" not in only_production.split('data-testid="version-matrix"')[1]


def test_the_version_matrix_pages_its_systems(client, viewer, sit, django_assert_max_num_queries):
    for index in range(60):
        EnvironmentComponentFactory(environment=sit, system=SystemFactory(name=f"System {index:02}"))
    signed_in(client, viewer)
    with django_assert_max_num_queries(12):
        first = client.get(reverse("environments:version_matrix")).content.decode()
    assert "System 49" in first and "System 50" not in first and "Page 1 of 2" in first
    second = client.get(reverse("environments:version_matrix"), {"page": "2"}).content.decode()
    assert "System 50" in second


# The environment's fragment


def test_the_environment_fragment_shows_its_latest_deployments(client, service_manager, viewer, ledger, sit):
    DeploymentFactory(system=ledger, environment=sit, version="2.0.0", deployed_at=at(1))
    DeploymentFactory(system=ledger, environment=sit, version="2.0.1", deployed_at=at(2), outcome="failed")
    url = reverse("environments:environment_deployments_panel", args=[sit.pk])
    signed_in(client, service_manager)
    html = client.get(url).content.decode()
    assert "2.0.1" in html and "2 in all: 1 succeeded, 1 failed, 0 rolled back." in html
    assert f"?environment={sit.pk}" in html and "Record a deployment" in html
    signed_in(client, viewer)
    assert "Record a deployment" not in client.get(url).content.decode()
    assert client.get(reverse("environments:environment_deployments_panel", args=[999_999])).status_code == 404


def test_the_environment_fragment_says_when_nothing_was_deployed(client, viewer, sit):
    signed_in(client, viewer)
    html = client.get(reverse("environments:environment_deployments_panel", args=[sit.pk])).content.decode()
    assert "Nothing has been deployed into SIT 1 yet." in html
