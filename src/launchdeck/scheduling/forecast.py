"""Monte Carlo forecast of a plan's end dates from the history of how long work really took.

Plain data in, plain data out, like the engine: `Item` and `Dependency` values and, per item, the actual/planned
duration ratios of comparable finished work go in; a `Forecast` per item (P50 and P85 end dates, the probability of
ending on or before the planned end) comes out. The module imports nothing from Django or the apps (numpy only).

How one run goes, in one place:

- Each item with ratios draws one of them, uniformly from its historical values (a bootstrap of the empirical
  distribution), and lasts max(1, round(planned working days x ratio)) working days (round half to even). An item
  without ratios (or with an empty sequence) keeps its planned duration; a point item (start == end, a milestone)
  keeps its one day and ignores any ratio; a `fixed` item keeps its dates and is not sampled.
- The run then walks the items in topological order with the engine's push semantics and dependency kinds (FS, SS,
  FF, SF with lags; see `launchdeck.scheduling.engine`): an item starts at the later of its planned start and every
  constraint from its predecessors, never earlier than planned, and keeps its sampled duration. An item that is
  neither pushed nor resized keeps its planned dates exactly. Every item is reconsidered, so a constraint the plan
  already broke is repaired the way the engine's critical-path forward pass settles a plan; on a settled plan with
  every ratio 1.0 each run gives the planned dates, and a changed item gives what `engine.propagate` gives.
- With `not_before` (a date: today, for a plan under way) nothing that is not fixed starts before the first working
  day on or after it, as if every such item were pushed there: it keeps its sampled duration, its successors
  follow, and its planned end (what on time is measured against) stays as planned.
- Over all runs, P50 and P85 are the smallest end dates that at least 50% and 85% of the runs end on or before (the
  inverted empirical distribution function, so both are dates some run really reached), and the probability on time
  is the share of runs that end on or before the item's planned end.

Runs are vectorised: the items are visited once, in topological order, each step working on arrays of one value per
run. Dates are handled as working-day indexes of ONE calendar, the first item's, converted once on the way in and
once on the way out; they are counted in half-steps (working day n is 2n, a day off just before it 2n - 1) so that a
planned date on a day off is kept exactly, as the engine keeps it. This is exact when every item shares the calendar
(a release and its contents, a train whose releases share a calendar); for a plan that mixes calendars it is an
approximation: durations and lags of items on other calendars are counted on the first item's calendar.

Bad input raises: `engine.CycleError` (a `ValueError`) naming the cycle, `ValueError` for unknown or duplicate keys
(in the items, the dependencies, `ratios` or `keys`), ratios that are not positive finite numbers, or a number of runs
outside 1..`MAX_RUNS`; `TypeError` for values of the wrong type.
"""

import heapq
import math
import numbers
import operator
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from launchdeck.scheduling.engine import RULES, CycleError, Dependency, Item

MAX_RUNS = 100_000
"""The most runs one forecast may ask for."""

_PERCENTILES = (50, 85)  # P50 and P85


@dataclass(frozen=True)
class Forecast:
    """An item's forecast end: the P50 and P85 dates, the share of runs on time, and the planned end it is held to."""

    p50: date
    p85: date
    probability_on_time: float
    planned_end: date


