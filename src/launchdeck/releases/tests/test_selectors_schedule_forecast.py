"""Forecasting release ends: the history of how long finished phases took (by kind, by team where it has enough),
a Monte Carlo over each release's (or its train's) plan, deterministic for a seed, in a bounded number of queries."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.models import CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory, TeamFactory
from launchdeck.portfolio.tests.factories import ProjectFactory
from launchdeck.releases import selectors
from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory, TrainFactory
from launchdeck.scheduling.calendar import STANDARD

D = date
TODAY = D(2026, 2, 2)
HISTORY_START = D(2025, 3, 3)  # a Monday
START = D(2026, 3, 2)  # a Monday
END = D(2026, 3, 27)  # a Friday: 20 working days

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(viewer):
    viewer.roles  # noqa: B018 - load the roles now, so query counts measure the selector alone
    return viewer


@pytest.fixture
def nobody(make_user):
    user = make_user(username="nobody")
    user.roles  # noqa: B018
    return user


def fields_of(error: ValidationFailed) -> dict[str, str]:
    return {item["field"]: item["message"] for item in error.errors}


def after(day: date, working_days: int) -> date:
    return STANDARD.add_working_days(day, working_days)


def finished(count: int, *, kind: str = "build", took: float = 1.0, team=None, planned_days: int = 10, **fields):
    """`count` finished phases of `kind` in one released release (of a project of `team` when given), each planned
    for `planned_days` working days and taking `took` times as long."""
    release = ReleaseFactory(
        status="released",
        planned_start=HISTORY_START,
        planned_end=D(2025, 12, 19),
        project=ProjectFactory(owner_team=team) if team else None,
    )
    actual_days = round(planned_days * took)
    for _ in range(count):
        PhaseFactory(
            release=release,
            kind=kind,
            status="done",
            planned_start=HISTORY_START,
            planned_end=after(HISTORY_START, planned_days - 1),
            actual_start=HISTORY_START,
            actual_end=after(HISTORY_START, actual_days - 1),
            **fields,
        )
    return release


def planned(name="Payments 4.2", *, team=None, **fields):
    """An open release from Mon 2 to Fri 27 Mar 2026 with one build phase over all of it."""
    release = ReleaseFactory(
        name=name,
        status="planned",
        planned_start=START,
        planned_end=END,
        project=ProjectFactory(owner_team=team) if team else None,
        **fields,
    )
    PhaseFactory(release=release, name="Build", kind="build", planned_start=START, planned_end=END)
    return release


# The history


def test_duration_history_pools_actual_over_planned_working_days_by_kind_and_by_team_with_enough(reader):
    alpha, beta = TeamFactory(), TeamFactory()
    finished(20, took=1.0, team=alpha)
    finished(19, took=1.5, team=beta)
    finished(2, kind="sit", took=2.0, team=alpha)
    history = selectors.phase_duration_history(user=reader)
    # Alpha has 20 builds of its own: its forecasts use them.
    assert history.lookup("build", alpha.pk) == ((1.0,) * 20, "team")
    # Beta has only 19: every team's builds.
    assert history.lookup("build", beta.pk) == ((1.0,) * 20 + (1.5,) * 19, "kind")
    assert history.lookup("sit", alpha.pk) == ((2.0, 2.0), "kind")
    assert history.lookup("uat", alpha.pk) == ((), "none")
    assert selectors.phase_duration_history(user=reader, kinds=["sit"]).lookup("build") == ((), "none")


def test_duration_history_measures_against_the_baseline_window_and_counts_the_release_s_calendar(reader):
    # Planned 10 days, baseline 5 (Mon 3 to Fri 7 Mar 2025), took 10: twice its baseline.
    finished(1, baseline_start=HISTORY_START, baseline_end=D(2025, 3, 7))
    # Planned 5 days (Mon 3 to Fri 7 Mar 2025), took 10 weekdays of which the release's calendar closes 5: on time.
    shutdown = CalendarFactory()
    CalendarClosure.objects.create(calendar=shutdown, name="Shutdown", start=D(2025, 3, 10), end=D(2025, 3, 14))
    release = finished(1, kind="sit", planned_days=5, took=2.0)
    release.calendar = shutdown
    release.save()
    history = selectors.phase_duration_history(user=reader)
    assert history.lookup("build") == ((2.0,), "kind")
    assert history.lookup("sit") == ((1.0,), "kind")


def test_duration_history_leaves_out_unfinished_and_skipped_phases_and_what_the_user_may_not_see(reader, nobody):
    finished(1, took=2.0)
    release = ReleaseFactory(status="in_progress")
    PhaseFactory(release=release, kind="build", actual_start=release.planned_start)
    PhaseFactory(
        release=release,
        kind="build",
        status="skipped",
        actual_start=release.planned_start,
        actual_end=release.planned_start,
    )
    assert selectors.phase_duration_history(user=reader).lookup("build") == ((2.0,), "kind")
    assert selectors.phase_duration_history(user=nobody).lookup("build") == ((), "none")


# The forecast


def test_without_history_a_release_is_forecast_to_end_as_planned_with_certainty(reader):
    release = planned()
    forecast = selectors.release_forecast(user=reader, release=release, today=TODAY)
    assert forecast == {
        "p50": END,
        "p85": END,
        "probability_on_time": 1.0,
        "planned_end": END,
        "runs": 2000,
        "samples": 0,
        "basis": "No finished phases yet: planned durations.",
    }


def test_phases_that_took_twice_as_long_push_the_end_by_the_slip(reader):
    finished(5, took=2.0)
    release = planned()
    forecast = selectors.release_forecast(user=reader, release=release, runs=200, today=TODAY)
    # 20 working days become 40: the end moves 20 working days later, every run.
    assert (forecast["p50"], forecast["p85"]) == (after(END, 20), after(END, 20))
    assert forecast["probability_on_time"] == 0.0
    assert forecast["planned_end"] == END
    assert (forecast["samples"], forecast["runs"]) == (5, 200)
    assert forecast["basis"] == "From 5 finished phases of the same kinds."


def test_a_forecast_is_the_same_for_the_same_seed_and_spreads_between_the_history_s_extremes(reader):
    finished(10, took=1.0)
    finished(10, took=1.5)
    release = planned()
    first = selectors.release_forecast(user=reader, release=release, seed=7, today=TODAY)
    again = selectors.release_forecast(user=reader, release=release.pk, seed=7, today=TODAY)
    assert first == again
    assert END <= first["p50"] <= first["p85"] <= after(END, 10)
    assert 0.3 < first["probability_on_time"] < 0.7
    assert first["samples"] == 20
    others = {
        selectors.release_forecast(user=reader, release=release, seed=seed, today=TODAY)["probability_on_time"]
        for seed in (1, 2)
    }
    assert others != {first["probability_on_time"]}


def test_a_team_with_enough_history_is_forecast_from_its_own(reader):
    alpha, beta = TeamFactory(), TeamFactory()
    finished(20, took=1.0, team=alpha)
    finished(20, took=2.0, team=beta)
    gamma = TeamFactory()
    forecasts = selectors.forecast_map(
        user=reader,
        release_ids=[planned("Alpha", team=alpha).pk, planned("Beta", team=beta).pk, planned("Gamma", team=gamma).pk],
        today=TODAY,
    )
    alpha_forecast, beta_forecast, gamma_forecast = forecasts.values()
    assert (alpha_forecast["p85"], alpha_forecast["probability_on_time"]) == (END, 1.0)
    assert alpha_forecast["samples"] == 20
    assert alpha_forecast["basis"] == "From 20 finished phases of the same kinds (the team's own history for Build)."
    assert (beta_forecast["p50"], beta_forecast["probability_on_time"]) == (after(END, 20), 0.0)
    # A team with no history of its own: every team's.
    assert gamma_forecast["samples"] == 40
    assert gamma_forecast["basis"] == "From 40 finished phases of the same kinds."


def test_the_basis_names_kinds_without_history_and_a_release_with_nothing_left_to_forecast(reader):
    finished(3, took=1.0)
    release = planned()
    PhaseFactory(release=release, name="UAT", kind="uat", planned_start=D(2026, 3, 23), planned_end=END)
    forecast = selectors.release_forecast(user=reader, release=release, today=TODAY)
    assert forecast["basis"] == (
        "From 3 finished phases of the same kinds; planned durations for User acceptance test, with none finished yet."
    )
    started = ReleaseFactory(status="in_progress", planned_start=START, planned_end=END, actual_start=START)
    PhaseFactory(release=started, kind="build", planned_start=START, planned_end=END, actual_start=START)
    forecast = selectors.release_forecast(user=reader, release=started, today=TODAY)
    assert (forecast["p85"], forecast["samples"]) == (END, 0)
    assert forecast["basis"] == "No phase left to forecast: the planned dates hold."


def test_a_train_and_its_children_are_forecast_over_the_whole_train_s_plan(reader):
    finished(4, took=1.5)
    train = TrainFactory(name="Train 2026.1", status="planned", planned_start=START, planned_end=END)
    child = planned("Payments 4.2", train=train)
    planned("Cards 2.0", train=train)
    standalone = planned("Ledger 1.9")
    forecasts = selectors.forecast_map(user=reader, release_ids=[train.pk, child.pk, standalone.pk], today=TODAY)
    assert set(forecasts) == {train.pk, child.pk, standalone.pk}
    # The train has no phase of its own; its children's builds take half again as long (30 working days, 10 past
    # the end) and the train waits for them.
    assert forecasts[train.pk]["p50"] == after(END, 10)
    assert forecasts[child.pk]["p50"] == after(END, 10)
    # The train's forecast draws on its children's phases; a child's on its own.
    assert (forecasts[train.pk]["samples"], forecasts[child.pk]["samples"]) == (4, 4)
    assert forecasts[train.pk]["basis"] == "From 4 finished phases of the same kinds."
    # Each plan is simulated on its own: the same answer whichever releases are asked for together.
    for release in (train, child, standalone):
        assert selectors.release_forecast(user=reader, release=release, today=TODAY) == forecasts[release.pk]


# Forecasts on a day the plan has already passed


def build_then_test(**fields):
    """An open release from Mon 2 to Fri 27 Mar 2026: Build for its first ten working days, Test for the last ten."""
    release = ReleaseFactory(name="Payments 4.2", planned_start=START, planned_end=END, **fields)
    build = PhaseFactory(
        release=release, name="Build", kind="build", planned_start=START, planned_end=D(2026, 3, 13), position=1
    )
    test = PhaseFactory(
        release=release, name="Test", kind="sit", planned_start=D(2026, 3, 16), planned_end=END, position=2
    )
    return release, build, test


def test_a_release_under_way_past_its_planned_end_ends_today_at_the_earliest_and_cannot_be_on_time(reader):
    release, build, test = build_then_test(status="in_progress", actual_start=START)
    for phase in (build, test):
        phase.status, phase.actual_start = "in_progress", phase.planned_start
        phase.save()
    today = D(2026, 4, 15)  # a Wednesday, 13 working days after the planned end
    forecast = selectors.release_forecast(user=reader, release=release, today=today)
    assert forecast == {
        "p50": today,
        "p85": today,
        "probability_on_time": 0.0,
        "planned_end": END,
        "runs": 2000,
        "samples": 0,
        "basis": "No phase left to forecast: what is under way ends as planned, and not before today.",
    }
    # On a Saturday, the first working day after it.
    saturday = selectors.release_forecast(user=reader, release=release, today=D(2026, 4, 18))
    assert (saturday["p50"], saturday["p85"]) == (D(2026, 4, 20), D(2026, 4, 20))


def test_phases_not_started_start_today_at_the_earliest_keeping_their_durations(reader):
    release, _, _ = build_then_test(status="planned")
    today = D(2026, 3, 18)  # a Wednesday: Build should have ended, Test started
    forecast = selectors.release_forecast(user=reader, release=release, today=today)
    # Nothing has started: the whole release starts today and keeps its 20 working days.
    assert (forecast["p50"], forecast["p85"], forecast["probability_on_time"]) == (after(today, 19),) * 2 + (0.0,)
    assert forecast["planned_end"] == END
    # Before its planned start, the same release is forecast as planned.
    assert selectors.release_forecast(user=reader, release=release, today=TODAY)["p50"] == END


def test_a_phase_under_way_keeps_its_actual_start_and_what_follows_it_waits_for_today(reader):
    finished(5, kind="sit", took=1.5)
    release, build, _ = build_then_test(status="in_progress", actual_start=START)
    build.status, build.actual_start = "in_progress", D(2026, 3, 4)
    build.save()
    today = D(2026, 3, 18)
    forecast = selectors.release_forecast(user=reader, release=release, today=today)
    # Build ends today at the earliest; Test, 10 working days taking half again as long, starts the next day.
    assert (forecast["p50"], forecast["p85"]) == (after(today, 15), after(today, 15))
    assert forecast["probability_on_time"] == 0.0
    assert forecast["basis"] == "From 5 finished phases of the same kinds."


def test_finished_phases_keep_their_dates_and_what_is_still_to_come_stays_on_plan(reader):
    release, build, _ = build_then_test(status="in_progress", actual_start=START)
    build.status = "done"  # done without its actual dates recorded
    build.save()
    forecast = selectors.release_forecast(user=reader, release=release, today=D(2026, 3, 11))
    assert (forecast["p50"], forecast["p85"], forecast["probability_on_time"]) == (END, END, 1.0)


def test_a_train_waits_for_a_child_that_is_late_today(reader):
    train = TrainFactory(name="Train 2026.1", status="in_progress", planned_start=START, planned_end=END)
    child, build, _ = build_then_test(status="in_progress", actual_start=START, train=train)
    build.status, build.actual_start = "in_progress", START
    build.save()
    today = D(2026, 3, 18)
    forecasts = selectors.forecast_map(user=reader, release_ids=[train.pk, child.pk], today=today)
    # Build ends today; Test takes its ten working days from tomorrow; the train ends with its child.
    assert forecasts[child.pk]["p50"] == forecasts[train.pk]["p50"] == after(today, 10)
    assert forecasts[train.pk]["probability_on_time"] == 0.0


def test_released_cancelled_and_unseen_releases_get_no_forecast(reader, nobody):
    shipped = ReleaseFactory(status="released", actual_start=START, actual_end=END)
    cancelled = ReleaseFactory(status="cancelled")
    open_one = planned()
    assert selectors.release_forecast(user=reader, release=shipped) is None
    assert selectors.release_forecast(user=reader, release=cancelled) is None
    assert set(selectors.forecast_map(user=reader, release_ids=[shipped.pk, cancelled.pk, open_one.pk])) == {
        open_one.pk
    }
    assert selectors.forecast_map(user=reader, release_ids=[]) == {}
    assert selectors.forecast_map(user=nobody, release_ids=[open_one.pk]) == {}
    with pytest.raises(NotFound, match="Release not found"):
        selectors.release_forecast(user=nobody, release=open_one)
    with pytest.raises(NotFound):
        selectors.release_forecast(user=reader, release=open_one.pk + 1000)


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        ({"runs": 0}, {"runs": "Run the simulation 1 to 20,000 times."}),
        ({"runs": 20_001}, {"runs": "Run the simulation 1 to 20,000 times."}),
        ({"runs": "many"}, {"runs": "Run the simulation 1 to 20,000 times."}),
        ({"seed": -1}, {"seed": "The seed is a whole number, 0 or more."}),
        ({"seed": 1.5}, {"seed": "The seed is a whole number, 0 or more."}),
    ],
)
def test_a_forecast_refuses_absurd_runs_and_seeds(reader, arguments, errors):
    release = planned()
    with pytest.raises(ValidationFailed) as refused:
        selectors.release_forecast(user=reader, release=release, **arguments)
    assert fields_of(refused.value) == errors
    with pytest.raises(ValidationFailed):
        selectors.forecast_map(user=reader, release_ids=[release.pk], **arguments)


def test_forecasts_read_in_a_fixed_number_of_queries_whatever_the_number_of_releases(reader):
    finished(3, took=1.5, team=TeamFactory())

    def trains(count):
        ids = []
        for _ in range(count):
            train = TrainFactory(status="planned", planned_start=START, planned_end=END)
            ids += [train.pk, planned(f"Child of {train.name}", train=train, team=TeamFactory()).pk]
            ids.append(planned(f"Standalone {train.name}").pk)
        return ids

    def queries(ids):
        with CaptureQueriesContext(connection) as captured:
            assert len(selectors.forecast_map(user=reader, release_ids=ids, runs=50, today=TODAY)) == len(ids)
        return len(captured)

    few = queries(trains(1))
    assert queries(trains(6)) == few
    # Two to choose the releases and their trains, the plan's own (`schedule.plan_for`: six here, without calendars
    # or freezes), the plan's phases and the history: ten today; the ceiling leaves the plan room to grow.
    assert few <= 12, few
