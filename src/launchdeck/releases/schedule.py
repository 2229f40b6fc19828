"""The schedule of releases as the engine sees it: the one place rows become `launchdeck.scheduling` data.

`plan_for` reads releases with their phases, milestones and gates, the implicit dependencies between them (a phase
moves with its release, a milestone and a gate keep their place in their phase, consecutive phases keep their order,
a train drags its children's phases that follow its own) and the explicit `ScheduleDependency` rows, and answers a
`Plan` of engine items and dependencies with a label for every key. `what_if` runs a proposed change through the
engine and answers its impact as a JSON-ready dict, changing nothing; the services apply the same impact.

Engine keys: "release:<id>", "phase:<id>", "milestone:<id>", "gate:<id>", and one hidden point per release,
"finish:<id>", its end (never shown: a move of it is reported as a move of the release's window). All offsets are
working days on the release's calendar.

Reads only: nothing here writes. Later apps learn of a schedule change through the impact-provider registry at the
end of the module (DESIGN: a lower app owns a small registry, the higher one registers from `AppConfig.ready()`).
"""

import hashlib
import itertools
import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from dateutil.relativedelta import relativedelta
from django.db.models import Q
from django.utils import timezone

from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.core.services import (
    FIRST_PLAUSIBLE_DAY,
    IMPLAUSIBLE_DATE_MESSAGE,
    LAST_PLAUSIBLE_DAY,
    is_plausible_date,
)
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar
from launchdeck.releases.choices import (
    CLOSED_STATUSES,
    DependencyKind,
    FreezeCategory,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    ReleaseKind,
    ReleaseStatus,
)
from launchdeck.releases.freezes import FreezeOccurrence, freeze_applies, freezes_between, release_portfolio
from launchdeck.releases.links import url_maker
from launchdeck.releases.models import Gate, Milestone, Phase, Release, ReleaseSystem, ScheduleDependency
from launchdeck.scheduling import engine
from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import CycleError, Dependency, Item

MAX_SHIFT_DAYS = 520
"""The furthest one change may move an item, in working days either way (about two years)."""
MAX_CHANGES = 50
"""The most items one what-if or apply may change at once."""
FREEZE_HORIZON_YEARS = 2
"""How far past a plan's last day its deploy milestones' freezes are read (where a push may take them)."""
MAX_CAUSE_LENGTH = 300

ITEM_KINDS = ("release", "phase", "milestone", "gate")
DEPENDENCY_END_KINDS = ("release", "phase", "milestone")
FINISH = "finish"
_MODELS = {"release": Release, "phase": Phase, "milestone": Milestone, "gate": Gate}
_ONE_DAY = timedelta(days=1)
_SPAN_BEFORE, _SPAN_AFTER = timedelta(days=2 * 366), timedelta(days=3 * 366)  # where a plan's moves may reach


# Keys


def item_key(kind: str, pk: int) -> str:
    """The engine key of a plan item: item_key("phase", 34) == "phase:34"."""
    return f"{kind}:{pk}"


def finish_key(release_id: int) -> str:
    """The hidden key of a release's end."""
    return f"{FINISH}:{release_id}"


def parse_key(key, *, kinds: Iterable[str] = ITEM_KINDS) -> tuple[str, int]:
    """("phase", 34) from "phase:34"; ValueError for anything else (another kind, a bad or non-canonical id)."""
    if not isinstance(key, str):
        raise ValueError(f"{key!r} is not an item key.")
    kind, separator, number = key.partition(":")
    if not separator or kind not in tuple(kinds):
        raise ValueError(f"{key!r} is not an item key.")
    if not (number.isascii() and number.isdigit()) or len(number) > 18 or str(int(number)) != number or number == "0":
        raise ValueError(f"{key!r} is not an item key.")
    return kind, int(number)


def dependency_end_keys(predecessor_key: str, successor_key: str, kind: str) -> tuple[str, str]:
    """The engine keys a stored dependency links: a release's end where the constraint reads or bounds an end (FS,
    FF as predecessor; FF, SF as successor), its start otherwise; a phase or milestone is itself."""
    predecessor, successor = predecessor_key, successor_key
    if predecessor.startswith("release:") and engine.RULES[kind].from_end:
        predecessor = finish_key(int(predecessor.partition(":")[2]))
    if successor.startswith("release:") and engine.RULES[kind].on_end:
        successor = finish_key(int(successor.partition(":")[2]))
    return predecessor, successor


# Wording


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _status_word(status: str) -> str:
    return ReleaseStatus(status).label.lower() if status in ReleaseStatus.values else str(status)


# Working days


class _Days:
    """One calendar's working days counted over a span of dates, so that the offsets and lags of a plan cost a
    lookup each rather than a calendar computation (the engine counts the same way); outside the span it asks the
    calendar. Answers as `WorkingCalendar` does."""

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        self.calendar = calendar
        mask = calendar.working_day_mask(first, last)
        self._first = first.toordinal()
        self._before = np.concatenate(([0], np.cumsum(mask, dtype=np.int64))).tolist()  # working days in [first, d)
        self._days = (np.flatnonzero(mask) + self._first).tolist()  # the ordinal of working day number k

    def _count(self, day: date) -> int | None:
        index = day.toordinal() - self._first
        return self._before[index] if 0 <= index < len(self._before) else None

    def offset(self, anchor: date, day: date) -> int:
        """`WorkingCalendar.offset`: the signed working days from `anchor` to `day`."""
        first, last = self._count(anchor), self._count(day)
        if first is None or last is None:
            return self.calendar.offset(anchor, day)
        return last - first

    def lag(self, anchor: date, day: date) -> int:
        """`engine.largest_lag`: the largest lag from `anchor` that still lets an item sit on `day`."""
        first, last = self._count(anchor), self._count(day + _ONE_DAY)
        if first is None or last is None:
            return engine.largest_lag(anchor, day, self.calendar)
        return last - first - 1

    def add_working_days(self, day: date, steps: int) -> date:
        """`WorkingCalendar.add_working_days`: a day off rolls the way of travel first."""
        if steps >= 0:
            number = self._count(day)
        else:
            after = self._count(day + _ONE_DAY)
            number = after - 1 if after is not None else None
        if number is not None and 0 <= number + steps < len(self._days):
            return date.fromordinal(self._days[number + steps])
        return self.calendar.add_working_days(day, steps)

    def next_working_day(self, day: date) -> date:
        return self.add_working_days(day, 0)

    def working_end(self, start: date, duration: int) -> date:
        return self.add_working_days(start, duration - 1)


# The plan


@dataclass(frozen=True)
class Label:
    """What a person reads for an engine key: the item, its release and where to see it."""

    kind: str
    id: int
    name: str
    release_id: int
    release_name: str
    release_kind: str
    train_id: int | None
    url: str
    milestone_kind: str = ""

    @property
    def display(self) -> str:
        """How a person reads it: "SIT of Payments 4.2"; a release (and its hidden end) by its own name."""
        if self.kind in ("release", FINISH):
            return self.release_name
        return f"{self.name} of {self.release_name}"


