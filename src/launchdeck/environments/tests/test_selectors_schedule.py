"""The schedule, utilisation and demand reads: what each returns, the capacity rule on the schedule, bad windows, and
query counts that stay flat however many environments and bookings there are."""

import datetime
from decimal import Decimal

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.core.errors import ValidationFailed
from launchdeck.environments import selectors
from launchdeck.environments.choices import BookingStatus, BookingUsage, EnvironmentStatus
from launchdeck.environments.tests.factories import (
    MONDAY,
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    EnvironmentStatusChangeFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, FreezeScope, ReleaseStatus
from launchdeck.releases.tests.factories import FreezeWindowFactory, PhaseFactory, ReleaseFactory

D = datetime.date
WEEK_START = D(2026, 3, 2)  # the Monday of `MONDAY`
FOUR_WEEKS_END = D(2026, 3, 29)
TWO_WEEKS_END = D(2026, 3, 15)


@pytest.fixture
def reader(viewer):
    return viewer


def schedule(user, start=WEEK_START, end=FOUR_WEEKS_END, **filters):
    return selectors.environment_schedule(user=user, start=start, end=end, today=D(2026, 3, 4), **filters)


def by_id(rows):
    return {row["id"]: row for row in rows}


# The schedule


def test_the_schedule_lists_environments_by_lane_with_their_bookings_in_the_window(reader):
    lane = EnvironmentGroupFactory(name="Payments lane")
    sit = EnvironmentFactory(name="SIT 1", group=lane)
    uat = EnvironmentFactory(name="UAT 1", group=lane, environment_type=EnvironmentType.UAT)
    loose = EnvironmentFactory(name="Perf 1", environment_type=EnvironmentType.PERFORMANCE)
    release = ReleaseFactory(name="Payments 7.2")
    phase = PhaseFactory(release=release, name="SIT")
    booked = EnvironmentBookingFactory(environment=sit, release=release, phase=phase, status=BookingStatus.APPROVED)
    purpose_only = EnvironmentBookingFactory(environment=uat, purpose="Regression", starts_at=at(7), ends_at=at(9))
    EnvironmentBookingFactory(environment=uat, status=BookingStatus.REJECTED, starts_at=at(14), ends_at=at(15))
    EnvironmentBookingFactory(environment=uat, status=BookingStatus.CANCELLED, starts_at=at(14), ends_at=at(15))
    EnvironmentBookingFactory(environment=loose, starts_at=at(40), ends_at=at(41))  # after the window

    data = schedule(reader)

    assert (data["start"], data["end"], data["today"], data["group_by"]) == (
        "2026-03-02",
        "2026-03-29",
        "2026-03-04",
        "group",
    )
    assert [row["name"] for row in data["environments"]] == ["Perf 1", "SIT 1", "UAT 1"]
    assert data["groups"] == [
        {"id": f"g{lane.pk}", "label": "Payments lane", "environments": [sit.pk, uat.pk]},
        {"id": "-", "label": "No group", "environments": [loose.pk]},
    ]
    bookings = by_id(data["bookings"])
    assert set(bookings) == {booked.pk, purpose_only.pk}
    assert bookings[booked.pk] | {"url": None} == {
        "id": booked.pk,
        "environment": sit.pk,
        "start": "2026-03-02T09:00:00+00:00",
        "end": "2026-03-07T09:00:00+00:00",
        "usage": "exclusive",
        "status": "approved",
        "label": "Payments 7.2 · SIT",
        "purpose": "",
        "conflict": False,
        "url": None,
    }
    assert bookings[purpose_only.pk]["label"] == "Regression"
    assert data["conflicts"] == 0


def test_the_schedule_flags_the_bookings_that_do_not_fit_beside_the_others(reader):
    exclusive = EnvironmentFactory(capacity=1)
    first = EnvironmentBookingFactory(environment=exclusive, starts_at=at(0), ends_at=at(3))
    second = EnvironmentBookingFactory(environment=exclusive, starts_at=at(2), ends_at=at(4))
    after = EnvironmentBookingFactory(environment=exclusive, starts_at=at(4), ends_at=at(5))  # touches, fits
    # A released booking no longer holds its window: it clashes with nothing.
    released = EnvironmentBookingFactory(
        environment=exclusive, starts_at=at(4, 12), ends_at=at(6), status=BookingStatus.RELEASED
    )
    shared = EnvironmentFactory(capacity=2)
    fits = [
        EnvironmentBookingFactory(environment=shared, usage=BookingUsage.SHARED, starts_at=at(0), ends_at=at(5)),
        EnvironmentBookingFactory(environment=shared, usage=BookingUsage.SHARED, starts_at=at(1), ends_at=at(2)),
    ]

    data = schedule(reader)

    conflict = {booking["id"]: booking["conflict"] for booking in data["bookings"]}
    assert conflict == {
        first.pk: True,
        second.pk: True,
        after.pk: False,
        released.pk: False,
        fits[0].pk: False,
        fits[1].pk: False,
    }
    assert data["conflicts"] == 2


def test_the_schedule_keeps_seconds_and_fractions_of_booking_times(reader):
    environment = EnvironmentFactory(capacity=1)
    odd = at(0) + datetime.timedelta(seconds=1.5)
    first = EnvironmentBookingFactory(environment=environment, starts_at=odd, ends_at=at(1))
    # Ends half a second after the first starts: they overlap by that half second.
    second = EnvironmentBookingFactory(
        environment=environment, starts_at=at(-1), ends_at=odd + datetime.timedelta(seconds=0.5)
    )

    bookings = by_id(schedule(reader)["bookings"])

    assert (bookings[first.pk]["start"], bookings[second.pk]["end"]) == (
        "2026-03-02T09:00:01.500000+00:00",
        "2026-03-02T09:00:02+00:00",
    )
    assert bookings[first.pk]["conflict"] and bookings[second.pk]["conflict"]


def test_a_booking_reaching_into_the_window_conflicts_with_one_outside_it(reader):
    environment = EnvironmentFactory(capacity=1)
    before = EnvironmentBookingFactory(environment=environment, starts_at=at(-10), ends_at=at(-3))
    reaching = EnvironmentBookingFactory(environment=environment, starts_at=at(-4), ends_at=at(2))

    data = schedule(reader)

    assert [(booking["id"], booking["conflict"]) for booking in data["bookings"]] == [(reaching.pk, True)]
    assert before.pk not in by_id(data["bookings"])


def test_the_schedule_shades_booking_freezes_on_the_environments_they_cover(reader):
    sit = EnvironmentFactory(name="SIT A")
    uat = EnvironmentFactory(name="UAT A", environment_type=EnvironmentType.UAT)
    system = SystemFactory()
    EnvironmentComponentFactory(environment=uat, system=system)
    everywhere = FreezeWindowFactory(
        name="Year end", category=FreezeCategory.BOOKING, starts_on=D(2026, 3, 9), ends_on=D(2026, 3, 10)
    )
    by_type = FreezeWindowFactory(
        name="SIT refresh",
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.ENVIRONMENTS,
        environment_types=[EnvironmentType.SIT],
        starts_on=D(2026, 3, 11),
        ends_on=D(2026, 3, 11),
    )
    FreezeWindowFactory(
        name="Ledger",
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.SYSTEMS,
        systems=[system],
        starts_on=D(2026, 3, 12),
        ends_on=D(2026, 3, 12),
    )
    FreezeWindowFactory(
        name="Portfolio",
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.PORTFOLIOS,
        starts_on=D(2026, 3, 13),
        ends_on=D(2026, 3, 13),
    )
    FreezeWindowFactory(name="Deployments only", starts_on=D(2026, 3, 9), ends_on=D(2026, 3, 9))

    freezes = schedule(reader)["freezes"]

    assert [(freeze["name"], freeze["environments"]) for freeze in freezes] == [
        ("Year end", None),
        ("SIT refresh", [sit.pk]),
        ("Ledger", [uat.pk]),
        ("Portfolio", []),
    ]
    assert freezes[0] | {"id": "x"} == {
        "id": "x",
        "window_id": everywhere.pk,
        "name": "Year end",
        "scope": "organisation",
        "start": "2026-03-09",
        "end": "2026-03-10",
        "environments": None,
    }
    assert freezes[1]["window_id"] == by_type.pk


def test_the_schedule_groups_by_type_or_not_at_all_and_filters_by_type_and_group(reader):
    lane = EnvironmentGroupFactory(name="Lane")
    sit = EnvironmentFactory(name="SIT", group=lane)
    uat = EnvironmentFactory(name="UAT", environment_type=EnvironmentType.UAT)
    prod = EnvironmentFactory(name="Prod", environment_type=EnvironmentType.PRODUCTION, group=lane)

    by_type = schedule(reader, group_by="type")
    assert [(group["label"], group["environments"]) for group in by_type["groups"]] == [
        ("SIT", [sit.pk]),
        ("UAT", [uat.pk]),
        ("Production", [prod.pk]),
    ]
    assert schedule(reader, group_by="environment")["groups"] == []
    assert [row["id"] for row in schedule(reader, environment_type="uat")["environments"]] == [uat.pk]
    assert [row["id"] for row in schedule(reader, group=lane.pk)["environments"]] == [prod.pk, sit.pk]
    assert [row["id"] for row in schedule(reader, group="-")["environments"]] == [uat.pk]


def test_a_decommissioned_environment_shows_only_while_it_has_bookings_in_the_window(reader):
    EnvironmentFactory(name="Gone", status=EnvironmentStatus.DECOMMISSIONED)
    leaving = EnvironmentFactory(name="Leaving", status=EnvironmentStatus.DECOMMISSIONED)
    EnvironmentBookingFactory(environment=leaving, status=BookingStatus.RELEASED)

    assert [row["name"] for row in schedule(reader)["environments"]] == ["Leaving"]


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"start": D(2026, 3, 10), "end": D(2026, 3, 9)}, "end", "The end must be after the start."),
        ({"start": D(2026, 1, 1), "end": D(2027, 1, 2)}, "end", "Show at most a year at a time."),
        ({"start": "2026-13-01", "end": D(2026, 3, 9)}, "start", "Enter a date as YYYY-MM-DD."),
        ({"start": D(202, 1, 1), "end": D(2026, 3, 9)}, "start", "Enter a date between the years 1900 and 2999."),
        ({"start": None, "end": D(2026, 3, 9)}, "start", "Give both a start and an end date."),
        ({"group_by": "team"}, "group_by", "Group by group, type or environment."),
        ({"environment_type": "mainframe"}, "type", "Choose one of the environment types."),
    ],
)
def test_the_schedule_refuses_a_bad_window_or_filter_on_its_field(reader, arguments, field, message):
    with pytest.raises(ValidationFailed) as refused:
        schedule(reader, **({"start": WEEK_START, "end": D(2026, 3, 29)} | arguments))
    assert refused.value.errors == [{"field": field, "message": message}]


