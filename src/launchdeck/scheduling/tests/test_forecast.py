"""Tests of the Monte Carlo forecast on small plans checked by hand (November 2026: the 2nd, 9th, 16th, 23rd and 30th
are Mondays)."""

import math
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytest

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import CycleError, Dependency, Item
from launchdeck.scheduling.forecast import MAX_RUNS, Forecast, RatioSamples, _summary, monte_carlo, ratio_samples


def nov(day: int) -> date:
    return date(2026, 11, day)


def dec(day: int) -> date:
    return date(2026, 12, day)


def test_forecast_module_imports_nothing_from_django_or_the_apps():
    src = Path(__file__).resolve().parents[3]
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    script = (
        "import sys\n"
        "import launchdeck.scheduling.forecast\n"
        "loaded = sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')\n"
        "    or (name.startswith('launchdeck.') and not name.startswith('launchdeck.scheduling')))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# A golden plan, worked out by hand


def golden_plan():
    items = [
        Item("build", nov(2), nov(13)),  # 10 working days
        Item("test", nov(9), nov(20)),  # 10 working days
        Item("go-live", nov(23), nov(23)),  # a milestone
        Item("freeze", nov(25), nov(25), fixed=True),
        Item("docs", nov(16), nov(20)),  # 5 working days
        Item("finish", nov(20), nov(20)),
    ]
    deps = [
        Dependency("build", "test", "SS", lag=5),  # test may start Mon 9
        Dependency("build", "test", "FF", lag=2),  # test may end two working days after build
        Dependency("test", "go-live", "FS"),
        Dependency("test", "freeze", "FS"),  # broken when test runs late: the freeze is fixed
        Dependency("go-live", "docs", "SF", lag=-1),  # docs end no earlier than the working day before go-live
        Dependency("test", "finish", "FF"),
        Dependency("docs", "finish", "FF"),
    ]
    # build always takes 12 days; test takes 10 days in three runs out of four and 15 in the fourth; a milestone
    # ignores its ratio.
    ratios = {"build": [1.2], "test": [1.0, 1.0, 1.0, 1.5], "go-live": [3.0]}
    return items, deps, ratios


def test_a_golden_plan_worked_out_by_hand():
    items, deps, ratios = golden_plan()
    result = monte_carlo(items, deps, ratios, runs=10_000, seed=0)
    assert list(result) == [item.key for item in items]

    # build lasts 12 working days: Mon 2 to Tue 17. test's FF bound (Tue 17 + 2 = Thu 19) is within its slack.
    assert result["build"] == Forecast(nov(17), nov(17), 0.0, nov(13))
    # test: Mon 9 to Fri 20 (10 days), or to Fri 27 (15 days) in about a quarter of the runs.
    on_time = result["test"].probability_on_time
    assert 0.73 < on_time < 0.77
    assert result["test"] == Forecast(nov(20), nov(27), on_time, nov(20))
    # go-live follows test: Mon 23 or Mon 30 (still one day: its ratio is ignored).
    assert result["go-live"] == Forecast(nov(23), nov(30), on_time, nov(23))
    # docs must end by the working day before go-live: unmoved, or Mon 23 to Fri 27.
    assert result["docs"] == Forecast(nov(20), nov(27), on_time, nov(20))
    assert result["finish"] == Forecast(nov(20), nov(27), on_time, nov(20))
    # The fixed freeze never moves, even when test runs into it.
    assert result["freeze"] == Forecast(nov(25), nov(25), 1.0, nov(25))


def test_the_same_seed_gives_the_same_forecast_and_other_seeds_draw_differently():
    items, deps, ratios = golden_plan()
    first = monte_carlo(items, deps, ratios, runs=2_000, seed=7)
    assert monte_carlo(items, deps, ratios, runs=2_000, seed=7) == first
    shares = {monte_carlo(items, deps, ratios, runs=2_000, seed=seed)["test"].probability_on_time for seed in range(5)}
    assert len(shares) > 1


def test_keys_limit_the_answer_without_changing_it():
    items, deps, ratios = golden_plan()
    everything = monte_carlo(items, deps, ratios, runs=3_000, seed=3)
    some = monte_carlo(items, deps, ratios, runs=3_000, seed=3, keys=["finish", "build", "finish"])
    assert some == {"finish": everything["finish"], "build": everything["build"]}
    assert list(some) == ["finish", "build"]


# The behaviour the forecast promises


def test_with_every_ratio_one_each_item_ends_on_its_planned_end():
    items, deps, _ = golden_plan()
    result = monte_carlo(items, deps, {item.key: [1.0, 1.0] for item in items}, runs=500)
    for item in items:
        assert result[item.key] == Forecast(item.end, item.end, 1.0, item.end)


def test_items_without_ratios_keep_their_planned_duration():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(13))]
    result = monte_carlo(items, [Dependency("A", "B")], {"A": []}, runs=100)
    assert result["B"] == Forecast(nov(13), nov(13), 1.0, nov(13))


