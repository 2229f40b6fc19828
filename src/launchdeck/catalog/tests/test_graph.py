"""The closure of the dependency graph, checked against a plain reference on random graphs that have cycles."""

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.catalog.graph import Reached, adjacency, closure

MAX_NODES = 30
MAX_EDGES = 120
PROPERTIES = settings(max_examples=100, deadline=None)


@st.composite
def graphs(draw) -> tuple[int, list[tuple[int, int]]]:
    """A node count and distinct directed edges between nodes 0..n-1; cycles allowed, no self-loops."""
    size = draw(st.integers(min_value=1, max_value=MAX_NODES))
    node = st.integers(min_value=0, max_value=size - 1)
    edges = draw(
        st.lists(st.tuples(node, node).filter(lambda edge: edge[0] != edge[1]), max_size=MAX_EDGES, unique=True)
    )
    return size, edges


def reference_reachable(size: int, edges: list[tuple[int, int]], start: int) -> set[int]:
    """Nodes reachable from `start` by at least one edge, by depth-first search."""
    successors = {node: set() for node in range(size)}
    for source, target in edges:
        successors[source].add(target)
    seen: set[int] = set()
    stack = list(successors[start])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(successors[node])
    return seen - {start}


def reference_distances(size: int, edges: list[tuple[int, int]]) -> list[list[float]]:
    """Shortest-path hop counts between every pair, by Floyd-Warshall (infinity where there is no path)."""
    distance = [[0 if a == b else math.inf for b in range(size)] for a in range(size)]
    for source, target in edges:
        distance[source][target] = 1
    for via in range(size):
        for a in range(size):
            for b in range(size):
                if distance[a][via] + distance[via][b] < distance[a][b]:
                    distance[a][b] = distance[a][via] + distance[via][b]
    return distance


@PROPERTIES
@given(graphs())
def test_closure_reaches_exactly_what_the_reference_reaches_at_the_shortest_distance(graph):
    size, edges = graph
    distances = reference_distances(size, edges)
    successors = adjacency(edges)
    for start in range(size):
        reached = closure(successors, start)
        assert {item.system for item in reached} == reference_reachable(size, edges, start)
        assert {item.system: item.depth for item in reached} == {
            node: distances[start][node] for node in range(size) if node != start and distances[start][node] < math.inf
        }


@PROPERTIES
@given(graphs())
def test_every_path_is_a_shortest_walk_along_edges_and_every_system_comes_once_nearest_first(graph):
    size, edges = graph
    edge_set = set(edges)
    successors = adjacency(edges)
    for start in range(size):
        reached = closure(successors, start)
        systems = [item.system for item in reached]
        assert len(systems) == len(set(systems))
        assert start not in systems
        assert [item.depth for item in reached] == sorted(item.depth for item in reached)
        for item in reached:
            assert item.path[0] == start and item.path[-1] == item.system
            assert len(item.path) == item.depth + 1
            assert len(set(item.path)) == len(item.path)
            assert all(step in edge_set for step in itertools.pairwise(item.path))


@PROPERTIES
@given(graphs(), st.integers(min_value=0, max_value=MAX_NODES))
def test_max_depth_keeps_exactly_the_systems_within_that_many_hops(graph, max_depth):
    size, edges = graph
    successors = adjacency(edges)
    for start in range(size):
        everything = closure(successors, start)
        assert closure(successors, start, max_depth=max_depth) == [
            item for item in everything if item.depth <= max_depth
        ]


@PROPERTIES
@given(graphs(), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_the_order_the_edges_were_given(graph, random):
    size, edges = graph
    shuffled = list(edges)
    random.shuffle(shuffled)
    for reverse in (False, True):
        given_order, other_order = adjacency(edges, reverse=reverse), adjacency(shuffled, reverse=reverse)
        for start in range(size):
            assert closure(given_order, start) == closure(other_order, start)


@PROPERTIES
@given(graphs())
def test_downstream_and_upstream_are_each_others_mirror(graph):
    size, edges = graph
    forward, backward = adjacency(edges), adjacency(edges, reverse=True)
    assert backward == adjacency([(target, source) for source, target in edges])
    upstream = {start: {item.system: item.depth for item in closure(forward, start)} for start in range(size)}
    downstream = {start: {item.system: item.depth for item in closure(backward, start)} for start in range(size)}
    for a in range(size):
        for b in range(size):
            assert (b in downstream[a]) == (a in upstream[b])
            assert downstream[a].get(b) == upstream[b].get(a)
    edge_set, flipped = set(edges), [(target, source) for source, target in edges]
    for start, reached in downstream.items():
        for item in closure(backward, start):
            assert all((target, source) in edge_set for source, target in itertools.pairwise(item.path))
        assert set(reached) == reference_reachable(size, flipped, start)


# Golden cases


CYCLE = [(1, 2), (2, 3), (3, 1)]
DIAMOND = [(1, 2), (1, 3), (2, 4), (3, 4)]


def test_a_three_cycle_is_walked_once_in_either_direction():
    assert closure(adjacency(CYCLE), 1) == [Reached(2, 1, (1, 2)), Reached(3, 2, (1, 2, 3))]
    assert closure(adjacency(CYCLE, reverse=True), 1) == [Reached(3, 1, (1, 3)), Reached(2, 2, (1, 3, 2))]
    assert closure(adjacency(CYCLE), 3, max_depth=1) == [Reached(1, 1, (3, 1))]


def test_a_diamond_reaches_its_bottom_once_by_the_lower_numbered_side():
    assert closure(adjacency(DIAMOND), 1) == [Reached(2, 1, (1, 2)), Reached(3, 1, (1, 3)), Reached(4, 2, (1, 2, 4))]
    assert closure(adjacency(DIAMOND, reverse=True), 4) == [
        Reached(2, 1, (4, 2)),
        Reached(3, 1, (4, 3)),
        Reached(1, 2, (4, 2, 1)),
    ]
    assert closure(adjacency(DIAMOND), 2) == [Reached(4, 1, (2, 4))]


def test_a_disconnected_system_reaches_nothing_and_is_reached_by_nothing():
    graph = adjacency([*DIAMOND, *CYCLE])
    assert closure(graph, 99) == []
    assert closure(adjacency([*DIAMOND, *CYCLE], reverse=True), 99) == []
    assert all(item.system != 99 for start in (1, 2, 3, 4) for item in closure(graph, start))


def test_a_depth_of_zero_reaches_nothing():
    assert closure(adjacency(DIAMOND), 1, max_depth=0) == []
