"""The inventory's pages: the list that filters, the environment page, forms that save through services."""

import json
import re

import pytest

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.environments.models import Environment, EnvironmentComponent, EnvironmentGroup
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    EnvironmentStatusChangeFactory,
)
from launchdeck.org.tests.factories import TeamFactory

LIST = "/environments/"


@pytest.fixture
def signed_in(client, environment_manager):
    client.force_login(environment_manager)
    return client


def text(response) -> str:
    return response.content.decode()


def web_event(event_type: str) -> AuditEvent:
    event = AuditEvent.objects.get(event_type=event_type)
    assert event.source == "web"
    return event


def chart_data(page: str, element_id: str) -> dict:
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page, re.S)
    assert found, f"the page carries no {element_id}"
    return json.loads(found.group(1))


# The list


def test_the_list_shows_each_environment_with_status_capacity_and_availability(signed_in):
    environment = EnvironmentFactory(name="SIT 1", status="down", capacity=3, owner_team=TeamFactory(name="Falcon"))
    EnvironmentStatusChangeFactory(environment=environment, status="down", started_at=environment.status_since)
    page = text(signed_in.get(LIST))
    assert f'href="/environments/{environment.pk}/"' in page and "Falcon" in page
    assert '<span class="badge text-bg-danger">Down</span>' in page
    assert "0.0%" in page  # down for the whole window
    assert 'href="/environments/new/"' in page
    assert 'aria-current="page"><i class="bi bi-hdd-stack"></i> Inventory' in page  # the sub-navigation


def test_the_list_filters_by_search_type_status_and_group(signed_in):
    lane = EnvironmentGroupFactory(name="Lane")
    EnvironmentFactory(name="SIT 1", group=lane)
    EnvironmentFactory(name="UAT 1", environment_type="uat", status="maintenance")

    def listed(**params) -> set[str]:
        page = text(signed_in.get(LIST, params))
        return {name for name in ("SIT 1", "UAT 1") if f">{name}</a>" in page}

    assert listed() == {"SIT 1", "UAT 1"}
    assert listed(q="uat") == {"UAT 1"}
    assert listed(type="sit") == {"SIT 1"}
    assert listed(status="maintenance") == {"UAT 1"}
    assert listed(group=lane.pk) == {"SIT 1"}


def test_htmx_list_requests_get_only_the_table(signed_in):
    EnvironmentFactory(name="SIT 1")
    response = signed_in.get(LIST, {"q": "sit"}, headers={"HX-Request": "true"})
    assert text(response).startswith('<div id="object-table">') and "<html" not in text(response)


def test_the_list_takes_the_same_queries_for_any_number_of_environments(signed_in, django_assert_max_num_queries):
    for _ in range(10):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory())
        EnvironmentStatusChangeFactory(environment=environment)
    signed_in.get(LIST)
    with django_assert_max_num_queries(12):
        assert signed_in.get(LIST).status_code == 200


def test_readers_see_no_new_button_and_every_role_can_open_the_list(client, viewer):
    client.force_login(viewer)
    page = text(client.get(LIST))
    assert 'href="/environments/new/"' not in page
    assert "Environments" in page


def test_the_main_navigation_links_to_the_environments(signed_in):
    assert 'href="/environments/"' in text(signed_in.get("/"))


# The environment page