@dataclass(frozen=True)
class ReleaseInfo:
    """A release of the plan: what the impact and the services need of its row."""

    id: int
    name: str
    kind: str
    status: str
    train_id: int | None
    calendar: WorkingCalendar
    planned_start: date
    planned_end: date
    actual_start: date | None
    portfolio_id: int | None
    url: str
    days: _Days = field(compare=False, repr=False)

    @property
    def closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def key(self) -> str:
        return item_key("release", self.id)


@dataclass
class Plan:
    """The engine's view of some releases: items, dependencies, a label per key, and what the impact reads besides.

    `fixed` says, for each key that never moves, why (as a sentence). `contents` lists what a change carries along
    with an item, earlier as well as later: a release's phases, milestones, open gates and end; a phase's milestones
    and open gates; a train phase's following child phases. `placements` are the implicit dependencies that only
    keep an item at its place in its release, phase or train phase, by successor: a change leaves out those into
    the item it moves, and those into what it carries from what stays. `covering` holds, per release, the freeze
    occurrences (any category) that cover it; `train_links` maps a child phase to the train phase it follows;
    `today` is the day the plan was read for.
    """

    items: list[Item]
    dependencies: list[Dependency]
    labels: dict[str, Label]
    releases: dict[int, ReleaseInfo]
    today: date
    fixed: dict[str, str] = field(default_factory=dict)
    contents: dict[str, list[str]] = field(default_factory=dict)
    placements: dict[str, list[Dependency]] = field(default_factory=dict)
    train_links: dict[int, int] = field(default_factory=dict)
    freezes: list[FreezeOccurrence] = field(default_factory=list)
    covering: dict[int, list[FreezeOccurrence]] = field(default_factory=dict)
    by_key: dict[str, Item] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_key = {item.key: item for item in self.items}

    def name(self, key: str) -> str:
        """The item as a person reads it ("SIT of Payments 4.2")."""
        label = self.labels.get(key)
        return label.display if label else key

    def days_of(self, key: str) -> _Days:
        """The working days of the item's release calendar."""
        return self.releases[self.labels[key].release_id].days


def _calendars(calendar_ids: Iterable[int]) -> dict[int | None, WorkingCalendar]:
    """`{calendar id: WorkingCalendar}` (two queries when there is any stored calendar); None is weekends only."""
    stored = sorted({pk for pk in calendar_ids if pk is not None})
    calendars: dict[int | None, WorkingCalendar] = {None: STANDARD}
    if stored:
        for calendar in Calendar.objects.filter(pk__in=stored).prefetch_related("closures"):
            calendars[calendar.pk] = working_calendar(calendar)
    return calendars


class _Builder:
    """Collects items, dependencies and labels while `plan_for` walks the rows."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.dependencies: list[Dependency] = []
        self.labels: dict[str, Label] = {}
        self.fixed: dict[str, str] = {}
        self.contents: dict[str, list[str]] = defaultdict(list)
        self.placements: dict[str, list[Dependency]] = defaultdict(list)

    def item(self, key: str, start: date, end: date, calendar: WorkingCalendar, label: Label, fixed: str = "") -> None:
        self.items.append(Item(key, start, end, calendar, fixed=bool(fixed)))
        self.labels[key] = label
        if fixed:
            self.fixed[key] = fixed

    def depend(self, predecessor: str, successor: str, kind: str, lag: int, *, placement: bool = False) -> None:
        dependency = Dependency(predecessor, successor, kind, lag)
        self.dependencies.append(dependency)
        if placement:
            self.placements[successor].append(dependency)


def plan_for(release_ids: Iterable[int], *, today: date | None = None, blackouts: bool = True) -> Plan:
    """The engine's plan of the given releases: items, implicit and explicit dependencies among them, labels.

    Dependencies to releases outside the set are left out, and so are those into a released or cancelled release
    (what happened stays as it happened). `blackouts`: read the freeze windows and give deploy milestones the
    deployment freezes that cover their release (off for questions of shape only, such as cycles). A bounded number
    of queries whatever the number of releases: the releases, their calendars with closures, phases, milestones,
    gates and dependencies (seven at most), the freezes with their portfolios and systems (three) and, when a systems
    freeze is in the horizon, the releases' scope (one).
    """
    ids = sorted({int(pk) for pk in release_ids})
    today = today or timezone.localdate()
    build = _Builder()
    release_url = url_maker("releases:release_detail", "/releases/{pk}/")
    rows = list(
        Release.objects.filter(pk__in=ids)
        .annotate(belongs_to=release_portfolio())
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            "kind",
            "status",
            "train_id",
            "calendar_id",
            "planned_start",
            "planned_end",
            "actual_start",
            "belongs_to",
        )
    )
    calendars = _calendars(row[5] for row in rows)
    days: dict[int | None, _Days] = {}
    if rows:
        first = max(FIRST_PLAUSIBLE_DAY, min(row[6] for row in rows) - _SPAN_BEFORE)
        last = min(LAST_PLAUSIBLE_DAY, max(row[7] for row in rows) + _SPAN_AFTER)
        used = {row[5] for row in rows}
        days = {pk: _Days(calendar, first, last) for pk, calendar in calendars.items() if pk in used}
    releases: dict[int, ReleaseInfo] = {}
    for pk, name, kind, status, train_id, calendar_id, start, end, actual_start, portfolio_id in rows:
        releases[pk] = ReleaseInfo(
            pk,
            name,
            kind,
            status,
            train_id,
            calendars[calendar_id],
            start,
            end,
            actual_start,
            portfolio_id,
            release_url(pk),
            days[calendar_id],
        )

    def label(kind: str, pk: int, name: str, release: ReleaseInfo, milestone_kind: str = "") -> Label:
        return Label(
            kind, pk, name, release.id, release.name, release.kind, release.train_id, release.url, milestone_kind
        )

    for release in releases.values():
        key, finish = release.key, finish_key(release.id)
        why = ""
        if release.closed:
            why = f"{release.name} is {_status_word(release.status)}; its dates are history."
        elif release.actual_start is not None:
            why = f"{release.name} has started on {_day(release.actual_start)}; its start is fixed."
        release_label = label("release", release.id, release.name, release)
        build.item(key, release.planned_start, release.planned_end, release.calendar, release_label, why)
        build.item(
            finish,
            release.planned_end,
            release.planned_end,
            release.calendar,
            label(FINISH, release.id, release.name, release),
            why if release.closed else "",
        )
        build.depend(key, finish, "FF", 0)
        build.contents[key].append(finish)

    phases = _phases(ids, releases, build)
    _markers(ids, releases, phases, build)
    _train_links(releases, phases, build)
    _explicit(ids, releases, build)

    plan = Plan(
        items=build.items,
        dependencies=build.dependencies,
        labels=build.labels,
        releases=releases,
        today=today,
        fixed=build.fixed,
        contents=dict(build.contents),
        placements=dict(build.placements),
        train_links={pk: row.train_phase_id for pk, row in phases.items() if row.train_phase_id in phases},
    )
    if blackouts and plan.items:
        _read_freezes(plan)
    return plan


@dataclass(frozen=True)
class _PhaseRow:
    pk: int
    release_id: int
    name: str
    start: date
    end: date
    actual_start: date | None
    train_phase_id: int | None


def _phases(ids: list[int], releases: dict[int, ReleaseInfo], build: _Builder) -> dict[int, _PhaseRow]:
    """Phase items: each held at its offset from its release's start, feeding its end, in order with the next one."""
    rows = [
        _PhaseRow(*row)
        for row in Phase.objects.filter(release_id__in=ids)
        .order_by("release_id", "position", "planned_start", "pk")
        .values_list("pk", "release_id", "name", "planned_start", "planned_end", "actual_start", "train_phase_id")
    ]
    by_release: dict[int, list[_PhaseRow]] = defaultdict(list)
    for row in rows:
        by_release[row.release_id].append(row)
    for release_id, ordered in by_release.items():
        release = releases[release_id]
        calendar, days, release_key, finish = release.calendar, release.days, release.key, finish_key(release_id)
        for row in ordered:
            key = item_key("phase", row.pk)
            why = ""
            if release.closed:
                why = f"{release.name} is {_status_word(release.status)}; its dates are history."
            elif row.actual_start is not None:
                why = f"{row.name} of {release.name} has started on {_day(row.actual_start)}; its start is fixed."
            label = Label(
                "phase", row.pk, row.name, release.id, release.name, release.kind, release.train_id, release.url
            )
            build.item(key, row.start, row.end, calendar, label, why)
            build.depend(release_key, key, "SS", days.lag(release.planned_start, row.start), placement=True)
            build.depend(key, finish, "FF", min(0, days.lag(row.end, release.planned_end)))
            build.contents[release_key].append(key)
        for before, after in itertools.pairwise(ordered):
            first, second = item_key("phase", before.pk), item_key("phase", after.pk)
            if after.start > before.end:  # the gap between them is slack: a slip inside it is absorbed
                build.depend(first, second, "FS", min(0, days.lag(before.end + timedelta(days=1), after.start)))
            else:  # overlapping phases keep their overlap
                build.depend(first, second, "SS", days.lag(before.start, after.start), placement=True)
    return {row.pk: row for row in rows}