def test_someone_without_a_role_sees_an_empty_schedule(make_user):
    EnvironmentBookingFactory()
    data = schedule(make_user())
    assert (data["environments"], data["bookings"]) == ([], [])


def test_the_schedule_reads_the_same_few_queries_whatever_its_size(reader, django_assert_max_num_queries):
    system = SystemFactory()
    FreezeWindowFactory(category=FreezeCategory.BOOKING, starts_on=D(2026, 3, 9), ends_on=D(2026, 3, 9))
    FreezeWindowFactory(
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.SYSTEMS,
        systems=[system],
        starts_on=D(2026, 3, 10),
        ends_on=D(2026, 3, 10),
    )
    for index in range(12):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory() if index % 2 else None, capacity=2)
        EnvironmentComponentFactory(environment=environment, system=system)
        for week in range(-1, 5):  # some reach into the window from before it, some beyond its end
            EnvironmentBookingFactory(
                environment=environment,
                usage=BookingUsage.SHARED,
                starts_at=at(7 * week - 2),
                ends_at=at(7 * week + 3),
                release=ReleaseFactory(),
            )
    # the reader's permissions, environments, bookings, the bookings reaching beyond the window, freezes (windows and
    # their two lists), the environments holding frozen systems
    with django_assert_max_num_queries(8):
        data = schedule(reader)
    assert len(data["environments"]) == 12
    assert len(data["bookings"]) == 12 * 5  # the first of each six ends before the window