def test_a_finish_to_start_successor_shifts_by_exactly_the_predecessors_overrun():
    # A: Mon 2 - Fri 6 (5 days) twice as long is Mon 2 - Fri 13; B (Mon 9 - Wed 11) then starts Mon 16.
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(11))]
    result = monte_carlo(items, [Dependency("A", "B", "FS")], {"A": [2.0]}, runs=100)
    assert result["A"] == Forecast(nov(13), nov(13), 0.0, nov(6))
    assert result["B"] == Forecast(nov(18), nov(18), 0.0, nov(11))


@pytest.mark.parametrize(
    ("kind", "lag", "expected_b"),
    [
        ("FS", 2, (dec(2), dec(4))),  # starts 2 working days after the working day after A ends (Fri 27)
        ("SS", 3, (nov(26), nov(30))),  # A still starts Mon 23: B stays
        ("FF", 0, (nov(25), nov(27))),  # must end no earlier than A: Wed 25 - Fri 27
        ("SF", 3, (nov(24), nov(26))),  # must end no earlier than 3 days after A starts: unchanged
        ("FF", -2, (nov(24), nov(26))),  # a lead: A's end (Fri 27) less 2 working days, still met
    ],
)
def test_each_dependency_kind_and_lag_pushes_like_the_engine(kind, lag, expected_b):
    # A: Mon 23 - Wed 25 (3 days), lasting 5 with the ratio; B: Tue 24 - Thu 26, planned to meet every variant.
    items = [Item("A", nov(23), nov(25)), Item("B", nov(24), nov(26))]
    if kind == "FS":
        items[1] = Item("B", nov(30), dec(2))
    result = monte_carlo(items, [Dependency("A", "B", kind, lag)], {"A": [5 / 3]}, runs=10)
    assert result["A"].p50 == nov(27)
    assert result["B"].p50 == expected_b[1]


def test_the_duration_is_rounded_half_to_even_and_never_below_one_day():
    items = [Item("A", nov(2), nov(3)), Item("B", nov(2), nov(4)), Item("C", nov(2), nov(3))]
    # A: 2 x 1.25 = 2.5 -> 2 days; B: 3 x 1.5 = 4.5 -> 4 days; C: 2 x 0.01 -> at least 1 day.
    result = monte_carlo(items, [], {"A": [1.25], "B": [1.5], "C": [0.01]}, runs=10)
    assert (result["A"].p50, result["B"].p50, result["C"].p50) == (nov(3), nov(5), nov(2))


