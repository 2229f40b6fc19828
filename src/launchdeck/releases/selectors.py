"""Reading release planning: lists and pages, health in bulk, the consolidated timeline, the month calendar, the system
impact matrix, the printable reports and the portfolio roll-up.

Every function takes the user and applies `restrict(user, "view")` (None is the trusted operator and sees
everything), and reads what it returns in a fixed number of queries whatever the number of releases. The big
reads (health, timeline, roll-up) work on `values_list` rows and build plain dicts, never model instances.
"""

import calendar
import datetime
import gc
from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

import numpy as np
from dateutil.relativedelta import relativedelta
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from launchdeck.accounts.roles import role_label
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.graph import adjacency, closure
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.core.errors import NotFound, ValidationFailed
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar, Team
from launchdeck.portfolio.choices import IMPACT_ORDER, RAID_KINDS
from launchdeck.portfolio.models import Initiative, Portfolio, RegisterItem
from launchdeck.releases import checks
from launchdeck.releases.choices import (
    CLOSED_STATUSES,
    ApprovalDecision,
    DependencyKind,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.freezes import (
    FreezeOccurrence,
    deploy_milestones_in_freeze,
    freeze_applies,
    freeze_occurrences,
    freezes_between,
    release_portfolio,
)
from launchdeck.releases.health import AMBER, GREEN, RED, Health, HealthFacts, release_health
from launchdeck.releases.links import url_maker
from launchdeck.releases.models import (
    FreezeWindow,
    Gate,
    GateApproval,
    GateCriterion,
    GateTemplate,
    Milestone,
    MilestoneTemplate,
    Phase,
    PhaseTemplate,
    Release,
    ReleaseSystem,
    ReleaseTemplate,
    ScheduleChange,
    ScheduleDependency,
)
from launchdeck.releases.schedule import finish_key, item_key, plan_for, stored_cycle
from launchdeck.scheduling.calendar import STANDARD, WorkingCalendar
from launchdeck.scheduling.engine import CycleError
from launchdeck.scheduling.forecast import RatioSamples, monte_carlo, ratio_samples

MAX_TIMELINE_DAYS = 3 * 366
MAX_MATRIX_MONTHS = 24
MATRIX_SYSTEMS = 60
MATRIX_RELEASES = 80
# Above this many ids, one query over every release beats long IN lists (and SQLite's limit on parameters).
MAX_LISTED_IDS = 2000
STANDALONE_GROUP = "standalone"
STANDALONE_LABEL = "Independent and standalone"
OPEN_STATUSES = (ReleaseStatus.DRAFT, ReleaseStatus.PLANNED, ReleaseStatus.IN_PROGRESS)
DATE_FIELDS = {
    "planned_start": "Planned start",
    "planned_end": "Planned end",
    "baseline_start": "Baseline start",
    "baseline_end": "Baseline end",
    "actual_start": "Actual start",
    "actual_end": "Actual end",
    "planned_date": "Planned date",
    "baseline_date": "Baseline date",
    "actual_date": "Actual date",
    "due_date": "Due date",
}


@contextmanager
def _bulk():
    """Pause the cyclic garbage collector while a bulk read builds its rows.

    Those reads allocate tens of thousands of small objects that hold no cycles; left running, the collector walks
    the whole heap several times over for nothing (about 100 ms at 8,000 releases). Reference counting still frees
    everything as usual; the collector resumes, as it was, when the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _iso(day) -> str | None:
    """ISO text of a date (or of the text a cursor gave for one)."""
    if day is None:
        return None
    return day if isinstance(day, str) else day.isoformat()


def _as_date(value, field: str) -> date | None:
    """A date from a date or an ISO string (filters arrive both ways); a bad string is a field error."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.field(field, "Enter a date as YYYY-MM-DD.") from None


def _values(value) -> list[str] | None:
    """A filter that may be one value or several."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def _release_url():
    return url_maker("releases:release_detail", "/releases/{pk}/")


class DaysSpanned(Func):
    """The number of days from `start` to `end`, both counted (a one-day phase spans 1)."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: date - date is a whole number of days.
        return super().as_sql(
            compiler, connection, template="((%(expressions)s) + 1)", arg_joiner=" - ", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="(CAST(julianday(%(expressions)s) AS INTEGER) + 1)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


class DateText(Func):
    """A date column as its ISO text (YYYY-MM-DD), read by the database: JSON-bound rows skip parsing dates only to
    format them again."""

    output_field = CharField()
    arity = 1
    template = "CAST(%(expressions)s AS TEXT)"  # SQLite keeps dates as ISO text

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra_context)


# Releases


def _visible(user) -> QuerySet[Release]:
    return Release.objects.restrict(user, "view")


def _visible_systems(scope: QuerySet[ReleaseSystem], user) -> QuerySet[ReleaseSystem]:
    """Scope rows of the systems `user` may see. Only a narrowing restriction becomes a subquery: one over every
    system would lead SQLite to walk the scope from the systems' side."""
    systems = System.objects.restrict(user, "view")
    if systems.query.is_empty():
        return scope.none()
    if getattr(System, "restrict_scope", None) is not None:
        return scope.filter(system__in=systems)
    return scope


def filter_releases(releases: QuerySet[Release], filters: Mapping | None) -> QuerySet[Release]:
    """Narrow `releases` by the release filters (see `release_list`); empty values are ignored."""
    filters = dict(filters or {})
    search = (filters.get("search") or filters.get("q") or "").strip()
    if search:
        releases = releases.filter(name__icontains=search)
    if kinds := _values(filters.get("kind")):
        releases = releases.filter(kind__in=kinds)
    if statuses := _values(filters.get("status")):
        releases = releases.filter(status__in=statuses)
    if filters.get("open"):
        releases = releases.filter(status__in=OPEN_STATUSES)
    if train := filters.get("train"):
        releases = releases.filter(train_id=getattr(train, "pk", train))
    if portfolio := filters.get("portfolio"):
        releases = releases.alias(belongs_to=release_portfolio()).filter(belongs_to=getattr(portfolio, "pk", portfolio))
    if initiative := filters.get("initiative"):
        initiative = getattr(initiative, "pk", initiative)
        releases = releases.filter(Q(initiative_id=initiative) | Q(project__initiative_id=initiative))
    if project := filters.get("project"):
        releases = releases.filter(project_id=getattr(project, "pk", project))
    if department := filters.get("department"):
        department = getattr(department, "pk", department)
        releases = releases.filter(
            Q(initiative__department_id=department) | Q(project__initiative__department_id=department)
        )
    if system := filters.get("system"):
        releases = releases.filter(
            pk__in=ReleaseSystem.objects.filter(system_id=getattr(system, "pk", system)).values("release_id")
        )
    if owner := filters.get("owner"):
        releases = releases.filter(owner_id=getattr(owner, "pk", owner))
    start, end = _as_date(filters.get("start"), "start"), _as_date(filters.get("end"), "end")
    if start and end and end < start:
        raise ValidationFailed.field("end", "The end date cannot be before the start.")
    if start:
        releases = releases.filter(planned_end__gte=start)
    if end:
        releases = releases.filter(planned_start__lte=end)
    return releases


def release_list(*, user, filters: Mapping | None = None) -> QuerySet[Release]:
    """Releases with train, owner and links, how many children and systems in scope, by planned start.

    `filters` (each optional): `search` (in the name), `kind` and `status` (one or several), `open` (draft,
    planned or in progress), `train`, `portfolio` (the portfolio the release belongs to by `release_portfolio`: its
    own, else its initiative's, else its project's initiative's; not sub-portfolios), `initiative` (directly or
    through the project), `project`, `department` (the sponsoring department of the initiative or of the project's
    initiative), `system` (in scope), `owner`, and `start` / `end` (releases whose planned window overlaps them).
    """
    releases = (
        _visible(user)
        .select_related("train", "owner", "portfolio", "initiative", "initiative__department", "project", "template")
        .annotate(
            child_count=Coalesce(
                Subquery(
                    Release.objects.filter(train=OuterRef("pk"))
                    .order_by()
                    .values("train")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            ),
            system_count=Coalesce(
                Subquery(
                    ReleaseSystem.objects.filter(release=OuterRef("pk"))
                    .order_by()
                    .values("release")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            ),
        )
        .order_by("planned_start", "name")
    )
    return filter_releases(releases, filters)


def release_get(*, user, pk: int) -> Release:
    """One release with everything its page shows: phases, milestones, gates with criteria and approvals, the
    systems in scope and the child releases. Eight queries."""
    return (
        _visible(user)
        .select_related(
            "train",
            "owner",
            "portfolio",
            "initiative",
            "initiative__portfolio",
            "initiative__department",
            "project",
            "project__initiative",
            "template",
            "calendar",
        )
        .prefetch_related(
            Prefetch(
                "phases", queryset=Phase.objects.select_related("train_phase").order_by("position", "planned_start")
            ),
            Prefetch("milestones", queryset=Milestone.objects.select_related("phase").order_by("planned_date", "name")),
            Prefetch(
                "gates",
                queryset=Gate.objects.select_related("phase", "overridden_by")
                .prefetch_related(
                    Prefetch(
                        "criteria", queryset=GateCriterion.objects.select_related("met_by").order_by("position", "id")
                    ),
                    Prefetch(
                        "approvals", queryset=GateApproval.objects.select_related("approver").order_by("decided_at")
                    ),
                )
                .order_by("due_date", "name"),
            ),
            Prefetch("scope", queryset=ReleaseSystem.objects.select_related("system").order_by("system__name")),
            Prefetch("children", queryset=Release.objects.order_by("planned_start", "name")),
        )
        .get_visible(pk=pk)
    )


# Health


def _plain_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a `values_list` queryset straight from the database cursor.

    Skips Django's per-value converters, which cost more than the query itself for the thousands of aggregate rows
    the bulk health reads; callers normalise what differs between backends (see `_as_day`, `_as_number`).
    """
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _as_day(value) -> date | None:
    """A date from a cursor: SQLite answers an aggregated date as text, PostgreSQL as a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _as_number(value) -> float:
    """A number from a cursor: PostgreSQL sums integers as numeric (Decimal)."""
    return float(value or 0)


def _slip_working_days(rows) -> dict[int, int]:
    """`{release id: working days after its baseline end up to its planned end}` for the rows (of
    `release_health_facts`) planned to end after their baseline, each counted on its release's working calendar.

    In bulk: the rows grouped by calendar, each calendar read and built once (two queries when any release has one)
    and counted with one numpy call for all its releases.
    """
    slipped: dict[int | None, list[tuple[int, date, date]]] = defaultdict(list)
    for pk, *_, planned_end, baseline_end, _, calendar_id in rows:
        if baseline_end is None:
            continue
        planned_end, baseline_end = _as_day(planned_end), _as_day(baseline_end)
        if planned_end > baseline_end:
            slipped[calendar_id].append((pk, baseline_end, planned_end))
    if not slipped:
        return {}
    stored = [pk for pk in slipped if pk is not None]
    calendars = {
        calendar.pk: working_calendar(calendar)
        for calendar in (Calendar.objects.filter(pk__in=stored).prefetch_related("closures") if stored else ())
    }
    one_day = np.timedelta64(1, "D")
    slips = {}
    for calendar_id, items in slipped.items():
        calendar = calendars.get(calendar_id, STANDARD)
        ids, baselines, planned = zip(*items, strict=True)
        # Days after the baseline end up to and including the planned end: [baseline + 1, planned + 1).
        counted = calendar.working_days_between_many(
            np.asarray(baselines, dtype="datetime64[D]") + one_day, np.asarray(planned, dtype="datetime64[D]") + one_day
        )
        slips.update(zip(ids, counted.tolist(), strict=True))
    return slips


def release_health_facts(releases=None, *, today: date) -> dict[int, HealthFacts]:
    """The `HealthFacts` of some releases as of `today`, a train's with its children's.

    `releases` is None (every release), release ids, or a queryset of releases (read as a subquery, so thousands
    cost no more than a few). Five queries whatever the number: the releases, then per release in one aggregate
    each its overdue milestones, its gates by state, its phases' duration-weighted progress and its systems in
    scope by tier; two more when slipped releases have their own working calendars (the slip is counted in working
    days of each release's calendar). No restriction: callers pass the releases the user may see.
    """
    wanted: set[int] | None = None
    if releases is None:
        chosen = None
    elif isinstance(releases, QuerySet):
        chosen = releases.order_by().values("pk")
    else:
        wanted = {int(pk) for pk in releases}
        if not wanted:
            return {}
        # Long lists of ids cost more to send than reading every release and keeping the asked ones.
        chosen = sorted(wanted) if len(wanted) <= MAX_LISTED_IDS else None
    rows_query = Release.objects.order_by()
    if chosen is not None:
        rows_query = rows_query.filter(Q(pk__in=chosen) | Q(train_id__in=chosen))
    # Which rows were asked for, rather than read as a train's children: known here for ids, asked of the database
    # for a queryset.
    asked = (
        Case(When(pk__in=chosen, then=Value(1)), default=Value(0))
        if wanted is None and chosen is not None
        else Value(1)
    )
    rows = _plain_rows(
        rows_query.annotate(asked=asked).values_list(
            "pk",
            "name",
            "kind",
            "status",
            "train_id",
            "planned_start",
            "planned_end",
            "baseline_end",
            "asked",
            "calendar_id",
        )
    )
    if wanted is not None and chosen is None:
        rows = [row for row in rows if row[0] in wanted or row[4] in wanted]
    if not rows:
        return {}
    slips = _slip_working_days(rows)
    scope = {} if chosen is None else {"release_id__in": rows_query.values("pk")}

    overdue_milestones = {
        release_id: (count, _as_day(oldest))
        for release_id, count, oldest in _plain_rows(
            Milestone.objects.filter(**scope, actual_date__isnull=True, planned_date__lt=today)
            .order_by()
            .values("release_id")
            .annotate(count=Count("id"), oldest=Min("planned_date"))
            .values_list("release_id", "count", "oldest")
        )
    }
    open_overdue = Q(status=GateStatus.OPEN, due_date__lt=today)
    gates = {
        release_id: (overdue, _as_day(oldest), rejected, overridden)
        for release_id, overdue, oldest, rejected, overridden in _plain_rows(
            Gate.objects.filter(**scope)
            .filter(open_overdue | Q(status__in=[GateStatus.REJECTED, GateStatus.OVERRIDDEN]))
            .order_by()
            .values("release_id")
            .annotate(
                overdue=Count("id", filter=open_overdue),
                oldest=Min("due_date", filter=open_overdue),
                rejected=Count("id", filter=Q(status=GateStatus.REJECTED)),
                overridden=Count("id", filter=Q(status=GateStatus.OVERRIDDEN)),
            )
            .values_list("release_id", "overdue", "oldest", "rejected", "overridden")
        )
    }
    span = DaysSpanned("planned_start", "planned_end")
    done = Case(
        When(status=PhaseStatus.DONE, then=Value(100)), default=F("percent_complete"), output_field=IntegerField()
    )
    progress = {
        release_id: (_as_number(weighted) / _as_number(length) if length else None)
        for release_id, length, weighted in _plain_rows(
            Phase.objects.filter(**scope)
            .exclude(status=PhaseStatus.SKIPPED)
            .order_by()
            .values("release_id")
            .annotate(length=Sum(span), weighted=Sum(span * done))
            .values_list("release_id", "length", "weighted")
        )
    }
    tiers = {
        row[0]: row[1:]
        for row in _plain_rows(
            ReleaseSystem.objects.filter(**scope)
            .order_by()
            .values("release_id")
            .annotate(**{f"tier{tier}": Count("id", filter=Q(system__tier=tier)) for tier in (1, 2, 3, 4)})
            .values_list("release_id", "tier1", "tier2", "tier3", "tier4")
        )
    }

    no_milestones, no_gates, no_systems = (0, None), (0, None, 0, 0), (0, 0, 0, 0)
    own: dict[int, HealthFacts] = {}
    shown: list[int] = []
    children: dict[int, list[int]] = defaultdict(list)
    for pk, name, kind, status, train_id, planned_start, planned_end, baseline_end, is_asked, _ in rows:
        milestone_count, milestone_oldest = overdue_milestones.get(pk, no_milestones)
        gate_overdue, gate_oldest, rejected, overridden = gates.get(pk, no_gates)
        own[pk] = HealthFacts(
            release_id=pk,
            name=name,
            planned_start=_as_day(planned_start),
            planned_end=_as_day(planned_end),
            kind=kind,
            status=status,
            baseline_end=_as_day(baseline_end),
            slip_working_days=slips.get(pk),
            overdue_milestones=milestone_count,
            oldest_overdue_milestone=milestone_oldest,
            overdue_gates=gate_overdue,
            oldest_overdue_gate=gate_oldest,
            rejected_gates=rejected,
            overridden_gates=overridden,
            progress=progress.get(pk),
            systems_by_tier=tiers.get(pk, no_systems),
        )
        if train_id is not None:
            children[train_id].append(pk)
        if is_asked and (wanted is None or pk in wanted):
            shown.append(pk)
    facts = {}
    for pk in shown:
        item = own[pk]
        if pk in children:
            item = replace(item, children=tuple(own[child] for child in sorted(children[pk])))
        facts[pk] = item
    return facts


def release_health_map(
    *, user, release_ids=None, today: date | None = None, open_only: bool = False
) -> dict[int, Health]:
    """`{release id: Health}` for the releases the user may see: `release_ids` is None (all of them), ids, or a
    queryset of releases (read as a subquery); `open_only` leaves released and cancelled ones out. Five queries
    whatever the number."""
    today = _today(today)
    visible = _visible(user)
    if visible.query.is_empty():
        return {}
    if getattr(Release, "restrict_scope", None) is not None:
        # A model narrowing rows per user: keep to its rows rather than assume every release.
        release_ids = visible if release_ids is None else visible.filter(pk__in=release_ids)
    with _bulk():
        facts = release_health_facts(release_ids, today=today)
        if open_only:
            facts = {pk: item for pk, item in facts.items() if item.status in OPEN_STATUSES}
        return _rate(facts, today=today)


def _rate(facts: Mapping[int, HealthFacts], *, today: date) -> dict[int, Health]:
    """`release_health` of each of `facts`; trains last, reusing their children's health when it is among them."""
    rated: dict[int, Health] = {}
    trains = []
    for pk, item in facts.items():
        if item.children:
            trains.append((pk, item))
        else:
            rated[pk] = release_health(item, today=today)
    for pk, item in trains:
        rated[pk] = release_health(item, today=today, known=rated)
    return rated


def release_health_for(*, user, release: Release, today: date | None = None) -> Health:
    """The health of one release (a train's with its children), with every factor, for its page and the API."""
    health = release_health_map(user=user, release_ids=[release.pk], today=today).get(release.pk)
    if health is None:
        raise NotFound("Release not found.")
    return health


def release_home_summary(*, user) -> dict:
    """The home panel: the user's open releases (owned first, otherwise all they see) grouped by health."""
    visible = Release.objects.restrict(user, "view").exclude(status__in=CLOSED_STATUSES)
    own = visible.filter(owner=user)
    mine = own.exists()
    releases = list((own if mine else visible).select_related("train").order_by("planned_end", "name")[:200])
    health = release_health_map(user=user, release_ids=[release.pk for release in releases])
    counts = {"red": 0, "amber": 0, "green": 0}
    rows = []
    for release in releases:
        result = health.get(release.pk)
        if result is not None:
            counts[result.status] = counts.get(result.status, 0) + 1
        rows.append({"release": release, "health": result})
    worst = sorted(
        (row for row in rows if row["health"] is not None and row["health"].status != "green"),
        key=lambda row: (-row["health"].score, row["release"].planned_end),
    )
    return {"mine": mine, "total": len(rows), "counts": counts, "worst": worst[:6]}


# Scope suggestions


def release_regression_suggestions(*, user, release: Release) -> list[tuple[System, System]]:
    """Systems downstream of the release's impacted systems (depending on them, however indirectly) that are not yet
    in its scope, each with the impacted system it is reached from (the nearest one), nearest first.

    Three queries: the scope, the dependency edges, the suggested systems.
    """
    scope = list(
        ReleaseSystem.objects.filter(release__in=_visible(user).filter(pk=release.pk)).values_list(
            "system_id", "impact"
        )
    )
    in_scope = {system_id for system_id, _ in scope}
    impacted = sorted(system_id for system_id, impact in scope if impact == SystemImpact.IMPACTED)
    if not impacted:
        return []
    graph = adjacency(
        SystemDependency.objects.restrict(user, "view").values_list("source_id", "target_id"), reverse=True
    )
    best: dict[int, tuple[int, int]] = {}
    for origin in impacted:
        for reached in closure(graph, origin):
            if reached.system in in_scope:
                continue
            known = best.get(reached.system)
            if known is None or reached.depth < known[0]:
                best[reached.system] = (reached.depth, origin)
    if not best:
        return []
    systems = System.objects.restrict(user, "view").in_bulk([*best, *impacted])
    found = [
        (systems[pk], systems[origin], depth)
        for pk, (depth, origin) in best.items()
        if pk in systems and origin in systems
    ]
    found.sort(key=lambda item: (item[2], item[0].name.lower(), item[0].pk))
    return [(system, origin) for system, origin, _ in found]


# The consolidated timeline


def _check_window(start: date, end: date, *, most_days: int = MAX_TIMELINE_DAYS) -> None:
    if end < start:
        raise ValidationFailed.field("end", "The end date cannot be before the start.")
    if (end - start).days > most_days:
        raise ValidationFailed.field("end", "Show at most three years at a time.")


@_bulk()
def timeline_data(
    *,
    user,
    start: date,
    end: date,
    group_by: str = "train",
    portfolio=None,
    department=None,
    system=None,
    status=None,
    today: date | None = None,
) -> dict:
    """The consolidated timeline as JSON-ready data (the timeline page and `GET /api/v1/timeline` alike).

    Releases whose planned window overlaps `start`..`end` (filtered as `release_list` filters), each with its
    phases, milestones (deploy ones inside a deployment freeze flagged `in_freeze`), gates, health and score;
    the groups they fall in (`train`: a train and its children share the train's group, the rest share one
    "Independent and standalone" group; `portfolio`; `system`: a release shows in the group of every system in
    its scope); and every freeze occurrence in the window. About fifteen queries whatever the number of releases.
    """
    start, end = _as_date(start, "start"), _as_date(end, "end")
    if start is None or end is None:
        raise ValidationFailed.field("start" if start is None else "end", "Give both a start and an end date.")
    _check_window(start, end)
    if group_by not in ("train", "portfolio", "system"):
        raise ValidationFailed.field("group_by", "Group by train, portfolio or system.")
    today = _today(today)
    releases = filter_releases(
        _visible(user).filter(planned_start__lte=end, planned_end__gte=start),
        {"portfolio": portfolio, "department": department, "system": system, "status": status},
    )
    rows = _plain_rows(
        releases.order_by("planned_start", "name", "pk")
        .annotate(
            start_text=DateText("planned_start"), end_text=DateText("planned_end"), belongs_to=release_portfolio()
        )
        .values_list("pk", "name", "kind", "status", "train_id", "train__name", "start_text", "end_text", "belongs_to")
    )
    release_url = _release_url()
    result = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "today": today.isoformat(),
        "group_by": group_by,
        "groups": [],
        "releases": [],
        "freezes": [
            {
                "id": occurrence.window_id,
                "name": occurrence.name,
                "category": occurrence.category,
                "start": occurrence.start.isoformat(),
                "end": occurrence.end.isoformat(),
                "scope": occurrence.scope,
            }
            for occurrence in freezes_between(start, end)
        ],
    }
    if not rows:
        return result
    ids = [row[0] for row in rows]
    chosen = releases.order_by().values("pk")

    phases: dict[int, list] = defaultdict(list)
    for pk, release_id, name, kind, first, last, percent in _plain_rows(
        Phase.objects.restrict(user, "view")
        .filter(release_id__in=chosen)
        .order_by("release_id", "position", "planned_start", "pk")
        .annotate(start_text=DateText("planned_start"), end_text=DateText("planned_end"))
        .values_list("pk", "release_id", "name", "kind", "start_text", "end_text", "percent_complete")
    ):
        phases[release_id].append(
            {
                "id": pk,
                "name": name,
                "kind": kind,
                "start": _iso(first),
                "end": _iso(last),
                "percent": percent,
            }
        )
    frozen = {milestone_id for flagged in deploy_milestones_in_freeze(ids).values() for milestone_id, _ in flagged}
    milestones: dict[int, list] = defaultdict(list)
    for pk, release_id, name, kind, day in _plain_rows(
        Milestone.objects.restrict(user, "view")
        .filter(release_id__in=chosen)
        .order_by("release_id", "planned_date", "name")
        .annotate(day=DateText("planned_date"))
        .values_list("pk", "release_id", "name", "kind", "day")
    ):
        milestones[release_id].append(
            {"id": pk, "name": name, "kind": kind, "date": _iso(day), "in_freeze": pk in frozen}
        )
    gates: dict[int, list] = defaultdict(list)
    for pk, release_id, name, day, gate_status in _plain_rows(
        Gate.objects.restrict(user, "view")
        .filter(release_id__in=chosen)
        .order_by("release_id", "due_date", "name")
        .annotate(day=DateText("due_date"))
        .values_list("pk", "release_id", "name", "day", "status")
    ):
        gates[release_id].append({"id": pk, "name": name, "date": _iso(day), "status": gate_status})
    health = release_health_map(user=user, release_ids=releases, today=today)

    groups: dict[str, dict] = {}
    membership: dict[int, list[str]] = {}
    if group_by == "train":
        for pk, name, kind, _, train_id, train_name, *_ in rows:
            if kind == ReleaseKind.ENTERPRISE:
                key = f"t{pk}"
                groups.setdefault(key, {"id": key, "label": name, "url": release_url(pk)})
            elif train_id is not None:
                key = f"t{train_id}"
                groups.setdefault(key, {"id": key, "label": train_name, "url": release_url(train_id)})
            else:
                key = STANDALONE_GROUP
            membership[pk] = [key]
        if any(keys == [STANDALONE_GROUP] for keys in membership.values()):
            groups[STANDALONE_GROUP] = {"id": STANDALONE_GROUP, "label": STANDALONE_LABEL, "url": None}
    elif group_by == "portfolio":
        owners = {row[0]: row[8] for row in rows}
        portfolio_url = url_maker("portfolio:portfolio_view", "/portfolio/portfolios/{pk}/view/")
        names = dict(
            Portfolio.objects.restrict(user, "view")
            .filter(pk__in={pk for pk in owners.values() if pk})
            .values_list("pk", "name")
        )
        for pk, owner in owners.items():
            if owner in names:
                key = f"p{owner}"
                groups.setdefault(key, {"id": key, "label": names[owner], "url": portfolio_url(owner)})
            else:
                key = "p0"
                groups.setdefault(key, {"id": key, "label": "No portfolio", "url": None})
            membership[pk] = [key]
        groups = dict(sorted(groups.items(), key=lambda item: (item[0] == "p0", item[1]["label"].lower())))
    else:
        system_url = url_maker("catalog:system_detail", "/catalog/systems/{pk}/")
        for release_id, system_id, system_name in _plain_rows(
            _visible_systems(ReleaseSystem.objects.filter(release_id__in=chosen), user)
            .order_by("system__name", "release_id")
            .values_list("release_id", "system_id", "system__name")
        ):
            key = f"s{system_id}"
            groups.setdefault(key, {"id": key, "label": system_name, "url": system_url(system_id)})
            membership.setdefault(release_id, []).append(key)
        if len(membership) < len(rows):
            groups["s0"] = {"id": "s0", "label": "No system in scope", "url": None}
            for pk in ids:
                membership.setdefault(pk, ["s0"])
    result["groups"] = list(groups.values())

    unknown = Health(status=GREEN, score=0)
    for pk, name, kind, release_status, train_id, _, first, last, _ in rows:
        rated = health.get(pk, unknown)
        result["releases"].append(
            {
                "id": pk,
                "name": name,
                "groups": membership[pk],
                "kind": kind,
                "status": release_status,
                "health": rated.status,
                "score": rated.score,
                "start": _iso(first),
                "end": _iso(last),
                "url": release_url(pk),
                "train_id": train_id,
                "phases": phases.get(pk, []),
                "milestones": milestones.get(pk, []),
                "gates": gates.get(pk, []),
            }
        )
    return result


# The month calendar


def release_calendar(*, user, year: int, month: int, today: date | None = None) -> dict:
    """A month as weeks (Monday first) of days, each with the releases starting and ending on it, the milestones and
    gates due and the freezes covering it; days of the neighbouring months fill the first and last weeks.

    Dates are ISO strings (the page and the API alike). Eight queries.
    """
    if not 1 <= int(month) <= 12:
        raise ValidationFailed.field("month", "The month is 1 to 12.")
    if not 1900 <= int(year) <= 2999:
        raise ValidationFailed.field("year", "The year is 1900 to 2999.")
    year, month, today = int(year), int(month), _today(today)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1]
    release_url = _release_url()
    visible = _visible(user)
    days: dict[date, dict] = {
        day: {
            "date": day.isoformat(),
            "day": day.day,
            "in_month": day.month == month,
            "is_today": day == today,
            "weekend": day.weekday() >= 5,
            "starts": [],
            "ends": [],
            "milestones": [],
            "gates": [],
            "freezes": [],
        }
        for week in weeks
        for day in week
    }
    for pk, name, kind, status, planned_start, planned_end in (
        visible.filter(Q(planned_start__range=(first, last)) | Q(planned_end__range=(first, last)))
        .order_by("name")
        .values_list("pk", "name", "kind", "status", "planned_start", "planned_end")
    ):
        entry = {"id": pk, "name": name, "kind": kind, "status": status, "url": release_url(pk)}
        if planned_start in days:
            days[planned_start]["starts"].append(entry)
        if planned_end in days:
            days[planned_end]["ends"].append(entry)
    milestone_rows = list(
        Milestone.objects.restrict(user, "view")
        .filter(release__in=visible, planned_date__range=(first, last))
        .order_by("planned_date", "release__name", "name")
        .values_list("pk", "name", "kind", "planned_date", "actual_date", "release_id", "release__name")
    )
    deploy_releases = sorted({row[5] for row in milestone_rows if row[2] == MilestoneKind.DEPLOY})
    frozen = {
        milestone_id: window
        for flagged in deploy_milestones_in_freeze(deploy_releases).values()
        for milestone_id, window in flagged
    }
    for pk, name, kind, day, reached, release_id, release_name in milestone_rows:
        days[day]["milestones"].append(
            {
                "id": pk,
                "name": name,
                "kind": kind,
                "reached": reached is not None,
                "in_freeze": frozen.get(pk),
                "release_id": release_id,
                "release": release_name,
                "url": release_url(release_id),
            }
        )
    for pk, name, status, day, release_id, release_name in (
        Gate.objects.restrict(user, "view")
        .filter(release__in=visible, due_date__range=(first, last))
        .order_by("due_date", "release__name", "name")
        .values_list("pk", "name", "status", "due_date", "release_id", "release__name")
    ):
        days[day]["gates"].append(
            {
                "id": pk,
                "name": name,
                "status": status,
                "release_id": release_id,
                "release": release_name,
                "url": release_url(release_id),
            }
        )
    occurrences = freezes_between(first, last) if not visible.query.is_empty() else []
    for occurrence in occurrences:
        entry = {
            "id": occurrence.window_id,
            "name": occurrence.name,
            "category": occurrence.category,
            "scope": occurrence.scope,
        }
        day = max(occurrence.start, first)
        while day <= min(occurrence.end, last):
            days[day]["freezes"].append(entry)
            day += datetime.timedelta(days=1)
    previous = date(year, month, 1) - relativedelta(months=1)
    following = date(year, month, 1) + relativedelta(months=1)
    return {
        "year": year,
        "month": month,
        "title": date(year, month, 1).strftime("%B %Y"),
        "start": first.isoformat(),
        "end": last.isoformat(),
        "today": today.isoformat(),
        "previous": {"year": previous.year, "month": previous.month},
        "next": {"year": following.year, "month": following.month},
        "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "weeks": [[days[day] for day in week] for week in weeks],
    }


# The system impact matrix

IMPACT_VALUES = {SystemImpact.REGRESSION: 1, SystemImpact.IMPACTED: 2}


def impact_matrix(
    *,
    user,
    start: date,
    months: int = 6,
    max_systems: int = MATRIX_SYSTEMS,
    max_releases: int = MATRIX_RELEASES,
) -> dict:
    """Systems by releases active in the `months` from `start` (not cancelled), each cell the release's impact on the
    system (2 impacted, 1 regression-dependent), sized for a heat map.

    Rows are the systems most releases touch (at most `max_systems`), columns the releases touching most of those
    systems (at most `max_releases`) in order of start; `left_out` counts what did not fit. Two queries.
    """
    start = _as_date(start, "start")
    if start is None:
        raise ValidationFailed.field("start", "Give a start date.")
    months = int(months)
    if not 1 <= months <= MAX_MATRIX_MONTHS:
        raise ValidationFailed.field("months", f"Show 1 to {MAX_MATRIX_MONTHS} months.")
    end = start + relativedelta(months=months) - datetime.timedelta(days=1)
    releases = (
        _visible(user).filter(planned_start__lte=end, planned_end__gte=start).exclude(status=ReleaseStatus.CANCELLED)
    )
    release_rows = {
        row[0]: row
        for row in releases.order_by("planned_start", "name").values_list(
            "pk", "name", "kind", "status", "planned_start", "planned_end"
        )
    }
    cells = list(
        _visible_systems(ReleaseSystem.objects.filter(release__in=releases.order_by().values("pk")), user).values_list(
            "release_id", "system_id", "impact", "system__name", "system__tier"
        )
    )
    touching: dict[int, set[int]] = defaultdict(set)
    system_info = {}
    for release_id, system_id, _, system_name, tier in cells:
        touching[system_id].add(release_id)
        system_info[system_id] = (system_name, tier)
    ranked_systems = sorted(touching, key=lambda pk: (-len(touching[pk]), system_info[pk][0].lower(), pk))
    shown_systems = ranked_systems[:max_systems]
    shown_system_set = set(shown_systems)
    breadth: dict[int, int] = defaultdict(int)
    for release_id, system_id, *_ in cells:
        if system_id in shown_system_set:
            breadth[release_id] += 1
    with_scope = [pk for pk in release_rows if breadth.get(pk)]
    chosen = set(sorted(with_scope, key=lambda pk: (-breadth[pk], release_rows[pk][4], pk))[:max_releases])
    shown_releases = [pk for pk in release_rows if pk in chosen]  # in order of start
    columns = {pk: index for index, pk in enumerate(shown_releases)}
    rows = {pk: index for index, pk in enumerate(shown_systems)}
    release_url = _release_url()
    system_url = url_maker("catalog:system_detail", "/catalog/systems/{pk}/")
    left_out = {
        "systems": len(ranked_systems) - len(shown_systems),
        "releases": len(release_rows) - len(shown_releases),
    }
    notes = []
    if left_out["systems"]:
        notes.append(f"{left_out['systems']} less-touched systems are left out")
    if left_out["releases"]:
        notes.append(f"{left_out['releases']} releases touching none or few of these systems are left out")
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "months": months,
        "impact_levels": [
            {"value": value, "impact": impact, "label": SystemImpact(impact).label}
            for impact, value in sorted(IMPACT_VALUES.items(), key=lambda item: item[1])
        ],
        "systems": [
            {
                "id": pk,
                "name": system_info[pk][0],
                "tier": system_info[pk][1],
                "releases": len(touching[pk]),
                "url": system_url(pk),
            }
            for pk in shown_systems
        ],
        "releases": [
            {
                "id": pk,
                "name": release_rows[pk][1],
                "kind": release_rows[pk][2],
                "status": release_rows[pk][3],
                "start": release_rows[pk][4].isoformat(),
                "end": release_rows[pk][5].isoformat(),
                "url": release_url(pk),
            }
            for pk in shown_releases
        ],
        "cells": sorted(
            [columns[release_id], rows[system_id], IMPACT_VALUES.get(impact, 1)]
            for release_id, system_id, impact, *_ in cells
            if release_id in columns and system_id in rows
        ),
        "left_out": left_out,
        "note": ("; ".join(notes) + ".") if notes else "",
    }