def monte_carlo(
    items: Iterable[Item],
    dependencies: Iterable[Dependency],
    ratios: Mapping[Hashable, Sequence[float]],
    *,
    runs: int = 10_000,
    seed: int = 0,
    keys: Iterable[Hashable] | None = None,
    not_before: date | None = None,
) -> dict[Hashable, Forecast]:
    """Forecast the end of every item in `keys` (default: all, in the items' order) over `runs` sampled plans.

    `ratios` maps an item's key to its historical actual/planned duration ratios (positive finite numbers).
    `not_before`: no item that is not fixed starts before the first working day on or after this date (on the
    forecast's calendar); give today, so that nothing unfinished is forecast to happen in the past. The result is the
    same for the same items (in the same order), dependencies (in any order), ratios, runs, seed (numpy's PCG64
    generator, on the same numpy version) and `not_before`.
    """
    items = list(items)
    runs = _check_count(runs, "runs", 1, MAX_RUNS)
    seed = _check_count(seed, "seed", 0, None)
    if not_before is not None and (not isinstance(not_before, date) or isinstance(not_before, datetime)):
        raise TypeError(f"not_before must be a date; got {not_before!r}.")
    index = _index_items(items)
    preds, succ_counts = _adjacency(dependencies, index)
    order = _topological_order(items, preds, succ_counts)
    samples = _check_ratios(ratios, index)
    wanted = list(range(len(items))) if keys is None else _check_keys(keys, index)
    if not items:
        return {}

    calendar = items[0].calendar
    origin = calendar.previous_working_day(min(item.start for item in items))
    floor = None  # the first working day anything unfinished may start on, in half-steps
    if not_before is not None and (first_day := calendar.next_working_day(not_before)) > origin:
        floor = _half_steps(calendar, origin, [first_day])[0]
    walk = _Walk(items, preds, samples, calendar, origin, np.random.Generator(np.random.PCG64(seed)), runs, floor)
    wanted_set = set(wanted)
    waiting = list(succ_counts)
    quantiles: dict[int, tuple[int, int, float]] = {}
    for i in order:
        walk.step(i)
        if i in wanted_set:
            quantiles[i] = _summary(walk.ends[i], walk.planned_ends[i], runs)
        # An item's run arrays are kept only while a successor still needs them.
        for pred, _, _ in preds[i]:
            waiting[pred] -= 1
        for done in (i, *(pred for pred, _, _ in preds[i])):
            if not waiting[done]:
                walk.starts[done] = walk.ends[done] = None

    dates = _dates(calendar, origin, {h for p50, p85, _ in quantiles.values() for h in (p50, p85) if h % 2 == 0})
    forecasts = {}
    for i in wanted:
        item = items[i]
        p50, p85, on_time = quantiles[i]
        forecasts[item.key] = Forecast(
            p50=item.end if p50 == walk.planned_ends[i] else dates[p50],
            p85=item.end if p85 == walk.planned_ends[i] else dates[p85],
            probability_on_time=on_time,
            planned_end=item.end,
        )
    return forecasts


@dataclass(frozen=True)
class RatioSamples:
    """Historical ratios pooled per kind (all teams) and per (kind, team) where a team has enough history of its own."""

    by_kind: Mapping[Hashable, tuple[float, ...]]
    by_team: Mapping[tuple[Hashable, Hashable], tuple[float, ...]]
    min_samples: int

    def lookup(self, kind: Hashable, team: Hashable = None) -> tuple[tuple[float, ...], str]:
        """The ratios for work of `kind` by `team` and their basis: "team", else "kind" (all teams), else "none"."""
        if (kind, team) in self.by_team:
            return self.by_team[kind, team], "team"
        if kind in self.by_kind:
            return self.by_kind[kind], "kind"
        return (), "none"


def ratio_samples(history: Iterable[tuple[Hashable, Hashable, float]], *, min_samples: int = 20) -> RatioSamples:
    """Pool (kind, team, ratio) records: a team's own ratios where it has `min_samples` of a kind, else the kind's."""
    min_samples = _check_count(min_samples, "min_samples", 1, None)
    by_kind: dict[Hashable, list[float]] = {}
    by_team: dict[tuple[Hashable, Hashable], list[float]] = {}
    for record in history:
        kind, team, ratio = record
        if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real) or not math.isfinite(ratio) or ratio <= 0:
            raise ValueError(f"A duration ratio is a positive finite number; got {ratio!r} for {kind!r} ({team!r}).")
        by_kind.setdefault(kind, []).append(float(ratio))
        if team is not None:
            by_team.setdefault((kind, team), []).append(float(ratio))
    return RatioSamples(
        by_kind={kind: tuple(values) for kind, values in by_kind.items()},
        by_team={group: tuple(values) for group, values in by_team.items() if len(values) >= min_samples},
        min_samples=min_samples,
    )


