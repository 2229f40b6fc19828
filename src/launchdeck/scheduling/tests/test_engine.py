"""Golden tests of the schedule engine on small plans checked by hand (November 2026: the 2nd, 9th, 16th, 23rd and
30th are Mondays)."""

import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import (
    CriticalPath,
    CycleError,
    Dependency,
    Item,
    Move,
    check_acyclic,
    critical_path,
    propagate,
)


def nov(day: int) -> date:
    return date(2026, 11, day)


def dec(day: int) -> date:
    return date(2026, 12, day)


# The module stays pure


def test_engine_module_imports_nothing_from_django_or_the_apps():
    src = Path(__file__).resolve().parents[3]
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    script = (
        "import sys\n"
        "import launchdeck.scheduling.engine\n"
        "loaded = sorted(name for name in sys.modules if name == 'django' or name.startswith('django.')\n"
        "    or (name.startswith('launchdeck.') and not name.startswith('launchdeck.scheduling')))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# Propagation, one dependency kind at a time


def test_fs_with_lag_across_a_weekend():
    # A Mon 23 - Fri 27 (5 days); B must start 2 working days after the working day after A ends: Wed 2 Dec.
    items = [Item("A", nov(23), nov(27)), Item("B", dec(2), dec(4))]
    deps = [Dependency("A", "B", "FS", lag=2)]
    assert propagate(items, deps, {}).moved == {}

    result = propagate(items, deps, {"A": nov(24)})  # A now ends Mon 30, so B may start Thu 3 Dec
    assert result.moved == {
        "A": Move(nov(23), nov(27), nov(24), nov(30), ("A",)),
        "B": Move(dec(2), dec(4), dec(3), dec(7), ("A", "B")),  # three working days: Thu, Fri, Mon
    }
    assert result.violations == []
    assert result.dates["B"] == (dec(3), dec(7))


def test_ss_with_lag():
    items = [Item("A", nov(23), nov(27)), Item("B", nov(24), nov(25))]
    result = propagate(items, [Dependency("A", "B", "SS", lag=1)], {"A": nov(26)})
    assert result.moved["A"][2:4] == (nov(26), dec(2))
    assert result.moved["B"] == Move(nov(24), nov(25), nov(27), nov(30), ("A", "B"))


def test_ff_moves_the_successor_so_it_finishes_no_earlier():
    items = [Item("A", nov(23), nov(27)), Item("B", nov(25), nov(27))]
    result = propagate(items, [Dependency("A", "B", "FF")], {"A": nov(30)})
    assert result.moved["A"][2:4] == (nov(30), dec(4))
    assert result.moved["B"] == Move(nov(25), nov(27), dec(2), dec(4), ("A", "B"))


def test_sf_moves_the_successor_so_it_finishes_no_earlier_than_the_predecessor_starts():
    items = [Item("A", nov(23), nov(24)), Item("B", nov(19), nov(23))]  # B: Thu, Fri, Mon
    result = propagate(items, [Dependency("A", "B", "SF")], {"A": nov(25)})
    assert result.moved["B"] == Move(nov(19), nov(23), nov(23), nov(25), ("A", "B"))


def test_a_negative_lag_is_a_lead():
    items = [Item("A", nov(23), nov(27)), Item("B", nov(26), nov(27))]  # B may start 2 days before A ends
    deps = [Dependency("A", "B", "FS", lag=-2)]
    assert propagate(items, deps, {}).violations == []
    result = propagate(items, deps, {"A": nov(24)})
    assert result.moved["B"][2:4] == (nov(27), nov(30))


def test_slack_absorbs_a_smaller_slip_and_only_the_excess_of_a_bigger_one():
    items = [Item("A", nov(23), nov(25)), Item("B", nov(30), dec(1))]  # two working days of slack (Thu, Fri)
    deps = [Dependency("A", "B")]
    assert set(propagate(items, deps, {"A": nov(25)}).moved) == {"A"}  # A ends Fri 27: B still fits
    result = propagate(items, deps, {"A": nov(26)})  # A ends Mon 30: B moves one day, not three
    assert result.moved["B"][2:4] == (dec(1), dec(2))


def test_nothing_moves_earlier_because_a_predecessor_moved_earlier():
    items = [Item("A", nov(23), nov(25)), Item("B", nov(26), nov(27))]
    result = propagate(items, [Dependency("A", "B")], {"A": nov(16)})
    assert set(result.moved) == {"A"}
    assert result.dates["B"] == (nov(26), nov(27))


def test_a_chain_records_the_path_and_the_tightest_predecessor_wins():
    items = [
        Item("A", nov(2), nov(6)),
        Item("B", nov(9), nov(13)),
        Item("C", nov(16), nov(20)),
        Item("X", nov(2), nov(4)),
    ]
    deps = [Dependency("X", "C"), Dependency("B", "C"), Dependency("A", "B")]
    result = propagate(items, deps, {"A": nov(4), "X": nov(9)})  # A pushes B to Wed 11; X pushes C to Thu 12 ...
    assert result.moved["B"].path == ("A", "B")
    assert result.moved["C"].new_start == nov(18)  # ... but B (ending Tue 17) needs C at Wed 18, so B wins
    assert tuple(result.moved["C"].path) == ("A", "B", "C")
    assert str(result.moved["C"].path) == "A → B → C"


def test_a_changed_item_is_still_pushed_by_its_own_predecessors():
    items = [Item("A", nov(2), nov(6)), Item("B", nov(9), nov(10))]
    result = propagate(items, [Dependency("A", "B")], {"B": nov(3)})
    assert "B" not in result.moved  # asked for Tue 3, but A still ends Fri 6
    result = propagate(items, [Dependency("A", "B")], {"A": nov(3), "B": nov(2)})
    assert result.moved["B"] == Move(nov(9), nov(10), nov(10), nov(11), ("A", "B"))


def test_a_change_onto_a_weekend_rolls_forward_and_keeps_the_duration():
    result = propagate([Item("A", nov(23), nov(25))], [], {"A": nov(28)})  # Saturday
    assert result.moved["A"][2:4] == (nov(30), dec(2))


def test_each_item_uses_its_own_calendar():
    sun_to_thu = WorkingCalendar(weekend=frozenset({4, 5}))
    closed = WorkingCalendar(closures=((dec(1), dec(2), "Freeze"),))
    items = [Item("A", nov(23), nov(27)), Item("B", nov(30), dec(2), sun_to_thu), Item("C", nov(30), dec(4), closed)]
    deps = [Dependency("A", "B"), Dependency("A", "C")]
    result = propagate(items, deps, {"A": nov(24)})  # A ends Mon 30
    assert result.moved["B"][2:4] == (dec(1), dec(3))  # Tue, Wed, Thu
    assert result.moved["C"][2:4] == (dec(3), dec(7))  # Thu, Fri, Mon (the freeze days were already skipped)


# Fixed items and violations


def test_a_fixed_item_does_not_move_and_the_broken_constraint_is_a_violation():
    items = [
        Item("build", nov(23), nov(25)),
        Item("go-live", nov(27), nov(27), fixed=True),
        Item("hypercare", nov(30), dec(4)),
    ]
    deps = [Dependency("build", "go-live"), Dependency("go-live", "hypercare")]
    result = propagate(items, deps, {"build": nov(24)})  # build ends Thu 26: still fits
    assert set(result.moved) == {"build"} and result.violations == []

    result = propagate(items, deps, {"build": nov(25)})  # build ends Fri 27, the go-live day
    assert set(result.moved) == {"build"}
    [violation] = result.violations
    assert violation.dependency == deps[0]
    assert "go-live must start on or after 2026-11-30 but starts on 2026-11-27; it is fixed" in violation.message


def test_a_constraint_the_plan_already_broke_is_reported_not_silently_repaired():
    items = [Item("A", nov(23), nov(27)), Item("B", nov(25), nov(26)), Item("C", nov(2), nov(3))]
    result = propagate(items, [Dependency("A", "B")], {"C": nov(4)})
    assert set(result.moved) == {"C"}
    assert "already broke" in result.violations[0].message


def test_moving_a_fixed_item_or_an_unknown_one_is_refused():
    items = [Item("A", nov(23), nov(27), fixed=True)]
    with pytest.raises(ValueError, match="'A' is fixed"):
        propagate(items, [], {"A": nov(30)})
    with pytest.raises(ValueError, match="Unknown item 'Z' in change"):
        propagate(items, [], {"Z": nov(30)})
    with pytest.raises(ValueError, match="Unknown item 'Z' in dependency"):
        propagate(items, [Dependency("A", "Z")], {})


def test_bad_items_and_dependencies_are_refused():
    with pytest.raises(ValueError, match="ends"):
        Item("A", nov(27), nov(23))
    with pytest.raises(ValueError, match="Unknown dependency kind 'XX'"):
        Dependency("A", "B", "XX")
    with pytest.raises(ValueError, match="share the key 'A'"):
        propagate([Item("A", nov(2), nov(3)), Item("A", nov(4), nov(5))], [], {})


# Cycles


def test_a_cycle_is_refused_with_its_keys_in_order():
    items = [Item(key, nov(2), nov(3)) for key in "DCBA"]
    deps = [Dependency("A", "B"), Dependency("B", "C", "SS"), Dependency("C", "A", "FF"), Dependency("D", "A")]
    with pytest.raises(CycleError, match=re.escape("Dependency cycle: C → A → B → C.")) as caught:
        propagate(items, deps, {})
    assert caught.value.cycle == ("C", "A", "B", "C")
    with pytest.raises(CycleError, match=re.escape("Dependency cycle: A → A.")):
        critical_path(items, [Dependency("A", "A")])


def test_check_acyclic_names_the_same_cycle_without_dates():
    deps = [Dependency("A", "B"), Dependency("B", "C", "SS"), Dependency("C", "A", "FF"), Dependency("D", "A")]
    with pytest.raises(CycleError, match=re.escape("Dependency cycle: C → A → B → C.")) as caught:
        check_acyclic("DCBA", deps)
    assert caught.value.cycle == ("C", "A", "B", "C")
    assert check_acyclic("DCBA", deps[:2] + deps[3:]) is None
    with pytest.raises(ValueError, match="Unknown item 'Z' in dependency"):
        check_acyclic("AB", [Dependency("A", "Z")])
    with pytest.raises(ValueError, match="share the key 'A'"):
        check_acyclic("ABA", [])


# Blackouts: a deploy milestone may not start in a freeze (30 Nov - 4 Dec, Monday to Friday)

FREEZE = (nov(30), dec(4))
RELEASE = [
    Item("build", nov(23), nov(25)),
    Item("deploy", nov(26), nov(26), blackouts=(FREEZE,)),
    Item("hypercare", nov(27), nov(30)),
]
RELEASE_DEPS = [Dependency("build", "deploy"), Dependency("deploy", "hypercare")]


def test_a_milestone_pushed_into_a_freeze_lands_on_the_first_working_day_after_it():
    result = propagate(RELEASE, RELEASE_DEPS, {"build": nov(25)})  # build ends Fri 27: deploy would be Mon 30
    assert result.moved["deploy"] == Move(nov(26), nov(26), dec(7), dec(7), ("build", "deploy"))
    assert result.postponed == {"deploy": FREEZE}
    assert result.violations == []


def test_the_successor_of_a_postponed_item_sees_the_postponed_date():
    result = propagate(RELEASE, RELEASE_DEPS, {"build": nov(25)})
    assert result.moved["hypercare"] == Move(nov(27), nov(30), dec(8), dec(9), ("build", "deploy", "hypercare"))
    assert "hypercare" not in result.postponed


def test_adjacent_freezes_postpone_past_both_and_record_the_last():
    second = (dec(7), dec(9))  # the first working day after the first freeze is in the second
    items = [RELEASE[0], Item("deploy", nov(26), nov(26), blackouts=(second, FREEZE))]
    result = propagate(items, RELEASE_DEPS[:1], {"build": nov(25)})
    assert result.dates["deploy"] == (dec(10), dec(10))
    assert result.postponed == {"deploy": second}
    assert items[1].blackouts == (FREEZE, second)  # kept sorted


def test_the_first_working_day_after_a_freeze_is_on_the_item_calendar():
    england = WorkingCalendar(country="GB", subdivision="ENG")  # Christmas Fri 25, Boxing Day observed Mon 28
    items = [
        Item("build", dec(14), dec(18), england),
        Item("deploy", dec(21), dec(21), england, blackouts=[(dec(22), dec(24))]),
    ]
    result = propagate(items, [Dependency("build", "deploy")], {"build": dec(15)})  # deploy would be Tue 22
    assert result.dates["deploy"] == (dec(29), dec(29))


def test_a_postponed_item_keeps_its_duration():
    items = [Item("build", nov(23), nov(25)), Item("rollout", nov(26), dec(1), blackouts=(FREEZE,))]  # 4 days
    result = propagate(items, [Dependency("build", "rollout")], {"build": nov(25)})
    assert result.dates["rollout"] == (dec(7), dec(10))


def test_an_item_that_does_not_move_is_never_postponed():
    items = [Item("build", nov(23), nov(25)), Item("deploy", dec(1), dec(1), blackouts=(FREEZE,))]  # already in it
    result = propagate(items, [Dependency("build", "deploy")], {"build": nov(24)})  # slack absorbs the slip
    assert set(result.moved) == {"build"}
    assert result.postponed == {}
    assert result.dates["deploy"] == (dec(1), dec(1))


def test_a_change_into_a_freeze_is_postponed_and_one_postponed_onto_its_own_date_is_no_move():
    items = [
        Item("deploy", nov(26), nov(26), blackouts=(FREEZE,)),
        Item("cutover", dec(7), dec(7), blackouts=(FREEZE,)),
    ]
    result = propagate(items, [], {"deploy": dec(2), "cutover": dec(3)})
    assert result.moved == {"deploy": Move(nov(26), nov(26), dec(7), dec(7), ("deploy",))}
    assert result.postponed == {"deploy": FREEZE}


def test_a_fixed_item_is_never_postponed():
    items = [Item("build", nov(23), nov(25)), Item("deploy", nov(26), nov(26), fixed=True, blackouts=(FREEZE,))]
    result = propagate(items, [Dependency("build", "deploy")], {"build": nov(25)})
    assert result.postponed == {}
    assert (
        "deploy must start on or after 2026-11-30 but starts on 2026-11-26; it is fixed" in result.violations[0].message
    )


def test_bad_blackouts_are_refused():
    with pytest.raises(
        ValueError, match=re.escape("A blackout of 'A' ends (2026-11-03) before it starts (2026-11-05).")
    ):
        Item("A", nov(2), nov(2), blackouts=((nov(5), nov(3)),))
    with pytest.raises(
        ValueError, match=re.escape("is a (first day, last day) pair of dates; got (datetime.date(2026, 11, 5),)")
    ):
        Item("A", nov(2), nov(2), blackouts=((nov(5),),))
    with pytest.raises(ValueError, match="pair of dates"):
        Item("A", nov(2), nov(2), blackouts=((datetime(2026, 11, 5, 9), nov(6)),))
    with pytest.raises(ValueError, match="are a sequence of"):
        Item("A", nov(2), nov(2), blackouts=nov(5))
    item = Item("A", nov(2), nov(2), blackouts=[[nov(9), nov(9)], (nov(5), nov(6))])
    assert item.blackouts == ((nov(5), nov(6)), (nov(9), nov(9)))
    assert hash(item) == hash(Item("A", nov(2), nov(2), blackouts=((nov(5), nov(6)), (nov(9), nov(9)))))


# Critical path


DIAMOND = [
    Item("start", nov(2), nov(6)),
    Item("long", nov(9), nov(20)),
    Item("short", nov(9), nov(13)),
    Item("end", nov(23), nov(25)),
]
DIAMOND_DEPS = [
    Dependency("start", "long"),
    Dependency("start", "short"),
    Dependency("long", "end"),
    Dependency("short", "end"),
]


def test_critical_path_of_a_diamond():
    assert critical_path(DIAMOND, DIAMOND_DEPS) == CriticalPath(
        {"start": 0, "long": 0, "short": 5, "end": 0}, ["start", "long", "end"], nov(25)
    )


def test_the_critical_path_changes_after_a_slip_beyond_the_float():
    result = propagate(DIAMOND, DIAMOND_DEPS, {"short": nov(18)})  # 7 working days late: 2 more than its float
    assert result.moved["end"] == Move(nov(23), nov(25), nov(25), nov(27), ("short", "end"))
    slipped = [Item(item.key, *result.dates[item.key]) for item in DIAMOND]
    total_float, critical, project_end = critical_path(slipped, DIAMOND_DEPS)
    assert total_float == {"start": 2, "long": 2, "short": 0, "end": 0}
    assert critical == ["short", "end"]
    assert project_end == nov(27)


def test_a_slip_that_lands_in_a_freeze_makes_a_path_critical_within_its_plain_float():
    # Without a blackout "short" could start as late as Mon 16 (float 5); from Thu 12 to Tue 17 it may not start, so
    # a slip into that window lands on Wed 18: its latest start is Wed 11, a float of 2.
    short = Item("short", nov(9), nov(13), blackouts=((nov(12), nov(17)),))
    plan = [DIAMOND[0], DIAMOND[1], short, DIAMOND[3]]
    assert critical_path(plan, DIAMOND_DEPS).total_float == {"start": 0, "long": 0, "short": 2, "end": 0}

    assert propagate(plan, DIAMOND_DEPS, {"short": nov(11)}).dates["end"] == (nov(23), nov(25))  # 2 days: absorbed
    result = propagate(plan, DIAMOND_DEPS, {"short": nov(12)})  # 3 days: postponed to Wed 18, ends Tue 24
    assert result.postponed == {"short": (nov(12), nov(17))}
    assert result.moved["end"] == Move(nov(23), nov(25), nov(25), nov(27), ("short", "end"))
    slipped = [Item(item.key, *result.dates[item.key], blackouts=item.blackouts) for item in plan]
    _, critical, project_end = critical_path(slipped, DIAMOND_DEPS)
    assert critical == ["short", "end"] and project_end == nov(27)


def test_critical_path_with_ss_and_ff_lags_and_a_deadline():
    items = [Item("A", nov(2), nov(13)), Item("B", nov(5), nov(11)), Item("C", nov(9), nov(13))]
    deps = [Dependency("A", "B", "SS", lag=3), Dependency("B", "C", "FF", lag=2)]
    assert critical_path(items, deps).total_float == {"A": 0, "B": 0, "C": 0}
    later = critical_path(items, deps, project_end=nov(18))
    assert later.total_float == {"A": 3, "B": 3, "C": 3}
    assert later.critical == []
    earlier = critical_path(items, deps, project_end=nov(11))
    assert earlier.total_float == {"A": -2, "B": -2, "C": -2}
    assert earlier.critical == ["A", "B", "C"]


def test_a_fixed_successor_limits_the_float_of_its_predecessors():
    items = [Item("A", nov(2), nov(4)), Item("M", nov(9), nov(9), fixed=True), Item("Z", nov(2), nov(20))]
    total_float, critical, _ = critical_path(items, [Dependency("A", "M")])
    assert total_float["A"] == 2  # it may end as late as Fri 6, though the project ends on the 20th
    assert critical == ["Z"]


# Scale (the speed itself is measured by benchmarks/bench_engine_propagation.py)


def test_a_long_chain_propagates_to_its_end_with_the_whole_path():
    count = 3000
    days = [STANDARD.add_working_days(nov(2), i) for i in range(count)]  # milestones back to back, no slack
    items = [Item(i, day, day) for i, day in enumerate(days)]
    deps = [Dependency(i, i + 1) for i in range(count - 1)]
    result = propagate(items, deps, {0: nov(9)})
    assert len(result.moved) == count
    assert len(result.moved[count - 1].path) == count