# Reports


def _slip(baseline: date | None, planned: date | None) -> int | None:
    """Calendar days `planned` lies after `baseline` (negative: earlier); None without a baseline."""
    if baseline is None or planned is None:
        return None
    return (planned - baseline).days


def _health_out(health: Health) -> dict:
    return {
        "status": health.status,
        "label": health.label,
        "score": health.score,
        "factors": [
            {"key": factor.key, "label": factor.label, "detail": factor.detail, "points": factor.points}
            for factor in health.factors
        ],
    }


def _person(user) -> str | None:
    if user is None:
        return None
    name = getattr(user, "display_name", None)
    return name or user.get_username()


def _date_history(*, user, release: Release, phase_ids, milestone_ids, gate_ids, limit: int = 200) -> list[dict]:
    """Audit events of the release and its phases, milestones and gates that changed a date, newest first."""
    objects = Q(object_type="releases.release", object_id=str(release.pk))
    for object_type, pks in (
        ("releases.phase", phase_ids),
        ("releases.milestone", milestone_ids),
        ("releases.gate", gate_ids),
    ):
        if pks:
            objects |= Q(object_type=object_type, object_id__in=[str(pk) for pk in pks])
    history = []
    for event in AuditEvent.objects.restrict(user, "view").filter(objects).order_by("-occurred_at", "-id")[:2000]:
        old, new = event.old_data or {}, event.new_data or {}
        if not isinstance(old, dict) or not isinstance(new, dict):
            continue
        changes = [
            {"field": name, "label": label, "old": old.get(name), "new": new.get(name)}
            for name, label in DATE_FIELDS.items()
            if name in new
            and old.get(name) != new.get(name)
            and (name in old or not event.event_type.endswith(".created"))
        ]
        if not changes:
            continue
        history.append(
            {
                "occurred_at": event.occurred_at,
                "actor": event.actor_name or "system",
                "event_type": event.event_type,
                "object_type": event.object_type.split(".", 1)[-1],
                "object": event.object_repr,
                "changes": changes,
                "reason": event.reason,
            }
        )
        if len(history) >= limit:
            break
    return history


