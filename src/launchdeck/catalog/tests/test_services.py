"""The catalogue's rules, at the services: audit events, bad input, conflicts, stale versions and permissions."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog import services
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.catalog.tests.factories import ComponentFactory, SystemDependencyFactory, SystemFactory
from launchdeck.core.errors import Conflict, NotAuthenticated, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.org import services as org_services
from launchdeck.org.models import Team
from launchdeck.org.tests.factories import TeamFactory


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def team(db):
    return TeamFactory(name="Falcon")


# Systems


def test_system_create_strips_the_name_and_records_the_whole_system(release_manager, team, one_event):
    with one_event("system.created") as recorded:
        system = services.system_create(
            actor=release_manager,
            name="  Payments Hub ",
            owner_team=team,
            kind="service",
            tier=1,
            lifecycle="in_development",
            description="Moves money",
            external_ids={"cmdb": "CI0042"},
        )
    system.refresh_from_db()
    assert (system.name, system.tier, system.version) == ("Payments Hub", 1, 1)
    event = recorded.event
    assert (event.actor, event.object_type, event.object_id) == (release_manager, "catalog.system", str(system.pk))
    assert event.old_data is None
    assert event.new_data == {
        "name": "Payments Hub",
        "kind": "service",
        "owner_team": team.pk,
        "tier": 1,
        "lifecycle": "in_development",
        "description": "Moves money",
        "external_ids": {"cmdb": "CI0042"},
    }


def test_a_new_system_is_a_live_tier_3_application_with_no_external_ids_unless_told_otherwise(release_manager, team):
    system = services.system_create(actor=release_manager, name="Ledger", owner_team=team)
    system.refresh_from_db()
    assert (system.kind, system.tier, system.lifecycle, system.external_ids) == ("application", 3, "live", {})


def test_system_update_records_only_what_changed_and_bumps_the_version(release_manager, one_event):
    system = SystemFactory(name="Ledger", tier=3, external_ids={"cmdb": "CI1"})
    first_team, other_team = system.owner_team, TeamFactory()
    with one_event("system.updated") as recorded:
        services.system_update(
            actor=release_manager,
            system=system,
            version=1,
            name=" Ledger ",
            tier=2,
            owner_team=other_team,
            external_ids={"cmdb": "CI1", "jira": "LED"},
        )
    system.refresh_from_db()
    assert (system.name, system.tier, system.owner_team, system.version) == ("Ledger", 2, other_team, 2)
    assert recorded.event.old_data == {"tier": 3, "owner_team": first_team.pk, "external_ids": {"cmdb": "CI1"}}
    assert recorded.event.new_data == {
        "tier": 2,
        "owner_team": other_team.pk,
        "external_ids": {"cmdb": "CI1", "jira": "LED"},
    }


def test_system_delete_removes_its_components_and_dependencies_both_ways_and_nothing_else(release_manager, one_event):
    ledger, billing, crm = SystemFactory(name="Ledger"), SystemFactory(name="Billing"), SystemFactory(name="CRM")
    ComponentFactory(system=ledger, name="Database")
    kept_component = ComponentFactory(system=billing, name="Database")
    SystemDependencyFactory(source=ledger, target=billing)
    SystemDependencyFactory(source=crm, target=ledger)
    kept_dependency = SystemDependencyFactory(source=crm, target=billing)
    with one_event("system.deleted") as recorded:
        services.system_delete(actor=release_manager, system=ledger)
    assert (recorded.event.object_id, recorded.event.old_data, recorded.event.new_data) == (
        str(ledger.pk),
        {"name": "Ledger"},
        None,
    )
    assert set(System.objects.values_list("name", flat=True)) == {"Billing", "CRM"}
    assert list(Component.objects.all()) == [kept_component]
    assert list(SystemDependency.objects.all()) == [kept_dependency]


@pytest.mark.parametrize("name", ["payments", "PAYMENTS", "  Payments  "])
def test_system_names_are_unique_whatever_the_case(release_manager, team, unchanged, name):
    SystemFactory(name="Payments")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A system with this name already exists.")) as caught:
        services.system_create(actor=release_manager, name=name, owner_team=team)
    assert caught.value.status == 409


def test_renaming_a_system_to_another_ones_name_is_a_conflict(release_manager, unchanged):
    SystemFactory(name="Payments")
    system = SystemFactory(name="Ledger")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A system with this name already exists.")):
        services.system_update(actor=release_manager, system=system, version=1, name="PAYMENTS")


def test_a_system_may_change_the_case_of_its_own_name(release_manager):
    system = SystemFactory(name="ledger")
    services.system_update(actor=release_manager, system=system, version=1, name="Ledger")
    assert System.objects.get().name == "Ledger"


BAD_EXTERNAL_IDS = [
    pytest.param(["cmdb", "CI1"], id="a list"),
    pytest.param([], id="an empty list"),
    pytest.param("cmdb: CI1", id="a string"),
    pytest.param({"cmdb": 42}, id="a number value"),
    pytest.param({"cmdb": None}, id="a null value"),
    pytest.param({"cmdb": {"id": "CI1"}}, id="a nested value"),
    pytest.param({"": "CI1"}, id="an empty tool name"),
    pytest.param({"t" * 41: "CI1"}, id="a tool name of 41 characters"),
    pytest.param({"cmdb": "x" * 201}, id="a value of 201 characters"),
    pytest.param({f"tool{index}": "x" for index in range(21)}, id="21 entries"),
]


@pytest.mark.parametrize("external_ids", BAD_EXTERNAL_IDS)
def test_system_create_refuses_bad_external_ids(release_manager, team, unchanged, external_ids):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.system_create(actor=release_manager, name="Ledger", owner_team=team, external_ids=external_ids)
    assert caught.value.status == 422
    assert fields_of(caught) == ["external_ids"]


@pytest.mark.parametrize("external_ids", [*BAD_EXTERNAL_IDS, pytest.param(None, id="null")])
def test_system_update_refuses_bad_external_ids(release_manager, unchanged, external_ids):
    system = SystemFactory(external_ids={"cmdb": "CI1"})
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.system_update(actor=release_manager, system=system, version=1, external_ids=external_ids)
    assert fields_of(caught) == ["external_ids"]


def test_external_ids_may_hold_twenty_entries_of_the_longest_size(release_manager, team):
    ids = {f"{index:02d}" + "t" * 38: "v" * 200 for index in range(20)}
    system = services.system_create(actor=release_manager, name="Ledger", owner_team=team, external_ids=ids)
    system.refresh_from_db()
    assert system.external_ids == ids


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tier": 0}, "tier"),
        ({"tier": 5}, "tier"),
        ({"kind": "spreadsheet"}, "kind"),
        ({"lifecycle": "zombie"}, "lifecycle"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 151}, "name"),
    ],
)
def test_system_create_refuses_bad_input_naming_the_field(release_manager, team, unchanged, fields, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.system_create(actor=release_manager, owner_team=team, **{"name": "Ledger", **fields})
    assert caught.value.status == 422
    assert fields_of(caught) == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"tier": 0}, "tier"), ({"tier": 5}, "tier"), ({"name": ""}, "name"), ({"owner_team": None}, "owner_team")],
)
def test_system_update_refuses_bad_input_and_changes_nothing(release_manager, unchanged, changes, field):
    system = SystemFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.system_update(actor=release_manager, system=system, version=1, **changes)
    assert fields_of(caught) == [field]


def test_a_stale_system_edit_is_refused_and_changes_nothing(release_manager, unchanged):
    system = SystemFactory(name="Ledger")
    services.system_update(actor=release_manager, system=System.objects.get(), version=1, tier=2)
    with unchanged(), pytest.raises(StaleVersion, match="your version 1, current version 2") as caught:
        services.system_update(actor=release_manager, system=system, version=1, tier=4)
    assert caught.value.status == 409
    assert fields_of(caught) == ["version"]


def test_a_system_edit_without_a_version_uses_the_one_it_was_read_at(release_manager, unchanged):
    system = SystemFactory(name="Ledger")
    services.system_update(actor=release_manager, system=System.objects.get(), version=1, tier=2)
    with unchanged(), pytest.raises(StaleVersion):
        services.system_update(actor=release_manager, system=system, tier=4)


# Components


def test_component_create_records_the_component(release_manager, one_event):
    system = SystemFactory(name="Ledger")
    with one_event("component.created") as recorded:
        component = services.component_create(actor=release_manager, system=system, name=" Database ", description="PG")
    assert component.name == "Database"
    assert (recorded.event.object_type, recorded.event.object_id) == ("catalog.component", str(component.pk))
    assert recorded.event.new_data == {"system": system.pk, "name": "Database", "description": "PG"}


def test_component_update_and_delete_are_audited(release_manager, one_event):
    component = ComponentFactory(name="Database")
    with one_event("component.updated") as recorded:
        services.component_update(actor=release_manager, component=component, version=1, description="Primary")
    assert (recorded.event.old_data, recorded.event.new_data) == ({"description": ""}, {"description": "Primary"})
    with one_event("component.deleted"):
        services.component_delete(actor=release_manager, component=component)
    assert not Component.objects.exists()


@pytest.mark.parametrize("name", ["Database", "database", " DATABASE "])
def test_component_names_are_unique_within_a_system(release_manager, unchanged, name):
    existing = ComponentFactory(name="Database")
    with unchanged(), pytest.raises(Conflict, match=re.escape("This system already has a component with this name.")):
        services.component_create(actor=release_manager, system=existing.system, name=name)


def test_another_system_may_have_a_component_of_the_same_name(release_manager):
    ComponentFactory(name="Database")
    other = SystemFactory()
    services.component_create(actor=release_manager, system=other, name="database")
    assert Component.objects.filter(name__iexact="database").count() == 2


def test_a_stale_component_edit_is_refused(release_manager, unchanged):
    component = ComponentFactory()
    services.component_update(actor=release_manager, component=Component.objects.get(), version=1, description="x")
    with unchanged(), pytest.raises(StaleVersion):
        services.component_update(actor=release_manager, component=component, version=1, description="y")


# Dependencies


def test_dependency_create_records_the_dependency(release_manager, one_event):
    billing, ledger = SystemFactory(name="Billing"), SystemFactory(name="Ledger")
    with one_event("system_dependency.created") as recorded:
        dependency = services.dependency_create(
            actor=release_manager, source=billing, target=ledger, interface_kind="batch", criticality="high"
        )
    assert str(dependency) == "Billing depends on Ledger"
    event = recorded.event
    assert (event.object_type, event.object_id) == ("catalog.systemdependency", str(dependency.pk))
    assert event.new_data == {
        "source": billing.pk,
        "target": ledger.pk,
        "interface_kind": "batch",
        "criticality": "high",
        "description": "",
    }


def test_dependency_update_records_only_what_changed(release_manager, one_event):
    dependency = SystemDependencyFactory(criticality="medium", interface_kind="api")
    with one_event("system_dependency.updated") as recorded:
        services.dependency_update(actor=release_manager, dependency=dependency, version=1, criticality="high")
    dependency.refresh_from_db()
    assert (dependency.criticality, dependency.version) == ("high", 2)
    assert (recorded.event.old_data, recorded.event.new_data) == ({"criticality": "medium"}, {"criticality": "high"})


def test_dependency_delete_is_audited_with_what_it_was(release_manager, one_event):
    dependency = SystemDependencyFactory(source=SystemFactory(name="Billing"), target=SystemFactory(name="Ledger"))
    with one_event("system_dependency.deleted") as recorded:
        services.dependency_delete(actor=release_manager, dependency=dependency)
    assert recorded.event.old_data == {"name": "Billing depends on Ledger"}
    assert not SystemDependency.objects.exists()
    assert System.objects.count() == 2


def test_a_system_cannot_depend_on_itself(release_manager, unchanged):
    system = SystemFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="A system cannot depend on itself") as caught:
        services.dependency_create(actor=release_manager, source=system, target=system)
    assert caught.value.status == 422
    assert fields_of(caught) == ["target"]


def test_a_dependency_cannot_be_turned_onto_its_own_source(release_manager, unchanged):
    dependency = SystemDependencyFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.dependency_update(actor=release_manager, dependency=dependency, version=1, target=dependency.source)
    assert fields_of(caught) == ["target"]


def test_the_same_dependency_twice_is_a_conflict(release_manager, unchanged):
    existing = SystemDependencyFactory()
    with unchanged(), pytest.raises(Conflict, match=re.escape("This dependency is already recorded.")) as caught:
        services.dependency_create(actor=release_manager, source=existing.source, target=existing.target)
    assert caught.value.status == 409


def test_cycles_are_allowed(release_manager):
    a, b, c = SystemFactory(), SystemFactory(), SystemFactory()
    for source, target in [(a, b), (b, c), (c, a), (b, a)]:
        services.dependency_create(actor=release_manager, source=source, target=target)
    assert SystemDependency.objects.count() == 4


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"interface_kind": "carrier pigeon"}, "interface_kind"), ({"criticality": "extreme"}, "criticality")],
)
def test_dependency_create_refuses_unknown_choices(release_manager, unchanged, fields, field):
    a, b = SystemFactory(), SystemFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.dependency_create(actor=release_manager, source=a, target=b, **fields)
    assert fields_of(caught) == [field]


def test_a_stale_dependency_edit_is_refused(release_manager, unchanged):
    dependency = SystemDependencyFactory()
    services.dependency_update(
        actor=release_manager, dependency=SystemDependency.objects.get(), version=1, criticality="low"
    )
    with unchanged(), pytest.raises(StaleVersion):
        services.dependency_update(actor=release_manager, dependency=dependency, version=1, criticality="high")


# Teams that own systems


def test_a_team_that_owns_systems_cannot_be_deleted(portfolio_manager, unchanged):
    team = TeamFactory(name="Falcon")
    SystemFactory(owner_team=team)
    with unchanged(), pytest.raises(Conflict, match="Falcon is still used by 1 system;") as caught:
        org_services.team_delete(actor=portfolio_manager, team=team)
    assert caught.value.status == 409


def test_a_team_whose_systems_moved_away_can_be_deleted(portfolio_manager, release_manager):
    team, other = TeamFactory(), TeamFactory()
    system = SystemFactory(owner_team=team)
    services.system_update(actor=release_manager, system=system, version=1, owner_team=other)
    org_services.team_delete(actor=portfolio_manager, team=team)
    assert not Team.objects.filter(pk=team.pk).exists()


# Permissions


def _writes(actor):
    """Every catalogue write, each on rows of its own, as (name, call) pairs."""
    return [
        ("system_create", lambda: services.system_create(actor=actor, name="New", owner_team=TeamFactory())),
        ("system_update", lambda: services.system_update(actor=actor, system=SystemFactory(), version=1, tier=1)),
        ("system_delete", lambda: services.system_delete(actor=actor, system=SystemFactory())),
        ("component_create", lambda: services.component_create(actor=actor, system=SystemFactory(), name="Db")),
        (
            "component_update",
            lambda: services.component_update(actor=actor, component=ComponentFactory(), version=1, name="Db"),
        ),
        ("component_delete", lambda: services.component_delete(actor=actor, component=ComponentFactory())),
        (
            "dependency_create",
            lambda: services.dependency_create(actor=actor, source=SystemFactory(), target=SystemFactory()),
        ),
        (
            "dependency_update",
            lambda: services.dependency_update(
                actor=actor, dependency=SystemDependencyFactory(), version=1, criticality="high"
            ),
        ),
        ("dependency_delete", lambda: services.dependency_delete(actor=actor, dependency=SystemDependencyFactory())),
    ]


@pytest.mark.parametrize("role", ["release_manager", "portfolio_manager"])
def test_release_and_portfolio_managers_may_make_every_catalogue_write(request, role):
    for _, write in _writes(request.getfixturevalue(role)):
        write()


@pytest.mark.parametrize("role", ["viewer", "quality_manager"])
def test_roles_that_do_not_own_the_catalogue_are_refused_every_write(request, role):
    actor = request.getfixturevalue(role)
    for _, write in _writes(actor):
        with pytest.raises(PermissionDenied, match=re.escape("(catalog.")):
            write()
    assert not AuditEvent.objects.filter(object_type__startswith="catalog.").exists()
    assert not System.objects.filter(name="New").exists() and not Component.objects.filter(name="Db").exists()


def test_refused_writes_change_nothing(viewer, unchanged):
    system, component, dependency = SystemFactory(), ComponentFactory(), SystemDependencyFactory()
    with unchanged():
        for call in [
            lambda: services.system_update(actor=viewer, system=system, version=1, tier=1),
            lambda: services.system_delete(actor=viewer, system=system),
            lambda: services.component_delete(actor=viewer, component=component),
            lambda: services.dependency_update(actor=viewer, dependency=dependency, version=1, criticality="low"),
            lambda: services.dependency_delete(actor=viewer, dependency=dependency),
        ]:
            with pytest.raises(PermissionDenied):
                call()


def test_an_environment_manager_may_write_components_but_not_systems_or_dependencies(environment_manager):
    allowed = {"component_create", "component_update", "component_delete"}
    for name, write in _writes(environment_manager):
        if name in allowed:
            write()
        else:
            with pytest.raises(PermissionDenied):
                write()


def test_anonymous_callers_must_sign_in(db):
    with pytest.raises(NotAuthenticated):
        services.system_create(actor=AnonymousUser(), name="Ledger", owner_team=TeamFactory())
