"""Property tests of the schedule engine on random small DAGs, checked against a day-by-day reference.

Some items carry blackout windows (in which they may not start); the properties hold with them too."""

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import KINDS, Dependency, Item, critical_path, propagate
from launchdeck.scheduling.tests.reference import ref_end, ref_next, ref_previous, ref_step

PROPERTY = settings(max_examples=100, deadline=None, database=None)
ANCHOR = date(2026, 11, 2)  # a Monday
CALENDARS = [
    STANDARD,
    WorkingCalendar(weekend=frozenset({4, 5})),  # Sunday to Thursday
    WorkingCalendar(closures=((date(2026, 11, 18), date(2026, 11, 24), "Freeze"),)),
]
ONE_DAY = timedelta(days=1)


def in_blackout(item: Item, day: date) -> bool:
    return any(first <= day <= last for first, last in item.blackouts)


def ref_postpone(item: Item, start: date) -> date:
    """The first working day on or after `start` in none of the item's blackouts."""
    start = ref_next(item.calendar, start)
    while in_blackout(item, start):
        start = ref_next(item.calendar, start + ONE_DAY)
    return start


def requirement(dependency: Dependency, pred: tuple[date, date], calendar: WorkingCalendar) -> tuple[int, date]:
    """(0 for the successor's start or 1 for its end, the day it may not precede)."""
    start, end = pred
    anchor = {"FS": end + ONE_DAY, "SS": start, "FF": end, "SF": start}[dependency.kind]
    return (dependency.kind in ("FF", "SF")), ref_step(calendar, ref_next(calendar, anchor), dependency.lag)


def holds(dependency: Dependency, dates: dict, calendars: dict) -> bool:
    which, bound = requirement(dependency, dates[dependency.predecessor], calendars[dependency.successor])
    return dates[dependency.successor][which] >= bound


def ref_earliest(calendar, duration, dependency, pred_dates) -> date:
    which, bound = requirement(dependency, pred_dates, calendar)
    if not which:
        return bound
    start = bound
    for _ in range(duration - 1):
        start = ref_previous(calendar, start - ONE_DAY)
    return start


windows = st.tuples(st.integers(0, 25), st.integers(0, 6)).map(
    lambda pair: (ANCHOR + timedelta(days=pair[0]), ANCHOR + timedelta(days=pair[0] + pair[1]))
)


@st.composite
def plans(draw, max_items=7):
    """Items 0..n-1 (edges only from lower to higher keys, so a DAG), laid out so that every constraint into a
    non-fixed item holds; fixed items sit where they were drawn, so constraints into them may be broken. Half the
    items have blackouts, in which they may already start."""
    count = draw(st.integers(min_value=1, max_value=max_items))
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)).filter(lambda pair: pair[0] != pair[1])
    edges = draw(
        st.lists(st.tuples(pairs, st.sampled_from(KINDS), st.integers(min_value=-2, max_value=3)), max_size=2 * count)
    )
    deps = [Dependency(min(pair), max(pair), kind, lag) for pair, kind, lag in edges]
    items = []
    dates = {}
    for key in range(count):
        calendar = draw(st.sampled_from(CALENDARS))
        fixed = draw(st.integers(0, 4)) == 0
        duration = draw(st.integers(min_value=1, max_value=5))
        start = ref_next(calendar, ANCHOR + timedelta(days=draw(st.integers(0, 20))))
        if not fixed:
            for dependency in deps:
                if dependency.successor == key:
                    start = max(start, ref_earliest(calendar, duration, dependency, dates[dependency.predecessor]))
        dates[key] = (start, ref_end(calendar, start, duration))
        blackouts = draw(st.lists(windows, min_size=1, max_size=4)) if draw(st.booleans()) else ()
        items.append(Item(key, *dates[key], calendar, fixed, blackouts))
    return items, deps


def changes_for(items, draw, at_least=0):
    movable = [item for item in items if not item.fixed]
    some = st.lists(st.sampled_from(movable), unique_by=lambda item: item.key, min_size=at_least, max_size=3)
    chosen = draw(some) if movable else []
    return {item.key: item.start + timedelta(days=draw(st.integers(-10, 15))) for item in chosen}


def violated(items, deps, dates) -> set[Dependency]:
    calendars = {item.key: item.calendar for item in items}
    return {dependency for dependency in deps if not holds(dependency, dates, calendars)}


@PROPERTY
@given(st.data())
def test_after_propagation_every_constraint_into_a_movable_item_holds_and_violations_are_exactly_the_rest(data):
    items, deps = data.draw(plans())
    changes = changes_for(items, data.draw)
    result = propagate(items, deps, changes)
    broken = violated(items, deps, result.dates)
    fixed = {item.key for item in items if item.fixed}
    assert all(dependency.successor in fixed for dependency in broken)
    assert {violation.dependency for violation in result.violations} == broken


