"""Recording deployments, one or in bulk: the environment's current versions, the refusals, the audit trail."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from launchdeck.environments import services
from launchdeck.environments.choices import DeploymentOutcome, DeploymentSource, EnvironmentStatus
from launchdeck.environments.models import Deployment, EnvironmentComponent
from launchdeck.environments.tests.factories import (
    DeploymentFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    at,
)
from launchdeck.releases.tests.factories import ReleaseFactory


def record(actor, system, environment, version="2.0.0", **values):
    return services.deployment_record(actor=actor, system=system, environment=environment, version=version, **values)


def component_version(environment, system):
    return (
        EnvironmentComponent.objects.filter(environment=environment, system=system)
        .values_list("version", flat=True)
        .first()
    )


# One deployment


def test_a_succeeded_deployment_becomes_the_environments_version_and_is_audited(service_manager, ledger, sit, events):
    with events("deployment.recorded") as recorded:
        deployment = record(service_manager, ledger, sit, " 2.0.0 ", deployed_at=at(1), external_id="run-7")
    assert (deployment.version, deployment.deployed_at, deployment.recorded_by) == ("2.0.0", at(1), service_manager)
    component = EnvironmentComponent.objects.get(environment=sit, system=ledger)
    assert (component.version, component.deployed_at) == ("2.0.0", at(1))
    event = recorded.events[0]
    assert event.object_id == str(deployment.pk)
    assert event.new_data["version"] == "2.0.0"
    assert event.new_data["sets_current_version"] is True


def test_a_newer_succeeded_deployment_replaces_the_version_and_an_older_one_does_not(service_manager, ledger, sit):
    EnvironmentComponentFactory(environment=sit, system=ledger, version="1.0.0", deployed_at=at(0))
    record(service_manager, ledger, sit, "1.1.0", deployed_at=at(2))
    assert component_version(sit, ledger) == "1.1.0"
    record(service_manager, ledger, sit, "1.0.5", deployed_at=at(1))
    assert component_version(sit, ledger) == "1.1.0"
    assert Deployment.objects.filter(environment=sit).count() == 2


@pytest.mark.parametrize("outcome", [DeploymentOutcome.FAILED, DeploymentOutcome.ROLLED_BACK])
def test_a_failed_or_rolled_back_deployment_leaves_the_version(service_manager, ledger, sit, outcome):
    EnvironmentComponentFactory(environment=sit, system=ledger, version="1.0.0", deployed_at=at(0))
    deployment = record(service_manager, ledger, sit, "2.0.0", deployed_at=at(1), outcome=outcome)
    assert deployment.outcome == outcome
    assert component_version(sit, ledger) == "1.0.0"


def test_a_failed_first_deployment_adds_no_component(service_manager, ledger, sit):
    record(service_manager, ledger, sit, deployed_at=at(1), outcome=DeploymentOutcome.FAILED)
    assert not EnvironmentComponent.objects.exists()


def test_the_time_defaults_to_now_and_may_run_a_few_minutes_ahead(service_manager, ledger, sit):
    before = timezone.now()
    assert before <= record(service_manager, ledger, sit).deployed_at <= timezone.now()
    ahead = timezone.now() + datetime.timedelta(minutes=4)
    assert record(service_manager, ledger, sit, "2.0.1", deployed_at=ahead).deployed_at == ahead


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("", "Give the version that was deployed."),
        ("   ", "Give the version that was deployed."),
        ("1" * 101, "A version is at most 100 characters; this one has 101."),
        ("x" * 10_000, "A version is at most 100 characters; this one has 10,000."),
        ("1.0\n2.0", "A version is one line of printable characters: no tabs, line breaks or codes."),
        ("1.0\t2", "A version is one line of printable characters: no tabs, line breaks or codes."),
        ("1.0\x1b[31m", "A version is one line of printable characters: no tabs, line breaks or codes."),
        ("1.0\x00", "A version is one line of printable characters: no tabs, line breaks or codes."),
    ],
)
def test_a_bad_version_is_refused_and_nothing_changes(service_manager, ledger, sit, unchanged, version, message):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        record(service_manager, ledger, sit, version, deployed_at=at(1))
    assert refused.value.detail == message
    assert refused.value.errors == [{"field": "version", "message": message}]


@pytest.mark.parametrize(
    ("deployed_at", "message"),
    [
        ("future", "A deployment cannot be recorded more than 5 minutes ahead of now."),
        (datetime.datetime(1800, 1, 1, tzinfo=datetime.UTC), "Enter a date between the years 1900 and 2999."),
        (datetime.datetime(2026, 3, 2, 9, 0), "Give the time of the deployment with its time zone."),
    ],
)
def test_an_implausible_time_is_refused(service_manager, ledger, sit, unchanged, deployed_at, message):
    if deployed_at == "future":
        deployed_at = timezone.now() + datetime.timedelta(minutes=6)
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        record(service_manager, ledger, sit, deployed_at=deployed_at)
    assert refused.value.errors == [{"field": "deployed_at", "message": message}]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"outcome": "exploded"}, "outcome"),
        ({"source": "carrier pigeon"}, "source"),
        ({"change_reference": "C" * 51}, "change_reference"),
        ({"external_id": "r" * 101}, "external_id"),
    ],
)
def test_values_outside_the_vocabulary_or_too_long_are_refused(service_manager, ledger, sit, unchanged, values, field):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        record(service_manager, ledger, sit, deployed_at=at(1), **values)
    assert [error["field"] for error in refused.value.errors] == [field]


def test_a_decommissioned_environment_takes_no_deployments(service_manager, ledger, unchanged):
    retired = EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        record(service_manager, ledger, retired, deployed_at=at(1))
    assert refused.value.detail == "Old UAT is decommissioned: it takes no deployments."
    assert refused.value.errors[0]["field"] == "environment"


def test_the_same_external_id_from_the_same_source_is_a_duplicate(service_manager, ledger, sit, unchanged):
    record(service_manager, ledger, sit, deployed_at=at(1), source=DeploymentSource.CI, external_id="run-7")
    with unchanged(), pytest.raises(Conflict) as refused:
        record(
            service_manager, ledger, sit, "2.0.1", deployed_at=at(2), source=DeploymentSource.CI, external_id="run-7"
        )
    assert refused.value.detail == "A deployment from source ci with external id 'run-7' is already recorded."
    assert refused.value.errors[0]["field"] == "external_id"
    # Another source may use the same id, and deployments without an id never clash.
    record(service_manager, ledger, sit, deployed_at=at(2), source=DeploymentSource.RUNBOOK, external_id="run-7")
    record(service_manager, ledger, sit, deployed_at=at(3))
    record(service_manager, ledger, sit, deployed_at=at(4))
    assert Deployment.objects.count() == 4


def test_a_deployment_keeps_its_release_and_change_reference(service_manager, ledger, sit):
    release = ReleaseFactory(name="2026.03")
    deployment = record(
        service_manager, ledger, sit, deployed_at=at(1), release=release, change_reference="CHG0042", notes="Smooth."
    )
    deployment.refresh_from_db()
    assert (deployment.release, deployment.change_reference, deployment.notes) == (release, "CHG0042", "Smooth.")


@pytest.mark.parametrize("role", ["viewer", "project_manager", "quality_manager"])
def test_only_service_and_environment_managers_record_deployments(request, role, ledger, sit, unchanged):
    actor = request.getfixturevalue(role)
    with unchanged(), pytest.raises(PermissionDenied):
        record(actor, ledger, sit, deployed_at=at(1))


def test_environment_managers_record_deployments(environment_manager, ledger, sit):
    assert record(environment_manager, ledger, sit, deployed_at=at(1)).recorded_by == environment_manager


def test_an_anonymous_caller_is_refused(ledger, sit, unchanged):
    from django.contrib.auth.models import AnonymousUser

    with unchanged(), pytest.raises(NotAuthenticated):
        record(AnonymousUser(), ledger, sit, deployed_at=at(1))


# In bulk


def row(system, environment, version="2.0.0", **values):
    return {"system": system, "environment": environment, "version": version, "deployed_at": at(1), **values}


def test_bulk_records_every_row_moves_the_components_and_writes_one_audit_event(service_manager, ledger, sit, events):
    payments = SystemFactory(name="Payments")
    uat = EnvironmentFactory(name="UAT 1")
    EnvironmentComponentFactory(environment=sit, system=ledger, version="1.0.0", deployed_at=at(0))
    rows = [
        row(ledger, sit, "1.1.0", deployed_at=at(1)),
        row(ledger, sit, "1.2.0", deployed_at=at(3)),
        row(ledger, sit, "1.3.0", deployed_at=at(4), outcome=DeploymentOutcome.FAILED),
        row("payments", "uat 1", "7.0", deployed_at=at(2), external_id="run-1", source="ci"),
        row(payments.pk, uat.pk, "6.9", deployed_at=at(1)),
    ]
    with events("deployment.recorded_in_bulk") as recorded:
        deployments = services.deployment_record_many(actor=service_manager, rows=rows)
    assert len(deployments) == 5 and all(deployment.pk for deployment in deployments)
    assert Deployment.objects.count() == 5
    assert component_version(sit, ledger) == "1.2.0"
    assert component_version(uat, payments) == "7.0"
    event = recorded.events[0]
    assert event.new_data["count"] == 5
    assert event.new_data["environments"] == {"SIT 1": 3, "UAT 1": 2}
    assert event.new_data["components_updated"] == 2


def test_bulk_into_one_environment_is_audited_on_that_environment(service_manager, ledger, sit, events):
    with events("deployment.recorded_in_bulk") as recorded:
        services.deployment_record_many(actor=service_manager, rows=[row(ledger, sit), row(ledger, sit, "2.0.1")])
    assert (recorded.events[0].object_type, recorded.events[0].object_id) == ("environments.environment", str(sit.pk))


def test_bulk_refuses_every_bad_row_by_index_and_records_nothing(service_manager, ledger, sit, unchanged):
    retired = EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    rows = [
        row(ledger, sit),
        row("Ledgr", sit),
        row(ledger, "Nowhere"),
        row(ledger, sit, "x" * 10_000),
        row(ledger, retired),
        row(ledger, sit, release="No such release"),
        row(ledger, sit, external_id="run-1", source="ci"),
        row(ledger, sit, external_id="run-1", source="ci"),
        row(ledger, 999_999),
    ]
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.deployment_record_many(actor=service_manager, rows=rows)
    assert refused.value.detail == "7 of 9 rows were refused; nothing was recorded."
    assert refused.value.errors == [
        {"field": "rows.1.system", "message": "Row 1: No system named 'Ledgr'."},
        {"field": "rows.2.environment", "message": "Row 2: No environment named 'Nowhere'."},
        {"field": "rows.3.version", "message": "Row 3: A version is at most 100 characters; this one has 10,000."},
        {"field": "rows.4.environment", "message": "Row 4: Old UAT is decommissioned: it takes no deployments."},
        {"field": "rows.5.release", "message": "Row 5: No release named 'No such release'."},
        {"field": "rows.8.environment", "message": "Row 8: No environment with id 999999."},
        {"field": "rows.7.external_id", "message": "Row 7: the same source and external id as row 6."},
    ]


def test_bulk_refuses_rows_already_recorded(service_manager, ledger, sit, unchanged):
    DeploymentFactory(system=ledger, environment=sit, source="ci", external_id="run-2")
    rows = [row(ledger, sit, external_id="run-1", source="ci"), row(ledger, sit, external_id="run-2", source="ci")]
    with unchanged(), pytest.raises(Conflict) as refused:
        services.deployment_record_many(actor=service_manager, rows=rows)
    assert refused.value.detail == "1 of 2 rows are already recorded; nothing was recorded."
    assert refused.value.errors == [
        {
            "field": "rows.1.external_id",
            "message": "Row 1: A deployment from source ci with external id 'run-2' is already recorded.",
        }
    ]


def test_bulk_takes_one_to_five_thousand_rows(service_manager, ledger, sit, unchanged):
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.deployment_record_many(actor=service_manager, rows=[])
    assert refused.value.detail == "Send at least one deployment."
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.deployment_record_many(actor=service_manager, rows=[row(ledger, sit)] * 5_001)
    assert refused.value.detail == "Send at most 5,000 deployments at once; this has 5,001."


def test_bulk_of_five_thousand_rows_is_recorded_in_batches(service_manager, ledger, sit):
    rows = [row(ledger, sit, f"1.0.{index}", deployed_at=at(0, index / 60)) for index in range(5_000)]
    with CaptureQueriesContext(connection) as queries:
        services.deployment_record_many(actor=service_manager, rows=rows)
    # The inserts come in batches (as many as the database takes at once); everything else is a handful of queries.
    others = [query for query in queries.captured_queries if not query["sql"].startswith("INSERT")]
    assert len(others) <= 15
    assert Deployment.objects.count() == 5_000
    assert component_version(sit, ledger) == "1.0.4999"


def test_bulk_is_refused_to_who_may_not_record(viewer, ledger, sit, unchanged):
    with unchanged(), pytest.raises(PermissionDenied):
        services.deployment_record_many(actor=viewer, rows=[row(ledger, sit)])
