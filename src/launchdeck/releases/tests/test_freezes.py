"""Freeze windows in time: occurrences of one-off and recurring windows, which apply to a release, flagged deploys."""

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases.choices import FreezeCategory, FreezeScope, MilestoneKind, Recurrence
from launchdeck.releases.freezes import (
    FreezeOccurrence,
    deploy_milestones_in_freeze,
    freeze_applies,
    freeze_occurrences,
    freezes_between,
)
from launchdeck.releases.models import FreezeWindow
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    MilestoneFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
)

D = datetime.date


def window(**fields) -> FreezeWindow:
    """An unsaved window: occurrences need no database."""
    defaults = {"name": "W", "starts_on": D(2026, 1, 5), "ends_on": D(2026, 1, 6), "recurrence": Recurrence.NONE}
    return FreezeWindow(**{**defaults, **fields})


# Occurrences


def test_a_one_off_window_occurs_once_when_it_overlaps():
    once = window(starts_on=D(2026, 12, 18), ends_on=D(2027, 1, 4))
    assert freeze_occurrences(once, D(2026, 12, 1), D(2026, 12, 31)) == [(D(2026, 12, 18), D(2027, 1, 4))]
    assert freeze_occurrences(once, D(2027, 1, 4), D(2027, 2, 1)) == [(D(2026, 12, 18), D(2027, 1, 4))]
    assert freeze_occurrences(once, D(2027, 1, 5), D(2027, 2, 1)) == []
    assert freeze_occurrences(once, D(2026, 11, 1), D(2026, 12, 17)) == []


def test_a_weekly_window_occurs_every_week_until_it_stops():
    fridays = window(
        starts_on=D(2026, 1, 2), ends_on=D(2026, 1, 4), recurrence=Recurrence.WEEKLY, recurs_until=D(2026, 1, 23)
    )
    assert freeze_occurrences(fridays, D(2026, 1, 1), D(2026, 3, 1)) == [
        (D(2026, 1, 2), D(2026, 1, 4)),
        (D(2026, 1, 9), D(2026, 1, 11)),
        (D(2026, 1, 16), D(2026, 1, 18)),
        (D(2026, 1, 23), D(2026, 1, 25)),
    ]


def test_an_occurrence_overlapping_the_start_of_the_range_is_included():
    weekends = window(
        starts_on=D(2026, 1, 3), ends_on=D(2026, 1, 4), recurrence=Recurrence.WEEKLY, recurs_until=D(2027, 1, 1)
    )
    assert freeze_occurrences(weekends, D(2026, 1, 11), D(2026, 1, 17)) == [
        (D(2026, 1, 10), D(2026, 1, 11)),
        (D(2026, 1, 17), D(2026, 1, 18)),
    ]


def test_a_monthly_window_on_the_31st_falls_on_the_last_day_of_shorter_months():
    month_end = window(
        starts_on=D(2026, 1, 31), ends_on=D(2026, 1, 31), recurrence=Recurrence.MONTHLY, recurs_until=D(2026, 12, 31)
    )
    starts = [first for first, _ in freeze_occurrences(month_end, D(2026, 1, 1), D(2026, 6, 30))]
    assert starts == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 30)]


def test_a_yearly_window_recurs_on_its_date_and_spans_the_new_year():
    year_end = window(
        starts_on=D(2025, 12, 20), ends_on=D(2026, 1, 3), recurrence=Recurrence.YEARLY, recurs_until=D(2030, 12, 31)
    )
    assert freeze_occurrences(year_end, D(2027, 1, 1), D(2028, 1, 1)) == [
        (D(2026, 12, 20), D(2027, 1, 3)),
        (D(2027, 12, 20), D(2028, 1, 3)),
    ]