def test_the_environment_page_shows_overview_status_band_components_and_dependencies(signed_in):
    data_env = EnvironmentFactory(name="Shared data")
    environment = EnvironmentFactory(name="SIT 1")
    other = EnvironmentFactory(name="UAT 1")
    environment.depends_on.set([data_env])
    other.depends_on.set([environment])
    EnvironmentStatusChangeFactory(environment=environment, status="available", started_at=environment.status_since)
    EnvironmentComponentFactory(environment=environment, system=SystemFactory(name="Ledger"), version="4.2.0")
    page = text(signed_in.get(f"/environments/{environment.pk}/"))
    band = chart_data(page, "environment-status-band")
    assert band["kind"] == "heatmap" and band["y"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert len(band["cells"]) == 91 and len(band["x"]) in (13, 14)  # a cell per day of 90 days, a column per week
    assert {cell[2] for cell in band["cells"]} == {0}  # available every day
    assert "100.0%" in page
    assert "Ledger" in page and "4.2.0" in page
    assert ">Shared data</a>" in page.split('id="depends-on"')[1].split("</table>")[0]
    assert ">UAT 1</a>" in page.split('id="needed-by"')[1].split("</table>")[0]
    assert f'href="/environments/{environment.pk}/status/"' in page
    assert f'hx-get="/environments/{environment.pk}/panels/requests/"' in page or "panels" not in page


def test_an_unknown_environment_page_is_404(signed_in):
    assert signed_in.get("/environments/999999/").status_code == 404


def test_readers_see_no_edit_buttons(client, viewer):
    environment = EnvironmentFactory()
    EnvironmentComponentFactory(environment=environment)
    client.force_login(viewer)
    page = text(client.get(f"/environments/{environment.pk}/"))
    assert "/edit/" not in page and "/status/" not in page and "remove</button>" not in page


# Forms


def test_create_form_adds_an_environment(signed_in):
    team = TeamFactory()
    response = signed_in.post(
        "/environments/new/",
        {
            "name": "SIT 7",
            "environment_type": "sit",
            "category": "non_production",
            "hosting": "cloud",
            "owner_team": team.pk,
            "capacity": 2,
            "cost_per_day": "10",
            "status": "provisioning",
        },
    )
    environment = Environment.objects.get(name="SIT 7")
    assert response.status_code == 302 and response["Location"] == f"/environments/{environment.pk}/"
    assert web_event("environment.created").object_id == str(environment.pk)
    assert list(environment.status_changes.values_list("status", flat=True)) == ["provisioning"]


def test_a_bad_form_is_shown_again_with_the_message_and_nothing_is_saved(signed_in, unchanged):
    EnvironmentFactory(name="SIT 7")
    team = TeamFactory()
    with unchanged():
        response = signed_in.post(
            "/environments/new/",
            {
                "name": "sit 7",
                "environment_type": "sit",
                "category": "non_production",
                "hosting": "cloud",
                "owner_team": team.pk,
                "capacity": 2,
                "cost_per_day": "10",
                "status": "available",
            },
        )
    assert response.status_code == 422
    assert "An environment with this name already exists." in text(response)
    with unchanged():
        response = signed_in.post("/environments/new/", {"name": "X", "capacity": 0})
    assert response.status_code == 422 and "greater than or equal to 1" in text(response)


def test_edit_form_saves_through_the_service_and_refuses_a_stale_version(signed_in, unchanged):
    environment = EnvironmentFactory(name="SIT 1", capacity=1)
    data = {
        "version": 1,
        "name": "SIT 1",
        "environment_type": "sit",
        "category": "non_production",
        "hosting": "cloud",
        "owner_team": environment.owner_team_id,
        "capacity": 4,
        "cost_per_day": "0",
    }
    assert signed_in.post(f"/environments/{environment.pk}/edit/", data).status_code == 302
    environment.refresh_from_db()
    assert (environment.capacity, environment.version) == (4, 2)
    with unchanged():
        stale = signed_in.post(f"/environments/{environment.pk}/edit/", {**data, "capacity": 5})
    assert stale.status_code == 422 and "changed by someone else" in text(stale)


def test_the_status_form_records_a_status_change(signed_in):
    environment = EnvironmentFactory()
    page = signed_in.get(f"/environments/{environment.pk}/status/")
    assert page.status_code == 200
    response = signed_in.post(f"/environments/{environment.pk}/status/", {"status": "down", "note": "power cut"})
    assert response.status_code == 302
    environment.refresh_from_db()
    assert environment.status == "down"
    assert web_event("environment.status_changed").reason == "power cut"


def test_the_status_form_shows_why_a_change_is_refused(signed_in, unchanged):
    environment = EnvironmentFactory(name="SIT 1")
    with unchanged():
        response = signed_in.post(f"/environments/{environment.pk}/status/", {"status": "available"})
    assert response.status_code == 422 and "SIT 1 is already available." in text(response)
    with unchanged():
        response = signed_in.post(
            f"/environments/{environment.pk}/status/", {"status": "down", "at": "2999-01-01T00:00"}
        )
    assert response.status_code == 422 and "A status change cannot be in the future." in text(response)


def test_delete_asks_first_and_refuses_an_environment_in_use(signed_in, unchanged):
    environment = EnvironmentFactory(name="SIT 1")
    EnvironmentBookingFactory(environment=environment)
    assert "Delete SIT 1?" in text(signed_in.get(f"/environments/{environment.pk}/delete/"))
    with unchanged():
        response = signed_in.post(f"/environments/{environment.pk}/delete/", follow=True)
    assert "set its status to decommissioned instead" in text(response)
    unused = EnvironmentFactory(name="Mistake")
    assert signed_in.post(f"/environments/{unused.pk}/delete/")["Location"] == LIST
    assert not Environment.objects.filter(name="Mistake").exists()


def test_components_are_added_edited_and_removed(signed_in):
    environment = EnvironmentFactory()
    system = SystemFactory(name="Ledger")
    url = f"/environments/{environment.pk}/components/new/"
    assert signed_in.get(url).status_code == 200
    response = signed_in.post(url, {"system": system.pk, "version": "1.0"})
    assert response.status_code == 302 and response["Location"] == f"/environments/{environment.pk}/"
    row = EnvironmentComponent.objects.get()
    edit = f"/environments/{environment.pk}/components/{row.pk}/edit/"
    assert signed_in.get(edit).status_code == 200
    assert signed_in.post(edit, {"version": "2.0", "configuration": "flags"}).status_code == 302
    row.refresh_from_db()
    assert (row.version, row.configuration, row.system) == ("2.0", "flags", system)
    assert signed_in.post(f"/environments/{environment.pk}/components/{row.pk}/remove/").status_code == 302
    assert not EnvironmentComponent.objects.exists()
    assert [event.event_type for event in AuditEvent.objects.order_by("pk")][-3:] == [
        "environmentcomponent.set",
        "environmentcomponent.set",
        "environmentcomponent.removed",
    ]


def test_a_version_of_10000_characters_is_refused_on_the_form(signed_in, unchanged):
    environment, system = EnvironmentFactory(), SystemFactory()
    with unchanged():
        response = signed_in.post(
            f"/environments/{environment.pk}/components/new/", {"system": system.pk, "version": "1" * 10_000}
        )
    assert response.status_code == 422 and "at most 100 characters" in text(response)


def test_dependencies_are_added_and_removed_and_a_self_dependency_is_explained(signed_in, unchanged):
    environment, data_env = EnvironmentFactory(name="SIT 1"), EnvironmentFactory(name="Data")
    signed_in.post(f"/environments/{environment.pk}/depends-on/", {"depends_on": data_env.pk})
    assert list(environment.depends_on.all()) == [data_env]
    with unchanged():
        response = signed_in.post(
            f"/environments/{environment.pk}/depends-on/", {"depends_on": environment.pk}, follow=True
        )
    assert "SIT 1 cannot depend on itself." in text(response)
    signed_in.post(f"/environments/{environment.pk}/depends-on/{data_env.pk}/remove/")
    assert list(environment.depends_on.all()) == []
    assert signed_in.post(f"/environments/{environment.pk}/depends-on/{data_env.pk}/remove/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/environments/new/",
        "/environments/{pk}/edit/",
        "/environments/{pk}/status/",
        "/environments/{pk}/delete/",
        "/environments/{pk}/components/new/",
        "/environments/groups/new/",
    ],
)
def test_readers_may_not_open_the_forms(client, project_manager, path):
    environment = EnvironmentFactory()
    client.force_login(project_manager)
    assert client.get(path.format(pk=environment.pk)).status_code == 403


