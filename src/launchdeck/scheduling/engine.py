"""The schedule engine: dependency propagation with push semantics, blackout windows, violations and the critical path.

Plain data in, plain data out: `Item` and `Dependency` values go in, a `Result` or a `CriticalPath` comes out. Like
the rest of `launchdeck.scheduling` the module imports nothing from Django or the apps.

What a working day is comes from `WorkingCalendar` alone (DESIGN rule 7). For speed the engine asks each distinct
calendar of a plan once which days of the plan's date range are working days (`WorkingCalendar.working_day_mask`)
and keeps the answer as two integer tables (day -> working days before it; working-day number -> day), so every step
below is a list lookup on day ordinals. A table grows when a push, a lag or a deadline reaches past it.

Semantics, in one place:

- An `Item` is a release, phase or milestone (a milestone has start == end). Its duration is the number of working
  days from start to end, both included, on its own calendar (at least one). A `fixed` item (an actual date) never
  moves. Its `blackouts` are windows (first day, last day, inclusive) in which it may not start.
- A `Dependency` constrains its successor, measured on the successor's calendar. With `next(d)` the first working day
  on or after `d` and `+ lag` a step of `lag` working days (negative for a lead):

  - FS: successor start >= next(predecessor end + 1 day) + lag   (it starts after the predecessor has finished)
  - SS: successor start >= next(predecessor start) + lag
  - FF: successor end   >= next(predecessor end) + lag
  - SF: successor end   >= next(predecessor start) + lag

- `propagate` first applies the changes: each changed item starts on the given date (rolled forward onto a working
  day) and keeps its duration. It then walks the items in topological order (Kahn; linear in items + dependencies)
  with push semantics: an item is reconsidered only if it was changed or one of its predecessors moved, and then it
  moves later only as far as its tightest constraint needs, keeping its duration. Slack absorbs smaller slips;
  nothing ever moves earlier because of propagation (only a change itself may move an item earlier); a changed item
  may be pushed later than asked if its own predecessors require it.
- Blackouts: when an item moves (changed or pushed, its dates now differ from the plan's) and its new start falls in
  one of its blackouts, it is postponed to the first working day after that window, again while that day lies in
  another window, keeping its duration; `Result.postponed` holds the last window it was pushed past. Its successors
  see the postponed dates. An item that does not move is never postponed, even if it already starts in a window (and
  a change postponed back onto the item's own dates is no move, so no postponement either).
- A fixed item is never moved: a constraint it would break is reported as a `Violation`, and so is any constraint that
  the plan already broke before the change and that nothing touched (it is not silently repaired).
- `Move.path` is the chain of keys that pushed an item, from the changed (or already out-of-line) item to the item
  itself; where two predecessors push equally far, the one that moved, then the one given first among the items, wins,
  so the result never depends on the order of the dependencies.
- `critical_path` runs a forward pass (the plan settled: every non-fixed item as early as its dates and constraints
  allow, never earlier than planned, postponed past its blackouts if that moved it) and a backward pass (every item as
  late as it can go without pushing anything past the project end or into a fixed item; a latest start is the item's
  own start or a working day in none of its blackouts, since a slip into a window lands after it). Total float is the
  working days between the two starts on the item's calendar: slipping an item by up to its float moves neither the
  project end nor a fixed item, slipping it by one working day more does. Critical items have a float of zero or less
  (less: a deadline or a fixed date already missed).
- `check_acyclic` is the cycle check alone, with no dates: it names the same cycle `propagate` would.
- Bad input raises: `CycleError` (a `ValueError`) naming the cycle's keys in order, `ValueError` for unknown or
  duplicate keys, unknown dependency kinds, malformed blackouts, a change to a fixed item, or a date (or a step of
  working days) outside the supported range of years 1 to 9999.
"""

import functools
import gc
import operator
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple, ParamSpec, TypeVar

import numpy as np

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar

KINDS = ("FS", "SS", "FF", "SF")
"""Dependency kinds: finish-to-start, start-to-start, finish-to-finish, start-to-finish."""

_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}