def test_recurs_until_is_the_last_day_an_occurrence_may_start():
    weekly = window(
        starts_on=D(2026, 1, 5), ends_on=D(2026, 1, 6), recurrence=Recurrence.WEEKLY, recurs_until=D(2026, 1, 18)
    )
    assert [first for first, _ in freeze_occurrences(weekly, D(2026, 1, 1), D(2026, 12, 31))] == [
        D(2026, 1, 5),
        D(2026, 1, 12),
    ]
    assert freeze_occurrences(weekly, D(2026, 2, 1), D(2026, 2, 28)) == []


# Windows in a range, and which apply


@pytest.mark.django_db
def test_freezes_between_expands_every_window_with_what_it_covers(django_assert_num_queries):
    portfolio, system = PortfolioFactory(), SystemFactory()
    FreezeWindowFactory(name="Year end")
    FreezeWindowFactory(
        name="Month end",
        scope=FreezeScope.PORTFOLIOS,
        portfolios=[portfolio],
        starts_on=D(2026, 1, 30),
        ends_on=D(2026, 1, 31),
        recurrence=Recurrence.MONTHLY,
        recurs_until=D(2026, 12, 31),
    )
    FreezeWindowFactory(
        name="Core",
        scope=FreezeScope.SYSTEMS,
        systems=[system],
        category=FreezeCategory.CHANGE,
        starts_on=D(2026, 12, 1),
        ends_on=D(2026, 12, 2),
    )
    FreezeWindowFactory(name="Long ago", starts_on=D(2020, 1, 1), ends_on=D(2020, 1, 2))
    with django_assert_num_queries(3):
        found = freezes_between(D(2026, 11, 15), D(2026, 12, 31))
    assert [(o.name, o.start, o.end) for o in found] == [
        ("Month end", D(2026, 11, 30), D(2026, 12, 1)),
        ("Core", D(2026, 12, 1), D(2026, 12, 2)),
        ("Year end", D(2026, 12, 18), D(2026, 12, 31)),
        ("Month end", D(2026, 12, 30), D(2026, 12, 31)),
    ]
    assert found[0].portfolio_ids == frozenset({portfolio.pk}) and found[1].system_ids == frozenset({system.pk})
    deployments = freezes_between(D(2026, 11, 15), D(2026, 12, 31), category=FreezeCategory.DEPLOYMENT)
    assert "Core" not in {o.name for o in deployments}


def occurrence(scope, **lists):
    return FreezeOccurrence(
        window_id=1, name="F", category="deployment", scope=scope, start=D(2026, 1, 1), end=D(2026, 1, 2), **lists
    )


def test_an_organisation_freeze_applies_to_every_release():
    assert freeze_applies(occurrence(FreezeScope.ORGANISATION), portfolio_id=None, system_ids=set())


def test_a_portfolio_freeze_applies_to_releases_of_its_portfolios():
    frozen = occurrence(FreezeScope.PORTFOLIOS, portfolio_ids=frozenset({1, 2}))
    assert freeze_applies(frozen, portfolio_id=2, system_ids=set())
    assert not freeze_applies(frozen, portfolio_id=3, system_ids={1})
    assert not freeze_applies(frozen, portfolio_id=None, system_ids=set())


def test_a_system_freeze_applies_to_releases_touching_its_systems():
    frozen = occurrence(FreezeScope.SYSTEMS, system_ids=frozenset({7}))
    assert freeze_applies(frozen, portfolio_id=None, system_ids={3, 7})
    assert not freeze_applies(frozen, portfolio_id=7, system_ids={3})


def test_an_environment_freeze_does_not_apply_to_releases():
    frozen = occurrence(FreezeScope.ENVIRONMENTS, environment_types=frozenset({"uat"}))
    assert not freeze_applies(frozen, portfolio_id=1, system_ids={1})


# Deploy milestones inside a freeze


