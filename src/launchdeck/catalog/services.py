"""Every write to systems, their components and the dependencies between them."""

from django.db import transaction

from launchdeck.audit.services import audit_record, delete_audited, fields_of, update_audited
from launchdeck.catalog.choices import DependencyCriticality, InterfaceKind, Lifecycle, SystemKind
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.core.errors import ValidationFailed
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import save, snapshot
from launchdeck.org.models import Team

SYSTEM_FIELDS = ["name", "kind", "owner_team", "tier", "lifecycle", "description", "external_ids"]
COMPONENT_FIELDS = ["system", "name", "description"]
DEPENDENCY_FIELDS = ["source", "target", "interface_kind", "criticality", "description"]
MAX_EXTERNAL_IDS = 20


def _check_external_ids(system: System) -> None:
    ids = system.external_ids
    if not isinstance(ids, dict) or len(ids) > MAX_EXTERNAL_IDS:
        raise ValidationFailed.field("external_ids", f"External ids are up to {MAX_EXTERNAL_IDS} name: value pairs.")
    for key, value in ids.items():
        if not (isinstance(key, str) and 0 < len(key) <= 40 and isinstance(value, str) and len(value) <= 200):
            raise ValidationFailed.field(
                "external_ids", "Each external id is a tool name (up to 40 characters) and a text value (up to 200)."
            )


@transaction.atomic
def system_create(
    *,
    actor,
    name: str,
    owner_team: Team,
    kind: str = SystemKind.APPLICATION,
    tier: int = 3,
    lifecycle: str = Lifecycle.LIVE,
    description: str = "",
    external_ids: dict | None = None,
) -> System:
    """Add a system to the catalogue, owned by a team."""
    require_perm(actor, "catalog.add_system")
    system = System(
        name=name.strip(),
        owner_team=owner_team,
        kind=kind,
        tier=tier,
        lifecycle=lifecycle,
        description=description,
        external_ids={} if external_ids is None else external_ids,
    )
    _check_external_ids(system)
    save(system)
    audit_record(actor, "system.created", system, new=snapshot(system, SYSTEM_FIELDS))
    return system


@transaction.atomic
def system_update(*, actor, system: System, version: int | None = None, **changes) -> System:
    """Change a system; refused if `version` is stale."""
    return update_audited(
        actor,
        system,
        permission="catalog.change_system",
        event_type="system.updated",
        data=fields_of(SYSTEM_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_external_ids,
    )


@transaction.atomic
def system_delete(*, actor, system: System) -> None:
    """Remove a system with its components and dependencies."""
    require_perm(actor, "catalog.delete_system", system)
    delete_audited(actor, system, "system.deleted")


@transaction.atomic
def component_create(*, actor, system: System, name: str, description: str = "") -> Component:
    require_perm(actor, "catalog.add_component", system)
    component = save(Component(system=system, name=name.strip(), description=description))
    audit_record(actor, "component.created", component, new=snapshot(component, COMPONENT_FIELDS))
    return component


@transaction.atomic
def component_update(*, actor, component: Component, version: int | None = None, **changes) -> Component:
    return update_audited(
        actor,
        component,
        permission="catalog.change_component",
        event_type="component.updated",
        data=fields_of(COMPONENT_FIELDS),
        version=version,
        changes=changes,
    )


@transaction.atomic
def component_delete(*, actor, component: Component) -> None:
    require_perm(actor, "catalog.delete_component", component)
    delete_audited(actor, component, "component.deleted")


def _check_dependency(dependency: SystemDependency) -> None:
    if dependency.source_id == dependency.target_id:
        raise ValidationFailed.field("target", "A system cannot depend on itself.")


@transaction.atomic
def dependency_create(
    *,
    actor,
    source: System,
    target: System,
    interface_kind: str = InterfaceKind.API,
    criticality: str = DependencyCriticality.MEDIUM,
    description: str = "",
) -> SystemDependency:
    """Record that `source` depends on `target`. Cycles are allowed: enterprises have them."""
    require_perm(actor, "catalog.add_systemdependency")
    dependency = SystemDependency(
        source=source, target=target, interface_kind=interface_kind, criticality=criticality, description=description
    )
    _check_dependency(dependency)
    save(dependency)
    audit_record(actor, "system_dependency.created", dependency, new=snapshot(dependency, DEPENDENCY_FIELDS))
    return dependency


@transaction.atomic
def dependency_update(*, actor, dependency: SystemDependency, version: int | None = None, **changes):
    return update_audited(
        actor,
        dependency,
        permission="catalog.change_systemdependency",
        event_type="system_dependency.updated",
        data=fields_of(DEPENDENCY_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_dependency,
    )


@transaction.atomic
def dependency_delete(*, actor, dependency: SystemDependency) -> None:
    require_perm(actor, "catalog.delete_systemdependency", dependency)
    delete_audited(actor, dependency, "system_dependency.deleted")
