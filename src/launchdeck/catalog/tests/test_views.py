"""The catalogue's pages: the list that filters, the system page with its graph, forms that save through services."""

import json
import re

import pytest

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.catalog.tests.factories import (
    ComponentFactory,
    SystemDependencyFactory,
    SystemFactory,
    systems_with_edges,
)
from launchdeck.org.tests.factories import TeamFactory


@pytest.fixture
def signed_in(client, release_manager):
    client.force_login(release_manager)
    return client


def text(response) -> str:
    return response.content.decode()


def web_event(event_type: str) -> AuditEvent:
    event = AuditEvent.objects.get(event_type=event_type)
    assert event.source == "web"
    return event


def section(page: str, start: str, end: str) -> str:
    """The part of `page` between two headings."""
    return page[page.index(start) : page.index(end, page.index(start))]


def graph_data(page: str) -> dict:
    found = re.search(r'<script id="system-graph-data" type="application/json">(.*?)</script>', page, re.S)
    assert found, "the page carries no graph data"
    return json.loads(found.group(1))


# The list


def test_system_list_shows_each_system_with_its_owner_and_counts(signed_in):
    systems = systems_with_edges("AB", [("A", "B")], owner_team=TeamFactory(name="Falcon"))
    page = text(signed_in.get("/catalog/systems/"))
    assert f'href="/catalog/systems/{systems["A"].pk}/"' in page and "Falcon" in page
    assert 'href="/catalog/systems/new/"' in page


def test_system_list_filters_by_search_owner_team_tier_and_lifecycle(signed_in):
    falcon, orion = TeamFactory(name="Falcon"), TeamFactory(name="Orion")
    SystemFactory(name="Ledger", owner_team=falcon, tier=1, description="general accounts")
    SystemFactory(name="Vault", owner_team=orion, tier=1, lifecycle="sunsetting")
    SystemFactory(name="Portal", owner_team=orion, tier=4)

    def listed(**params) -> set[str]:
        page = text(signed_in.get("/catalog/systems/", params))
        return {name for name in ("Ledger", "Vault", "Portal") if f">{name}</a>" in page}

    assert listed() == {"Ledger", "Vault", "Portal"}
    assert listed(q="ACCOUNTS") == {"Ledger"}
    assert listed(owner_team=orion.pk) == {"Vault", "Portal"}
    assert listed(tier=1) == {"Ledger", "Vault"}
    assert listed(lifecycle="sunsetting") == {"Vault"}
    assert listed(owner_team=orion.pk, tier=4) == {"Portal"}


def test_htmx_list_requests_get_only_the_table(signed_in):
    SystemFactory(name="Ledger")
    response = signed_in.get("/catalog/systems/", {"q": "led"}, headers={"HX-Request": "true"})
    assert text(response).startswith('<div id="object-table">')
    assert "Ledger" in text(response) and "<html" not in text(response)


def test_a_viewer_sees_the_list_without_a_new_button(client, viewer):
    SystemFactory(name="Ledger")
    client.force_login(viewer)
    page = text(client.get("/catalog/systems/"))
    assert "Ledger" in page and "/catalog/systems/new/" not in page


# The system page


@pytest.fixture
def estate(db):
    # "X depends on Y". A → B → C → A is a cycle; D depends on A, E on D; C depends on F.
    return systems_with_edges("ABCDEF", [("A", "B"), ("B", "C"), ("C", "A"), ("D", "A"), ("E", "D"), ("C", "F")])


def test_the_system_page_carries_its_dependency_graph(signed_in, estate):
    a = estate["A"]
    page = text(signed_in.get(f"/catalog/systems/{a.pk}/"))
    data = graph_data(page)
    assert (data["kind"], data["centre"], data["title"]) == ("dependency-graph", a.pk, "Dependencies of A")
    assert {node["name"]: node["side"] for node in data["nodes"]} == {
        "A": "centre",
        "C": "downstream",
        "D": "downstream",
        "B": "downstream",
        "E": "downstream",
    }
    assert len(data["links"]) == 5
    wider = graph_data(text(signed_in.get(f"/catalog/systems/{a.pk}/", {"levels": 3})))
    assert len(wider["nodes"]) == 6
    for nonsense in ("9", "x"):
        assert len(graph_data(text(signed_in.get(f"/catalog/systems/{a.pk}/", {"levels": nonsense})))["nodes"]) == 5