# Groups


def test_groups_are_listed_created_edited_and_deleted(signed_in):
    assert signed_in.post("/environments/groups/new/", {"name": "Lane A"})["Location"] == "/environments/groups/"
    group = EnvironmentGroup.objects.get()
    EnvironmentFactory(group=group)
    page = text(signed_in.get("/environments/groups/"))
    assert "Lane A" in page and f'href="/environments/?group={group.pk}"' in page
    assert 'aria-current="page"><i class="bi bi-collection"></i> Groups' in page
    edit = f"/environments/groups/{group.pk}/edit/"
    assert signed_in.post(edit, {"version": 1, "name": "Lane B"}).status_code == 302
    group.refresh_from_db()
    assert group.name == "Lane B"
    assert "Delete Lane B?" in text(signed_in.get(f"/environments/groups/{group.pk}/delete/"))
    signed_in.post(f"/environments/groups/{group.pk}/delete/")
    assert not EnvironmentGroup.objects.exists() and Environment.objects.count() == 1


def test_a_duplicate_group_name_is_shown_on_the_form(signed_in, unchanged):
    EnvironmentGroupFactory(name="Lane A")
    with unchanged():
        response = signed_in.post("/environments/groups/new/", {"name": "lane a"})
    assert response.status_code == 422 and "An environment group with this name already exists." in text(response)
