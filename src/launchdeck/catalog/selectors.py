"""Reading the catalogue, and the upstream / downstream closure of any system."""

from django.db.models import Count, Q, QuerySet

from launchdeck.catalog.choices import Direction
from launchdeck.catalog.graph import adjacency, closure
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.core.errors import ValidationFailed


def system_list(
    *,
    user,
    search: str | None = None,
    owner_team: int | None = None,
    tier: int | None = None,
    lifecycle: str | None = None,
    kind: str | None = None,
) -> QuerySet[System]:
    """Systems with owner team and the number of dependencies each way."""
    systems = (
        System.objects.restrict(user, "view")
        .select_related("owner_team", "owner_team__department")
        .annotate(
            dependency_count=Count("dependencies", distinct=True), dependent_count=Count("dependents", distinct=True)
        )
        .order_by("name")
    )
    if search:
        systems = systems.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if owner_team:
        systems = systems.filter(owner_team_id=owner_team)
    if tier:
        systems = systems.filter(tier=tier)
    if lifecycle:
        systems = systems.filter(lifecycle=lifecycle)
    if kind:
        systems = systems.filter(kind=kind)
    return systems


def system_get(*, user, pk: int) -> System:
    return system_list(user=user).get_visible(pk=pk)


def component_list(*, user, system: int | None = None) -> QuerySet[Component]:
    components = Component.objects.restrict(user, "view").select_related("system").order_by("system__name", "name")
    return components.filter(system_id=system) if system else components


def dependency_list(
    *, user, source: int | None = None, target: int | None = None, system: int | None = None
) -> QuerySet[SystemDependency]:
    """Dependencies; `system` matches either end."""
    dependencies = SystemDependency.objects.restrict(user, "view").select_related("source", "target")
    if source:
        dependencies = dependencies.filter(source_id=source)
    if target:
        dependencies = dependencies.filter(target_id=target)
    if system:
        dependencies = dependencies.filter(Q(source_id=system) | Q(target_id=system))
    return dependencies


def system_closure(*, user, system: System, direction: str, max_depth: int | None = None) -> list[dict]:
    """Systems that depend on `system` (downstream: what may break if it changes, what to regression-test) or that
    it depends on (upstream), each with its depth and one shortest path; cycles are walked once.

    Two queries whatever the graph's size: the edges, then the reached systems (as plain rows).
    """
    if direction not in Direction.values:
        # Anything but "downstream" would otherwise be walked as upstream, answering a different question.
        raise ValidationFailed.field("direction", f"The direction is {' or '.join(Direction.values)}.")
    edges = SystemDependency.objects.restrict(user, "view").values_list("source_id", "target_id")
    graph = adjacency(edges, reverse=direction == Direction.DOWNSTREAM)
    reached = closure(graph, system.pk, max_depth=max_depth)
    rows = {
        row["id"]: row
        for row in System.objects.restrict(user, "view")
        .filter(pk__in=[item.system for item in reached])
        .values("id", "name", "tier", "owner_team_id")
    }
    return [
        {**rows[item.system], "depth": item.depth, "path": list(item.path)} for item in reached if item.system in rows
    ]


def system_neighbourhood(*, user, system: System, levels: int) -> dict:
    """Nodes and links within `levels` hops either way of `system`, for the dependency graph on its page."""
    edges = list(
        SystemDependency.objects.restrict(user, "view").values_list("source_id", "target_id", "interface_kind")
    )
    pairs = [(source, target) for source, target, _ in edges]
    down = closure(adjacency(pairs, reverse=True), system.pk, max_depth=levels)
    up = closure(adjacency(pairs), system.pk, max_depth=levels)
    depth = {system.pk: 0}
    side = {system.pk: "centre"}
    for item in down:
        depth[item.system], side[item.system] = item.depth, "downstream"
    for item in up:
        if item.system not in depth:
            depth[item.system], side[item.system] = item.depth, "upstream"
    systems = System.objects.restrict(user, "view").in_bulk(list(depth))
    nodes = [
        {
            "id": pk,
            "name": systems[pk].name,
            "tier": systems[pk].tier,
            "depth": depth[pk],
            "side": side[pk],
            "url": systems[pk].get_absolute_url(),
        }
        for pk in depth
        if pk in systems
    ]
    links = [
        {"source": source, "target": target, "kind": kind}
        for source, target, kind in edges
        if source in systems and target in systems and source in depth and target in depth
    ]
    return {"nodes": nodes, "links": links}


def catalogue_summary(*, user) -> dict:
    """Counts for the home page: systems, dependencies, live systems per tier, most depended-on tier-1 systems."""
    systems = System.objects.restrict(user, "view")
    by_tier = systems.filter(lifecycle="live").values("tier").annotate(count=Count("id")).order_by("tier")
    hubs = (
        systems.filter(tier=1)
        .annotate(dependent_count=Count("dependents", distinct=True))
        .order_by("-dependent_count", "name")[:5]
    )
    return {
        "systems": systems.count(),
        "dependencies": SystemDependency.objects.restrict(user, "view").count(),
        "by_tier": list(by_tier),
        "hubs": list(hubs),
    }
