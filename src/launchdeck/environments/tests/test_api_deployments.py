"""The deployments and version-matrix API: wiring, names or ids, error mapping, permissions and query counts."""

import pytest

from launchdeck.audit.models import AuditEvent
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


@pytest.fixture
def api(api_as, service_manager):
    return api_as(service_manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


WHEN = at(1).isoformat()


def test_record_a_deployment_by_names_and_read_it_back(api, ledger, sit):
    release = ReleaseFactory(name="2026.03")
    response = api.post(
        "/deployments",
        {
            "system": "ledger",
            "environment": "SIT 1",
            "version": "2.0.0",
            "deployed_at": "2026-03-03T10:00:00+01:00",
            "source": "ci",
            "release": "2026.03",
            "change_reference": "CHG0042",
            "external_id": "run-7",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "id": body["id"],
        "system_id": ledger.pk,
        "system": "Ledger",
        "environment_id": sit.pk,
        "environment": "SIT 1",
        "version": "2.0.0",
        "deployed_at": "2026-03-03T09:00:00Z",
        "outcome": "succeeded",
        "source": "ci",
        "release_id": release.pk,
        "release": "2026.03",
        "change_reference": "CHG0042",
        "external_id": "run-7",
        "notes": "",
        "recorded_by": "service_manager",
        "recorded_at": body["recorded_at"],
    }
    assert api.get(f"/deployments/{body['id']}").json()["version"] == "2.0.0"
    assert EnvironmentComponent.objects.get(environment=sit, system=ledger).version == "2.0.0"
    assert AuditEvent.objects.get(event_type="deployment.recorded").source == "api"


def test_record_a_deployment_by_ids(api, ledger, sit):
    response = api.post(
        "/deployments", {"system_id": ledger.pk, "environment_id": sit.pk, "version": "2.0", "outcome": "failed"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "failed"
    assert not EnvironmentComponent.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"system": "Ledgr"}, "system", "No system named 'Ledgr'."),
        ({"environment": "Nowhere"}, "environment", "No environment named 'Nowhere'."),
        ({"system_id": 999_999, "system": None}, "system_id", "No system with id 999999."),
        ({"environment_id": 999_999, "environment": None}, "environment_id", "No environment with id 999999."),
        ({"system": None}, "system", "Give the system: its id (system_id) or its name (system)."),
        ({"system_id": 1}, "system", "Give the system by id or by name, not both."),
        ({"release": "Nope"}, "release", "No release named 'Nope'."),
        ({"version": "x" * 10_000}, "version", None),
        ({"version": ""}, "version", None),
        (
            {"version": "1.0\n2.0"},
            "version",
            "A version is one line of printable characters: no tabs, line breaks or codes.",
        ),
        ({"deployed_at": "2026-03-03T10:00:00"}, "deployed_at", None),
        ({"deployed_at": "2999-03-03T10:00:00Z"}, "deployed_at", None),
        ({"outcome": "exploded"}, "outcome", None),
        ({"colour": "blue"}, "colour", None),
    ],
)
def test_bad_input_is_422_naming_the_field_and_changes_nothing(api, ledger, sit, unchanged, body, field, message):
    with unchanged():
        response = api.post(
            "/deployments", {"system": "Ledger", "environment": "SIT 1", "version": "2.0", "deployed_at": WHEN, **body}
        )
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]
    if message:
        assert response.json()["errors"][0]["message"] == message


def test_a_decommissioned_environment_is_422(api, ledger, unchanged):
    EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    with unchanged():
        response = api.post("/deployments", {"system": "Ledger", "environment": "Old UAT", "version": "2.0"})
    assert response.status_code == 422
    assert response.json()["detail"] == "Old UAT is decommissioned: it takes no deployments."


def test_a_repeated_external_id_is_409(api, ledger, sit, unchanged):
    body = {"system": "Ledger", "environment": "SIT 1", "version": "2.0", "source": "ci", "external_id": "run-7"}
    assert api.post("/deployments", body).status_code == 201
    with unchanged():
        response = api.post("/deployments", body)
    assert response.status_code == 409
    assert response.json()["detail"] == "A deployment from source ci with external id 'run-7' is already recorded."


@pytest.mark.parametrize("role", ["viewer", "project_manager"])
def test_who_may_not_record_gets_403(request, api_as, role, ledger, sit, unchanged):
    client = api_as(request.getfixturevalue(role))
    with unchanged():
        response = client.post("/deployments", {"system": "Ledger", "environment": "SIT 1", "version": "2.0"})
        bulk = client.post(
            "/deployments/bulk", {"rows": [{"system": "Ledger", "environment": "SIT 1", "version": "2"}]}
        )
    assert (response.status_code, bulk.status_code) == (403, 403)


def test_bulk_records_all_rows_and_answers_their_ids(api, ledger, sit):
    uat = EnvironmentFactory(name="UAT 1")
    rows = [
        {"system": "Ledger", "environment": "SIT 1", "version": "2.0", "deployed_at": WHEN},
        {"system_id": ledger.pk, "environment_id": uat.pk, "version": "1.9", "deployed_at": WHEN, "source": "ci"},
    ]
    response = api.post("/deployments/bulk", {"rows": rows})
    assert response.status_code == 201, response.json()
    assert response.json()["count"] == 2
    assert sorted(response.json()["ids"]) == sorted(Deployment.objects.values_list("pk", flat=True))
    event = AuditEvent.objects.get(event_type="deployment.recorded_in_bulk")
    assert event.new_data["environments"] == {"SIT 1": 1, "UAT 1": 1}