@pytest.mark.parametrize("spread", [600, 10_000_000])  # counted per day; selected (ends far beyond the plan)
@pytest.mark.parametrize("runs", [1, 7, 20, 100, 1_001])
def test_the_percentiles_are_the_least_ends_that_half_and_85_percent_of_the_runs_meet(runs, spread):
    ends = np.random.default_rng(runs).integers(0, spread, size=runs, dtype=np.int32)
    ordered = sorted(ends.tolist())
    planned = ordered[len(ordered) // 3]
    p50, p85, on_time = _summary(ends, planned, runs)
    assert p50 == ordered[math.ceil(runs * 50 / 100) - 1]
    assert p85 == ordered[math.ceil(runs * 85 / 100) - 1]
    assert on_time == sum(end <= planned for end in ordered) / runs
    assert sum(end <= p50 for end in ordered) >= runs / 2 > sum(end < p50 for end in ordered)


def test_ratios_above_one_lower_the_probability_and_p85_is_never_before_p50():
    items = [Item("A", nov(2), nov(13)), Item("B", nov(16), nov(20))]
    deps = [Dependency("A", "B")]
    sure = monte_carlo(items, deps, {"A": [1.0]}, runs=4_000)["B"].probability_on_time
    coin = monte_carlo(items, deps, {"A": [1.0, 1.3]}, runs=4_000)["B"]
    late = monte_carlo(items, deps, {"A": [1.3, 1.5]}, runs=4_000)["B"]
    assert sure == 1.0
    assert 0.45 < coin.probability_on_time < 0.55
    assert late.probability_on_time == 0.0
    assert coin.p50 <= coin.p85 and late.p50 <= late.p85
    assert late.p50 > nov(20)


def test_slack_absorbs_an_overrun_up_to_the_float_and_no_further():
    # A (5 days) and B (10 days) both feed C: A has 5 working days of float.
    items = [Item("A", nov(2), nov(6)), Item("B", nov(2), nov(13)), Item("C", nov(16), nov(20))]
    deps = [Dependency("A", "C"), Dependency("B", "C")]
    absorbed = monte_carlo(items, deps, {"A": [2.0]}, runs=100)  # A now 10 days: exactly its float
    assert absorbed["A"].p50 == nov(13)
    assert absorbed["C"] == Forecast(nov(20), nov(20), 1.0, nov(20))
    one_more = monte_carlo(items, deps, {"A": [2.2]}, runs=100)  # 11 days: one day past its float
    assert one_more["C"] == Forecast(nov(23), nov(23), 0.0, nov(20))


def test_fixed_items_never_move_and_are_not_sampled():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(13), fixed=True), Item("C", nov(16), nov(20))]
    deps = [Dependency("A", "B"), Dependency("B", "C")]
    result = monte_carlo(items, deps, {"A": [3.0], "B": [3.0]}, runs=100)
    assert result["A"].p50 == nov(20)
    assert result["B"] == Forecast(nov(13), nov(13), 1.0, nov(13))
    assert result["C"] == Forecast(nov(20), nov(20), 1.0, nov(20))  # held by the fixed B only


def test_nothing_starts_before_its_planned_start_even_with_ratios_below_one():
    items = [Item("A", nov(2), nov(13)), Item("B", nov(16), nov(20))]
    result = monte_carlo(items, [Dependency("A", "B")], {"A": [0.5], "B": [1.0]}, runs=10)
    assert result["A"] == Forecast(nov(6), nov(6), 1.0, nov(13))
    assert result["B"] == Forecast(nov(20), nov(20), 1.0, nov(20))


def test_a_constraint_the_plan_already_broke_is_settled_first():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(4), nov(5))]  # B should start after A
    result = monte_carlo(items, [Dependency("A", "B")], {}, runs=10)
    assert result["B"] == Forecast(nov(10), nov(10), 0.0, nov(5))


