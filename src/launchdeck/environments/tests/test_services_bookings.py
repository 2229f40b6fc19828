"""The booking services: the capacity rule, the window rules, freezes, recurrence, the transitions and who may act."""

import datetime

import pytest
from django.test import override_settings

from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.environments import services
from launchdeck.environments.choices import BookingStatus, BookingUsage, EnvironmentStatus
from launchdeck.environments.models import EnvironmentBooking
from launchdeck.environments.tests.factories import (
    MONDAY,
    EnvironmentBookingFactory,
    EnvironmentComponentFactory,
    EnvironmentFactory,
    at,
)
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, FreezeScope, Recurrence
from launchdeck.releases.tests.factories import FreezeWindowFactory, PhaseFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def request(actor, environment, start=0, days=5, **kwargs):
    return services.booking_request(
        actor=actor, environment=environment, starts_at=at(start), ends_at=at(start + days), **kwargs
    )


def booking_freeze(**kwargs):
    return FreezeWindowFactory(
        name="Year-end booking freeze",
        category=FreezeCategory.BOOKING,
        starts_on=datetime.date(2026, 3, 9),
        ends_on=datetime.date(2026, 3, 13),
        **kwargs,
    )


# Requesting, and the capacity rule


def test_a_request_books_the_window_and_records_who_asked(project_manager, events):
    environment = EnvironmentFactory()
    with events("booking.requested") as recorded:
        [booking] = request(project_manager, environment, purpose="  SIT of payments  ")
    assert booking.status == BookingStatus.REQUESTED
    assert booking.requester == project_manager
    assert booking.purpose == "SIT of payments"
    assert booking.series is None
    assert recorded.events[0].new_data["starts_at"] == MONDAY.isoformat()


def test_an_overlapping_exclusive_booking_is_refused_naming_the_booking_it_clashes_with(project_manager, unchanged):
    environment = EnvironmentFactory(name="SIT A")
    held = EnvironmentBookingFactory(environment=environment)
    with unchanged(), pytest.raises(Conflict) as refused:
        request(project_manager, environment, start=2)
    assert refused.value.status == 409
    assert f"SIT A is already booked for this window (capacity 1): it clashes with booking {held.pk}" in str(
        refused.value
    )


def test_back_to_back_bookings_fit_because_the_end_is_exclusive(project_manager):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment)
    assert request(project_manager, environment, start=5)


@pytest.mark.parametrize("status", [BookingStatus.REJECTED, BookingStatus.CANCELLED, BookingStatus.RELEASED])
def test_bookings_that_no_longer_hold_their_window_do_not_count(project_manager, status):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, status=status)
    assert request(project_manager, environment)


@pytest.mark.parametrize("status", [BookingStatus.REQUESTED, BookingStatus.APPROVED, BookingStatus.ACTIVE])
def test_live_bookings_count(project_manager, status):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, status=status)
    with pytest.raises(Conflict):
        request(project_manager, environment)


def test_shared_bookings_overlap_up_to_the_capacity(project_manager):
    environment = EnvironmentFactory(capacity=2)
    request(project_manager, environment, usage=BookingUsage.SHARED)
    request(project_manager, environment, start=1, usage=BookingUsage.SHARED)
    with pytest.raises(Conflict):
        request(project_manager, environment, start=2, days=1, usage=BookingUsage.SHARED)
    assert request(project_manager, environment, start=5, usage=BookingUsage.SHARED)


def test_an_exclusive_booking_overlaps_nothing_even_with_capacity_left(project_manager):
    environment = EnvironmentFactory(capacity=3)
    request(project_manager, environment, usage=BookingUsage.SHARED)
    with pytest.raises(Conflict):
        request(project_manager, environment, start=1, usage=BookingUsage.EXCLUSIVE)
    with pytest.raises(Conflict):
        request(project_manager, environment, start=10, usage=BookingUsage.EXCLUSIVE)
        request(project_manager, environment, start=11, usage=BookingUsage.SHARED)


def test_another_environment_is_not_affected(project_manager):
    EnvironmentBookingFactory()
    assert request(project_manager, EnvironmentFactory())


