"""The organisation's pages: lists that filter, detail pages, forms that save through the services, deletes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.org import services
from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team
from launchdeck.org.tests.factories import (
    CalendarFactory,
    DepartmentFactory,
    PersonFactory,
    TeamFactory,
    organisation,
)


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def text(response) -> str:
    return response.content.decode()


def web_event(event_type: str) -> AuditEvent:
    event = AuditEvent.objects.get(event_type=event_type)
    assert event.source == "web"
    return event


# Lists


def test_department_list_searches_name_and_cost_centre(signed_in):
    DepartmentFactory(name="Payments", cost_centre="CC-100")
    DepartmentFactory(name="Cards", cost_centre="CC-200")
    page = text(signed_in.get("/org/departments/"))
    assert "Payments" in page and "Cards" in page and 'href="/org/departments/new/"' in page
    page = text(signed_in.get("/org/departments/", {"q": "cc-2"}))
    assert "Cards" in page and "Payments" not in page


def test_team_list_filters_by_department_skill_and_search(signed_in):
    payments, cards = DepartmentFactory(name="Payments"), DepartmentFactory(name="Cards")
    TeamFactory(name="Falcon", department=payments, skills=["testing"])
    TeamFactory(name="Orion", department=payments, skills=["operations"])
    TeamFactory(name="Vega", department=cards, skills=["testing"])
    page = text(signed_in.get("/org/teams/", {"department": payments.pk, "skill": "testing"}))
    assert "Falcon" in page and "Orion" not in page and "Vega" not in page
    page = text(signed_in.get("/org/teams/", {"skill": "testing"}))
    assert "Falcon" in page and "Vega" in page and "Orion" not in page
    page = text(signed_in.get("/org/teams/", {"q": "vEg"}))
    assert "Vega" in page and "Falcon" not in page


def test_people_list_filters_by_team_and_search(signed_in):
    falcon = TeamFactory(name="Falcon")
    PersonFactory(full_name="Ada Lovelace", email="ada@example.com", teams=[falcon])
    PersonFactory(full_name="Grace Hopper", email="grace@navy.example")
    page = text(signed_in.get("/org/people/", {"team": falcon.pk}))
    assert "Ada Lovelace" in page and "Grace Hopper" not in page
    page = text(signed_in.get("/org/people/", {"q": "navy"}))
    assert "Grace Hopper" in page and "Ada Lovelace" not in page


def test_calendar_list_searches_by_country(signed_in):
    CalendarFactory(name="England", country="GB", subdivision="ENG", weekend=[5, 6])
    CalendarFactory(name="Bavaria", country="DE", subdivision="BY")
    page = text(signed_in.get("/org/calendars/", {"q": "GB"}))
    assert "England" in page and "Saturday, Sunday" in page and "Bavaria" not in page


def test_htmx_list_requests_get_only_the_table(signed_in):
    TeamFactory(name="Falcon")
    response = signed_in.get("/org/teams/", {"q": "fal"}, headers={"HX-Request": "true"})
    assert text(response).startswith('<div id="object-table">')
    assert "Falcon" in text(response) and "<html" not in text(response)


def test_a_filter_naming_a_department_that_does_not_exist_is_ignored(signed_in):
    TeamFactory(name="Falcon")
    response = signed_in.get("/org/teams/", {"department": 999, "skill": "juggling"})
    assert response.status_code == 200 and "Falcon" in text(response)


# Detail pages


def test_department_page_lists_its_teams_and_links_its_history(signed_in):
    department = DepartmentFactory(name="Payments", cost_centre="CC-100")
    TeamFactory(name="Falcon", department=department, skills=["testing"])
    TeamFactory(name="Elsewhere")
    page = text(signed_in.get(f"/org/departments/{department.pk}/"))
    assert "Falcon" in page and "Testing" in page and "Elsewhere" not in page
    assert f"/audit/history/org.department/{department.pk}/" in page
    assert f"/org/teams/new/?department={department.pk}" in page
    assert f"/org/departments/{department.pk}/edit/" in page and f"/org/departments/{department.pk}/delete/" in page


def test_team_page_lists_its_members_and_says_whose_calendar_it_uses(signed_in):
    calendar = CalendarFactory(name="England", country="GB", subdivision="ENG")
    team = TeamFactory(name="Falcon", department=DepartmentFactory(calendar=calendar))
    PersonFactory(full_name="Ada Lovelace", teams=[team])
    PersonFactory(full_name="Grace Hopper")
    page = text(signed_in.get(f"/org/teams/{team.pk}/"))
    assert "Ada Lovelace" in page and "Grace Hopper" not in page
    assert "England (the department&#x27;s)" in page
    assert f"/audit/history/org.team/{team.pk}/" in page
    assert f"/org/people/new/?team={team.pk}" in page


def test_person_page_shows_teams_and_account(signed_in, make_user):
    person = PersonFactory(full_name="Ada Lovelace", teams=[TeamFactory(name="Falcon")], user=make_user(username="ada"))
    page = text(signed_in.get(f"/org/people/{person.pk}/"))
    assert "Falcon" in page and "ada" in page
    assert f"/audit/history/org.person/{person.pk}/" in page


def test_calendar_page_shows_coming_days_off_and_closures(signed_in):
    calendar = CalendarFactory(name="England", country="GB", subdivision="ENG")
    CalendarClosure.objects.create(
        calendar=calendar, name="Year-end shutdown", start=datetime.date(2026, 12, 24), end=datetime.date(2027, 1, 1)
    )
    page = text(signed_in.get(f"/org/calendars/{calendar.pk}/"))
    assert "Christmas Day" in page and "Year-end shutdown: 24 Dec 2026 to 1 Jan 2027" in page
    assert f"/org/calendars/{calendar.pk}/closures/" in page
    assert f"/audit/history/org.calendar/{calendar.pk}/" in page


def test_the_history_tab_shows_the_changes(signed_in, manager):
    department = services.department_create(actor=manager, name="Payments", cost_centre="CC-1")
    response = signed_in.get(f"/audit/history/org.department/{department.pk}/")
    assert response.status_code == 200 and "department.created" in text(response)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE_MANAGER])
def test_readers_see_the_pages_without_edit_delete_or_closure_form(client, make_user, role):
    client.force_login(make_user(role))
    calendar = CalendarFactory()
    team = TeamFactory(calendar=calendar)
    for path in (
        f"/org/calendars/{calendar.pk}/",
        f"/org/departments/{team.department_id}/",
        f"/org/teams/{team.pk}/",
        "/org/teams/",
    ):
        page = text(client.get(path))
        assert "/edit/" not in page and "/delete/" not in page and "/new/" not in page, path
    assert "/closures/" not in text(client.get(f"/org/calendars/{calendar.pk}/"))


@pytest.mark.parametrize(
    "path", ["/org/departments/new/", "/org/teams/new/", "/org/people/new/", "/org/calendars/new/"]
)
def test_release_managers_may_not_open_the_forms(client, release_manager, path):
    client.force_login(release_manager)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("kind", ["departments", "teams", "people", "calendars"])
def test_unknown_rows_are_not_found(signed_in, kind):
    assert signed_in.get(f"/org/{kind}/999/").status_code == 404


# Forms


def test_new_department_is_saved_through_the_service(signed_in, manager):
    calendar = CalendarFactory()
    response = signed_in.post(
        "/org/departments/new/", {"name": "Payments", "cost_centre": "CC-1", "calendar": calendar.pk}
    )
    department = Department.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/org/departments/{department.pk}/"
    assert department.calendar == calendar
    assert web_event("department.created").actor == manager


def test_department_edit_saves_and_records_what_changed(signed_in):
    department = DepartmentFactory(name="Payments", cost_centre="CC-1")
    form = signed_in.get(f"/org/departments/{department.pk}/edit/")
    assert 'value="CC-1"' in text(form) and 'name="version"' in text(form)
    response = signed_in.post(
        f"/org/departments/{department.pk}/edit/", {"version": 1, "name": "Payments", "cost_centre": "CC-2"}
    )
    assert response.status_code == 302
    assert Department.objects.get().cost_centre == "CC-2"
    assert web_event("department.updated").new_data == {"cost_centre": "CC-2"}


def test_duplicate_department_is_shown_on_the_form_and_nothing_is_saved(signed_in, unchanged):
    DepartmentFactory(name="Payments")
    with unchanged():
        response = signed_in.post("/org/departments/new/", {"name": "PAYMENTS", "cost_centre": "CC-9"})
    assert response.status_code == 422
    assert "A department with this name already exists." in text(response)


def test_stale_edit_is_refused_with_a_message(signed_in, unchanged):
    department = DepartmentFactory(name="Payments", version=2)
    with unchanged():
        response = signed_in.post(
            f"/org/departments/{department.pk}/edit/", {"version": 1, "name": "Cards", "cost_centre": "CC-1"}
        )
    assert response.status_code == 422
    assert "changed by someone else" in text(response)


def test_new_team_is_saved_with_its_skills(signed_in, manager):
    department = DepartmentFactory()
    form = signed_in.get("/org/teams/new/", {"department": department.pk})
    assert f'<option value="{department.pk}" selected>' in text(form)
    response = signed_in.post(
        "/org/teams/new/",
        {
            "name": "Falcon",
            "department": department.pk,
            "capacity_person_days_per_week": "22.5",
            "skills": ["testing", "data"],
        },
    )
    team = Team.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/org/teams/{team.pk}/"
    assert team.skill_codes == ["testing", "data"]
    assert web_event("team.created").actor == manager


def test_team_edit_changes_skills(signed_in):
    team = TeamFactory(name="Falcon", skills=["testing"])
    response = signed_in.post(
        f"/org/teams/{team.pk}/edit/",
        {
            "version": 1,
            "name": "Falcon",
            "department": team.department_id,
            "capacity_person_days_per_week": "20",
            "skills": ["operations"],
        },
    )
    assert response.status_code == 302
    assert Team.objects.get().skill_codes == ["operations"]
    assert web_event("team.updated").new_data == {"skills": ["operations"]}


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"capacity_person_days_per_week": "-1"}, "greater than or equal to 0"),
        ({"skills": ["juggling"]}, "Select a valid choice"),
        ({"name": "Osprey"}, "A team with this name already exists."),
        ({"department": ""}, "This field is required"),
    ],
)
def test_invalid_team_form_is_shown_again_with_messages(signed_in, unchanged, posted, message):
    department = DepartmentFactory()
    TeamFactory(name="Osprey")
    with unchanged():
        response = signed_in.post(
            "/org/teams/new/",
            {"name": "Falcon", "department": department.pk, "capacity_person_days_per_week": "10", **posted},
        )
    assert response.status_code == 422
    assert message in text(response)


def test_new_person_is_saved_with_teams_and_account(signed_in, make_user):
    teams = TeamFactory.create_batch(2)
    account = make_user(Role.VIEWER, username="ada")
    form = signed_in.get("/org/people/new/", {"team": teams[0].pk})
    assert f'<option value="{teams[0].pk}" selected>' in text(form)
    response = signed_in.post(
        "/org/people/new/",
        {
            "full_name": "Ada Lovelace",
            "email": "Ada@Example.com",
            "fte": "0.5",
            "teams": [t.pk for t in teams],
            "user": "ada",
        },
    )
    person = Person.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/org/people/{person.pk}/"
    assert (person.email, person.user, set(person.teams.all())) == ("ada@example.com", account, set(teams))
    assert web_event("person.created").new_data["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"fte": "0"}, "greater than or equal to 0.01"),
        ({"fte": "1.5"}, "less than or equal to 1"),
        ({"email": "ADA@example.com"}, "A person with this e-mail address already exists."),
        ({"email": "nope"}, "Enter a valid email address"),
    ],
)
def test_invalid_person_form_is_shown_again_with_messages(signed_in, unchanged, posted, message):
    PersonFactory(email="ada@example.com")
    with unchanged():
        response = signed_in.post(
            "/org/people/new/", {"full_name": "Ada", "email": "new@example.com", "fte": "1", **posted}
        )
    assert response.status_code == 422
    assert message in text(response)


def test_person_edit_moves_them_to_another_team(signed_in):
    old, new = TeamFactory.create_batch(2)
    person = PersonFactory(full_name="Ada", email="ada@example.com", teams=[old])
    response = signed_in.post(
        f"/org/people/{person.pk}/edit/",
        {"version": 1, "full_name": "Ada", "email": "ada@example.com", "fte": "1", "teams": [new.pk]},
    )
    assert response.status_code == 302
    assert list(Person.objects.get().teams.all()) == [new]
    assert web_event("person.updated").new_data == {"teams": [new.pk]}


def test_new_calendar_is_saved_with_its_weekend(signed_in):
    response = signed_in.post("/org/calendars/new/", {"name": "Gulf", "country": "ae", "weekend": ["5", "6"]})
    calendar = Calendar.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/org/calendars/{calendar.pk}/"
    assert (calendar.country, calendar.weekend) == ("AE", [5, 6])
    assert web_event("calendar.created").new_data["country"] == "AE"


def test_calendar_edit_changes_the_weekend(signed_in):
    calendar = CalendarFactory(name="Gulf", weekend=[5, 6])
    response = signed_in.post(
        f"/org/calendars/{calendar.pk}/edit/", {"version": 1, "name": "Gulf", "weekend": ["4", "5"]}
    )
    assert response.status_code == 302
    assert Calendar.objects.get().weekend == [4, 5]
    assert web_event("calendar.updated").new_data == {"weekend": [4, 5]}


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"country": "XX"}, "Unknown country code"),
        ({"country": "GB", "subdivision": "ZZZ"}, "Unknown subdivision"),
        ({"weekend": [str(day) for day in range(7)]}, "at least one working weekday"),
        ({"weekend": ["9"]}, "Select a valid choice"),
    ],
)
def test_invalid_calendar_form_is_shown_again_with_messages(signed_in, unchanged, posted, message):
    with unchanged():
        response = signed_in.post("/org/calendars/new/", {"name": "Somewhere", **posted})
    assert response.status_code == 422
    assert message in text(response)


def test_a_closure_is_added_from_the_calendar_page(signed_in):
    calendar = CalendarFactory()
    response = signed_in.post(
        f"/org/calendars/{calendar.pk}/closures/",
        {"name": "Shutdown", "start": "2026-12-24", "end": "2026-12-31"},
        follow=True,
    )
    assert "Closure Shutdown is added." in text(response)
    assert CalendarClosure.objects.get().end == datetime.date(2026, 12, 31)
    assert web_event("calendar.closure_added").object_id == str(calendar.pk)


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"name": "Backwards", "start": "2026-12-24", "end": "2026-12-23"}, "A closure cannot end before it starts."),
        ({"name": "", "start": "2026-12-24", "end": "2026-12-24"}, "The closure needs a name, a start and an end"),
    ],
)
def test_a_bad_closure_is_refused_with_a_message(signed_in, unchanged, posted, message):
    calendar = CalendarFactory()
    with unchanged():
        response = signed_in.post(f"/org/calendars/{calendar.pk}/closures/", posted, follow=True)
    assert message in text(response)


# Deleting


def test_delete_asks_first_then_deletes(signed_in):
    team = TeamFactory(name="Falcon")
    confirm = signed_in.get(f"/org/teams/{team.pk}/delete/")
    assert confirm.status_code == 200 and "Delete Falcon?" in text(confirm)
    assert Team.objects.exists()
    response = signed_in.post(f"/org/teams/{team.pk}/delete/", follow=True)
    assert response.redirect_chain[0] == ("/org/teams/", 302)
    assert "Falcon is deleted." in text(response)
    assert not Team.objects.exists()
    assert web_event("team.deleted").old_data == {"name": "Falcon"}


@pytest.mark.parametrize("kind", ["departments", "calendars"])
def test_deleting_something_still_in_use_shows_why_and_deletes_nothing(signed_in, unchanged, kind):
    calendar = CalendarFactory(name="England")
    department = DepartmentFactory(name="Payments", calendar=calendar)
    TeamFactory(department=department)
    obj = department if kind == "departments" else calendar
    with unchanged():
        response = signed_in.post(f"/org/{kind}/{obj.pk}/delete/", follow=True)
    assert response.redirect_chain[0] == (f"/org/{kind}/{obj.pk}/", 302)
    assert f"{obj} is still used by 1" in text(response)


def test_people_and_calendars_are_deleted_from_their_pages(signed_in):
    person, calendar = PersonFactory(), CalendarFactory()
    assert signed_in.post(f"/org/people/{person.pk}/delete/")["Location"] == "/org/people/"
    assert signed_in.post(f"/org/calendars/{calendar.pk}/delete/")["Location"] == "/org/calendars/"
    assert not Person.objects.exists() and not Calendar.objects.exists()


@pytest.mark.parametrize("path", ["/org/departments/", "/org/teams/", "/org/people/", "/org/calendars/"])
def test_list_pages_take_as_many_queries_for_many_rows_as_for_few(signed_in, path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(path).status_code == 200
        return len(captured)

    organisation(teams=3)
    queries()
    few = queries()
    organisation(teams=33)
    assert queries() == few