def _markers(ids: list[int], releases: dict[int, ReleaseInfo], phases: dict[int, _PhaseRow], build: _Builder) -> None:
    """Milestones and gates, each kept where it sits in its phase; out of a phase, a milestone keeps its place from
    the release's start and a gate (due at the release's end) from its end."""
    milestones = Milestone.objects.filter(release_id__in=ids).order_by("pk")
    for pk, release_id, phase_id, name, kind, day, actual, anchor in milestones.values_list(
        "pk", "release_id", "phase_id", "name", "kind", "planned_date", "actual_date", "template__anchor"
    ):
        release = releases[release_id]
        calendar, days, key = release.calendar, release.days, item_key("milestone", pk)
        why = ""
        if release.closed:
            why = f"{release.name} is {_status_word(release.status)}; its dates are history."
        elif actual is not None:
            why = f"{name} of {release.name} was reached on {_day(actual)}; its date is fixed."
        label = Label(
            "milestone", pk, name, release.id, release.name, release.kind, release.train_id, release.url, kind
        )
        build.item(key, day, day, calendar, label, why)
        phase = phases.get(phase_id)
        if phase is not None and phase.release_id == release_id:
            phase_key = item_key("phase", phase.pk)
            if anchor == MilestoneAnchor.PHASE_START:
                build.depend(phase_key, key, "SS", days.lag(phase.start, day), placement=True)
            else:
                build.depend(phase_key, key, "FF", days.lag(phase.end, day), placement=True)
            build.contents[phase_key].append(key)
        else:
            build.depend(release.key, key, "SS", days.lag(release.planned_start, day), placement=True)
        build.depend(key, finish_key(release_id), "FF", min(0, days.lag(day, release.planned_end)))
        build.contents[release.key].append(key)

    gates = Gate.objects.filter(release_id__in=ids).order_by("pk")
    for pk, release_id, phase_id, name, day, status in gates.values_list(
        "pk", "release_id", "phase_id", "name", "due_date", "status"
    ):
        release = releases[release_id]
        calendar, days, key = release.calendar, release.days, item_key("gate", pk)
        why = ""
        if release.closed:
            why = f"{release.name} is {_status_word(release.status)}; its dates are history."
        elif status != GateStatus.OPEN:
            why = f"The gate {name} of {release.name} is {GateStatus(status).label.lower()}; its date is history."
        label = Label("gate", pk, name, release.id, release.name, release.kind, release.train_id, release.url)
        build.item(key, day, day, calendar, label, why)
        if why:
            continue  # a decided gate keeps its date and holds nothing back
        phase = phases.get(phase_id)
        if phase is not None and phase.release_id == release_id:
            phase_key = item_key("phase", phase.pk)
            build.depend(phase_key, key, "FF", days.lag(phase.end, day), placement=True)
            build.contents[phase_key].append(key)
        else:  # due at the end of the release: it follows the end
            build.depend(finish_key(release_id), key, "FF", days.lag(release.planned_end, day), placement=True)
        build.contents[release.key].append(key)


def _train_links(releases: dict[int, ReleaseInfo], phases: dict[int, _PhaseRow], build: _Builder) -> None:
    """A train holds its open children from its start and waits for their ends; a child phase that follows a train
    phase keeps its offset from it."""
    for child in releases.values():
        train = releases.get(child.train_id) if child.train_id else None
        if train is None or child.closed:  # a shipped or cancelled child keeps the dates it had
            continue
        offset = child.days.lag(train.planned_start, child.planned_start)
        build.depend(train.key, child.key, "SS", offset, placement=True)
        build.depend(
            finish_key(child.id),
            finish_key(train.id),
            "FF",
            min(0, train.days.lag(child.planned_end, train.planned_end)),
        )
    for row in phases.values():
        followed = phases.get(row.train_phase_id) if row.train_phase_id else None
        child = releases[row.release_id]
        if followed is None or child.closed or followed.release_id != child.train_id:
            continue
        followed_key, key = item_key("phase", followed.pk), item_key("phase", row.pk)
        build.depend(followed_key, key, "SS", child.days.lag(followed.start, row.start), placement=True)
        build.contents[followed_key].append(key)


