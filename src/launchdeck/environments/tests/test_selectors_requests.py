"""Reading environment requests: the list, a team's load per week against its capacity, a release's plan."""

import datetime
from decimal import Decimal

import pytest

from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.environments import selectors
from launchdeck.environments.choices import BookingStatus, RequestKind, RequestStatus
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentFactory,
    EnvironmentRequestFactory,
)
from launchdeck.org.models import Calendar, CalendarClosure
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory

D = datetime.date
TODAY = D(2026, 3, 4)


@pytest.fixture(autouse=True)
def today(today_is):
    """The selectors see Wednesday 4 March 2026 as today."""
    return today_is(TODAY)


@pytest.fixture
def team(db):
    return TeamFactory(name="Environment team", capacity_person_days_per_week=Decimal("3"))


def test_the_list_filters_and_orders_by_due_date(viewer, team):
    late = EnvironmentRequestFactory(title="Late", team=team, starts_on=D(2026, 4, 1), due_on=D(2026, 4, 3))
    early = EnvironmentRequestFactory(title="Early refresh", kind=RequestKind.DATA_REFRESH)
    done = EnvironmentRequestFactory(title="Done", status=RequestStatus.DONE, team=team)
    assert list(selectors.environment_request_list(user=viewer)) == [early, done, late]
    assert list(selectors.environment_request_list(user=viewer, team=team.pk, open_only=True)) == [late]
    assert list(selectors.environment_request_list(user=viewer, search="refresh")) == [early]
    assert list(selectors.environment_request_list(user=viewer, kind=RequestKind.DATA_REFRESH)) == [early]
    assert list(selectors.environment_request_list(user=viewer, status=RequestStatus.DONE)) == [done]
    assert list(selectors.environment_request_list(user=viewer, due_from=D(2026, 3, 20))) == [late]
    assert list(selectors.environment_request_list(user=viewer, environment=late.environment_id)) == [late]


def test_the_list_reads_in_a_bounded_number_of_queries(viewer, django_assert_max_num_queries):
    for _ in range(15):
        EnvironmentRequestFactory(phase=PhaseFactory(), requester=viewer)
    with django_assert_max_num_queries(3):
        rows = list(selectors.environment_request_list(user=viewer))
        names = [(row.environment.name, row.team.name, row.phase.name, row.release, row.requester) for row in rows]
    assert len(names) == 15


def test_an_unknown_request_is_not_found(viewer, db):
    with pytest.raises(NotFound):
        selectors.environment_request_get(user=viewer, pk=12345)


def test_the_load_spreads_hours_evenly_over_working_days_per_week(viewer, team):
    # 40 hours over Thursday 5 to Wednesday 11 March: five working days, one person-day each.
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("40"), starts_on=D(2026, 3, 5), due_on=D(2026, 3, 11))
    # Cancelled and done requests commit nobody; nor do other teams' requests.
    EnvironmentRequestFactory(team=team, status=RequestStatus.CANCELLED, starts_on=D(2026, 3, 2), due_on=D(2026, 3, 6))
    EnvironmentRequestFactory(team=team, status=RequestStatus.DONE, starts_on=D(2026, 3, 2), due_on=D(2026, 3, 6))
    EnvironmentRequestFactory(starts_on=D(2026, 3, 2), due_on=D(2026, 3, 6))
    load = selectors.team_environment_load(user=viewer, team=team, weeks=3)
    assert load["start"] == D(2026, 3, 2)  # the Monday of this week
    assert [(week["week"], week["committed"], week["over"]) for week in load["weeks"]] == [
        ("2026-W10", Decimal("2.0"), False),
        ("2026-W11", Decimal("3.0"), False),
        ("2026-W12", Decimal("0.0"), False),
    ]
    assert load["capacity"] == Decimal("3") and load["open_requests"] == 1 and load["over_weeks"] == 0


def test_a_week_over_the_team_capacity_is_flagged(viewer, team):
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("16"), starts_on=D(2026, 3, 9), due_on=D(2026, 3, 10))
    EnvironmentRequestFactory(
        team=team,
        status=RequestStatus.IN_PROGRESS,
        effort_hours=Decimal("12"),
        starts_on=D(2026, 3, 12),
        due_on=D(2026, 3, 13),
    )
    load = selectors.team_environment_load(user=viewer, team=team, start=D(2026, 3, 11), weeks=2)
    assert [(week["week"], week["committed"], week["over"]) for week in load["weeks"]] == [
        ("2026-W11", Decimal("3.5"), True),
        ("2026-W12", Decimal("0.0"), False),
    ]
    assert load["over_weeks"] == 1


def test_the_load_follows_the_team_calendar(viewer):
    calendar = Calendar.objects.create(name="Shut on Monday", weekend=[5, 6])
    CalendarClosure.objects.create(calendar=calendar, start=D(2026, 3, 9), end=D(2026, 3, 9), name="Closed")
    team = TeamFactory(calendar=calendar)
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("16"), starts_on=D(2026, 3, 6), due_on=D(2026, 3, 10))
    load = selectors.team_environment_load(user=viewer, team=team, weeks=2)
    # Friday and Tuesday are the working days: one person-day in each week.
    assert [week["committed"] for week in load["weeks"]] == [Decimal("1.0"), Decimal("1.0")]


def test_a_load_over_too_many_weeks_or_implausible_dates_is_refused(viewer, team):
    with pytest.raises(ValidationFailed) as caught:
        selectors.team_environment_load(user=viewer, team=team, weeks=105)
    assert caught.value.detail == "Show between 1 and 104 weeks."
    with pytest.raises(ValidationFailed) as caught:
        selectors.team_environment_load(user=viewer, team=team, start=D(3000, 1, 1))
    assert caught.value.detail == "Enter a date between the years 1900 and 2999."


def test_the_release_plan_lists_its_bookings_and_requests_with_overdue_ones_flagged(viewer):
    release = ReleaseFactory(name="Payments 3")
    sit = PhaseFactory(release=release, name="SIT")
    environment = EnvironmentFactory(name="SIT 2")
    booking = EnvironmentBookingFactory(environment=environment, release=release, phase=sit)
    EnvironmentBookingFactory(environment=environment, release=release, status=BookingStatus.CANCELLED)
    EnvironmentBookingFactory(environment=environment)  # another release's
    overdue = EnvironmentRequestFactory(release=release, phase=sit, starts_on=D(2026, 2, 25), due_on=D(2026, 3, 3))
    upcoming = EnvironmentRequestFactory(release=release, starts_on=D(2026, 3, 5), due_on=D(2026, 3, 6))
    closed = EnvironmentRequestFactory(
        release=release, status=RequestStatus.DONE, starts_on=D(2026, 3, 2), due_on=D(2026, 3, 3)
    )
    plan = selectors.release_environment_plan(user=viewer, release=release)
    assert plan["bookings"][0] == booking and len(plan["bookings"]) == 2 and plan["live_bookings"] == 1
    assert plan["requests"] == [overdue, closed, upcoming]
    assert [request.is_overdue for request in plan["requests"]] == [True, False, False]
    assert (plan["open_requests"], plan["overdue_requests"]) == (2, 1)
