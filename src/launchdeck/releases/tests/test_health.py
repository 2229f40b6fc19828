"""The one health and risk rule: every factor, its points and cap, the thresholds, closed releases and the train's
roll-up from its children. Plain facts, no database."""

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.releases.health import (
    AMBER,
    GREEN,
    RED,
    Health,
    HealthFacts,
    release_health,
    status_for,
)
from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar

TODAY = date(2026, 4, 15)  # a Wednesday


def slip(baseline_end: date | None, planned_end: date, calendar=STANDARD) -> int | None:
    """The working days the selector counts on the release's calendar after the baseline end up to the planned end."""
    if baseline_end is None or planned_end <= baseline_end:
        return None
    return calendar.working_days_between(baseline_end + timedelta(days=1), planned_end + timedelta(days=1))


def facts(**changes) -> HealthFacts:
    """A release not yet started (no elapsed time), without baseline, phases or systems: nothing adds risk. Given a
    baseline end, its slip is counted on the weekends-only calendar unless the test gives `slip_working_days`."""
    base = HealthFacts(
        release_id=1,
        name="Payments 4.2",
        planned_start=TODAY + timedelta(days=30),
        planned_end=TODAY + timedelta(days=120),
        status="planned",
    )
    changed = dataclasses.replace(base, **changes)
    if "slip_working_days" not in changes:
        changed = dataclasses.replace(changed, slip_working_days=slip(changed.baseline_end, changed.planned_end))
    return changed


def health(**changes) -> Health:
    return release_health(facts(**changes), today=TODAY)


def points(result: Health) -> dict[str, int]:
    return {factor.key: factor.points for factor in result.factors}


def detail(result: Health, key: str) -> str:
    return next(factor.detail for factor in result.factors if factor.key == key)


def test_a_release_with_nothing_against_it_is_green_with_no_factors():
    assert health() == Health(status=GREEN, score=0, factors=())


# Schedule slip


def test_slip_adds_a_point_per_working_day_the_planned_end_moved_past_its_baseline():
    result = health(baseline_end=date(2026, 6, 12), planned_end=date(2026, 6, 26))  # two weeks, Fri to Fri
    assert points(result) == {"schedule_slip": 10}
    assert detail(result, "schedule_slip") == (
        "Planned end moved 10 working days past its baseline (12 Jun → 26 Jun), on the release's calendar."
    )
    assert result.factors[0].label == "Schedule slip"


def test_slip_over_a_weekend_counts_only_the_working_days_and_names_years_when_they_differ():
    result = health(baseline_end=date(2026, 12, 31), planned_end=date(2027, 1, 4))  # Thu to Mon
    assert points(result) == {"schedule_slip": 2}
    assert detail(result, "schedule_slip") == (
        "Planned end moved 2 working days past its baseline (31 Dec 2026 → 4 Jan 2027), on the release's calendar."
    )


def test_slip_is_capped_at_30_points():
    assert points(health(baseline_end=date(2026, 6, 1), planned_end=date(2026, 9, 1))) == {"schedule_slip": 30}


@pytest.mark.parametrize(
    "baseline_end",
    [None, date(2026, 9, 1), date(2026, 8, 13)],
    ids=["no baseline", "ends earlier than its baseline", "on its baseline"],
)
def test_no_slip_without_a_baseline_or_when_the_release_ends_on_or_before_it(baseline_end):
    assert health(baseline_end=baseline_end, planned_end=date(2026, 8, 13)).factors == ()


def test_slip_from_friday_to_the_next_sunday_is_no_working_day():
    assert slip(date(2026, 6, 12), date(2026, 6, 14)) == 0
    assert health(baseline_end=date(2026, 6, 12), planned_end=date(2026, 6, 14)).factors == ()


