"""Release health and risk: THE one rule (DESIGN rule 4), pure Python on facts gathered in bulk.

`release_health(facts, today=...)` turns a release's `HealthFacts` into a `Health`: a 0-100 risk score, a status
and the factors that make up the score, each with the points it adds and a sentence a release manager reads.
The release page, the timeline, the portfolio roll-up, the reports and the API all call it; nothing else
computes health. `releases.selectors.release_health_facts` gathers the facts (a handful of aggregate queries).

The factors and their points (the score is their sum, capped at 100):

- ``schedule_slip``: 1 point per working day the planned end lies past the baseline end, counted on the release's
  working calendar (weekends, public holidays and closures: `HealthFacts.slip_working_days`, worked out by the
  selector with `launchdeck.scheduling.calendar`), up to 30. None without a baseline, none for a release planned to
  end on or before it, none when the days between are all non-working.
- ``overdue_milestones``: 8 points per milestone not reached whose planned date is before today, up to 24.
- ``overdue_gates``: 10 points per gate still open whose due date is before today, up to 30.
- ``rejected_gates``: 15 points per rejected gate, up to 30.
- ``overridden_gates``: 5 points per overridden gate (passed without meeting its criteria), up to 15.
- ``behind_schedule``: 1 point per 2 whole percentage points by which the share of the planned window that has
  passed exceeds the phases' progress, up to 30. Progress is the phases' % complete weighted by each phase's
  length in days; a phase marked done counts as complete, a skipped one not at all. None without phases or
  before the release starts.
- ``systems_in_scope``: 3 points per tier-1 system in scope, 2 per tier-2, 1 per tier-3, 0.5 per tier-4 (rounded
  down), up to 15.
- ``children`` (trains only): the worst child release, cancelled ones left out, lifts the train's score to at
  least the child's; the factor adds the difference.

Released and cancelled releases are history: overdue milestones and gates, elapsed time, systems in scope and
children no longer apply; their score keeps only the schedule slip and the gate history (rejected, overridden).

Status: **red** at a score of 50 or more, **amber** at 25 or more, **green** below 25 — so a rejected gate with two
overdue milestones and an overdue gate (51) is red, and one rejected gate with two overrides (25) is amber.

Adding risk never lowers the score: every factor grows with its facts, and the train's roll-up only lifts.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

GREEN, AMBER, RED = "green", "amber", "red"
STATUS_LABELS = {GREEN: "Green", AMBER: "Amber", RED: "Red"}
RED_FROM = 50
AMBER_FROM = 25
MAX_SCORE = 100

CLOSED = frozenset({"released", "cancelled"})

SLIP_POINTS_PER_DAY, SLIP_CAP = 1, 30
OVERDUE_MILESTONE_POINTS, OVERDUE_MILESTONE_CAP = 8, 24
OVERDUE_GATE_POINTS, OVERDUE_GATE_CAP = 10, 30
REJECTED_GATE_POINTS, REJECTED_GATE_CAP = 15, 30
OVERRIDDEN_GATE_POINTS, OVERRIDDEN_GATE_CAP = 5, 15
BEHIND_PERCENT_PER_POINT, BEHIND_CAP = 2, 30
TIER_WEIGHTS = {1: 3.0, 2: 2.0, 3: 1.0, 4: 0.5}
SYSTEMS_CAP = 15


@dataclass(frozen=True)
class HealthFacts:
    """Everything `release_health` needs about one release, counted as of the day the facts were gathered.

    `progress` is the phases' % complete weighted by each phase's length (None without phases);
    `systems_by_tier` counts the systems in scope of tiers 1, 2, 3 and 4; `children` are a train's child releases;
    `slip_working_days` is how many working days of the release's calendar lie after `baseline_end` up to and
    including `planned_end` (None without a baseline or when it ends on or before it).
    """

    release_id: int
    name: str
    planned_start: date
    planned_end: date
    kind: str = "project"
    status: str = "planned"
    baseline_end: date | None = None
    slip_working_days: int | None = None
    overdue_milestones: int = 0
    oldest_overdue_milestone: date | None = None
    overdue_gates: int = 0
    oldest_overdue_gate: date | None = None
    rejected_gates: int = 0
    overridden_gates: int = 0
    progress: float | None = None
    systems_by_tier: tuple[int, int, int, int] = (0, 0, 0, 0)
    children: tuple["HealthFacts", ...] = field(default=())


@dataclass(frozen=True)
class Factor:
    """One reason for risk: a stable key, a short label, a sentence for people and the points it adds."""

    key: str
    label: str
    detail: str
    points: int


@dataclass(frozen=True)
class Health:
    """A release's health: green, amber or red, a 0-100 risk score and the factors behind it."""

    status: str
    score: int
    factors: tuple[Factor, ...] = ()

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def status_for(score: int) -> str:
    """The status a score means: red from RED_FROM, amber from AMBER_FROM, green below."""
    if score >= RED_FROM:
        return RED
    if score >= AMBER_FROM:
        return AMBER
    return GREEN