def release_report(*, user, release: Release, today: date | None = None) -> dict:
    """Everything the printable release report shows, as plain data: the release and its links, scope, dates
    (planned, baseline and actual of the release, each phase and milestone), gates with criteria, approvals and
    overrides, child releases, risks (the health factors and the open RAID items of its initiative and project) and
    the history of its date changes."""
    today = _today(today)
    release = release_get(user=user, pk=release.pk)
    health = release_health_for(user=user, release=release, today=today)
    phases = list(release.phases.all())
    milestones = list(release.milestones.all())
    gates = list(release.gates.all())
    children = list(release.children.all())
    frozen = {
        milestone_id: window for milestone_id, window in deploy_milestones_in_freeze([release.pk]).get(release.pk, [])
    }
    child_health = (
        release_health_map(user=user, release_ids=[child.pk for child in children], today=today) if children else {}
    )
    gate_rows = []
    for gate in gates:
        evaluation = checks.evaluate_gate(gate) if gate.status == GateStatus.OPEN else None
        results = {criterion.pk: (ok, detail) for criterion, ok, detail in (evaluation.criteria if evaluation else [])}
        gate_rows.append(
            {
                "id": gate.pk,
                "name": gate.name,
                "phase": gate.phase.name if gate.phase else None,
                "blocks": gate.blocks,
                "blocks_label": ReleaseStatus(gate.blocks).label,
                "due_date": gate.due_date,
                "overdue": gate.status == GateStatus.OPEN and gate.due_date < today,
                "status": gate.status,
                "status_label": gate.get_status_display(),
                "decided_at": gate.decided_at,
                "approver_roles": [role_label(role) for role in gate.approver_roles or ()],
                "approvals_missing": [
                    role_label(role) for role in (evaluation.approvals_missing if evaluation else ())
                ],
                "criteria": [
                    {
                        "text": criterion.text,
                        "kind": criterion.kind,
                        "kind_label": criterion.get_kind_display(),
                        "check_key": criterion.check_key,
                        "is_met": results.get(criterion.pk, (criterion.is_met, ""))[0],
                        "detail": results.get(criterion.pk, (None, ""))[1],
                        "met_by": _person(criterion.met_by),
                        "met_at": criterion.met_at,
                    }
                    for criterion in gate.criteria.all()
                ],
                "approvals": [
                    {
                        "role": approval.role,
                        "role_label": role_label(approval.role),
                        "approver": _person(approval.approver),
                        "decision": approval.decision,
                        "decision_label": ApprovalDecision(approval.decision).label,
                        "comment": approval.comment,
                        "decided_at": approval.decided_at,
                    }
                    for approval in gate.approvals.all()
                ],
                "override": (
                    {"reason": gate.override_reason, "by": _person(gate.overridden_by), "at": gate.decided_at}
                    if gate.status == GateStatus.OVERRIDDEN
                    else None
                ),
            }
        )
    register = RegisterItem.objects.restrict(user, "view").filter(kind__in=RAID_KINDS)
    links = Q()
    if release.initiative_id:
        links |= Q(initiative_id=release.initiative_id)
    if release.project_id:
        links |= Q(project_id=release.project_id)
    items = list(register.filter(links).select_related("owner")) if links else []
    items.sort(key=lambda item: (item.status == "closed", -IMPACT_ORDER.get(item.impact, 0), item.raised_on, item.pk))
    return {
        "generated_on": today,
        "release": {
            "id": release.pk,
            "name": release.name,
            "kind": release.kind,
            "kind_label": release.get_kind_display(),
            "status": release.status,
            "status_label": release.get_status_display(),
            "description": release.description,
            "owner": _person(release.owner),
            "train": {"id": release.train_id, "name": release.train.name} if release.train else None,
            "portfolio": {"id": release.portfolio_id, "name": release.portfolio.name} if release.portfolio else None,
            "initiative": (
                {"id": release.initiative_id, "name": release.initiative.name} if release.initiative else None
            ),
            "project": {"id": release.project_id, "name": release.project.name} if release.project else None,
            "template": release.template.name if release.template else None,
            "planned_start": release.planned_start,
            "planned_end": release.planned_end,
            "baseline_start": release.baseline_start,
            "baseline_end": release.baseline_end,
            "actual_start": release.actual_start,
            "actual_end": release.actual_end,
            "slip_days": _slip(release.baseline_end, release.planned_end),
            "url": _release_url()(release.pk),
        },
        "health": _health_out(health),
        "scope": [
            {
                "system_id": item.system_id,
                "system": item.system.name,
                "tier": item.system.tier,
                "impact": item.impact,
                "impact_label": item.get_impact_display(),
                "target_version": item.target_version,
            }
            for item in release.scope.all()
        ],
        "phases": [
            {
                "id": phase.pk,
                "name": phase.name,
                "kind": phase.kind,
                "kind_label": PhaseKind(phase.kind).label,
                "status": phase.status,
                "status_label": phase.get_status_display(),
                "planned_start": phase.planned_start,
                "planned_end": phase.planned_end,
                "baseline_start": phase.baseline_start,
                "baseline_end": phase.baseline_end,
                "actual_start": phase.actual_start,
                "actual_end": phase.actual_end,
                "percent_complete": phase.percent_complete,
                "slip_days": _slip(phase.baseline_end, phase.planned_end),
            }
            for phase in phases
        ],
        "milestones": [
            {
                "id": milestone.pk,
                "name": milestone.name,
                "kind": milestone.kind,
                "kind_label": milestone.get_kind_display(),
                "phase": milestone.phase.name if milestone.phase else None,
                "planned_date": milestone.planned_date,
                "baseline_date": milestone.baseline_date,
                "actual_date": milestone.actual_date,
                "slip_days": _slip(milestone.baseline_date, milestone.planned_date),
                "overdue": milestone.actual_date is None and milestone.planned_date < today,
                "in_freeze": frozen.get(milestone.pk),
            }
            for milestone in milestones
        ],
        "gates": gate_rows,
        "overrides": [{"gate": row["name"], **row["override"]} for row in gate_rows if row["override"] is not None],
        "children": [
            {
                "id": child.pk,
                "name": child.name,
                "status": child.status,
                "status_label": child.get_status_display(),
                "planned_start": child.planned_start,
                "planned_end": child.planned_end,
                "health": child_health[child.pk].status if child.pk in child_health else None,
                "score": child_health[child.pk].score if child.pk in child_health else None,
            }
            for child in children
        ],
        "risks": {
            "factors": _health_out(health)["factors"],
            "register": [
                {
                    "id": item.pk,
                    "kind": item.kind,
                    "kind_label": item.get_kind_display(),
                    "title": item.title,
                    "impact": item.impact,
                    "impact_label": item.get_impact_display(),
                    "status": item.status,
                    "status_label": item.get_status_display(),
                    "owner": _person(item.owner),
                    "raised_on": item.raised_on,
                    "url": item.get_absolute_url(),
                }
                for item in items
            ],
        },
        "date_history": _date_history(
            user=user,
            release=release,
            phase_ids=[phase.pk for phase in phases],
            milestone_ids=[milestone.pk for milestone in milestones],
            gate_ids=[gate.pk for gate in gates],
        ),
    }


