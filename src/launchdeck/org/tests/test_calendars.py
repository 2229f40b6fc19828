"""Which calendar a team works to, and what a stored calendar says about working days."""

import datetime

import pytest

from launchdeck.core.errors import ValidationFailed
from launchdeck.org.calendars import check_calendar_rules, team_calendar, working_calendar
from launchdeck.org.models import Calendar, CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory, DepartmentFactory, TeamFactory
from launchdeck.scheduling.calendar import STANDARD

CHRISTMAS_2026 = datetime.date(2026, 12, 25)  # a Friday
EPIPHANY_2026 = datetime.date(2026, 1, 6)  # a Tuesday: a holiday in Bavaria, not in England


@pytest.fixture
def england(db):
    return CalendarFactory(name="England", country="GB", subdivision="ENG")


@pytest.fixture
def bavaria(db):
    return CalendarFactory(name="Bavaria", country="DE", subdivision="BY")


def test_a_team_works_to_its_own_calendar_before_its_departments(england, bavaria):
    team = TeamFactory(calendar=england, department=DepartmentFactory(calendar=bavaria))
    calendar = team_calendar(team)
    assert (calendar.country, calendar.subdivision) == ("GB", "ENG")
    assert calendar.is_working_day(EPIPHANY_2026)
    assert not calendar.is_working_day(CHRISTMAS_2026)


def test_a_team_without_a_calendar_works_to_its_departments(bavaria):
    team = TeamFactory(calendar=None, department=DepartmentFactory(calendar=bavaria))
    calendar = team_calendar(team)
    assert (calendar.country, calendar.subdivision) == ("DE", "BY")
    assert not calendar.is_working_day(EPIPHANY_2026)


def test_a_team_with_no_calendar_anywhere_works_weekends_only(db):
    team = TeamFactory(calendar=None, department=DepartmentFactory(calendar=None))
    calendar = team_calendar(team)
    assert calendar == STANDARD
    assert calendar.is_working_day(CHRISTMAS_2026)
    assert not calendar.is_working_day(datetime.date(2026, 12, 26))


def test_a_teams_calendar_brings_its_closures_and_weekend(db):
    calendar = CalendarFactory(weekend=[4, 5])
    CalendarClosure.objects.create(
        calendar=calendar, name="Shutdown", start=datetime.date(2026, 12, 27), end=datetime.date(2026, 12, 31)
    )
    plain = team_calendar(TeamFactory(department=DepartmentFactory(calendar=calendar)))
    assert plain.weekend == frozenset({4, 5})
    assert plain.closures == ((datetime.date(2026, 12, 27), datetime.date(2026, 12, 31), "Shutdown"),)
    assert plain.is_working_day(datetime.date(2026, 12, 20))  # a Sunday: the weekend is Friday and Saturday
    assert plain.next_working_day(datetime.date(2026, 12, 27)) == datetime.date(2027, 1, 3)


def test_no_calendar_is_the_standard_one():
    assert working_calendar(None) == STANDARD


def test_england_in_december_2026_has_christmas_and_boxing_day_observed_off(england):
    plain = working_calendar(england)
    december = (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    days_off = dict(plain.holidays_between(*december))
    assert days_off[CHRISTMAS_2026] == "Christmas Day"
    assert days_off[datetime.date(2026, 12, 28)] == "Boxing Day (observed)"
    assert plain.working_days_in(*december) == 21  # 23 weekdays less 25 and 28 December
    assert plain.add_working_days(datetime.date(2026, 12, 24), 1) == datetime.date(2026, 12, 29)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"weekend": [True]}, "weekend"),
        ({"weekend": "5,6"}, "weekend"),
        ({"weekend": [5.0]}, "weekend"),
        ({"weekend": [7]}, "weekend"),
        ({"weekend": list(range(7))}, "weekend"),
        ({"country": "XX"}, "country"),
        ({"country": "gb"}, "country"),
        ({"country": "GB", "subdivision": "ZZZ"}, "subdivision"),
        ({"subdivision": "ENG"}, "subdivision"),
    ],
)
def test_calendar_rules_name_the_field_at_fault(fields, field):
    with pytest.raises(ValidationFailed) as caught:
        check_calendar_rules(Calendar(**{"name": "Somewhere", "weekend": [5, 6], **fields}))
    assert [error["field"] for error in caught.value.errors] == [field]


@pytest.mark.parametrize(
    "fields",
    [{}, {"weekend": []}, {"weekend": [0, 1, 2, 3, 4, 5]}, {"country": "US"}, {"country": "IN", "subdivision": "KA"}],
)
def test_calendar_rules_accept_known_regions_and_any_weekend_with_a_working_day(fields):
    check_calendar_rules(Calendar(**{"name": "Somewhere", "weekend": [5, 6], **fields}))