def test_slip_counts_the_working_days_the_selector_found_on_the_release_calendar_not_monday_to_friday():
    # Thu 31 Dec 2026 to Mon 4 Jan 2027 is 2 weekdays; on an English calendar New Year's Day is a holiday: 1.
    england = WorkingCalendar(country="GB", subdivision="ENG")
    baseline_end, planned_end = date(2026, 12, 31), date(2027, 1, 4)
    result = health(
        baseline_end=baseline_end, planned_end=planned_end, slip_working_days=slip(baseline_end, planned_end, england)
    )
    assert points(result) == {"schedule_slip": 1}
    assert detail(result, "schedule_slip") == (
        "Planned end moved 1 working day past its baseline (31 Dec 2026 → 4 Jan 2027), on the release's calendar."
    )


# Overdue milestones and gates


def test_each_overdue_milestone_adds_8_points_up_to_24():
    one = health(overdue_milestones=1, oldest_overdue_milestone=date(2026, 4, 10))
    assert points(one) == {"overdue_milestones": 8}
    assert detail(one, "overdue_milestones") == "1 milestone is overdue: it was due 10 Apr (5 days ago)."
    two = health(overdue_milestones=2, oldest_overdue_milestone=date(2026, 3, 1))
    assert points(two) == {"overdue_milestones": 16}
    assert detail(two, "overdue_milestones") == "2 milestones are overdue; the oldest was due 1 Mar (45 days ago)."
    assert points(health(overdue_milestones=3)) == {"overdue_milestones": 24}
    assert points(health(overdue_milestones=9)) == {"overdue_milestones": 24}


def test_each_gate_open_past_its_due_date_adds_10_points_up_to_30():
    one = health(overdue_gates=1, oldest_overdue_gate=date(2026, 4, 14))
    assert points(one) == {"overdue_gates": 10}
    assert detail(one, "overdue_gates") == "1 gate is still open past its due date of 14 Apr (1 day ago)."
    two = health(overdue_gates=2, oldest_overdue_gate=date(2025, 12, 31))
    assert points(two) == {"overdue_gates": 20}
    assert detail(two, "overdue_gates") == (
        "2 gates are still open past their due dates; the oldest was due 31 Dec 2025 (105 days ago)."
    )
    assert points(health(overdue_gates=3)) == {"overdue_gates": 30}
    assert points(health(overdue_gates=7)) == {"overdue_gates": 30}


# Gate history


def test_each_rejected_gate_adds_15_points_up_to_30():
    one = health(rejected_gates=1)
    assert (points(one), detail(one, "rejected_gates")) == ({"rejected_gates": 15}, "1 gate was rejected.")
    assert detail(health(rejected_gates=2), "rejected_gates") == "2 gates were rejected."
    assert points(health(rejected_gates=5)) == {"rejected_gates": 30}


def test_each_overridden_gate_adds_5_points_up_to_15():
    one = health(overridden_gates=1)
    assert points(one) == {"overridden_gates": 5}
    assert detail(one, "overridden_gates") == "1 gate was overridden: passed without meeting its criteria."
    assert points(health(overridden_gates=2)) == {"overridden_gates": 10}
    assert points(health(overridden_gates=4)) == {"overridden_gates": 15}


# Elapsed time against progress


def started(progress, *, elapsed_days=50, window_days=100, **changes):
    """A release `elapsed_days` into a `window_days`-day window, its phases `progress`% complete."""
    first = TODAY - timedelta(days=elapsed_days)
    return health(
        planned_start=first, planned_end=first + timedelta(days=window_days - 1), progress=progress, **changes
    )


def test_a_point_per_two_percentage_points_the_elapsed_share_runs_ahead_of_progress():
    result = started(20.0)  # half the window gone, a fifth done
    assert points(result) == {"behind_schedule": 15}
    assert detail(result, "behind_schedule") == (
        "50% of the planned window has passed but its phases are 20% complete (30 points behind)."
    )
    assert points(started(49.5)) == {}  # half a point behind rounds to nothing


def test_no_behind_factor_when_progress_keeps_up_before_the_start_or_without_phases():
    assert started(50.0).factors == ()
    assert started(80.0).factors == ()
    assert started(None).factors == ()
    assert started(0.0, elapsed_days=0).factors == ()  # starts today: nothing has elapsed yet


