"""Reading the schedule: dependencies either way, a release's date-change history, planned vs actual dates and
the predictability figures; each restricted to what the user may see, in a fixed number of queries."""

import datetime
from datetime import date

import numpy as np
import pytest

from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.models import CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory, TeamFactory
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory, ProjectFactory
from launchdeck.releases import selectors
from launchdeck.releases.tests.factories import (
    END,
    START,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    ScheduleChangeFactory,
    ScheduleDependencyFactory,
)

D = date
TODAY = D(2026, 7, 15)

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(viewer):
    viewer.roles  # noqa: B018 - load the roles now, so query counts measure the selector alone
    return viewer


@pytest.fixture
def nobody(make_user):
    """A signed-in user with no role: may see nothing."""
    user = make_user(username="nobody")
    user.roles  # noqa: B018
    return user


def fields_of(error: ValidationFailed) -> dict[str, str]:
    return {item["field"]: item["message"] for item in error.errors}


# Dependencies


@pytest.fixture
def network():
    """Core → Payments (FS), Payments → Ledger (SS, 2 days), Core's build phase → Ledger's deploy milestone (FF)."""
    core = ReleaseFactory(name="Core 7")
    payments = ReleaseFactory(name="Payments 4.2")
    ledger = ReleaseFactory(name="Ledger 1.9")
    build = PhaseFactory(release=core, name="Build")
    deploy = MilestoneFactory(release=ledger, name="Deploy", kind="deploy")
    return {
        "core": core,
        "payments": payments,
        "ledger": ledger,
        "core_payments": ScheduleDependencyFactory(predecessor_release=core, successor_release=payments),
        "payments_ledger": ScheduleDependencyFactory(
            predecessor_release=payments, successor_release=ledger, kind="SS", lag_days=2
        ),
        "build_deploy": ScheduleDependencyFactory(
            predecessor_release=core,
            predecessor_phase=build,
            successor_release=ledger,
            successor_milestone=deploy,
            kind="FF",
        ),
    }


