"""Schedule dependencies between the demo's releases, and the history of the changes that moved their dates.

Releases wait for one another the way programmes do: a train for the one before it, a project release's SIT for the
interface another one builds, a UAT for what another release deploys. Links run only from an earlier train to a
later one of the same chain (a few consecutive trains of a portfolio), between two project releases of one train
from the one that starts first to the other, from a standalone release into a train (nothing waits for it besides),
or out of a train into a standalone release (that waits for nothing else). So they close no cycle, and a slip of one
train reaches the few trains chained after it, never the whole plan.

Each lag is worked out from the planned dates as the schedule engine reads them (on the successor's calendar), so
that every dependency holds on the day the demo is loaded: most exactly (a slip pushes the successor at once), some
with a few working days to spare (a small slip is absorbed).

The `demo` preset creates its links through `releases.services.dependency_create`; the `enterprise` preset inserts
thousands of them, and the history entries that explain its slipped releases, in bulk, in the shape the services
write them.
"""

import datetime
import random
import uuid
from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise

from launchdeck.releases import services as releases
from launchdeck.releases.models import MAX_LAG_DAYS, ScheduleChange, ScheduleDependency
from launchdeck.releases.schedule import item_key
from launchdeck.scheduling import engine

SLIP_REASONS = (
    "Supplier delivery slipped",
    "SIT environment unavailable for a week after a failed refresh",
    "Critical defects found in system integration test",
    "Upstream API change not ready in time",
    "Testers moved to a regulatory deadline",
    "Scope added by the business after planning",
    "Vendor patch needed before go-live",
    "Data migration rehearsal failed reconciliation",
)
CLOSED = ("released", "cancelled")
# Trains of a portfolio are chained in runs of this many (one drawn per chain).
CHAIN_LENGTHS = (2, 3, 3, 4)
# Links between the project releases of two consecutive trains of a chain.
CHILD_LINKS_PER_PAIR = (2, 5)
# Shares of standalone releases that wait for a train's release, and that a train's release waits for.
SINK_SHARE, SOURCE_SHARE = 0.25, 0.15
# How far apart (calendar days) the two ends of a standalone release's link may lie.
STANDALONE_REACH_DAYS = 35
# How far into the future the change that slipped a release was decided at the latest, and how long before the work
# it moved.
DECIDED_BEFORE_DAYS = (2, 12)


@dataclass(frozen=True)
class _Link:
    """A kind of link: which item of each release (("phase", kind), ("milestone", kind), or None for the release
    itself), the dependency kind, the working days it may have to spare, and a note (with {predecessor} and
    {successor} for the two releases' names)."""

    predecessor: tuple[str, str] | None
    successor: tuple[str, str] | None
    kind: str
    spare: tuple[int, ...]
    note: str