def test_an_item_planned_on_days_off_keeps_its_dates_unless_it_is_pushed_or_resized():
    # B, Sat 7 - Sun 15, holds five working days (Mon 9 - Fri 13) and keeps its planned Sunday end.
    items = [Item("A", nov(2), nov(4)), Item("B", nov(7), nov(15)), Item("C", nov(16), nov(16))]
    deps = [Dependency("A", "B"), Dependency("B", "C", "FF")]
    kept = monte_carlo(items, deps, {}, runs=10)
    assert kept["B"] == Forecast(nov(15), nov(15), 1.0, nov(15))
    assert kept["C"] == Forecast(nov(16), nov(16), 1.0, nov(16))  # FF: no earlier than Mon 16, the day after
    pushed = monte_carlo(items, deps, {"A": [10 / 3]}, runs=10)  # A ends Fri 13: B starts Mon 16, 5 days
    assert pushed["B"] == Forecast(nov(20), nov(20), 0.0, nov(15))
    assert pushed["C"] == Forecast(nov(20), nov(20), 0.0, nov(16))
    resized = monte_carlo(items, deps, {"B": [1.0, 1.0]}, runs=10)  # same length: the Sunday end stays
    assert resized["B"].p50 == nov(15)


def test_a_start_pushed_into_a_blackout_is_postponed_past_it_and_its_successors_follow():
    # Deploy (a milestone) after build; build runs 10 or 12 working days. Blackouts: Tue 17 - Wed 18 and a freeze
    # from Thu 19 to Sun 22 that the first postponement lands in.
    items = [
        Item("build", nov(2), nov(13)),
        Item("deploy", nov(16), nov(16), blackouts=((nov(19), nov(22)), (nov(17), nov(18)))),
        Item("verify", nov(17), nov(17)),
    ]
    deps = [Dependency("build", "deploy"), Dependency("deploy", "verify")]
    result = monte_carlo(items, deps, {"build": [1.0, 1.0, 1.0, 1.2]}, runs=4_000)
    assert (result["deploy"].p50, result["deploy"].p85) == (nov(16), nov(23))  # Wed 18 would be in a window
    assert (result["verify"].p50, result["verify"].p85) == (nov(17), nov(24))
    assert 0.72 < result["deploy"].probability_on_time < 0.78


def test_an_item_that_does_not_move_is_not_postponed_even_inside_a_blackout():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(9), blackouts=((nov(9), nov(10)),))]
    result = monte_carlo(items, [Dependency("A", "B")], {"A": [0.8]}, runs=10)
    assert result["B"] == Forecast(nov(9), nov(9), 1.0, nov(9))
    fixed = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(9), fixed=True, blackouts=((nov(9), nov(20)),))]
    assert monte_carlo(fixed, [Dependency("A", "B")], {"A": [2.0]}, runs=10)["B"].p50 == nov(9)


def test_a_plan_of_several_calendars_is_counted_on_the_first_items_calendar():
    four_day_week = WorkingCalendar(weekend=frozenset({4, 5, 6}))
    items = [Item("A", nov(2), nov(6), STANDARD), Item("B", nov(9), nov(13), four_day_week)]
    result = monte_carlo(items, [Dependency("A", "B")], {"A": [2.0]}, runs=10)
    # A takes 10 standard working days (to Fri 13); B's 5 days and the Friday are counted on the standard calendar.
    assert result["B"].p50 == nov(20)


def test_an_empty_plan_has_an_empty_forecast():
    assert monte_carlo([], [], {}) == {}
    assert monte_carlo([], [], {}, not_before=nov(11)) == {}


# Nothing unfinished happens before today


def test_nothing_that_is_not_fixed_starts_before_not_before_and_each_keeps_its_duration():
    # A (Mon 2 - Fri 6) and the milestone M (Tue 3) are past on Wed 11, and B (Mon 9 - Fri 13) should have started.
    items = [
        Item("A", nov(2), nov(6)),
        Item("M", nov(3), nov(3)),
        Item("B", nov(9), nov(13)),
        Item("C", nov(30), dec(4)),
    ]
    deps = [Dependency("A", "B"), Dependency("B", "C")]
    result = monte_carlo(items, deps, {}, runs=10, not_before=nov(11))
    assert result["A"] == Forecast(nov(17), nov(17), 0.0, nov(6))  # five working days from Wed 11
    assert result["M"] == Forecast(nov(11), nov(11), 0.0, nov(3))
    assert result["B"] == Forecast(nov(24), nov(24), 0.0, nov(13))  # after A, five working days
    assert result["C"] == Forecast(dec(4), dec(4), 1.0, dec(4))  # its slack absorbs the delay: as planned