# Utilisation


def utilisation(user, start=WEEK_START, end=TWO_WEEKS_END, **filters):
    return selectors.environment_utilisation(user=user, start=start, end=end, **filters)


def test_utilisation_counts_the_union_of_used_bookings_against_the_days_up_per_iso_week(reader):
    environment = EnvironmentFactory(name="SIT", cost_per_day=Decimal("100.00"), capacity=2)
    EnvironmentStatusChangeFactory(environment=environment, started_at=MONDAY - datetime.timedelta(days=365))
    # Down from Wednesday 09:00 of the second week until Friday 09:00: two days not available.
    EnvironmentStatusChangeFactory(environment=environment, status=EnvironmentStatus.DOWN, started_at=at(9))
    EnvironmentStatusChangeFactory(environment=environment, started_at=at(11))
    shared = {"environment": environment, "usage": BookingUsage.SHARED}
    EnvironmentBookingFactory(**shared, status=BookingStatus.APPROVED, starts_at=at(0), ends_at=at(2))
    EnvironmentBookingFactory(**shared, status=BookingStatus.ACTIVE, starts_at=at(1), ends_at=at(3))  # overlaps
    EnvironmentBookingFactory(**shared, status=BookingStatus.RELEASED, starts_at=at(6), ends_at=at(8))  # crosses
    EnvironmentBookingFactory(**shared, status=BookingStatus.REQUESTED, starts_at=at(8), ends_at=at(12))  # not used

    data = utilisation(reader)

    assert data["weeks"] == [{"start": "2026-03-02", "label": "2026-W10"}, {"start": "2026-03-09", "label": "2026-W11"}]
    (row,) = data["environments"]
    # Week 10: Monday 09:00 to Thursday 09:00 (3 days) and from Sunday 09:00 (15 hours); week 11: to Tuesday 09:00.
    assert row["weeks"] == [
        {"booked": 3.62, "available": 7.0, "utilisation": 51.8},
        {"booked": 1.38, "available": 5.0, "utilisation": 27.5},
    ]
    assert (row["booked"], row["available"], row["utilisation"]) == (5.0, 12.0, 41.7)
    assert (row["idle_days"], row["idle_cost"], row["idle"]) == (7.0, 700.0, False)
    assert data["totals"] == {
        "booked": 5.0,
        "available": 12.0,
        "utilisation": 41.7,
        "idle_cost": 700.0,
        "idle_environments": 0,
        "environments": 1,
    }