class Rule(NamedTuple):
    """How a dependency kind measures: from which end of the predecessor, and which end of the successor it bounds."""

    from_end: bool  # measured from the predecessor's end (else its start)
    day_after: int  # 1 for FS: the successor starts after the predecessor's last day
    on_end: bool  # bounds the successor's end (else its start)

    def anchor(self, start: date, end: date) -> date:
        """The day a constraint of this kind counts from, for a predecessor on `start`..`end` (FS: the day after)."""
        return (end if self.from_end else start) + timedelta(days=self.day_after)

    def bounded(self, start: date, end: date) -> date:
        """The successor's day this kind bounds, for a successor on `start`..`end`: its end (FF, SF) or start."""
        return end if self.on_end else start


RULES: Mapping[str, Rule] = MappingProxyType(
    {
        "FS": Rule(from_end=True, day_after=1, on_end=False),
        "SS": Rule(from_end=False, day_after=0, on_end=False),
        "FF": Rule(from_end=True, day_after=0, on_end=True),
        "SF": Rule(from_end=False, day_after=0, on_end=True),
    }
)
"""The one definition of the dependency kinds (see the module docstring), read by the forecast and the apps too."""


def bound(dependency: "Dependency", pred_start: date, pred_end: date, calendar: WorkingCalendar) -> date:
    """next(anchor) + lag on `calendar` (the successor's), with the predecessor on `pred_start`..`pred_end`: the day
    the successor's start (FS, SS) or end (FF, SF) may not precede."""
    anchor = RULES[dependency.kind].anchor(pred_start, pred_end)
    return calendar.add_working_days(calendar.next_working_day(anchor), dependency.lag)


def largest_lag(anchor: date, day: date, calendar: WorkingCalendar) -> int:
    """The largest lag with which a constraint counted from `anchor` (see `Rule.anchor`) still lets the day it bounds
    fall on `day`: `bound` solved for the lag. For working days it is the plain `WorkingCalendar.offset`; a bounded
    day on a weekend or holiday is not pushed by its own plan."""
    return calendar.offset(anchor, day + timedelta(days=1)) - 1


_FIRST_DAY, _LAST_DAY = date.min.toordinal(), date.max.toordinal()
_MARGIN_DAYS = 366  # tables start this far around the plan's dates, so that most pushes and lags fit at once
_P = ParamSpec("_P")
_R = TypeVar("_R")


