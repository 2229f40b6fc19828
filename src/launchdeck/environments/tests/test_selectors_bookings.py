"""The booking selectors: the one conflict check, the freeze rule, next free slot, the conflict report and lists."""

import datetime

import pytest

from launchdeck.environments import selectors
from launchdeck.environments.choices import BookingStatus, BookingUsage, EnvironmentStatus
from launchdeck.environments.tests.factories import (
    MONDAY,
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, FreezeScope
from launchdeck.releases.freezes import FreezeOccurrence
from launchdeck.releases.tests.factories import FreezeWindowFactory, PhaseFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def occurrence(scope, **kwargs):
    return FreezeOccurrence(
        window_id=1,
        name="Freeze",
        category=FreezeCategory.BOOKING,
        scope=scope,
        start=datetime.date(2026, 3, 9),
        end=datetime.date(2026, 3, 13),
        **kwargs,
    )


# The conflict check


def test_the_conflict_check_is_one_query_and_names_the_clashing_bookings(django_assert_num_queries):
    environment = EnvironmentFactory(capacity=2)
    exclusive = EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(1))
    EnvironmentBookingFactory(environment=environment, starts_at=at(2), ends_at=at(3), usage=BookingUsage.SHARED)
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(9), status=BookingStatus.CANCELLED)
    with django_assert_num_queries(1):
        found = selectors.booking_conflicts(
            environment=environment, starts_at=at(0, 12), ends_at=at(2, 12), usage=BookingUsage.SHARED
        )
    assert found == [exclusive]


def test_the_conflict_check_can_leave_out_a_booking_and_read_others_at_new_windows():
    environment = EnvironmentFactory()
    first = EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(1))
    second = EnvironmentBookingFactory(environment=environment, starts_at=at(5), ends_at=at(6))
    window = {"environment": environment, "starts_at": at(0), "ends_at": at(1), "usage": BookingUsage.EXCLUSIVE}
    assert selectors.booking_conflicts(**window, exclude=[first.pk]) == []
    assert selectors.booking_conflicts(**window, exclude=[first.pk], moved={second.pk: (at(0, 12), at(2))}) == [second]


# The freeze rule


def test_an_organisation_wide_freeze_covers_every_environment():
    assert selectors.booking_freeze_applies(occurrence(FreezeScope.ORGANISATION), EnvironmentFactory.build())


def test_an_environment_freeze_covers_the_types_it_lists():
    freeze = occurrence(FreezeScope.ENVIRONMENTS, environment_types=frozenset({"uat", "perf"}))
    assert selectors.booking_freeze_applies(freeze, EnvironmentFactory.build(environment_type=EnvironmentType.UAT))
    assert not selectors.booking_freeze_applies(freeze, EnvironmentFactory.build(environment_type=EnvironmentType.SIT))


def test_a_system_freeze_covers_environments_holding_one_of_its_systems():
    freeze = occurrence(FreezeScope.SYSTEMS, system_ids=frozenset({4, 5}))
    environment = EnvironmentFactory.build()
    assert selectors.booking_freeze_applies(freeze, environment, system_ids={5, 9})
    assert not selectors.booking_freeze_applies(freeze, environment, system_ids={9})


def test_a_portfolio_freeze_covers_bookings_of_releases_in_its_portfolios():
    freeze = occurrence(FreezeScope.PORTFOLIOS, portfolio_ids=frozenset({3}))
    environment = EnvironmentFactory.build()
    assert selectors.booking_freeze_applies(freeze, environment, portfolio_id=3)
    assert not selectors.booking_freeze_applies(freeze, environment, portfolio_id=None)


def test_booking_freezes_read_only_booking_freezes_overlapping_the_window():
    FreezeWindowFactory(
        name="Booking freeze",
        category=FreezeCategory.BOOKING,
        starts_on=datetime.date(2026, 3, 9),
        ends_on=datetime.date(2026, 3, 9),
    )
    FreezeWindowFactory(name="Deploy freeze", starts_on=datetime.date(2026, 3, 2), ends_on=datetime.date(2026, 3, 20))
    environment = EnvironmentFactory()
    midnight = datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC)
    assert selectors.booking_freezes(environment, at(0), midnight) == []  # ends as the freeze begins
    assert [freeze.name for freeze in selectors.booking_freezes(environment, at(0), at(7, 1))] == ["Booking freeze"]
    assert selectors.booking_freezes(environment, at(8), at(9)) == []  # starts as the freeze ends


# Next free slot


def test_next_free_slot_starts_when_the_blocking_booking_ends(viewer):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    EnvironmentBookingFactory(environment=environment, starts_at=at(3), ends_at=at(4))
    slot = selectors.next_free_slot(
        user=viewer, environment=environment, duration=datetime.timedelta(days=1), usage="exclusive", earliest=MONDAY
    )
    assert slot == at(2)
    slot = selectors.next_free_slot(
        user=viewer, environment=environment, duration=datetime.timedelta(days=2), usage="exclusive", earliest=MONDAY
    )
    assert slot == at(4)


def test_next_free_slot_for_a_booking_being_moved_does_not_count_its_own_window(viewer):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    moving = EnvironmentBookingFactory(environment=environment, starts_at=at(2), ends_at=at(3))
    day = datetime.timedelta(days=1)
    assert selectors.next_free_slot(
        user=viewer, environment=environment, duration=day, usage="exclusive", earliest=MONDAY
    ) == at(3)
    assert selectors.next_free_slot(
        user=viewer, environment=environment, duration=day, usage="exclusive", earliest=MONDAY, exclude=[moving.pk]
    ) == at(2)


