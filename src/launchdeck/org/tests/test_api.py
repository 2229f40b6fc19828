"""The organisation's API: the wiring of every endpoint, its permissions, its error mapping and its query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team
from launchdeck.org.tests.factories import (
    CalendarFactory,
    DepartmentFactory,
    PersonFactory,
    TeamFactory,
    organisation,
)


@pytest.fixture
def api(api_as, manager):
    return api_as(manager)


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


def names(response) -> list[str]:
    return [item.get("name") or item.get("full_name") for item in response.json()["items"]]


# Calendars


def test_calendar_create_list_get_update_delete(api):
    created = api.post("/calendars", {"name": "England", "country": "gb", "subdivision": "eng"})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "England",
        "country": "GB",
        "subdivision": "ENG",
        "weekend": [5, 6],
        "description": "",
        "closures": [],
        "version": 1,
    }
    path = f"/calendars/{body['id']}"
    assert api.get("/calendars").json()["count"] == 1
    assert api.get(path).json()["name"] == "England"

    updated = api.patch(path, {"version": 1, "weekend": [4, 5], "description": "Head office"})
    assert updated.status_code == 200
    assert (updated.json()["weekend"], updated.json()["version"]) == ([4, 5], 2)

    assert api.delete(path).status_code == 204
    assert api.get(path).status_code == 404
    sources = AuditEvent.objects.filter(object_type="org.calendar").values_list("event_type", "source")
    assert sorted(sources) == [("calendar.created", "api"), ("calendar.deleted", "api"), ("calendar.updated", "api")]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"country": "GB", "subdivision": "ZZZ"}, "subdivision"),
        ({"subdivision": "ENG"}, "subdivision"),
        ({"weekend": [0, 1, 2, 3, 4, 5, 6]}, "weekend"),
        ({"weekend": [5, 9]}, "weekend"),
        ({"name": " "}, "name"),
    ],
)
def test_calendar_create_answers_bad_input_with_422_naming_the_field(api, unchanged, body, field):
    with unchanged():
        response = api.post("/calendars", {"name": "Somewhere", **body})
    assert response.status_code == 422
    assert fields(response) == [field]


def test_duplicate_calendar_name_is_a_409_whatever_the_case(api, unchanged):
    CalendarFactory(name="England")
    with unchanged():
        response = api.post("/calendars", {"name": "ENGLAND"})
    assert response.status_code == 409
    assert response.json()["detail"] == "A calendar with this name already exists."


def test_stale_calendar_update_is_a_409_and_changes_nothing(api, unchanged):
    calendar = CalendarFactory(name="England", version=3)
    with unchanged():
        response = api.patch(f"/calendars/{calendar.pk}", {"version": 2, "name": "Scotland"})
    assert response.status_code == 409
    assert fields(response) == ["version"]
    assert "changed by someone else" in response.json()["detail"]


def test_a_null_description_clears_it(api):
    calendar = CalendarFactory(description="Old")
    department = DepartmentFactory(description="Old")
    team = TeamFactory(description="Old")
    for path in (f"/calendars/{calendar.pk}", f"/departments/{department.pk}", f"/teams/{team.pk}"):
        response = api.patch(path, {"version": 1, "description": None})
        assert response.status_code == 200, (path, response.json())
        assert response.json()["description"] == ""


def test_a_calendar_still_used_is_not_deleted(api, unchanged):
    calendar = CalendarFactory(name="England")
    TeamFactory(calendar=calendar)
    with unchanged():
        response = api.delete(f"/calendars/{calendar.pk}")
    assert response.status_code == 409
    assert response.json()["detail"].startswith("England is still used by 1 team;")


def test_closures_are_added_and_removed(api):
    calendar = CalendarFactory()
    added = api.post(
        f"/calendars/{calendar.pk}/closures", {"name": "Shutdown", "start": "2026-12-24", "end": "2027-01-01"}
    )
    assert added.status_code == 201
    [closure] = added.json()["closures"]
    assert closure == {"id": closure["id"], "name": "Shutdown", "start": "2026-12-24", "end": "2027-01-01"}
    assert api.delete(f"/calendars/{calendar.pk}/closures/{closure['id']}").status_code == 204
    assert not CalendarClosure.objects.exists()
    assert api.delete(f"/calendars/{calendar.pk}/closures/{closure['id']}").status_code == 404


def test_a_closure_ending_before_it_starts_is_a_422_on_end(api, unchanged):
    calendar = CalendarFactory()
    with unchanged():
        response = api.post(
            f"/calendars/{calendar.pk}/closures", {"name": "Backwards", "start": "2026-12-24", "end": "2026-12-23"}
        )
    assert response.status_code == 422
    assert fields(response) == ["end"]


def test_a_closure_of_another_calendar_is_not_found(api):
    mine, other = CalendarFactory.create_batch(2)
    closure = CalendarClosure.objects.create(
        calendar=other, name="Theirs", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 1, 1)
    )
    assert api.delete(f"/calendars/{mine.pk}/closures/{closure.pk}").status_code == 404
    assert CalendarClosure.objects.exists()


def test_calendars_are_searched_by_name_or_country_and_sorted(api):
    CalendarFactory(name="England", country="GB", subdivision="ENG")
    CalendarFactory(name="Scotland", country="GB", subdivision="SCT")
    CalendarFactory(name="Bavaria", country="DE", subdivision="BY")
    assert names(api.get("/calendars", {"search": "gb", "sort": "-name"})) == ["Scotland", "England"]
    assert names(api.get("/calendars", {"search": "bav"})) == ["Bavaria"]
    assert names(api.get("/calendars", {"sort": "country,name"})) == ["Bavaria", "England", "Scotland"]


# Working days


@pytest.fixture
def england(db):
    return CalendarFactory(name="England", country="GB", subdivision="ENG")


def test_working_days_in_england_in_december_2026(api, england):
    response = api.get(f"/calendars/{england.pk}/working-days", {"start": "2026-12-01", "end": "2026-12-31"})
    assert response.status_code == 200
    body = response.json()
    assert body["working_days"] == 21
    days_off = {day["date"]: day["name"] for day in body["days_off"]}
    assert days_off["2026-12-25"] == "Christmas Day"
    assert days_off["2026-12-28"] == "Boxing Day (observed)"


def test_working_days_count_the_calendars_closures(api, england):
    api.post(f"/calendars/{england.pk}/closures", {"name": "Shutdown", "start": "2026-12-29", "end": "2026-12-31"})
    response = api.get(f"/calendars/{england.pk}/working-days", {"start": "2026-12-01", "end": "2026-12-31"})
    assert response.json()["working_days"] == 18
    assert {"date": "2026-12-30", "name": "Shutdown"} in response.json()["days_off"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-12-31", "end": "2026-12-01"}, "end"),
        ({"start": "2000-01-01", "end": "2030-01-01"}, "end"),
        ({"start": "2026-12-01", "end": "not a date"}, "end"),
    ],
)
def test_working_days_refuse_a_bad_range(api, england, params, field):
    response = api.get(f"/calendars/{england.pk}/working-days", params)
    assert response.status_code == 422
    assert fields(response) == [field]


@pytest.mark.parametrize(
    ("start", "days", "result"),
    [
        ("2026-12-24", 1, "2026-12-29"),
        ("2026-12-29", -1, "2026-12-24"),
        ("2026-12-26", 0, "2026-12-29"),
        ("2026-12-01", 21, "2027-01-04"),
    ],
)
def test_add_working_days_skips_weekends_and_holidays(api, england, start, days, result):
    response = api.get(f"/calendars/{england.pk}/add-working-days", {"start": start, "days": days})
    assert response.status_code == 200
    assert response.json() == {"start": start, "days": days, "result": result}


@pytest.mark.parametrize(("start", "days"), [("9999-12-30", 10), ("2026-01-01", 10_001)])
def test_add_working_days_refuses_dates_out_of_range(api, england, start, days):
    response = api.get(f"/calendars/{england.pk}/add-working-days", {"start": start, "days": days})
    assert response.status_code == 422
    assert fields(response) == ["days"]


def test_working_days_of_an_unknown_calendar_are_not_found(api):
    response = api.get("/calendars/999/working-days", {"start": "2026-12-01", "end": "2026-12-31"})
    assert response.status_code == 404


# Departments


def test_department_create_list_get_update_delete(api):
    calendar = CalendarFactory()
    created = api.post("/departments", {"name": "Payments", "cost_centre": "CC-1", "calendar_id": calendar.pk})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Payments",
        "cost_centre": "CC-1",
        "calendar_id": calendar.pk,
        "description": "",
        "team_count": 0,
        "capacity_person_days_per_week": 0.0,
        "version": 1,
    }
    path = f"/departments/{body['id']}"
    updated = api.patch(path, {"version": 1, "calendar_id": None, "cost_centre": "CC-2"})
    assert updated.status_code == 200
    assert (updated.json()["calendar_id"], updated.json()["cost_centre"], updated.json()["version"]) == (
        None,
        "CC-2",
        2,
    )
    assert api.delete(path).status_code == 204
    assert not Department.objects.exists()


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "payments", "cost_centre": "CC-2"}, "A department with this name already exists."),
        ({"name": "Cards", "cost_centre": "cc-1"}, "Another department already uses this cost centre."),
    ],
)
def test_duplicate_department_name_or_cost_centre_is_a_409(api, unchanged, body, detail):
    DepartmentFactory(name="Payments", cost_centre="CC-1")
    with unchanged():
        response = api.post("/departments", body)
    assert response.status_code == 409
    assert response.json()["detail"] == detail


def test_department_with_an_unknown_calendar_is_a_422_on_calendar_id(api, unchanged):
    with unchanged():
        response = api.post("/departments", {"name": "Payments", "cost_centre": "CC-1", "calendar_id": 999})
    assert response.status_code == 422
    assert fields(response) == ["calendar_id"]


def test_a_department_with_teams_is_not_deleted(api, unchanged):
    department = DepartmentFactory(name="Payments")
    TeamFactory(department=department)
    with unchanged():
        response = api.delete(f"/departments/{department.pk}")
    assert response.status_code == 409
    assert response.json()["detail"] == "Payments is still used by 1 team; move or remove them first."


def test_departments_show_their_teams_and_capacity_and_sort_by_them(api):
    small, large = DepartmentFactory(name="Small", cost_centre="CC-100"), DepartmentFactory(name="Large")
    TeamFactory(department=small, capacity_person_days_per_week=5)
    TeamFactory.create_batch(2, department=large, capacity_person_days_per_week=12.5)
    DepartmentFactory(name="Empty")
    listed = api.get("/departments", {"sort": "-team_count"}).json()["items"]
    assert [(d["name"], d["team_count"], d["capacity_person_days_per_week"]) for d in listed] == [
        ("Large", 2, 25.0),
        ("Small", 1, 5.0),
        ("Empty", 0, 0.0),
    ]
    assert names(api.get("/departments", {"sort": "capacity"})) == ["Empty", "Small", "Large"]
    assert names(api.get("/departments", {"search": "cc-100"})) == ["Small"]


def test_sorting_by_an_unknown_field_is_a_422_naming_the_choices(api):
    response = api.get("/departments", {"sort": "budget"})
    assert response.status_code == 422
    assert fields(response) == ["sort"]
    assert "capacity, cost_centre, name, team_count" in response.json()["detail"]


# Teams


def test_team_create_list_get_update_delete(api):
    department = DepartmentFactory(name="Payments")
    created = api.post(
        "/teams",
        {
            "name": "Falcon",
            "department_id": department.pk,
            "capacity_person_days_per_week": 25.5,
            "skills": ["testing", "development"],
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "name": "Falcon",
        "department_id": department.pk,
        "department": "Payments",
        "capacity_person_days_per_week": 25.5,
        "skills": ["development", "testing"],
        "calendar_id": None,
        "member_count": 0,
        "description": "",
        "version": 1,
    }
    path = f"/teams/{body['id']}"
    updated = api.patch(path, {"version": 1, "skills": ["data"]})
    assert (updated.status_code, updated.json()["skills"], updated.json()["version"]) == (200, ["data"], 2)
    assert api.get(path).json()["skills"] == ["data"]
    assert api.delete(path).status_code == 204
    assert not Team.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"department_id": 999}, "department_id"),
        ({"calendar_id": 999}, "calendar_id"),
        ({"capacity_person_days_per_week": -1}, "capacity_person_days_per_week"),
        ({"skills": ["juggling"]}, "skills.0"),
    ],
)
def test_team_create_answers_bad_input_with_422_naming_the_field(api, unchanged, body, field):
    department = DepartmentFactory()
    with unchanged():
        response = api.post(
            "/teams", {"name": "Falcon", "department_id": department.pk, "capacity_person_days_per_week": 10, **body}
        )
    assert response.status_code == 422
    assert fields(response) == [field]


def test_duplicate_team_name_is_a_409(api, unchanged):
    TeamFactory(name="Falcon")
    department = DepartmentFactory()
    with unchanged():
        response = api.post(
            "/teams", {"name": "falcon", "department_id": department.pk, "capacity_person_days_per_week": 1}
        )
    assert response.status_code == 409
    assert response.json()["detail"] == "A team with this name already exists."


def test_a_team_cannot_leave_its_department_for_none(api, unchanged):
    team = TeamFactory()
    with unchanged():
        response = api.patch(f"/teams/{team.pk}", {"version": 1, "department_id": None})
    assert response.status_code == 422
    assert fields(response) == ["department_id"]


def test_teams_are_filtered_by_department_skill_and_search(api):
    payments, cards = DepartmentFactory(name="Payments"), DepartmentFactory(name="Cards")
    TeamFactory(name="Falcon", department=payments, skills=["development", "testing"])
    TeamFactory(name="Orion", department=payments, skills=["operations"])
    TeamFactory(name="Vega", department=cards, skills=["testing"])
    assert names(api.get("/teams", {"department": payments.pk})) == ["Falcon", "Orion"]
    assert names(api.get("/teams", {"skill": "testing"})) == ["Falcon", "Vega"]
    assert names(api.get("/teams", {"skill": "testing", "department": cards.pk})) == ["Vega"]
    assert names(api.get("/teams", {"search": "card"})) == ["Vega"]
    assert names(api.get("/teams", {"search": "ORI"})) == ["Orion"]
    assert api.get("/teams", {"skill": "juggling"}).status_code == 422


def test_teams_sort_and_count_their_members(api):
    falcon = TeamFactory(name="Falcon", capacity_person_days_per_week=10)
    TeamFactory(name="Orion", capacity_person_days_per_week=30)
    PersonFactory.create_batch(3, teams=[falcon])
    listed = api.get("/teams", {"sort": "-capacity"}).json()["items"]
    assert [(t["name"], t["member_count"]) for t in listed] == [("Orion", 0), ("Falcon", 3)]


# People


def test_person_create_list_get_update_delete(api, make_user):
    teams = TeamFactory.create_batch(2)
    make_user(Role.VIEWER, username="ada")
    created = api.post(
        "/people",
        {
            "full_name": "Ada Lovelace",
            "email": "Ada@Example.com",
            "fte": 0.8,
            "team_ids": [teams[1].pk, teams[0].pk],
            "username": "ada",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "fte": 0.8,
        "team_ids": sorted(team.pk for team in teams),
        "username": "ada",
        "version": 1,
    }
    path = f"/people/{body['id']}"
    updated = api.patch(path, {"version": 1, "team_ids": [teams[0].pk], "username": None})
    assert updated.status_code == 200
    assert (updated.json()["team_ids"], updated.json()["username"]) == ([teams[0].pk], None)
    assert api.delete(path).status_code == 204
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "detail"),
    [
        ({"team_ids": [1000, 1001]}, "team_ids", "No teams with ids 1000, 1001."),
        ({"username": "nobody"}, "username", "No user named 'nobody'."),
        ({"fte": 0}, "fte", None),
        ({"fte": 1.5}, "fte", None),
        ({"email": "no-at-sign"}, "email", None),
    ],
)
def test_person_create_answers_bad_input_with_422_naming_the_field(api, unchanged, body, field, detail):
    with unchanged():
        response = api.post("/people", {"full_name": "Ada", "email": "ada@example.com", **body})
    assert response.status_code == 422
    assert fields(response) == [field]
    if detail:
        assert response.json()["detail"] == detail


def test_duplicate_email_is_a_409_whatever_the_case(api, unchanged):
    PersonFactory(email="ada@example.com")
    with unchanged():
        response = api.post("/people", {"full_name": "Ada", "email": "ADA@example.com"})
    assert response.status_code == 409
    assert response.json()["detail"] == "A person with this e-mail address already exists."


def test_people_are_filtered_by_team_and_searched_by_name_or_email(api):
    falcon, orion = TeamFactory.create_batch(2)
    PersonFactory(full_name="Ada Lovelace", email="ada@example.com", teams=[falcon, orion])
    PersonFactory(full_name="Grace Hopper", email="grace@navy.example", teams=[orion])
    PersonFactory(full_name="Alan Turing", email="alan@example.com")
    assert names(api.get("/people", {"team": orion.pk})) == ["Ada Lovelace", "Grace Hopper"]
    assert names(api.get("/people", {"team": falcon.pk})) == ["Ada Lovelace"]
    assert names(api.get("/people", {"search": "navy"})) == ["Grace Hopper"]
    assert names(api.get("/people", {"search": "LA", "sort": "-full_name"})) == ["Alan Turing", "Ada Lovelace"]


def test_lists_are_paged_with_the_total_count(api):
    PersonFactory.create_batch(7)
    page = api.get("/people", {"limit": 3, "offset": 6, "sort": "email"}).json()
    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (7, 3, 6, 1)
    assert api.get("/people", {"limit": 501}).status_code == 422


# Permissions


def _writes(api):
    """A valid write on every kind of organisation row."""
    calendar = CalendarFactory(name="Calendar")
    department = DepartmentFactory(name="Department")
    empty = DepartmentFactory(name="Empty")
    team = TeamFactory(department=department)
    person = PersonFactory()
    return {
        "create calendar": lambda: api.post("/calendars", {"name": "New"}),
        "update calendar": lambda: api.patch(f"/calendars/{calendar.pk}", {"version": 1, "name": "X"}),
        "add closure": lambda: api.post(
            f"/calendars/{calendar.pk}/closures", {"name": "Shut", "start": "2026-12-24", "end": "2026-12-24"}
        ),
        "delete calendar": lambda: api.delete(f"/calendars/{calendar.pk}"),
        "create department": lambda: api.post("/departments", {"name": "New", "cost_centre": "CC-NEW"}),
        "update department": lambda: api.patch(f"/departments/{department.pk}", {"version": 1, "name": "X"}),
        "delete department": lambda: api.delete(f"/departments/{empty.pk}"),
        "create team": lambda: api.post(
            "/teams", {"name": "New", "department_id": department.pk, "capacity_person_days_per_week": 1}
        ),
        "update team": lambda: api.patch(f"/teams/{team.pk}", {"version": 1, "skills": ["data"]}),
        "delete team": lambda: api.delete(f"/teams/{team.pk}"),
        "create person": lambda: api.post("/people", {"full_name": "New", "email": "new@example.com"}),
        "update person": lambda: api.patch(f"/people/{person.pk}", {"version": 1, "fte": 0.5}),
        "delete person": lambda: api.delete(f"/people/{person.pk}"),
    }


WRITES = [
    "create calendar",
    "update calendar",
    "add closure",
    "delete calendar",
    "create department",
    "update department",
    "delete department",
    "create team",
    "update team",
    "delete team",
    "create person",
    "update person",
    "delete person",
]


@pytest.mark.parametrize("write", WRITES)
def test_portfolio_managers_make_every_change(api, write):
    response = _writes(api)[write]()
    assert response.status_code in (200, 201, 204), response.content


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("role", [Role.RELEASE_MANAGER, Role.VIEWER])
def test_other_roles_get_403_and_nothing_changes(api_as, make_user, unchanged, role, write):
    call = _writes(api_as(make_user(role)))[write]
    with unchanged():
        response = call()
    assert response.status_code == 403, response.content


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_every_list(api_as, make_user, role):
    PersonFactory(teams=[TeamFactory(calendar=CalendarFactory())])
    api = api_as(make_user(role))
    for path in ("/calendars", "/departments", "/teams", "/people"):
        response = api.get(path)
        assert (response.status_code, response.json()["count"]) == (200, 1), path


# Query counts


def _queries(api, path: str) -> int:
    """Queries of one GET; the token's first use of the minute costs one more, so call once before measuring."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path, {"limit": 500})
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(("path", "most"), [("/teams", 5), ("/people", 5), ("/departments", 4), ("/calendars", 5)])
def test_list_endpoints_take_a_fixed_number_of_queries(api, django_assert_max_num_queries, path, most):
    organisation(teams=3)
    _queries(api, path)
    few = _queries(api, path)
    organisation(teams=33)
    assert Team.objects.count() >= 36 and Person.objects.count() >= 72 and Department.objects.count() >= 12
    assert _queries(api, path) == few
    with django_assert_max_num_queries(most):
        api.get(path, {"limit": 500})


def test_team_and_person_pages_take_a_fixed_number_of_queries(api):
    organisation(teams=3)
    team, person = Team.objects.first(), Person.objects.first()
    _queries(api, "/teams")
    few = (_queries(api, f"/teams/{team.pk}"), _queries(api, f"/people/{person.pk}"))
    PersonFactory.create_batch(30, teams=[team, *Team.objects.all()[1:]])
    assert (_queries(api, f"/teams/{team.pk}"), _queries(api, f"/people/{person.pk}")) == few


def test_calendar_references_are_checked_against_what_exists(api):
    assert Calendar.objects.count() == 0
    response = api.post(
        "/teams",
        {
            "name": "Falcon",
            "department_id": DepartmentFactory().pk,
            "calendar_id": 1,
            "capacity_person_days_per_week": 1,
        },
    )
    assert (response.status_code, fields(response)) == (422, ["calendar_id"])
