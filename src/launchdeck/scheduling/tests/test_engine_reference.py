"""The engine's integer fast path against the straightforward computation.

The engine turns each calendar into working-day tables once and then works on day ordinals. The reference below
does the same propagation and the same two passes asking `WorkingCalendar`'s public methods at every step, as the
first version of the engine did; on random plans with mixed calendars (public holidays, other weekends, closures),
lags and leads, fixed items and blackouts, both must give exactly the same answer, messages and paths included.
"""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import (
    KINDS,
    CriticalPath,
    CycleError,
    Dependency,
    Item,
    Move,
    Result,
    Violation,
    check_acyclic,
    critical_path,
    propagate,
)

PROPERTY = settings(max_examples=100, deadline=None, database=None)
ANCHOR = date(2026, 11, 16)  # a Monday; the plans run over Christmas and the new year
ONE_DAY = timedelta(days=1)
ON_END = {"FS": False, "SS": False, "FF": True, "SF": True}
FROM_END = {"FS": True, "SS": False, "FF": True, "SF": False}
CALENDARS = [
    STANDARD,
    WorkingCalendar(country="GB", subdivision="ENG"),
    WorkingCalendar(country="DE", subdivision="BY"),
    WorkingCalendar(country="US", closures=((date(2026, 12, 24), date(2027, 1, 1), "Year-end closure"),)),
    WorkingCalendar(weekend=frozenset({4, 5})),  # Sunday to Thursday
    WorkingCalendar(weekend=frozenset({6})),  # Monday to Saturday
]


# The reference: every step through WorkingCalendar's public methods.


def ref_bound(dependency: Dependency, pred_dates: tuple[date, date], calendar: WorkingCalendar) -> date:
    start, end = pred_dates
    anchor = end if FROM_END[dependency.kind] else start
    if dependency.kind == "FS":
        anchor += ONE_DAY
    return calendar.add_working_days(calendar.next_working_day(anchor), dependency.lag)


def ref_earliest_start(dependency: Dependency, pred_dates: tuple[date, date], item: Item) -> date:
    bound = ref_bound(dependency, pred_dates, item.calendar)
    return item.calendar.add_working_days(bound, -(item.duration - 1)) if ON_END[dependency.kind] else bound


def ref_window_at(item: Item, day: date) -> tuple[date, date] | None:
    hits = [window for window in item.blackouts if window[0] <= day <= window[1]]
    return max(hits, key=lambda window: window[1]) if hits else None


def ref_postpone(item: Item, start: date) -> tuple[date, tuple[date, date] | None]:
    window = None
    while (hit := ref_window_at(item, start)) is not None:
        window = hit
        start = item.calendar.next_working_day(hit[1] + ONE_DAY)
    return start, window


def ref_order(items: list[Item], deps: list[Dependency]) -> list[Item]:
    """A topological order (any will do: no rule depends on it), refusing a cycle."""
    done: set = set()
    order = []
    while len(order) < len(items):
        ready = [
            i for i in items if i.key not in done and all(d.predecessor in done for d in deps if d.successor == i.key)
        ]
        if not ready:
            raise CycleError(["?"])
        done.update(i.key for i in ready)
        order.extend(ready)
    return order


