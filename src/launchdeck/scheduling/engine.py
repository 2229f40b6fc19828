"""The schedule engine: dependency propagation with push semantics, violations and the critical path.

Plain data in, plain data out: `Item` and `Dependency` values go in, a `Result` or a `CriticalPath` comes out. Like
the rest of `launchdeck.scheduling` the module imports nothing from Django or the apps; every working-day count goes
through `WorkingCalendar` (DESIGN rule 7).

Semantics, in one place:

- An `Item` is a release, phase or milestone (a milestone has start == end). Its duration is the number of working
  days from start to end, both included, on its own calendar (at least one). A `fixed` item (an actual date) never
  moves.
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
- A fixed item is never moved: a constraint it would break is reported as a `Violation`, and so is any constraint that
  the plan already broke before the change and that nothing touched (it is not silently repaired).
- `Move.path` is the chain of keys that pushed an item, from the changed (or already out-of-line) item to the item
  itself; where two predecessors push equally far, the one that moved, then the one given first among the items, wins,
  so the result never depends on the order of the dependencies.
- `critical_path` runs a forward pass (the plan settled: every non-fixed item as early as its dates and constraints
  allow, never earlier than planned) and a backward pass (every item as late as it can go without pushing anything
  past the project end or into a fixed item). Total float is the working days between the two starts on the item's
  calendar: slipping an item by up to its float moves neither the project end nor a fixed item, slipping it by one
  working day more does. Critical items have a float of zero or less (less: a deadline or a fixed date already missed).
- Bad input raises: `CycleError` (a `ValueError`) naming the cycle's keys in order, `ValueError` for unknown or
  duplicate keys, unknown dependency kinds, a change to a fixed item, or a date out of the calendar's range.
"""

import operator
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar

KINDS = ("FS", "SS", "FF", "SF")
"""Dependency kinds: finish-to-start, start-to-start, finish-to-finish, start-to-finish."""

_KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
_ON_END = {"FS": False, "SS": False, "FF": True, "SF": True}  # does the constraint bound the successor's end?
_FROM_END = {"FS": True, "SS": False, "FF": True, "SF": False}  # is it measured from the predecessor's end?
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Item:
    """A release, phase or milestone on the plan: a key, its first and last day, its calendar; `fixed` pins it."""

    key: Hashable
    start: date
    end: date
    calendar: WorkingCalendar = STANDARD
    fixed: bool = False

    def __post_init__(self) -> None:
        _check_day(self.start, f"start of {self.key!r}")
        _check_day(self.end, f"end of {self.key!r}")
        if self.end < self.start:
            raise ValueError(f"Item {self.key!r} ends ({self.end.isoformat()}) before it starts ({self.start}).")

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
    """What `propagate` found: the items that moved, the constraints that do not hold, and every item's dates."""

    moved: dict[Hashable, Move]
    violations: list[Violation]
    dates: dict[Hashable, tuple[date, date]]


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