BUILD_TO_SIT = _Link(
    ("phase", "build"), ("phase", "sit"), "FS", (0, 0, 2), "{successor} integrates the interface {predecessor} builds."
)
DEPLOY_TO_UAT = _Link(
    ("milestone", "deploy"), ("phase", "uat"), "FS", (0, 3), "{successor} tests against what {predecessor} deploys."
)
SHARED_SIT = _Link(
    ("phase", "sit"),
    ("phase", "sit"),
    "SS",
    (0, 5),
    "{predecessor} and {successor} share the SIT environment; {successor} goes second.",
)
FROZEN_CODE = _Link(
    ("milestone", "code_freeze"),
    ("phase", "sit"),
    "SS",
    (0, 2),
    "{successor} regression-tests the code {predecessor} has frozen.",
)
ONE_GO_LIVE = _Link(None, None, "FF", (0, 5), "One go-live at a time: {successor} finishes after {predecessor}.")
NO_OVERLAP = _Link(
    ("phase", "warranty"),
    ("phase", "release"),
    "SF",
    (0, 1),
    "{successor} may not finish its release before {predecessor} is in warranty.",
)
CHILD_LINKS = (BUILD_TO_SIT, DEPLOY_TO_UAT, SHARED_SIT, FROZEN_CODE, ONE_GO_LIVE, NO_OVERLAP)
CHILD_LINK_WEIGHTS = (30, 20, 15, 10, 15, 10)
# Between project releases of the same train (they deploy together, so not one's deploy before another's UAT).
TRAIN_LINKS = (BUILD_TO_SIT, SHARED_SIT, FROZEN_CODE, ONE_GO_LIVE)
TRAIN_LINK_WEIGHTS = (40, 25, 15, 20)
# Share of trains with links between their own project releases, and how many.
LINKED_TRAINS, LINKS_IN_TRAIN = 0.5, (1, 3)
NEXT_TRAIN = _Link(None, None, "SS", (0, 0, 5), "{successor} starts once {predecessor} is under way.")
NEEDS_DEPLOYED = _Link(
    ("milestone", "deploy"), ("phase", "sit"), "FS", (0, 2), "{successor} needs {predecessor} in production first."
)
NEEDS_LIVE = _Link(None, ("phase", "sit"), "FS", (0, 3), "The SIT of {successor} needs {predecessor} live.")
AFTER_TRAIN_SIT = _Link(
    ("phase", "sit"),
    ("phase", "uat"),
    "FS",
    (0,),
    "{successor} runs its UAT on the platform the SIT of {predecessor} signs off.",
)


@dataclass(eq=False)
class LinkPlan:
    """One dependency as the generator means it: the two release plans, their items (None: the release), kind, lag."""

    predecessor: object
    predecessor_item: object
    successor: object
    successor_item: object
    kind: str
    lag: int
    note: str


def span(plan, item) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a release plan, or of one of its phases or milestones."""
    if item is None:
        return plan.planned_start, plan.planned_end
    day = getattr(item, "date", None)
    return (day, day) if day is not None else (item.start, item.end)


def tight_lag(
    kind: str, before: tuple[datetime.date, datetime.date], after: tuple[datetime.date, datetime.date], calendar
) -> int:
    """The largest lag with which a `kind` dependency from `before` (first, last day) still lets `after` keep its
    dates, on the successor's calendar, as the schedule engine measures it (FS from the day after the predecessor's
    end, SS and SF from its start, FF from its end; FS and SS bound the successor's start, FF and SF its end;
    `engine.RULES`)."""
    rule = engine.RULES[kind]
    return engine.largest_lag(rule.anchor(*before), rule.bounded(*after), calendar)


def item_of(plan, which: tuple[str, str] | None):
    """The plan's phase or milestone of that kind (its first), the release itself for None, or False if it has none."""
    if which is None:
        return None
    what, kind = which
    items = plan.phases if what == "phase" else plan.milestones
    return next((item for item in items if item.template.kind == kind), False)


class Links:
    """Collects links, one per pair of items, each with the lag that keeps the plan as it is."""

    def __init__(self, rng: random.Random, calendar_of):
        self.rng = rng
        self.calendar_of = calendar_of
        self.made: list[LinkPlan] = []
        self.taken: set[tuple[int, int]] = set()

    def add(self, predecessor, link: _Link, successor) -> LinkPlan | None:
        """Link two release plans the way `link` says, if both have the items and the lag is in range."""
        before, after = item_of(predecessor, link.predecessor), item_of(successor, link.successor)
        if before is False or after is False or predecessor is successor:
            return None
        pair = (id(before if before is not None else predecessor), id(after if after is not None else successor))
        if pair in self.taken:
            return None
        calendar = self.calendar_of(successor)
        lag = tight_lag(link.kind, span(predecessor, before), span(successor, after), calendar)
        lag -= self.rng.choice(link.spare)
        if abs(lag) > MAX_LAG_DAYS:
            return None
        self.taken.add(pair)
        note = link.note.format(predecessor=predecessor.name, successor=successor.name)
        made = LinkPlan(predecessor, before, successor, after, link.kind, lag, note)
        self.made.append(made)
        return made