def test_next_free_slot_skips_a_booking_freeze(viewer):
    FreezeWindowFactory(
        category=FreezeCategory.BOOKING, starts_on=datetime.date(2026, 3, 2), ends_on=datetime.date(2026, 3, 8)
    )
    environment = EnvironmentFactory()
    slot = selectors.next_free_slot(
        user=viewer, environment=environment, duration=HOUR, usage="shared", earliest=MONDAY
    )
    assert slot == datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC)


def test_next_free_slot_is_none_when_nothing_fits_within_90_days(viewer):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(89))
    assert (
        selectors.next_free_slot(
            user=viewer, environment=environment, duration=datetime.timedelta(days=2), usage="shared", earliest=MONDAY
        )
        is None
    )


def test_next_free_slot_of_a_decommissioned_environment_is_none(viewer):
    environment = EnvironmentFactory(status=EnvironmentStatus.DECOMMISSIONED)
    assert selectors.next_free_slot(user=viewer, environment=environment, duration=HOUR, usage="shared") is None


# The conflict report


def test_the_conflict_report_gives_every_reason_a_booking_needs_attention(viewer, django_assert_max_num_queries):
    environment = EnvironmentFactory(name="SIT R")
    first = EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    second = EnvironmentBookingFactory(environment=environment, starts_at=at(1), ends_at=at(3))
    down = EnvironmentBookingFactory(environment=EnvironmentFactory(status=EnvironmentStatus.DOWN))
    phase = PhaseFactory(planned_start=datetime.date(2026, 4, 1), planned_end=datetime.date(2026, 4, 10))
    outside = EnvironmentBookingFactory(phase=phase, release=phase.release)
    inside = EnvironmentBookingFactory(
        phase=phase, release=phase.release, starts_at=at(30), ends_at=at(31)
    )  # 1 April 09:00
    frozen_environment = EnvironmentFactory(environment_type=EnvironmentType.UAT)
    FreezeWindowFactory(
        name="UAT freeze",
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.ENVIRONMENTS,
        environment_types=["uat"],
        starts_on=datetime.date(2026, 3, 3),
        ends_on=datetime.date(2026, 3, 3),
    )
    frozen = EnvironmentBookingFactory(environment=frozen_environment)
    EnvironmentBookingFactory(status=BookingStatus.CANCELLED, environment=EnvironmentFactory(status="down"))
    with django_assert_max_num_queries(8):
        report = selectors.booking_conflict_report(user=viewer, start=at(-1), end=at(60))
    reasons = {row["booking"].pk: row["reasons"] for row in report}
    assert reasons == {
        first.pk: ["Overbooked: it does not fit beside the other bookings of the environment."],
        second.pk: ["Overbooked: it does not fit beside the other bookings of the environment."],
        down.pk: ["The environment is down."],
        outside.pk: [f"It no longer lies within its phase {phase.name} (2026-04-01 to 2026-04-10)."],
        frozen.pk: ["Inside the booking freeze UAT freeze."],
    }
    assert inside.pk not in reasons
    only = selectors.booking_conflict_report(user=viewer, start=at(-1), end=at(60), environment_ids=[environment.pk])
    assert {row["booking"].pk for row in only} == {first.pk, second.pk}


# Lists


def test_the_booking_list_filters_and_keeps_a_bounded_number_of_queries(viewer, django_assert_max_num_queries):
    group = EnvironmentGroupFactory()
    environment = EnvironmentFactory(group=group, environment_type=EnvironmentType.UAT)
    release = ReleaseFactory()
    mine = EnvironmentBookingFactory(environment=environment, release=release, requester=viewer)
    for day in range(10):
        EnvironmentBookingFactory(starts_at=at(day * 7), ends_at=at(day * 7 + 1))
    with django_assert_max_num_queries(2):  # the user's roles, the bookings with what a row shows
        rows = list(selectors.booking_list(user=viewer))
        [(row.environment.name, row.release, row.requester, row.phase, row.team) for row in rows]
    assert len(rows) == 11
    assert list(selectors.booking_list(user=viewer, group=group.pk)) == [mine]
    assert list(selectors.booking_list(user=viewer, environment_type="uat")) == [mine]
    assert list(selectors.booking_list(user=viewer, release=release.pk)) == [mine]
    assert list(selectors.booking_list(user=viewer, requester=viewer.pk)) == [mine]
    assert list(selectors.booking_list(user=viewer, environment=environment.pk, status="approved")) == []
    assert len(selectors.booking_list(user=viewer, start=at(20), end=at(30))) == 2


def test_someone_without_a_role_sees_no_bookings(make_user):
    EnvironmentBookingFactory()
    assert list(selectors.booking_list(user=make_user())) == []


def test_a_system_freeze_is_read_from_the_environment_components(viewer):
    component = EnvironmentComponentFactory()
    FreezeWindowFactory(
        category=FreezeCategory.BOOKING,
        scope=FreezeScope.SYSTEMS,
        systems=[component.system],
        starts_on=datetime.date(2026, 3, 2),
        ends_on=datetime.date(2026, 3, 2),
    )
    assert selectors.booking_freezes(component.environment, at(0), at(1))
    assert not selectors.booking_freezes(EnvironmentFactory(), at(0), at(1))