# Bad windows: a clear error and nothing changed


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        (at(1), at(0), "ends_at", "A booking ends after it starts."),
        (at(1), at(1), "ends_at", "A booking ends after it starts."),
        (at(0), at(0, 0.25), "ends_at", "A booking lasts at least 30 minutes."),
        (at(0), at(3652), "ends_at", "A booking lasts at most 366 days; this one lasts 3652 days. Book it in parts."),
        (
            datetime.datetime(1899, 12, 30, tzinfo=datetime.UTC),
            datetime.datetime(1900, 1, 2, tzinfo=datetime.UTC),
            "starts_at",
            "Enter a date between the years 1900 and 2999.",
        ),
        (MONDAY.replace(tzinfo=None), at(1), "starts_at", "Give the time with its time zone."),
    ],
)
def test_a_bad_window_is_refused_on_its_field(project_manager, unchanged, start, end, field, message):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.booking_request(actor=project_manager, environment=environment, starts_at=start, ends_at=end)
    assert refused.value.errors == [{"field": field, "message": message}]


def test_a_booking_of_exactly_366_days_and_of_exactly_30_minutes_is_accepted(project_manager):
    environment = EnvironmentFactory(capacity=2)
    services.booking_request(
        actor=project_manager, environment=environment, starts_at=at(0), ends_at=at(366), usage=BookingUsage.SHARED
    )
    services.booking_request(
        actor=project_manager, environment=environment, starts_at=at(0), ends_at=at(0, 0.5), usage=BookingUsage.SHARED
    )


def test_a_decommissioned_environment_cannot_be_booked(project_manager, unchanged):
    environment = EnvironmentFactory(name="Old SIT", status=EnvironmentStatus.DECOMMISSIONED)
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        request(project_manager, environment)
    assert refused.value.errors == [
        {"field": "environment", "message": "Old SIT is decommissioned and cannot be booked."}
    ]


def test_an_unknown_usage_and_a_long_purpose_are_refused(project_manager, unchanged):
    environment = EnvironmentFactory()
    with unchanged():
        with pytest.raises(ValidationFailed, match="Usage is exclusive or shared"):
            request(project_manager, environment, usage="greedy")
        with pytest.raises(ValidationFailed, match="at most 200 characters"):
            request(project_manager, environment, purpose="x" * 201)


def test_a_viewer_cannot_request_a_booking(viewer, unchanged):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        request(viewer, environment)


# Phases and releases


def test_a_booking_of_a_phase_takes_the_phase_release(project_manager):
    phase = PhaseFactory()
    [booking] = request(project_manager, EnvironmentFactory(), phase=phase)
    assert booking.release == phase.release


def test_a_phase_of_another_release_is_refused(project_manager, unchanged):
    phase = PhaseFactory()
    other = ReleaseFactory()
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        request(project_manager, environment, phase=phase, release=other)
    assert refused.value.errors[0]["field"] == "phase"


# Freezes


def test_a_booking_inside_an_organisation_wide_booking_freeze_is_refused_naming_it(project_manager, unchanged):
    booking_freeze()
    environment = EnvironmentFactory(name="SIT F")
    with unchanged(), pytest.raises(Conflict) as refused:
        request(project_manager, environment, start=3)
    assert str(refused.value) == (
        "SIT F is in the booking freeze Year-end booking freeze from 2026-03-09 to 2026-03-13; "
        "choose a window outside it."
    )


def test_a_deployment_freeze_does_not_block_bookings(project_manager):
    FreezeWindowFactory(starts_on=datetime.date(2026, 3, 2), ends_on=datetime.date(2026, 3, 20))
    assert request(project_manager, EnvironmentFactory())


def test_an_environment_freeze_covers_only_environments_of_its_types(project_manager):
    booking_freeze(scope=FreezeScope.ENVIRONMENTS, environment_types=[EnvironmentType.UAT])
    assert request(project_manager, EnvironmentFactory(environment_type=EnvironmentType.SIT), start=7)
    with pytest.raises(Conflict, match="booking freeze"):
        request(project_manager, EnvironmentFactory(environment_type=EnvironmentType.UAT), start=7)


def test_a_system_freeze_covers_environments_with_a_component_of_those_systems(project_manager):
    component = EnvironmentComponentFactory()
    booking_freeze(scope=FreezeScope.SYSTEMS, systems=[component.system])
    assert request(project_manager, EnvironmentFactory(), start=7)
    with pytest.raises(Conflict, match="booking freeze"):
        request(project_manager, component.environment, start=7)