def _children(plans: list, *, cancelled: bool = False) -> dict[int, list]:
    """The project releases of each train (by the train plan's id), cancelled ones only if asked."""
    children: dict[int, list] = defaultdict(list)
    for plan in plans:
        if plan.train is not None and (cancelled or plan.status != "cancelled"):
            children[id(plan.train)].append(plan)
    return children


def _pair_links(links: Links, before, after, children: dict, kinds) -> None:
    """Links of the given kinds between the project releases of two consecutive trains, one per kind."""
    earlier, later = children[id(before)], children[id(after)]
    if not earlier or not later:
        return
    for link in kinds:
        for _ in range(4):  # another pair of releases if these two cannot be linked this way
            if links.add(links.rng.choice(earlier), link, links.rng.choice(later)) is not None:
                break


def _train_links(links: Links, train, children: dict, kinds) -> None:
    """Links of the given kinds between project releases of one train, always from one that starts earlier (by
    start, then name) to one that starts later, so that they close no cycle among themselves."""
    ordered = sorted(children[id(train)], key=lambda plan: (plan.planned_start, plan.name))
    if len(ordered) < 2:
        return
    for link in kinds:
        for _ in range(4):
            first, second = sorted(links.rng.sample(range(len(ordered)), 2))
            if links.add(ordered[first], link, ordered[second]) is not None:
                break


class _ByDay:
    """Plans sorted by a day of theirs, to find those whose day falls in a window."""

    def __init__(self, plans: list, day_of):
        rows = sorted(((day_of(plan), index, plan) for index, plan in enumerate(plans)), key=lambda row: row[:2])
        self.days = [row[0] for row in rows]
        self.plans = [row[2] for row in rows]

    def between(self, first: datetime.date, last: datetime.date) -> list:
        return self.plans[bisect_left(self.days, first) : bisect_right(self.days, last)]


def _standalone_links(links: Links, plans: list, candidates: list, *, sinks: float, sources: float) -> None:
    """Some standalone releases wait for a train's release to deploy (sinks); a train's release waits for some others
    to go live (sources). Each is linked once, so none of them joins two chains of trains."""
    deployed = [plan for plan in candidates if item_of(plan, ("milestone", "deploy"))]
    tested = [plan for plan in candidates if item_of(plan, ("phase", "sit"))]
    by_deploy = _ByDay(deployed, lambda plan: item_of(plan, ("milestone", "deploy")).date)
    by_sit = _ByDay(tested, lambda plan: item_of(plan, ("phase", "sit")).start)
    reach = datetime.timedelta(days=STANDALONE_REACH_DAYS)
    for plan in plans:
        draw = links.rng.random()
        if draw < sinks:
            sit = item_of(plan, ("phase", "sit"))
            found = by_deploy.between(sit.start - reach, sit.start - datetime.timedelta(days=1)) if sit else []
            if found:
                links.add(links.rng.choice(found), NEEDS_DEPLOYED, plan)
        elif draw < sinks + sources:
            found = by_sit.between(plan.planned_end + datetime.timedelta(days=1), plan.planned_end + reach)
            if found:
                links.add(plan, NEEDS_LIVE, links.rng.choice(found))


def enterprise_links(rng: random.Random, calendar_of, plans: list) -> list[LinkPlan]:
    """A few thousand links: trains of each portfolio chained in runs of two to four (each train waits for the one
    before, and two to five of its project releases for those of the train before), plus standalone releases
    waiting for, or waited for by, a train's release."""
    links = Links(rng, calendar_of)
    live = [plan for plan in plans if plan.status != "cancelled"]
    children = _children(live)
    by_portfolio: dict[int | None, list] = defaultdict(list)
    for plan in live:
        if plan.kind == "enterprise":
            by_portfolio[plan.portfolio.pk if plan.portfolio else None].append(plan)
    for portfolio in sorted(by_portfolio, key=lambda pk: pk or 0):
        trains = sorted(by_portfolio[portfolio], key=lambda plan: (plan.planned_start, plan.name))
        for train in trains:
            if rng.random() < LINKED_TRAINS:
                kinds = rng.choices(TRAIN_LINKS, TRAIN_LINK_WEIGHTS, k=rng.randint(*LINKS_IN_TRAIN))
                _train_links(links, train, children, kinds)
        index = 0
        while index < len(trains):
            chain = trains[index : index + rng.choice(CHAIN_LENGTHS)]
            index += len(chain)
            for before, after in pairwise(chain):
                links.add(before, NEXT_TRAIN, after)
                kinds = rng.choices(CHILD_LINKS, CHILD_LINK_WEIGHTS, k=rng.randint(*CHILD_LINKS_PER_PAIR))
                _pair_links(links, before, after, children, kinds)
    standalone = [plan for plan in live if plan.kind != "enterprise" and plan.train is None]
    in_trains = [plan for plan in live if plan.train is not None]
    _standalone_links(links, standalone, in_trains, sinks=SINK_SHARE, sources=SOURCE_SHARE)
    return links.made


