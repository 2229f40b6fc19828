"""The inventory's API: the wiring of every endpoint, its permissions, its error mapping and its query counts."""

import pytest

from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import ComponentFactory, SystemFactory
from launchdeck.environments.models import Environment, EnvironmentComponent, EnvironmentGroup
from launchdeck.environments.tests.factories import (
    DeploymentFactory,
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    EnvironmentStatusChangeFactory,
    at,
)
from launchdeck.org.tests.factories import TeamFactory


@pytest.fixture
def api(api_as, environment_manager):
    return api_as(environment_manager)


@pytest.fixture
def team(db):
    return TeamFactory(name="Platform")


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


# Groups


def test_group_create_list_get_update_delete(api):
    created = api.post("/environment-groups", {"name": "Payments lane"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {"id": body["id"], "name": "Payments lane", "description": "", "environment_count": 0, "version": 1}
    path = f"/environment-groups/{body['id']}"
    EnvironmentFactory(group_id=body["id"])
    assert api.get("/environment-groups").json()["items"][0]["environment_count"] == 1
    updated = api.patch(path, {"version": 1, "description": "SIT and UAT"})
    assert (updated.status_code, updated.json()["description"], updated.json()["version"]) == (200, "SIT and UAT", 2)
    assert api.patch(path, {"version": 1, "name": "Old"}).status_code == 409
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    events = AuditEvent.objects.filter(object_type="environments.environmentgroup").values_list("event_type", "source")
    assert sorted(events) == [
        ("environmentgroup.created", "api"),
        ("environmentgroup.deleted", "api"),
        ("environmentgroup.updated", "api"),
    ]


def test_a_duplicate_group_name_is_a_conflict(api):
    EnvironmentGroupFactory(name="Lane")
    response = api.post("/environment-groups", {"name": "LANE"})
    assert response.status_code == 409
    assert response.json()["detail"] == "An environment group with this name already exists."
    assert EnvironmentGroup.objects.count() == 1


# Environments


def test_environment_create_list_get_update_delete(api, team):
    group, data_env = EnvironmentGroupFactory(name="Lane"), EnvironmentFactory(name="Data")
    created = api.post(
        "/environments",
        {
            "name": "SIT 1",
            "environment_type": "sit",
            "owner_team_id": team.pk,
            "group_id": group.pk,
            "capacity": 2,
            "cost_per_day": "99.50",
            "depends_on_ids": [data_env.pk],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {key: body[key] for key in ("name", "group", "owner_team", "capacity", "cost_per_day", "status")} == {
        "name": "SIT 1",
        "group": "Lane",
        "owner_team": "Platform",
        "capacity": 2,
        "cost_per_day": 99.5,
        "status": "available",
    }
    assert body["depends_on"] == [{"id": data_env.pk, "name": "Data", "status": "available"}]
    path = f"/environments/{body['id']}"
    assert names(api.get("/environments")) == ["Data", "SIT 1"]
    assert api.get(f"/environments/{data_env.pk}").json()["needed_by"][0]["name"] == "SIT 1"

    updated = api.patch(path, {"version": 1, "capacity": 3, "group_id": None, "depends_on_ids": []})
    assert updated.status_code == 200, updated.json()
    assert (updated.json()["capacity"], updated.json()["group"], updated.json()["depends_on"]) == (3, None, [])
    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    events = AuditEvent.objects.filter(object_type="environments.environment").values_list("event_type", flat=True)
    assert sorted(events) == ["environment.created", "environment.deleted", "environment.updated"]


def test_the_list_filters_and_sorts(api):
    lane = EnvironmentGroupFactory()
    EnvironmentFactory(name="B", capacity=3, group=lane, status="down")
    EnvironmentFactory(name="A", capacity=1, environment_type="uat")
    assert names(api.get("/environments", {"sort": "-capacity"})) == ["B", "A"]
    assert names(api.get("/environments", {"type": "uat"})) == ["A"]
    assert names(api.get("/environments", {"group": lane.pk, "status": "down"})) == ["B"]
    bad = api.get("/environments", {"sort": "secret"})
    assert (bad.status_code, fields(bad)) == (422, ["sort"])
    assert api.get("/environments", {"status": "broken"}).status_code == 422


def test_the_list_takes_the_same_queries_for_any_number_of_environments(api, django_assert_max_num_queries):
    for _ in range(8):
        EnvironmentFactory(group=EnvironmentGroupFactory())
    api.get("/environments")
    with django_assert_max_num_queries(6):
        response = api.get("/environments")
    assert response.json()["count"] == 8


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 101}, "capacity"),
        ({"cost_per_day": "-1"}, "cost_per_day"),
        ({"environment_type": "mainframe"}, "environment_type"),
        ({"name": ""}, "name"),
        ({"owner_team_id": 999_999}, "owner_team_id"),
        ({"group_id": 999_999}, "group_id"),
        ({"depends_on_ids": [999_999]}, "depends_on_ids"),
        ({"status": "decommissioned"}, "status"),
        ({"url": "not a url"}, "url"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_environment_input_is_a_422_naming_the_field_and_changes_nothing(api, team, unchanged, payload, field):
    with unchanged():
        response = api.post(
            "/environments", {"name": "SIT 1", "environment_type": "sit", "owner_team_id": team.pk, **payload}
        )
    assert response.status_code == 422, response.json()
    assert field in fields(response)


def test_a_self_dependency_is_refused(api, unchanged):
    environment = EnvironmentFactory(name="SIT 1")
    with unchanged():
        response = api.patch(f"/environments/{environment.pk}", {"version": 1, "depends_on_ids": [environment.pk]})
    assert (response.status_code, response.json()["detail"]) == (422, "SIT 1 cannot depend on itself.")


def test_deleting_an_environment_with_bookings_or_deployments_is_a_conflict(api, unchanged):
    environment = EnvironmentFactory(name="SIT 1")
    EnvironmentBookingFactory(environment=environment)
    DeploymentFactory(environment=environment)
    with unchanged():
        response = api.delete(f"/environments/{environment.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "SIT 1 is still used by 1 booking and 1 deployment; set its status to decommissioned instead."
    )


@pytest.mark.parametrize("role", ["project_manager", "quality_manager", "service_manager", "viewer"])
def test_other_roles_read_the_inventory_but_do_not_change_it(api_as, request, role, team, unchanged):
    client = api_as(request.getfixturevalue(role))
    environment = EnvironmentFactory()
    assert client.get(f"/environments/{environment.pk}").status_code == 200
    with unchanged():
        assert (
            client.post("/environments", {"name": "X", "environment_type": "sit", "owner_team_id": team.pk}).status_code
            == 403
        )
        assert client.patch(f"/environments/{environment.pk}", {"version": 1, "capacity": 2}).status_code == 403
        assert client.post(f"/environments/{environment.pk}/status", {"status": "down"}).status_code == 403
        assert client.delete(f"/environments/{environment.pk}").status_code == 403


def test_anonymous_callers_get_401(api_as):
    assert api_as(None).get("/environments").status_code == 401


def test_fixed_paths_beside_an_environment_id_are_not_taken_for_one(api, api_as):
    assert api.get("/environments/schedule").status_code == 200
    response = api.get("/environments/not-an-id")
    assert (response.status_code, fields(response)) == (422, ["environment_id"])
    assert api_as(None).get("/environments/not-an-id").status_code == 401


def test_null_characters_are_refused(api, unchanged):
    with unchanged():
        response = api.post("/environment-groups", {"name": "Lane\x00"})
    assert (response.status_code, response.json()["detail"]) == (422, "Null characters are not allowed.")


# Status


def test_a_status_change_through_the_api_and_the_history_with_availability(api, unchanged):
    environment = EnvironmentFactory(status_since=at(-100))
    EnvironmentStatusChangeFactory(environment=environment, status="available", started_at=at(-100))
    response = api.post(
        f"/environments/{environment.pk}/status",
        {"status": "down", "note": "power cut", "at": at(5).isoformat()},
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["version"]) == ("down", 2)
    history = api.get(
        f"/environments/{environment.pk}/status-history", {"start": at(0).isoformat(), "end": at(10).isoformat()}
    )
    assert history.status_code == 200, history.json()
    body = history.json()
    assert body["availability"] == 0.5
    assert [(change["status"], change["note"]) for change in body["changes"]] == [
        ("available", ""),
        ("down", "power cut"),
    ]
    with unchanged():
        again = api.post(f"/environments/{environment.pk}/status", {"status": "down"})
    assert again.status_code == 422 and fields(again) == ["status"]


def test_the_history_window_defaults_to_the_last_90_days_and_must_be_a_window(api):
    environment = EnvironmentFactory()
    body = api.get(f"/environments/{environment.pk}/status-history").json()
    assert body["availability"] is None and body["changes"] == []
    bad = api.get(
        f"/environments/{environment.pk}/status-history", {"start": at(10).isoformat(), "end": at(0).isoformat()}
    )
    assert (bad.status_code, fields(bad)) == (422, ["end"])
    naive = api.get(f"/environments/{environment.pk}/status-history", {"start": "2026-03-02T09:00:00"})
    assert naive.status_code == 422
    ancient = api.get(f"/environments/{environment.pk}/status-history", {"end": "0001-01-05T00:00:00Z"})
    assert (ancient.status_code, fields(ancient)) == (422, ["end"])


def test_a_status_in_the_future_is_refused(api, unchanged):
    environment = EnvironmentFactory()
    with unchanged():
        response = api.post(f"/environments/{environment.pk}/status", {"status": "down", "at": "2999-01-01T00:00:00Z"})
    assert (response.status_code, fields(response)) == (422, ["at"])


# Components


def test_components_are_set_by_system_changed_and_removed(api):
    environment = EnvironmentFactory()
    system = SystemFactory(name="Ledger")
    part = ComponentFactory(system=system)
    path = f"/environments/{environment.pk}/components"
    created = api.post(path, {"system_id": system.pk, "version": "1.0.0", "configuration": "flags: a"})
    assert created.status_code == 201, created.json()
    assert (created.json()["system"], created.json()["version"]) == ("Ledger", "1.0.0")
    replaced = api.post(path, {"system_id": system.pk, "version": "1.1.0"})
    assert replaced.status_code == 200 and replaced.json()["id"] == created.json()["id"]
    assert replaced.json()["configuration"] == ""
    row_path = f"{path}/{created.json()['id']}"
    patched = api.patch(row_path, {"component_id": part.pk, "configuration": "flags: b"})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["version"], patched.json()["component_id"], patched.json()["configuration"]) == (
        "1.1.0",
        part.pk,
        "flags: b",
    )
    assert [row["version"] for row in api.get(path).json()] == ["1.1.0"]
    assert api.delete(row_path).status_code == 204
    assert not EnvironmentComponent.objects.exists()
    assert api.delete(row_path).status_code == 404


def test_a_component_of_another_environment_is_not_found(api):
    row = EnvironmentComponentFactory()
    other = EnvironmentFactory()
    assert api.patch(f"/environments/{other.pk}/components/{row.pk}", {"version": "2"}).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"version": "1" * 10_000}, "version"),
        ({"version": "1.0\n2.0"}, "version"),
        ({"system_id": 999_999}, "system_id"),
        ({"component_id": 999_999}, "component_id"),
    ],
)
def test_bad_component_input_is_a_422_and_changes_nothing(api, unchanged, payload, field):
    environment, system = EnvironmentFactory(), SystemFactory()
    with unchanged():
        response = api.post(f"/environments/{environment.pk}/components", {"system_id": system.pk, **payload})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_creating_an_environment_writes_its_first_status(api, team):
    response = api.post(
        "/environments", {"name": "New", "environment_type": "dev", "owner_team_id": team.pk, "status": "provisioning"}
    )
    environment = Environment.objects.get(pk=response.json()["id"])
    assert list(environment.status_changes.values_list("status", flat=True)) == ["provisioning"]