def _explicit(ids: list[int], releases: dict[int, ReleaseInfo], build: _Builder) -> None:
    """The stored dependencies between the releases, as engine keys (a release's end or start by the kind)."""
    rows = ScheduleDependency.objects.filter(predecessor_release_id__in=ids, successor_release_id__in=ids).order_by(
        "pk"
    )
    known = build.labels
    for predecessor_key, successor_key, kind, lag, successor_release in rows.values_list(
        "predecessor_key", "successor_key", "kind", "lag_days", "successor_release_id"
    ):
        if releases[successor_release].closed:
            continue
        predecessor, successor = dependency_end_keys(predecessor_key, successor_key, kind)
        if predecessor in known and successor in known:
            build.depend(predecessor, successor, kind, lag)


def _read_freezes(plan: Plan) -> None:
    """The freeze occurrences over the plan's horizon, which of them cover each release, and the deployment ones
    as blackouts of its open deploy milestones."""
    first = min(item.start for item in plan.items)
    last = max(item.end for item in plan.items)
    try:
        last = last + relativedelta(years=FREEZE_HORIZON_YEARS)
    except (OverflowError, ValueError):
        last = date.max
    occurrences = freezes_between(first, last)
    if not occurrences:
        return
    plan.freezes = occurrences
    systems: dict[int, set[int]] = defaultdict(set)
    if any(occurrence.system_ids for occurrence in occurrences):
        for release_id, system_id in ReleaseSystem.objects.filter(release_id__in=list(plan.releases)).values_list(
            "release_id", "system_id"
        ):
            systems[release_id].add(system_id)
    by_window: dict[int, list[FreezeOccurrence]] = defaultdict(list)
    for occurrence in occurrences:
        by_window[occurrence.window_id].append(occurrence)
    for release in plan.releases.values():
        covering = [
            occurrence
            for window in by_window.values()
            # every occurrence of a window covers the same releases: ask the one rule once per window
            if freeze_applies(window[0], portfolio_id=release.portfolio_id, system_ids=systems[release.id])
            for occurrence in window
        ]
        if covering:
            plan.covering[release.id] = sorted(covering, key=lambda occurrence: (occurrence.start, occurrence.name))
    items = []
    for item in plan.items:
        label = plan.labels[item.key]
        if label.milestone_kind == MilestoneKind.DEPLOY and not item.fixed:
            windows = tuple(
                (occurrence.start, occurrence.end)
                for occurrence in plan.covering.get(label.release_id, ())
                if occurrence.category == FreezeCategory.DEPLOYMENT
            )
            if windows:
                item = Item(item.key, item.start, item.end, item.calendar, fixed=item.fixed, blackouts=windows)
        items.append(item)
    plan.items = items
    plan.by_key = {item.key: item for item in items}


# Which releases a change can reach


def affected_release_ids(seed_ids: Iterable[int]) -> set[int]:
    """The releases a change to the seeds can move, plus those that can hold them back.

    Downstream of the seeds over explicit dependencies (release to release), from a train to its children and from a
    child to its train, through open releases only (a released or cancelled one moves nothing); then one hop
    upstream: the releases any of them depends on. Two queries per level of the walk and one for the hop, never one
    per release.
    """
    seeds = {int(pk) for pk in seed_ids}
    reached = set(seeds)
    closed: set[int] = set()
    frontier = set(seeds)
    while frontier:
        listed = sorted(frontier)
        rows = list(
            Release.objects.filter(Q(pk__in=listed) | Q(train_id__in=listed)).values_list("pk", "train_id", "status")
        )
        status = {pk: state for pk, _, state in rows if pk in frontier}
        closed.update(pk for pk, state in status.items() if state in CLOSED_STATUSES)
        closed.update(pk for pk in frontier if pk not in status)  # deleted meanwhile: nothing to walk from
        open_frontier = frontier - closed
        found = set()
        for pk, train_id, state in rows:
            if pk in open_frontier and train_id:
                found.add(train_id)
            if train_id in open_frontier and state not in CLOSED_STATUSES:
                found.add(pk)
        if open_frontier:
            found.update(
                ScheduleDependency.objects.filter(predecessor_release_id__in=sorted(open_frontier))
                .order_by()
                .values_list("successor_release_id", flat=True)
                .distinct()
            )
        frontier = found - reached
        reached |= frontier
    downstream = (reached - closed) | seeds
    upstream = set(
        ScheduleDependency.objects.filter(successor_release_id__in=sorted(downstream))
        .order_by()
        .values_list("predecessor_release_id", flat=True)
        .distinct()
    )
    return downstream | upstream


# Cycles


def _cycle_sentence(plan: Plan, cycle: Iterable[str]) -> str:
    """A cycle of keys as a person reads it: "Build of A → SIT of B → Build of A" (a release's end as the release)."""
    names: list[str] = []
    for key in cycle:
        name = plan.name(key)
        if not names or names[-1] != name:
            names.append(name)
    if len(names) > 1 and names[0] != names[-1]:
        names.append(names[0])
    if len(names) == 1:
        names.append(names[0])
    return " → ".join(names)


def stored_cycle(plan: Plan, cycle: Iterable[str]) -> ValidationFailed:
    """The one refusal of a question about a plan whose stored dependencies close a cycle (each is checked when it
    is created, so only concurrent creations can leave one): a 422 naming the cycle by the items' names."""
    return ValidationFailed(
        f"The plan has a dependency cycle: {_cycle_sentence(plan, cycle)}. Remove one of its dependencies first."
    )


def check_new_dependency(predecessor_key: str, successor_key: str, kind: str) -> None:
    """Refuse (422 on `predecessor`) a dependency that, with the existing explicit and implicit ones of the releases
    it can reach, would close a cycle, naming the cycle by the items' names."""
    releases = {_release_of(predecessor_key), _release_of(successor_key)}
    releases.discard(None)
    plan = plan_for(affected_release_ids(releases), blackouts=False)
    predecessor, successor = dependency_end_keys(predecessor_key, successor_key, kind)
    if predecessor not in plan.labels or successor not in plan.labels:
        raise ValidationFailed.field("predecessor", "No such release, phase or milestone.")
    candidate = Dependency(predecessor, successor, kind, 0)
    try:
        engine.check_acyclic(plan.labels, [*plan.dependencies, candidate])
    except CycleError as exc:
        raise ValidationFailed.field(
            "predecessor", f"This dependency would close a cycle: {_cycle_sentence(plan, exc.cycle)}."
        ) from None


def _release_of(key: str) -> int | None:
    """The release id of an item key, by one query (None when there is no such item)."""
    kind, pk = parse_key(key, kinds=ITEM_KINDS)
    if kind == "release":
        return pk
    return _MODELS[kind].objects.filter(pk=pk).values_list("release_id", flat=True).first()


# What-if


@dataclass(frozen=True)
class Change:
    """One proposed change: the item (an engine key) and either a shift in working days or a new start."""

    key: str
    shift_days: int | None = None
    new_start: date | None = None