def test_dependency_list_reads_every_dependency_and_both_ends_names_in_one_query(
    reader, network, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = list(selectors.dependency_list(user=reader))
        ends = [
            (
                dependency.predecessor_release.name,
                dependency.predecessor_phase and dependency.predecessor_phase.name,
                dependency.predecessor_milestone and dependency.predecessor_milestone.name,
                dependency.successor_release.name,
                dependency.successor_phase and dependency.successor_phase.name,
                dependency.successor_milestone and dependency.successor_milestone.name,
            )
            for dependency in found
        ]
    # By the successor's release name, then its item's key ("milestone:1" before "release:3").
    assert found == [network["build_deploy"], network["payments_ledger"], network["core_payments"]]
    assert ends == [
        ("Core 7", "Build", None, "Ledger 1.9", None, "Deploy"),
        ("Payments 4.2", None, None, "Ledger 1.9", None, None),
        ("Core 7", None, None, "Payments 4.2", None, None),
    ]


def test_a_release_s_dependencies_are_those_it_waits_for_and_those_waiting_for_it(reader, network):
    payments = selectors.dependency_list(user=reader, release=network["payments"])
    assert set(payments) == {network["core_payments"], network["payments_ledger"]}
    # Through its phases and milestones too, given as a filter by id.
    ledger = selectors.dependency_list(user=reader, filters={"release": str(network["ledger"].pk)})
    assert set(ledger) == {network["payments_ledger"], network["build_deploy"]}


def test_dependencies_filter_by_one_or_several_kinds(reader, network):
    assert list(selectors.dependency_list(user=reader, filters={"kind": "SS"})) == [network["payments_ledger"]]
    assert set(selectors.dependency_list(user=reader, filters={"kind": ["FS", "FF"], "release": network["core"]})) == {
        network["core_payments"],
        network["build_deploy"],
    }
    assert list(selectors.dependency_list(user=reader, filters={"kind": "SF"})) == []


def test_dependency_filters_refuse_an_unknown_kind_or_a_release_that_is_no_id(reader, network):
    with pytest.raises(ValidationFailed) as kind:
        selectors.dependency_list(user=reader, filters={"kind": ["FS", "XX"]})
    assert fields_of(kind.value) == {"kind": "Unknown kind 'XX': choose FS, SS, FF or SF."}
    with pytest.raises(ValidationFailed) as release:
        selectors.dependency_list(user=reader, filters={"release": "payments"})
    assert fields_of(release.value) == {"release": "Choose a release by its id."}


def test_dependency_get_reads_one_with_its_ends_and_hides_the_unknown_and_the_invisible(
    reader, nobody, network, django_assert_num_queries
):
    wanted = network["build_deploy"]
    with django_assert_num_queries(1):
        found = selectors.dependency_get(user=reader, pk=wanted.pk)
        assert (found.predecessor_phase.name, found.successor_milestone.name) == ("Build", "Deploy")
    assert found == wanted
    with pytest.raises(NotFound, match="Schedule dependency not found"):
        selectors.dependency_get(user=reader, pk=wanted.pk + 1000)
    with pytest.raises(NotFound):
        selectors.dependency_get(user=nobody, pk=wanted.pk)
    assert list(selectors.dependency_list(user=nobody)) == []


# History


def test_schedule_history_lists_a_release_s_changes_newest_first_with_who_made_them(
    reader, release_manager, django_assert_num_queries
):
    moved = ReleaseFactory(name="Payments 4.2")
    at = datetime.datetime(2026, 3, 9, 12, tzinfo=datetime.UTC)
    first = ScheduleChangeFactory(release=moved, occurred_at=at, actor=release_manager, reason="Supplier delay")
    latest = ScheduleChangeFactory(release=moved, occurred_at=at + datetime.timedelta(days=3), actor=None)
    same_time = ScheduleChangeFactory(release=moved, occurred_at=at, actor=release_manager)
    ScheduleChangeFactory(release=ReleaseFactory(name="Other"))
    with django_assert_num_queries(1):
        history = selectors.release_schedule_history(user=reader, release=moved)
        actors = [change.actor and change.actor.username for change in history]
    assert history == [latest, same_time, first]
    assert actors == [None, "release_manager", "release_manager"]
    assert selectors.release_schedule_history(user=reader, release=moved.pk) == history


def test_schedule_history_of_a_release_never_moved_is_empty_and_of_an_unseen_one_not_found(reader, nobody):
    quiet = ReleaseFactory()
    assert selectors.release_schedule_history(user=reader, release=quiet) == []
    ScheduleChangeFactory(release=quiet)
    with pytest.raises(NotFound, match="Release not found"):
        selectors.release_schedule_history(user=nobody, release=quiet)
    with pytest.raises(NotFound):
        selectors.release_schedule_history(user=reader, release=quiet.pk + 1000)


# Planned vs actual


@pytest.fixture
def delivered():
    """Baseline end Fri 19 Jun, planned end Fri 26 Jun, finished Fri 3 Jul 2026: ten working days after the baseline.
    Build started on time and finished two days early; SIT started a day late and has not finished; UAT has not
    started; Warranty has a baseline start of Mon 29 Jun, moved a week later and started then."""
    release = ReleaseFactory(
        name="Payments 4.2",
        status="released",
        baseline_start=START,
        baseline_end=D(2026, 6, 19),
        actual_start=START,
        actual_end=D(2026, 7, 3),
    )
    PhaseFactory(
        release=release,
        name="Build",
        kind="build",
        position=1,
        planned_start=START,
        planned_end=D(2026, 3, 13),
        actual_start=START,
        actual_end=D(2026, 3, 11),
        status="done",
    )
    PhaseFactory(
        release=release,
        name="SIT",
        kind="sit",
        position=2,
        planned_start=D(2026, 3, 16),
        planned_end=D(2026, 3, 27),
        actual_start=D(2026, 3, 17),
        status="in_progress",
    )
    PhaseFactory(
        release=release, name="UAT", kind="uat", position=3, planned_start=D(2026, 8, 3), planned_end=D(2026, 8, 14)
    )
    PhaseFactory(
        release=release,
        name="Warranty",
        kind="warranty",
        position=4,
        planned_start=D(2026, 7, 6),
        planned_end=D(2026, 7, 17),
        baseline_start=D(2026, 6, 29),
        baseline_end=D(2026, 7, 10),
        actual_start=D(2026, 7, 6),
    )
    return release


def test_planned_vs_actual_measures_each_slip_in_working_days_against_the_baseline_else_the_plan(
    reader, delivered, django_assert_num_queries
):
    with django_assert_num_queries(2):
        found = selectors.release_planned_vs_actual(user=reader, release=delivered, today=TODAY)
    assert found["release"] == {
        "id": delivered.pk,
        "name": "Payments 4.2",
        "status": "released",
        "planned": {"start": START, "end": END},
        "baseline": {"start": START, "end": D(2026, 6, 19)},
        "actual": {"start": START, "end": D(2026, 7, 3)},
        "measured_against": "baseline",
        "start_slip_days": 0,
        "end_slip_days": 10,
        "overdue": False,
    }
    phases = {phase["name"]: phase for phase in found["phases"]}
    assert [phase["name"] for phase in found["phases"]] == ["Build", "SIT", "UAT", "Warranty"]
    assert phases["Build"] | {"id": None} == {
        "id": None,
        "name": "Build",
        "kind": "build",
        "kind_label": "Build",
        "status": "done",
        "planned": {"start": START, "end": D(2026, 3, 13)},
        "baseline": {"start": None, "end": None},
        "actual": {"start": START, "end": D(2026, 3, 11)},
        "measured_against": "planned",
        "start_slip_days": 0,
        "end_slip_days": -2,
        "overdue": False,
    }
    # Not finished, but nothing of a released release is overdue: its dates are history.
    assert (phases["SIT"]["start_slip_days"], phases["SIT"]["end_slip_days"], phases["SIT"]["overdue"]) == (
        1,
        None,
        False,
    )
    assert phases["SIT"]["kind_label"] == "System integration test"
    assert (phases["UAT"]["start_slip_days"], phases["UAT"]["end_slip_days"], phases["UAT"]["overdue"]) == (
        None,
        None,
        False,
    )
    # Its start moved a week after the baseline: late by five working days against the baseline.
    assert phases["Warranty"]["start_slip_days"] == 5
    assert phases["Warranty"]["end_slip_days"] is None


def test_planned_vs_actual_counts_on_the_release_s_own_calendar_in_two_more_queries(
    reader, delivered, django_assert_num_queries
):
    shutdown = CalendarFactory()
    CalendarClosure.objects.create(calendar=shutdown, name="Summer shutdown", start=D(2026, 6, 22), end=D(2026, 6, 26))
    delivered.calendar = shutdown
    delivered.save()
    with django_assert_num_queries(4):
        found = selectors.release_planned_vs_actual(user=reader, release=delivered.pk, today=TODAY)
    # Ten weekdays from the baseline end to the actual end, five of them closed.
    assert found["release"]["end_slip_days"] == 5


def test_planned_vs_actual_of_an_unknown_or_unseen_release_is_not_found(reader, nobody, delivered):
    with pytest.raises(NotFound, match="Release not found"):
        selectors.release_planned_vs_actual(user=nobody, release=delivered)
    with pytest.raises(NotFound):
        selectors.release_planned_vs_actual(user=reader, release=delivered.pk + 1000)


def test_a_release_without_phases_or_actual_dates_shows_no_slip(reader):
    planned = ReleaseFactory(status="planned")
    found = selectors.release_planned_vs_actual(user=reader, release=planned, today=D(2026, 4, 1))
    assert found["phases"] == []
    assert (found["release"]["start_slip_days"], found["release"]["end_slip_days"]) == (None, None)
    assert found["release"]["measured_against"] == "planned"
    assert found["release"]["overdue"] is False


def test_nothing_of_a_cancelled_release_and_no_skipped_phase_is_overdue(reader):
    cancelled = ReleaseFactory(status="cancelled")
    PhaseFactory(release=cancelled, name="Never done")
    found = selectors.release_planned_vs_actual(user=reader, release=cancelled, today=TODAY)
    assert (found["release"]["overdue"], found["phases"][0]["overdue"]) == (False, False)
    running = ReleaseFactory(status="in_progress")
    PhaseFactory(release=running, name="Skipped", status="skipped")
    PhaseFactory(release=running, name="Forgotten")
    found = selectors.release_planned_vs_actual(user=reader, release=running, today=TODAY)
    assert found["release"]["overdue"] is True
    assert [(phase["name"], phase["overdue"]) for phase in found["phases"]] == [
        ("Skipped", False),
        ("Forgotten", True),
    ]


# Predictability


def released(name, actual_end, *, planned_end=END, baseline_end=None, **fields):
    return ReleaseFactory(
        name=name,
        status="released",
        planned_end=planned_end,
        baseline_end=baseline_end,
        actual_start=START,
        actual_end=actual_end,
        **fields,
    )


@pytest.fixture
def history():
    """Five released releases of two teams' projects and one with no project, and three that do not count.

    Planned end Fri 26 Jun 2026 unless a baseline says otherwise. Slips in working days: Payments -2 (Wed 24 Jun),
    Cards +5 (Fri 3 Jul), Loans +5 against its baseline of Fri 19 Jun (finished on the planned end), Ledger 0
    (Sat 27 Jun: late by the date, no working day lost), Core +10 (Fri 10 Jul, no project)."""
    alpha, beta = TeamFactory(name="Alpha"), TeamFactory(name="Beta")
    south, north = PortfolioFactory(name="South"), PortfolioFactory(name="North")
    alpha_project = ProjectFactory(owner_team=alpha, initiative=InitiativeFactory(portfolio=south))
    beta_project = ProjectFactory(owner_team=beta, initiative=InitiativeFactory(portfolio=south))
    rows = {
        "payments": released("Payments", D(2026, 6, 24), project=alpha_project),
        "cards": released("Cards", D(2026, 7, 3), project=alpha_project, portfolio=north),
        "loans": released("Loans", END, baseline_end=D(2026, 6, 19), project=beta_project),
        "ledger": released("Ledger", D(2026, 6, 27), project=beta_project),
        "core": released("Core", D(2026, 7, 10)),
    }
    ReleaseFactory(name="Open", status="in_progress", actual_start=START)
    ReleaseFactory(name="Cancelled", status="cancelled", actual_start=START, actual_end=D(2026, 6, 1))
    ReleaseFactory(name="Released without an end", status="released")
    return rows


def test_predictability_by_team_counts_on_time_releases_and_the_mean_and_p85_slip(
    reader, history, django_assert_num_queries
):
    with django_assert_num_queries(2):
        rows = selectors.predictability(user=reader, group_by="team")
    alpha, beta = history["payments"].project.owner_team, history["loans"].project.owner_team
    assert rows == [
        {
            "key": f"team:{alpha.pk}",
            "label": "Alpha",
            "id": alpha.pk,
            "releases": 2,
            "on_time": 1,
            "on_time_share": 0.5,
            "mean_slip_days": 1.5,
            "p85_slip_days": 3.9,  # -2 + 0.85 x 7
        },
        {
            "key": f"team:{beta.pk}",
            "label": "Beta",
            "id": beta.pk,
            "releases": 2,
            "on_time": 0,
            "on_time_share": 0.0,
            "mean_slip_days": 2.5,
            "p85_slip_days": 4.2,  # 0 + 0.85 x 5 = 4.25, to one decimal
        },
        {
            "key": "team:none",
            "label": "No team",
            "id": None,
            "releases": 1,
            "on_time": 0,
            "on_time_share": 0.0,
            "mean_slip_days": 10.0,
            "p85_slip_days": 10.0,
        },
        {
            "key": "all",
            "label": "All releases",
            "id": None,
            "releases": 5,
            "on_time": 1,
            "on_time_share": 0.2,
            "mean_slip_days": 3.6,
            "p85_slip_days": round(float(np.percentile([-2, 5, 5, 0, 10], 85)), 1),
        },
    ]
    assert rows[-1]["p85_slip_days"] == 7.0  # sorted -2 0 5 5 10: 5 + 0.4 x 5


def test_predictability_by_portfolio_uses_the_portfolio_each_release_belongs_to(reader, history):
    rows = selectors.predictability(user=reader, group_by="portfolio")
    south = history["payments"].project.initiative.portfolio
    north = history["cards"].portfolio
    assert [(row["key"], row["label"], row["releases"], row["on_time"]) for row in rows] == [
        (f"portfolio:{north.pk}", "North", 1, 0),  # its own portfolio beats its project's initiative's
        (f"portfolio:{south.pk}", "South", 3, 1),
        ("portfolio:none", "No portfolio", 1, 0),
        ("all", "All releases", 5, 1),
    ]


def test_predictability_by_period_groups_by_the_quarter_of_the_actual_end_in_time_order(reader, history):
    rows = selectors.predictability(user=reader, group_by="period")
    assert [(row["key"], row["label"], row["releases"], row["mean_slip_days"]) for row in rows] == [
        ("2026-Q2", "2026 Q2", 3, 1.0),
        ("2026-Q3", "2026 Q3", 2, 7.5),
        ("all", "All releases", 5, 3.6),
    ]


def test_predictability_counts_releases_whose_actual_end_lies_in_the_window(reader, history):
    rows = selectors.predictability(user=reader, group_by="period", start="2026-06-25", end=D(2026, 7, 3))
    assert [(row["key"], row["releases"]) for row in rows] == [("2026-Q2", 2), ("2026-Q3", 1), ("all", 3)]


def test_predictability_counts_slips_on_each_release_s_calendar_in_two_more_queries(
    reader, history, django_assert_num_queries
):
    shutdown = CalendarFactory()
    CalendarClosure.objects.create(calendar=shutdown, name="Summer shutdown", start=D(2026, 6, 29), end=D(2026, 7, 1))
    cards = history["cards"]
    cards.calendar = shutdown
    cards.save()
    with django_assert_num_queries(4):
        rows = selectors.predictability(user=reader, group_by="team")
    alpha = rows[0]
    assert alpha["label"] == "Alpha"
    assert alpha["mean_slip_days"] == 0.0  # Cards: 5 weekdays late, 3 of them closed; Payments 2 early
    with django_assert_num_queries(3):
        selectors.predictability(user=reader, group_by="period")


def test_predictability_with_nothing_released_is_the_total_alone(reader, nobody, history):
    empty = {
        "key": "all",
        "label": "All releases",
        "id": None,
        "releases": 0,
        "on_time": 0,
        "on_time_share": None,
        "mean_slip_days": None,
        "p85_slip_days": None,
    }
    assert selectors.predictability(user=reader, group_by="team", end=D(2026, 6, 1)) == [empty]
    assert selectors.predictability(user=nobody, group_by="portfolio") == [empty]


@pytest.mark.parametrize(
    ("arguments", "errors"),
    [
        ({"group_by": "colour"}, {"group_by": "Group by team, portfolio or period."}),
        ({"start": "2026-07-01", "end": "2026-06-30"}, {"end": "The end date cannot be before the start."}),
        ({"start": "1 July"}, {"start": "Enter a date as YYYY-MM-DD."}),
    ],
)
def test_predictability_refuses_bad_input_field_by_field(reader, arguments, errors):
    with pytest.raises(ValidationFailed) as refused:
        selectors.predictability(user=reader, **arguments)
    assert fields_of(refused.value) == errors


def test_predictability_reads_in_a_fixed_number_of_queries_whatever_the_number_of_releases(
    reader, history, django_assert_num_queries
):
    teams = TeamFactory.create_batch(3)
    for index in range(30):
        released(f"More {index}", D(2026, 7, 1), project=ProjectFactory(owner_team=teams[index % 3]))
    for group_by, queries in (("team", 2), ("portfolio", 2), ("period", 1)):
        with django_assert_num_queries(queries):
            rows = selectors.predictability(user=reader, group_by=group_by)
        assert rows[-1]["releases"] == 35
