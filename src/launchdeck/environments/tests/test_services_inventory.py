"""The inventory's services: environments, groups, status and its history, components and dependencies."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from launchdeck.catalog.tests.factories import ComponentFactory, SystemFactory
from launchdeck.core.errors import Conflict, NotAuthenticated, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.environments import services
from launchdeck.environments.choices import EnvironmentStatus
from launchdeck.environments.models import Environment, EnvironmentComponent, EnvironmentGroup, EnvironmentStatusChange
from launchdeck.environments.tests.factories import (
    DeploymentFactory,
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    EnvironmentRequestFactory,
    at,
)
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.choices import EnvironmentType

pytestmark = pytest.mark.django_db


def fields(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def team():
    return TeamFactory(name="Platform")


def create(actor, team, **changes) -> Environment:
    values = {"name": "SIT 1", "environment_type": EnvironmentType.SIT, "owner_team": team, **changes}
    return services.environment_create(actor=actor, **values)


# Groups


def test_group_create_update_delete_are_audited(environment_manager, events):
    with events("environmentgroup.created") as created:
        group = services.environment_group_create(actor=environment_manager, name=" Payments lane ")
    assert group.name == "Payments lane"
    assert created.events[0].new_data == {"name": "Payments lane", "description": ""}
    with events("environmentgroup.updated") as updated:
        services.environment_group_update(actor=environment_manager, group=group, version=1, description="SIT and UAT")
    assert updated.events[0].old_data == {"description": ""}
    assert group.version == 2
    environment = EnvironmentFactory(group=group)
    with events("environmentgroup.deleted"):
        services.environment_group_delete(actor=environment_manager, group=group)
    environment.refresh_from_db()
    assert environment.group is None  # the environments stay, in no group


def test_group_names_are_unique_whatever_the_case(environment_manager, unchanged):
    EnvironmentGroupFactory(name="Payments lane")
    with unchanged(), pytest.raises(Conflict, match=r"An environment group with this name already exists\."):
        services.environment_group_create(actor=environment_manager, name="PAYMENTS LANE")


def test_a_stale_group_edit_is_refused(environment_manager, unchanged):
    group = EnvironmentGroupFactory(version=3)
    with unchanged(), pytest.raises(StaleVersion):
        services.environment_group_update(actor=environment_manager, group=group, version=2, name="Renamed")


def test_a_group_needs_a_name(environment_manager, unchanged):
    group = EnvironmentGroupFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_group_update(actor=environment_manager, group=group, name=None)
    assert fields(caught) == ["name"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_group_create(actor=environment_manager, name="  ")
    assert fields(caught) == ["name"]


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_only_environment_managers_manage_groups(request, role, unchanged):
    actor = request.getfixturevalue(role)
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_group_create(actor=actor, name="Lane")


# Environments


def test_environment_create_records_the_environment_and_starts_its_status_history(environment_manager, team, events):
    group = EnvironmentGroupFactory()
    data_env = EnvironmentFactory(name="Shared data")
    since = timezone.now() - datetime.timedelta(hours=1)
    with events("environment.created") as recorded:
        environment = create(
            environment_manager,
            team,
            name=" SIT 1 ",
            group=group,
            capacity=3,
            cost_per_day=Decimal("120.50"),
            url="https://sit1.example.com",
            status=EnvironmentStatus.PROVISIONING,
            depends_on=[data_env],
            at=since,
        )
    environment.refresh_from_db()
    assert (environment.name, environment.capacity, environment.status, environment.status_since) == (
        "SIT 1",
        3,
        EnvironmentStatus.PROVISIONING,
        since,
    )
    assert list(environment.depends_on.all()) == [data_env]
    history = list(EnvironmentStatusChange.objects.filter(environment=environment).values_list("status", "started_at"))
    assert history == [(EnvironmentStatus.PROVISIONING, since)]
    new = recorded.events[0].new_data
    assert new["status"] == "provisioning" and new["depends_on"] == [data_env.pk] and new["capacity"] == 3
    assert new["cost_per_day"] == "120.50" and new["group"] == group.pk


def test_a_new_environment_is_available_from_now_by_default(environment_manager, team):
    before = timezone.now()
    environment = create(environment_manager, team)
    assert environment.status == EnvironmentStatus.AVAILABLE
    assert environment.status_since >= before
    assert environment.status_changes.get().started_at == environment.status_since


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": " "}, "name", "This field cannot be blank."),
        ({"name": "x" * 121}, "name", "at most 120 characters"),
        ({"environment_type": "mainframe"}, "environment_type", "is not a valid choice"),
        ({"category": "secret"}, "category", "is not a valid choice"),
        ({"hosting": "moon"}, "hosting", "is not a valid choice"),
        ({"capacity": 0}, "capacity", "greater than or equal to 1"),
        ({"capacity": 101}, "capacity", "less than or equal to 100"),
        ({"cost_per_day": Decimal("-1")}, "cost_per_day", "greater than or equal to 0"),
        ({"url": "not a url"}, "url", "Enter a valid URL."),
        ({"status": EnvironmentStatus.DECOMMISSIONED}, "status", "A new environment cannot start decommissioned."),
        ({"at": timezone.now() + datetime.timedelta(days=2)}, "at", "cannot be in the future"),
        ({"at": datetime.datetime(1800, 1, 1, tzinfo=datetime.UTC)}, "at", "between the years 1900 and 2999"),
    ],
)
def test_environment_create_refuses_bad_input_naming_the_field(
    environment_manager, team, unchanged, changes, field, message
):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(environment_manager, team, **changes)
    assert fields(caught) == [field]
    assert message in caught.value.errors[0]["message"]


def test_environment_names_are_unique_whatever_the_case(environment_manager, team, unchanged):
    EnvironmentFactory(name="SIT 1")
    with unchanged(), pytest.raises(Conflict, match=r"An environment with this name already exists\."):
        create(environment_manager, team, name="sit 1")


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_only_environment_managers_add_environments(request, role, team, unchanged):
    with unchanged(), pytest.raises(PermissionDenied):
        create(request.getfixturevalue(role), team)


def test_anonymous_callers_are_asked_to_sign_in(team, unchanged):
    from django.contrib.auth.models import AnonymousUser

    with unchanged(), pytest.raises(NotAuthenticated):
        create(AnonymousUser(), team)


def test_environment_update_records_only_what_changed_and_bumps_the_version(environment_manager, events):
    environment = EnvironmentFactory(capacity=1)
    data_env = EnvironmentFactory(name="Data 1")
    with events("environment.updated") as recorded:
        services.environment_update(
            actor=environment_manager, environment=environment, version=1, capacity=4, depends_on=[data_env]
        )
    environment.refresh_from_db()
    assert (environment.capacity, environment.version, list(environment.depends_on.all())) == (4, 2, [data_env])
    event = recorded.events[0]
    assert event.old_data == {"capacity": 1, "depends_on": []}
    assert event.new_data == {"capacity": 4, "depends_on": [data_env.pk]}


def test_an_environment_cannot_depend_on_itself(environment_manager, unchanged):
    environment = EnvironmentFactory(name="SIT 1")
    with unchanged(), pytest.raises(ValidationFailed, match=r"SIT 1 cannot depend on itself\.") as caught:
        services.environment_update(actor=environment_manager, environment=environment, depends_on=[environment])
    assert fields(caught) == ["depends_on"]


def test_dependencies_may_run_both_ways(environment_manager):
    first, second = EnvironmentFactory(), EnvironmentFactory()
    services.environment_update(actor=environment_manager, environment=first, depends_on=[second])
    services.environment_update(actor=environment_manager, environment=second, depends_on=[first])
    assert list(first.needed_by.all()) == [second]


def test_the_status_is_not_changed_by_an_edit(environment_manager, unchanged):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="status change") as caught:
        services.environment_update(actor=environment_manager, environment=environment, status="down")
    assert fields(caught) == ["status"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "name"),
        ({"owner_team": None}, "owner_team"),
        ({"capacity": None}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"cost_per_day": Decimal("-5")}, "cost_per_day"),
        ({"environment_type": None}, "environment_type"),
    ],
)
def test_environment_update_refuses_bad_input_and_changes_nothing(environment_manager, unchanged, changes, field):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_update(actor=environment_manager, environment=environment, **changes)
    assert fields(caught) == [field]


def test_a_null_url_or_description_clears_it(environment_manager):
    environment = EnvironmentFactory(url="https://x.example.com", description="old")
    services.environment_update(actor=environment_manager, environment=environment, url=None, description=None)
    environment.refresh_from_db()
    assert (environment.url, environment.description) == ("", "")


def test_a_stale_environment_edit_is_refused(environment_manager, unchanged):
    environment = EnvironmentFactory(version=2)
    with unchanged(), pytest.raises(StaleVersion):
        services.environment_update(actor=environment_manager, environment=environment, version=1, capacity=2)


def test_an_unused_environment_can_be_deleted(environment_manager, events):
    environment = EnvironmentFactory(name="Mistake")
    EnvironmentComponentFactory(environment=environment)
    with events("environment.deleted"):
        services.environment_delete(actor=environment_manager, environment=environment)
    assert not Environment.objects.filter(name="Mistake").exists()
    assert not EnvironmentComponent.objects.exists()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda env: EnvironmentBookingFactory(environment=env),
            "SIT 1 is still used by 1 booking; set its status to decommissioned",
        ),
        (
            lambda env: [DeploymentFactory(environment=env), DeploymentFactory(environment=env)],
            "SIT 1 is still used by 2 deployments; set its status to decommissioned",
        ),
        (lambda env: EnvironmentRequestFactory(environment=env), "SIT 1 is still used by 1 environment request;"),
    ],
)
def test_an_environment_in_use_cannot_be_deleted_it_is_decommissioned(environment_manager, unchanged, make, message):
    environment = EnvironmentFactory(name="SIT 1")
    make(environment)
    with unchanged(), pytest.raises(Conflict) as caught:
        services.environment_delete(actor=environment_manager, environment=environment)
    assert message in caught.value.detail
    assert "set its status to decommissioned instead" in caught.value.detail


def test_the_refusal_to_delete_lists_every_use(environment_manager):
    environment = EnvironmentFactory(name="SIT 1")
    EnvironmentBookingFactory(environment=environment)
    DeploymentFactory(environment=environment)
    with pytest.raises(Conflict, match="SIT 1 is still used by 1 booking and 1 deployment; set its status"):
        services.environment_delete(actor=environment_manager, environment=environment)


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_only_environment_managers_change_or_delete_environments(request, role, unchanged):
    actor = request.getfixturevalue(role)
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_update(actor=actor, environment=environment, capacity=2)
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_delete(actor=actor, environment=environment)


# Status


def test_a_status_change_extends_the_history_and_moves_the_status(environment_manager, events):
    environment = EnvironmentFactory(status_since=at(-30))
    when = at(-1)
    with events("environment.status_changed") as recorded:
        services.environment_status_set(
            actor=environment_manager, environment=environment, status="down", note=" disk failure ", at=when
        )
    assert (environment.status, environment.status_since, environment.version) == ("down", when, 2)
    environment.refresh_from_db()
    assert (environment.status, environment.status_since, environment.version) == ("down", when, 2)
    change = environment.status_changes.get()
    assert (change.status, change.started_at, change.note, change.actor_name) == (
        "down",
        when,
        "disk failure",
        "environment_manager",
    )
    event = recorded.events[0]
    assert event.old_data == {"status": "available", "status_since": at(-30).isoformat()}
    assert event.new_data == {"status": "down", "status_since": when.isoformat()}
    assert event.reason == "disk failure"


def test_a_status_change_starts_now_by_default(environment_manager):
    environment = EnvironmentFactory()
    before = timezone.now()
    services.environment_status_set(actor=environment_manager, environment=environment, status="maintenance")
    assert before <= environment.status_since <= timezone.now()


def test_decommissioning_is_a_status_change(environment_manager):
    environment = EnvironmentFactory()
    services.environment_status_set(actor=environment_manager, environment=environment, status="decommissioned")
    environment.refresh_from_db()
    assert environment.status == EnvironmentStatus.DECOMMISSIONED


def test_an_environment_still_booked_cannot_be_decommissioned(environment_manager, unchanged):
    environment = EnvironmentFactory(name="SIT Busy")
    start = timezone.now() + datetime.timedelta(days=3)
    EnvironmentBookingFactory(environment=environment, starts_at=start, ends_at=start + datetime.timedelta(days=2))
    with unchanged(), pytest.raises(Conflict, match="SIT Busy still has live bookings from then on"):
        services.environment_status_set(actor=environment_manager, environment=environment, status="decommissioned")


@pytest.mark.parametrize(
    ("status", "when", "field", "message"),
    [
        ("available", None, "status", "SIT 9 is already available."),
        ("broken", None, "status", "The status is one of"),
        ("down", at(-400), "at", "cannot start before the current status began (2025-03-02 09:00 UTC)"),
        ("down", timezone.now() + datetime.timedelta(hours=2), "at", "A status change cannot be in the future."),
        ("down", datetime.datetime(3000, 1, 1, tzinfo=datetime.UTC), "at", "between the years 1900 and 2999"),
    ],
)
def test_a_bad_status_change_is_refused_and_changes_nothing(
    environment_manager, unchanged, status, when, field, message
):
    environment = EnvironmentFactory(name="SIT 9", status_since=at(-365))
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_status_set(actor=environment_manager, environment=environment, status=status, at=when)
    assert fields(caught) == [field]
    assert message in caught.value.detail


def test_a_status_note_is_at_most_500_characters(environment_manager, unchanged):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_status_set(
            actor=environment_manager, environment=environment, status="down", note="x" * 501
        )
    assert fields(caught) == ["note"]


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_only_environment_managers_change_the_status(request, role, unchanged):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_status_set(actor=request.getfixturevalue(role), environment=environment, status="down")


def test_a_status_change_does_not_trip_over_an_older_copy_of_the_environment(environment_manager):
    environment = EnvironmentFactory()
    stale = Environment.objects.get(pk=environment.pk)
    services.environment_update(actor=environment_manager, environment=environment, capacity=2)
    services.environment_status_set(actor=environment_manager, environment=stale, status="down")
    environment.refresh_from_db()
    assert (environment.status, environment.capacity, environment.version) == ("down", 2, 3)


# Components


def test_component_set_adds_then_replaces_the_systems_row(environment_manager, events):
    environment = EnvironmentFactory()
    system = SystemFactory(name="Ledger")
    part = ComponentFactory(system=system, name="ledger-api")
    deployed = at(-2)
    with events("environmentcomponent.set") as first:
        row = services.environment_component_set(
            actor=environment_manager,
            environment=environment,
            system=system,
            version=" 2.3.1 ",
            configuration="feature X on",
            deployed_at=deployed,
        )
    assert (row.version, row.configuration, row.deployed_at) == ("2.3.1", "feature X on", deployed)
    assert first.events[0].old_data is None
    assert first.events[0].new_data["version"] == "2.3.1"
    with events("environmentcomponent.set") as second:
        again = services.environment_component_set(
            actor=environment_manager, environment=environment, system=system, version="2.4.0", component=part
        )
    assert again.pk == row.pk and EnvironmentComponent.objects.count() == 1
    again.refresh_from_db()
    assert (again.version, again.component, again.configuration, again.deployed_at) == ("2.4.0", part, "", None)
    assert second.events[0].old_data == {
        "version": "2.3.1",
        "component": None,
        "configuration": "feature X on",
        "deployed_at": deployed.isoformat(),
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"version": "1" * 101}, "version", "at most 100 characters"),
        ({"version": "1" * 10_000}, "version", "at most 100 characters"),
        ({"version": "1.0\n2.0"}, "version", "one line of printable characters"),
        ({"version": "1.0\x85rc"}, "version", "one line of printable characters"),
        ({"deployed_at": timezone.now() + datetime.timedelta(days=1)}, "deployed_at", "cannot be in the future"),
    ],
)
def test_component_set_refuses_bad_input_and_changes_nothing(environment_manager, unchanged, changes, field, message):
    environment = EnvironmentFactory()
    system = SystemFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_component_set(actor=environment_manager, environment=environment, system=system, **changes)
    assert fields(caught) == [field]
    assert message in caught.value.detail


def test_a_component_must_be_a_part_of_the_system(environment_manager, unchanged):
    environment = EnvironmentFactory()
    system = SystemFactory()
    other_part = ComponentFactory(name="billing-ui")
    with unchanged(), pytest.raises(ValidationFailed, match=r"billing-ui is a part of another system\.") as caught:
        services.environment_component_set(
            actor=environment_manager, environment=environment, system=system, component=other_part
        )
    assert fields(caught) == ["component"]


def test_component_remove_is_audited(environment_manager, events):
    row = EnvironmentComponentFactory()
    with events("environmentcomponent.removed"):
        services.environment_component_remove(actor=environment_manager, component=row)
    assert not EnvironmentComponent.objects.exists()


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_only_environment_managers_record_components(request, role, unchanged):
    actor = request.getfixturevalue(role)
    row = EnvironmentComponentFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_component_set(actor=actor, environment=row.environment, system=SystemFactory())
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_component_set(actor=actor, environment=row.environment, system=row.system, version="9")
    with unchanged(), pytest.raises(PermissionDenied):
        services.environment_component_remove(actor=actor, component=row)


def test_the_trusted_operator_may_do_everything(team):
    environment = create(None, team)
    services.environment_status_set(actor=None, environment=environment, status="down")
    assert environment.status_changes.count() == 2
    assert environment.status_changes.last().actor_name == ""
    assert EnvironmentGroup.objects.count() == 0