@dataclass(frozen=True)
class ImpactContext:
    """What an impact provider is told of a change: who asks, each moved phase and each moved release window as
    (old start, old end, new start, new end) by id, and (when applying) the reason."""

    user: object
    phases: dict[int, tuple[date, date, date, date]]
    releases: dict[int, tuple[date, date, date, date]]
    reason: str = ""


@dataclass
class Evaluation:
    """A what-if worked out: the impact as `what_if` answers it, and what applying it needs besides."""

    impact: dict
    plan: Plan
    dates: dict[str, tuple[date, date]]
    moves: dict[str, tuple[date, date, date, date]]
    windows: dict[int, tuple[date, date, date, date]]
    context: ImpactContext
    first_release_id: int


@dataclass
class _Request:
    index: int
    key: str
    kind: str
    pk: int
    shift_days: int | None
    new_start: date | None

    def __post_init__(self) -> None:
        self.given = "shift_days" if self.shift_days is not None else "new_start"  # the field a refusal names


def _field(index: int, name: str) -> str:
    return f"changes.{index}.{name}"


def _requests(changes) -> list[_Request]:
    """The changes, checked for shape: a list of 1 to 50, each an item key with a shift or a new start."""
    if isinstance(changes, (str, bytes, Mapping)) or not isinstance(changes, Iterable):
        raise ValidationFailed.field("changes", "Give the changes as a list.")
    changes = list(changes)
    if not changes:
        raise ValidationFailed.field(
            "changes", "Give at least one change: an item and a shift in working days or a new start."
        )
    if len(changes) > MAX_CHANGES:
        raise ValidationFailed.field("changes", f"Give at most {MAX_CHANGES} changes at once.")
    requests = []
    for index, change in enumerate(changes):
        if isinstance(change, Mapping):
            key = change.get("item", change.get("key"))
            shift, new_start = change.get("shift_days"), change.get("new_start")
        else:
            key = getattr(change, "key", None)
            shift, new_start = getattr(change, "shift_days", None), getattr(change, "new_start", None)
        try:
            kind, pk = parse_key(key)
        except ValueError:
            raise ValidationFailed.field(
                _field(index, "item"),
                f"{key!r} is not an item of the plan; give release:<id>, phase:<id>, milestone:<id> or gate:<id>.",
            ) from None
        if (shift is None) == (new_start is None):
            raise ValidationFailed.field(
                _field(index, "shift_days"),
                "Give either a shift in working days or a new start for each item, not both."
                if shift is not None
                else "Give a shift in working days or a new start for each item.",
            )
        if shift is not None:
            if isinstance(shift, bool) or not isinstance(shift, int):
                raise ValidationFailed.field(_field(index, "shift_days"), "A shift is a whole number of working days.")
            if abs(shift) > MAX_SHIFT_DAYS:
                raise ValidationFailed.field(
                    _field(index, "shift_days"),
                    f"A shift is at most {MAX_SHIFT_DAYS} working days (about two years) either way; got {shift}.",
                )
        if new_start is not None:
            if isinstance(new_start, str):
                try:
                    new_start = date.fromisoformat(new_start)
                except ValueError:
                    raise ValidationFailed.field(_field(index, "new_start"), "Enter a date as YYYY-MM-DD.") from None
            if not isinstance(new_start, date) or hasattr(new_start, "hour"):
                raise ValidationFailed.field(_field(index, "new_start"), "Enter a date as YYYY-MM-DD.")
            if not is_plausible_date(new_start):
                raise ValidationFailed.field(_field(index, "new_start"), IMPLAUSIBLE_DATE_MESSAGE)
        requests.append(_Request(index, key, kind, pk, shift, new_start))
    return requests