def propagate(
    items: Iterable[Item], dependencies: Iterable[Dependency], changes: Mapping[Hashable, date] | None = None
) -> Result:
    """Apply `changes` (key -> new start, keeping the duration) and push successors as far as their constraints need."""
    plan = _Plan(items, dependencies)
    starts = [item.start for item in plan.items]
    ends = [item.end for item in plan.items]
    changed = [False] * len(plan.items)
    for key, new_start in (changes or {}).items():
        index = plan.index_of(key, "change")
        item = plan.items[index]
        _check_day(new_start, f"new start of {key!r}")
        if item.fixed:
            raise ValueError(f"Item {key!r} is fixed (an actual date) and cannot be moved to {new_start.isoformat()}.")
        if new_start != item.start:
            starts[index] = item.calendar.next_working_day(new_start)
            ends[index] = item.calendar.working_end(starts[index], item.duration)
            changed[index] = True

    moved = [False] * len(plan.items)
    paths: list[Path | None] = [None] * len(plan.items)
    for index in plan.order:
        item = plan.items[index]
        if item.fixed or not (changed[index] or any(moved[pred] for _, pred in plan.preds[index])):
            continue
        # The tightest constraint wins; among equals a predecessor that moved, then the first item, then the kind.
        best = None  # (-start ordinal, did the predecessor stay, predecessor index, kind rank, lag)
        for dependency, pred in plan.preds[index]:
            earliest = _earliest_start(dependency, starts[pred], ends[pred], item.calendar, item.duration)
            if earliest > starts[index]:
                rank = (-earliest.toordinal(), not moved[pred], pred, _KIND_RANK[dependency.kind], dependency.lag)
                best = rank if best is None else min(best, rank)
        if best is not None:
            pred = best[2]
            starts[index] = date.fromordinal(-best[0])
            ends[index] = item.calendar.working_end(starts[index], item.duration)
            pusher = paths[pred] if moved[pred] else Path(plan.items[pred].key)
            paths[index] = Path(item.key, pusher)
        elif changed[index]:
            paths[index] = Path(item.key)
        moved[index] = (starts[index], ends[index]) != (item.start, item.end)

    result_moved = {
        item.key: Move(item.start, item.end, starts[index], ends[index], paths[index])
        for index, item in enumerate(plan.items)
        if moved[index]
    }
    violations = []
    for dependency, pred, succ in sorted(plan.edges, key=plan.edge_rank):
        message = _broken(dependency, plan.items[succ], starts, ends, pred, succ)
        if message is not None:
            violations.append(Violation(dependency, message))
    dates = {item.key: (starts[index], ends[index]) for index, item in enumerate(plan.items)}
    return Result(result_moved, violations, dates)


def critical_path(
    items: Iterable[Item], dependencies: Iterable[Dependency], project_end: date | None = None
) -> CriticalPath:
    """Total float of every item in working days and the critical keys, by a forward and a backward pass.

    `project_end` defaults to the latest end of the settled plan; a given one is a deadline every item must meet.
    """
    plan = _Plan(items, dependencies)
    if not plan.items:
        raise ValueError("A critical path needs at least one item.")
    starts = [item.start for item in plan.items]
    ends = [item.end for item in plan.items]
    # Forward pass: settle the plan (a no-op on a plan whose constraints hold).
    for index in plan.order:
        item = plan.items[index]
        if item.fixed:
            continue
        for dependency, pred in plan.preds[index]:
            earliest = _earliest_start(dependency, starts[pred], ends[pred], item.calendar, item.duration)
            if earliest > starts[index]:
                starts[index] = earliest
                ends[index] = item.calendar.working_end(earliest, item.duration)
    if project_end is None:
        project_end = max(ends)
    else:
        _check_day(project_end, "project_end")

    # Backward pass: the latest start of every item; a fixed item stays where it is for its predecessors.
    late_starts: list[date] = list(starts)
    late_ends: list[date] = list(ends)
    total_float: dict[Hashable, int] = {}
    for index in reversed(plan.order):
        item = plan.items[index]
        calendar, duration = item.calendar, item.duration
        latest = calendar.add_working_days(calendar.previous_working_day(project_end), -(duration - 1))
        for dependency, succ in plan.succs[index]:
            succ_calendar = plan.items[succ].calendar
            target = late_ends[succ] if _ON_END[dependency.kind] else late_starts[succ]
            # The latest working day w (successor's calendar) with w + lag <= target.
            bound = succ_calendar.add_working_days(succ_calendar.previous_working_day(target), -dependency.lag)
            if dependency.kind == "FS":
                bound -= _ONE_DAY  # the predecessor must end before the day the lag counts from
            if _FROM_END[dependency.kind]:
                candidate = calendar.add_working_days(calendar.previous_working_day(bound), -(duration - 1))
            else:
                candidate = calendar.previous_working_day(bound)
            latest = min(latest, candidate)
        total_float[item.key] = calendar.working_days_between(starts[index], latest)
        if not item.fixed:
            late_starts[index] = latest
            late_ends[index] = calendar.working_end(latest, duration)
    critical = sorted(
        (index for index, item in enumerate(plan.items) if total_float[item.key] <= 0),
        key=lambda index: (starts[index], index),
    )
    return CriticalPath(
        {item.key: total_float[item.key] for item in plan.items}, [plan.items[i].key for i in critical], project_end
    )