def test_utilisation_lists_idle_environments_by_the_cost_of_their_idle_time(reader):
    cheap = EnvironmentFactory(name="Cheap", cost_per_day=Decimal("10.00"))
    dear = EnvironmentFactory(name="Dear", cost_per_day=Decimal("1000.00"))
    busy = EnvironmentFactory(name="Busy")
    EnvironmentBookingFactory(environment=busy, status=BookingStatus.APPROVED)
    # Retired before the weeks asked for, and one still being built: neither was in service, neither is listed.
    EnvironmentFactory(name="Retired", status=EnvironmentStatus.DECOMMISSIONED)
    EnvironmentFactory(name="New", status=EnvironmentStatus.PROVISIONING)

    data = utilisation(reader)

    assert [row["name"] for row in data["environments"]] == ["Busy", "Cheap", "Dear"]
    assert data["idle"] == [dear.pk, cheap.pk]
    assert by_id(data["environments"])[dear.pk]["idle_cost"] == 14000.0
    assert data["totals"]["idle_environments"] == 2


def test_utilisation_before_an_environment_existed_counts_no_available_days(reader):
    # No history recorded: its status holds from `status_since`, the second Monday at midnight.
    environment = EnvironmentFactory(status_since=datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC))
    data = utilisation(reader)
    assert [week["available"] for week in by_id(data["environments"])[environment.pk]["weeks"]] == [0.0, 7.0]
    assert by_id(data["environments"])[environment.pk]["weeks"][0]["utilisation"] is None


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"start": D(2026, 3, 10), "end": D(2026, 3, 9)}, "end", "The end must be after the start."),
        ({"start": D(2026, 1, 1), "end": D(2027, 2, 1)}, "end", "Show at most a year at a time."),
        ({"environment_type": "mainframe"}, "type", "Choose one of the environment types."),
    ],
)
def test_utilisation_refuses_a_bad_window_on_its_field(reader, arguments, field, message):
    with pytest.raises(ValidationFailed) as refused:
        utilisation(reader, **({"start": WEEK_START, "end": D(2026, 3, 15)} | arguments))
    assert refused.value.errors == [{"field": field, "message": message}]


def test_utilisation_reads_four_queries_whatever_its_size(reader, django_assert_num_queries):
    for _ in range(10):
        environment = EnvironmentFactory()
        EnvironmentStatusChangeFactory(environment=environment)
        for day in range(0, 14, 3):
            EnvironmentBookingFactory(
                environment=environment, status=BookingStatus.APPROVED, starts_at=at(day), ends_at=at(day + 2)
            )
    with django_assert_num_queries(4):  # the reader's permissions, environments, bookings, status history
        data = utilisation(reader)
    assert len(data["environments"]) == 10


# Demand and supply


