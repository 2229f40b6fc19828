"""Reading the catalogue: the upstream / downstream closure of a system, its neighbourhood, and the summary."""

import random

import pytest

from launchdeck.catalog import selectors
from launchdeck.catalog.models import SystemDependency
from launchdeck.catalog.tests.factories import SystemDependencyFactory, SystemFactory, systems_with_edges
from launchdeck.org.tests.factories import TeamFactory

# "X depends on Y". A → B → C → A is a cycle; D depends on A and E on D; C depends on F; G stands alone.
EDGES = [("A", "B"), ("B", "C"), ("C", "A"), ("D", "A"), ("E", "D"), ("C", "F")]


@pytest.fixture
def estate(db):
    return systems_with_edges("ABCDEFG", EDGES)


def reached(rows, estate) -> dict[str, tuple[int, str]]:
    """Closure rows as {name: (depth, path as letters)}."""
    names = {system.pk: name for name, system in estate.items()}
    return {row["name"]: (row["depth"], "".join(names[step] for step in row["path"])) for row in rows}


# Closure


def test_downstream_is_everything_that_depends_on_the_system_directly_or_not(viewer, estate):
    rows = selectors.system_closure(user=viewer, system=estate["A"], direction="downstream")
    assert reached(rows, estate) == {"C": (1, "AC"), "D": (1, "AD"), "B": (2, "ACB"), "E": (2, "ADE")}
    assert [row["name"] for row in rows] == ["C", "D", "B", "E"]
    first = rows[0]
    assert first == {
        "id": estate["C"].pk,
        "name": "C",
        "tier": 3,
        "owner_team_id": estate["C"].owner_team_id,
        "depth": 1,
        "path": [estate["A"].pk, estate["C"].pk],
    }


def test_upstream_is_everything_the_system_depends_on_directly_or_not(viewer, estate):
    rows = selectors.system_closure(user=viewer, system=estate["A"], direction="upstream")
    assert reached(rows, estate) == {"B": (1, "AB"), "C": (2, "ABC"), "F": (3, "ABCF")}


def test_a_system_on_a_cycle_is_not_its_own_dependency(viewer, estate):
    for direction in ("downstream", "upstream"):
        for name in "ABC":
            rows = selectors.system_closure(user=viewer, system=estate[name], direction=direction)
            assert name not in reached(rows, estate)


def test_max_depth_limits_the_closure(viewer, estate):
    one = selectors.system_closure(user=viewer, system=estate["A"], direction="downstream", max_depth=1)
    assert reached(one, estate) == {"C": (1, "AC"), "D": (1, "AD")}
    two = selectors.system_closure(user=viewer, system=estate["A"], direction="upstream", max_depth=2)
    assert reached(two, estate) == {"B": (1, "AB"), "C": (2, "ABC")}


def test_systems_at_the_edge_of_the_graph_reach_nothing_one_way(viewer, estate):
    assert selectors.system_closure(user=viewer, system=estate["E"], direction="downstream") == []
    assert selectors.system_closure(user=viewer, system=estate["F"], direction="upstream") == []
    for direction in ("downstream", "upstream"):
        assert selectors.system_closure(user=viewer, system=estate["G"], direction=direction) == []


def test_an_unknown_direction_is_refused_rather_than_read_as_upstream(viewer, estate):
    from launchdeck.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        selectors.system_closure(user=viewer, system=estate["A"], direction="sideways")
    assert [error["field"] for error in caught.value.errors] == ["direction"]


def test_a_user_who_may_not_read_sees_an_empty_closure(make_user, estate):
    nobody = make_user()
    assert selectors.system_closure(user=nobody, system=estate["A"], direction="downstream") == []


def _random_estate(size: int, edges: int) -> list:
    team = TeamFactory()
    systems = [SystemFactory(owner_team=team) for _ in range(size)]
    rng = random.Random(size)
    pairs = set()
    while len(pairs) < edges:
        source, target = rng.sample(systems, 2)
        pairs.add((source, target))
    SystemDependency.objects.bulk_create([SystemDependency(source=s, target=t) for s, t in pairs])
    return systems


@pytest.mark.parametrize(("size", "edges"), [(3, 2), (80, 240)])
def test_the_closure_takes_three_queries_or_fewer_whatever_the_graph_size(
    viewer, django_assert_max_num_queries, size, edges
):
    systems = _random_estate(size, edges)
    for direction in ("downstream", "upstream"):
        with django_assert_max_num_queries(3):
            rows = selectors.system_closure(user=viewer, system=systems[0], direction=direction)
        assert len(rows) <= size - 1
    with django_assert_max_num_queries(3):
        selectors.system_neighbourhood(user=viewer, system=systems[0], levels=4)


# Neighbourhood