def test_a_portfolio_freeze_covers_bookings_of_releases_in_that_portfolio(project_manager):
    portfolio = PortfolioFactory()
    booking_freeze(scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio])
    environment = EnvironmentFactory(capacity=3)
    assert request(project_manager, environment, start=7, usage=BookingUsage.SHARED)
    assert request(project_manager, environment, start=7, usage=BookingUsage.SHARED, release=ReleaseFactory())
    with pytest.raises(Conflict, match="booking freeze"):
        request(
            project_manager,
            environment,
            start=7,
            usage=BookingUsage.SHARED,
            release=ReleaseFactory(portfolio=portfolio),
        )


def test_a_booking_ending_when_the_freeze_starts_fits(project_manager):
    booking_freeze()
    assert services.booking_request(
        actor=project_manager,
        environment=EnvironmentFactory(),
        starts_at=at(4),
        ends_at=datetime.datetime(2026, 3, 9, tzinfo=datetime.UTC),
    )


# Recurring bookings


def test_a_weekly_booking_makes_one_series_of_occurrences(project_manager, events):
    environment = EnvironmentFactory()
    with events(*["booking.requested"] * 4):
        made = request(project_manager, environment, days=1, repeat=Recurrence.WEEKLY, occurrences=4)
    assert [booking.starts_at for booking in made] == [at(0), at(7), at(14), at(21)]
    assert len({booking.series for booking in made}) == 1
    assert made[0].series is not None


def test_a_monthly_booking_steps_by_calendar_month(project_manager):
    made = request(project_manager, EnvironmentFactory(), days=1, repeat=Recurrence.MONTHLY, occurrences=3)
    assert [booking.starts_at.date() for booking in made] == [
        datetime.date(2026, 3, 2),
        datetime.date(2026, 4, 2),
        datetime.date(2026, 5, 2),
    ]


def test_a_recurring_booking_is_all_or_nothing_naming_the_clashing_occurrence(project_manager, unchanged):
    environment = EnvironmentFactory()
    held = EnvironmentBookingFactory(environment=environment, starts_at=at(14), ends_at=at(15))
    with unchanged(), pytest.raises(Conflict) as refused:
        request(project_manager, environment, days=1, repeat=Recurrence.WEEKLY, occurrences=4)
    assert str(refused.value).startswith("Occurrence 3 of 4 (16 Mar 2026 09:00): ")
    assert f"booking {held.pk}" in str(refused.value)


def test_occurrences_of_one_series_that_overlap_each_other_clash(project_manager, unchanged):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(Conflict, match="Occurrence 2 of 2"):
        request(project_manager, environment, days=10, repeat=Recurrence.WEEKLY, occurrences=2)


@pytest.mark.parametrize(
    ("repeat", "occurrences", "field"),
    [
        (Recurrence.WEEKLY, 0, "occurrences"),
        (Recurrence.WEEKLY, 53, "occurrences"),
        (Recurrence.NONE, 2, "occurrences"),
        (Recurrence.YEARLY, 2, "repeat"),
    ],
)
def test_bad_recurrences_are_refused(project_manager, unchanged, repeat, occurrences, field):
    environment = EnvironmentFactory()
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        request(project_manager, environment, days=1, repeat=repeat, occurrences=occurrences)
    assert refused.value.errors[0]["field"] == field


# Changing a booking


def test_a_booking_can_be_moved_and_is_checked_again(project_manager, events):
    environment = EnvironmentFactory()
    [mine] = request(project_manager, environment)
    other = EnvironmentBookingFactory(environment=environment, starts_at=at(10), ends_at=at(12))
    with events("booking.updated") as recorded:
        services.booking_update(actor=project_manager, booking=mine, version=1, starts_at=at(5), ends_at=at(8))
    assert recorded.events[0].old_data == {"starts_at": at(0).isoformat(), "ends_at": at(5).isoformat()}
    with pytest.raises(Conflict, match=f"booking {other.pk}"):
        services.booking_update(actor=project_manager, booking=mine, version=2, ends_at=at(11))
    mine.refresh_from_db()
    assert (mine.starts_at, mine.ends_at, mine.version) == (at(5), at(8), 2)


def test_a_booking_does_not_clash_with_itself_when_resized(project_manager):
    [mine] = request(project_manager, EnvironmentFactory())
    services.booking_update(actor=project_manager, booking=mine, ends_at=at(6))
    assert mine.ends_at == at(6)