def _resolve(user, requests: list[_Request]) -> dict[str, int]:
    """`{key: release id}` of the changed items the user may see; any other is a 404 naming it."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for request in requests:
        wanted[request.kind].add(request.pk)
    found: dict[str, int] = {}
    for kind, pks in wanted.items():
        rows = _MODELS[kind].objects.restrict(user, "view").filter(pk__in=sorted(pks))
        if kind != "release":
            rows = rows.filter(release__in=Release.objects.restrict(user, "view"))
        fields = ("pk", "pk") if kind == "release" else ("pk", "release_id")
        for pk, release_id in rows.values_list(*fields):
            found[item_key(kind, pk)] = release_id
    for request in requests:
        if request.key not in found:
            message = f"There is no {request.kind} {request.pk}, or you may not see it."
            raise NotFound(message, errors=[(_field(request.index, "item"), message)])
    return found


def what_if(*, user, changes: list[Change], today: date | None = None) -> dict:
    """What `changes` would move, changing nothing: the impact, a JSON-ready dict.

    Keys: `changes` (as understood), `moved` (phases, milestones and gates, by release then start, each with the
    chain of items that moved it), `releases` (every release whose window or contents move), `trains` (those whose
    end moves), `in_freeze`, `postponed`, `critical_path`, `violations` (constraints newly broken), `impacts` (from
    the impact providers), `summary` and `fingerprint`. A change to a released or cancelled release or to a fixed
    item, a shift past `MAX_SHIFT_DAYS`, an item given twice is a 422; an item the user may not see a 404.
    """
    return evaluate(user=user, changes=changes, today=today).impact


def evaluate(*, user, changes, today: date | None = None, lock: Callable[[set[int]], None] | None = None) -> Evaluation:
    """`what_if` with what applying it needs besides. The services call it inside their transaction, with `lock`
    to lock the releases it will read before it reads them."""
    requests = _requests(changes)
    release_of = _resolve(user, requests)
    ids = affected_release_ids(set(release_of.values()))
    if lock is not None:
        lock(ids)
    plan = plan_for(ids, today=today)
    changed, carried, carriers = _changed_dates(plan, requests)
    moves = {**carried, **changed}
    # An item a change moves leaves the place it held in its release, phase or train phase (what still constrains
    # it are real dependencies: the phase before it, explicit ones); an item it carries keeps its place in what
    # carries it, and leaves only the places held from what stays.
    dropped = {
        id(dependency)
        for key in moves
        for dependency in plan.placements.get(key, ())
        if key in changed or dependency.predecessor not in moves
    }
    dependencies = [dependency for dependency in plan.dependencies if id(dependency) not in dropped]
    dependencies += _bounds_of_the_release_start(plan, dropped)
    try:
        before = engine.propagate(plan.items, dependencies, {})
        result = engine.propagate(plan.items, dependencies, moves)
    except CycleError as exc:
        raise stored_cycle(plan, exc.cycle) from None
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed.field("changes", f"The change cannot be worked out: {exc}") from None
    _refuse_held_back(plan, requests, changed, dependencies, result)
    return _evaluation(user, plan, requests, moves, carriers, dependencies, before, result)


def _bounds_of_the_release_start(plan: Plan, dropped: set[int]) -> list[Dependency]:
    """What bounds a release's start still bounds an item that left its place in the release.

    A phase or milestone moved on its own no longer hangs off its release's start, but the real dependencies that hold
    that start back (an FS or SS from another release, not a placement) hold it back too: each is copied onto it.
    """
    placement_ids = {id(dependency) for placed in plan.placements.values() for dependency in placed}
    left = [
        dependency
        for placed in plan.placements.values()
        for dependency in placed
        if id(dependency) in dropped and str(dependency.predecessor).startswith("release:")
    ]
    if not left:
        return []
    starts = {dependency.predecessor for dependency in left}
    bounds: dict[str, list[Dependency]] = defaultdict(list)
    for dependency in plan.dependencies:
        if (
            dependency.successor in starts
            and id(dependency) not in placement_ids
            and not engine.RULES[dependency.kind].on_end
        ):
            bounds[dependency.successor].append(dependency)
    return [
        Dependency(bound.predecessor, placed.successor, bound.kind, bound.lag)
        for placed in left
        for bound in bounds.get(placed.predecessor, ())
    ]


def _changed_dates(plan: Plan, requests: list[_Request]) -> tuple[dict[str, date], dict[str, date], dict[str, str]]:
    """The new start of each changed item, and of what it carries (a release's contents, a phase's milestones and
    gates keep their place in it, earlier as well as later), refusing what may not change."""
    changed: dict[str, date] = {}
    shifts: dict[str, int] = {}
    for request in requests:
        key, index = request.key, request.index
        item, label = plan.by_key[key], plan.labels[key]
        release = plan.releases[label.release_id]
        where = _field(index, request.given)
        if key in changed:
            raise ValidationFailed.field(
                _field(index, "item"), f"{plan.name(key)} is changed twice; give one change per item."
            )
        if release.closed:
            raise ValidationFailed.field(
                _field(index, "item"), f"{release.name} is {_status_word(release.status)}; its dates are history."
            )
        if key in plan.fixed:
            raise ValidationFailed.field(_field(index, "item"), plan.fixed[key])
        calendar = release.days
        if request.shift_days is not None:
            shift = request.shift_days
            try:
                new_start = calendar.add_working_days(item.start, shift) if shift else item.start
            except (ValueError, OverflowError):
                new_start = None
            if new_start is None or not is_plausible_date(new_start):
                raise ValidationFailed.field(
                    where, f"{plan.name(key)} cannot move that far: {IMPLAUSIBLE_DATE_MESSAGE}"
                )
        else:
            new_start = request.new_start
            shift = calendar.offset(item.start, new_start)
            if abs(shift) > MAX_SHIFT_DAYS:
                raise ValidationFailed.field(
                    where,
                    f"{_day(new_start)} is {abs(shift)} working days from the start of {plan.name(key)}; a change "
                    f"moves an item at most {MAX_SHIFT_DAYS} working days (about two years).",
                )
        if release.actual_start is not None and label.kind != "release":
            first = calendar.next_working_day(new_start)
            if first < release.actual_start:
                raise ValidationFailed.field(
                    where,
                    f"{plan.name(key)} cannot start on {_day(first)}, before {release.name} started "
                    f"({_day(release.actual_start)}).",
                )
        request.shift_days, request.new_start = shift, new_start
        changed[key], shifts[key] = new_start, shift

    carried: dict[str, date] = {}
    carriers: dict[str, str] = {}
    # Releases first, then phases: the innermost change a marker sits in wins. What is carried carries its own
    # contents in turn (a train phase the child phases that follow it, and their milestones and gates).
    queue = deque(sorted(changed, key=lambda key: (not key.startswith("release:"), key)))
    while queue:
        key = queue.popleft()
        shift = shifts[key]
        for content in plan.contents.get(key, ()):
            if content in changed or content in plan.fixed or carriers.get(content) == key:
                continue
            start = plan.by_key[content].start
            carried[content] = plan.days_of(content).add_working_days(start, shift) if shift else start
            if content not in carriers:
                queue.append(content)
            carriers[content] = key
            shifts[content] = shift
    return changed, carried, carriers


def _refuse_held_back(plan: Plan, requests: list[_Request], changed, dependencies, result) -> None:
    """Refuse a changed item that something fixed holds back: it would start before what has happened allows."""
    into: dict[str, list[Dependency]] = defaultdict(list)
    for dependency in dependencies:
        if dependency.successor in changed:
            into[dependency.successor].append(dependency)
    for request in requests:
        key = request.key
        calendar = plan.days_of(key)
        wanted = calendar.next_working_day(changed[key])
        start = result.dates[key][0]
        if start <= wanted:
            continue
        move = result.moved.get(key)
        origin = move.path[0] if move is not None and len(move.path) > 1 else None
        if origin not in plan.fixed:
            item = plan.by_key[key]
            wanted_end = calendar.working_end(wanted, item.duration)
            origin = next(
                (
                    dependency.predecessor
                    for dependency in into[key]
                    if dependency.predecessor in plan.fixed
                    and (wanted_end if engine.RULES[dependency.kind].on_end else wanted)
                    < engine.bound(dependency, *result.dates[dependency.predecessor], calendar)
                ),
                None,
            )
        if origin is not None:
            raise ValidationFailed.field(
                _field(request.index, request.given),
                f"{plan.name(key)} cannot start on {_day(wanted)}: it must follow {plan.name(origin)}. "
                f"{plan.fixed[origin]} The earliest {plan.name(key)} can start is {_day(start)}.",
            )


# The impact


def _shown(key: str) -> str:
    """The key a person sees: a release's hidden end is the release."""
    if key.startswith(f"{FINISH}:"):
        return "release:" + key.partition(":")[2]
    return key


def _path(plan: Plan, keys: Iterable[str]) -> list[dict]:
    steps: list[dict] = []
    for key in keys:
        shown = _shown(key)
        if not steps or steps[-1]["key"] != shown:
            steps.append({"key": shown, "name": plan.name(shown)})
    return steps


def _cause(steps: list[dict]) -> str:
    text = " → ".join(step["name"] for step in steps)
    return text if len(text) <= MAX_CAUSE_LENGTH else text[: MAX_CAUSE_LENGTH - 1] + "…"


def _postponed_past(plan: Plan, label: Label, window) -> dict | None:
    if not window:
        return None
    start, end = window
    occurrence = next(
        (
            occurrence
            for occurrence in plan.covering.get(label.release_id, ())
            if occurrence.category == FreezeCategory.DEPLOYMENT and (occurrence.start, occurrence.end) == (start, end)
        ),
        None,
    )
    return {"name": occurrence.name if occurrence else "A deployment freeze", "start": _iso(start), "end": _iso(end)}