@pytest.mark.django_db
def test_deploy_milestones_inside_an_applicable_deployment_freeze_are_flagged(django_assert_max_num_queries):
    portfolio, other_portfolio, system = PortfolioFactory(), PortfolioFactory(), SystemFactory()
    FreezeWindowFactory(name="Cards freeze", scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio])
    FreezeWindowFactory(name="Core freeze", scope=FreezeScope.SYSTEMS, systems=[system])
    FreezeWindowFactory(name="No changes", category=FreezeCategory.CHANGE, starts_on=D(2026, 11, 1))
    window_end = D(2026, 12, 31)
    cards = ReleaseFactory(portfolio=portfolio, planned_end=window_end)
    flagged = MilestoneFactory(release=cards, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 21))
    MilestoneFactory(release=cards, name="Sign-off", kind=MilestoneKind.GO_NO_GO, planned_date=D(2026, 12, 21))
    MilestoneFactory(release=cards, name="Early", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 17))
    core = ReleaseFactory(portfolio=other_portfolio, planned_end=window_end)
    ReleaseSystemFactory(release=core, system=system)
    core_deploy = MilestoneFactory(release=core, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 31))
    elsewhere = ReleaseFactory(portfolio=other_portfolio, planned_end=window_end)
    MilestoneFactory(release=elsewhere, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 22))
    changes_only = ReleaseFactory(planned_end=window_end)
    MilestoneFactory(release=changes_only, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 11, 2))
    ids = [cards.pk, core.pk, elsewhere.pk, changes_only.pk]
    with django_assert_max_num_queries(6):
        result = deploy_milestones_in_freeze(ids)
    assert result == {cards.pk: [(flagged.pk, "Cards freeze")], core.pk: [(core_deploy.pk, "Core freeze")]}


@pytest.mark.django_db
def test_a_recurring_freeze_flags_a_deploy_in_a_later_occurrence():
    FreezeWindowFactory(
        name="Month end",
        starts_on=D(2026, 1, 31),
        ends_on=D(2026, 1, 31),
        recurrence=Recurrence.MONTHLY,
        recurs_until=D(2026, 12, 31),
    )
    release = ReleaseFactory()
    deploy = MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 4, 30))
    MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 4, 29))
    assert deploy_milestones_in_freeze([release.pk]) == {release.pk: [(deploy.pk, "Month end")]}


@pytest.mark.django_db
def test_no_releases_or_no_deploys_ask_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert deploy_milestones_in_freeze([]) == {}
    release = ReleaseFactory()
    with django_assert_num_queries(1):
        assert deploy_milestones_in_freeze([release.pk]) == {}


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)),
    length=st.integers(0, 6),
    recurrence=st.sampled_from([Recurrence.WEEKLY, Recurrence.MONTHLY, Recurrence.YEARLY]),
    years=st.integers(0, 10),
    range_start=st.dates(min_value=D(2023, 1, 1), max_value=D(2041, 12, 31)),
    range_days=st.integers(0, 400),
)
def test_recurring_occurrences_overlap_the_range_keep_their_length_and_stop_in_time(
    start, length, recurrence, years, range_start, range_days
):
    until = start + datetime.timedelta(days=365 * years)
    recurring = window(
        starts_on=start, ends_on=start + datetime.timedelta(days=length), recurrence=recurrence, recurs_until=until
    )
    range_end = range_start + datetime.timedelta(days=range_days)
    found = freeze_occurrences(recurring, range_start, range_end)
    for first, last in found:
        assert (last - first).days == length
        assert start <= first <= until
        assert first <= range_end and last >= range_start
    assert [first for first, _ in found] == sorted({first for first, _ in found})
    # nothing missed: a day in the range inside an occurrence found by scanning from the start is listed
    step = {Recurrence.WEEKLY: 7}.get(recurrence)
    if step:
        expected = []
        first = start
        while first <= min(until, range_end):
            if first + datetime.timedelta(days=length) >= range_start:
                expected.append(first)
            first += datetime.timedelta(days=step)
        assert [first for first, _ in found] == expected


@pytest.mark.django_db
def test_asking_about_the_first_days_of_the_calendar_is_answered_not_overflowed():
    FreezeWindowFactory(starts_on=datetime.date(2026, 12, 20), ends_on=datetime.date(2027, 1, 3))
    assert freezes_between(datetime.date.min, datetime.date(1, 2, 1)) == []