def test_not_before_on_a_day_off_means_the_next_working_day_and_sampled_durations_follow_it():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(13))]
    result = monte_carlo(items, [Dependency("A", "B")], {"A": [2.0]}, runs=10, not_before=nov(14))  # a Saturday
    assert result["A"] == Forecast(nov(27), nov(27), 0.0, nov(6))  # ten working days from Mon 16
    assert result["B"] == Forecast(dec(4), dec(4), 0.0, nov(13))


def test_fixed_items_keep_their_dates_before_not_before_and_a_floor_before_the_plan_changes_nothing():
    items = [Item("A", nov(2), nov(6), fixed=True), Item("B", nov(9), nov(13))]
    deps = [Dependency("A", "B")]
    floored = monte_carlo(items, deps, {}, runs=10, not_before=nov(4))
    assert floored["A"] == Forecast(nov(6), nov(6), 1.0, nov(6))
    assert floored["B"] == Forecast(nov(13), nov(13), 1.0, nov(13))
    assert monte_carlo(items, deps, {"B": [1.5]}, runs=50, not_before=date(2026, 10, 1)) == monte_carlo(
        items, deps, {"B": [1.5]}, runs=50
    )


def test_a_start_floored_into_a_blackout_is_postponed_past_it():
    items = [Item("deploy", nov(3), nov(3), blackouts=((nov(11), nov(13)),))]
    result = monte_carlo(items, [], {}, runs=10, not_before=nov(11))
    assert result["deploy"] == Forecast(nov(16), nov(16), 0.0, nov(3))


@pytest.mark.parametrize("not_before", ["2026-11-11", datetime(2026, 11, 11, 9, 0)])
def test_not_before_must_be_a_date(not_before):
    with pytest.raises(TypeError, match="not_before must be a date"):
        monte_carlo([Item("A", nov(2), nov(6))], [], {}, not_before=not_before)


# Bad input


def test_a_cycle_is_refused_naming_it():
    items = [Item(key, nov(2), nov(6)) for key in "ABCD"]
    deps = [Dependency("A", "B"), Dependency("B", "C"), Dependency("C", "D", "SS"), Dependency("D", "B", "FF")]
    with pytest.raises(CycleError) as error:
        monte_carlo(items, deps, {})
    assert error.value.cycle == ("B", "C", "D", "B")
    assert str(error.value) == "Dependency cycle: B → C → D → B."


def test_a_dependency_on_itself_is_a_cycle():
    with pytest.raises(CycleError) as error:
        monte_carlo([Item("A", nov(2), nov(6))], [Dependency("A", "A")], {})
    assert error.value.cycle == ("A", "A")


@pytest.mark.parametrize("runs", [0, -1, MAX_RUNS + 1])
def test_runs_outside_the_range_are_refused(runs):
    with pytest.raises(ValueError, match="runs must be from 1 to 100,000"):
        monte_carlo([Item("A", nov(2), nov(6))], [], {}, runs=runs)