def _window(plan: Plan, release: ReleaseInfo, dates, moves) -> tuple[date, date, date, date]:
    """The release's window before and after: the span of the release item and all its phases and milestones (it
    widens to cover them; it moves only when the release itself moves)."""
    key = release.key
    start, end = dates[key] if key in moves else (release.planned_start, release.planned_end)
    end = max(end, dates[finish_key(release.id)][1])
    for content in plan.contents.get(key, ()):
        if plan.labels[content].kind in ("phase", "milestone"):
            first, last = dates[content]
            start, end = min(start, first), max(end, last)
    return release.planned_start, release.planned_end, start, end


def _violation_sentence(plan: Plan, dependency: Dependency, dates) -> str:
    """A broken constraint in words: what must happen when, what it follows, and why it cannot move."""
    successor, predecessor = dependency.successor, dependency.predecessor
    calendar = plan.days_of(successor)
    bound = engine.bound(dependency, *dates[predecessor], calendar)
    which = "end" if engine.RULES[dependency.kind].on_end else "start"
    how = DependencyKind(dependency.kind).label.lower()
    if dependency.lag:
        days = abs(dependency.lag)
        how += f", {days} working day{'s' if days != 1 else ''} {'later' if dependency.lag > 0 else 'earlier'}"
    reason = plan.fixed.get(successor) or "The plan already broke this and nothing moved it."
    return (
        f"{plan.name(successor)} must {which} on or after {_day(bound)} to follow {plan.name(predecessor)} ({how}). "
        f"{reason}"
    )


def _fingerprint(moves, windows) -> str:
    """A digest of what the impact moves and from where: a plan that changed since the preview gives another."""
    rows = sorted(
        [(key, _iso(old_start), _iso(old_end)) for key, (old_start, old_end, _, _) in moves.items()]
        + [(f"window:{pk}", _iso(old_start), _iso(old_end)) for pk, (old_start, old_end, _, _) in windows.items()]
    )
    return hashlib.sha1(json.dumps(rows).encode(), usedforsecurity=False).hexdigest()


def _critical_changes(plan: Plan, dependencies: list[Dependency], dates, windows) -> list[dict]:
    """For each moved release, or the train of a moved child (with all its children), the items that became critical
    and those that no longer are, by the engine's forward and backward passes before and after the change."""
    if not windows:
        return []
    group_of: dict[str, tuple[int, int | None]] = {}
    for key, label in plan.labels.items():
        train = label.release_id if label.release_kind == ReleaseKind.ENTERPRISE else label.train_id
        group_of[key] = (label.release_id, train if train in plan.releases else None)
    own: dict[int, list[Dependency]] = defaultdict(list)
    in_train: dict[int, list[Dependency]] = defaultdict(list)
    for dependency in dependencies:
        pred, succ = group_of[dependency.predecessor], group_of[dependency.successor]
        if pred[0] == succ[0]:
            own[pred[0]].append(dependency)
        if pred[1] is not None and pred[1] == succ[1]:
            in_train[pred[1]].append(dependency)
    items_of: dict[int, list[Item]] = defaultdict(list)
    train_items: dict[int, list[Item]] = defaultdict(list)
    for item in plan.items:
        release_id, train = group_of[item.key]
        items_of[release_id].append(item)
        if train is not None:
            train_items[train].append(item)
    # A child of a train in the plan is measured with its train: one critical path per train, not one per child.
    groups = {group_of[plan.releases[pk].key][1] or pk for pk in windows}
    rows = []
    for release_id in sorted(groups, key=lambda pk: plan.releases[pk].name):
        release = plan.releases[release_id]
        is_train = release.kind == ReleaseKind.ENTERPRISE
        items = train_items[release_id] if is_train else items_of[release_id]
        links = in_train[release_id] if is_train else own[release_id]
        moved = [
            Item(item.key, *dates[item.key], item.calendar, fixed=item.fixed, blackouts=item.blackouts)
            for item in items
        ]
        try:
            was = set(engine.critical_path(items, links).critical)
            now = set(engine.critical_path(moved, links).critical)
        except ValueError:
            continue

        def named(keys, release_id=release_id):
            shown = [key for key in keys if plan.labels[key].kind in ("phase", "milestone", "gate")]
            shown.sort(key=lambda key: (dates[key][0], plan.name(key)))
            return [
                plan.labels[key].name if plan.labels[key].release_id == release_id else plan.name(key) for key in shown
            ]

        became, left = named(now - was), named(was - now)
        if became or left:
            rows.append(
                {"release_id": release_id, "name": release.name, "became_critical": became, "no_longer_critical": left}
            )
    return rows


