"""The catalogue's API: the wiring of every endpoint, its error mapping, its filters and its query counts."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.models import Component, SystemDependency
from launchdeck.catalog.tests.factories import (
    ComponentFactory,
    SystemDependencyFactory,
    SystemFactory,
    systems_with_edges,
)
from launchdeck.org.tests.factories import TeamFactory


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


@pytest.fixture
def team(db):
    return TeamFactory(name="Falcon")


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


# Systems


def test_system_create_list_get_update_delete(api, team):
    created = api.post(
        "/systems",
        {"name": " Ledger ", "owner_team_id": team.pk, "tier": 1, "external_ids": {"cmdb": "CI0042"}},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Ledger",
        "kind": "application",
        "owner_team_id": team.pk,
        "owner_team": "Falcon",
        "tier": 1,
        "lifecycle": "live",
        "description": "",
        "external_ids": {"cmdb": "CI0042"},
        "dependency_count": 0,
        "dependent_count": 0,
        "version": 1,
    }
    path = f"/systems/{body['id']}"
    assert api.get("/systems").json()["count"] == 1
    assert api.get(path).json()["name"] == "Ledger"

    other = TeamFactory(name="Orion")
    updated = api.patch(path, {"version": 1, "owner_team_id": other.pk, "lifecycle": "sunsetting"})
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["owner_team"], updated.json()["lifecycle"], updated.json()["version"]) == (
        "Orion",
        "sunsetting",
        2,
    )

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    sources = AuditEvent.objects.filter(object_type="catalog.system").values_list("event_type", "source")
    assert sorted(sources) == [("system.created", "api"), ("system.deleted", "api"), ("system.updated", "api")]


def test_a_system_shows_how_many_dependencies_it_has_each_way(api):
    systems = systems_with_edges("ABC", [("A", "B"), ("C", "B"), ("B", "A")])
    body = api.get(f"/systems/{systems['B'].pk}").json()
    assert (body["dependency_count"], body["dependent_count"]) == (1, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tier": 0}, "tier"),
        ({"tier": 5}, "tier"),
        ({"name": ""}, "name"),
        ({"kind": "spreadsheet"}, "kind"),
        ({"lifecycle": "zombie"}, "lifecycle"),
        ({"external_ids": ["cmdb"]}, "external_ids"),
        ({"external_ids": {"cmdb": 42}}, "external_ids.cmdb"),
        ({"external_ids": {f"tool{index}": "x" for index in range(21)}}, "external_ids"),
        ({"external_ids": {"t" * 41: "x"}}, "external_ids"),
        ({"owner_team_id": 999_999}, "owner_team_id"),
        ({"owner_team_id": None}, "owner_team_id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_system_create_answers_bad_input_with_422_naming_the_field(api, team, unchanged, body, field):
    with unchanged():
        response = api.post("/systems", {"name": "Ledger", "owner_team_id": team.pk, **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_duplicate_system_name_is_409(api, team, unchanged):
    SystemFactory(name="Ledger")
    with unchanged():
        response = api.post("/systems", {"name": "LEDGER", "owner_team_id": team.pk})
    assert response.status_code == 409
    assert response.json()["detail"] == "A system with this name already exists."


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner_team_id": None}, "owner_team_id"),
        ({"owner_team_id": 999_999}, "owner_team_id"),
        ({"tier": 5}, "tier"),
        ({"external_ids": {f"tool{index}": "x" for index in range(21)}}, "external_ids"),
        ({"external_ids": None}, "external_ids"),
        ({"name": None}, "name"),
        ({}, "version"),
    ],
)
def test_system_update_answers_bad_input_with_422_naming_the_field(api, unchanged, body, field):
    system = SystemFactory()
    with unchanged():
        response = api.patch(f"/systems/{system.pk}", {"version": 1, **body} if body else {"tier": 2})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_stale_system_edit_is_409(api, unchanged):
    system = SystemFactory()
    assert api.patch(f"/systems/{system.pk}", {"version": 1, "tier": 2}).status_code == 200
    with unchanged():
        response = api.patch(f"/systems/{system.pk}", {"version": 1, "tier": 4})
    assert response.status_code == 409
    assert fields(response) == ["version"]


def test_systems_filter_by_owner_team_tier_lifecycle_kind_and_search(api):
    falcon, orion = TeamFactory(name="Falcon"), TeamFactory(name="Orion")
    SystemFactory(name="Ledger", owner_team=falcon, tier=1, description="General ledger")
    SystemFactory(name="Vault", owner_team=orion, tier=1, kind="service", lifecycle="sunsetting")
    SystemFactory(name="Portal", owner_team=orion, tier=4, description="Customer web site")
    assert names(api.get("/systems", {"owner_team": orion.pk})) == ["Portal", "Vault"]
    assert names(api.get("/systems", {"tier": 1})) == ["Ledger", "Vault"]
    assert names(api.get("/systems", {"lifecycle": "sunsetting"})) == ["Vault"]
    assert names(api.get("/systems", {"kind": "service"})) == ["Vault"]
    assert names(api.get("/systems", {"search": "LEDG"})) == ["Ledger"]
    assert names(api.get("/systems", {"search": "web site"})) == ["Portal"]
    assert names(api.get("/systems", {"owner_team": orion.pk, "tier": 4})) == ["Portal"]
    assert api.get("/systems", {"tier": 5}).status_code == 422
    assert api.get("/systems", {"kind": "spreadsheet"}).status_code == 422


def test_systems_sort_and_page_with_a_total_count(api):
    falcon, orion = TeamFactory(name="Falcon"), TeamFactory(name="Orion")
    SystemFactory(name="Bravo", tier=2, owner_team=orion)
    SystemFactory(name="Alpha", tier=3, owner_team=falcon)
    SystemFactory(name="Charlie", tier=1, owner_team=falcon)
    assert names(api.get("/systems")) == ["Alpha", "Bravo", "Charlie"]
    assert names(api.get("/systems", {"sort": "tier"})) == ["Charlie", "Bravo", "Alpha"]
    assert names(api.get("/systems", {"sort": "-name"})) == ["Charlie", "Bravo", "Alpha"]
    assert names(api.get("/systems", {"sort": "owner_team,-tier"})) == ["Alpha", "Charlie", "Bravo"]
    page = api.get("/systems", {"limit": 2, "offset": 1}).json()
    assert ([item["name"] for item in page["items"]], page["count"], page["limit"], page["offset"]) == (
        ["Bravo", "Charlie"],
        3,
        2,
        1,
    )
    bad = api.get("/systems", {"sort": "colour"})
    assert bad.status_code == 422 and fields(bad) == ["sort"]


def test_listing_systems_takes_the_same_number_of_queries_for_40_systems_as_for_one(api):
    SystemFactory()
    api.get("/systems")  # a token records its use at most once a minute; keep that write out of the count
    with CaptureQueriesContext(connection) as one:
        assert api.get("/systems").status_code == 200
    team = TeamFactory()
    systems = [SystemFactory(owner_team=TeamFactory() if index % 3 else team) for index in range(39)]
    for source, target in itertools.pairwise(systems):
        SystemDependencyFactory(source=source, target=target)
    with CaptureQueriesContext(connection) as forty:
        response = api.get("/systems")
    assert response.json()["count"] == 40
    assert len(forty) == len(one) <= 8


@pytest.mark.parametrize("path", ["/systems/999999", "/systems/999999/closure", "/systems/999999/graph"])
def test_unknown_systems_are_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["detail"] == "System not found."


def test_updating_or_deleting_an_unknown_system_is_404(api):
    assert api.patch("/systems/999999", {"version": 1, "tier": 2}).status_code == 404
    assert api.delete("/systems/999999").status_code == 404


def test_a_viewer_reads_the_catalogue_but_may_not_change_it(api_as, viewer, unchanged):
    system = SystemFactory(name="Ledger")
    client = api_as(viewer)
    assert client.get(f"/systems/{system.pk}").json()["name"] == "Ledger"
    with unchanged():
        response = client.patch(f"/systems/{system.pk}", {"version": 1, "tier": 1})
    assert response.status_code == 403


# Components


def test_component_create_list_update_delete_under_their_system(api):
    system = SystemFactory()
    base = f"/systems/{system.pk}/components"
    created = api.post(base, {"name": "Database", "description": "PostgreSQL"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "system_id": system.pk,
        "name": "Database",
        "description": "PostgreSQL",
        "version": 1,
    }
    ComponentFactory(name="Elsewhere")
    assert [item["name"] for item in api.get(base).json()] == ["Database"]
    updated = api.patch(f"{base}/{body['id']}", {"version": 1, "name": "Main database"})
    assert (updated.status_code, updated.json()["name"], updated.json()["version"]) == (200, "Main database", 2)
    assert api.delete(f"{base}/{body['id']}").status_code == 204
    assert api.get(base).json() == []
    sources = AuditEvent.objects.filter(object_type="catalog.component").values_list("event_type", "source")
    assert sorted(sources) == [("component.created", "api"), ("component.deleted", "api"), ("component.updated", "api")]


def test_a_duplicate_component_name_in_the_system_is_409_but_another_system_may_have_it(api, unchanged):
    component = ComponentFactory(name="Database")
    with unchanged():
        response = api.post(f"/systems/{component.system_id}/components", {"name": "DATABASE"})
    assert response.status_code == 409
    other = SystemFactory()
    assert api.post(f"/systems/{other.pk}/components", {"name": "Database"}).status_code == 201


def test_a_component_is_found_only_under_its_own_system(api):
    component = ComponentFactory()
    other = SystemFactory()
    assert api.patch(f"/systems/{other.pk}/components/{component.pk}", {"version": 1, "name": "x"}).status_code == 404
    assert api.delete(f"/systems/{other.pk}/components/{component.pk}").status_code == 404
    assert api.get("/systems/999999/components").status_code == 404
    assert api.post("/systems/999999/components", {"name": "Database"}).status_code == 404
    assert Component.objects.get().name == component.name


def test_an_environment_manager_may_add_components_but_not_systems(api_as, environment_manager, team):
    client = api_as(environment_manager)
    system = SystemFactory()
    assert client.post(f"/systems/{system.pk}/components", {"name": "Database"}).status_code == 201
    assert client.post("/systems", {"name": "Ledger", "owner_team_id": team.pk}).status_code == 403


# Dependencies


def test_dependency_create_list_get_update_delete(api):
    billing, ledger = SystemFactory(name="Billing"), SystemFactory(name="Ledger")
    created = api.post(
        "/system-dependencies",
        {"source_id": billing.pk, "target_id": ledger.pk, "interface_kind": "data_feed", "criticality": "high"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "source_id": billing.pk,
        "source": "Billing",
        "target_id": ledger.pk,
        "target": "Ledger",
        "interface_kind": "data_feed",
        "criticality": "high",
        "description": "",
        "version": 1,
    }
    path = f"/system-dependencies/{body['id']}"
    assert api.get(path).json()["target"] == "Ledger"
    assert api.get("/system-dependencies").json()["count"] == 1
    updated = api.patch(path, {"version": 1, "criticality": "low", "description": "Nightly"})
    assert (updated.status_code, updated.json()["criticality"], updated.json()["version"]) == (200, "low", 2)
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    sources = AuditEvent.objects.filter(object_type="catalog.systemdependency").values_list("event_type", "source")
    assert sorted(sources) == [
        ("system_dependency.created", "api"),
        ("system_dependency.deleted", "api"),
        ("system_dependency.updated", "api"),
    ]


def test_dependencies_filter_by_source_target_or_either_end(api):
    systems = systems_with_edges("ABC", [("A", "B"), ("B", "C"), ("C", "A")])

    def pairs(**params):
        return [(item["source"], item["target"]) for item in api.get("/system-dependencies", params).json()["items"]]

    assert pairs() == [("A", "B"), ("B", "C"), ("C", "A")]
    assert pairs(source=systems["B"].pk) == [("B", "C")]
    assert pairs(target=systems["B"].pk) == [("A", "B")]
    assert pairs(system=systems["B"].pk) == [("A", "B"), ("B", "C")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_id": 999_999}, "source_id"),
        ({"target_id": 999_999}, "target_id"),
        ({"interface_kind": "carrier pigeon"}, "interface_kind"),
        ({"criticality": "extreme"}, "criticality"),
    ],
)
def test_dependency_create_answers_bad_references_with_422_naming_the_field(api, unchanged, body, field):
    source, target = SystemFactory(), SystemFactory()
    with unchanged():
        response = api.post("/system-dependencies", {"source_id": source.pk, "target_id": target.pk, **body})
    assert response.status_code == 422
    assert fields(response) == [field]


def test_a_dependency_on_itself_is_422_on_the_target(api, unchanged):
    system = SystemFactory()
    with unchanged():
        response = api.post("/system-dependencies", {"source_id": system.pk, "target_id": system.pk})
    assert response.status_code == 422
    assert response.json() == {
        "detail": "A system cannot depend on itself.",
        "errors": [{"field": "target", "message": "A system cannot depend on itself."}],
    }


def test_the_same_dependency_twice_is_409(api, unchanged):
    existing = SystemDependencyFactory()
    with unchanged():
        response = api.post("/system-dependencies", {"source_id": existing.source_id, "target_id": existing.target_id})
    assert response.status_code == 409
    assert response.json()["detail"] == "This dependency is already recorded."


def test_a_dependency_cannot_be_moved_to_other_systems(api, unchanged):
    dependency = SystemDependencyFactory()
    with unchanged():
        response = api.patch(f"/system-dependencies/{dependency.pk}", {"version": 1, "target_id": 1})
    assert response.status_code == 422 and fields(response) == ["target_id"]


def test_unknown_dependencies_are_404(api):
    assert api.get("/system-dependencies/999999").status_code == 404
    assert api.patch("/system-dependencies/999999", {"version": 1, "criticality": "low"}).status_code == 404
    assert api.delete("/system-dependencies/999999").status_code == 404


def test_deleting_a_system_takes_its_dependencies_with_it(api):
    systems = systems_with_edges("ABC", [("A", "B"), ("B", "C"), ("C", "A")])
    assert api.delete(f"/systems/{systems['B'].pk}").status_code == 204
    assert list(SystemDependency.objects.values_list("source__name", "target__name")) == [("C", "A")]


# Closure and graph


@pytest.fixture
def estate(db):
    # A → B → C → A is a cycle; D depends on A, E on D; C depends on F.
    return systems_with_edges("ABCDEF", [("A", "B"), ("B", "C"), ("C", "A"), ("D", "A"), ("E", "D"), ("C", "F")])


def test_the_downstream_closure_lists_what_depends_on_a_system_with_depth_and_path(api, estate):
    a, c, d = estate["A"], estate["C"], estate["D"]
    response = api.get(f"/systems/{a.pk}/closure", {"direction": "downstream"})
    assert response.status_code == 200
    body = response.json()
    assert (body["system_id"], body["direction"], body["count"]) == (a.pk, "downstream", 4)
    assert body["systems"][:2] == [
        {"id": c.pk, "name": "C", "tier": 3, "owner_team_id": c.owner_team_id, "depth": 1, "path": [a.pk, c.pk]},
        {"id": d.pk, "name": "D", "tier": 3, "owner_team_id": d.owner_team_id, "depth": 1, "path": [a.pk, d.pk]},
    ]
    assert [(row["name"], row["depth"]) for row in body["systems"][2:]] == [("B", 2), ("E", 2)]
    assert api.get(f"/systems/{a.pk}/closure").json() == body


def test_the_upstream_closure_lists_what_a_system_depends_on(api, estate):
    a = estate["A"]
    body = api.get(f"/systems/{a.pk}/closure", {"direction": "upstream"}).json()
    assert body["count"] == 3
    assert [(row["name"], row["depth"], len(row["path"])) for row in body["systems"]] == [
        ("B", 1, 2),
        ("C", 2, 3),
        ("F", 3, 4),
    ]
    limited = api.get(f"/systems/{a.pk}/closure", {"direction": "upstream", "max_depth": 2}).json()
    assert (limited["count"], [row["name"] for row in limited["systems"]]) == (2, ["B", "C"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"max_depth": 0}, "max_depth"),
        ({"max_depth": 101}, "max_depth"),
    ],
)
def test_closure_answers_bad_parameters_with_422(api, estate, params, field):
    response = api.get(f"/systems/{estate['A'].pk}/closure", params)
    assert response.status_code == 422
    assert fields(response) == [field]


def test_the_graph_shows_the_systems_within_the_levels_asked_for(api, estate):
    a = estate["A"]
    one = api.get(f"/systems/{a.pk}/graph", {"levels": 1}).json()
    assert sorted(node["name"] for node in one["nodes"]) == ["A", "B", "C", "D"]
    assert len(one["links"]) == 4
    default = api.get(f"/systems/{a.pk}/graph").json()
    assert sorted(node["name"] for node in default["nodes"]) == ["A", "B", "C", "D", "E"]
    three = api.get(f"/systems/{a.pk}/graph", {"levels": 3}).json()
    by_name = {node["name"]: node for node in three["nodes"]}
    assert by_name["F"] == {
        "id": estate["F"].pk,
        "name": "F",
        "tier": 3,
        "depth": 3,
        "side": "upstream",
        "url": f"/catalog/systems/{estate['F'].pk}/",
    }
    assert {"source": estate["C"].pk, "target": estate["F"].pk, "kind": "api"} in three["links"]
    for levels in (0, 7):
        assert api.get(f"/systems/{a.pk}/graph", {"levels": levels}).status_code == 422
