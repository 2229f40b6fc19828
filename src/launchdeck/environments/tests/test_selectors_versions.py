"""Reading deployments and versions: the history lists and the version matrix with its drift."""

import pytest

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.environments.choices import DeploymentOutcome, EnvironmentCategory, EnvironmentStatus
from launchdeck.environments.selectors import deployment_history, deployment_list, version_matrix
from launchdeck.environments.tests.factories import (
    DeploymentFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.models import ReleaseSystem
from launchdeck.releases.tests.factories import ReleaseFactory


@pytest.fixture
def estate(db):
    """Ledger and Payments in SIT, UAT and two production environments; SIT runs ahead, UAT lags."""
    systems = {name: SystemFactory(name=name) for name in ("Ledger", "Payments", "Unused")}
    lane = EnvironmentGroupFactory(name="Payments lane")
    environments = {
        "PROD A": EnvironmentFactory(
            name="PROD A", environment_type=EnvironmentType.PRODUCTION, category=EnvironmentCategory.PRODUCTION
        ),
        "PROD B": EnvironmentFactory(
            name="PROD B", environment_type=EnvironmentType.PRODUCTION, category=EnvironmentCategory.PRODUCTION
        ),
        "UAT 1": EnvironmentFactory(name="UAT 1", environment_type=EnvironmentType.UAT, group=lane),
        "SIT 1": EnvironmentFactory(name="SIT 1", environment_type=EnvironmentType.SIT, group=lane),
        "Old SIT": EnvironmentFactory(name="Old SIT", status=EnvironmentStatus.DECOMMISSIONED),
    }
    versions = [
        ("PROD A", "Ledger", "2.0", 10),
        ("PROD B", "Ledger", "1.9", 5),
        ("UAT 1", "Ledger", "2.0", 8),
        ("SIT 1", "Ledger", "2.1", 12),
        ("PROD A", "Payments", "7.0", 3),
        ("SIT 1", "Payments", "7.0", 3),
        ("Old SIT", "Ledger", "0.1", 1),
    ]
    for environment, system, version, day in versions:
        EnvironmentComponentFactory(
            environment=environments[environment], system=systems[system], version=version, deployed_at=at(day)
        )
    return {"systems": systems, "environments": environments, "lane": lane}


def cell_versions(matrix) -> dict:
    names = [column["name"] for column in matrix["environments"]]
    return {
        row["system"]: {names[index]: cell and cell["version"] for index, cell in enumerate(row["cells"])}
        for row in matrix["rows"]
    }


def drifting(matrix, kind) -> set:
    names = [column["name"] for column in matrix["environments"]]
    return {
        (row["system"], names[index])
        for row in matrix["rows"]
        for index, cell in enumerate(row["cells"])
        if cell and cell[f"drift_from_{kind}"]
    }


def test_the_matrix_shows_each_environments_version_in_the_path_to_production(estate, viewer):
    matrix = version_matrix(user=viewer)
    assert [column["name"] for column in matrix["environments"]] == ["SIT 1", "UAT 1", "PROD A", "PROD B"]
    assert cell_versions(matrix) == {
        "Ledger": {"SIT 1": "2.1", "UAT 1": "2.0", "PROD A": "2.0", "PROD B": "1.9"},
        "Payments": {"SIT 1": "7.0", "UAT 1": None, "PROD A": "7.0", "PROD B": None},
    }
    assert matrix["environments"][0]["group"] == "Payments lane"


def test_drift_from_production_compares_with_the_newest_production_version(estate, viewer):
    matrix = version_matrix(user=viewer)
    # Production runs 2.0 (PROD A, the newest there); PROD B lags behind it and SIT runs ahead.
    assert [row["production_version"] for row in matrix["rows"]] == ["2.0", "7.0"]
    assert drifting(matrix, "production") == {("Ledger", "SIT 1"), ("Ledger", "PROD B")}
    assert matrix["drift_from_production"] == 2
    assert drifting(matrix, "target") == set()


def test_drift_from_target_follows_the_releases_scope(estate, viewer):
    release = ReleaseFactory(name="2026.04")
    ReleaseSystem.objects.create(release=release, system=estate["systems"]["Ledger"], target_version="2.1")
    ReleaseSystem.objects.create(release=release, system=estate["systems"]["Unused"], target_version="")
    matrix = version_matrix(user=viewer, release=release)
    assert [row["system"] for row in matrix["rows"]] == ["Ledger", "Unused"]
    assert [row["target_version"] for row in matrix["rows"]] == ["2.1", None]
    assert drifting(matrix, "target") == {("Ledger", "UAT 1"), ("Ledger", "PROD A"), ("Ledger", "PROD B")}
    assert matrix["drift_from_target"] == 3


def test_the_matrix_filters_by_type_group_systems_and_drift(estate, viewer):
    by_type = version_matrix(user=viewer, environment_type=EnvironmentType.UAT)
    assert cell_versions(by_type) == {"Ledger": {"UAT 1": "2.0"}}
    # Drift is still measured against production, though production is not shown.
    assert by_type["rows"][0]["production_version"] == "2.0"
    by_group = version_matrix(user=viewer, group=estate["lane"].pk)
    assert [column["name"] for column in by_group["environments"]] == ["SIT 1", "UAT 1"]
    only = version_matrix(user=viewer, systems=[estate["systems"]["Payments"].pk])
    assert list(cell_versions(only)) == ["Payments"]
    drift = version_matrix(user=viewer, drift_only=True)
    assert [row["system"] for row in drift["rows"]] == ["Ledger"]


def test_the_matrix_pages_its_rows(estate, viewer):
    page = version_matrix(user=viewer, limit=1, offset=1)
    assert [row["system"] for row in page["rows"]] == ["Payments"]
    assert page["system_count"] == 2


def test_the_matrix_reads_in_a_bounded_number_of_queries(estate, viewer, django_assert_max_num_queries):
    for index in range(30):
        system = SystemFactory(name=f"System {index}")
        for environment in estate["environments"].values():
            EnvironmentComponentFactory(environment=environment, system=system, version=f"1.{index}")
    release = ReleaseFactory()
    with django_assert_max_num_queries(5):
        version_matrix(user=viewer, release=release)
    with django_assert_max_num_queries(4):
        matrix = version_matrix(user=viewer)
    assert matrix["system_count"] == 32


def test_deployment_list_filters_by_environment_system_outcome_and_time(estate, viewer):
    ledger, sit = estate["systems"]["Ledger"], estate["environments"]["SIT 1"]
    first = DeploymentFactory(system=ledger, environment=sit, version="2.0", deployed_at=at(1))
    failed = DeploymentFactory(
        system=ledger, environment=sit, version="2.1", deployed_at=at(2), outcome=DeploymentOutcome.FAILED
    )
    other = DeploymentFactory(environment=estate["environments"]["UAT 1"], deployed_at=at(3), change_reference="CHG1")
    assert list(deployment_list(user=viewer)) == [other, failed, first]
    assert list(deployment_list(user=viewer, environment=sit.pk)) == [failed, first]
    assert list(deployment_list(user=viewer, system=ledger.pk, outcome=DeploymentOutcome.SUCCEEDED)) == [first]
    assert list(deployment_list(user=viewer, since=at(2), until=at(3))) == [failed]
    assert list(deployment_list(user=viewer, search="chg1")) == [other]


def test_deployment_history_gives_the_latest_and_the_counts(estate, viewer, django_assert_max_num_queries):
    sit = estate["environments"]["SIT 1"]
    for day in range(12):
        DeploymentFactory(
            environment=sit,
            deployed_at=at(day),
            outcome=DeploymentOutcome.FAILED if day % 4 == 0 else DeploymentOutcome.SUCCEEDED,
        )
    with django_assert_max_num_queries(3):  # the viewer's roles, the page, the counts
        history = deployment_history(user=viewer, environment=sit.pk, limit=5)
        assert [deployment.deployed_at for deployment in history["deployments"]] == [
            at(day) for day in (11, 10, 9, 8, 7)
        ]
        assert [deployment.system.name for deployment in history["deployments"]]
    assert history["total"] == 12
    assert history["by_outcome"] == [("Succeeded", 9), ("Failed", 3), ("Rolled back", 0)]


def test_a_user_without_a_role_sees_no_deployments(estate, make_user):
    nobody = make_user()
    DeploymentFactory(environment=estate["environments"]["SIT 1"], deployed_at=at(1))
    assert not deployment_list(user=nobody).exists()
    assert version_matrix(user=nobody)["rows"] == []
