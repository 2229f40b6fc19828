"""The inventory's reads: the filtered list, one environment, its status history and availability."""

import datetime

import pytest
from django.utils import timezone

from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.environments import selectors
from launchdeck.environments.choices import BookingStatus, EnvironmentCategory
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    EnvironmentStatusChangeFactory,
    at,
)
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.choices import EnvironmentType

pytestmark = pytest.mark.django_db


def names(queryset) -> list[str]:
    return [environment.name for environment in queryset]


def history(environment, *entries):
    """Status entries `(days after MONDAY, status)` for `environment`."""
    for days, status in entries:
        EnvironmentStatusChangeFactory(environment=environment, status=status, started_at=at(days))


# The list


def test_environment_list_filters_by_search_type_category_group_status_and_owner_team(viewer):
    lane, falcon = EnvironmentGroupFactory(name="Payments lane"), TeamFactory(name="Falcon")
    EnvironmentFactory(name="SIT 1", group=lane, description="payments integration")
    EnvironmentFactory(name="UAT 1", environment_type=EnvironmentType.UAT, owner_team=falcon)
    EnvironmentFactory(
        name="PROD", environment_type=EnvironmentType.PRODUCTION, category=EnvironmentCategory.PRODUCTION, status="down"
    )

    def listed(**filters) -> list[str]:
        return names(selectors.environment_list(user=viewer, **filters))

    assert listed() == ["PROD", "SIT 1", "UAT 1"]
    assert listed(search="PAYMENTS") == ["SIT 1"]
    assert listed(environment_type="uat") == ["UAT 1"]
    assert listed(category="production") == ["PROD"]
    assert listed(group=lane.pk) == ["SIT 1"]
    assert listed(status="down") == ["PROD"]
    assert listed(owner_team=falcon.pk) == ["UAT 1"]
    assert listed(owner_team=falcon.pk, status="down") == []


def test_the_list_counts_live_bookings_that_have_not_ended(viewer):
    environment = EnvironmentFactory(capacity=5)
    now = timezone.now()
    for status in (BookingStatus.REQUESTED, BookingStatus.APPROVED, BookingStatus.ACTIVE):
        EnvironmentBookingFactory(
            environment=environment, status=status, starts_at=now, ends_at=now + datetime.timedelta(days=2)
        )
    for status in (BookingStatus.REJECTED, BookingStatus.CANCELLED, BookingStatus.RELEASED):
        EnvironmentBookingFactory(
            environment=environment, status=status, starts_at=now, ends_at=now + datetime.timedelta(days=2)
        )
    EnvironmentBookingFactory(environment=environment, starts_at=at(-400), ends_at=at(-399))  # over long ago
    assert selectors.environment_list(user=viewer).get().open_booking_count == 3


def test_the_list_reads_any_number_of_environments_in_one_query(viewer, django_assert_num_queries):
    for _ in range(6):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory())
        EnvironmentBookingFactory(environment=environment, starts_at=timezone.now(), ends_at=at(10_000))
    viewer.has_perm("environments.view_environment")  # the user's roles are read once per request, not per list
    with django_assert_num_queries(1):
        rows = list(selectors.environment_list(user=viewer))
        assert [str(row.group) and str(row.owner_team) for row in rows]
    assert {row.open_booking_count for row in rows} == {1}


def test_environment_get_brings_what_it_depends_on_and_what_needs_it(viewer, django_assert_max_num_queries):
    data_env, sit, uat = EnvironmentFactory(name="Data"), EnvironmentFactory(name="SIT"), EnvironmentFactory(name="UAT")
    sit.depends_on.set([data_env])
    uat.depends_on.set([data_env])
    viewer.has_perm("environments.view_environment")
    with django_assert_max_num_queries(3):
        found = selectors.environment_get(user=viewer, pk=data_env.pk)
        assert names(found.needed_by.all()) == ["SIT", "UAT"]
        assert names(found.depends_on.all()) == []


def test_an_unknown_environment_is_not_found(viewer):
    with pytest.raises(NotFound, match=r"Environment not found\."):
        selectors.environment_get(user=viewer, pk=999_999)


