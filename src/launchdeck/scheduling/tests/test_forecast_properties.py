"""Property tests of the Monte Carlo forecast on random small DAGs, against the engine and a day-by-day reference."""

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import KINDS, Dependency, Item, propagate
from launchdeck.scheduling.forecast import monte_carlo
from launchdeck.scheduling.tests.reference import ref_end, ref_next, ref_previous, ref_step

PROPERTY = settings(max_examples=100, deadline=None, database=None)
ANCHOR = date(2026, 11, 2)  # a Monday
CALENDARS = [
    STANDARD,
    WorkingCalendar(weekend=frozenset({4, 5})),  # Sunday to Thursday
    WorkingCalendar(closures=((date(2026, 11, 18), date(2026, 11, 24), "Freeze"),)),
]
ONE_DAY = timedelta(days=1)
RUNS = 60


def ref_duration(calendar: WorkingCalendar, start: date, end: date) -> int:
    return max(1, sum(calendar.is_working_day(start + ONE_DAY * n) for n in range((end - start).days + 1)))


def ref_earliest(calendar: WorkingCalendar, duration: int, dependency: Dependency, pred: tuple[date, date]) -> date:
    """The earliest start of a `duration`-day successor that meets `dependency`, by the engine's definitions."""
    start, end = pred
    anchor = {"FS": end + ONE_DAY, "SS": start, "FF": end, "SF": start}[dependency.kind]
    bound = ref_step(calendar, ref_next(calendar, anchor), dependency.lag)
    if dependency.kind in ("FS", "SS"):
        return bound
    for _ in range(duration - 1):
        bound = ref_previous(calendar, bound - ONE_DAY)
    return bound


def ref_postpone(item: Item, start: date) -> date:
    """Past the blackout holding `start` that ends last, to the next working day, while there is one."""
    while hits := [last for first, last in item.blackouts if first <= start <= last]:
        start = ref_next(item.calendar, max(hits) + ONE_DAY)
    return start


def ref_run(items: list[Item], deps: list[Dependency], ratio: dict[int, float]) -> dict[int, tuple[date, date]]:
    """One run with one ratio per item (keys are 0..n-1 in topological order), item by item, day by day."""
    dates: dict[int, tuple[date, date]] = {}
    for item in items:
        calendar, planned = item.calendar, ref_duration(item.calendar, item.start, item.end)
        if item.fixed:
            dates[item.key] = (item.start, item.end)
            continue
        duration = planned if item.start == item.end else max(1, round(planned * ratio.get(item.key, 1.0)))
        start = item.start
        for dependency in deps:
            if dependency.successor == item.key:
                start = max(start, ref_earliest(calendar, duration, dependency, dates[dependency.predecessor]))
        if start != item.start:
            start = ref_postpone(item, start)
        moved = start != item.start or duration != planned
        dates[item.key] = (start, ref_end(calendar, start, duration) if moved else item.end)
    return dates


@st.composite
def plans(draw, *, days_off: bool, settled: bool, blackouts: bool = True, max_items: int = 7):
    """Items 0..n-1 on one calendar (edges only from lower to higher keys, so a DAG), some with blackouts.

    With `days_off` an item's planned start and end may fall on days off; with `settled` every constraint into a
    non-fixed item holds (fixed items sit where they were drawn, so constraints into them may be broken).
    """
    count = draw(st.integers(min_value=1, max_value=max_items))
    calendar = draw(st.sampled_from(CALENDARS))
    pairs = st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)).filter(lambda pair: pair[0] != pair[1])
    edges = draw(
        st.lists(st.tuples(pairs, st.sampled_from(KINDS), st.integers(min_value=-2, max_value=3)), max_size=2 * count)
    )
    deps = [Dependency(min(pair), max(pair), kind, lag) for pair, kind, lag in edges]
    items: list[Item] = []
    dates: dict[int, tuple[date, date]] = {}
    for key in range(count):
        fixed = draw(st.integers(0, 4)) == 0
        start = ANCHOR + timedelta(days=draw(st.integers(0, 20)))
        if days_off:
            end = start + timedelta(days=draw(st.integers(0, 8)))
        else:
            start = ref_next(calendar, start)
            end = ref_end(calendar, start, draw(st.integers(min_value=1, max_value=5)))
        if settled and not fixed:
            duration = ref_duration(calendar, start, end)
            earliest = [ref_earliest(calendar, duration, d, dates[d.predecessor]) for d in deps if d.successor == key]
            if earliest and max(earliest) > start:
                start = max(earliest)
                end = ref_end(calendar, start, duration)
        dates[key] = (start, end)
        drawn = draw(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), max_size=2 if blackouts else 0))
        windows = tuple((ANCHOR + ONE_DAY * first, ANCHOR + ONE_DAY * (first + length)) for first, length in drawn)
        items.append(Item(key, start, end, calendar, fixed, blackouts=windows))
    return items, deps


