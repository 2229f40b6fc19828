"""factory_boy factories for the catalogue: rows made directly, for arranging tests (services are what is tested)."""

import factory

from launchdeck.catalog.choices import DependencyCriticality, InterfaceKind, Lifecycle, SystemKind
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.org.tests.factories import TeamFactory


class SystemFactory(factory.django.DjangoModelFactory):
    """A live tier-3 application owned by a new team."""

    class Meta:
        model = System

    name = factory.Sequence(lambda n: f"System {n}")
    kind = SystemKind.APPLICATION
    owner_team = factory.SubFactory(TeamFactory)
    tier = 3
    lifecycle = Lifecycle.LIVE
    description = ""
    external_ids = factory.LazyFunction(dict)


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    system = factory.SubFactory(SystemFactory)
    name = factory.Sequence(lambda n: f"Component {n}")
    description = ""


class SystemDependencyFactory(factory.django.DjangoModelFactory):
    """`source` depends on `target`, both new systems unless given."""

    class Meta:
        model = SystemDependency

    source = factory.SubFactory(SystemFactory)
    target = factory.SubFactory(SystemFactory)
    interface_kind = InterfaceKind.API
    criticality = DependencyCriticality.MEDIUM
    description = ""


def systems_with_edges(names: str, edges: list[tuple[str, str]], **fields) -> dict[str, System]:
    """Systems named by the letters of `names` (one owner team), and `(source, target)` dependencies between them."""
    team = fields.pop("owner_team", None) or TeamFactory()
    systems = {name: SystemFactory(name=name, owner_team=team, **fields) for name in names}
    for source, target in edges:
        SystemDependencyFactory(source=systems[source], target=systems[target])
    return systems