def test_the_system_page_lists_direct_dependencies_both_ways(signed_in, estate):
    page = text(signed_in.get(f"/catalog/systems/{estate['C'].pk}/"))
    depends_on = section(page, '<h2 class="h6">Depends on</h2>', "Depended on by")
    depended_on_by = section(page, "Depended on by", "What a change to")
    assert ">A</a>" in depends_on and ">F</a>" in depends_on and ">B</a>" not in depends_on
    assert ">B</a>" in depended_on_by and ">A</a>" not in depended_on_by
    assert f"/catalog/systems/{estate['C'].pk}/dependencies/" in page


def test_the_system_page_lists_what_to_regression_test_with_the_path_to_each(signed_in, estate):
    page = text(signed_in.get(f"/catalog/systems/{estate['A'].pk}/"))
    regression = section(page, "What a change to A may break", '<h2 class="h6">Components</h2>')
    assert "4 systems to regression-test" in regression
    for path in ("A → C", "A → D", "A → C → B", "A → D → E"):
        assert f'<td class="small">{path}</td>' in regression
    assert "F</a>" not in regression


def test_a_system_nothing_depends_on_says_so(signed_in, estate):
    page = text(signed_in.get(f"/catalog/systems/{estate['E'].pk}/"))
    assert "0 systems to regression-test" in page and "Nothing depends on it." in page


def test_the_system_page_shows_its_fields_components_and_history_tab(signed_in):
    system = SystemFactory(
        name="Ledger", tier=1, owner_team=TeamFactory(name="Falcon"), external_ids={"cmdb": "CI0042", "jira": "LED"}
    )
    ComponentFactory(system=system, name="Database", description="PostgreSQL")
    page = text(signed_in.get(f"/catalog/systems/{system.pk}/"))
    assert "Tier 1 (business critical)" in page and "Falcon" in page
    assert "cmdb: CI0042, jira: LED" in page
    assert "Database" in page and "PostgreSQL" in page
    assert f"/audit/history/catalog.system/{system.pk}/" in page and ">History</button>" in page
    assert f"/catalog/systems/{system.pk}/edit/" in page and f"/catalog/systems/{system.pk}/delete/" in page


def test_a_viewer_sees_the_system_page_without_forms(client, viewer, estate):
    client.force_login(viewer)
    page = text(client.get(f"/catalog/systems/{estate['A'].pk}/"))
    assert "system-graph-data" in page
    assert "/dependencies/" not in page and "/components/" not in page and "/edit/" not in page


def test_an_unknown_system_page_is_404(signed_in):
    assert signed_in.get("/catalog/systems/999999/").status_code == 404


# Create and edit


def _form(team, **fields) -> dict:
    return {
        "name": "Ledger",
        "kind": "application",
        "owner_team": team.pk,
        "tier": "2",
        "lifecycle": "live",
        "description": "",
        "external_ids": "",
        **fields,
    }


def test_creating_a_system_reads_external_ids_as_tool_value_lines(signed_in):
    team = TeamFactory()
    response = signed_in.post(
        "/catalog/systems/new/", _form(team, external_ids="cmdb: CI0042\r\n\r\njira:  LED \r\nwiki: https://w/x")
    )
    system = System.objects.get()
    assert response.status_code == 302 and response.url == f"/catalog/systems/{system.pk}/"
    assert (system.name, system.tier, system.owner_team) == ("Ledger", 2, team)
    assert system.external_ids == {"cmdb": "CI0042", "jira": "LED", "wiki": "https://w/x"}
    assert web_event("system.created").actor.username == "release_manager"