def ref_propagate(items: list[Item], deps: list[Dependency], changes: dict) -> Result:
    index = {item.key: i for i, item in enumerate(items)}
    dates = {item.key: (item.start, item.end) for item in items}
    changed = set()
    for key, new_start in changes.items():
        item = items[index[key]]
        if new_start != item.start:
            start = item.calendar.next_working_day(new_start)
            dates[key] = (start, item.calendar.working_end(start, item.duration))
            changed.add(key)
    moved: set = set()
    paths: dict = {}
    postponed: dict = {}
    for item in ref_order(items, deps):
        key = item.key
        preds = [d for d in deps if d.successor == key]
        if item.fixed or not (key in changed or any(d.predecessor in moved for d in preds)):
            continue
        best = None
        for d in preds:
            earliest = ref_earliest_start(d, dates[d.predecessor], item)
            if earliest > dates[key][0]:
                rank = (
                    -earliest.toordinal(),
                    d.predecessor not in moved,
                    index[d.predecessor],
                    KINDS.index(d.kind),
                    d.lag,
                )
                best = rank if best is None else min(best, rank)
        if best is not None:
            pred = items[best[2]].key
            start = date.fromordinal(-best[0])
            dates[key] = (start, item.calendar.working_end(start, item.duration))
            paths[key] = (*paths[pred], key) if pred in moved else (pred, key)
        elif key in changed:
            paths[key] = (key,)
        if dates[key] != (item.start, item.end):
            start, window = ref_postpone(item, dates[key][0])
            if window is not None:
                dates[key] = (start, item.calendar.working_end(start, item.duration))
                if dates[key] != (item.start, item.end):
                    postponed[key] = window
        if dates[key] != (item.start, item.end):
            moved.add(key)

    violations = []
    for d in sorted(deps, key=lambda d: (index[d.successor], index[d.predecessor], KINDS.index(d.kind), d.lag)):
        successor = items[index[d.successor]]
        bound = ref_bound(d, dates[d.predecessor], successor.calendar)
        which = "end" if ON_END[d.kind] else "start"
        actual = dates[d.successor][ON_END[d.kind]]
        if actual < bound:
            reason = "it is fixed" if successor.fixed else "the plan already broke this and nothing moved it"
            message = f"{d}: {d.successor} must {which} on or after {bound} but {which}s on {actual}; {reason}."
            violations.append(Violation(d, message))
    result_moved = {key: Move(items[index[key]].start, items[index[key]].end, *dates[key], paths[key]) for key in moved}
    return Result(result_moved, violations, dates, postponed)


def ref_critical_path(items: list[Item], deps: list[Dependency], project_end: date | None) -> CriticalPath:
    order = ref_order(items, deps)
    dates = {item.key: (item.start, item.end) for item in items}
    for item in order:  # forward pass
        if item.fixed:
            continue
        for d in deps:
            if d.successor == item.key:
                earliest = ref_earliest_start(d, dates[d.predecessor], item)
                if earliest > dates[item.key][0]:
                    dates[item.key] = (earliest, item.calendar.working_end(earliest, item.duration))
        if dates[item.key] != (item.start, item.end):
            start = ref_postpone(item, dates[item.key][0])[0]
            dates[item.key] = (start, item.calendar.working_end(start, item.duration))
    project_end = project_end or max(end for _, end in dates.values())
    late = dict(dates)
    total_float = {}
    by_key = {item.key: item for item in items}
    for item in reversed(order):  # backward pass
        calendar, duration, start = item.calendar, item.duration, dates[item.key][0]
        latest = calendar.add_working_days(calendar.previous_working_day(project_end), -(duration - 1))
        for d in deps:
            if d.predecessor == item.key:
                succ_calendar = by_key[d.successor].calendar
                target = late[d.successor][ON_END[d.kind]]
                bound = succ_calendar.add_working_days(succ_calendar.previous_working_day(target), -d.lag)
                if d.kind == "FS":
                    bound -= ONE_DAY
                if FROM_END[d.kind]:
                    candidate = calendar.add_working_days(calendar.previous_working_day(bound), -(duration - 1))
                else:
                    candidate = calendar.previous_working_day(bound)
                latest = min(latest, candidate)
        allowed = latest
        while (hit := ref_window_at(item, allowed)) is not None:
            allowed = calendar.previous_working_day(hit[0] - ONE_DAY)
        if start <= latest:
            allowed = max(allowed, start)
        total_float[item.key] = calendar.working_days_between(start, allowed)
        if not item.fixed:
            late[item.key] = (allowed, calendar.working_end(allowed, duration))
    position = {item.key: i for i, item in enumerate(items)}
    critical = sorted((k for k, f in total_float.items() if f <= 0), key=lambda k: (dates[k][0], position[k]))
    return CriticalPath({item.key: total_float[item.key] for item in items}, critical, project_end)


# Random plans: not settled (constraints may already be broken), days off included, lags from long leads to long lags.

lags = st.one_of(st.integers(-5, 10), st.sampled_from([-250, -60, 40, 250]))
windows = st.tuples(st.integers(0, 100), st.integers(0, 12)).map(
    lambda pair: (ANCHOR + timedelta(days=pair[0]), ANCHOR + timedelta(days=pair[0] + pair[1]))
)