def _without_gc_pauses(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `function` with the cyclic garbage collector paused, and resumed afterwards if it was on.

    A pass over a large plan builds hundreds of thousands of small lists and tuples that live until it returns; as they
    pile up the collector rescans the caller's whole heap (every Item and Dependency) for cycles, which the engine
    never makes. That was a third of the time of a 100,000-item propagation.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@dataclass(frozen=True)
class Item:
    """A release, phase or milestone on the plan: a key, its first and last day, its calendar; `fixed` pins it.

    `blackouts` are (first day, last day) windows, inclusive, in which the item may not start; kept sorted.
    """

    key: Hashable
    start: date
    end: date
    calendar: WorkingCalendar = STANDARD
    fixed: bool = False
    blackouts: tuple[tuple[date, date], ...] = ()

    def __post_init__(self) -> None:
        _check_day(self.start, f"start of {self.key!r}")
        _check_day(self.end, f"end of {self.key!r}")
        if self.end < self.start:
            raise ValueError(f"Item {self.key!r} ends ({self.end.isoformat()}) before it starts ({self.start}).")
        object.__setattr__(self, "blackouts", _clean_blackouts(self.key, self.blackouts))

    @property
    def duration(self) -> int:
        """Working days from start to end, both included, on the item's calendar; at least one."""
        return max(1, self.calendar.working_days_in(self.start, self.end))


@dataclass(frozen=True)
class Dependency:
    """`successor` depends on `predecessor` by `kind` (FS, SS, FF or SF), `lag` working days later (negative: lead)."""

    predecessor: Hashable
    successor: Hashable
    kind: str = "FS"
    lag: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _KIND_RANK:
            raise ValueError(f"Unknown dependency kind {self.kind!r}; expected one of {', '.join(KINDS)}.")
        if isinstance(self.lag, bool):
            raise ValueError(f"A lag is a whole number of working days; got {self.lag!r}.")
        object.__setattr__(self, "lag", operator.index(self.lag))

    def __str__(self) -> str:
        lag = f" {self.lag:+d}wd" if self.lag else ""
        return f"{self.predecessor} -{self.kind}{lag}-> {self.successor}"


class Path:
    """The chain of keys that pushed an item, first pusher first: a linked chain, so building one costs O(1).

    Iterates, indexes and compares like the tuple it stands for (`tuple(path)` materialises it).
    """

    __slots__ = ("_key", "_length", "_parent")

    def __init__(self, key: Hashable, parent: "Path | None" = None) -> None:
        self._key = key
        self._parent = parent
        self._length = 1 if parent is None else parent._length + 1

    def __iter__(self) -> Iterator[Hashable]:
        keys = []
        node: Path | None = self
        while node is not None:
            keys.append(node._key)
            node = node._parent
        return reversed(keys)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        return tuple(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Path | tuple):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"Path{tuple(self)!r}"

    def __str__(self) -> str:
        return " → ".join(str(key) for key in self)


class Move(NamedTuple):
    """How one item moved: its old and new dates and the chain of keys that pushed it (ending with its own key)."""

    old_start: date
    old_end: date
    new_start: date
    new_end: date
    path: Path


@dataclass(frozen=True)
class Violation:
    """A constraint that does not hold after propagation, with a sentence saying why."""

    dependency: Dependency
    message: str


@dataclass(frozen=True)
class Result:
    """What `propagate` found: the items that moved, the constraints that do not hold, every item's dates.

    `postponed` maps each item postponed past a blackout to the (last) window it was pushed past.
    """

    moved: dict[Hashable, Move]
    violations: list[Violation]
    dates: dict[Hashable, tuple[date, date]]
    postponed: dict[Hashable, tuple[date, date]] = field(default_factory=dict)


class CriticalPath(NamedTuple):
    """Total float per key (working days), the critical keys (float <= 0, earliest first) and the project end used."""

    total_float: dict[Hashable, int]
    critical: list[Hashable]
    project_end: date


class CycleError(ValueError):
    """The dependencies form a cycle; `cycle` holds its keys in order, the first repeated at the end."""

    def __init__(self, cycle: Iterable[Hashable]) -> None:
        self.cycle = tuple(cycle)
        super().__init__("Dependency cycle: " + " → ".join(str(key) for key in self.cycle) + ".")


@_without_gc_pauses
def check_acyclic(keys: Iterable[Hashable], dependencies: Iterable[Dependency]) -> None:
    """Raise `CycleError` if `dependencies` between `keys` form a cycle; no dates or calendars, so cheap.

    The cycle named is the one `propagate` names for items given in the same order as `keys`.
    """
    _Graph(list(keys), dependencies)


@_without_gc_pauses
def propagate(
    items: Iterable[Item], dependencies: Iterable[Dependency], changes: Mapping[Hashable, date] | None = None
) -> Result:
    """Apply `changes` (key -> new start, keeping the duration) and push successors as far as their constraints need."""
    plan = _Plan(items, dependencies)
    starts, ends = list(plan.starts), list(plan.ends)
    changed = [False] * len(plan.items)
    for key, new_start in (changes or {}).items():
        index = plan.index_of(key, "change")
        item = plan.items[index]
        _check_day(new_start, f"new start of {key!r}")
        if item.fixed:
            raise ValueError(f"Item {key!r} is fixed (an actual date) and cannot be moved to {new_start.isoformat()}.")
        if new_start != item.start:
            starts[index] = plan.calendars[index].forward(new_start.toordinal(), 0)
            ends[index] = plan.end_for(index, starts[index])
            changed[index] = True

    moved = [False] * len(plan.items)
    paths: list[Path | None] = [None] * len(plan.items)
    postponed: dict[Hashable, tuple[date, date]] = {}
    reconsider = list(changed)  # changed, or a predecessor moved: set as predecessors move, in topological order
    for index in plan.order:
        item = plan.items[index]
        if item.fixed or not reconsider[index]:
            continue
        # The tightest constraint wins; among equals a predecessor that moved, then the first item, then the kind.
        best = None  # (-earliest start, did the predecessor stay, predecessor index, kind rank, lag)
        for dependency, pred in plan.preds[index]:
            earliest = plan.earliest_start(dependency, pred, index, starts, ends)
            if earliest > starts[index]:
                rank = (-earliest, not moved[pred], pred, _KIND_RANK[dependency.kind], dependency.lag)
                if best is None or rank < best:
                    best = rank
        if best is not None:
            pred = best[2]
            starts[index] = -best[0]
            ends[index] = plan.end_for(index, starts[index])
            pusher = paths[pred] if moved[pred] else Path(plan.items[pred].key)
            paths[index] = Path(item.key, pusher)
        elif changed[index]:
            paths[index] = Path(item.key)
        window = plan.postpone(index, starts, ends)
        moved[index] = plan.differs(index, starts, ends)
        if window is not None and moved[index]:  # (postponed back onto its own dates it did not move)
            postponed[item.key] = window
        if moved[index]:
            for _, succ in plan.succs[index]:
                reconsider[succ] = True

    result_moved = {
        item.key: Move(item.start, item.end, _day(starts[index]), _day(ends[index]), paths[index])
        for index, item in enumerate(plan.items)
        if moved[index]
    }
    dates = {
        item.key: (_day(starts[index]), _day(ends[index])) if moved[index] else (item.start, item.end)
        for index, item in enumerate(plan.items)
    }
    return Result(result_moved, plan.violations(starts, ends), dates, postponed)


@_without_gc_pauses
def critical_path(
    items: Iterable[Item], dependencies: Iterable[Dependency], project_end: date | None = None
) -> CriticalPath:
    """Total float of every item in working days and the critical keys, by a forward and a backward pass.

    `project_end` defaults to the latest end of the settled plan; a given one is a deadline every item must meet.
    """
    plan = _Plan(items, dependencies)
    if not plan.items:
        raise ValueError("A critical path needs at least one item.")
    starts, ends = list(plan.starts), list(plan.ends)
    # Forward pass: settle the plan (a no-op on a plan whose constraints hold).
    for index in plan.order:
        item = plan.items[index]
        if item.fixed:
            continue
        for dependency, pred in plan.preds[index]:
            earliest = plan.earliest_start(dependency, pred, index, starts, ends)
            if earliest > starts[index]:
                starts[index] = earliest
                ends[index] = plan.end_for(index, earliest)
        plan.postpone(index, starts, ends)
    if project_end is None:
        last = max(ends)
    else:
        _check_day(project_end, "project_end")
        last = project_end.toordinal()

    # Backward pass: the latest start of every item; a fixed item stays where it is for its predecessors.
    late_starts = list(starts)
    late_ends = list(ends)
    total_float: dict[Hashable, int] = {}
    for index in reversed(plan.order):
        item = plan.items[index]
        calendar, duration = plan.calendars[index], plan.durations[index]
        latest = calendar.backward(last, -(duration - 1))
        for dependency, succ in plan.succs[index]:
            rule = RULES[dependency.kind]
            target = late_ends[succ] if rule.on_end else late_starts[succ]
            # The latest working day w (successor's calendar) with w + lag <= target, less the FS day after.
            bound = plan.calendars[succ].backward(target, -dependency.lag) - rule.day_after
            latest = min(latest, calendar.backward(bound, -(duration - 1) if rule.from_end else 0))
        latest = plan.latest_allowed_start(index, latest, starts[index])
        total_float[item.key] = calendar.between(starts[index], latest)
        if not item.fixed:
            late_starts[index] = latest
            late_ends[index] = plan.end_for(index, latest)
    critical = sorted(
        (index for index, item in enumerate(plan.items) if total_float[item.key] <= 0),
        key=lambda index: (starts[index], index),
    )
    return CriticalPath(
        {item.key: total_float[item.key] for item in plan.items},
        [plan.items[i].key for i in critical],
        _day(last),
    )


class _Graph:
    """Keys indexed, dependencies as adjacency lists over the indexes, and a topological order (Kahn)."""

    def __init__(self, keys: list[Hashable], dependencies: Iterable[Dependency]) -> None:
        self.keys = keys
        self._index: dict[Hashable, int] = {}
        for index, key in enumerate(keys):
            if key in self._index:
                raise ValueError(f"Two items share the key {key!r}.")
            self._index[key] = index
        self.preds: list[list[tuple[Dependency, int]]] = [[] for _ in keys]
        self.succs: list[list[tuple[Dependency, int]]] = [[] for _ in keys]
        index = self._index
        for dependency in dependencies:
            if not isinstance(dependency, Dependency):
                raise TypeError(f"Expected a Dependency; got {dependency!r}.")
            try:
                pred, succ = index[dependency.predecessor], index[dependency.successor]
            except (KeyError, TypeError):
                # The message is built only here: formatting every dependency up front costs more than the lookups.
                self.index_of(dependency.predecessor, f"dependency {dependency}")
                self.index_of(dependency.successor, f"dependency {dependency}")
                raise
            self.preds[succ].append((dependency, pred))
            self.succs[pred].append((dependency, succ))
        self.order = self._topological_order()

    def index_of(self, key: Hashable, where: str) -> int:
        try:
            return self._index[key]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown item {key!r} in {where}.") from None

    def _topological_order(self) -> list[int]:
        indegree = [len(preds) for preds in self.preds]
        ready = deque(index for index, degree in enumerate(indegree) if degree == 0)
        order = []
        while ready:
            index = ready.popleft()
            order.append(index)
            for _, succ in self.succs[index]:
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    ready.append(succ)
        if len(order) < len(self.keys):
            raise CycleError(self._cycle(indegree))
        return order

    def _cycle(self, indegree: list[int]) -> list[Hashable]:
        """One cycle among the items Kahn could not order, walked backwards from the first of them, then reversed."""
        left = {index for index, degree in enumerate(indegree) if degree > 0}
        seen: dict[int, int] = {}
        walk: list[int] = []
        index = min(left)
        while index not in seen:
            seen[index] = len(walk)
            walk.append(index)
            index = min(pred for _, pred in self.preds[index] if pred in left)
        loop = walk[seen[index] :][::-1]  # successors order
        first = loop.index(min(loop))
        loop = loop[first:] + loop[:first]
        return [self.keys[i] for i in [*loop, loop[0]]]


class _Plan(_Graph):
    """The items' graph and their dates in integers, with the dependency and blackout rules on those integers.

    Dates are day ordinals; each item's calendar is the `_WorkingDays` table of that calendar.
    """

    def __init__(self, items: Iterable[Item], dependencies: Iterable[Dependency]) -> None:
        self.items: list[Item] = list(items)
        for item in self.items:
            if not isinstance(item, Item):
                raise TypeError(f"Expected an Item; got {item!r}.")
        super().__init__([item.key for item in self.items], dependencies)
        self.starts = [item.start.toordinal() for item in self.items]
        self.ends = [item.end.toordinal() for item in self.items]
        self.calendars = _WorkingDays.for_items(self.items, self.starts, self.ends)
        self.durations = [
            max(1, calendar.between(start, end + 1))
            for calendar, start, end in zip(self.calendars, self.starts, self.ends, strict=True)
        ]
        self.windows = {
            index: [(first.toordinal(), last.toordinal(), (first, last)) for first, last in item.blackouts]
            for index, item in enumerate(self.items)
            if item.blackouts
        }

    def bound(
        self, dependency: Dependency, pred: int, succ: int, starts: list[int], ends: list[int], back: int = 0
    ) -> int:
        """next(anchor) + lag on the successor's calendar, with the predecessor on the given dates: the day the
        successor's start (FS, SS) or end (FF, SF) may not precede; or `back` working days before that day."""
        rule = RULES[dependency.kind]
        anchor = (ends if rule.from_end else starts)[pred] + rule.day_after
        return self.calendars[succ].forward(anchor, dependency.lag - back)

    def earliest_start(self, dependency: Dependency, pred: int, succ: int, starts: list[int], ends: list[int]) -> int:
        """The earliest start of the successor that meets `dependency`, with the predecessor on the given dates."""
        # A bound on the end puts the start duration - 1 working days before it.
        back = self.durations[succ] - 1 if RULES[dependency.kind].on_end else 0
        return self.bound(dependency, pred, succ, starts, ends, back)

    def end_for(self, index: int, start: int) -> int:
        """The last day of item `index` if it starts on `start` (rolled forward) and keeps its duration."""
        return self.calendars[index].forward(start, self.durations[index] - 1)

    def differs(self, index: int, starts: list[int], ends: list[int]) -> bool:
        """Whether item `index` is off its planned dates."""
        return starts[index] != self.starts[index] or ends[index] != self.ends[index]

    def postpone(self, index: int, starts: list[int], ends: list[int]) -> tuple[date, date] | None:
        """Move item `index` past the blackouts its start lands in, keeping its duration, if it moved at all (one that
        stays is never postponed); return the last window it was pushed past, or None."""
        if index not in self.windows or not self.differs(index, starts, ends):
            return None
        window = None
        while (hit := self._window_at(index, starts[index])) is not None:
            window = hit[2]
            starts[index] = self.calendars[index].forward(hit[1] + 1, 0)
        if window is not None:
            ends[index] = self.end_for(index, starts[index])
        return window

    def latest_allowed_start(self, index: int, latest: int, own_start: int) -> int:
        """The latest day on or before `latest` that item `index` may start on after a slip: its own start, or a working
        day in none of its blackouts (a slip into a window lands after it, so past `latest`)."""
        allowed = latest
        while (hit := self._window_at(index, allowed)) is not None:
            allowed = self.calendars[index].backward(hit[0] - 1, 0)
        return max(allowed, own_start) if own_start <= latest else allowed

    def _window_at(self, index: int, day: int) -> tuple[int, int, tuple[date, date]] | None:
        """The blackout of item `index` holding `day` that ends last, if any."""
        hits = [window for window in self.windows.get(index, ()) if window[0] <= day <= window[1]]
        return max(hits, key=lambda window: window[1]) if hits else None

    def violations(self, starts: list[int], ends: list[int]) -> list[Violation]:
        """Every constraint that does not hold on the given dates, ordered by successor, predecessor, kind and lag."""
        broken = []
        for succ, preds in enumerate(self.preds):
            for dependency, pred in preds:
                bound = self.bound(dependency, pred, succ, starts, ends)
                actual = ends[succ] if RULES[dependency.kind].on_end else starts[succ]
                if actual < bound:
                    broken.append((succ, pred, _KIND_RANK[dependency.kind], dependency.lag, dependency, bound, actual))
        broken.sort(key=lambda entry: entry[:4])
        return [self._violation(dependency, succ, bound, actual) for succ, _, _, _, dependency, bound, actual in broken]

    def _violation(self, dependency: Dependency, succ: int, bound: int, actual: int) -> Violation:
        """The violation of `dependency`, whose successor must start (or end) on `bound` and does on `actual`."""
        successor = self.items[succ]
        which = "end" if RULES[dependency.kind].on_end else "start"
        reason = "it is fixed" if successor.fixed else "the plan already broke this and nothing moved it"
        message = (
            f"{dependency}: {successor.key} must {which} on or after {_day(bound).isoformat()} but {which}s on "
            f"{_day(actual).isoformat()}; {reason}."
        )
        return Violation(dependency, message)


class _WorkingDays:
    """One calendar's working days over a span of day ordinals, as integer lists that grow on demand.

    `before[d - first]` is the number of working days in [first, d): the working-day number of d if d is a working
    day, else of the first working day after it. `days[k]` is the ordinal of working day number k.
    """

    def __init__(self, calendar: WorkingCalendar, first: int, last: int) -> None:
        self.calendar = calendar
        self._load(first, last)

    @classmethod
    def for_items(cls, items: list[Item], starts: list[int], ends: list[int]) -> "list[_WorkingDays]":
        """One table per distinct calendar, over the items' dates and a margin; the table of each item, in order."""
        first = max(_FIRST_DAY, min(starts, default=_FIRST_DAY) - _MARGIN_DAYS)
        last = min(_LAST_DAY, max(ends, default=_FIRST_DAY) + _MARGIN_DAYS)
        by_calendar: dict[WorkingCalendar, _WorkingDays] = {}
        by_id: dict[int, _WorkingDays] = {}  # hashing a calendar is not free; most items share a few objects
        tables = []
        for item in items:
            table = by_id.get(id(item.calendar))
            if table is None:
                table = by_calendar.get(item.calendar)
                if table is None:
                    table = by_calendar[item.calendar] = cls(item.calendar, first, last)
                by_id[id(item.calendar)] = table
            tables.append(table)
        return tables

    def forward(self, day: int, steps: int) -> int:
        """The day `steps` working days (negative: back) from the first working day on or after `day`."""
        while True:
            offset = day - self.first
            if 0 <= offset < len(self.before):
                number = self.before[offset] + steps
                if 0 <= number < len(self.days):
                    return self.days[number]
                self._grow(later=number >= 0, day=day)
            else:
                self._grow(later=offset >= 0, day=day)

    def backward(self, day: int, steps: int) -> int:
        """The day `steps` working days (negative: back) from the last working day on or before `day`."""
        while True:
            offset = day + 1 - self.first
            if 0 <= offset < len(self.before):
                number = self.before[offset] - 1 + steps
                if 0 <= number < len(self.days):
                    return self.days[number]
                self._grow(later=number >= 0, day=day)
            else:
                self._grow(later=offset >= 0, day=day)

    def between(self, start: int, end: int) -> int:
        """`WorkingCalendar.working_days_between` on ordinals: [start, end), or minus (end, start] if end < start."""
        low, high, sign = (start, end, 1) if start <= end else (end + 1, start + 1, -1)
        while low < self.first:
            self._grow(later=False, day=low)
        while high > self.last + 1:  # `before` has one entry past `last`
            self._grow(later=True, day=high)
        return sign * (self.before[high - self.first] - self.before[low - self.first])

    def _load(self, first: int, last: int) -> None:
        mask = self.calendar.working_day_mask(date.fromordinal(first), date.fromordinal(last))
        self.first, self.last = first, last
        self.before: list[int] = np.concatenate(([0], np.cumsum(mask, dtype=np.int64))).tolist()
        self.days: list[int] = (np.flatnonzero(mask) + first).tolist()

    def _grow(self, *, later: bool, day: int) -> None:
        """Double the span toward later or earlier days, or refuse to go past the supported range of dates."""
        span = self.last - self.first + 1
        if later and self.last < _LAST_DAY:
            self._load(self.first, min(_LAST_DAY, self.last + span))
        elif not later and self.first > _FIRST_DAY:
            self._load(max(_FIRST_DAY, self.first - span), self.last)
        else:
            where = _day(min(max(day, _FIRST_DAY), _LAST_DAY)).isoformat()
            raise ValueError(
                f"Working days {'after' if later else 'before'} {where} run past the supported date range "
                f"(years 1-9999); check the calendar's closures and the plan's lags."
            )


def _clean_blackouts(key: Hashable, blackouts: object) -> tuple[tuple[date, date], ...]:
    """Blackout windows as a sorted tuple of (first day, last day) pairs, refusing malformed or backwards ones."""
    if blackouts == ():
        return ()
    if isinstance(blackouts, str | bytes | date) or not isinstance(blackouts, Iterable):
        raise ValueError(f"Blackouts of {key!r} are a sequence of (first day, last day) pairs; got {blackouts!r}.")
    cleaned = []
    for window in blackouts:
        if not isinstance(window, tuple | list) or len(window) != 2 or not all(map(_is_day, window)):
            raise ValueError(f"A blackout of {key!r} is a (first day, last day) pair of dates; got {window!r}.")
        first, last = window
        if last < first:
            raise ValueError(f"A blackout of {key!r} ends ({last.isoformat()}) before it starts ({first.isoformat()}).")
        cleaned.append((first, last))
    return tuple(sorted(cleaned))


def _day(ordinal: int) -> date:
    return date.fromordinal(ordinal)


def _is_day(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _check_day(value: object, label: str) -> None:
    """Refuse anything but a calendar day (a `date`, not a `datetime`)."""
    if not _is_day(value):
        raise TypeError(f"{label} must be a datetime.date (a calendar day, not a datetime); got {value!r}.")