@pytest.mark.parametrize("runs", [True, 1.5, "10"])
def test_runs_must_be_a_whole_number(runs):
    with pytest.raises(TypeError, match="runs must be a whole number"):
        monte_carlo([Item("A", nov(2), nov(6))], [], {}, runs=runs)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be at least 0"):
        monte_carlo([Item("A", nov(2), nov(6))], [], {}, seed=-1)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, 0.0], "positive finite numbers; got 0.0"),
        ([-1.5], "positive finite numbers; got -1.5"),
        ([1.0, float("nan")], "positive finite numbers; got nan"),
        ([float("inf")], "positive finite numbers; got inf"),
        (["1.2"], "flat sequence of numbers"),
        ("1.2", "flat sequence of numbers"),
        ([True], "flat sequence of numbers"),
        ([[1.0], [2.0]], "flat sequence of numbers"),
        ([[1.0], [2.0, 3.0]], "flat sequence of numbers"),
        (1.2, "flat sequence of numbers"),
        ([None], "positive finite numbers; got None"),
    ],
)
def test_ratios_must_be_positive_finite_numbers(values, message):
    with pytest.raises(ValueError, match=message):
        monte_carlo([Item("A", nov(2), nov(6))], [], {"A": values})


def test_unknown_keys_are_refused():
    items = [Item("A", nov(2), nov(6))]
    with pytest.raises(ValueError, match="Unknown item 'B' in ratios"):
        monte_carlo(items, [], {"B": [1.0]})
    with pytest.raises(ValueError, match="Unknown item 'B' in keys"):
        monte_carlo(items, [], {}, keys=["A", "B"])
    with pytest.raises(ValueError, match=r"Unknown item \['A'\] in keys"):
        monte_carlo(items, [], {}, keys=[["A"]])
    with pytest.raises(ValueError, match="Unknown item 'B' in dependency A -FS-> B"):
        monte_carlo(items, [Dependency("A", "B")], {})
    with pytest.raises(ValueError, match=r"Unknown item \['B'\] in dependency"):
        monte_carlo(items, [Dependency(["B"], "A")], {})
    with pytest.raises(TypeError, match="not one key"):
        monte_carlo(items, [], {}, keys="A")


def test_items_and_dependencies_of_the_wrong_type_or_with_shared_keys_are_refused():
    with pytest.raises(ValueError, match="Two items share the key 'A'"):
        monte_carlo([Item("A", nov(2), nov(6)), Item("A", nov(9), nov(13))], [], {})
    with pytest.raises(TypeError, match="Expected an Item"):
        monte_carlo([("A", nov(2), nov(6))], [], {})
    with pytest.raises(TypeError, match="Expected a Dependency"):
        monte_carlo([Item("A", nov(2), nov(6))], [("A", "A")], {})
    with pytest.raises(TypeError, match="ratios maps item keys"):
        monte_carlo([Item("A", nov(2), nov(6))], [], [("A", [1.0])])


# Pooling historical ratios


def test_ratio_samples_use_a_teams_own_history_when_it_has_enough_else_the_kinds():
    history = [("build", "Payments", 1.5)] * 3 + [("build", "Cards", 1.0)] + [("test", None, 1.2)]
    pools = ratio_samples(history, min_samples=3)
    assert pools == RatioSamples(
        by_kind={"build": (1.5, 1.5, 1.5, 1.0), "test": (1.2,)},
        by_team={("build", "Payments"): (1.5, 1.5, 1.5)},
        min_samples=3,
    )
    assert pools.lookup("build", "Payments") == ((1.5, 1.5, 1.5), "team")
    assert pools.lookup("build", "Cards") == ((1.5, 1.5, 1.5, 1.0), "kind")
    assert pools.lookup("build") == ((1.5, 1.5, 1.5, 1.0), "kind")
    assert pools.lookup("deploy", "Cards") == ((), "none")


@pytest.mark.parametrize("ratio", [0, -0.5, float("nan"), float("inf"), "1.2", True, None])
def test_ratio_samples_refuse_a_ratio_that_is_not_a_positive_finite_number(ratio):
    with pytest.raises(ValueError, match="positive finite number"):
        ratio_samples([("build", "Payments", ratio)])


def test_ratio_samples_need_at_least_one_sample_per_team():
    with pytest.raises(ValueError, match="min_samples must be at least 1"):
        ratio_samples([], min_samples=0)