def test_groups_count_their_environments(viewer):
    lane = EnvironmentGroupFactory(name="Lane A")
    EnvironmentGroupFactory(name="Lane B", description="for data")
    EnvironmentFactory.create_batch(2, group=lane)
    assert [(g.name, g.environment_count) for g in selectors.environment_group_list(user=viewer)] == [
        ("Lane A", 2),
        ("Lane B", 0),
    ]
    assert [g.name for g in selectors.environment_group_list(user=viewer, search="DATA")] == ["Lane B"]


# Status history and availability


def test_the_history_of_a_window_starts_with_the_entry_in_force_at_its_start(viewer):
    environment = EnvironmentFactory()
    history(environment, (-100, "available"), (-50, "down"), (-40, "available"), (5, "maintenance"), (30, "down"))
    entries = selectors.environment_status_history(user=viewer, environment=environment, start=at(0), end=at(20))
    assert [(entry.started_at, entry.status) for entry in entries] == [(at(-40), "available"), (at(5), "maintenance")]


def test_availability_is_time_up_over_time_in_service(viewer):
    environment = EnvironmentFactory()
    history(environment, (-10, "available"), (2, "down"), (4, "degraded"), (6, "maintenance"), (7, "in_use"))
    # 0..10: up 0-2, down 2-4, degraded (up) 4-6, maintenance (down) 6-7, in use 7-10: up 7 days of 10.
    assert selectors.environment_availability(environment, at(0), at(10)) == pytest.approx(0.7)


def test_provisioning_and_decommissioned_time_does_not_count(viewer):
    environment = EnvironmentFactory()
    history(environment, (0, "provisioning"), (4, "available"), (6, "down"), (8, "decommissioned"))
    assert selectors.environment_availability(environment, at(0), at(10)) == pytest.approx(0.5)


def test_an_environment_never_in_service_has_no_availability(viewer):
    environment = EnvironmentFactory()
    history(environment, (-5, "provisioning"))
    assert selectors.environment_availability(environment, at(0), at(10)) is None
    assert selectors.environment_availability(EnvironmentFactory(), at(0), at(10)) is None  # no history at all


def test_availability_of_many_environments_takes_one_query(viewer, django_assert_num_queries):
    always_up, half_down, new = EnvironmentFactory(), EnvironmentFactory(), EnvironmentFactory()
    history(always_up, (-300, "available"), (-200, "down"), (-100, "available"))
    history(half_down, (-1, "available"), (5, "down"))
    history(new, (5, "available"))
    viewer.has_perm("environments.view_environmentstatuschange")
    with django_assert_num_queries(1):
        figures = selectors.environment_availability_map(
            [always_up.pk, half_down.pk, new.pk], at(0), at(10), user=viewer
        )
    assert figures == {always_up.pk: 1.0, half_down.pk: 0.5, new.pk: 1.0}
    assert selectors.environment_availability_map([], at(0), at(10)) == {}


def test_a_window_must_end_after_it_starts(viewer):
    environment = EnvironmentFactory()
    with pytest.raises(ValidationFailed, match=r"The end must be after the start\.") as caught:
        selectors.environment_availability(environment, at(10), at(10))
    assert caught.value.errors[0]["field"] == "end"
    with pytest.raises(ValidationFailed):
        selectors.environment_status_history(user=viewer, environment=environment, start=at(5), end=at(1))


def test_the_status_band_gives_each_day_the_status_it_ended_in():
    environment = EnvironmentFactory()
    history(environment, (-1, "available"), (1.5, "down"), (2.2, "available"))
    entries = list(environment.status_changes.order_by("started_at"))
    band = selectors.environment_status_band(entries, at(0), at(3))
    assert [status for _, status in band] == ["available", "down", "available", "available"]
    assert band[0][0] == at(0).date()
    assert [status for _, status in selectors.environment_status_band([], at(0), at(1))] == [None, None]


def test_the_default_window_is_the_last_90_days():
    now = timezone.now()
    start, end = selectors.default_history_window(now)
    assert (end - start, end) == (datetime.timedelta(days=90), now)