def nodes_of(graph, estate) -> dict[str, tuple[str, int]]:
    names = {system.pk: name for name, system in estate.items()}
    return {names[node["id"]]: (node["side"], node["depth"]) for node in graph["nodes"]}


def links_of(graph, estate) -> set[str]:
    names = {system.pk: name for name, system in estate.items()}
    return {names[link["source"]] + names[link["target"]] for link in graph["links"]}


def test_one_level_shows_the_direct_neighbours_and_the_links_between_them(viewer, estate):
    graph = selectors.system_neighbourhood(user=viewer, system=estate["A"], levels=1)
    assert nodes_of(graph, estate) == {
        "A": ("centre", 0),
        "C": ("downstream", 1),
        "D": ("downstream", 1),
        "B": ("upstream", 1),
    }
    assert links_of(graph, estate) == {"AB", "BC", "CA", "DA"}
    centre = graph["nodes"][0]
    assert centre == {
        "id": estate["A"].pk,
        "name": "A",
        "tier": 3,
        "depth": 0,
        "side": "centre",
        "url": f"/catalog/systems/{estate['A'].pk}/",
    }
    assert {link["kind"] for link in graph["links"]} == {"api"}


def test_more_levels_reach_further_and_a_system_on_a_cycle_counts_as_downstream(viewer, estate):
    two = selectors.system_neighbourhood(user=viewer, system=estate["A"], levels=2)
    assert nodes_of(two, estate) == {
        "A": ("centre", 0),
        "C": ("downstream", 1),
        "D": ("downstream", 1),
        "B": ("downstream", 2),
        "E": ("downstream", 2),
    }
    assert links_of(two, estate) == {"AB", "BC", "CA", "DA", "ED"}
    three = selectors.system_neighbourhood(user=viewer, system=estate["A"], levels=3)
    assert set(nodes_of(three, estate)) == set("ABCDEF")
    assert nodes_of(three, estate)["F"] == ("upstream", 3)
    assert links_of(three, estate) == {"AB", "BC", "CA", "DA", "ED", "CF"}


def test_a_system_with_no_dependencies_is_alone_in_its_neighbourhood(viewer, estate):
    graph = selectors.system_neighbourhood(user=viewer, system=estate["G"], levels=4)
    assert nodes_of(graph, estate) == {"G": ("centre", 0)} and graph["links"] == []


# Lists and summary


def test_system_list_counts_dependencies_each_way_and_filters(viewer, estate):
    rows = {
        system.name: (system.dependency_count, system.dependent_count) for system in selectors.system_list(user=viewer)
    }
    assert rows == {"A": (1, 2), "B": (1, 1), "C": (2, 1), "D": (1, 1), "E": (1, 0), "F": (0, 1), "G": (0, 0)}
    SystemFactory(name="Vault", tier=1, kind="service", lifecycle="retired", description="Keeps secrets")
    assert [s.name for s in selectors.system_list(user=viewer, tier=1)] == ["Vault"]
    assert [s.name for s in selectors.system_list(user=viewer, kind="service")] == ["Vault"]
    assert [s.name for s in selectors.system_list(user=viewer, lifecycle="retired")] == ["Vault"]
    assert [s.name for s in selectors.system_list(user=viewer, search="SECRET")] == ["Vault"]
    assert len(selectors.system_list(user=viewer, owner_team=estate["A"].owner_team_id)) == 7


def test_dependency_list_matches_either_end(viewer, estate):
    def pairs(**filters):
        return {f"{d.source.name}{d.target.name}" for d in selectors.dependency_list(user=viewer, **filters)}

    assert pairs(system=estate["C"].pk) == {"BC", "CA", "CF"}
    assert pairs(source=estate["C"].pk) == {"CA", "CF"}
    assert pairs(target=estate["C"].pk) == {"BC"}


def test_catalogue_summary_counts_systems_dependencies_live_tiers_and_tier_1_hubs(viewer):
    team = TeamFactory()
    hub = SystemFactory(name="Hub", tier=1, owner_team=team)
    quiet = SystemFactory(name="Quiet", tier=1, owner_team=team)
    SystemFactory(name="Old", tier=1, lifecycle="retired", owner_team=team)
    others = [SystemFactory(tier=2 + index % 2, owner_team=team) for index in range(4)]
    for other in others:
        SystemDependencyFactory(source=other, target=hub)
    SystemDependencyFactory(source=hub, target=quiet)
    summary = selectors.catalogue_summary(user=viewer)
    assert (summary["systems"], summary["dependencies"]) == (7, 5)
    assert summary["by_tier"] == [{"tier": 1, "count": 2}, {"tier": 2, "count": 2}, {"tier": 3, "count": 2}]
    assert [(system.name, system.dependent_count) for system in summary["hubs"]] == [
        ("Hub", 4),
        ("Quiet", 1),
        ("Old", 0),
    ]