@PROPERTY
@given(st.data())
def test_nothing_moves_earlier_and_what_moves_moves_only_as_far_as_needed(data):
    items, deps = data.draw(plans())
    changes = changes_for(items, data.draw)
    result = propagate(items, deps, changes)
    for item in items:
        start, end = result.dates[item.key]
        asked = ref_next(item.calendar, changes[item.key]) if item.key in changes else item.start
        assert start >= asked
        assert end == ref_end(item.calendar, start, item.duration)
        if item.fixed:
            assert (start, end) == (item.start, item.end)
        if start > asked:  # pushed (one working day earlier would break a constraint) or postponed past a blackout
            earliest = [
                ref_earliest(item.calendar, item.duration, d, result.dates[d.predecessor])
                for d in deps
                if d.successor == item.key
            ]
            if item.key in result.postponed:
                assert start == ref_postpone(item, max([asked, *earliest]))
            elif start != max(earliest, default=asked):
                # Postponed past a blackout back onto its own dates: that is no move, so no postponement either.
                assert item.key not in result.moved and (start, end) == (item.start, item.end)
                assert start == ref_postpone(item, max([asked, *earliest]))
            if item.key in result.moved:  # (a change pushed back onto its old dates is no move)
                assert tuple(result.moved[item.key].path)[-1] == item.key
    assert set(result.moved) == {
        key for key, dates in result.dates.items() if dates != (items[key].start, items[key].end)
    }


@PROPERTY
@given(plans())
def test_an_empty_change_set_moves_nothing(plan):
    items, deps = plan
    result = propagate(items, deps, {})
    assert result.moved == {}
    assert result.dates == {item.key: (item.start, item.end) for item in items}
    assert {violation.dependency for violation in result.violations} == violated(items, deps, result.dates)


@PROPERTY
@given(st.data())
def test_changing_items_to_their_own_starts_moves_nothing(data):
    items, deps = data.draw(plans())
    chosen = data.draw(st.lists(st.sampled_from([item for item in items if not item.fixed] or [None]), max_size=3))
    result = propagate(items, deps, {item.key: item.start for item in chosen if item is not None})
    assert result == propagate(items, deps, {})
    assert result.moved == {} and result.postponed == {}


@PROPERTY
@given(st.data())
def test_a_moved_item_never_starts_in_a_blackout_and_one_that_stays_is_never_postponed(data):
    items, deps = data.draw(plans())
    changes = changes_for(items, data.draw, at_least=1)
    landed = propagate(items, deps, changes).dates  # aim more windows at where items land, so that most examples
    for position, item in enumerate(items):  #        postpone something
        if data.draw(st.booleans()):
            around = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 5)))
            window = (landed[item.key][0] - timedelta(days=around[0]), landed[item.key][0] + timedelta(days=around[1]))
            items[position] = replace(item, blackouts=(*item.blackouts, window))
    result = propagate(items, deps, changes)
    assert set(result.postponed) <= set(result.moved)
    for item in items:
        start, end = result.dates[item.key]
        if item.key in result.moved:
            assert not in_blackout(item, start)
        if item.key in result.postponed:  # just after the window it was pushed past, with its duration kept
            first, last = result.postponed[item.key]
            assert (first, last) in item.blackouts
            assert start == ref_next(item.calendar, last + ONE_DAY)
            assert end == ref_end(item.calendar, start, item.duration)


@PROPERTY
@given(st.data())
def test_the_result_does_not_depend_on_the_order_of_the_dependencies(data):
    items, deps = data.draw(plans())
    changes = changes_for(items, data.draw)
    shuffled = data.draw(st.permutations(deps))
    assert propagate(items, shuffled, changes) == propagate(items, deps, changes)
    assert critical_path(items, shuffled) == critical_path(items, deps)


@PROPERTY
@given(st.data())
def test_a_slip_up_to_the_total_float_is_absorbed_and_one_day_more_is_not(data):
    items, deps = data.draw(plans())
    total_float, critical, project_end = critical_path(items, deps)
    before = propagate(items, deps, {})
    assert project_end == max(end for _, end in before.dates.values())
    broken_before = {v.dependency for v in before.violations}
    if not broken_before:
        assert critical  # the item that ends last has no float
    candidates = [item for item in items if not item.fixed and total_float[item.key] >= 0]
    if not candidates:
        return
    item = data.draw(st.sampled_from(candidates))
    slack = total_float[item.key]

    for shift in {data.draw(st.integers(min_value=0, max_value=slack)), slack}:  # anywhere up to the float, and all
        after = propagate(items, deps, {item.key: item.calendar.add_working_days(item.start, shift)})
        assert max(end for _, end in after.dates.values()) == project_end
        assert {v.dependency for v in after.violations} == broken_before

    if broken_before:  # an item already out of line has a negative float, so one day more need not show
        return
    after = propagate(items, deps, {item.key: item.calendar.add_working_days(item.start, slack + 1)})
    assert (
        max(end for _, end in after.dates.values()) > project_end
        or {v.dependency for v in after.violations} != broken_before
    )