class _Walk:
    """The plan in half-steps from `origin` (working day n is 2n, a day off just before it 2n - 1) and, while the
    items are walked in topological order, each item's start and end in every run: an int where every run agrees,
    else an int32 array of one value per run."""

    def __init__(
        self, items, preds, samples, calendar, origin: date, rng: np.random.Generator, runs: int, floor: int | None
    ) -> None:
        self.items, self.preds, self.samples, self.rng, self.runs = items, preds, samples, rng, runs
        self.floor = floor
        self.planned_starts = _half_steps(calendar, origin, [item.start for item in items])
        self.planned_ends = _half_steps(calendar, origin, [item.end for item in items])
        self.durations = _durations(calendar, items)
        self.windows = _windows(calendar, origin, items)
        self.starts: list = [None] * len(items)
        self.ends: list = [None] * len(items)

    def step(self, i: int) -> None:
        """Work out item `i`'s start and end in every run, its predecessors' being known."""
        item, duration = self.items[i], self.durations[i]
        planned_start, planned_end = self.planned_starts[i], self.planned_ends[i]
        if item.fixed:
            self.starts[i], self.ends[i] = planned_start, planned_end
            return
        sample = self.samples.get(i)
        if sample is not None and item.start != item.end:
            # Draw a ratio per run; the half-steps each ratio adds beyond the first day are worked out once.
            lengths = np.maximum(1, np.rint(duration * sample)).astype(np.int32)
            pick = self.rng.integers(0, lengths.size, size=self.runs, dtype=np.int32)
            steps = (2 * (lengths - 1)).take(pick)
        else:
            lengths = pick = None
            steps = 2 * (duration - 1)

        start = planned_start
        end_bound = None  # the earliest day the item's end may fall on, if any constraint bounds the end
        for pred, kind, lag in self.preds[i]:
            rule = RULES[kind]  # the engine's definition of the kind
            if rule.from_end:
                value, planned = self.ends[pred], self.planned_ends[pred]
            else:
                value, planned = self.starts[pred], self.planned_starts[pred]
            # Count the lag from the predecessor's day (FS: the day after its last) rolled onto a working day; its
            # value can be a day off only where it kept a planned day off, so most need no rolling.
            after = rule.day_after
            bound = value + 2 * (lag + after) if planned % 2 == 0 else _next(value + after) + 2 * lag
            if rule.on_end:
                end_bound = bound if end_bound is None else np.maximum(end_bound, bound)
            else:
                start = np.maximum(start, bound)
        if end_bound is not None:
            start = np.maximum(start, end_bound - steps)
        if self.floor is not None:
            start = np.maximum(start, self.floor)
        # A start pushed into a blackout is postponed past it. Windows in order of their first day: a postponement
        # only ever lands in a window that comes later.
        for first, last in self.windows.get(i, ()):
            start = np.where((start > planned_start) & (start >= first) & (start <= last), _next(last + 1), start)

        if planned_start % 2 == 0 and planned_end == planned_start + 2 * (duration - 1):
            end = start + steps  # planned on working days: the end follows the start
        else:
            # Planned on a day off: an item neither pushed nor resized keeps its dates exactly, as in the engine.
            resized = False if lengths is None else (lengths != duration).take(pick)
            end = np.where((start != planned_start) | resized, _next(start) + steps, planned_end)
        self.starts[i], self.ends[i] = _plain(start), _plain(end)


def _next(half_steps):
    """The first working day on or after a day, in half-steps (working days are even, days off odd)."""
    return half_steps + (half_steps & 1)


def _plain(value):
    """An int for a value every run agrees on (a constant or a 0-d array), else the int32 array itself."""
    if isinstance(value, np.ndarray) and value.ndim:
        return value
    return int(value)