def test_demand_counts_the_phases_needing_each_type_per_week_against_the_environments_in_service(reader):
    planned = ReleaseFactory(status=ReleaseStatus.PLANNED)
    running = ReleaseFactory(status=ReleaseStatus.IN_PROGRESS)
    sit = {"environment_type": EnvironmentType.SIT}
    PhaseFactory(release=planned, **sit, planned_start=D(2026, 3, 4), planned_end=D(2026, 3, 18))  # weeks 0-2
    PhaseFactory(release=running, **sit, planned_start=D(2026, 3, 9), planned_end=D(2026, 3, 10))  # week 1
    PhaseFactory(release=running, **sit, planned_start=D(2026, 2, 1), planned_end=D(2026, 2, 20))  # before
    PhaseFactory(release=ReleaseFactory(status=ReleaseStatus.DRAFT), **sit)  # not in the plan yet
    PhaseFactory(release=ReleaseFactory(status=ReleaseStatus.RELEASED), **sit)  # done
    PhaseFactory(release=planned, planned_start=D(2026, 3, 4), planned_end=D(2026, 3, 18))  # needs no environment
    PhaseFactory(
        release=planned,
        environment_type=EnvironmentType.PERFORMANCE,
        planned_start=D(2026, 3, 16),
        planned_end=D(2026, 3, 16),
    )
    EnvironmentFactory()
    EnvironmentFactory(status=EnvironmentStatus.DOWN)  # down is still in service
    EnvironmentFactory(status=EnvironmentStatus.PROVISIONING)
    EnvironmentFactory(status=EnvironmentStatus.DECOMMISSIONED)
    EnvironmentFactory(environment_type=EnvironmentType.UAT)

    data = selectors.environment_demand(user=reader, start=D(2026, 3, 5), weeks=4)

    assert (data["start"], data["end"]) == ("2026-03-02", "2026-03-29")
    assert [week["label"] for week in data["weeks"]] == ["2026-W10", "2026-W11", "2026-W12", "2026-W13"]
    assert data["types"] == [
        {
            "type": "sit",
            "label": "SIT",
            "supply": 2,
            "demand": [1, 2, 1, 0],
            "shortage": [False, False, False, False],
            "shortage_weeks": 0,
            "peak_demand": 2,
            "worst_gap": 0,
        },
        {
            "type": "uat",
            "label": "UAT",
            "supply": 1,
            "demand": [0, 0, 0, 0],
            "shortage": [False, False, False, False],
            "shortage_weeks": 0,
            "peak_demand": 0,
            "worst_gap": -1,
        },
        {
            "type": "performance",
            "label": "Performance",
            "supply": 0,
            "demand": [0, 0, 1, 0],
            "shortage": [False, False, True, False],
            "shortage_weeks": 1,
            "peak_demand": 1,
            "worst_gap": 1,
        },
    ]
    assert data["shortage_weeks"] == 1


@pytest.mark.parametrize("weeks", [0, 53, -1])
def test_demand_refuses_a_number_of_weeks_out_of_range(reader, weeks):
    with pytest.raises(ValidationFailed) as refused:
        selectors.environment_demand(user=reader, start=WEEK_START, weeks=weeks)
    assert refused.value.errors == [{"field": "weeks", "message": "Give between 1 and 52 weeks."}]


def test_demand_reads_three_queries_whatever_its_size(reader, django_assert_num_queries):
    for index in range(10):
        release = ReleaseFactory(status=ReleaseStatus.PLANNED)
        PhaseFactory(release=release, environment_type=EnvironmentType.SIT)
        PhaseFactory(release=release, environment_type=EnvironmentType.UAT)
        EnvironmentFactory(environment_type=EnvironmentType.SIT if index % 2 else EnvironmentType.UAT)
    with django_assert_num_queries(3):  # the reader's permissions, phases, environments per type
        data = selectors.environment_demand(user=reader, start=WEEK_START, weeks=26)
    assert {kind["type"] for kind in data["types"]} == {"sit", "uat"}


def test_demand_for_someone_without_a_role_is_empty(make_user):
    PhaseFactory(release=ReleaseFactory(status=ReleaseStatus.PLANNED), environment_type=EnvironmentType.SIT)
    EnvironmentFactory()
    assert selectors.environment_demand(user=make_user(Role.VIEWER), start=WEEK_START)["types"]
    assert selectors.environment_demand(user=make_user(), start=WEEK_START)["types"] == []