def demo_links(rng: random.Random, calendar_of, plans: list) -> list[LinkPlan]:
    """A dozen or so links between open releases (the services refuse others), of all four kinds: two between the
    project releases of each open train, each open train waiting for the one before and one project release of it
    for one of the train before, a few standalone releases waiting for (or waited for by) a train's release, and
    the release whose UAT waits for the SIT of the next train (see `generator._near_freeze_release`)."""
    links = Links(rng, calendar_of)
    live = [plan for plan in plans if plan.status not in CLOSED]
    children = _children(live)
    trains = sorted((plan for plan in live if plan.kind == "enterprise"), key=lambda plan: plan.planned_start)
    within = ((BUILD_TO_SIT, ONE_GO_LIVE), (SHARED_SIT, FROZEN_CODE))
    for index, train in enumerate(trains):
        _train_links(links, train, children, within[index % len(within)])
    across = (DEPLOY_TO_UAT, NO_OVERLAP)
    for index, (before, after) in enumerate(pairwise(trains)):
        links.add(before, NEXT_TRAIN, after)
        _pair_links(links, before, after, children, (across[index % len(across)],))
    near = next((plan for plan in live if plan.showcase == "near_freeze"), None)
    if near is not None:
        links.add(near.waits_for, AFTER_TRAIN_SIT, near)
    standalone = [
        plan for plan in live if plan.kind != "enterprise" and plan.train is None and plan.showcase != "near_freeze"
    ]
    in_trains = [plan for plan in live if plan.train is not None]
    _standalone_links(links, standalone, in_trains, sinks=0.4, sources=0.3)
    return links.made


def engine_key(plan, item) -> str:
    """The key the services give an end: "release:12", "phase:34" or "milestone:56"."""
    if item is None:
        return item_key("release", plan.row.pk)
    kind = "milestone" if getattr(item, "date", None) is not None else "phase"
    return item_key(kind, item.row.pk)


def create_links(links: list[LinkPlan], actor) -> int:
    """Make each link through the services, as the release manager would one by one."""
    for link in links:
        releases.dependency_create(
            actor=actor,
            predecessor=engine_key(link.predecessor, link.predecessor_item),
            successor=engine_key(link.successor, link.successor_item),
            kind=link.kind,
            lag_days=link.lag,
            note=link.note,
        )
    return len(links)


def insert_links(links: list[LinkPlan], batch_size: int) -> int:
    """Insert the links in bulk, each row as `dependency_create` writes it."""

    def ends(plan, item) -> dict:
        milestone = getattr(item, "date", None) is not None
        return {
            "release_id": plan.row.pk,
            "phase_id": item.row.pk if item is not None and not milestone else None,
            "milestone_id": item.row.pk if milestone else None,
        }

    rows = []
    for link in links:
        before, after = ends(link.predecessor, link.predecessor_item), ends(link.successor, link.successor_item)
        rows.append(
            ScheduleDependency(
                predecessor_release_id=before["release_id"],
                predecessor_phase_id=before["phase_id"],
                predecessor_milestone_id=before["milestone_id"],
                successor_release_id=after["release_id"],
                successor_phase_id=after["phase_id"],
                successor_milestone_id=after["milestone_id"],
                predecessor_key=engine_key(link.predecessor, link.predecessor_item),
                successor_key=engine_key(link.successor, link.successor_item),
                kind=link.kind,
                lag_days=link.lag,
                note=link.note,
            )
        )
    ScheduleDependency.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