def test_a_line_without_a_colon_re_renders_the_form_with_the_error(signed_in, unchanged):
    team = TeamFactory()
    with unchanged():
        response = signed_in.post("/catalog/systems/new/", _form(team, external_ids="cmdb: CI1\nCI0042"))
    assert response.status_code == 422
    assert "“CI0042” needs a colon: write `tool: value`." in text(response)
    assert "cmdb: CI1\nCI0042</textarea>" in text(response)


@pytest.mark.parametrize(
    ("external_ids", "message"),
    [
        ("t" * 41 + ": x", "Each external id is a tool name (up to 40 characters)"),
        ("\n".join(f"tool{index}: x" for index in range(21)), "External ids are up to 20 name: value pairs."),
        ('{"cmdb": 42}', "Each external id is a tool name"),
        ("{not json", "Write one `tool: value` per line."),
    ],
)
def test_external_ids_the_service_refuses_are_shown_beside_the_field(signed_in, unchanged, external_ids, message):
    team = TeamFactory()
    with unchanged():
        response = signed_in.post("/catalog/systems/new/", _form(team, external_ids=external_ids))
    assert response.status_code == 422
    assert message in text(response)


def test_a_duplicate_name_re_renders_the_form_with_the_conflict(signed_in, unchanged):
    SystemFactory(name="Ledger")
    team = TeamFactory()
    with unchanged():
        response = signed_in.post("/catalog/systems/new/", _form(team, name="LEDGER"))
    assert response.status_code == 422
    assert "A system with this name already exists." in text(response)


def test_the_edit_form_shows_external_ids_as_lines_and_saves_a_change(signed_in):
    system = SystemFactory(name="Ledger", external_ids={"cmdb": "CI1", "jira": "LED"})
    page = text(signed_in.get(f"/catalog/systems/{system.pk}/edit/"))
    assert "cmdb: CI1\njira: LED</textarea>" in page
    response = signed_in.post(
        f"/catalog/systems/{system.pk}/edit/",
        _form(system.owner_team, version="1", tier="1", external_ids="cmdb: CI2"),
    )
    assert response.status_code == 302
    system.refresh_from_db()
    assert (system.tier, system.external_ids, system.version) == (1, {"cmdb": "CI2"}, 2)
    event = web_event("system.updated")
    assert event.old_data == {"tier": 3, "external_ids": {"cmdb": "CI1", "jira": "LED"}}


def test_a_stale_edit_re_renders_the_form_saying_someone_else_changed_it(signed_in, unchanged):
    system = SystemFactory(name="Ledger", version=2)
    with unchanged():
        response = signed_in.post(f"/catalog/systems/{system.pk}/edit/", _form(system.owner_team, version="1"))
    assert response.status_code == 422
    assert "This object was changed by someone else" in text(response)


def test_deleting_a_system_through_its_page(signed_in):
    system = SystemFactory(name="Ledger")
    ComponentFactory(system=system)
    assert "Ledger" in text(signed_in.get(f"/catalog/systems/{system.pk}/delete/"))
    response = signed_in.post(f"/catalog/systems/{system.pk}/delete/")
    assert response.status_code == 302 and response.url == "/catalog/systems/"
    assert not System.objects.exists() and not Component.objects.exists()
    assert web_event("system.deleted").old_data == {"name": "Ledger"}


def test_a_viewer_may_not_open_the_forms(client, viewer, unchanged):
    system = SystemFactory()
    client.force_login(viewer)
    with unchanged():
        assert client.get("/catalog/systems/new/").status_code == 403
        assert client.post(f"/catalog/systems/{system.pk}/edit/", _form(system.owner_team)).status_code == 403
        assert client.post(f"/catalog/systems/{system.pk}/delete/").status_code == 403
        assert client.post(f"/catalog/systems/{system.pk}/components/", {"name": "Db"}).status_code == 403


# Dependencies and components through the page


def test_adding_a_dependency_through_the_page(signed_in):
    billing, ledger = SystemFactory(name="Billing"), SystemFactory(name="Ledger")
    response = signed_in.post(
        f"/catalog/systems/{billing.pk}/dependencies/",
        {"target": ledger.pk, "interface_kind": "batch", "criticality": "high"},
        follow=True,
    )
    assert "Billing now depends on Ledger." in text(response)
    dependency = SystemDependency.objects.get()
    assert (dependency.source, dependency.target, dependency.interface_kind) == (billing, ledger, "batch")
    assert web_event("system_dependency.created").object_id == str(dependency.pk)


