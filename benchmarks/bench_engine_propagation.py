"""Schedule engine propagation against a straightforward networkx implementation of the same propagation.

Data: a deterministic random plan of 100,000 items (phases of 3 to 40 working days and milestones) and 200,000
dependencies (FS, SS, FF, SF with lags and leads; mostly between items starting up to five months apart, some across
the plan) on five calendars (Monday to Friday; England and Bavaria with their public holidays; a Sunday-to-Thursday
week; a US calendar with a year-end closure), laid out over 2026 to 2028 with lags that hold, 30% of them exactly (no
slack); 1% of the items are fixed and 3% of the milestones carry quarterly freezes as blackouts. Two scenarios on it:
five items early in the plan slip by 10 to 30 working days (a few thousand items move), then five late in the plan
(a handful move). For each, `propagate` and the reference (nx.DiGraph, nx.topological_sort, then for each node the
same push rule, postponement and violation check through `WorkingCalendar`'s public methods) must give the same dates
and violations; the script then times them in turns (one warm-up, `--runs` rounds) and prints both medians, wall and
CPU time, and their ratio. Target: ratio at most 0.5. Pure Python: no database (`--database-url` is ignored).
"""

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import networkx as nx

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import Dependency, Item, propagate

ITEMS = 100_000
DEPENDENCIES = 200_000
FIRST_DAY = date(2026, 1, 5)
PLAN_DAYS = 3 * 365
SEED = 5
CALENDARS = [
    STANDARD,
    WorkingCalendar(country="GB", subdivision="ENG"),
    WorkingCalendar(country="DE", subdivision="BY"),
    WorkingCalendar(weekend=frozenset({4, 5})),
    WorkingCalendar(country="US", closures=((date(2026, 12, 24), date(2027, 1, 1), "Year-end closure"),)),
]
FREEZES = [
    window
    for year in (2026, 2027, 2028, 2029)
    for window in (
        (date(year, 3, 27), date(year, 4, 2)),
        (date(year, 6, 26), date(year, 7, 2)),
        (date(year, 9, 25), date(year, 10, 1)),
        (date(year, 12, 18), date(year + 1, 1, 4)),
    )
]
ONE_DAY = timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="Ignored: the engine is pure Python and needs no database.")
    parser.add_argument("--runs", type=int, default=7, help="Timed repetitions of each after one warm-up.")
    args = parser.parse_args()

    rng = random.Random(SEED)
    items, dependencies, order = build_plan(rng)
    print(
        f"data: {len(items):,} items, {len(dependencies):,} dependencies, {len(CALENDARS)} calendars, "
        f"{sum(item.fixed for item in items):,} fixed, {sum(bool(item.blackouts) for item in items):,} with "
        f"blackouts; {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    # Early in the plan a slip reaches most of what follows; late in the plan it reaches little.
    for where, positions in (("early", range(ITEMS // 50)), ("late", range(ITEMS - ITEMS // 50, ITEMS))):
        changes = slips(rng, [items[order[position]] for position in positions])
        ours = propagate(items, dependencies, changes)
        dates, violated = reference_propagate(items, dependencies, changes)
        assert ours.dates == dates, "the engine and the reference disagree on some dates"
        assert {violation.dependency for violation in ours.violations} == violated, "they disagree on the violations"
        print(
            f"{len(changes)} slips {where} in the plan move {len(ours.moved):,} items ({len(ours.postponed):,} "
            f"postponed past a freeze) and break {len(ours.violations):,} dependencies into fixed items"
        )
        medians = time_alternately(
            {
                f"propagate, {where} slips (engine)": lambda c=changes: propagate(items, dependencies, c),
                f"propagate, {where} slips (networkx reference)": lambda c=changes: reference_propagate(
                    items, dependencies, c
                ),
            },
            runs=args.runs,
        )
        (engine, engine_cpu), (reference, reference_cpu) = medians.values()
        print(
            f"ratio engine / networkx reference, {where} slips: {engine / reference:.3f} wall, "
            f"{engine_cpu / reference_cpu:.3f} CPU (target at most 0.5)"
        )


def slips(rng: random.Random, candidates: list[Item]) -> dict[int, date]:
    """Five of the candidates, not fixed, slipped by 10 to 30 working days."""
    chosen = [item for item in rng.sample(candidates, 10) if not item.fixed][:5]
    return {item.key: item.calendar.add_working_days(item.start, rng.randint(10, 30)) for item in chosen}


def time_alternately(calls: dict[str, Callable[[], object]], *, runs: int) -> dict[str, tuple[float, float]]:
    """Time each call `runs` times after one warm-up, taking turns so that both see the same load on the machine; print
    the median and P95 wall time and the median CPU time of each in milliseconds, and return the two medians."""
    wall: dict[str, list[float]] = {label: [] for label in calls}
    cpu: dict[str, list[float]] = {label: [] for label in calls}
    for round_ in range(runs + 1):
        for label, call in calls.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            if round_:  # round 0 is the warm-up
                wall[label].append((time.perf_counter() - started) * 1000)
                cpu[label].append((time.process_time() - started_cpu) * 1000)
    medians = {}
    for label in calls:
        timings = sorted(wall[label])
        medians[label] = (statistics.median(timings), statistics.median(cpu[label]))
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"{label:<48} median {medians[label][0]:>9.2f} ms   p95 {p95:>9.2f} ms   "
            f"CPU median {medians[label][1]:>9.2f} ms   ({runs} runs)"
        )
    return medians


def build_plan(rng: random.Random) -> tuple[list[Item], list[Dependency], list[int]]:
    """Items laid out along the plan's years (keys shuffled), dependencies from earlier to later items with lags that
    hold (some exactly, with no slack), some items fixed; and the keys in the order of the layout."""
    order = list(range(ITEMS))  # order[position] = key: the keys do not follow the topological order
    rng.shuffle(order)
    items: dict[int, Item] = {}
    for position, key in enumerate(order):
        calendar = rng.choice(CALENDARS)
        start = calendar.next_working_day(FIRST_DAY + timedelta(days=position * PLAN_DAYS // ITEMS))
        duration = 1 if rng.random() < 0.4 else rng.randint(3, 40)
        blackouts = tuple(FREEZES) if duration == 1 and rng.random() < 0.03 else ()
        end = calendar.working_end(start, duration)
        items[key] = Item(key, start, end, calendar, fixed=rng.random() < 0.01, blackouts=blackouts)

    # A predecessor starts up to about five months before its successor, now and then anywhere earlier in the plan.
    per_day = ITEMS / PLAN_DAYS
    pairs: set[tuple[int, int]] = set()
    dependencies = []
    while len(dependencies) < DEPENDENCIES:
        succ = rng.randrange(1, ITEMS)
        reach = succ if rng.random() < 0.05 else min(succ, int(per_day * rng.uniform(1, 150)) + 1)
        pred = succ - rng.randint(1, reach)
        if (pred, succ) in pairs:
            continue
        drawn = rng.choices(["FS", "SS", "FF", "SF"], weights=[60, 20, 15, 5])[0]
        wanted = 0 if rng.random() < 0.6 else rng.randint(-5, 10)
        tight = rng.random() < 0.3
        predecessor, successor = items[order[pred]], items[order[succ]]
        for kind in (drawn, "SS"):  # a kind that would need a long lead falls back to start-to-start
            largest = largest_lag(Dependency(predecessor.key, successor.key, kind), predecessor, successor)
            lag = largest if tight and largest <= 250 else min(wanted, largest)  # a tight one has no slack
            if lag >= -20:
                pairs.add((pred, succ))
                dependencies.append(Dependency(predecessor.key, successor.key, kind, lag))
                break
    rng.shuffle(dependencies)

    return [items[key] for key in sorted(items)], dependencies, order


def largest_lag(dependency: Dependency, predecessor: Item, successor: Item) -> int:
    """The largest lag with which `dependency` holds on the items' dates (negative: a lead is needed)."""
    target = successor.end if dependency.kind in ("FF", "SF") else successor.start
    day = bound(dependency, predecessor.start, predecessor.end, successor.calendar)  # with a lag of 0
    return successor.calendar.working_days_between(day, target)


def reference_propagate(items: list[Item], dependencies: list[Dependency], changes: dict) -> tuple[dict, set]:
    """The same propagation written plainly on networkx and WorkingCalendar: the dates and the broken dependencies."""
    graph = nx.DiGraph()
    for item in items:
        graph.add_node(item.key, item=item)
    for dependency in dependencies:
        graph.add_edge(dependency.predecessor, dependency.successor, dependency=dependency)
    dates = {item.key: (item.start, item.end) for item in items}
    changed = set()
    for key, new_start in changes.items():
        item = graph.nodes[key]["item"]
        if new_start == item.start:
            continue
        start = item.calendar.next_working_day(new_start)
        dates[key] = (start, item.calendar.working_end(start, item.duration))
        changed.add(key)

    moved = set()
    for key in nx.topological_sort(graph):
        item = graph.nodes[key]["item"]
        if item.fixed or not (key in changed or any(pred in moved for pred in graph.predecessors(key))):
            continue
        start = dates[key][0]
        for pred in graph.predecessors(key):
            dependency = graph.edges[pred, key]["dependency"]
            start = max(start, earliest_start(dependency, *dates[pred], item.calendar, item.duration))
        if start != dates[key][0]:
            dates[key] = (start, item.calendar.working_end(start, item.duration))
        if dates[key] != (item.start, item.end) and item.blackouts:
            while window := next((w for w in item.blackouts if w[0] <= start <= w[1]), None):
                start = item.calendar.next_working_day(window[1] + ONE_DAY)
            dates[key] = (start, item.calendar.working_end(start, item.duration))
        if dates[key] != (item.start, item.end):
            moved.add(key)

    violated = set()
    for pred, succ, dependency in graph.edges(data="dependency"):
        calendar = graph.nodes[succ]["item"].calendar
        on_end = dependency.kind in ("FF", "SF")
        if dates[succ][on_end] < bound(dependency, *dates[pred], calendar):
            violated.add(dependency)
    return dates, violated


def bound(dependency: Dependency, start: date, end: date, calendar: WorkingCalendar) -> date:
    """The day the successor's start (FS, SS) or end (FF, SF) may not precede, on the successor's calendar."""
    anchor = {"FS": end + ONE_DAY, "SS": start, "FF": end, "SF": start}[dependency.kind]
    return calendar.add_working_days(calendar.next_working_day(anchor), dependency.lag)


def earliest_start(dependency: Dependency, start: date, end: date, calendar: WorkingCalendar, duration: int) -> date:
    """The earliest start of a `duration`-day successor on `calendar` that meets `dependency`."""
    day = bound(dependency, start, end, calendar)
    return calendar.add_working_days(day, -(duration - 1)) if dependency.kind in ("FF", "SF") else day


if __name__ == "__main__":
    main()