def test_behind_is_capped_at_30_points_once_the_window_has_passed():
    result = started(0.0, elapsed_days=200)
    assert points(result) == {"behind_schedule": 30}
    assert detail(result, "behind_schedule").startswith("100% of the planned window has passed")


# Systems in scope


def test_systems_in_scope_weigh_by_tier():
    result = health(systems_by_tier=(1, 1, 2, 2))  # 3 + 2 + 2 * 1 + 2 * 0.5
    assert points(result) == {"systems_in_scope": 8}
    assert detail(result, "systems_in_scope") == (
        "6 systems in scope (1 tier 1, 1 tier 2, 2 tier 3, 2 tier 4); tier 1 weighs most."
    )
    assert points(health(systems_by_tier=(0, 0, 0, 1))) == {}  # half a point rounds down to nothing
    assert points(health(systems_by_tier=(0, 0, 0, 3))) == {"systems_in_scope": 1}
    assert points(health(systems_by_tier=(0, 0, 1, 0))) == {"systems_in_scope": 1}


def test_systems_in_scope_are_capped_at_15_points():
    assert points(health(systems_by_tier=(5, 0, 0, 0))) == {"systems_in_scope": 15}
    assert points(health(systems_by_tier=(10, 10, 10, 10))) == {"systems_in_scope": 15}


# The score and its thresholds


def everything(**changes) -> HealthFacts:
    """Every factor at or past its cap: 30 + 24 + 30 + 30 + 15 + 30 + 15 = 174 points."""
    first = TODAY - timedelta(days=300)
    maxed = {
        "planned_start": first,
        "planned_end": TODAY - timedelta(days=1),
        "baseline_end": TODAY - timedelta(days=100),
        "overdue_milestones": 5,
        "oldest_overdue_milestone": first,
        "overdue_gates": 5,
        "oldest_overdue_gate": first,
        "rejected_gates": 3,
        "overridden_gates": 4,
        "progress": 0.0,
        "systems_by_tier": (6, 0, 0, 0),
    }
    return facts(**{**maxed, **changes})


def test_the_score_is_the_sum_of_the_factors_capped_at_100_and_factors_come_in_a_fixed_order():
    result = release_health(everything(), today=TODAY)
    assert [(factor.key, factor.points) for factor in result.factors] == [
        ("schedule_slip", 30),
        ("overdue_milestones", 24),
        ("overdue_gates", 30),
        ("rejected_gates", 30),
        ("overridden_gates", 15),
        ("behind_schedule", 30),
        ("systems_in_scope", 15),
    ]
    assert (result.status, result.score, result.label) == (RED, 100, "Red")


@pytest.mark.parametrize(
    ("score", "status"),
    [(0, GREEN), (24, GREEN), (25, AMBER), (49, AMBER), (50, RED), (100, RED)],
)
def test_red_from_50_amber_from_25_green_below(score, status):
    assert status_for(score) == status


def test_thresholds_apply_to_the_summed_factors():
    assert health(overdue_milestones=1, overridden_gates=3).status == GREEN  # 8 + 15 = 23
    amber = health(rejected_gates=1, overridden_gates=2)
    assert (amber.status, amber.score) == (AMBER, 25)
    red = health(rejected_gates=1, overdue_milestones=2, overdue_gates=1, overridden_gates=2)
    assert (red.status, red.score) == (RED, 51)


# Released and cancelled releases


@pytest.mark.parametrize("status", ["released", "cancelled"])
def test_a_closed_release_keeps_only_its_slip_and_gate_history(status):
    result = release_health(everything(status=status), today=TODAY)
    assert points(result) == {"schedule_slip": 30, "rejected_gates": 30, "overridden_gates": 15}
    assert (result.status, result.score) == (RED, 75)


def test_a_closed_release_without_slip_or_gate_history_is_green():
    result = release_health(
        everything(status="released", baseline_end=None, rejected_gates=0, overridden_gates=0), today=TODAY
    )
    assert result == Health(status=GREEN, score=0, factors=())


# Trains roll up from their children


def child(name: str, release_id: int, **changes) -> HealthFacts:
    return facts(release_id=release_id, name=name, **changes)