def test_a_dependency_on_itself_through_the_page_shows_the_error_and_creates_nothing(signed_in, unchanged):
    system = SystemFactory(name="Billing")
    with unchanged():
        response = signed_in.post(
            f"/catalog/systems/{system.pk}/dependencies/",
            {"target": system.pk, "interface_kind": "api", "criticality": "medium"},
            follow=True,
        )
    assert response.redirect_chain == [(f"/catalog/systems/{system.pk}/", 302)]
    assert "A system cannot depend on itself." in text(response)


def test_a_duplicate_dependency_through_the_page_shows_the_conflict(signed_in, unchanged):
    existing = SystemDependencyFactory()
    with unchanged():
        response = signed_in.post(
            f"/catalog/systems/{existing.source_id}/dependencies/",
            {"target": existing.target_id, "interface_kind": "api", "criticality": "medium"},
            follow=True,
        )
    assert "This dependency is already recorded." in text(response)


def test_an_incomplete_dependency_form_says_what_is_missing(signed_in, unchanged):
    system = SystemFactory()
    with unchanged():
        response = signed_in.post(f"/catalog/systems/{system.pk}/dependencies/", {"target": ""}, follow=True)
    assert "Choose the system it depends on, the interface and the criticality." in text(response)


def test_removing_a_dependency_through_the_page(signed_in):
    dependency = SystemDependencyFactory(source=SystemFactory(name="Billing"), target=SystemFactory(name="Ledger"))
    response = signed_in.post(
        f"/catalog/systems/{dependency.target_id}/dependencies/{dependency.pk}/remove/", follow=True
    )
    assert "Removed: Billing depends on Ledger." in text(response)
    assert not SystemDependency.objects.exists()
    assert web_event("system_dependency.deleted").object_id == str(dependency.pk)


def test_a_dependency_is_removed_only_through_a_system_it_touches(signed_in, unchanged):
    dependency = SystemDependencyFactory()
    bystander = SystemFactory()
    with unchanged():
        response = signed_in.post(f"/catalog/systems/{bystander.pk}/dependencies/{dependency.pk}/remove/")
    assert response.status_code == 404


def test_adding_a_component_through_the_page(signed_in):
    system = SystemFactory()
    response = signed_in.post(
        f"/catalog/systems/{system.pk}/components/", {"name": "Database", "description": "PostgreSQL"}, follow=True
    )
    assert "Component Database is added." in text(response)
    assert Component.objects.get().system == system
    assert web_event("component.created").new_data["name"] == "Database"


def test_a_duplicate_or_nameless_component_through_the_page_shows_the_error(signed_in, unchanged):
    component = ComponentFactory(name="Database")
    url = f"/catalog/systems/{component.system_id}/components/"
    with unchanged():
        duplicate = signed_in.post(url, {"name": "database"}, follow=True)
        nameless = signed_in.post(url, {"name": ""}, follow=True)
    assert "This system already has a component with this name." in text(duplicate)
    assert "A component needs a name of at most 150 characters." in text(nameless)


def test_an_environment_manager_may_add_components_but_not_dependencies(client, environment_manager):
    a, b = SystemFactory(), SystemFactory()
    client.force_login(environment_manager)
    page = text(client.get(f"/catalog/systems/{a.pk}/"))
    assert f"/catalog/systems/{a.pk}/components/" in page and f"/catalog/systems/{a.pk}/dependencies/" not in page
    assert client.post(f"/catalog/systems/{a.pk}/components/", {"name": "Db"}).status_code == 302
    response = client.post(
        f"/catalog/systems/{a.pk}/dependencies/", {"target": b.pk, "interface_kind": "api", "criticality": "low"}
    )
    assert response.status_code == 403 and not SystemDependency.objects.exists()