def test_a_stale_edit_is_refused(project_manager, unchanged):
    [mine] = request(project_manager, EnvironmentFactory())
    with unchanged(), pytest.raises(StaleVersion):
        services.booking_update(actor=project_manager, booking=mine, version=7, purpose="late")


def test_a_bad_window_on_update_changes_nothing(project_manager, unchanged):
    [mine] = request(project_manager, EnvironmentFactory())
    with unchanged(), pytest.raises(ValidationFailed, match="at most 366 days"):
        services.booking_update(actor=project_manager, booking=mine, version=1, ends_at=at(3652))


def test_someone_else_cannot_change_my_booking_but_an_environment_manager_can(
    project_manager, quality_manager, environment_manager, unchanged
):
    [mine] = request(project_manager, EnvironmentFactory())
    with unchanged(), pytest.raises(PermissionDenied, match="Only the person who requested this booking"):
        services.booking_update(actor=quality_manager, booking=mine, purpose="mine now")
    services.booking_update(actor=environment_manager, booking=mine, purpose="checked")


def test_moving_an_approved_booking_sends_it_back_for_approval(project_manager, environment_manager):
    [mine] = request(project_manager, EnvironmentFactory())
    services.booking_approve(actor=environment_manager, booking=mine)
    services.booking_update(actor=project_manager, booking=mine, starts_at=at(1))
    assert mine.status == BookingStatus.REQUESTED
    services.booking_update(actor=project_manager, booking=mine, purpose="only words")
    assert mine.status == BookingStatus.REQUESTED


def test_a_closed_booking_cannot_be_changed(project_manager, unchanged):
    booking = EnvironmentBookingFactory(status=BookingStatus.CANCELLED, requester=project_manager)
    with unchanged(), pytest.raises(Conflict, match="A cancelled booking cannot be changed"):
        services.booking_update(actor=project_manager, booking=booking, purpose="again")


# Transitions and who may take them


def test_the_life_of_a_booking(project_manager, environment_manager):
    [booking] = request(project_manager, EnvironmentFactory())
    services.booking_approve(actor=environment_manager, booking=booking, note="ok")
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by, booking.decision_note) == (
        BookingStatus.APPROVED,
        environment_manager,
        "ok",
    )
    services.booking_activate(actor=project_manager, booking=booking)
    services.booking_release(actor=project_manager, booking=booking)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.RELEASED


def test_each_transition_writes_its_audit_event(project_manager, environment_manager, events):
    [booking] = request(project_manager, EnvironmentFactory())
    with events("booking.approved", "booking.activated", "booking.released"):
        services.booking_approve(actor=environment_manager, booking=booking)
        services.booking_activate(actor=project_manager, booking=booking)
        services.booking_release(actor=project_manager, booking=booking)
    [other] = request(project_manager, EnvironmentFactory())
    with events("booking.cancelled"):
        services.booking_cancel(actor=project_manager, booking=other)
    [third] = request(project_manager, EnvironmentFactory())
    with events("booking.rejected") as recorded:
        services.booking_reject(actor=environment_manager, booking=third, note="The lane is reserved for perf.")
    assert recorded.events[0].reason == "The lane is reserved for perf."


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (BookingStatus.APPROVED, "approve"),
        (BookingStatus.REQUESTED, "activate"),
        (BookingStatus.APPROVED, "release"),
        (BookingStatus.RELEASED, "cancel"),
        (BookingStatus.ACTIVE, "cancel"),
        (BookingStatus.CANCELLED, "reject"),
    ],
)
def test_a_transition_from_the_wrong_status_is_refused(environment_manager, unchanged, status, action):
    booking = EnvironmentBookingFactory(status=status)
    kwargs = {"note": "why"} if action == "reject" else {}
    with unchanged(), pytest.raises(Conflict, match="this one is"):
        getattr(services, f"booking_{action}")(actor=environment_manager, booking=booking, **kwargs)


def test_a_refused_transition_says_which_status_it_needs(environment_manager):
    booking = EnvironmentBookingFactory(status=BookingStatus.REQUESTED)
    with pytest.raises(Conflict) as refused:
        services.booking_activate(actor=environment_manager, booking=booking)
    assert str(refused.value) == "Only an approved booking can be started; this one is requested."