@st.composite
def plans(draw, max_items=8):
    count = draw(st.integers(min_value=1, max_value=max_items))
    items = []
    for key in range(count):
        start = ANCHOR + timedelta(days=draw(st.integers(-10, 100)))
        items.append(
            Item(
                f"i{key}",
                start,
                start + timedelta(days=draw(st.integers(0, 25))),
                draw(st.sampled_from(CALENDARS)),
                fixed=draw(st.integers(0, 4)) == 0,
                blackouts=tuple(draw(st.lists(windows, min_size=1, max_size=4))) if draw(st.booleans()) else (),
            )
        )
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)).filter(lambda pair: pair[0] != pair[1])
    edges = draw(st.lists(st.tuples(pairs, st.sampled_from(KINDS), lags), max_size=2 * count, unique_by=lambda e: e[0]))
    deps = [Dependency(f"i{min(pair)}", f"i{max(pair)}", kind, lag) for pair, kind, lag in edges]
    movable = [item for item in items if not item.fixed]
    chosen = draw(st.lists(st.sampled_from(movable), unique_by=lambda i: i.key, max_size=4)) if movable else []
    changes = {item.key: item.start + timedelta(days=draw(st.integers(-30, 60))) for item in chosen}
    for position, item in enumerate(items):  # a window around some requested starts, so that many examples postpone
        if item.key in changes and draw(st.booleans()):
            window = (changes[item.key] - timedelta(days=draw(st.integers(0, 3))), changes[item.key] + ONE_DAY * 4)
            items[position] = replace(item, blackouts=(*item.blackouts, window))
    return draw(st.permutations(items)), deps, changes


@PROPERTY
@given(plans())
def test_propagate_equals_the_straightforward_computation(plan):
    items, deps, changes = plan
    assert propagate(items, deps, changes) == ref_propagate(items, deps, changes)


@PROPERTY
@given(plans(), st.one_of(st.none(), st.integers(-20, 150).map(lambda days: ANCHOR + timedelta(days=days))))
def test_critical_path_equals_the_straightforward_computation(plan, project_end):
    items, deps, _ = plan
    assert critical_path(items, deps, project_end) == ref_critical_path(items, deps, project_end)


@PROPERTY
@given(st.data())
def test_check_acyclic_names_the_cycle_propagate_names(data):
    count = data.draw(st.integers(1, 6))
    items = [Item(key, ANCHOR, ANCHOR) for key in range(count)]
    pairs = data.draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=8))
    deps = [Dependency(pred, succ) for pred, succ in pairs]
    try:
        propagate(items, deps, {})
    except CycleError as error:
        with pytest.raises(CycleError) as caught:
            check_acyclic(range(count), deps)
        assert caught.value.cycle == error.cycle
        assert str(caught.value) == str(error)
    else:
        assert check_acyclic(range(count), deps) is None


# Pushes, leads and deadlines beyond the span the engine first reads off the calendars


def test_pushes_far_past_the_plan_are_worked_out_not_refused():
    england = CALENDARS[1]
    items = [Item(key, ANCHOR, ANCHOR, england) for key in range(12)]  # all on one day: each FS +250 is broken
    deps = [Dependency(key, key + 1, "FS", 250) for key in range(11)]
    result = propagate(items, deps, {0: ANCHOR + ONE_DAY})
    assert result == ref_propagate(items, deps, {0: ANCHOR + ONE_DAY})
    assert result.dates[11][0].year == 2037  # eleven years of English working days later


def test_a_long_lead_and_a_late_deadline_reach_before_and_after_the_plan():
    items = [Item("A", ANCHOR, ANCHOR + timedelta(days=30)), Item("B", ANCHOR, ANCHOR + timedelta(days=700))]
    deps = [Dependency("A", "B", "FF", -250)]  # B's earliest start lies long before the plan
    changes = {"A": ANCHOR + timedelta(days=3)}
    assert propagate(items, deps, changes) == ref_propagate(items, deps, changes)
    deadline = date(2045, 6, 30)
    assert critical_path(items, deps, deadline) == ref_critical_path(items, deps, deadline)


def test_the_end_of_the_supported_range_is_a_clear_error():
    items = [Item("A", date(9999, 12, 1), date(9999, 12, 3)), Item("B", date(9999, 12, 20), date(9999, 12, 20))]
    with pytest.raises(ValueError, match="supported date range"):
        propagate(items, [Dependency("A", "B", "FS", 250)], {"A": date(9999, 12, 2)})


def test_the_working_day_mask_agrees_with_is_working_day():
    first = date(2026, 12, 1)
    for calendar in CALENDARS:
        mask = calendar.working_day_mask(first, first + timedelta(days=60))
        assert mask.tolist() == [calendar.is_working_day(first + timedelta(days=i)) for i in range(61)]
    with pytest.raises(ValueError, match="ends"):
        STANDARD.working_day_mask(first, first - ONE_DAY)