RED_CHILD = {"overdue_milestones": 3, "overdue_gates": 3, "rejected_gates": 1, "systems_by_tier": (1, 0, 0, 0)}  # 72


def test_the_worst_child_lifts_the_train_to_its_score():
    train = facts(
        kind="enterprise",
        name="Winter train",
        baseline_end=date(2026, 8, 10),
        planned_end=date(2026, 8, 24),  # 10 points of slip of its own
        children=(child("Billing 7", 2, **RED_CHILD), child("CRM 3", 3, rejected_gates=2), child("Web 9", 4)),
    )
    result = release_health(train, today=TODAY)
    assert points(result) == {"schedule_slip": 10, "children": 62}
    assert (
        detail(result, "children")
        == "Child release Billing 7 is red (score 72). 1 other child release is amber or red."
    )
    assert result.factors[-1].label == "Child releases"
    assert (result.status, result.score) == (RED, 72)


def test_a_train_worse_than_all_its_children_keeps_its_own_score():
    train = facts(kind="enterprise", rejected_gates=2, children=(child("Web 9", 4, overridden_gates=1),))
    result = release_health(train, today=TODAY)
    assert points(result) == {"rejected_gates": 30}
    assert (result.status, result.score) == (AMBER, 30)


def test_cancelled_children_do_not_count_and_a_closed_train_does_not_roll_up():
    cancelled = child("Old 1", 5, status="cancelled", rejected_gates=4)
    assert release_health(facts(kind="enterprise", children=(cancelled,)), today=TODAY).score == 0
    red = child("Billing 7", 2, **RED_CHILD)
    assert release_health(facts(kind="enterprise", status="released", children=(red,)), today=TODAY).score == 0


# Properties

days = st.integers(min_value=-400, max_value=400).map(lambda offset: TODAY + timedelta(days=offset))
counts = st.integers(min_value=0, max_value=20)


@st.composite
def any_facts(draw, *, depth: int = 1):
    first = draw(days)
    last = first + timedelta(days=draw(st.integers(min_value=0, max_value=400)))
    children = tuple(draw(st.lists(any_facts(depth=0), max_size=3))) if depth and draw(st.booleans()) else ()
    return HealthFacts(
        release_id=draw(st.integers(min_value=1, max_value=10_000)),
        name=draw(st.sampled_from(["A", "B", "C"])),
        planned_start=first,
        planned_end=last,
        kind="enterprise" if children else "project",
        status=draw(st.sampled_from(["draft", "planned", "in_progress", "released", "cancelled"])),
        baseline_end=(baseline_end := draw(st.none() | days)),
        slip_working_days=slip(baseline_end, last),
        overdue_milestones=draw(counts),
        oldest_overdue_milestone=draw(st.none() | days),
        overdue_gates=draw(counts),
        oldest_overdue_gate=draw(st.none() | days),
        rejected_gates=draw(counts),
        overridden_gates=draw(counts),
        progress=draw(st.none() | st.floats(min_value=0, max_value=100)),
        systems_by_tier=tuple(draw(st.lists(counts, min_size=4, max_size=4))),
        children=children,
    )


@settings(max_examples=300, deadline=None)
@given(any_facts())
def test_the_score_is_always_between_0_and_100_and_matches_its_status(release):
    result = release_health(release, today=TODAY)
    assert 0 <= result.score <= 100
    assert result.status == status_for(result.score)
    assert all(factor.points > 0 and factor.detail.endswith(".") for factor in result.factors)


@settings(max_examples=300, deadline=None)
@given(any_facts())
def test_adding_an_overdue_milestone_never_lowers_the_score(release):
    before = release_health(release, today=TODAY).score
    more = dataclasses.replace(release, overdue_milestones=release.overdue_milestones + 1)
    assert release_health(more, today=TODAY).score >= before
    if release.children:
        worse_child = dataclasses.replace(
            release.children[0], overdue_milestones=release.children[0].overdue_milestones + 1
        )
        train = dataclasses.replace(release, children=(worse_child, *release.children[1:]))
        assert release_health(train, today=TODAY).score >= before