# History


def decided_on(rng: random.Random, calendar, first_moved: datetime.date, today: datetime.date) -> datetime.datetime:
    """When the change that moved work starting (as first planned) on `first_moved` was decided: a few days before
    that work was due, on a working day, and never after yesterday."""
    day = min(
        first_moved - datetime.timedelta(days=rng.randint(*DECIDED_BEFORE_DAYS)),
        today - datetime.timedelta(days=rng.randint(1, 5)),
    )
    day = calendar.previous_working_day(day)
    return datetime.datetime.combine(day, datetime.time(rng.randint(8, 17), rng.choice((0, 15, 30, 45))), datetime.UTC)


def _moved_items(plan) -> tuple[int, object]:
    """How many phases, milestones and gates of the plan sit elsewhere than in its baseline, and the first phase
    that does (by its first planned start)."""
    moved = [phase for phase in plan.phases if (phase.start, phase.end) != (phase.baseline_start, phase.baseline_end)]
    count = len(moved)
    count += sum(1 for milestone in plan.milestones if milestone.date != milestone.baseline)
    count += sum(1 for gate in plan.gates if gate.phase in moved)
    first = min(moved, key=lambda phase: phase.baseline_start, default=None)
    return count, first


def _history_row(plan, calendar, *, batch, occurred_at, actor, reason: str, cause: str, items: int) -> ScheduleChange:
    return ScheduleChange(
        release_id=plan.row.pk,
        batch=batch,
        occurred_at=occurred_at,
        actor_id=actor.pk,
        actor_name=actor.display_name,
        reason=reason,
        cause=cause[:300],
        old_start=plan.baseline_start,
        old_end=plan.baseline_end,
        new_start=plan.planned_start,
        new_end=plan.planned_end,
        start_shift_days=calendar.offset(plan.baseline_start, plan.planned_start),
        end_shift_days=calendar.offset(plan.baseline_end, plan.planned_end),
        items_moved=items,
    )


def insert_history(
    rng: random.Random, calendar_of, plans: list, holders: dict, today: datetime.date, batch_size: int
) -> int:
    """One applied change for every release that slipped since it was planned, in the shape `schedule_apply` writes:
    the release's entry (from its baseline to its planned dates) and, for a train, one for each child that inherits
    its dates and moved with it, in the same batch; decided by the release's owner (a release manager when the owner
    may not reschedule) a few days before the moved work was due. Releases still in draft have no baseline, and so
    no entry."""
    children = _children(plans, cancelled=True)
    may_reschedule = {user.pk for role in ("release_manager", "project_manager") for user in holders[role]}
    managers = holders["release_manager"][:6]
    rows = []
    for plan in plans:
        if not plan.slip or plan.inherits:
            continue
        items, first = _moved_items(plan)
        if first is None:
            continue
        calendar = calendar_of(plan)
        actor = plan.owner if plan.owner is not None and plan.owner.pk in may_reschedule else rng.choice(managers)
        batch = uuid.UUID(int=rng.getrandbits(128), version=4)
        occurred_at = decided_on(rng, calendar, first.baseline_start, today)
        reason = rng.choice(SLIP_REASONS)
        first_name = f"{first.template.name} of {plan.name}"
        common = {"batch": batch, "occurred_at": occurred_at, "actor": actor, "reason": reason}
        if plan.status != "draft":
            rows.append(_history_row(plan, calendar, cause=first_name, items=items, **common))
        for child in children[id(plan)]:
            if not child.inherits or child.status == "draft":
                continue
            child_items, child_first = _moved_items(child)
            if child_first is None:
                continue
            cause = f"{first_name} → {child_first.template.name} of {child.name}"
            rows.append(_history_row(child, calendar_of(child), cause=cause, items=child_items, **common))
    ScheduleChange.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)