def test_bulk_refuses_every_bad_row_by_index_and_records_nothing(api, ledger, sit, unchanged):
    rows = [
        {"system": "Ledger", "environment": "SIT 1", "version": "2.0"},
        {"system": "Ledgr", "environment": "SIT 1", "version": "2.0"},
        {"system": "Ledger", "system_id": ledger.pk, "environment": "SIT 1", "version": "2.0"},
        {"system": "Ledger", "environment": "SIT 1", "version": "2.0\t1"},
    ]
    with unchanged():
        response = api.post("/deployments/bulk", {"rows": rows})
    assert response.status_code == 422
    assert response.json()["detail"] == "3 of 4 rows were refused; nothing was recorded."
    assert fields(response) == ["rows.1.system", "rows.2.system", "rows.3.version"]
    with unchanged():
        too_long = api.post("/deployments/bulk", {"rows": [rows[0], {**rows[0], "version": "x" * 10_000}]})
    assert too_long.status_code == 422
    assert fields(too_long) == ["rows.1.version"]


def test_bulk_takes_at_most_five_thousand_rows(api, ledger, sit, unchanged):
    row = {"system": "Ledger", "environment": "SIT 1", "version": "2.0"}
    with unchanged():
        response = api.post("/deployments/bulk", {"rows": [row] * 5_001})
        empty = api.post("/deployments/bulk", {"rows": []})
    assert (response.status_code, empty.status_code) == (422, 422)
    assert fields(response) == ["rows"]


def test_list_deployments_filters_and_reads_in_a_bounded_number_of_queries(
    api, ledger, sit, django_assert_max_num_queries
):
    for day in range(30):
        DeploymentFactory(system=ledger if day % 2 else SystemFactory(), environment=sit, deployed_at=at(day))
    DeploymentFactory(deployed_at=at(40), outcome="failed", release=ReleaseFactory())
    with django_assert_max_num_queries(6):
        response = api.get("/deployments", {"limit": 50})
    assert response.json()["count"] == 31
    assert api.get("/deployments", {"system": ledger.pk}).json()["count"] == 15
    assert api.get("/deployments", {"environment": sit.pk, "since": at(20).isoformat()}).json()["count"] == 10
    assert api.get("/deployments", {"outcome": "failed"}).json()["items"][0]["release"]
    assert api.get("/deployments", {"since": "yesterday"}).status_code == 422
    assert api.get("/deployments/999999").status_code == 404


def test_the_version_matrix_flags_drift_from_production_and_the_release_target(api, ledger, sit):
    production = EnvironmentFactory(
        name="PROD", environment_type=EnvironmentType.PRODUCTION, category=EnvironmentCategory.PRODUCTION
    )
    EnvironmentComponentFactory(environment=production, system=ledger, version="2.0")
    EnvironmentComponentFactory(environment=sit, system=ledger, version="2.1")
    release = ReleaseFactory(name="2026.04")
    ReleaseSystem.objects.create(release=release, system=ledger, target_version="2.1")
    body = api.get("/version-matrix", {"release": release.pk}).json()
    assert [column["name"] for column in body["environments"]] == ["SIT 1", "PROD"]
    row = body["rows"][0]
    assert (row["system"], row["production_version"], row["target_version"]) == ("Ledger", "2.0", "2.1")
    assert [(cell["version"], cell["drift_from_production"], cell["drift_from_target"]) for cell in row["cells"]] == [
        ("2.1", True, False),
        ("2.0", False, True),
    ]
    assert (body["drift_from_production"], body["drift_from_target"], body["release_id"]) == (1, 1, release.pk)
    only_sit = api.get("/version-matrix", {"type": "sit"}).json()
    assert [column["name"] for column in only_sit["environments"]] == ["SIT 1"]
    assert api.get("/version-matrix", {"release": 999_999}).status_code == 422
    assert api.get("/version-matrix", {"system": [ledger.pk], "limit": 1}).json()["system_count"] == 1


def test_a_pipeline_records_a_deployment_by_names_in_five_queries(api, ledger, sit):
    """The hot path of a CI pipeline: the token (with user and roles), both names in one query, then the insert, the
    component's move and the audit event. (The token's last use is written at most once a minute: the first call.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    body = {"system": "Ledger", "environment": "sit 1", "version": "2.0.0", "source": "ci"}
    assert api.post("/deployments", {**body, "external_id": "run-1"}).status_code == 201
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/deployments", {**body, "version": "2.0.1", "external_id": "run-2"})
    assert response.status_code == 201, response.json()
    statements = [query["sql"] for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]]
    assert len(statements) == 5, statements
    assert "UNION ALL" in statements[1]
    assert EnvironmentComponent.objects.get(environment=sit, system=ledger).version == "2.0.1"


def test_names_in_one_query_find_each_model_or_none(ledger, sit, service_manager):
    from launchdeck.catalog.models import System
    from launchdeck.environments import selectors
    from launchdeck.environments.models import Environment
    from launchdeck.releases.models import Release

    release = ReleaseFactory(name="2026.04")
    found = selectors.named_rows(
        user=service_manager, names={System: " LEDGER ", Environment: "Sit 1", Release: "2026.04"}
    )
    assert (found[System].pk, found[Environment].pk, found[Release].pk) == (ledger.pk, sit.pk, release.pk)
    assert found[Environment].status == sit.status and found[Environment].name == "SIT 1"
    missing = selectors.named_rows(user=service_manager, names={System: "Nowhere", Environment: "SIT 1"})
    assert missing[System] is None and missing[Environment].pk == sit.pk