class _Plan:
    """Items indexed by key, dependencies as adjacency lists, and a topological order (Kahn)."""

    def __init__(self, items: Iterable[Item], dependencies: Iterable[Dependency]) -> None:
        self.items: list[Item] = list(items)
        self._index: dict[Hashable, int] = {}
        for index, item in enumerate(self.items):
            if not isinstance(item, Item):
                raise TypeError(f"Expected an Item; got {item!r}.")
            if item.key in self._index:
                raise ValueError(f"Two items share the key {item.key!r}.")
            self._index[item.key] = index
        self.preds: list[list[tuple[Dependency, int]]] = [[] for _ in self.items]
        self.succs: list[list[tuple[Dependency, int]]] = [[] for _ in self.items]
        self.edges: list[tuple[Dependency, int, int]] = []
        for dependency in dependencies:
            if not isinstance(dependency, Dependency):
                raise TypeError(f"Expected a Dependency; got {dependency!r}.")
            pred = self.index_of(dependency.predecessor, f"dependency {dependency}")
            succ = self.index_of(dependency.successor, f"dependency {dependency}")
            self.preds[succ].append((dependency, pred))
            self.succs[pred].append((dependency, succ))
            self.edges.append((dependency, pred, succ))
        self.order = self._topological_order()

    def index_of(self, key: Hashable, where: str) -> int:
        try:
            return self._index[key]
        except (KeyError, TypeError):
            raise ValueError(f"Unknown item {key!r} in {where}.") from None

    @staticmethod
    def edge_rank(edge: tuple[Dependency, int, int]) -> tuple[int, int, int, int]:
        dependency, pred, succ = edge
        return succ, pred, _KIND_RANK[dependency.kind], dependency.lag

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
        if len(order) < len(self.items):
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
        return [self.items[i].key for i in [*loop, loop[0]]]


def _earliest_start(
    dependency: Dependency, pred_start: date, pred_end: date, calendar: WorkingCalendar, duration: int
) -> date:
    """The earliest start of a `duration`-day successor on `calendar` that meets `dependency`."""
    bound = _bound(dependency, pred_start, pred_end, calendar)
    if _ON_END[dependency.kind]:
        return calendar.add_working_days(bound, -(duration - 1))
    return bound


def _bound(dependency: Dependency, pred_start: date, pred_end: date, calendar: WorkingCalendar) -> date:
    """The working day (successor's calendar) the successor's start (FS, SS) or end (FF, SF) may not precede."""
    anchor = pred_end if _FROM_END[dependency.kind] else pred_start
    if dependency.kind == "FS":
        anchor += _ONE_DAY  # the successor starts after the predecessor's last day
    return calendar.add_working_days(calendar.next_working_day(anchor), dependency.lag)


def _broken(dependency: Dependency, successor: Item, starts: list, ends: list, pred: int, succ: int) -> str | None:
    """None if `dependency` holds on the final dates, else a sentence naming what is broken and why it stayed so."""
    bound = _bound(dependency, starts[pred], ends[pred], successor.calendar)
    which = "end" if _ON_END[dependency.kind] else "start"
    actual = ends[succ] if _ON_END[dependency.kind] else starts[succ]
    if actual >= bound:
        return None
    reason = "it is fixed" if successor.fixed else "the plan already broke this and nothing moved it"
    return (
        f"{dependency}: {successor.key} must {which} on or after {bound.isoformat()} but {which}s on "
        f"{actual.isoformat()}; {reason}."
    )


def _check_day(value: object, label: str) -> None:
    """Refuse anything but a calendar day (a `date`, not a `datetime`)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{label} must be a datetime.date (a calendar day, not a datetime); got {value!r}.")
