"""The catalogue in the demo data."""

import itertools

import pytest

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.graph import adjacency, closure
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.demo.generator import load_demo


def a_cycle(edges: list[tuple[int, int]]) -> list[int] | None:
    """One dependency cycle (its first system repeated at the end), or None if the graph has none."""
    graph = adjacency(edges)
    for start in sorted(graph):
        for item in closure(graph, start):
            if start in graph.get(item.system, ()):
                return [*item.path, start]
    return None


@pytest.fixture
def demo_edges(db) -> list[tuple[int, int]]:
    load_demo(preset="demo", seed=1)
    return list(SystemDependency.objects.values_list("source_id", "target_id"))


def test_the_demo_has_40_systems_each_owned_by_a_team_and_90_distinct_dependencies(demo_edges):
    assert (System.objects.count(), len(demo_edges)) == (40, 90)
    assert not System.objects.filter(owner_team__isnull=True).exists()
    assert System.objects.values("owner_team").distinct().count() > 1
    assert len(set(demo_edges)) == 90 and all(source != target for source, target in demo_edges)
    assert AuditEvent.objects.filter(event_type="system.created").count() == 40
    assert AuditEvent.objects.filter(event_type="system_dependency.created").count() == 90


def test_the_demo_dependencies_contain_a_cycle(demo_edges):
    cycle = a_cycle(demo_edges)
    assert cycle is not None, "the demo estate should have at least one dependency cycle"
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    assert all(step in set(demo_edges) for step in itertools.pairwise(cycle))


def test_a_cycle_is_found_only_where_there_is_one():
    assert a_cycle([(1, 2), (2, 3), (1, 3)]) is None
    assert a_cycle([(1, 2), (2, 3), (3, 2)]) == [2, 3, 2]
    assert a_cycle([(5, 1), (1, 2), (2, 3), (3, 1)]) == [1, 2, 3, 1]