@PROPERTY
@given(st.data())
def test_with_every_ratio_one_the_forecast_gives_the_engines_propagated_dates_on_a_settled_plan(data):
    items, deps = data.draw(plans(days_off=True, settled=True))
    ones = {item.key: [1.0] for item in items if data.draw(st.booleans())}
    unchanged = monte_carlo(items, deps, ones, runs=RUNS)
    for key, (_, end) in propagate(items, deps, {}).dates.items():
        assert (unchanged[key].p50, unchanged[key].p85, unchanged[key].probability_on_time) == (end, end, 1.0)

    # A change moves an item; the forecast of the plan with that item on its new dates matches the engine's push
    # (and its postponements past blackouts). The changed item has none: the engine would postpone a change too.
    movable = [item for item in items if not item.fixed and not item.blackouts]
    if not movable:
        return
    item = data.draw(st.sampled_from(movable))
    new_start = item.start + timedelta(days=data.draw(st.integers(-10, 15)))
    result = propagate(items, deps, {item.key: new_start})
    if new_start != item.start:
        start = item.calendar.next_working_day(new_start)
        items[item.key] = Item(item.key, start, item.calendar.working_end(start, item.duration), item.calendar)
    forecast = monte_carlo(items, deps, ones, runs=RUNS)
    for key, (_, end) in result.dates.items():
        assert forecast[key].p50 == forecast[key].p85 == end
        assert forecast[key].probability_on_time == (1.0 if end <= items[key].end else 0.0)


@PROPERTY
@given(st.data())
def test_with_one_ratio_per_item_every_run_matches_a_day_by_day_reference(data):
    items, deps = data.draw(plans(days_off=data.draw(st.booleans()), settled=False))
    ratio = {item.key: data.draw(st.sampled_from([0.3, 0.5, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0])) for item in items}
    forecast = monte_carlo(items, deps, {key: [value] for key, value in ratio.items()}, runs=RUNS)
    reference = ref_run(items, deps, ratio)
    for item in items:
        _, end = reference[item.key]
        assert forecast[item.key].p50 == forecast[item.key].p85 == end
        assert forecast[item.key].probability_on_time == (1.0 if end <= item.end else 0.0)
        assert forecast[item.key].planned_end == item.end


@PROPERTY
@given(st.data())
def test_with_every_ratio_at_least_one_nothing_ends_earlier_than_planned(data):
    items, deps = data.draw(plans(days_off=False, settled=data.draw(st.booleans())))
    lists = st.lists(st.floats(min_value=1.0, max_value=3.0), min_size=1, max_size=6)
    ratios = {item.key: data.draw(lists) for item in items}
    forecast = monte_carlo(items, deps, ratios, runs=RUNS, seed=data.draw(st.integers(0, 2**32)))
    for item in items:
        result = forecast[item.key]
        assert item.end <= result.p50 <= result.p85
        if item.fixed:
            assert (result.p50, result.p85, result.probability_on_time) == (item.end, item.end, 1.0)


@PROPERTY
@given(st.data())
def test_the_percentiles_lie_between_the_runs_with_the_least_and_the_greatest_ratios(data):
    # Only start-bound kinds and no blackouts: a shorter item held by its end (FF, SF) starts later, and so may its
    # successors; with a blackout a later start can land inside it and end later still.
    items, deps = data.draw(plans(days_off=False, settled=data.draw(st.booleans()), blackouts=False))
    deps = [dependency for dependency in deps if dependency.kind in ("FS", "SS")]
    lists = st.lists(st.sampled_from([0.5, 0.8, 1.0, 1.2, 1.5, 2.5]), min_size=1, max_size=5)
    ratios = {item.key: data.draw(lists) for item in items}
    runs = data.draw(st.integers(1, 200))
    forecast = monte_carlo(items, deps, ratios, runs=runs, seed=data.draw(st.integers(0, 1000)))
    fastest = ref_run(items, deps, {key: min(values) for key, values in ratios.items()})
    slowest = ref_run(items, deps, {key: max(values) for key, values in ratios.items()})
    for item in items:
        result = forecast[item.key]
        assert fastest[item.key][1] <= result.p50 <= result.p85 <= slowest[item.key][1]
        # P50 on or before the planned end exactly when at least half the runs are on time; P85 likewise.
        assert (result.p50 <= item.end) == (result.probability_on_time >= 0.5)
        assert (result.p85 <= item.end) == (result.probability_on_time >= 0.85)
        assert abs(result.probability_on_time * runs - round(result.probability_on_time * runs)) < 1e-9


@PROPERTY
@given(st.data())
def test_the_forecast_does_not_depend_on_the_order_of_the_dependencies(data):
    items, deps = data.draw(plans(days_off=True, settled=False))
    ratios = {item.key: [0.8, 1.0, 1.7] for item in items}
    shuffled = data.draw(st.permutations(deps))
    assert monte_carlo(items, shuffled, ratios, runs=RUNS) == monte_carlo(items, deps, ratios, runs=RUNS)