def test_project_and_quality_managers_cannot_approve(project_manager, quality_manager, unchanged):
    booking = EnvironmentBookingFactory()
    with unchanged():
        for actor in (project_manager, quality_manager):
            with pytest.raises(PermissionDenied):
                services.booking_approve(actor=actor, booking=booking)
            with pytest.raises(PermissionDenied):
                services.booking_reject(actor=actor, booking=booking, note="no")


def test_approving_ones_own_booking_is_refused_by_default(environment_manager, unchanged):
    [booking] = request(environment_manager, EnvironmentFactory())
    with unchanged(), pytest.raises(PermissionDenied) as refused:
        services.booking_approve(actor=environment_manager, booking=booking)
    assert refused.value.status == 403
    assert str(refused.value) == "You requested this booking: another environment manager must approve it."


@override_settings(LAUNCHDECK_BOOKING_SELF_APPROVAL=True)
def test_approving_ones_own_booking_is_allowed_where_the_policy_allows_it(environment_manager):
    [booking] = request(environment_manager, EnvironmentFactory())
    services.booking_approve(actor=environment_manager, booking=booking)
    assert booking.status == BookingStatus.APPROVED


def test_a_rejection_needs_a_reason(environment_manager, unchanged):
    booking = EnvironmentBookingFactory()
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.booking_reject(actor=environment_manager, booking=booking, note="  ")
    assert refused.value.errors == [{"field": "note", "message": "Say why the booking is rejected."}]


def test_an_overbooked_request_cannot_be_approved(environment_manager, unchanged):
    environment = EnvironmentFactory()
    first = EnvironmentBookingFactory(environment=environment)
    second = EnvironmentBookingFactory(environment=environment, starts_at=at(1))  # written past the rule
    with unchanged(), pytest.raises(Conflict, match=f"booking {first.pk}"):
        services.booking_approve(actor=environment_manager, booking=second)


def test_a_request_on_an_environment_decommissioned_since_cannot_be_approved(environment_manager, unchanged):
    environment = EnvironmentFactory(name="SIT Retired", status=EnvironmentStatus.DECOMMISSIONED)
    booking = EnvironmentBookingFactory(environment=environment)  # requested before it was decommissioned
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        services.booking_approve(actor=environment_manager, booking=booking)
    assert refused.value.errors == [
        {"field": "environment", "message": "SIT Retired is decommissioned and cannot be booked."}
    ]


def test_a_booking_on_an_environment_decommissioned_since_cannot_be_activated(environment_manager, unchanged):
    environment = EnvironmentFactory(name="SIT Retired", status=EnvironmentStatus.DECOMMISSIONED)
    booking = EnvironmentBookingFactory(environment=environment, status=BookingStatus.APPROVED)
    with unchanged(), pytest.raises(ValidationFailed, match="SIT Retired is decommissioned and cannot be booked"):
        services.booking_activate(actor=environment_manager, booking=booking)


def test_a_request_inside_a_booking_freeze_declared_since_cannot_be_approved(environment_manager, unchanged):
    booking = EnvironmentBookingFactory(starts_at=at(8), ends_at=at(9))  # requested before the freeze
    booking_freeze()
    with unchanged(), pytest.raises(Conflict, match="booking freeze Year-end booking freeze"):
        services.booking_approve(actor=environment_manager, booking=booking)


def test_a_manager_moving_their_own_approved_booking_sends_it_back_for_approval(environment_manager, make_user):
    from launchdeck.accounts.roles import Role

    [mine] = request(environment_manager, EnvironmentFactory())
    services.booking_approve(actor=make_user(Role.ENVIRONMENT_MANAGER, username="other_manager"), booking=mine)
    services.booking_update(actor=environment_manager, booking=mine, starts_at=at(1))
    assert mine.status == BookingStatus.REQUESTED
    assert not services.booking_may_approve(environment_manager, mine)


def test_only_the_requester_or_a_manager_cancels(project_manager, quality_manager, environment_manager, unchanged):
    [booking] = request(project_manager, EnvironmentFactory())
    with unchanged(), pytest.raises(PermissionDenied):
        services.booking_cancel(actor=quality_manager, booking=booking)
    services.booking_cancel(actor=environment_manager, booking=booking)
    assert EnvironmentBooking.objects.get().status == BookingStatus.CANCELLED


def test_a_cancelled_window_can_be_booked_again(project_manager):
    environment = EnvironmentFactory()
    [booking] = request(project_manager, environment)
    services.booking_cancel(actor=project_manager, booking=booking)
    assert request(project_manager, environment)