def _summary(end, planned_end: int, runs: int) -> tuple[int, int, float]:
    """P50 and P85 of the end over the runs (the least values that many runs end on or before), the on-time share."""
    if np.ndim(end) == 0:
        return end, end, 1.0 if end <= planned_end else 0.0
    # The smallest value at least ceil(p% of runs) runs end on or before, in whole numbers (0.85 * 100 is not 85).
    needed = [-(-percent * runs // 100) for percent in _PERCENTILES]
    if end.max() > 8 * runs + 4096:  # ends years after the plan's start, few runs: select rather than count
        ordered = np.partition(end, sorted({k - 1 for k in needed}))
        p50, p85 = (int(ordered[k - 1]) for k in needed)
        return p50, p85, int(np.count_nonzero(end <= planned_end)) / runs
    # Counting the runs that end on each day is faster than selecting (every value is 0 or more).
    cumulative = np.bincount(end).cumsum()
    p50, p85 = cumulative.searchsorted(needed).tolist()
    return p50, p85, int(cumulative[min(planned_end, cumulative.size - 1)]) / runs


def _half_steps(calendar, origin: date, days: list[date]) -> list[int]:
    """Days as half-steps from `origin` (a working day) on `calendar`: working day n is 2n, a day off before it 2n-1."""
    days = np.array(days, dtype="datetime64[D]")
    before = calendar.working_days_between_many(np.full(days.shape, np.datetime64(origin)), days)
    working = calendar.working_days_between_many(days, days + 1)
    return (2 * before - 1 + working).tolist()


def _durations(calendar, items: list[Item]) -> list[int]:
    """Planned working days of every item on the forecast's calendar, both ends included; at least one."""
    first = np.array([item.start for item in items], dtype="datetime64[D]")
    last = np.array([item.end for item in items], dtype="datetime64[D]")
    return np.maximum(1, calendar.working_days_between_many(first, last + 1)).tolist()


def _windows(calendar, origin: date, items: list[Item]) -> dict[int, list[tuple[int, int]]]:
    """The blackouts of every item that may move, as (first, last) half-steps sorted by their first day."""
    owners = [(i, window) for i, item in enumerate(items) if not item.fixed for window in sorted(item.blackouts)]
    if not owners:
        return {}
    firsts = _half_steps(calendar, origin, [first for _, (first, _) in owners])
    lasts = _half_steps(calendar, origin, [last for _, (_, last) in owners])
    windows: dict[int, list[tuple[int, int]]] = {}
    for (i, _), first, last in zip(owners, firsts, lasts, strict=True):
        windows.setdefault(i, []).append((first, last))
    return windows


def _dates(calendar, origin: date, half_steps: set[int]) -> dict[int, date]:
    """Working days, given as even half-steps from `origin`, back as dates."""
    return {h: calendar.add_working_days(origin, h // 2) for h in sorted(half_steps)}


def _index_items(items: list[Item]) -> dict[Hashable, int]:
    index: dict[Hashable, int] = {}
    for position, item in enumerate(items):
        if not isinstance(item, Item):
            raise TypeError(f"Expected an Item; got {item!r}.")
        if item.key in index:
            raise ValueError(f"Two items share the key {item.key!r}.")
        index[item.key] = position
    return index


def _position(index: dict[Hashable, int], key: object) -> int | None:
    try:
        return index.get(key)
    except TypeError:  # unhashable: no item's key
        return None


def _lookup(index: dict[Hashable, int], key: Hashable, where: str) -> int:
    position = _position(index, key)
    if position is None:
        raise ValueError(f"Unknown item {key!r} in {where}.")
    return position


def _adjacency(
    dependencies: Iterable[Dependency], index: dict[Hashable, int]
) -> tuple[list[list[tuple[int, str, int]]], list[int]]:
    """Per item, its (predecessor, kind, lag) constraints; and per item, how many constraints it is the source of."""
    preds: list[list[tuple[int, str, int]]] = [[] for _ in index]
    succ_counts = [0] * len(index)
    for dependency in dependencies:
        if not isinstance(dependency, Dependency):
            raise TypeError(f"Expected a Dependency; got {dependency!r}.")
        pred, succ = _position(index, dependency.predecessor), _position(index, dependency.successor)
        if pred is None or succ is None:
            unknown = dependency.predecessor if pred is None else dependency.successor
            raise ValueError(f"Unknown item {unknown!r} in dependency {dependency}.")
        preds[succ].append((pred, dependency.kind, dependency.lag))
        succ_counts[pred] += 1
    return preds, succ_counts


def _topological_order(items: list[Item], preds: list[list[tuple[int, str, int]]], succ_counts: list[int]) -> list[int]:
    """Kahn's order of the items, always taking the first ready item in the items' order, so that the order (and with
    it the order of the random draws) does not depend on the order of the dependencies. A cycle raises `CycleError`
    naming it."""
    succs: list[list[int]] = [[] for _ in items]
    indegree = [len(constraints) for constraints in preds]
    for succ, constraints in enumerate(preds):
        for pred, _, _ in constraints:
            succs[pred].append(succ)
    ready = [i for i, degree in enumerate(indegree) if degree == 0]  # ascending: already a heap
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for succ in succs[i]:
            indegree[succ] -= 1
            if not indegree[succ]:
                heapq.heappush(ready, succ)
    if len(order) == len(items):
        return order
    # Walk backwards from an item left over: every one of them has a left-over predecessor, so the walk loops.
    left = {i for i, degree in enumerate(indegree) if degree}
    seen: dict[int, int] = {}
    walk: list[int] = []
    i = min(left)
    while i not in seen:
        seen[i] = len(walk)
        walk.append(i)
        i = min(pred for pred, _, _ in preds[i] if pred in left)
    loop = walk[seen[i] :][::-1]
    first = loop.index(min(loop))
    loop = loop[first:] + loop[:first]
    raise CycleError(items[i].key for i in [*loop, loop[0]])


def _check_ratios(ratios: Mapping[Hashable, Sequence[float]], index: dict[Hashable, int]) -> dict[int, np.ndarray]:
    """Each item's ratios as a float array, refusing unknown keys and anything but positive finite numbers."""
    if not isinstance(ratios, Mapping):
        raise TypeError(f"ratios maps item keys to sequences of ratios; got {type(ratios).__name__}.")
    samples = {}
    for key, values in ratios.items():
        i = _lookup(index, key, "ratios")
        try:
            raw = np.asarray(values)
            if isinstance(values, str | bytes | Mapping) or raw.ndim != 1:
                raise ValueError
            if raw.size == 0:
                continue  # no history: the item keeps its planned duration
            if raw.dtype.kind not in "iufO":  # not booleans, strings or dates
                raise ValueError
            array = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"The ratios of {key!r} must be a flat sequence of numbers; got {values!r}.") from None
        bad = ~np.isfinite(array) | (array <= 0)
        if bad.any():
            value = raw[np.argmax(bad)]
            value = value.item() if isinstance(value, np.generic) else value
            raise ValueError(f"The ratios of {key!r} must be positive finite numbers; got {value!r} among them.")
        samples[i] = array
    return samples


def _check_keys(keys: Iterable[Hashable], index: dict[Hashable, int]) -> list[int]:
    if isinstance(keys, str | bytes):
        raise TypeError(f"keys is an iterable of item keys, not one key; got {keys!r}.")
    return list(dict.fromkeys(_lookup(index, key, "keys") for key in keys))


def _check_count(value: object, label: str, lowest: int, highest: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{label} must be a whole number; got {value!r}.")
    value = operator.index(value)
    if value < lowest or (highest is not None and value > highest):
        limit = f"from {lowest:,} to {highest:,}" if highest is not None else f"at least {lowest}"
        raise ValueError(f"{label} must be {limit}; got {value:,}.")
    return value