def _portfolio_subtree(user, portfolio_id: int) -> list[int]:
    children = defaultdict(list)
    for pk, parent_id in Portfolio.objects.restrict(user, "view").values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, stack = [], [portfolio_id]
    while stack:
        pk = stack.pop()
        if pk in found:
            continue
        found.append(pk)
        stack.extend(children.get(pk, ()))
    return found


def _counts(statuses: Iterable[str]) -> dict:
    counts = {GREEN: 0, AMBER: 0, RED: 0}
    for status in statuses:
        counts[status] += 1
    return {**counts, "total": sum(counts.values())}


def portfolio_status_report(*, user, portfolio: Portfolio, today: date | None = None) -> dict:
    """The portfolio status report for a portfolio and everything under it: each initiative with its releases
    (status, dates, health and score, slip against the baseline, next milestone, open gates), the releases with no
    initiative shown here, and the green / amber / red totals. A release is in it when the portfolio it belongs to
    (`release_portfolio`: its own, else its initiative's, else its project's initiative's) is in the subtree. Ten
    queries whatever the size."""
    today = _today(today)
    subtree = _portfolio_subtree(user, portfolio.pk)
    initiatives = list(
        Initiative.objects.restrict(user, "view")
        .filter(portfolio_id__in=subtree)
        .select_related("portfolio", "department")
        .order_by("portfolio__name", "name")
    )
    shown_initiatives = {initiative.pk for initiative in initiatives}
    pending = Milestone.objects.filter(release=OuterRef("pk"), actual_date__isnull=True).order_by(
        "planned_date", "name"
    )
    open_gates = (
        Gate.objects.filter(release=OuterRef("pk"), status=GateStatus.OPEN)
        .order_by()
        .values("release")
        .annotate(count=Count("id"))
        .values("count")
    )
    rows = list(
        _visible(user)
        .alias(belongs_to=release_portfolio())
        .filter(belongs_to__in=subtree)
        .annotate(
            next_milestone=Subquery(pending.values("name")[:1]),
            next_milestone_date=Subquery(pending.values("planned_date")[:1]),
            open_gate_count=Coalesce(Subquery(open_gates), Value(0)),
        )
        .order_by("planned_start", "name")
        .values(
            "pk",
            "name",
            "kind",
            "status",
            "train_id",
            "planned_start",
            "planned_end",
            "baseline_end",
            "actual_end",
            "initiative_id",
            "project__initiative_id",
            "next_milestone",
            "next_milestone_date",
            "open_gate_count",
        )
    )
    health = release_health_map(user=user, release_ids=[row["pk"] for row in rows], today=today)
    release_url = _release_url()
    statuses = dict(ReleaseStatus.choices)
    by_initiative: dict[int | None, list[dict]] = defaultdict(list)
    for row in rows:
        rated = health.get(row["pk"], Health(status=GREEN, score=0))
        initiative_id = row["initiative_id"] or row["project__initiative_id"]
        by_initiative[initiative_id if initiative_id in shown_initiatives else None].append(
            {
                "id": row["pk"],
                "name": row["name"],
                "kind": row["kind"],
                "status": row["status"],
                "status_label": statuses.get(row["status"], row["status"]),
                "planned_start": row["planned_start"],
                "planned_end": row["planned_end"],
                "baseline_end": row["baseline_end"],
                "actual_end": row["actual_end"],
                "slip_days": _slip(row["baseline_end"], row["planned_end"]),
                "health": rated.status,
                "score": rated.score,
                "top_factor": rated.factors[0].detail if rated.factors else "",
                "next_milestone": (
                    {
                        "name": row["next_milestone"],
                        "date": row["next_milestone_date"],
                        "overdue": row["next_milestone_date"] < today,
                    }
                    if row["next_milestone"]
                    else None
                ),
                "open_gates": row["open_gate_count"],
                "url": release_url(row["pk"]),
            }
        )
    initiative_out = []
    for initiative in initiatives:
        releases = by_initiative.get(initiative.pk, [])
        initiative_out.append(
            {
                "id": initiative.pk,
                "name": initiative.name,
                "url": initiative.get_absolute_url(),
                "portfolio": initiative.portfolio.name,
                "department": initiative.department.name,
                "status": initiative.status,
                "status_label": initiative.get_status_display(),
                "releases": releases,
                "counts": _counts(release["health"] for release in releases if release["status"] in OPEN_STATUSES),
            }
        )
    unassigned = by_initiative.get(None, [])
    every = [release for releases in by_initiative.values() for release in releases]
    open_releases = [release for release in every if release["status"] in OPEN_STATUSES]
    return {
        "portfolio": {"id": portfolio.pk, "name": portfolio.name, "url": portfolio.get_absolute_url()},
        "portfolio_count": len(subtree),
        "generated_on": today,
        "initiatives": initiative_out,
        "unassigned": unassigned,
        "totals": {
            **_counts(release["health"] for release in open_releases),
            "releases": len(every),
            "released": sum(1 for release in every if release["status"] == ReleaseStatus.RELEASED),
            "cancelled": sum(1 for release in every if release["status"] == ReleaseStatus.CANCELLED),
            "slipped": sum(1 for release in open_releases if (release["slip_days"] or 0) > 0),
        },
        "worst": sorted(
            (release for release in open_releases if release["health"] != GREEN),
            key=lambda release: (-release["score"], release["name"]),
        )[:10],
    }


