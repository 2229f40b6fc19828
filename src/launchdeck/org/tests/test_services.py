"""The organisation's rules, at the services: audit events, bad input, conflicts, stale versions and permissions."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.org import selectors, services
from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team
from launchdeck.org.tests.factories import CalendarFactory, DepartmentFactory, PersonFactory, TeamFactory

CHRISTMAS_2026 = datetime.date(2026, 12, 25)


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


# Calendars


def test_calendar_create_normalises_codes_and_records_the_whole_calendar(manager, one_event):
    with one_event("calendar.created") as recorded:
        calendar = services.calendar_create(
            actor=manager, name="  Bavaria ", country="de", subdivision=" by ", weekend=[6, 5, 6], description="HQ"
        )
    calendar.refresh_from_db()
    assert (calendar.name, calendar.country, calendar.subdivision, calendar.weekend) == ("Bavaria", "DE", "BY", [5, 6])
    event = recorded.event
    assert (event.actor, event.object_type, event.object_id) == (manager, "org.calendar", str(calendar.pk))
    assert event.old_data is None
    assert event.new_data == {
        "name": "Bavaria",
        "country": "DE",
        "subdivision": "BY",
        "weekend": [5, 6],
        "description": "HQ",
    }


def test_a_new_calendar_has_saturday_and_sunday_off_unless_told_otherwise(manager):
    assert services.calendar_create(actor=manager, name="Default").weekend == [5, 6]
    assert services.calendar_create(actor=manager, name="Gulf", weekend=[4, 5]).weekend == [4, 5]
    assert services.calendar_create(actor=manager, name="Every day", weekend=[]).weekend == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"country": "XX"}, "country", "Unknown country code 'XX'"),
        ({"country": "G"}, "country", "Unknown country code"),
        ({"country": "GB", "subdivision": "ZZZ"}, "subdivision", "Unknown subdivision 'ZZZ'"),
        ({"subdivision": "ENG"}, "subdivision", "A region needs a country"),
        ({"weekend": [0, 1, 2, 3, 4, 5, 6]}, "weekend", "at least one working weekday"),
        ({"weekend": [5, 9]}, "weekend", "from 0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"weekend": [-1]}, "weekend", "from 0 \\(Monday\\) to 6 \\(Sunday\\)"),
        ({"name": "   "}, "name", "This field cannot be blank"),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
    ],
)
def test_calendar_create_refuses_bad_input_naming_the_field(manager, unchanged, fields, field, message):
    with unchanged(), pytest.raises(ValidationFailed, match=message) as caught:
        services.calendar_create(actor=manager, **{"name": "Somewhere", **fields})
    assert fields_of(caught) == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"country": "XX"}, "country"),
        ({"subdivision": "ZZZ"}, "subdivision"),
        ({"country": ""}, "subdivision"),
        ({"weekend": list(range(7))}, "weekend"),
        ({"weekend": [9]}, "weekend"),
        ({"weekend": None}, "weekend"),
        ({"name": ""}, "name"),
    ],
)
def test_calendar_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, field):
    calendar = CalendarFactory(country="GB", subdivision="ENG")
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.calendar_update(actor=manager, calendar=calendar, version=1, **changes)
    assert fields_of(caught) == [field]


@pytest.mark.parametrize("name", ["united kingdom", "UNITED KINGDOM", " United Kingdom "])
def test_calendar_names_are_unique_whatever_the_case(manager, unchanged, name):
    CalendarFactory(name="United Kingdom")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A calendar with this name already exists.")):
        services.calendar_create(actor=manager, name=name)


def test_renaming_a_calendar_to_another_ones_name_is_a_conflict(manager, unchanged):
    CalendarFactory(name="Germany")
    calendar = CalendarFactory(name="France")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A calendar with this name already exists.")):
        services.calendar_update(actor=manager, calendar=calendar, version=1, name="GERMANY")


def test_calendar_update_records_only_what_changed_and_bumps_the_version(manager, one_event):
    calendar = CalendarFactory(name="england", country="GB", subdivision="ENG")
    with one_event("calendar.updated") as recorded:
        services.calendar_update(
            actor=manager, calendar=calendar, version=1, name="England", country="gb", weekend=[6, 5]
        )
    calendar.refresh_from_db()
    assert (calendar.name, calendar.country, calendar.version) == ("England", "GB", 2)
    assert recorded.event.old_data == {"name": "england"}
    assert recorded.event.new_data == {"name": "England"}


def test_calendar_update_may_change_the_case_of_its_own_name(manager):
    calendar = CalendarFactory(name="netherlands")
    services.calendar_update(actor=manager, calendar=calendar, version=1, name="Netherlands")
    assert Calendar.objects.get().name == "Netherlands"


def test_calendar_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    calendar = CalendarFactory(name="Old")
    services.calendar_update(actor=manager, calendar=Calendar.objects.get(pk=calendar.pk), version=1, name="First")
    with unchanged(), pytest.raises(StaleVersion, match="changed by someone else") as caught:
        services.calendar_update(actor=manager, calendar=calendar, version=1, name="Second")
    assert isinstance(caught.value, Conflict) and caught.value.status == 409
    assert fields_of(caught) == ["version"]
    assert Calendar.objects.get().name == "First"


def test_calendar_delete_removes_it_with_its_closures(manager, one_event):
    calendar = CalendarFactory(name="Closing")
    CalendarClosure.objects.create(calendar=calendar, name="Shutdown", start=CHRISTMAS_2026, end=CHRISTMAS_2026)
    with one_event("calendar.deleted") as recorded:
        services.calendar_delete(actor=manager, calendar=calendar)
    assert not Calendar.objects.exists() and not CalendarClosure.objects.exists()
    assert recorded.event.object_id == str(calendar.pk)
    assert recorded.event.old_data == {"name": "Closing"}
    assert recorded.event.new_data is None


@pytest.mark.parametrize("user", ["department", "team"])
def test_a_calendar_still_used_cannot_be_deleted(manager, unchanged, user):
    calendar = CalendarFactory(name="In use")
    if user == "department":
        DepartmentFactory(calendar=calendar)
    else:
        TeamFactory(calendar=calendar)
    CalendarClosure.objects.create(calendar=calendar, name="Shutdown", start=CHRISTMAS_2026, end=CHRISTMAS_2026)
    with unchanged(), pytest.raises(Conflict, match=f"In use is still used by 1 {user};") as caught:
        services.calendar_delete(actor=manager, calendar=calendar)
    assert caught.value.status == 409


def test_closure_add_records_it_against_the_calendar(manager, one_event):
    calendar = CalendarFactory()
    with one_event("calendar.closure_added") as recorded:
        closure = services.calendar_closure_add(
            actor=manager, calendar=calendar, name=" Shutdown ", start=CHRISTMAS_2026, end=datetime.date(2027, 1, 1)
        )
    assert CalendarClosure.objects.get() == closure and closure.name == "Shutdown"
    assert (recorded.event.object_type, recorded.event.object_id) == ("org.calendar", str(calendar.pk))
    assert recorded.event.new_data == {"name": "Shutdown", "start": "2026-12-25", "end": "2027-01-01"}


def test_a_closure_may_be_a_single_day(manager):
    calendar = CalendarFactory()
    services.calendar_closure_add(
        actor=manager, calendar=calendar, name="Site day", start=CHRISTMAS_2026, end=CHRISTMAS_2026
    )
    assert calendar.closures.count() == 1


def test_a_closure_cannot_end_before_it_starts(manager, unchanged):
    calendar = CalendarFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="cannot end before it starts") as caught:
        services.calendar_closure_add(
            actor=manager, calendar=calendar, name="Backwards", start=CHRISTMAS_2026, end=datetime.date(2026, 12, 24)
        )
    assert fields_of(caught) == ["end"]


def test_a_closure_needs_a_name(manager, unchanged):
    calendar = CalendarFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.calendar_closure_add(
            actor=manager, calendar=calendar, name="  ", start=CHRISTMAS_2026, end=CHRISTMAS_2026
        )
    assert fields_of(caught) == ["name"]


def test_closure_remove_records_what_was_removed(manager, one_event):
    calendar = CalendarFactory()
    closure = CalendarClosure.objects.create(
        calendar=calendar, name="Shutdown", start=CHRISTMAS_2026, end=CHRISTMAS_2026
    )
    with one_event("calendar.closure_removed") as recorded:
        services.calendar_closure_remove(actor=manager, closure=closure)
    assert not CalendarClosure.objects.exists() and Calendar.objects.exists()
    assert recorded.event.object_id == str(calendar.pk)
    assert recorded.event.old_data == {"name": "Shutdown", "start": "2026-12-25", "end": "2026-12-25"}


# Departments


def test_department_create_records_the_whole_department(manager, one_event):
    calendar = CalendarFactory()
    with one_event("department.created") as recorded:
        department = services.department_create(
            actor=manager, name=" Payments ", cost_centre=" CC-1 ", calendar=calendar, description="Cards too"
        )
    department.refresh_from_db()
    assert (department.name, department.cost_centre, department.calendar) == ("Payments", "CC-1", calendar)
    assert recorded.event.new_data == {
        "name": "Payments",
        "cost_centre": "CC-1",
        "calendar": calendar.pk,
        "description": "Cards too",
    }
    assert (recorded.event.object_type, recorded.event.object_id) == ("org.department", str(department.pk))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "payments", "cost_centre": "CC-2"}, "A department with this name already exists."),
        ({"name": "PAYMENTS ", "cost_centre": "CC-2"}, "A department with this name already exists."),
        ({"name": "Cards", "cost_centre": "cc-1"}, "Another department already uses this cost centre."),
    ],
)
def test_department_names_and_cost_centres_are_unique_whatever_the_case(manager, unchanged, fields, message):
    DepartmentFactory(name="Payments", cost_centre="CC-1")
    with unchanged(), pytest.raises(Conflict, match=message) as caught:
        services.department_create(actor=manager, **fields)
    assert caught.value.status == 409


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "PAYMENTS"}, "A department with this name already exists."),
        ({"cost_centre": "Cc-1"}, "Another department already uses this cost centre."),
    ],
)
def test_department_update_to_another_ones_name_or_cost_centre_is_a_conflict(manager, unchanged, changes, message):
    DepartmentFactory(name="Payments", cost_centre="CC-1")
    department = DepartmentFactory(name="Cards", cost_centre="CC-2")
    with unchanged(), pytest.raises(Conflict, match=message):
        services.department_update(actor=manager, department=department, version=1, **changes)


@pytest.mark.parametrize(
    ("fields", "field"), [({"name": " "}, "name"), ({"cost_centre": ""}, "cost_centre"), ({"name": "x" * 121}, "name")]
)
def test_department_create_refuses_blank_or_long_values(manager, unchanged, fields, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.department_create(actor=manager, **{"name": "Payments", "cost_centre": "CC-1", **fields})
    assert fields_of(caught) == [field]


def test_department_update_records_only_what_changed(manager, one_event):
    calendar = CalendarFactory()
    department = DepartmentFactory(name="Payments", cost_centre="CC-1")
    with one_event("department.updated") as recorded:
        services.department_update(
            actor=manager, department=department, version=1, name="Payments", cost_centre="CC-9", calendar=calendar
        )
    department.refresh_from_db()
    assert (department.cost_centre, department.calendar, department.version) == ("CC-9", calendar, 2)
    assert recorded.event.old_data == {"cost_centre": "CC-1", "calendar": None}
    assert recorded.event.new_data == {"cost_centre": "CC-9", "calendar": calendar.pk}


def test_department_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    department = DepartmentFactory(name="Payments")
    services.department_update(actor=manager, department=Department.objects.get(), version=1, name="Cards")
    with unchanged(), pytest.raises(StaleVersion):
        services.department_update(actor=manager, department=department, version=1, name="Loans")
    assert Department.objects.get().name == "Cards"


def test_a_department_with_teams_cannot_be_deleted(manager, unchanged):
    department = DepartmentFactory(name="Payments")
    TeamFactory.create_batch(2, department=department)
    refusal = "Payments is still used by 2 teams; move or remove them first."
    with unchanged(), pytest.raises(Conflict, match=re.escape(refusal)):
        services.department_delete(actor=manager, department=department)


def test_an_empty_department_is_deleted_and_recorded(manager, one_event):
    department = DepartmentFactory(name="Payments")
    with one_event("department.deleted") as recorded:
        services.department_delete(actor=manager, department=department)
    assert not Department.objects.exists()
    assert recorded.event.object_id == str(department.pk)
    assert recorded.event.old_data == {"name": "Payments"}


# Teams


def test_team_create_records_the_team_with_its_skills(manager, one_event):
    department = DepartmentFactory()
    calendar = CalendarFactory()
    with one_event("team.created") as recorded:
        team = services.team_create(
            actor=manager,
            name=" Falcon ",
            department=department,
            capacity_person_days_per_week=Decimal("22.5"),
            skills=["testing", "development", "testing"],
            calendar=calendar,
        )
    team = Team.objects.get(pk=team.pk)
    assert team.name == "Falcon"
    assert team.skill_codes == ["development", "testing"]
    assert recorded.event.new_data == {
        "name": "Falcon",
        "department": department.pk,
        "capacity_person_days_per_week": "22.5",
        "calendar": calendar.pk,
        "description": "",
        "skills": ["development", "testing"],
    }


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"capacity_person_days_per_week": Decimal("-1")}, "capacity_person_days_per_week", "greater than or equal"),
        ({"capacity_person_days_per_week": Decimal("2.25")}, "capacity_person_days_per_week", "1 decimal place"),
        ({"capacity_person_days_per_week": Decimal("100001")}, "capacity_person_days_per_week", "less than or equal"),
        ({"skills": ["development", "juggling"]}, "skills", "Unknown skill juggling"),
        ({"name": ""}, "name", "cannot be blank"),
    ],
)
def test_team_create_refuses_bad_input_and_creates_nothing(manager, unchanged, fields, field, message):
    department = DepartmentFactory()
    with unchanged(), pytest.raises(ValidationFailed, match=message) as caught:
        services.team_create(actor=manager, **{"name": "Falcon", "department": department, **fields})
    assert fields_of(caught) == [field]


def test_team_names_are_unique_across_departments_whatever_the_case(manager, unchanged):
    TeamFactory(name="Falcon")
    other_department = DepartmentFactory()
    with unchanged(), pytest.raises(Conflict, match=re.escape("A team with this name already exists.")):
        services.team_create(actor=manager, name="FALCON", department=other_department)


def test_team_update_of_skills_records_only_the_skills(manager, one_event):
    team = TeamFactory(name="Falcon", skills=["development", "testing"])
    with one_event("team.updated") as recorded:
        services.team_update(actor=manager, team=team, version=1, name="Falcon", skills=["operations", "testing"])
    assert Team.objects.get().skill_codes == ["testing", "operations"]
    assert recorded.event.old_data == {"skills": ["development", "testing"]}
    assert recorded.event.new_data == {"skills": ["testing", "operations"]}


def test_team_update_without_skills_keeps_them(manager, one_event):
    team = TeamFactory(skills=["data"], capacity_person_days_per_week=Decimal("10"))
    other = DepartmentFactory()
    with one_event("team.updated") as recorded:
        services.team_update(
            actor=manager, team=team, version=1, department=other, capacity_person_days_per_week=Decimal("12.5")
        )
    team = Team.objects.get()
    assert (team.department, team.capacity_person_days_per_week, team.skill_codes) == (other, Decimal("12.5"), ["data"])
    assert recorded.event.new_data == {"department": other.pk, "capacity_person_days_per_week": "12.5"}


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"skills": ["testing", "juggling"]}, ValidationFailed, "skills"),
        ({"capacity_person_days_per_week": Decimal("-0.5")}, ValidationFailed, "capacity_person_days_per_week"),
        ({"name": "osprey"}, Conflict, None),
    ],
)
def test_team_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, error, field):
    TeamFactory(name="Osprey")
    team = TeamFactory(name="Falcon", skills=["development"])
    with unchanged(), pytest.raises(error) as caught:
        services.team_update(actor=manager, team=team, version=1, **changes)
    assert fields_of(caught) == [field]


def test_team_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    team = TeamFactory(skills=["data"])
    services.team_update(actor=manager, team=Team.objects.get(), version=1, skills=["testing"])
    with unchanged(), pytest.raises(StaleVersion):
        services.team_update(actor=manager, team=team, version=1, skills=["operations"])
    assert Team.objects.get().skill_codes == ["testing"]


def test_team_delete_removes_its_skills_and_memberships_but_not_its_people(manager, one_event):
    team = TeamFactory(name="Falcon", skills=["testing"])
    person = PersonFactory(teams=[team])
    with one_event("team.deleted") as recorded:
        services.team_delete(actor=manager, team=team)
    assert not Team.objects.exists()
    assert list(Person.objects.get(pk=person.pk).teams.all()) == []
    assert recorded.event.old_data == {"name": "Falcon"}


# People


def test_person_create_lowercases_the_email_and_records_teams_and_account(manager, make_user, one_event):
    teams = TeamFactory.create_batch(2)
    account = make_user(Role.VIEWER)
    with one_event("person.created") as recorded:
        person = services.person_create(
            actor=manager,
            full_name=" Ada Lovelace ",
            email=" Ada.Lovelace@Example.COM ",
            fte=Decimal("0.8"),
            teams=[teams[1], teams[0]],
            user=account,
        )
    person = Person.objects.get(pk=person.pk)
    assert (person.full_name, person.email, person.fte, person.user) == (
        "Ada Lovelace",
        "ada.lovelace@example.com",
        Decimal("0.80"),
        account,
    )
    assert set(person.teams.all()) == set(teams)
    assert recorded.event.new_data == {
        "full_name": "Ada Lovelace",
        "email": "ada.lovelace@example.com",
        "fte": "0.8",
        "user": account.pk,
        "teams": sorted(team.pk for team in teams),
    }


@pytest.mark.parametrize("email", ["ada@example.com", "ADA@Example.com", " Ada@example.COM "])
def test_person_emails_are_unique_whatever_the_case(manager, unchanged, email):
    PersonFactory(email="ada@example.com")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A person with this e-mail address already exists.")):
        services.person_create(actor=manager, full_name="Another Ada", email=email)


@pytest.mark.parametrize("fte", ["0", "0.00", "-0.5", "1.01", "2"])
def test_fte_must_be_more_than_zero_and_at_most_one(manager, unchanged, fte):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.person_create(actor=manager, full_name="Ada", email="ada@example.com", fte=Decimal(fte))
    assert fields_of(caught) == ["fte"]


@pytest.mark.parametrize("fte", ["0.01", "0.5", "1"])
def test_fte_from_a_hundredth_to_one_is_accepted(manager, fte):
    person = services.person_create(actor=manager, full_name="Ada", email="ada@example.com", fte=Decimal(fte))
    assert Person.objects.get(pk=person.pk).fte == Decimal(fte)


@pytest.mark.parametrize(
    ("fields", "field"), [({"email": "not-an-address"}, "email"), ({"full_name": " "}, "full_name")]
)
def test_person_create_refuses_bad_input(manager, unchanged, fields, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.person_create(actor=manager, **{"full_name": "Ada", "email": "ada@example.com", **fields})
    assert fields_of(caught) == [field]


def test_an_account_signs_in_as_one_person_only(manager, make_user, unchanged):
    account = make_user(Role.VIEWER)
    PersonFactory(user=account)
    with unchanged(), pytest.raises(Conflict):
        services.person_create(actor=manager, full_name="Twin", email="twin@example.com", user=account)


def test_person_update_of_teams_records_only_the_teams(manager, one_event):
    first, second, third = TeamFactory.create_batch(3)
    person = PersonFactory(teams=[first, second])
    with one_event("person.updated") as recorded:
        services.person_update(actor=manager, person=person, version=1, teams=[third, first], fte=Decimal("1.0"))
    assert set(Person.objects.get().teams.all()) == {first, third}
    assert recorded.event.old_data == {"teams": sorted([first.pk, second.pk])}
    assert recorded.event.new_data == {"teams": sorted([first.pk, third.pk])}


def test_person_update_lowercases_a_new_email(manager, one_event):
    person = PersonFactory(email="old@example.com")
    with one_event("person.updated") as recorded:
        services.person_update(actor=manager, person=person, version=1, email=" New@Example.com")
    assert Person.objects.get().email == "new@example.com"
    assert recorded.event.new_data == {"email": "new@example.com"}


@pytest.mark.parametrize(
    ("changes", "error", "field"),
    [
        ({"email": "TAKEN@example.com"}, Conflict, None),
        ({"fte": Decimal("0")}, ValidationFailed, "fte"),
        ({"fte": Decimal("1.5")}, ValidationFailed, "fte"),
        ({"email": "nope"}, ValidationFailed, "email"),
    ],
)
def test_person_update_refuses_bad_input_and_changes_nothing(manager, unchanged, changes, error, field):
    PersonFactory(email="taken@example.com")
    person = PersonFactory(teams=[TeamFactory()])
    with unchanged(), pytest.raises(error) as caught:
        services.person_update(actor=manager, person=person, version=1, teams=[], **changes)
    assert fields_of(caught) == [field]


def test_person_update_with_a_stale_version_is_refused_and_changes_nothing(manager, unchanged):
    person = PersonFactory(full_name="Ada")
    services.person_update(actor=manager, person=Person.objects.get(), version=1, full_name="Ada L.")
    with unchanged(), pytest.raises(StaleVersion):
        services.person_update(actor=manager, person=person, version=1, full_name="Ada Lovelace")
    assert Person.objects.get().full_name == "Ada L."


def test_person_delete_is_recorded_and_keeps_the_account(manager, make_user, one_event):
    account = make_user(Role.VIEWER)
    person = PersonFactory(full_name="Ada", user=account, teams=[TeamFactory()])
    with one_event("person.deleted") as recorded:
        services.person_delete(actor=manager, person=person)
    assert not Person.objects.exists()
    assert type(account).objects.filter(pk=account.pk).exists()
    assert recorded.event.old_data == {"name": "Ada"}


# Permissions


def _writes(actor):
    """Every organisation write, ready to call as `actor` on rows the test arranged."""
    calendar = CalendarFactory(name="Calendar")
    closure = CalendarClosure.objects.create(calendar=calendar, name="Shut", start=CHRISTMAS_2026, end=CHRISTMAS_2026)
    department = DepartmentFactory(name="Department")
    spare_calendar = CalendarFactory(name="Spare")
    empty_department = DepartmentFactory(name="Empty")
    team = TeamFactory(name="Team", department=department)
    person = PersonFactory(teams=[team])
    return {
        "calendar_create": lambda: services.calendar_create(actor=actor, name="New"),
        "calendar_update": lambda: services.calendar_update(actor=actor, calendar=calendar, version=1, name="X"),
        "calendar_delete": lambda: services.calendar_delete(actor=actor, calendar=spare_calendar),
        "calendar_closure_add": lambda: services.calendar_closure_add(
            actor=actor, calendar=calendar, name="More", start=CHRISTMAS_2026, end=CHRISTMAS_2026
        ),
        "calendar_closure_remove": lambda: services.calendar_closure_remove(actor=actor, closure=closure),
        "department_create": lambda: services.department_create(actor=actor, name="New", cost_centre="CC-NEW"),
        "department_update": lambda: services.department_update(
            actor=actor, department=department, version=1, name="X"
        ),
        "department_delete": lambda: services.department_delete(actor=actor, department=empty_department),
        "team_create": lambda: services.team_create(actor=actor, name="New", department=department),
        "team_update": lambda: services.team_update(actor=actor, team=team, version=1, skills=["data"]),
        "team_delete": lambda: services.team_delete(actor=actor, team=team),
        "person_create": lambda: services.person_create(actor=actor, full_name="New", email="new@example.com"),
        "person_update": lambda: services.person_update(actor=actor, person=person, version=1, fte=Decimal("0.5")),
        "person_delete": lambda: services.person_delete(actor=actor, person=person),
    }


WRITES = [
    "calendar_create",
    "calendar_update",
    "calendar_delete",
    "calendar_closure_add",
    "calendar_closure_remove",
    "department_create",
    "department_update",
    "department_delete",
    "team_create",
    "team_update",
    "team_delete",
    "person_create",
    "person_update",
    "person_delete",
]
EVENTS = {
    "calendar_create": "calendar.created",
    "calendar_update": "calendar.updated",
    "calendar_delete": "calendar.deleted",
    "calendar_closure_add": "calendar.closure_added",
    "calendar_closure_remove": "calendar.closure_removed",
    "department_create": "department.created",
    "department_update": "department.updated",
    "department_delete": "department.deleted",
    "team_create": "team.created",
    "team_update": "team.updated",
    "team_delete": "team.deleted",
    "person_create": "person.created",
    "person_update": "person.updated",
    "person_delete": "person.deleted",
}


@pytest.mark.parametrize("write", WRITES)
def test_portfolio_managers_make_every_change_with_one_event(manager, one_event, write):
    call = _writes(manager)[write]
    with one_event(EVENTS[write]) as recorded:
        call()
    assert recorded.event.actor == manager


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize("role", [Role.RELEASE_MANAGER, Role.VIEWER])
def test_other_roles_are_refused_every_change_and_nothing_changes(make_user, unchanged, role, write):
    call = _writes(make_user(role))[write]
    with unchanged(), pytest.raises(PermissionDenied, match=r"\(org\."):
        call()


def test_the_operator_at_the_command_line_may_change_the_organisation(one_event):
    with one_event("department.created") as recorded:
        services.department_create(actor=None, name="Payments", cost_centre="CC-1")
    assert recorded.event.actor is None and recorded.event.source == "cli"


@pytest.mark.parametrize("role", Role.values)
def test_every_role_reads_the_organisation(make_user, role):
    user = make_user(role)
    team = TeamFactory(calendar=CalendarFactory())
    PersonFactory(teams=[team])
    assert selectors.calendar_list(user=user).count() == 1
    assert selectors.department_list(user=user).count() == 1
    assert selectors.team_list(user=user).count() == 1
    assert selectors.person_list(user=user).count() == 1


def test_signed_out_and_deactivated_users_read_nothing(make_user):
    TeamFactory()
    inactive = make_user(Role.VIEWER, is_active=False)
    for user in (AnonymousUser(), inactive):
        assert not selectors.team_list(user=user).exists()
        assert not selectors.department_list(user=user).exists()


def test_a_sign_in_account_belongs_to_one_person_only(manager, make_user):
    account = make_user(username="shared-login")
    services.person_create(actor=manager, full_name="First Holder", email="first@example.com", user=account)
    with pytest.raises(Conflict) as caught:
        services.person_create(actor=manager, full_name="Second Holder", email="second@example.com", user=account)
    assert caught.value.errors == [{"field": "user", "message": "Another person already has this user."}]
    assert not Person.objects.filter(email="second@example.com").exists()
