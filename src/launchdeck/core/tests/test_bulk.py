"""`insert_all`: many rows in few statements, stored exactly as `bulk_create` stores them, keys set in order."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.core.bulk import insert_all
from launchdeck.environments.choices import DeploymentOutcome, DeploymentSource
from launchdeck.environments.models import Deployment
from launchdeck.environments.tests.factories import EnvironmentFactory

pytestmark = pytest.mark.django_db

FIELDS = ["system_id", "environment_id", "version", "deployed_at", "outcome", "source", "release_id", "notes"]


def deployments(count: int, prefix: str, system=None, environment=None) -> list[Deployment]:
    system, environment = system or SystemFactory(), environment or EnvironmentFactory()
    start = datetime.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    return [
        Deployment(
            system=system,
            environment=environment,
            version=f"1.{n}.0",
            deployed_at=start + datetime.timedelta(minutes=n),
            outcome=DeploymentOutcome.FAILED if n % 3 else DeploymentOutcome.SUCCEEDED,
            source=DeploymentSource.CI,
            external_id=f"{prefix}-{n}",
            notes="" if n % 2 else f"Run {n}: ünïcode, 'quotes' and %s",
        )
        for n in range(count)
    ]


def stored(objs) -> list[tuple]:
    rows = Deployment.objects.filter(pk__in=[obj.pk for obj in objs]).order_by("pk")
    return list(rows.values_list(*FIELDS, "recorded_at", "external_id"))


def test_rows_are_stored_as_bulk_create_stores_them_with_their_keys_in_order():
    count = (
        2
        * connection.ops.bulk_batch_size(
            [field for field in Deployment._meta.concrete_fields if not field.primary_key], []
        )
        + 7
    )  # three statements where the database limits the values of one
    mine = deployments(count, "mine")
    django = deployments(count, "django", mine[0].system, mine[0].environment)
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        insert_all(Deployment, mine)
    Deployment.objects.bulk_create(django)

    inserts = [query for query in queries if query["sql"].startswith("INSERT")]
    assert 1 <= len(inserts) <= 3
    assert [deployment.pk for deployment in mine] == sorted(deployment.pk for deployment in mine)
    assert all(not deployment._state.adding for deployment in mine)
    rows, expected = stored(mine), stored(django)
    assert [row[:-2] for row in rows] == [row[:-2] for row in expected]
    assert [row[-1] for row in rows] == [deployment.external_id for deployment in mine]
    assert rows[0][3] == datetime.datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    assert rows[1][4] == "failed" and rows[0][4] == "succeeded"
    assert rows[0][-3] == "Run 0: ünïcode, 'quotes' and %s"
    assert all(row[-2] >= before for row in rows)  # auto_now_add set on insert


def test_json_and_other_types_go_through_the_field_as_django_sends_them():
    event = AuditEvent(
        occurred_at=timezone.now(),
        source="api",
        event_type="thing.done",
        object_type="core.thing",
        object_id="1",
        new_data={"count": 3, "names": ["a", "b"], "nested": {"ok": True}},
    )
    insert_all(AuditEvent, [event])
    assert AuditEvent.objects.get(pk=event.pk).new_data == {"count": 3, "names": ["a", "b"], "nested": {"ok": True}}


def test_a_constraint_refuses_the_insert_and_nothing_is_stored():
    first, second = deployments(2, "twice")
    second.external_id = first.external_id  # the same pipeline run from the same source
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_all(Deployment, [first, second])
    assert not Deployment.objects.filter(external_id=first.external_id).exists()


def test_nothing_to_insert_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        insert_all(Deployment, [])
    assert len(queries) == 0
