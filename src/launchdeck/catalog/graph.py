"""Closure of the system dependency graph: pure Python on plain ids, no Django.

Enterprise dependency graphs have cycles; a breadth-first walk that visits each system once handles them and
gives every reached system its shortest path and depth from the start.
"""

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Reached:
    """A system reached from the start: how many hops away, and one shortest path (start first, it last)."""

    system: int
    depth: int
    path: tuple[int, ...]


def adjacency(edges: Iterable[tuple[int, int]], *, reverse: bool = False) -> dict[int, list[int]]:
    """Neighbour lists from (source, target) edges; `reverse` follows them from target to source."""
    graph: dict[int, list[int]] = {}
    for source, target in edges:
        if reverse:
            source, target = target, source
        graph.setdefault(source, []).append(target)
    for neighbours in graph.values():
        neighbours.sort()
    return graph


def closure(graph: Mapping[int, Iterable[int]], start: int, *, max_depth: int | None = None) -> list[Reached]:
    """Every system reachable from `start` (not `start` itself), nearest first, each once, whatever the cycles."""
    parents: dict[int, int | None] = {start: None}
    depths = {start: 0}
    order: list[int] = []
    queue = deque([start])
    while queue:
        current = queue.popleft()
        depth = depths[current]
        if max_depth is not None and depth >= max_depth:
            continue
        for neighbour in graph.get(current, ()):
            if neighbour in parents:
                continue
            parents[neighbour] = current
            depths[neighbour] = depth + 1
            order.append(neighbour)
            queue.append(neighbour)
    return [Reached(system=node, depth=depths[node], path=_path(parents, node)) for node in order]


def _path(parents: Mapping[int, int | None], node: int) -> tuple[int, ...]:
    steps = [node]
    while (parent := parents[steps[-1]]) is not None:
        steps.append(parent)
    return tuple(reversed(steps))