def release_health(facts: HealthFacts, *, today: date, known: Mapping[int, Health] | None = None) -> Health:
    """The health of one release (and, for a train, of its children rolled up into it).

    `known` may hold healths already worked out for the same day, by release id; a train reuses its children's
    from it rather than working them out again (the bulk callers rate thousands of releases at once).
    """
    closed = facts.status in CLOSED
    factors = []
    own = 0
    for rule in _CLOSED_RULES if closed else _OPEN_RULES:
        factor = rule(facts, today)
        if factor is not None:
            factors.append(factor)
            own += factor.points
    own = min(MAX_SCORE, own)
    score = own
    if facts.children and not closed:
        lift = _children(facts, today, own, known or {})
        if lift is not None:
            factors.append(lift)
            score = own + lift.points
    return Health(status=status_for(score), score=score, factors=tuple(factors))


# The factors, each None or a Factor with positive points.


def _schedule_slip(facts: HealthFacts, today: date) -> Factor | None:
    days = facts.slip_working_days
    if facts.baseline_end is None or facts.planned_end <= facts.baseline_end or not days or days <= 0:
        return None
    span = _span(facts.baseline_end, facts.planned_end, today)
    return Factor(
        "schedule_slip",
        "Schedule slip",
        f"Planned end moved {_count(days, 'working day')} past its baseline ({span}), on the release's calendar.",
        min(SLIP_CAP, days * SLIP_POINTS_PER_DAY),
    )


def _overdue_milestones(facts: HealthFacts, today: date) -> Factor | None:
    count = facts.overdue_milestones
    if count <= 0:
        return None
    oldest = facts.oldest_overdue_milestone
    if count == 1:
        detail = "1 milestone is overdue" + (f": it was due {_when(oldest, today)}." if oldest else ".")
    else:
        detail = f"{count} milestones are overdue" + (
            f"; the oldest was due {_when(oldest, today)}." if oldest else "."
        )
    return Factor(
        "overdue_milestones",
        "Overdue milestones",
        detail,
        min(OVERDUE_MILESTONE_CAP, count * OVERDUE_MILESTONE_POINTS),
    )


def _overdue_gates(facts: HealthFacts, today: date) -> Factor | None:
    count = facts.overdue_gates
    if count <= 0:
        return None
    oldest = facts.oldest_overdue_gate
    if count == 1:
        detail = "1 gate is still open past its due date" + (f" of {_when(oldest, today)}." if oldest else ".")
    else:
        detail = f"{count} gates are still open past their due dates" + (
            f"; the oldest was due {_when(oldest, today)}." if oldest else "."
        )
    return Factor("overdue_gates", "Overdue gates", detail, min(OVERDUE_GATE_CAP, count * OVERDUE_GATE_POINTS))


def _rejected_gates(facts: HealthFacts, today: date) -> Factor | None:
    count = facts.rejected_gates
    if count <= 0:
        return None
    detail = "1 gate was rejected." if count == 1 else f"{count} gates were rejected."
    return Factor("rejected_gates", "Rejected gates", detail, min(REJECTED_GATE_CAP, count * REJECTED_GATE_POINTS))


