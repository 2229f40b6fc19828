"""Freeze windows in time: the occurrences of one-off and recurring windows, and which of them apply to a release.

The one place that expands a recurrence and the one rule for "this freeze covers that release" (DESIGN rule 4):
timelines shade these occurrences, the gate check and the release page flag deploy milestones inside them.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.db.models import IntegerField
from django.db.models.functions import Coalesce

from launchdeck.releases.choices import FreezeCategory, FreezeScope, MilestoneKind, Recurrence
from launchdeck.releases.models import FreezeWindow, Milestone, Release, ReleaseSystem

_STEPS = {
    Recurrence.WEEKLY: relativedelta(weeks=1),
    Recurrence.MONTHLY: relativedelta(months=1),
    Recurrence.YEARLY: relativedelta(years=1),
}
# A recurring window repeats at most this often within one question; ten years of weekly freezes is ~520.
MAX_OCCURRENCES = 1000
# The longest a window may last; services refuse longer ones.
MAX_LENGTH_DAYS = 366


def release_portfolio(release: str = "") -> Coalesce:
    """THE rule for the portfolio a release belongs to, as a query expression: its own portfolio, else its
    initiative's, else its project's initiative's (None when none of them has one).

    Filters, the timeline's grouping, the portfolio roll-up and report, and the freeze rule all read it from here:
    `Release.objects.annotate(belongs_to=release_portfolio())`, or from a row that points at a release,
    `Milestone.objects.annotate(belongs_to=release_portfolio("release"))`.
    """
    prefix = f"{release}__" if release else ""
    return Coalesce(
        f"{prefix}portfolio",
        f"{prefix}initiative__portfolio",
        f"{prefix}project__initiative__portfolio",
        output_field=IntegerField(),
    )


@dataclass(frozen=True)
class FreezeOccurrence:
    """One stretch of days (inclusive) in which a freeze window holds, with what it covers."""

    window_id: int
    name: str
    category: str
    scope: str
    start: date
    end: date
    portfolio_ids: frozenset[int] = frozenset()
    system_ids: frozenset[int] = frozenset()
    environment_types: frozenset[str] = frozenset()

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def freeze_occurrences(window: FreezeWindow, start: date, end: date) -> list[tuple[date, date]]:
    """The (first day, last day) stretches of `window` that overlap `start`..`end` inclusive."""
    length = window.ends_on - window.starts_on
    step = _STEPS.get(window.recurrence)
    if step is None:
        return [(window.starts_on, window.ends_on)] if window.starts_on <= end and window.ends_on >= start else []
    last_start = min(window.recurs_until or end, end)
    found = []
    for index in range(MAX_OCCURRENCES):
        # Step from the first occurrence each time, so 31 January recurs on the last day of shorter months.
        first = window.starts_on + step * index
        if first > last_start:
            break
        if first + length >= start:
            found.append((first, first + length))
    return found


def freezes_between(start: date, end: date, *, category: str | None = None) -> list[FreezeOccurrence]:
    """Every occurrence of every freeze window that overlaps `start`..`end`, in three queries."""
    # The last occurrence of a recurring window starts by `recurs_until` and lasts at most MAX_LENGTH_DAYS.
    reach = timedelta(days=MAX_LENGTH_DAYS)
    earliest_start = start - reach if start > date.min + reach else date.min
    windows = (
        FreezeWindow.objects.filter(starts_on__lte=end)
        .exclude(recurrence=Recurrence.NONE, ends_on__lt=start)
        .exclude(recurs_until__lt=earliest_start)
        .prefetch_related("portfolios", "systems")
    )
    if category:
        windows = windows.filter(category=category)
    occurrences = []
    for window in windows:
        portfolio_ids = frozenset(portfolio.pk for portfolio in window.portfolios.all())
        system_ids = frozenset(system.pk for system in window.systems.all())
        for first, last in freeze_occurrences(window, start, end):
            occurrences.append(
                FreezeOccurrence(
                    window_id=window.pk,
                    name=window.name,
                    category=window.category,
                    scope=window.scope,
                    start=first,
                    end=last,
                    portfolio_ids=portfolio_ids,
                    system_ids=system_ids,
                    environment_types=frozenset(window.environment_types or ()),
                )
            )
    occurrences.sort(key=lambda occurrence: (occurrence.start, occurrence.name))
    return occurrences


def freeze_applies(occurrence: FreezeOccurrence, *, portfolio_id: int | None, system_ids: set[int]) -> bool:
    """Whether a freeze covers a release in `portfolio_id` (the one it belongs to: `release_portfolio`) touching
    `system_ids`.

    Organisation-wide freezes cover every release; portfolio freezes the releases of those portfolios; system
    freezes the releases with any of those systems in scope. Environment freezes govern bookings, not releases.
    """
    if occurrence.scope == FreezeScope.ORGANISATION:
        return True
    if occurrence.scope == FreezeScope.PORTFOLIOS:
        return portfolio_id is not None and portfolio_id in occurrence.portfolio_ids
    if occurrence.scope == FreezeScope.SYSTEMS:
        return not occurrence.system_ids.isdisjoint(system_ids)
    return False


def deploy_milestones_in_freeze(release_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """For each release, its deploy milestones planned inside a deployment freeze that covers it.

    Answers `{release_id: [(milestone_id, freeze name), ...]}`, leaving out releases with none; four queries
    whatever the number of releases.
    """
    if not release_ids:
        return {}
    milestones = list(
        Milestone.objects.filter(release_id__in=release_ids, kind=MilestoneKind.DEPLOY).values_list(
            "pk", "release_id", "planned_date"
        )
    )
    if not milestones:
        return {}
    days = [day for _, _, day in milestones]
    occurrences = freezes_between(min(days), max(days), category=FreezeCategory.DEPLOYMENT)
    if not occurrences:
        return {}
    portfolios = dict(
        Release.objects.filter(pk__in=release_ids)
        .annotate(belongs_to=release_portfolio())
        .values_list("pk", "belongs_to")
    )
    systems: dict[int, set[int]] = defaultdict(set)
    if any(occurrence.scope == FreezeScope.SYSTEMS for occurrence in occurrences):
        for release_id, system_id in ReleaseSystem.objects.filter(release_id__in=release_ids).values_list(
            "release_id", "system_id"
        ):
            systems[release_id].add(system_id)
    flagged: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for milestone_id, release_id, day in milestones:
        for occurrence in occurrences:
            if occurrence.covers(day) and freeze_applies(
                occurrence, portfolio_id=portfolios.get(release_id), system_ids=systems[release_id]
            ):
                flagged[release_id].append((milestone_id, occurrence.name))
                break
    return dict(flagged)