def _evaluation(user, plan: Plan, requests, moves_asked, carriers, dependencies, before, result) -> Evaluation:
    labels, dates = plan.labels, result.dates
    postponed = result.postponed
    moves: dict[str, tuple[date, date, date, date]] = {}
    paths: dict[str, list[dict]] = {}
    for key, move in result.moved.items():
        moves[key] = (move.old_start, move.old_end, move.new_start, move.new_end)
        keys = list(move.path)
        if len(keys) == 1 and key in carriers:
            keys = [carriers[key], key]
        paths[key] = _path(plan, keys)

    unblocked = None
    if postponed:  # where the change alone would have put a postponed milestone: the same, without freezes
        plain = [Item(item.key, item.start, item.end, item.calendar, fixed=item.fixed) for item in plan.items]
        unblocked = engine.propagate(plain, dependencies, moves_asked).dates

    moved_rows = []
    per_release: dict[int, list[str]] = defaultdict(list)
    for key, (old_start, old_end, new_start, new_end) in moves.items():
        label = labels[key]
        per_release[label.release_id].append(key)
        if label.kind not in ("phase", "milestone", "gate"):
            continue
        moved_rows.append(
            {
                "key": key,
                "kind": label.kind,
                "id": label.id,
                "name": label.name,
                "release_id": label.release_id,
                "release_name": label.release_name,
                "old_start": _iso(old_start),
                "old_end": _iso(old_end),
                "new_start": _iso(new_start),
                "new_end": _iso(new_end),
                "shift_days": plan.releases[label.release_id].days.offset(old_start, new_start),
                "path": paths[key],
                "postponed_past": _postponed_past(plan, label, postponed.get(key)),
                "url": label.url,
            }
        )
    moved_rows.sort(key=lambda row: (row["release_name"], row["new_start"], row["name"], row["key"]))

    windows: dict[int, tuple[date, date, date, date]] = {}
    release_rows = []
    for release_id, keys in per_release.items():
        release = plan.releases[release_id]
        windows[release_id] = old_start, old_end, new_start, new_end = _window(plan, release, dates, moves)
        contents = [key for key in keys if labels[key].kind in ("phase", "milestone", "gate")]
        if contents:
            first = min(contents, key=lambda key: (moves[key][2], key))
        else:
            first = release.key if release.key in moves else finish_key(release_id)
        release_rows.append(
            {
                "id": release.id,
                "name": release.name,
                "kind": release.kind,
                "train_id": release.train_id,
                "url": release.url,
                "old_start": _iso(old_start),
                "old_end": _iso(old_end),
                "new_start": _iso(new_start),
                "new_end": _iso(new_end),
                "start_shift_days": release.days.offset(old_start, new_start),
                "end_shift_days": release.days.offset(old_end, new_end),
                "items_moved": len(contents),
                "cause": _cause(paths[first]),
            }
        )
    release_rows.sort(key=lambda row: (row["new_start"], row["name"]))
    trains = [row for row in release_rows if row["kind"] == ReleaseKind.ENTERPRISE and row["old_end"] != row["new_end"]]

    in_freeze = []
    for key, (_, _, new_start, _) in moves.items():
        label = labels[key]
        if label.kind != "milestone":
            continue
        occurrence = next((o for o in plan.covering.get(label.release_id, ()) if o.covers(new_start)), None)
        if occurrence is not None:
            in_freeze.append(
                {
                    "key": key,
                    "name": label.name,
                    "release_name": label.release_name,
                    "date": _iso(new_start),
                    "freeze": occurrence.name,
                }
            )
    in_freeze.sort(key=lambda row: (row["date"], row["release_name"], row["name"]))

    postponed_rows = []
    for key, window in postponed.items():
        label = labels[key]
        postponed_rows.append(
            {
                "key": key,
                "name": label.name,
                "release_name": label.release_name,
                "from": _iso(unblocked[key][0]),
                "to": _iso(dates[key][0]),
                "freeze": _postponed_past(plan, label, window)["name"],
            }
        )
    postponed_rows.sort(key=lambda row: (row["to"], row["release_name"], row["name"]))

    broken_before = {violation.dependency for violation in before.violations}
    violations = [
        {"message": _violation_sentence(plan, violation.dependency, dates)}
        for violation in result.violations
        if violation.dependency not in broken_before
    ]

    context = ImpactContext(
        user=user,
        phases={labels[key].id: moves[key] for key in moves if labels[key].kind == "phase"},
        releases=dict(windows),
    )
    impact = {
        "changes": [
            {
                "item": request.key,
                "name": plan.name(request.key),
                "shift_days": request.shift_days,
                "new_start": _iso(request.new_start),
            }
            for request in requests
        ],
        "moved": moved_rows,
        "releases": release_rows,
        "trains": trains,
        "in_freeze": in_freeze,
        "postponed": postponed_rows,
        "critical_path": _critical_changes(plan, dependencies, dates, windows),
        "violations": violations,
        "impacts": _previews(context),
        "summary": {
            "items_moved": len(moved_rows),
            "releases_moved": len(release_rows),
            "trains_moved": len(trains),
            "latest_end_shift_days": max((row["end_shift_days"] for row in release_rows), default=0),
        },
        "fingerprint": _fingerprint(moves, windows),
    }
    first_release = labels[requests[0].key].release_id
    return Evaluation(impact, plan, dates, moves, windows, context, first_release)


# Critical path of one release or train


def release_critical_path(release: Release | int, *, today: date | None = None) -> dict:
    """Total float and criticality of each phase, milestone and open gate of a release (a train with its
    children's), by the engine's forward and backward passes over its plan. A stored cycle of dependencies among
    them is refused as `what_if` refuses it (`stored_cycle`, a 422 naming it)."""
    release_id = getattr(release, "pk", release)
    ids = {release_id, *Release.objects.filter(train_id=release_id).values_list("pk", flat=True)}
    plan = plan_for(ids, today=today)
    if release_id not in plan.releases:
        raise NotFound("Release not found.")
    in_scope = [item for item in plan.items if plan.labels[item.key].release_id in ids]
    try:
        result = engine.critical_path(in_scope, plan.dependencies)
    except CycleError as exc:
        raise stored_cycle(plan, exc.cycle) from None
    critical = set(result.critical)
    rows = []
    for item in in_scope:
        label = plan.labels[item.key]
        if label.kind not in ("phase", "milestone", "gate") or (label.kind == "gate" and item.fixed):
            continue
        rows.append(
            {
                "key": item.key,
                "kind": label.kind,
                "id": label.id,
                "name": label.name,
                "release_id": label.release_id,
                "release_name": label.release_name,
                "start": item.start,
                "end": item.end,
                "total_float": result.total_float[item.key],
                "critical": item.key in critical,
            }
        )
    rows.sort(key=lambda row: (row["start"], row["release_name"], row["name"]))
    return {"release_id": release_id, "project_end": result.project_end, "items": rows}


def release_critical_phase_ids(release: Release | int, *, today: date | None = None) -> list[int]:
    """The ids of the release's own phases on its critical path (refused as `release_critical_path` refuses a
    stored cycle)."""
    release_id = getattr(release, "pk", release)
    return [
        row["id"]
        for row in release_critical_path(release_id, today=today)["items"]
        if row["kind"] == "phase" and row["critical"] and row["release_id"] == release_id
    ]


# Impact providers: what later apps (environment bookings, test capacity) say about a schedule change


@dataclass(frozen=True)
class ImpactProvider:
    """A registered provider: `preview(context)` lists what a change would disturb (dicts with `text`, `url`,
    `severity`); `apply(context, actor)` follows the change inside the applying transaction."""

    key: str
    title: str
    preview: Callable[[ImpactContext], list[dict]]
    apply: Callable[[ImpactContext, object], None] | None = None


_PROVIDERS: dict[str, ImpactProvider] = {}


def register_impact_provider(
    key: str,
    title: str,
    preview: Callable[[ImpactContext], list[dict]],
    apply: Callable[[ImpactContext, object], None] | None = None,
) -> None:
    """Have `preview` consulted by every what-if (its items listed under `title`) and `apply` called by every
    applied change; registering a key again replaces it. Apps call this from their `AppConfig.ready()`."""
    if not key or not title:
        raise ValueError("An impact provider needs a key and a title.")
    _PROVIDERS[key] = ImpactProvider(key=key, title=title, preview=preview, apply=apply)


def unregister_impact_provider(key: str) -> None:
    """Forget a provider (tests register fakes and remove them again)."""
    _PROVIDERS.pop(key, None)


def impact_providers() -> list[ImpactProvider]:
    """The registered providers, in the order they registered."""
    return list(_PROVIDERS.values())


def _previews(context: ImpactContext) -> list[dict]:
    sections = []
    for provider in impact_providers():
        notes = []
        for note in provider.preview(context) or ():
            notes.append(
                {"text": str(note.get("text", "")), "url": note.get("url"), "severity": note.get("severity", "warning")}
            )
        sections.append({"key": provider.key, "title": provider.title, "items": notes})
    return sections


def apply_providers(context: ImpactContext, actor) -> None:
    """Let every provider follow an applied change (called by the services inside their transaction)."""
    for provider in impact_providers():
        if provider.apply is not None:
            provider.apply(context, actor)