# Portfolio roll-ups


def _worst(entries: list[tuple[int, str, int, str]], url, limit: int) -> list[dict]:
    ranked = sorted(entries, key=lambda entry: (-entry[2], entry[1].lower(), entry[0]))[:limit]
    return [
        {"id": pk, "name": name, "score": score, "status": status, "url": url(pk)} for pk, name, score, status in ranked
    ]


def initiative_release_health(*, user, initiative_ids: Iterable[int], today: date | None = None, worst: int = 5):
    """Health of the open releases (draft, planned, in progress) of these initiatives, linked directly or through a
    project: green / amber / red counts and the worst releases, per initiative and in total; None when the
    initiatives have no release at all. Seven queries."""
    ids = list(initiative_ids)
    if not ids:
        return None
    today = _today(today)
    rows = list(
        _visible(user)
        .filter(Q(initiative_id__in=ids) | Q(project__initiative_id__in=ids))
        .order_by()
        .values_list("pk", "name", "status", "initiative_id", "project__initiative_id")
    )
    if not rows:
        return None
    open_rows = [row for row in rows if row[2] in OPEN_STATUSES]
    health = release_health_map(user=user, release_ids=[row[0] for row in open_rows], today=today)
    names = dict(Initiative.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "name"))
    release_url = _release_url()
    initiative_url = url_maker("portfolio:initiative_detail", "/portfolio/initiatives/{pk}/")
    per: dict[int, list] = defaultdict(list)
    closed: dict[int, int] = defaultdict(int)
    for pk, name, status, initiative_id, project_initiative_id in rows:
        owner = initiative_id or project_initiative_id
        if status not in OPEN_STATUSES:
            closed[owner] += 1
        elif pk in health:
            per[owner].append((pk, name, health[pk].score, health[pk].status))
    initiatives = [
        {
            "id": pk,
            "name": names.get(pk, ""),
            "url": initiative_url(pk),
            **_counts(entry[3] for entry in per.get(pk, [])),
            "closed": closed.get(pk, 0),
            "worst": _worst([entry for entry in per.get(pk, []) if entry[3] != GREEN], release_url, 3),
        }
        for pk in ids
        if pk in per or pk in closed
    ]
    initiatives.sort(key=lambda row: (-row[RED], -row[AMBER], row["name"].lower()))
    everything = [entry for entries in per.values() for entry in entries]
    return {
        "totals": {**_counts(entry[3] for entry in everything), "closed": sum(closed.values())},
        "initiatives": initiatives,
        "worst": _worst([entry for entry in everything if entry[3] != GREEN], release_url, worst),
    }


@_bulk()
def portfolio_release_health(
    *, user, portfolio_ids: Iterable[int] | None = None, today: date | None = None, worst: int = 5
) -> dict[int, dict]:
    """The release-health roll-up of every portfolio node (None: all visible portfolios) over ALL its open releases,
    its sub-portfolios' included: green / amber / red counts and the worst releases.

    A release belongs to its own portfolio, else its initiative's, else its project's initiative's. Eight queries
    over every release, whatever their number.
    """
    today = _today(today)
    parents = dict(Portfolio.objects.restrict(user, "view").values_list("pk", "parent_id"))
    wanted = set(parents) if portfolio_ids is None else {pk for pk in portfolio_ids if pk in parents}
    result = {pk: {**_counts(()), "worst": []} for pk in wanted}
    if not wanted:
        return result
    health = release_health_map(user=user, today=today, open_only=True)
    rows = _plain_rows(
        _visible(user)
        .filter(status__in=OPEN_STATUSES)
        .order_by()
        .annotate(belongs_to=release_portfolio())
        .values_list("pk", "name", "belongs_to")
    )
    entries: dict[int, list] = defaultdict(list)
    for pk, name, node in rows:
        rated = health.get(pk)
        if rated is None or node is None:
            continue
        entry = (pk, name, rated.score, rated.status)
        seen = set()
        while node is not None and node not in seen:
            seen.add(node)
            if node in wanted:
                entries[node].append(entry)
            node = parents.get(node)
    release_url = _release_url()
    for pk, found in entries.items():
        counts = result[pk]
        for entry in found:
            counts[entry[3]] += 1
        counts["total"] = len(found)
        counts["worst"] = _worst([entry for entry in found if entry[3] != GREEN], release_url, worst)
    return result


# Templates and freeze windows