def _overridden_gates(facts: HealthFacts, today: date) -> Factor | None:
    count = facts.overridden_gates
    if count <= 0:
        return None
    detail = (
        "1 gate was overridden: passed without meeting its criteria."
        if count == 1
        else f"{count} gates were overridden: passed without meeting their criteria."
    )
    return Factor(
        "overridden_gates", "Overridden gates", detail, min(OVERRIDDEN_GATE_CAP, count * OVERRIDDEN_GATE_POINTS)
    )


def elapsed_percent(facts: HealthFacts, today: date) -> float:
    """The share (0-100) of the planned window that has passed by the start of `today`."""
    window = (facts.planned_end - facts.planned_start).days + 1
    passed = (today - facts.planned_start).days
    return 100.0 * min(max(passed, 0), window) / window


def _behind_schedule(facts: HealthFacts, today: date) -> Factor | None:
    if facts.progress is None or today <= facts.planned_start:
        return None
    elapsed = elapsed_percent(facts, today)
    progress = min(max(facts.progress, 0.0), 100.0)
    behind = elapsed - progress
    points = min(BEHIND_CAP, int(behind // BEHIND_PERCENT_PER_POINT)) if behind > 0 else 0
    if points <= 0:
        return None
    return Factor(
        "behind_schedule",
        "Behind schedule",
        f"{elapsed:.0f}% of the planned window has passed but its phases are {progress:.0f}% complete "
        f"({behind:.0f} points behind).",
        points,
    )


def _systems_in_scope(facts: HealthFacts, today: date) -> Factor | None:
    tier1, tier2, tier3, tier4 = facts.systems_by_tier
    total = tier1 + tier2 + tier3 + tier4
    if total <= 0:
        return None
    weight = TIER_WEIGHTS
    points = min(SYSTEMS_CAP, int(weight[1] * tier1 + weight[2] * tier2 + weight[3] * tier3 + weight[4] * tier4))
    if points <= 0:
        return None
    tiers = ", ".join(
        f"{count} tier {tier}" for tier, count in ((1, tier1), (2, tier2), (3, tier3), (4, tier4)) if count
    )
    return Factor(
        "systems_in_scope",
        "Systems in scope",
        f"{_count(total, 'system')} in scope ({tiers}); tier 1 weighs most.",
        points,
    )


def _children(facts: HealthFacts, today: date, own: int, known: Mapping[int, Health]) -> Factor | None:
    rated = []
    for child in facts.children:
        if child.status == "cancelled":
            continue
        health = known.get(child.release_id)
        rated.append((health if health is not None else release_health(child, today=today), child))
    if not rated:
        return None
    rated.sort(key=lambda pair: (-pair[0].score, pair[1].name))
    worst_health, worst = rated[0]
    if worst_health.score <= own:
        return None
    others = sum(1 for health, _ in rated[1:] if health.status != GREEN)
    detail = f"Child release {worst.name} is {worst_health.status} (score {worst_health.score})."
    if others:
        detail += f" {_count(others, 'other child release')} {'is' if others == 1 else 'are'} amber or red."
    return Factor("children", "Child releases", detail, worst_health.score - own)


_OPEN_RULES = (
    _schedule_slip,
    _overdue_milestones,
    _overdue_gates,
    _rejected_gates,
    _overridden_gates,
    _behind_schedule,
    _systems_in_scope,
)
_CLOSED_RULES = (_schedule_slip, _rejected_gates, _overridden_gates)


# Words and days


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _day(day: date, *, with_year: bool) -> str:
    month = _MONTHS[day.month - 1]
    return f"{day.day} {month} {day.year}" if with_year else f"{day.day} {month}"


def _span(first: date, last: date, today: date) -> str:
    with_year = first.year != last.year or first.year != today.year
    return f"{_day(first, with_year=with_year)} → {_day(last, with_year=with_year)}"


def _when(day: date, today: date) -> str:
    ago = (today - day).days
    return f"{_day(day, with_year=day.year != today.year)} ({_count(ago, 'day')} ago)"
