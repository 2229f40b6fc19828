"""The one staffing rule: a team's allocated person-days against its capacity, ISO week by ISO week.

Pure Python on plain values (the selectors translate rows into them), so the arithmetic is tested on its own.

- A week's capacity is the team's capacity in person-days per week, scaled by the working days of that week in
  the team's calendar over a normal week's working days (a week with a public holiday has less).
- An allocation in person-days per week adds `amount` per normal week; one in % of capacity adds that share of
  the team's capacity. Either way it is scaled by the working days of the week that fall in its period, so partial
  weeks and holidays count pro rata, and allocation and capacity shrink together.
- A team-week is over-allocated when allocated person-days exceed its capacity. Nothing is ever capped.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from launchdeck.portfolio.periods import iso_weeks
from launchdeck.scheduling.calendar import WorkingCalendar

EPSILON = 1e-9


@dataclass(frozen=True)
class TeamCapacity:
    id: int
    name: str
    department_id: int
    department: str
    capacity: float
    calendar: WorkingCalendar


@dataclass(frozen=True)
class AllocationSpan:
    id: int
    team_id: int
    initiative_id: int
    start: datetime.date
    end: datetime.date
    percent: bool
    amount: float


@dataclass
class TeamWeek:
    """One team in one ISO week."""

    monday: datetime.date
    sunday: datetime.date
    capacity: float
    allocated: float = 0.0
    by_initiative: dict[int, float] = field(default_factory=dict)

    @property
    def over_allocated(self) -> bool:
        return self.allocated > self.capacity + EPSILON

    @property
    def load_percent(self) -> float | None:
        """Allocated as a percentage of capacity; None for a week without capacity."""
        return self.allocated / self.capacity * 100 if self.capacity > EPSILON else None


@dataclass
class TeamLoad:
    """A team's weeks over the window asked about."""

    team: TeamCapacity
    weeks: list[TeamWeek]

    @property
    def over_allocated_weeks(self) -> list[TeamWeek]:
        return [week for week in self.weeks if week.over_allocated]

    @property
    def peak_percent(self) -> float | None:
        loads = [week.load_percent for week in self.weeks if week.load_percent is not None]
        return max(loads) if loads else None


class _WorkingDays:
    """Working days of one calendar over a window, answered by prefix sums in constant time."""

    def __init__(self, calendar: WorkingCalendar, first: datetime.date, last: datetime.date):
        self.first = first
        self.prefix = [0]
        day = first
        while day <= last:
            self.prefix.append(self.prefix[-1] + (1 if calendar.is_working_day(day) else 0))
            if day == datetime.date.max:
                break
            day += datetime.timedelta(days=1)
        self.normal_week = 7 - len(calendar.weekend)

    def between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days from `start` to `end`, both included (clipped to the window)."""
        low = max(0, (start - self.first).days)
        high = min(len(self.prefix) - 1, (end - self.first).days + 1)
        return self.prefix[high] - self.prefix[low] if high > low else 0


def weekly_load(
    teams: Iterable[TeamCapacity],
    allocations: Iterable[AllocationSpan],
    first: datetime.date,
    last: datetime.date,
) -> list[TeamLoad]:
    """Every team's ISO weeks touching `first`..`last`, with allocated person-days against capacity."""
    weeks = list(iso_weeks(first, last))
    if not weeks:
        return []
    window_first, window_last = weeks[0][0], weeks[-1][1]
    calendars: dict[WorkingCalendar, _WorkingDays] = {}
    loads: dict[int, TeamLoad] = {}
    for team in teams:
        days = calendars.get(team.calendar)
        if days is None:
            days = calendars[team.calendar] = _WorkingDays(team.calendar, window_first, window_last)
        loads[team.id] = TeamLoad(
            team=team,
            weeks=[
                TeamWeek(monday, sunday, team.capacity * days.between(monday, sunday) / days.normal_week)
                for monday, sunday in weeks
            ],
        )
    index_of = {monday: index for index, (monday, _) in enumerate(weeks)}
    for allocation in allocations:
        load = loads.get(allocation.team_id)
        if load is None or allocation.end < window_first or allocation.start > window_last:
            continue
        days = calendars[load.team.calendar]
        per_week = load.team.capacity * allocation.amount / 100 if allocation.percent else allocation.amount
        start, end = max(allocation.start, window_first), min(allocation.end, window_last)
        first_index = index_of[start - datetime.timedelta(days=start.weekday())]
        for week in load.weeks[first_index:]:
            if week.monday > end:
                break
            share = days.between(max(start, week.monday), min(end, week.sunday)) / days.normal_week
            person_days = per_week * share
            week.allocated += person_days
            week.by_initiative[allocation.initiative_id] = (
                week.by_initiative.get(allocation.initiative_id, 0.0) + person_days
            )
    return list(loads.values())