def template_list(
    *, user, search: str | None = None, release_kind: str | None = None, is_active: bool | None = None
) -> QuerySet[ReleaseTemplate]:
    """Release templates with how many phases, gates and releases each has and how many working days the lifecycle
    runs (`working_days`), by name."""
    templates = (
        ReleaseTemplate.objects.restrict(user, "view")
        .annotate(
            phase_count=Coalesce(
                Subquery(
                    PhaseTemplate.objects.filter(template=OuterRef("pk"))
                    .order_by()
                    .values("template")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            ),
            gate_count=Coalesce(
                Subquery(
                    GateTemplate.objects.filter(template=OuterRef("pk"))
                    .order_by()
                    .values("template")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            ),
            release_count=Coalesce(
                Subquery(
                    Release.objects.filter(template=OuterRef("pk"))
                    .order_by()
                    .values("template")
                    .annotate(count=Count("id"))
                    .values("count")
                ),
                Value(0),
            ),
            # The lifecycle's length: from the release's start to the end of its last phase, in working days (what
            # `layout.template_layout` lays out: a phase ends start_offset_days + duration_days working days in).
            working_days=Coalesce(
                Subquery(
                    PhaseTemplate.objects.filter(template=OuterRef("pk"))
                    .order_by()
                    .values("template")
                    .annotate(days=Max(F("start_offset_days") + F("duration_days")))
                    .values("days")
                ),
                Value(0),
            ),
        )
        .order_by("name")
    )
    if search:
        templates = templates.filter(Q(name__icontains=search) | Q(description__icontains=search))
    if release_kind:
        templates = templates.filter(release_kind=release_kind)
    if is_active is not None:
        templates = templates.filter(is_active=is_active)
    return templates


def template_get(*, user, pk: int) -> ReleaseTemplate:
    """One template with its phases (in order), milestones and gates (with their phases). Four queries."""
    return (
        template_list(user=user)
        .prefetch_related(
            Prefetch("phases", queryset=PhaseTemplate.objects.order_by("position")),
            Prefetch(
                "milestones",
                queryset=MilestoneTemplate.objects.select_related("phase").order_by(
                    "phase__position", "offset_days", "name"
                ),
            ),
            Prefetch(
                "gates",
                queryset=GateTemplate.objects.select_related("phase").order_by(
                    F("phase__position").asc(nulls_last=True), "name"
                ),
            ),
        )
        .get_visible(pk=pk)
    )


def freeze_list(*, user, filters: Mapping | None = None) -> QuerySet[FreezeWindow]:
    """Freeze windows with their portfolios and systems (prefetched), by first day.

    `filters` (each optional): `search` (name or reason), `category`, `scope`, `recurrence`, `portfolio`,
    `system`, and `start` / `end`: windows that may hold in that range (one-off windows overlapping it, recurring
    ones that start by its end and still recur within a year of its start).
    """
    filters = dict(filters or {})
    windows = (
        FreezeWindow.objects.restrict(user, "view")
        .prefetch_related(
            Prefetch("portfolios", queryset=Portfolio.objects.order_by("name")),
            Prefetch("systems", queryset=System.objects.order_by("name")),
        )
        .order_by("starts_on", "name")
    )
    search = (filters.get("search") or filters.get("q") or "").strip()
    if search:
        windows = windows.filter(Q(name__icontains=search) | Q(reason__icontains=search))
    if categories := _values(filters.get("category")):
        windows = windows.filter(category__in=categories)
    if scopes := _values(filters.get("scope")):
        windows = windows.filter(scope__in=scopes)
    if recurrences := _values(filters.get("recurrence")):
        windows = windows.filter(recurrence__in=recurrences)
    if portfolio := filters.get("portfolio"):
        windows = windows.filter(portfolios=getattr(portfolio, "pk", portfolio))
    if system := filters.get("system"):
        windows = windows.filter(systems=getattr(system, "pk", system))
    start, end = _as_date(filters.get("start"), "start"), _as_date(filters.get("end"), "end")
    if start and end and end < start:
        raise ValidationFailed.field("end", "The end date cannot be before the start.")
    if end:
        windows = windows.filter(starts_on__lte=end)
    if start:
        windows = windows.exclude(recurrence="none", ends_on__lt=start).exclude(
            recurs_until__lt=start - datetime.timedelta(days=366)
        )
    return windows


def freeze_get(*, user, pk: int) -> FreezeWindow:
    return freeze_list(user=user).get_visible(pk=pk)


def freeze_affected_releases(
    *, user, window: FreezeWindow, today: date | None = None, lookahead_days: int = 3 * 366
) -> list[dict]:
    """Deploy milestones of releases `user` sees planned inside an occurrence of `window` that covers their release
    (by the one rule, `freezes.freeze_applies`, on the portfolio each release belongs to): for a one-off freeze its
    days, for a recurring one from a year before `today` to `lookahead_days` after it. Each row is
    `{"release": Release, "milestone": Milestone}`, by date. Three queries.
    """
    if window.category != FreezeCategory.DEPLOYMENT or window.scope == FreezeScope.ENVIRONMENTS:
        return []
    today = _today(today)
    if window.recurrence == Recurrence.NONE:
        first, last = window.starts_on, window.ends_on
    else:
        first, last = today - datetime.timedelta(days=366), today + datetime.timedelta(days=lookahead_days)
    portfolio_ids = frozenset(portfolio.pk for portfolio in window.portfolios.all())
    system_ids = frozenset(system.pk for system in window.systems.all())
    occurrences = [
        FreezeOccurrence(
            window_id=window.pk,
            name=window.name,
            category=window.category,
            scope=window.scope,
            start=start,
            end=end,
            portfolio_ids=portfolio_ids,
            system_ids=system_ids,
        )
        for start, end in freeze_occurrences(window, first, last)
    ]
    if not occurrences:
        return []
    milestones = [
        milestone
        for milestone in Milestone.objects.filter(
            release__in=_visible(user),
            kind=MilestoneKind.DEPLOY,
            planned_date__gte=occurrences[0].start,
            planned_date__lte=occurrences[-1].end,
        )
        .select_related("release")
        .annotate(release_belongs_to=release_portfolio("release"))
        .order_by("planned_date", "release__name", "name")
        if any(occurrence.covers(milestone.planned_date) for occurrence in occurrences)
    ]
    scopes: dict[int, set[int]] = defaultdict(set)
    if window.scope == FreezeScope.SYSTEMS and milestones:
        for release_id, system_id in ReleaseSystem.objects.filter(
            release_id__in={milestone.release_id for milestone in milestones}
        ).values_list("release_id", "system_id"):
            scopes[release_id].add(system_id)
    return [
        {"release": milestone.release, "milestone": milestone}
        for milestone in milestones
        if any(
            occurrence.covers(milestone.planned_date)
            and freeze_applies(
                occurrence, portfolio_id=milestone.release_belongs_to, system_ids=scopes[milestone.release_id]
            )
            for occurrence in occurrences
        )
    ]


# The schedule

TEAM_HISTORY_MIN = 20
"""A team's own history of a phase kind drives its forecasts once it has this many finished phases of the kind."""
MAX_FORECAST_RUNS = 20_000
"""The most simulated runs one forecast may ask for (a page waits for it)."""
PREDICTABILITY_GROUPS = {"team": "No team", "portfolio": "No portfolio", "period": None}
"""What predictability groups releases by, with the label of the group of releases that have none."""
ALL_RELEASES = "All releases"


def _pk(value) -> int | None:
    """The primary key of a row or of a value that already is one (filters and arguments arrive both ways)."""
    return getattr(value, "pk", value)


def _may_view(user, model) -> bool:
    """`restrict(user, "view")`'s permission check, for the models that have no restricted manager."""
    if user is None:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


def _of_visible_releases(rows: QuerySet, user, *fields: str) -> QuerySet:
    """`rows` narrowed to those whose releases (through each of `fields`) `user` may see; a subquery only when the
    release model narrows rows per user (else seeing releases at all is the whole question)."""
    visible = _visible(user)
    if visible.query.is_empty():
        return rows.none()
    if getattr(Release, "restrict_scope", None) is not None:
        chosen = visible.order_by().values("pk")
        for field in fields:
            rows = rows.filter(**{f"{field}__in": chosen})
    return rows


def _calendars(calendar_ids: Iterable[int | None]) -> dict[int | None, WorkingCalendar]:
    """`{calendar id: WorkingCalendar}` for stored calendars (two queries when there is any), None → weekends only."""
    stored = sorted({pk for pk in calendar_ids if pk is not None})
    calendars: dict[int | None, WorkingCalendar] = {None: STANDARD}
    if stored:
        for calendar in Calendar.objects.filter(pk__in=stored).prefetch_related("closures"):
            calendars[calendar.pk] = working_calendar(calendar)
    return calendars


def _committed(baseline: date | None, planned: date | None) -> date | None:
    """THE date a release or phase is held to: its baseline when it has one, else its planned date (predictability,
    planned vs actual and the forecast's history all measure against it)."""
    return baseline if baseline is not None else planned


def _signed_working_days(calendar: WorkingCalendar, committed, actual) -> np.ndarray:
    """Working days on `calendar` from each committed date to the actual one, element by element: late, the working
    days after the committed date up to and including the actual one (positive); early, minus the working days
    after the actual date up to and including the committed one; 0 on the day (or when only non-working days lie
    between)."""
    committed = np.asarray(committed, dtype="datetime64[D]")
    actual = np.asarray(actual, dtype="datetime64[D]")
    late = actual >= committed
    one_day = np.timedelta64(1, "D")
    counted = calendar.working_days_between_many(
        np.where(late, committed, actual) + one_day, np.where(late, actual, committed) + one_day
    )
    return np.where(late, counted, -counted)


def _slip_days(calendar: WorkingCalendar, committed: date | None, actual: date | None) -> int | None:
    """`_signed_working_days` of one pair (`WorkingCalendar.offset` counted from the day after each date, so the
    later day is counted and the earlier never); None when either date is missing."""
    if committed is None or actual is None:
        return None
    one_day = datetime.timedelta(days=1)
    return calendar.offset(committed + one_day, actual + one_day)


def dependency_list(*, user, release=None, filters: Mapping | None = None) -> QuerySet[ScheduleDependency]:
    """Schedule dependencies `user` may see, with both ends' releases, phases and milestones (one query).

    `release` (a release or its id): the dependencies it takes part in, either way (as predecessor or as successor,
    of the release itself or of any of its phases and milestones). `filters` (each optional): `release` (the same),
    `kind` (one or several of FS, SS, FF, SF). Ordered by the successor's release name and engine key, then the
    predecessor's.
    """
    filters = dict(filters or {})
    dependencies = _of_visible_releases(
        ScheduleDependency.objects.restrict(user, "view"), user, "predecessor_release", "successor_release"
    )
    for value in (release, filters.get("release")):
        if value is None or value == "":
            continue
        try:
            pk = int(_pk(value))
        except (TypeError, ValueError):
            raise ValidationFailed.field("release", "Choose a release by its id.") from None
        dependencies = dependencies.filter(Q(predecessor_release_id=pk) | Q(successor_release_id=pk))
    if kinds := _values(filters.get("kind")):
        unknown = sorted(set(kinds) - set(DependencyKind.values))
        if unknown:
            raise ValidationFailed.field("kind", f"Unknown kind {unknown[0]!r}: choose FS, SS, FF or SF.")
        dependencies = dependencies.filter(kind__in=kinds)
    return dependencies.select_related(
        "predecessor_release",
        "predecessor_phase",
        "predecessor_milestone",
        "successor_release",
        "successor_phase",
        "successor_milestone",
    ).order_by("successor_release__name", "successor_key", "predecessor_release__name", "predecessor_key", "pk")


def dependency_get(*, user, pk: int) -> ScheduleDependency:
    """One dependency with both ends (one query); `NotFound` when it does not exist or `user` may not see it."""
    return dependency_list(user=user).get_visible(pk=pk)


def release_schedule_history(*, user, release) -> list[ScheduleChange]:
    """The release's date-change history (`ScheduleChange` rows, with who made each), newest first.

    One query; a second only when there is no entry, to tell an empty history (an empty list) from a release that
    does not exist or that `user` may not see (`NotFound`).
    """
    pk = _pk(release)
    changes = []
    if _may_view(user, ScheduleChange):
        changes = list(
            ScheduleChange.objects.filter(release__in=_visible(user).filter(pk=pk))
            .select_related("actor")
            .order_by("-occurred_at", "-id")
        )
    if not changes and not _visible(user).filter(pk=pk).exists():
        raise NotFound("Release not found.")
    return changes


def _planned_vs_actual_row(row, calendar: WorkingCalendar, today: date, *, settled: bool) -> dict:
    committed_start = _committed(row.baseline_start, row.planned_start)
    committed_end = _committed(row.baseline_end, row.planned_end)
    return {
        "planned": {"start": row.planned_start, "end": row.planned_end},
        "baseline": {"start": row.baseline_start, "end": row.baseline_end},
        "actual": {"start": row.actual_start, "end": row.actual_end},
        "measured_against": "baseline" if row.baseline_end is not None else "planned",
        "start_slip_days": _slip_days(calendar, committed_start, row.actual_start),
        "end_slip_days": _slip_days(calendar, committed_end, row.actual_end),
        "overdue": not settled and row.actual_end is None and committed_end < today,
    }


def release_planned_vs_actual(*, user, release, today: date | None = None) -> dict:
    """The release's and each phase's planned, baseline and actual dates, and how far the actual ones slipped.

    `{"release": {id, name, status, planned, baseline, actual, measured_against, start_slip_days, end_slip_days,
    overdue}, "phases": [{id, name, kind, kind_label, status, ...the same}]}`, phases in plan order; `planned`,
    `baseline` and `actual` are `{"start", "end"}` dates (None where not set). A slip is measured against the
    committed date (`_committed`: the baseline when set, else the planned date) in working days of the release's
    calendar, positive when late, negative when early, None where the actual date (or the committed one) is
    missing; `measured_against` says which it was ("baseline" or "planned", by the end date) and `overdue` flags an
    item with no actual end whose committed end is before `today` (never in a released or cancelled release, nor a
    phase marked done or skipped). Two queries, two more when the release has its own
    calendar; `NotFound` for a release that does not exist or that `user` may not see.
    """
    today = _today(today)
    release = (
        _visible(user)
        .prefetch_related(
            Prefetch(
                "phases",
                queryset=Phase.objects.restrict(user, "view").order_by("position", "planned_start", "pk"),
                to_attr="ordered_phases",
            )
        )
        .get_visible(pk=_pk(release))
    )
    calendar = _calendars([release.calendar_id])[release.calendar_id]
    closed = release.status in CLOSED_STATUSES
    return {
        "release": {
            "id": release.pk,
            "name": release.name,
            "status": release.status,
            **_planned_vs_actual_row(release, calendar, today, settled=closed),
        },
        "phases": [
            {
                "id": phase.pk,
                "name": phase.name,
                "kind": phase.kind,
                "kind_label": PhaseKind(phase.kind).label,
                "status": phase.status,
                **_planned_vs_actual_row(
                    phase, calendar, today, settled=closed or phase.status in (PhaseStatus.DONE, PhaseStatus.SKIPPED)
                ),
            }
            for phase in release.ordered_phases
        ],
    }


def _predictability_row(key: str, label: str, pk: int | None, on_time: list[bool], slips: list[int]) -> dict:
    count = len(slips)
    return {
        "key": key,
        "label": label,
        "id": pk,
        "releases": count,
        "on_time": sum(on_time),
        "on_time_share": round(sum(on_time) / count, 3) if count else None,
        "mean_slip_days": round(float(np.mean(slips)), 1) if count else None,
        "p85_slip_days": round(float(np.percentile(slips, 85, method="linear")), 1) if count else None,
    }


def predictability(*, user, group_by: str = "team", start=None, end=None) -> list[dict]:
    """How predictably releases finish: per team, portfolio or quarter, and over all of them.

    The releases counted are the released ones `user` may see with an actual end, in `start`..`end` (inclusive, by
    actual end; each optional). A release is **on time** when its actual end is on or before its committed end
    (`_committed`: the baseline end, else the planned end); its **slip** is the working days from that committed end
    to the actual end on the release's calendar (negative when early; see `_signed_working_days`).

    Groups: `team` — the owner team of the release's project ("No team" without one); `portfolio` — the portfolio
    the release belongs to (`freezes.release_portfolio`: its own, else its initiative's, else its project's
    initiative's; "No portfolio"); `period` — the calendar quarter of the actual end ("2026 Q3", key "2026-Q3").

    Rows `{key, label, id, releases, on_time, on_time_share, mean_slip_days, p85_slip_days}`: `key` a stable string
    ("team:12", "team:none", "portfolio:3", "portfolio:none", "2026-Q3", and "all" for the total), `id` the team's
    or portfolio's id (None otherwise); `on_time_share` is on_time / releases (3 decimals), `mean_slip_days` the
    mean slip and `p85_slip_days` its 85th percentile by numpy's default linear interpolation
    (`numpy.percentile(slips, 85, method="linear")`), both to one decimal and None for a group without releases.
    Groups come by label (the "No ..." group last; periods in time order), then the "All releases" total, always
    present. One query for the releases, one for the team or portfolio names, two more when any release has its own
    calendar. Bad input (an unknown `group_by`, a bad date, an end before the start) raises `ValidationFailed`.
    """
    if group_by not in PREDICTABILITY_GROUPS:
        raise ValidationFailed.field("group_by", "Group by team, portfolio or period.")
    start, end = _as_date(start, "start"), _as_date(end, "end")
    if start and end and end < start:
        raise ValidationFailed.field("end", "The end date cannot be before the start.")
    releases = _visible(user).filter(status=ReleaseStatus.RELEASED, actual_end__isnull=False)
    if start:
        releases = releases.filter(actual_end__gte=start)
    if end:
        releases = releases.filter(actual_end__lte=end)
    group_field = {"team": "project__owner_team_id", "portfolio": "belongs_to", "period": "actual_end"}[group_by]
    rows = list(
        releases.annotate(belongs_to=release_portfolio())
        .order_by("actual_end", "pk")
        .values_list("pk", "calendar_id", "planned_end", "baseline_end", "actual_end", group_field)
    )
    calendars = _calendars(row[1] for row in rows)
    slips: dict[int, int] = {}
    by_calendar: dict[int | None, list[tuple]] = defaultdict(list)
    for row in rows:
        by_calendar[row[1]].append(row)
    for calendar_id, members in by_calendar.items():
        counted = _signed_working_days(
            calendars[calendar_id],
            [_committed(baseline_end, planned_end) for _, _, planned_end, baseline_end, *_ in members],
            [actual_end for *_, actual_end, _ in members],
        )
        slips.update(zip((row[0] for row in members), counted.tolist(), strict=True))

    names: dict[int, str] = {}
    if group_by in ("team", "portfolio"):
        model = Team if group_by == "team" else Portfolio
        ids = {row[5] for row in rows if row[5] is not None}
        if ids:
            names = dict(model.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "name"))
    groups: dict[str, dict] = {}
    for pk, _, planned_end, baseline_end, actual_end, group in rows:
        if group_by == "period":
            quarter = (actual_end.month - 1) // 3 + 1
            key, label, group_id, order = f"{actual_end.year}-Q{quarter}", f"{actual_end.year} Q{quarter}", None, ()
        elif group in names:
            key, label, group_id = f"{group_by}:{group}", names[group], group
            order = (0, label.lower(), group)
        else:
            key, label, group_id = f"{group_by}:none", PREDICTABILITY_GROUPS[group_by], None
            order = (1, "", 0)
        entry = groups.setdefault(key, {"label": label, "id": group_id, "order": order, "on_time": [], "slips": []})
        entry["on_time"].append(actual_end <= _committed(baseline_end, planned_end))
        entry["slips"].append(slips[pk])
    ordered = groups.items() if group_by == "period" else sorted(groups.items(), key=lambda item: item[1]["order"])
    result = [
        _predictability_row(key, entry["label"], entry["id"], entry["on_time"], entry["slips"])
        for key, entry in ordered
    ]
    result.append(
        _predictability_row(
            "all",
            ALL_RELEASES,
            None,
            [flag for entry in groups.values() for flag in entry["on_time"]],
            [slip for entry in groups.values() for slip in entry["slips"]],
        )
    )
    return result


def _forecast_counts(runs, seed) -> tuple[int, int]:
    """The number of runs and the seed, checked: whole numbers, runs 1..MAX_FORECAST_RUNS, seed 0 or more."""
    if isinstance(runs, bool) or not isinstance(runs, int | np.integer) or not 1 <= runs <= MAX_FORECAST_RUNS:
        raise ValidationFailed.field("runs", f"Run the simulation 1 to {MAX_FORECAST_RUNS:,} times.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValidationFailed.field("seed", "The seed is a whole number, 0 or more.")
    return int(runs), int(seed)


def phase_duration_history(*, user, kinds: Iterable[str] | None = None) -> RatioSamples:
    """How long finished phases really took against their plan: actual / planned working days, pooled by phase kind
    (every team) and by kind and team (the owner team of the release's project) for teams with at least
    `TEAM_HISTORY_MIN` finished phases of the kind (`scheduling.forecast.ratio_samples`).

    A finished phase has an actual start and end (skipped ones left out); its planned duration is its baseline
    window when it has one (both dates, the end not before the start), else its planned window; both are counted in
    working days of its release's calendar, both ends included, at least one. `kinds` narrows the read to those
    kinds. One query, two more when a release has its own calendar; ratios in order of phase id, so a seeded
    forecast draws the same values every time.
    """
    phases = _of_visible_releases(Phase.objects.restrict(user, "view"), user, "release").filter(
        actual_start__isnull=False, actual_end__isnull=False
    )
    if kinds is not None:
        phases = phases.filter(kind__in=sorted(set(kinds)))
    rows = list(
        phases.exclude(status=PhaseStatus.SKIPPED)
        .order_by("pk")
        .values_list(
            "kind",
            "release__project__owner_team_id",
            "release__calendar_id",
            "planned_start",
            "planned_end",
            "baseline_start",
            "baseline_end",
            "actual_start",
            "actual_end",
        )
    )
    calendars = _calendars(row[2] for row in rows)
    positions: dict[int | None, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        positions[row[2]].append(position)
    ratios = [0.0] * len(rows)
    for calendar_id, chosen in positions.items():
        calendar = calendars[calendar_id]
        planned = [
            (baseline_start, baseline_end)
            if baseline_start is not None and baseline_end is not None and baseline_end >= baseline_start
            else (planned_start, planned_end)
            for _, _, _, planned_start, planned_end, baseline_start, baseline_end, _, _ in (rows[i] for i in chosen)
        ]

        def working_days(pairs, calendar=calendar):
            first = np.asarray([pair[0] for pair in pairs], dtype="datetime64[D]")
            last = np.asarray([pair[1] for pair in pairs], dtype="datetime64[D]")
            return np.maximum(1, calendar.working_days_between_many(first, last + np.timedelta64(1, "D")))

        found = working_days([rows[i][7:9] for i in chosen]) / working_days(planned)
        for i, ratio in zip(chosen, found.tolist(), strict=True):
            ratios[i] = ratio
    return ratio_samples(
        ((row[0], row[1], ratio) for row, ratio in zip(rows, ratios, strict=True)), min_samples=TEAM_HISTORY_MIN
    )


def _kind_names(kinds: Iterable[str]) -> str:
    order = {kind: index for index, kind in enumerate(PhaseKind.values)}
    names = [PhaseKind(kind).label if kind in order else kind for kind in sorted(set(kinds), key=order.get)]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _forecast_basis(
    pools: Mapping[tuple, int], unsampled: set[str], sampled_any: bool, *, late: bool
) -> tuple[int, str]:
    """How many historical ratios a release's forecast drew from, and the sentence that says so (`late`: the
    forecast ends after the planned end)."""
    samples = sum(pools.values())
    if not samples:
        if not sampled_any and not unsampled:
            if late:
                return 0, "No phase left to forecast: what is under way ends as planned, and not before today."
            return 0, "No phase left to forecast: the planned dates hold."
        return 0, "No finished phases yet: planned durations."
    sentence = f"From {samples:,} finished phase{'' if samples == 1 else 's'} of the same kinds"
    own = {pool[1] for pool in pools if pool[0] == "team"}
    if own:
        sentence += f" (the team's own history for {_kind_names(own)})"
    if unsampled:
        sentence += f"; planned durations for {_kind_names(unsampled)}, with none finished yet"
    return samples, sentence + "."


def _phase_progress(status: str, actual_start: date | None, actual_end: date | None) -> str:
    """Where a phase is, for a forecast: "finished" (an actual end, or marked done or skipped), "under way" (an
    actual start, or marked in progress) or "not started"."""
    if actual_end is not None or status in (PhaseStatus.DONE, PhaseStatus.SKIPPED):
        return "finished"
    if actual_start is not None or status == PhaseStatus.IN_PROGRESS:
        return "under way"
    return "not started"


def _as_of_today(plan, progress: Mapping[int, tuple[str, date | None]], today: date) -> list:
    """The plan's items as a forecast on `today` takes them: nothing unfinished ends before today.

    `progress` maps a phase id to where it is (`_phase_progress`) and its actual start. In an open release, a
    finished phase keeps its dates and is not simulated. A phase under way is not simulated either: it keeps its
    start (the actual one when set) and ends on its planned end, or on the first working day on or after today when
    that has passed (nothing says how much of it is left, so the rest of it is taken as planned). A release in
    progress, or with a phase under way or finished (a train: or a child that is), has started: its window keeps its
    start, as with an actual start, and its contents say when it ends. Everything else not fixed (phases not
    started, releases not started, milestones not reached, open gates and the release ends) is left to
    `monte_carlo`'s `not_before`: none of them starts before today.
    """
    started = {pk for pk, release in plan.releases.items() if release.status == ReleaseStatus.IN_PROGRESS}
    started.update(
        plan.labels[item.key].release_id
        for item in plan.items
        if plan.labels[item.key].kind == "phase"
        and progress.get(plan.labels[item.key].id, ("not started",))[0] != "not started"
    )
    started.update({plan.releases[pk].train_id for pk in started} - {None})
    items = []
    for item in plan.items:
        label = plan.labels[item.key]
        if plan.releases[label.release_id].closed:
            pass  # its dates are history
        elif label.kind == "release" and label.id in started:
            item = replace(item, fixed=True)
        elif label.kind == "phase" and label.id in progress:
            state, actual_start = progress[label.id]
            if state == "finished":
                item = replace(item, fixed=True)
            elif state == "under way":
                start = actual_start or item.start
                end = max(item.end, start, item.calendar.next_working_day(today))
                item = replace(item, start=start, end=end, fixed=True)
        items.append(item)
    return items


def forecast_map(
    *, user, release_ids: Iterable[int], runs: int = 2000, seed: int = 0, today: date | None = None
) -> dict[int, dict]:
    """Monte Carlo forecasts of the end dates of the open releases among `release_ids` that `user` may see (released,
    cancelled, unknown and unseen ones are left out): `{release id: {"p50", "p85", "probability_on_time",
    "planned_end", "runs", "samples", "basis"}}`.

    Each release is simulated over its plan (`schedule.plan_for`): a train, or a child of a train, over the whole
    train's plan (the train and all its children); any other release over its own. Dependencies on releases outside
    that plan are not simulated: those releases keep their planned dates. Every open phase (not started, in a release
    not closed) lasts, in each run, its planned working days times a ratio drawn from how long finished phases of its
    kind really took against their plan (`phase_duration_history`): its release's project's owner team's own ratios
    where that team has `TEAM_HISTORY_MIN` finished phases of the kind, else every team's, else none (it keeps its
    planned duration). The runs then push the plan as the engine does (`scheduling.forecast.monte_carlo`), and the
    release's end is its hidden `finish:<id>` item: P50 and P85 are end dates half and 85% of the runs meet, and
    `probability_on_time` (3 decimals) the share of runs ending by the planned end.

    Nothing unfinished ends before `today` (`_as_of_today`): what has not started starts on the first working day on
    or after today at the earliest, keeping its duration (and what follows it moves with it); a milestone not reached
    is due today at the earliest; a phase under way keeps its start and ends on its planned end, or today when that
    has passed. So a release whose planned end has passed and that is not released has no chance of meeting it
    (`probability_on_time` 0) and ends today at the earliest. `samples` counts the historical
    ratios drawn from for the release's phases (a train's: its children's too), and `basis` says it in a sentence
    ("From 240 finished phases of the same kinds." / "No finished phases yet: planned durations.").

    Deterministic for a seed: each train's or release's plan is simulated on its own with that seed, so a release's
    forecast is the same here as from `release_forecast`. A bounded number of queries whatever the number of
    releases: two, the plan's, two for the phases and their history, and two more when some have own calendars.
    Bad `runs` or `seed` raise `ValidationFailed`, and so does a plan whose stored dependencies close a cycle
    (`schedule.stored_cycle`).
    """
    runs, seed = _forecast_counts(runs, seed)
    today = _today(today)
    try:
        ids = sorted({int(pk) for pk in release_ids})
    except (TypeError, ValueError):
        raise ValidationFailed.field("release_ids", "Give releases by their ids.") from None
    if not ids:
        return {}
    wanted = dict(
        _visible(user)
        .filter(pk__in=ids)
        .exclude(status__in=CLOSED_STATUSES)
        .order_by("pk")
        .values_list("pk", "train_id")
    )
    if not wanted:
        return {}
    heads = {train_id or pk for pk, train_id in wanted.items()}
    members = dict(
        _visible(user).filter(Q(pk__in=heads) | Q(train_id__in=heads)).order_by("pk").values_list("pk", "train_id")
    )
    # Each release's plan: its train's (when the train is there to simulate), else its own.
    root = {pk: train_id if train_id in members and train_id in heads else pk for pk, train_id in members.items()}
    root.update({pk: train_id if train_id in members else pk for pk, train_id in wanted.items()})

    plan = plan_for(sorted(members), today=today)
    rows = list(
        Phase.objects.filter(release_id__in=sorted(members)).values_list(
            "pk", "kind", "release__project__owner_team_id", "status", "actual_start", "actual_end"
        )
    )
    phases = {pk: (kind, team) for pk, kind, team, *_ in rows}
    progress = {
        pk: (_phase_progress(status, actual_start, actual_end), actual_start)
        for pk, _, _, status, actual_start, actual_end in rows
    }
    items = _as_of_today(plan, progress, today)
    open_phases = [
        (item.key, plan.labels[item.key])
        for item in items
        if not item.fixed and plan.labels[item.key].kind == "phase" and plan.labels[item.key].id in phases
    ]
    history = phase_duration_history(user=user, kinds={phases[label.id][0] for _, label in open_phases})

    ratios: dict[str, tuple[float, ...]] = {}
    pools: dict[int, dict[tuple, int]] = defaultdict(dict)
    unsampled: dict[int, set[str]] = defaultdict(set)
    sampled_any: set[int] = set()
    for key, label in open_phases:
        kind, team = phases[label.id]
        values, basis = history.lookup(kind, team)
        # A train's forecast rests on its children's phases too.
        counted = {label.release_id, members.get(label.release_id)} - {None}
        if values:
            ratios[key] = values
        for release_id in counted:
            sampled_any.add(release_id)
            if values:
                pools[release_id][(basis, kind, team if basis == "team" else None)] = len(values)
            else:
                unsampled[release_id].add(kind)

    items_of: dict[int, list] = defaultdict(list)
    for item in items:
        label = plan.labels[item.key]
        items_of[root.get(label.release_id, label.release_id)].append(item)
    result = {}
    for head in sorted({root[pk] for pk in wanted}):
        items = items_of[head]
        # The head release first: the simulation counts working days on the first item's calendar.
        items.sort(key=lambda item: item.key != item_key("release", head))
        keys = {item.key for item in items}
        try:
            forecasts = monte_carlo(
                items,
                [
                    dependency
                    for dependency in plan.dependencies
                    if dependency.predecessor in keys and dependency.successor in keys
                ],
                {key: values for key, values in ratios.items() if key in keys},
                runs=runs,
                seed=seed,
                keys=[finish_key(pk) for pk in wanted if root[pk] == head],
                not_before=today,
            )
        except CycleError as exc:
            raise stored_cycle(plan, exc.cycle) from None
        for pk in wanted:
            if root[pk] != head:
                continue
            forecast = forecasts[finish_key(pk)]
            samples, basis = _forecast_basis(
                pools[pk], unsampled[pk], pk in sampled_any, late=forecast.p85 > forecast.planned_end
            )
            result[pk] = {
                "p50": forecast.p50,
                "p85": forecast.p85,
                "probability_on_time": round(forecast.probability_on_time, 3),
                "planned_end": forecast.planned_end,
                "runs": runs,
                "samples": samples,
                "basis": basis,
            }
    return result


def release_forecast(*, user, release, runs: int = 2000, seed: int = 0, today: date | None = None) -> dict | None:
    """The Monte Carlo forecast of one release's end (see `forecast_map`: a train, or a child of one, is simulated
    over the whole train's plan): `{"p50", "p85", "probability_on_time", "planned_end", "runs", "samples",
    "basis"}`, or None for a released or cancelled release (its dates are history). `NotFound` for a release that
    does not exist or that `user` may not see; bad `runs` or `seed` raise `ValidationFailed`."""
    runs, seed = _forecast_counts(runs, seed)
    pk = _pk(release)
    status = _visible(user).filter(pk=pk).values_list("status", flat=True).first()
    if status is None:
        raise NotFound("Release not found.")
    if status in CLOSED_STATUSES:
        return None
    return forecast_map(user=user, release_ids=[pk], runs=runs, seed=seed, today=today).get(pk)
