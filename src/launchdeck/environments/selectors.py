"""Every non-trivial read of environments, bookings, requests, deployments, versions, utilisation and demand."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import CharField, Count, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from launchdeck.catalog.models import System
from launchdeck.core.errors import ValidationFailed
from launchdeck.core.services import IMPLAUSIBLE_DATE_MESSAGE, is_plausible_date, require_plausible_dates
from launchdeck.environments import rules
from launchdeck.environments.choices import (
    LIVE_BOOKING_STATUSES,
    OPEN_REQUEST_STATUSES,
    OUT_OF_SERVICE_STATUSES,
    BookingStatus,
    DeploymentOutcome,
    EnvironmentStatus,
)
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
    EnvironmentStatusChange,
)
from launchdeck.environments.rules import UP as RULES_UP
from launchdeck.environments.rules import Held, overbooked
from launchdeck.org.calendars import team_calendar
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, FreezeScope, ReleaseStatus
from launchdeck.releases.freezes import FreezeOccurrence, freezes_between, release_portfolio
from launchdeck.releases.models import Phase, Release, ReleaseSystem
from launchdeck.scheduling.calendar import WorkingCalendar

# Windows of time

REPORT_MOST_DAYS = 366
"""The longest window the conflict report and the schedule cover at once: a year (a quarter of 600 environments is
~15,000 bookings)."""


def day_start(day: date) -> datetime:
    """THE first instant of `day` in the site's time zone: how a day (or a window of whole days) becomes instants."""
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def check_report_window(start: datetime, end: datetime, *, most_days: int | None = None, most_words: str = "") -> None:
    """THE check of a report's window of instants `start`..`end` (end exclusive): plausible dates, the end after the
    start and, when `most_days` is given, at most that many days (`most_words` says it in words: "a year")."""
    require_plausible_dates(start=start.date(), end=end.date())
    if end <= start:
        raise ValidationFailed.field("end", "The end must be after the start.")
    if most_days is not None and end - start > timedelta(days=most_days):
        raise ValidationFailed.field("end", f"Show at most {most_words or f'{most_days} days'} at a time.")


def fill_window(start: date | None, end: date | None, default: tuple[date, date]) -> tuple[date, date]:
    """Both ends of a window of days: as given, one end and the default's length, or the default window."""
    first, last = default
    if start is None and end is None:
        return first, last
    if start is None:
        return end - (last - first), end
    if end is None:
        return start, start + (last - first)
    return start, end


# Inventory

STATUS_HISTORY_DAYS = 90
"""The window of the status history and its availability figure when none is asked for."""


def environment_group_list(*, user, search: str | None = None) -> QuerySet[EnvironmentGroup]:
    """Groups ("lanes") with the number of environments in each."""
    groups = EnvironmentGroup.objects.restrict(user, "view").annotate(environment_count=Count("environments"))
    if search:
        groups = groups.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return groups.order_by("name")


def environment_group_get(*, user, pk: int) -> EnvironmentGroup:
    """One group, or `NotFound`."""
    return environment_group_list(user=user).get_visible(pk=pk)


def environment_list(
    *,
    user,
    search: str | None = None,
    environment_type: str | None = None,
    category: str | None = None,
    group: int | None = None,
    status: str | None = None,
    owner_team: int | None = None,
) -> QuerySet[Environment]:
    """Environments with group and owner team, and `open_booking_count`: live bookings that have not ended yet."""
    # A subquery per row (on the conflict check's index) rather than a join: only the rows shown are counted.
    open_bookings = (
        EnvironmentBooking.objects.filter(
            environment=OuterRef("pk"), status__in=LIVE_BOOKING_STATUSES, ends_at__gt=timezone.now()
        )
        .order_by()
        .values("environment")
        .annotate(count=Count("pk"))
        .values("count")
    )
    environments = (
        Environment.objects.restrict(user, "view")
        .select_related("group", "owner_team")
        .annotate(open_booking_count=Coalesce(Subquery(open_bookings, output_field=IntegerField()), 0))
        .order_by("name")
    )
    if search:
        environments = environments.filter(
            Q(name__icontains=search) | Q(description__icontains=search) | Q(url__icontains=search)
        )
    if environment_type:
        environments = environments.filter(environment_type=environment_type)
    if category:
        environments = environments.filter(category=category)
    if group:
        environments = environments.filter(group_id=group)
    if status:
        environments = environments.filter(status=status)
    if owner_team:
        environments = environments.filter(owner_team_id=owner_team)
    return environments


def environment_get(*, user, pk: int) -> Environment:
    """One environment with what it depends on and what needs it, or `NotFound`."""
    visible = Environment.objects.restrict(user, "view").order_by("name")
    environments = environment_list(user=user).prefetch_related(
        Prefetch("depends_on", queryset=visible), Prefetch("needed_by", queryset=visible)
    )
    return environments.get_visible(pk=pk)


def environment_component_list(*, user, environment: Environment) -> QuerySet[EnvironmentComponent]:
    """The systems installed in an environment, by system name."""
    return (
        EnvironmentComponent.objects.restrict(user, "view")
        .filter(environment=environment)
        .select_related("system", "component")
        .order_by("system__name", "pk")
    )


def environment_component_get(*, user, environment: Environment, pk: int) -> EnvironmentComponent:
    """One component row of an environment, or `NotFound`."""
    return environment_component_list(user=user, environment=environment).get_visible(pk=pk)


def default_history_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last 90 days up to `now` (default: the present): the window of the status history when none is asked for."""
    end = now or timezone.now()
    require_plausible_dates(end=end.date())
    return end - timedelta(days=STATUS_HISTORY_DAYS), end


def _history_rows(ids, start: datetime, end: datetime, user=None):
    """(environment id, since, status, note, actor, pk) of the entries in force during `start`..`end`, in time order.

    One query: the entries that begin inside the window, and for each environment the entry already in force at its
    start (the latest one before it, found with an indexed subquery), so the history before the window is not read.
    """
    in_force = (
        EnvironmentStatusChange.objects.filter(environment_id=OuterRef("environment_id"), started_at__lte=start)
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    return (
        EnvironmentStatusChange.objects.restrict(user, "view")
        .filter(environment_id__in=ids)
        .filter(Q(started_at__gt=start, started_at__lt=end) | Q(pk=Subquery(in_force)))
        .order_by("environment_id", "started_at", "pk")
    )


def environment_status_history(
    *, user, environment: Environment, start: datetime | None = None, end: datetime | None = None
) -> list[EnvironmentStatusChange]:
    """The status entries in force during `start`..`end` (default: the last 90 days), oldest first."""
    if start is None or end is None:
        default_start, default_end = default_history_window()
        start, end = start or default_start, end or default_end
    check_report_window(start, end)
    return list(_history_rows([environment.pk], start, end, user))


def environment_availability_map(ids, start: datetime, end: datetime, *, user=None) -> dict[int, float | None]:
    """Availability (time up / time in service, 0..1; None when never in service) of many environments in one query.

    By `rules.availability`; `user`, when given, limits the history read to what they may see.
    """
    check_report_window(start, end)
    ids = list(ids)
    histories: dict[int, list[tuple[datetime, str]]] = {pk: [] for pk in ids}
    if not ids:
        return {}
    for environment_id, since, status in _history_rows(ids, start, end, user).values_list(
        "environment_id", "started_at", "status"
    ):
        histories[environment_id].append((since, status))
    return {pk: rules.availability(history, start, end) for pk, history in histories.items()}


def environment_availability(environment: Environment, start: datetime, end: datetime, *, user=None) -> float | None:
    """Availability of one environment over `start`..`end` (0..1), or None when it was not in service."""
    return environment_availability_map([environment.pk], start, end, user=user)[environment.pk]


def environment_status_band(
    history: list[EnvironmentStatusChange], start: datetime, end: datetime
) -> list[tuple[date, str]]:
    """The status each day of `start`..`end` ended in (the last entry begun by the day's end), for a status band.

    Days before the first entry have no status (None).
    """
    days = []
    day = start.date()
    index = -1
    while day <= end.date():
        day_end = day_start(day + timedelta(days=1))
        while index + 1 < len(history) and history[index + 1].started_at < day_end:
            index += 1
        days.append((day, history[index].status if index >= 0 else None))
        day += timedelta(days=1)
    return days


# Bookings

BOOKING_SEARCH_DAYS = rules.BOOKING_SEARCH_DAYS
"""How far ahead "next free slot" looks."""


def unbookable_reason(environment: Environment) -> str | None:
    """Why `environment` cannot be booked at all (it is decommissioned), in words; None when it can."""
    if environment.status == EnvironmentStatus.DECOMMISSIONED:
        return f"{environment} is decommissioned and cannot be booked."
    return None


def when(moment: datetime) -> str:
    """A moment as people read it in messages: "2 Mar 2026 09:00" (local time)."""
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return f"{local.day} {local:%b %Y %H:%M}"


def describe_bookings(bookings) -> str:
    """Up to three bookings in words, for a refusal: "booking 12 (2 Mar 2026 09:00 to 7 Mar 2026 09:00, ...)"."""
    named = [
        f"booking {booking.pk} ({when(booking.starts_at)} to {when(booking.ends_at)}, {booking.usage}, "
        f"{booking.status})"
        for booking in bookings[:3]
    ]
    more = len(bookings) - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def booking_list(
    *,
    user,
    environment: int | None = None,
    group: int | None = None,
    environment_type: str | None = None,
    status: str | list[str] | None = None,
    release: int | None = None,
    phase: int | None = None,
    requester: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[EnvironmentBooking]:
    """The bookings `user` may see, with what a list shows of them; `start`/`end` keep those overlapping the window."""
    bookings = EnvironmentBooking.objects.restrict(user, "view").select_related(
        "environment", "release", "phase", "requester", "team"
    )
    if environment is not None:
        bookings = bookings.filter(environment_id=environment)
    if group is not None:
        bookings = bookings.filter(environment__group_id=group)
    if environment_type:
        bookings = bookings.filter(environment__environment_type=environment_type)
    if status:
        bookings = bookings.filter(status__in=[status] if isinstance(status, str) else list(status))
    if release is not None:
        bookings = bookings.filter(release_id=release)
    if phase is not None:
        bookings = bookings.filter(phase_id=phase)
    if requester is not None:
        bookings = bookings.filter(requester_id=requester)
    if start is not None:
        bookings = bookings.filter(ends_at__gt=start)
    if end is not None:
        bookings = bookings.filter(starts_at__lt=end)
    return bookings.order_by("starts_at", "pk")


def booking_get(*, user, pk: int) -> EnvironmentBooking:
    """One booking `user` may see, or `NotFound`."""
    return booking_list(user=user).get_visible(pk=pk)


def booking_conflicts(
    *,
    environment: Environment,
    starts_at: datetime,
    ends_at: datetime,
    usage: str,
    exclude: Iterable[int] = (),
    moved: dict[int, tuple[datetime, datetime]] | None = None,
) -> list[EnvironmentBooking]:
    """THE capacity check: the live bookings of `environment` that stop a `usage` booking of the window from fitting.

    One query on the `(environment, ends_at, starts_at)` index for the live bookings overlapping the window, then
    `rules.clashes`. Callers that write lock the environment row first, so the answer holds until they commit.
    `moved` reads some stored bookings at other windows (bookings about to move with their phase).
    """
    moved = moved or {}
    overlapping = Q(ends_at__gt=starts_at, starts_at__lt=ends_at)
    if moved:
        overlapping |= Q(pk__in=sorted(moved))
    rows = list(
        EnvironmentBooking.objects.filter(
            overlapping, environment_id=environment.pk, status__in=LIVE_BOOKING_STATUSES
        ).exclude(pk__in=list(exclude))
    )
    held = [rules.Held(row.pk, *moved.get(row.pk, (row.starts_at, row.ends_at)), row.usage) for row in rows]
    clashing = set(rules.clashes(environment.capacity, usage, starts_at, ends_at, held))
    return [row for row in rows if row.pk in clashing]


def booking_freeze_applies(
    occurrence: FreezeOccurrence,
    environment: Environment,
    *,
    system_ids: Iterable[int] = (),
    portfolio_id: int | None = None,
) -> bool:
    """THE rule for "this booking freeze covers a booking of `environment`".

    Organisation-wide freezes cover every environment; environment freezes the environments whose type is listed;
    system freezes the environments with a component of those systems (`system_ids`: the environment's); portfolio
    freezes the bookings of releases in those portfolios (`portfolio_id`: the booking's release's, see
    `release_portfolio`).
    """
    if occurrence.scope == FreezeScope.ORGANISATION:
        return True
    if occurrence.scope == FreezeScope.ENVIRONMENTS:
        return environment.environment_type in occurrence.environment_types
    if occurrence.scope == FreezeScope.SYSTEMS:
        return not occurrence.system_ids.isdisjoint(system_ids)
    if occurrence.scope == FreezeScope.PORTFOLIOS:
        return portfolio_id is not None and portfolio_id in occurrence.portfolio_ids
    return False


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def freeze_window(occurrence: FreezeOccurrence) -> tuple[datetime, datetime]:
    """The instants a freeze occurrence holds: from the start of its first day to the end of its last (local time)."""
    return day_start(occurrence.start), day_start(occurrence.end + timedelta(days=1))


def _release_portfolio_id(release: Release | int | None) -> int | None:
    release_id = getattr(release, "pk", release)
    if release_id is None:
        return None
    return (
        Release.objects.filter(pk=release_id)
        .annotate(belongs_to=release_portfolio())
        .values_list("belongs_to", flat=True)
    ).first()


def booking_freezes(
    environment: Environment, starts_at: datetime, ends_at: datetime, release: Release | int | None = None
) -> list[FreezeOccurrence]:
    """The booking freezes that cover a booking of `environment` for `starts_at`..`ends_at` (of `release`, if any)."""
    occurrences = freezes_between(_local_day(starts_at), _local_day(ends_at), category=FreezeCategory.BOOKING)
    occurrences = [
        occurrence
        for occurrence in occurrences
        if freeze_window(occurrence)[0] < ends_at and starts_at < freeze_window(occurrence)[1]
    ]
    if not occurrences:
        return []
    system_ids: set[int] = set()
    if any(occurrence.scope == FreezeScope.SYSTEMS for occurrence in occurrences):
        system_ids = set(environment.components.values_list("system_id", flat=True))
    portfolio_id = None
    if any(occurrence.scope == FreezeScope.PORTFOLIOS for occurrence in occurrences):
        portfolio_id = _release_portfolio_id(release)
    return [
        occurrence
        for occurrence in occurrences
        if booking_freeze_applies(occurrence, environment, system_ids=system_ids, portfolio_id=portfolio_id)
    ]


def next_free_slot(
    *,
    user,
    environment: Environment,
    duration: timedelta,
    usage: str,
    earliest: datetime | None = None,
    exclude: Iterable[int] = (),
) -> datetime | None:
    """The earliest start within 90 days from `earliest` (default now) at which a `usage` booking of `duration` fits
    beside the live bookings (but those in `exclude`: the booking being moved) and outside the booking freezes
    covering the environment; None when none does."""
    environment = Environment.objects.restrict(user, "view").get_visible(pk=environment.pk)
    earliest = earliest or timezone.now()
    latest = earliest + timedelta(days=BOOKING_SEARCH_DAYS)
    if environment.status == EnvironmentStatus.DECOMMISSIONED:
        return None
    rows = (
        EnvironmentBooking.objects.filter(
            environment_id=environment.pk, ends_at__gt=earliest, starts_at__lt=latest, status__in=LIVE_BOOKING_STATUSES
        )
        .exclude(pk__in=list(exclude))
        .values_list("pk", "starts_at", "ends_at", "usage")
    )
    held = [rules.Held(pk, start, end, kind) for pk, start, end, kind in rows]
    blocked = [freeze_window(occurrence) for occurrence in booking_freezes(environment, earliest, latest)]
    return rules.first_fit(environment.capacity, usage, duration, earliest, latest, held, blocked)


def booking_conflict_report(
    *, user, start: datetime, end: datetime, environment_ids: Iterable[int] | None = None
) -> list[dict]:
    """The live bookings overlapping `start`..`end` that need attention, each with the reasons in words: overbooked
    (do not fit beside the others), inside a booking freeze that covers them, on an environment that is down or
    decommissioned, or linked to a phase whose window they no longer cover. A handful of queries, whatever the size.
    The window is checked here (at most `REPORT_MOST_DAYS`), for the page and the API alike.
    """
    check_report_window(start, end, most_days=REPORT_MOST_DAYS, most_words="a year")
    bookings = booking_list(user=user, start=start, end=end, status=list(LIVE_BOOKING_STATUSES))
    if environment_ids is not None:
        bookings = bookings.filter(environment_id__in=list(environment_ids))
    bookings = list(bookings)
    if not bookings:
        return []
    reasons: dict[int, list[str]] = defaultdict(list)
    environments = {booking.environment_id: booking.environment for booking in bookings}

    # Overbooked: read every live booking of these environments in the window, so a clash with one that starts
    # before `start` counts too.
    first = min(booking.starts_at for booking in bookings)
    last = max(booking.ends_at for booking in bookings)
    held: dict[int, list[rules.Held]] = defaultdict(list)
    for pk, environment_id, starts_at, ends_at, usage in EnvironmentBooking.objects.filter(
        environment_id__in=list(environments), ends_at__gt=first, starts_at__lt=last, status__in=LIVE_BOOKING_STATUSES
    ).values_list("pk", "environment_id", "starts_at", "ends_at", "usage"):
        held[environment_id].append(rules.Held(pk, starts_at, ends_at, usage))
    over: set[int] = set()
    for environment_id, windows in held.items():
        over |= rules.overbooked(environments[environment_id].capacity, windows)
    for booking in bookings:
        if booking.pk in over:
            reasons[booking.pk].append("Overbooked: it does not fit beside the other bookings of the environment.")

    # Freezes.
    occurrences = freezes_between(_local_day(first), _local_day(last), category=FreezeCategory.BOOKING)
    if occurrences:
        systems: dict[int, set[int]] = defaultdict(set)
        for environment_id, system_id in EnvironmentComponent.objects.filter(
            environment_id__in=list(environments)
        ).values_list("environment_id", "system_id"):
            systems[environment_id].add(system_id)
        release_ids = {booking.release_id for booking in bookings if booking.release_id}
        portfolios = dict(
            Release.objects.filter(pk__in=release_ids)
            .annotate(belongs_to=release_portfolio())
            .values_list("pk", "belongs_to")
        )
        for booking in bookings:
            for occurrence in occurrences:
                freeze_start, freeze_end = freeze_window(occurrence)
                if not (freeze_start < booking.ends_at and booking.starts_at < freeze_end):
                    continue
                if booking_freeze_applies(
                    occurrence,
                    booking.environment,
                    system_ids=systems[booking.environment_id],
                    portfolio_id=portfolios.get(booking.release_id),
                ):
                    reasons[booking.pk].append(f"Inside the booking freeze {occurrence.name}.")
                    break

    # The environment's state.
    for booking in bookings:
        status = booking.environment.status
        if status in (EnvironmentStatus.DOWN, EnvironmentStatus.DECOMMISSIONED):
            reasons[booking.pk].append(f"The environment is {EnvironmentStatus(status).label.lower()}.")

    # The phase it serves.
    for booking in bookings:
        phase = booking.phase
        if phase is not None and not booking_within_phase(booking.starts_at, booking.ends_at, phase):
            reasons[booking.pk].append(
                f"It no longer lies within its phase {phase.name} ({phase.planned_start} to {phase.planned_end})."
            )
    return [{"booking": booking, "reasons": reasons[booking.pk]} for booking in bookings if reasons[booking.pk]]


def booking_within_phase(starts_at: datetime, ends_at: datetime, phase: Phase) -> bool:
    """Whether a booking's window lies within the days of the phase it serves (local days, ends inclusive)."""
    return day_start(phase.planned_start) <= starts_at and ends_at <= day_start(phase.planned_end + timedelta(days=1))


def booking_move_problem(
    booking: EnvironmentBooking,
    starts_at: datetime,
    ends_at: datetime,
    *,
    exclude: Iterable[int] = (),
    moved: dict[int, tuple[datetime, datetime]] | None = None,
) -> str | None:
    """Why `booking` could not move to `starts_at`..`ends_at` (its window, the environment, a freeze, a clash: in
    words), or None. The window by `rules.window_problem`, as the booking service checks it."""
    environment = booking.environment
    if not (is_plausible_date(starts_at.date()) and is_plausible_date(ends_at.date())):
        return IMPLAUSIBLE_DATE_MESSAGE
    problem = rules.window_problem(starts_at, ends_at)
    if problem:
        return problem[1]
    problem = unbookable_reason(environment)
    if problem:
        return problem
    frozen = booking_freezes(environment, starts_at, ends_at, booking.release_id)
    if frozen:
        return f"It would fall in the booking freeze {frozen[0].name} ({frozen[0].start} to {frozen[0].end})."
    clashing = booking_conflicts(
        environment=environment,
        starts_at=starts_at,
        ends_at=ends_at,
        usage=booking.usage,
        exclude={booking.pk, *exclude},
        moved=moved,
    )
    if clashing:
        return f"It would clash with {describe_bookings(clashing)}."
    return None


def phase_move_windows(
    phases: dict[int, tuple[date, date, date, date]],
) -> dict[int, tuple[EnvironmentBooking, datetime, datetime]]:
    """The live bookings of moved phases with their new windows: the start shifted by the phase's start change, the
    end by its end change (so a booking of a phase that grows grows with it)."""
    if not phases:
        return {}
    bookings = (
        EnvironmentBooking.objects.select_related("environment", "phase")
        .filter(phase_id__in=sorted(phases), status__in=LIVE_BOOKING_STATUSES)
        .order_by("environment_id", "starts_at", "pk")
    )
    windows = {}
    for booking in bookings:
        old_start, old_end, new_start, new_end = phases[booking.phase_id]
        windows[booking.pk] = (
            booking,
            booking.starts_at + (new_start - old_start),
            booking.ends_at + (new_end - old_end),
        )
    return windows


def booking_move_plan(phases: dict[int, tuple[date, date, date, date]]) -> list[dict]:
    """What moving the bookings of moved phases would do, booking by booking: `booking`, new `starts_at`/`ends_at`,
    `changes` (whether the window differs), `problem` (why it cannot move, or None). The what-if preview and the
    apply read this one plan.

    Every booking is first tried at its new window beside the others at theirs; the first that does not fit stays
    where it is, and the rest are tried again beside it, until every booking that moves fits beside all the others
    as they will be.
    """
    windows = phase_move_windows(phases)
    problems: dict[int, str] = {}
    while True:
        moving = {
            pk: (starts_at, ends_at)
            for pk, (booking, starts_at, ends_at) in windows.items()
            if pk not in problems and (starts_at, ends_at) != (booking.starts_at, booking.ends_at)
        }
        for pk, (starts_at, ends_at) in moving.items():
            try:
                problem = booking_move_problem(windows[pk][0], starts_at, ends_at, moved=moving)
            except OverflowError:
                problem = "The new window is out of range."
            if problem is not None:
                # One at a time: a booking that clashed only with this one may fit once this one stays.
                problems[pk] = problem
                break
        else:
            break
    return [
        {
            "booking": booking,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "changes": (starts_at, ends_at) != (booking.starts_at, booking.ends_at),
            "problem": problems.get(pk),
        }
        for pk, (booking, starts_at, ends_at) in windows.items()
    ]


# Environment requests

HOURS_PER_PERSON_DAY = Decimal("8")
MAX_LOAD_WEEKS = 104


def environment_request_list(
    *,
    user,
    search: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    open_only: bool = False,
    team: int | None = None,
    environment: int | None = None,
    release: int | None = None,
    phase: int | None = None,
    due_from: date | None = None,
    due_until: date | None = None,
) -> QuerySet[EnvironmentRequest]:
    """The environment requests `user` may see, by due date; filters narrow them."""
    requests = EnvironmentRequest.objects.restrict(user, "view").select_related(
        "environment", "team", "release", "phase", "requester"
    )
    if search:
        requests = requests.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if kind:
        requests = requests.filter(kind=kind)
    if status:
        requests = requests.filter(status=status)
    if open_only:
        requests = requests.filter(status__in=OPEN_REQUEST_STATUSES)
    for name, value in (("team", team), ("environment", environment), ("release", release), ("phase", phase)):
        if value:
            requests = requests.filter(**{f"{name}_id": value})
    if due_from:
        requests = requests.filter(due_on__gte=due_from)
    if due_until:
        requests = requests.filter(due_on__lte=due_until)
    return requests.order_by("due_on", "pk")


def environment_request_get(*, user, pk: int) -> EnvironmentRequest:
    """One environment request `user` may see, or `NotFound`."""
    return environment_request_list(user=user).get_visible(pk=pk)


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def spread_effort(
    windows: list[tuple[date, date, Decimal]], calendar: WorkingCalendar, start: date, weeks: int
) -> list[Decimal]:
    """Person-days per week from `start` (a Monday) for `weeks` weeks: each window's hours spread evenly over its
    working days from its first to its last day (all on the last day when none of them is a working day).

    The one rule of a team's committed effort: the load page, the API and the schedule's what-if use it.
    """
    totals = [Decimal("0")] * weeks
    end = start + timedelta(days=7 * weeks)
    for first, last, hours in windows:
        if last < start or first >= end:
            continue
        mask = calendar.working_day_mask(first, last)
        days = [first + timedelta(days=index) for index, working in enumerate(mask) if working] or [last]
        share = Decimal(hours) / HOURS_PER_PERSON_DAY / len(days)
        for day in days:
            if start <= day < end:
                totals[(day - start).days // 7] += share
    return totals


def team_environment_load(*, user, team: Team, start: date | None = None, weeks: int = 12) -> dict:
    """The effort a team has committed to open environment requests, per ISO week, against its capacity.

    Each open request's hours are spread evenly over its working days `starts_on`..`due_on` on the team's calendar,
    in person-days of 8 hours; a week whose committed effort exceeds `capacity_person_days_per_week` is flagged.
    """
    if not 1 <= weeks <= MAX_LOAD_WEEKS:
        raise ValidationFailed.field("weeks", f"Show between 1 and {MAX_LOAD_WEEKS} weeks.")
    require_plausible_dates(start=start)
    start = week_start(start or timezone.localdate())
    end = start + timedelta(days=7 * weeks)
    rows = list(
        environment_request_list(user=user, team=team.pk, open_only=True)
        .filter(starts_on__lt=end, due_on__gte=start)
        .values_list("starts_on", "due_on", "effort_hours")
    )
    committed = spread_effort(rows, team_calendar(team), start, weeks)
    capacity = team.capacity_person_days_per_week
    result = []
    for index, value in enumerate(committed):
        monday = start + timedelta(days=7 * index)
        year, week, _ = monday.isocalendar()
        result.append(
            {
                "week": f"{year}-W{week:02d}",
                "start": monday,
                "committed": value.quantize(Decimal("0.1")),
                "capacity": capacity,
                "over": value > capacity,
            }
        )
    return {
        "team_id": team.pk,
        "team": team.name,
        "capacity": capacity,
        "start": start,
        "weeks": result,
        "open_requests": len(rows),
        "over_weeks": sum(1 for row in result if row["over"]),
    }


def request_is_overdue(request: EnvironmentRequest, today) -> bool:
    """THE rule: an open request whose due date has passed."""
    return request.status in OPEN_REQUEST_STATUSES and request.due_on < today


def release_environment_plan(*, user, release: Release) -> dict:
    """What a release needs of environments: its bookings and its environment requests, with dates and state."""
    today = timezone.localdate()
    bookings = list(
        EnvironmentBooking.objects.restrict(user, "view")
        .filter(release=release)
        .select_related("environment", "phase")
        .order_by("starts_at", "pk")
    )
    requests = list(environment_request_list(user=user, release=release.pk))
    for request in requests:
        request.is_overdue = request_is_overdue(request, today)
    return {
        "bookings": bookings,
        "requests": requests,
        "open_requests": sum(1 for request in requests if request.status in OPEN_REQUEST_STATUSES),
        "overdue_requests": sum(1 for request in requests if request.is_overdue),
        "live_bookings": sum(1 for booking in bookings if booking.status in LIVE_BOOKING_STATUSES),
    }


# Deployments and versions
# The order of the matrix's columns: an environment's type follows the path of a change towards production.
ENVIRONMENT_TYPE_ORDER = {value: index for index, value in enumerate(EnvironmentType.values)}


def deployment_list(
    *,
    user,
    environment: int | None = None,
    system: int | None = None,
    release: int | None = None,
    outcome: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = None,
) -> QuerySet[Deployment]:
    """Deployments, newest first, with their system, environment, release and recorder; `until` is exclusive."""
    deployments = Deployment.objects.restrict(user, "view").select_related(
        "system", "environment", "release", "recorded_by"
    )
    if environment:
        deployments = deployments.filter(environment_id=environment)
    if system:
        deployments = deployments.filter(system_id=system)
    if release:
        deployments = deployments.filter(release_id=release)
    if outcome:
        deployments = deployments.filter(outcome=outcome)
    if source:
        deployments = deployments.filter(source=source)
    if since:
        deployments = deployments.filter(deployed_at__gte=since)
    if until:
        deployments = deployments.filter(deployed_at__lt=until)
    if search:
        deployments = deployments.filter(
            Q(version__icontains=search) | Q(change_reference__icontains=search) | Q(external_id__icontains=search)
        )
    return deployments.order_by("-deployed_at", "-pk")


def unknown_name(field: str, name: str) -> str:
    """The one wording of a deployment naming a system, environment or release the caller has none of (or may not
    see): for single calls, bulk rows and the CLI alike."""
    return f"No {field} named {name.strip()!r}."


def named_row(*, user, model, name: str):
    """The system, environment or release a deployment names, in any case, among those the user may see; or None."""
    return named_rows(user=user, names={model: name})[model]


def _named_fields(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.name in ("id", "name", "status")]


def named_rows(*, user, names: dict) -> dict:
    """`named_row` for several models at once ({model: name} in, {model: row or None} out).

    Read through the unique index on the lower-cased name that each of these models has. A pipeline names a system
    and an environment on every deployment it records, so where the user's permission is all there is to `restrict`
    (no narrower scope), all are read by one plain SQL query (a UNION ALL of each model's lookup): building the
    queries with the ORM cost several times running them, and each query is a round trip to the database server.
    """
    found, plain = {}, []
    for model, name in names.items():
        visible = model.objects.restrict(user, "view")
        if visible.query.is_empty():
            found[model] = None
        elif getattr(model, "restrict_scope", None) is None:
            plain.append((model, name.strip().lower()))
        else:
            lowered = visible.alias(lower_name=Lower("name")).filter(lower_name=name.strip().lower())
            found[model] = lowered.only(*_named_fields(model)).first()
    if not plain:
        return found
    db = plain[0][0].objects.db
    quote = connections[db].ops.quote_name
    width = max(len(_named_fields(model)) for model, _ in plain)
    lookups = []
    for index, (model, _) in enumerate(plain):
        columns = [quote(model._meta.get_field(field).column) for field in _named_fields(model)]
        columns += ["NULL"] * (width - len(columns))
        table, name_column = quote(model._meta.db_table), quote(model._meta.get_field("name").column)
        lookups.append(f"SELECT {index}, {', '.join(columns)} FROM {table} WHERE LOWER({name_column}) = %s")
    with connections[db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(lookups), [name for _, name in plain])
        rows = {row[0]: row[1:] for row in cursor.fetchall()}
    for index, (model, _) in enumerate(plain):
        fields = _named_fields(model)
        row = rows.get(index)
        found[model] = None if row is None else model.from_db(db, fields, row[: len(fields)])
    return found


def deployment_get(*, user, pk: int) -> Deployment:
    """One deployment the user may see, or `NotFound`."""
    return deployment_list(user=user).get_visible(pk=pk)


def deployment_history(*, user, environment: int | None = None, system: int | None = None, limit: int = 10) -> dict:
    """The latest `limit` deployments into an environment or of a system, with the count of each outcome over the
    whole history: the panel on an environment's page. Two queries."""
    deployments = deployment_list(user=user, environment=environment, system=system)
    grouped = deployments.select_related(None).order_by().values("outcome").annotate(count=Count("pk"))
    counts = {row["outcome"]: row["count"] for row in grouped}
    return {
        "deployments": list(deployments[:limit]),
        "total": sum(counts.values()),
        "by_outcome": [(label, counts.get(value, 0)) for value, label in DeploymentOutcome.choices],
    }


def _matrix_environments(user, environments, environment_type, group) -> list[dict]:
    rows = Environment.objects.restrict(user, "view").exclude(status=EnvironmentStatus.DECOMMISSIONED)
    if environments is not None:
        rows = rows.filter(pk__in=environments)
    if environment_type:
        rows = rows.filter(environment_type=environment_type)
    if group:
        rows = rows.filter(group_id=group)
    found = [
        {**row, "group": row.pop("group__name")}
        for row in rows.values("id", "name", "environment_type", "category", "group__name")
    ]
    found.sort(key=lambda row: (ENVIRONMENT_TYPE_ORDER.get(row["environment_type"], 99), row["name"].lower()))
    return found


def _production_versions(user, system_ids) -> dict[int, str]:
    """Each system's version in production: the newest deployed one when its production environments differ."""
    newest: dict[int, tuple] = {}
    components = (
        EnvironmentComponent.objects.restrict(user, "view")
        .filter(
            environment__environment_type=EnvironmentType.PRODUCTION,
            environment__status__in=[status for status in EnvironmentStatus.values if status != "decommissioned"],
        )
        .exclude(version="")
    )
    if system_ids is not None:
        components = components.filter(system_id__in=system_ids)
    for system_id, version, deployed_at in components.values_list("system_id", "version", "deployed_at"):
        moment = deployed_at or datetime.min.replace(tzinfo=UTC)
        if system_id not in newest or moment > newest[system_id][0]:
            newest[system_id] = (moment, version)
    return {system_id: version for system_id, (_, version) in newest.items()}


def version_matrix(
    *,
    user,
    systems: list[int] | None = None,
    environments: list[int] | None = None,
    release: Release | None = None,
    environment_type: str | None = None,
    group: int | None = None,
    drift_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> dict:
    """Systems by environments with the version each environment runs, flagged where it drifts.

    `drift_from_production`: the cell's version differs from the system's version in production (the newest one
    deployed, where production environments differ). `drift_from_target`: with a release, the cell's version differs
    from the target version the release's scope sets for the system. Rows are the given systems, else the release's
    scope, else every system deployed in the chosen environments; `drift_only` keeps the rows with a drifting cell;
    `limit`/`offset` page the rows. Five queries whatever the size.
    """
    columns = _matrix_environments(user, environments, environment_type, group)
    column_index = {column["id"]: index for index, column in enumerate(columns)}
    targets: dict[int, str] = {}
    if release is not None:
        targets = dict(ReleaseSystem.objects.filter(release=release).values_list("system_id", "target_version"))
    wanted = systems if systems is not None else (list(targets) if release is not None else None)
    components = EnvironmentComponent.objects.restrict(user, "view").filter(environment_id__in=list(column_index))
    if wanted is not None:
        components = components.filter(system_id__in=wanted)
    cells: dict[int, list] = {}
    for environment_id, system_id, version, deployed_at in components.values_list(
        "environment_id", "system_id", "version", "deployed_at"
    ):
        row = cells.setdefault(system_id, [None] * len(columns))
        row[column_index[environment_id]] = {
            "environment_id": environment_id,
            "version": version,
            "deployed_at": deployed_at,
        }
    system_ids = wanted if wanted is not None else list(cells)
    production = _production_versions(user, system_ids)
    names = dict(System.objects.restrict(user, "view").filter(pk__in=system_ids).values_list("id", "name"))
    rows = []
    drift = {"production": 0, "target": 0}
    for system_id in sorted(names, key=lambda pk: names[pk].lower()):
        reference, target = production.get(system_id), targets.get(system_id) or None
        row_cells = cells.get(system_id, [None] * len(columns))
        for cell in row_cells:
            if cell is None:
                continue
            known = bool(cell["version"])
            cell["drift_from_production"] = known and reference is not None and cell["version"] != reference
            cell["drift_from_target"] = known and target is not None and cell["version"] != target
            drift["production"] += cell["drift_from_production"]
            drift["target"] += cell["drift_from_target"]
        drifting = any(cell and (cell["drift_from_production"] or cell["drift_from_target"]) for cell in row_cells)
        if drift_only and not drifting:
            continue
        rows.append(
            {
                "system_id": system_id,
                "system": names[system_id],
                "production_version": reference,
                "target_version": target,
                "drifting": drifting,
                "cells": row_cells,
            }
        )
    page = rows[offset : offset + limit] if limit is not None else rows[offset:]
    return {
        "environments": columns,
        "rows": page,
        "system_count": len(rows),
        "drift_from_production": drift["production"],
        "drift_from_target": drift["target"],
        "release_id": release.pk if release is not None else None,
    }


# Schedule, utilisation and demand


SCHEDULE_GROUPINGS = ("group", "type", "environment")
UTILISATION_MOST_WEEKS = 53
DEMAND_MOST_WEEKS = 52
# Bookings that used an environment: the utilisation counts them (requested ones are not yet a use).
USED_BOOKING_STATUSES = (BookingStatus.APPROVED, BookingStatus.ACTIVE, BookingStatus.RELEASED)
# Bookings the schedule draws: the live ones and the released (history); rejected and cancelled ones held nothing.
SCHEDULED_BOOKING_STATUSES = (*LIVE_BOOKING_STATUSES, BookingStatus.RELEASED)
# Releases whose phases make up the demand for environments: those still to be delivered.
DEMANDING_RELEASE_STATUSES = (ReleaseStatus.PLANNED, ReleaseStatus.IN_PROGRESS)
SCHEDULE_NO_GROUP = "-"
_ONE_DAY = timedelta(days=1)


SCHEDULE_DEFAULT_WEEKS = 13
UTILISATION_DEFAULT_WEEKS = 13


def schedule_default_window(today: date | None = None) -> tuple[date, date]:
    """The schedule's window when none is asked for: a quarter (13 weeks) from the Monday of last week."""
    today = today or timezone.localdate()
    start = today - timedelta(days=today.weekday() + 7)
    return start, start + timedelta(weeks=SCHEDULE_DEFAULT_WEEKS) - _ONE_DAY


def utilisation_default_window(today: date | None = None) -> tuple[date, date]:
    """The utilisation's window when none is asked for: the 13 ISO weeks that end with this one."""
    today = today or timezone.localdate()
    end = today + timedelta(days=6 - today.weekday())
    return end - timedelta(weeks=UTILISATION_DEFAULT_WEEKS) + _ONE_DAY, end


def _schedule_day(value, field: str) -> date:
    """A window's day from a date or ISO text; a missing or bad one is refused on its field."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationFailed.field(field, "Enter a date as YYYY-MM-DD.") from None
    if not isinstance(value, date):
        raise ValidationFailed.field(field, "Give both a start and an end date.")
    require_plausible_dates(**{field: value})
    return value


def _schedule_window(start, end, *, most_days: int, most_words: str) -> tuple[date, date]:
    """A window of whole days (both ends included), checked as the instants it covers by `check_report_window`."""
    start, end = _schedule_day(start, "start"), _schedule_day(end, "end")
    check_report_window(day_start(start), day_start(end + _ONE_DAY), most_days=most_days, most_words=most_words)
    return start, end


def _schedule_link(name: str):
    """`pk -> url` for a URL name, reversed once; None for every pk while that page does not exist."""
    try:
        head, _, tail = reverse(name, args=[987654321]).partition("987654321")
    except NoReverseMatch:
        return lambda pk: None
    return lambda pk: f"{head}{pk}{tail}"


def _schedule_rows(queryset) -> list[tuple]:
    """The rows of a `values_list` queryset straight from the database cursor, without Django's per-value converters
    (which cost more than the query for the ~30,000 datetimes of a quarter's bookings); see `_schedule_instant`."""
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _InstantText(Func):
    """A datetime column as UTC text (`2026-03-02 09:00:00`, maybe with microseconds), read by the database: the
    schedule sends ISO text anyway, and parsing it is cheaper than converting datetimes only to format them again."""

    output_field = CharField()
    arity = 1
    template = "CAST(%(expressions)s AS TEXT)"  # SQLite keeps datetimes as UTC text

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
            **extra_context,
        )


def _schedule_instant(value) -> tuple[datetime, str]:
    """A datetime read as `_InstantText` (or as a datetime), as an aware datetime and its ISO text."""
    if not isinstance(value, str):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment, moment.isoformat()
    if value.endswith(".000000"):
        value = value[:-7]
    text = value.replace(" ", "T", 1) + "+00:00"
    return datetime.fromisoformat(text), text


def _schedule_environments(user, *, environment_type: str | None = None, group=None):
    environments = Environment.objects.restrict(user, "view")
    if environment_type:
        environments = environments.filter(environment_type=environment_type)
    if group is not None and group != "":
        group_id = getattr(group, "pk", group)
        environments = (
            environments.filter(group__isnull=True)
            if group_id == SCHEDULE_NO_GROUP
            else environments.filter(group_id=group_id)
        )
    return environments


def _schedule_freezes(occurrences, environments: list[dict]) -> list[dict]:
    """The booking freezes of a window, each with the environment rows it shades (None: every row).

    By the one rule, `booking_freeze_applies`: an organisation-wide freeze shades every row; the others the rows of
    the environments they cover (system freezes: where those systems are installed, read in one query only when
    there are any). Portfolio freezes cover the bookings of some releases rather than environments: no row.
    """
    system_ids = {system for occurrence in occurrences for system in occurrence.system_ids}
    installed: dict[int, set[int]] = defaultdict(set)
    if system_ids and any(occurrence.scope == FreezeScope.SYSTEMS for occurrence in occurrences):
        ids = [environment["id"] for environment in environments]
        for environment_id, system_id in EnvironmentComponent.objects.filter(
            environment_id__in=ids, system_id__in=system_ids
        ).values_list("environment_id", "system_id"):
            installed[environment_id].add(system_id)
    # The rule reads an environment's type; unsaved instances carry it without a query.
    shells = [(row["id"], Environment(pk=row["id"], environment_type=row["type"])) for row in environments]
    rows = []
    for index, occurrence in enumerate(occurrences):
        covered = None
        if occurrence.scope != FreezeScope.ORGANISATION:
            covered = [
                pk
                for pk, environment in shells
                if booking_freeze_applies(occurrence, environment, system_ids=installed.get(pk, ()))
            ]
        rows.append(
            {
                "id": f"{occurrence.window_id}.{index}",
                "window_id": occurrence.window_id,
                "name": occurrence.name,
                "scope": occurrence.scope,
                "start": occurrence.start.isoformat(),
                "end": occurrence.end.isoformat(),
                "environments": covered,
            }
        )
    return rows


def environment_schedule(
    *,
    user,
    start,
    end,
    group_by: str = "group",
    environment_type: str | None = None,
    group=None,
    today: date | None = None,
) -> dict:
    """Who holds which environment when, as JSON-ready data (the schedule page and `GET /environments/schedule`).

    Every environment the user sees (filtered by type and group; decommissioned ones only while they still have
    bookings in the window), its bookings overlapping `start`..`end` (days, inclusive) that are live or released,
    each flagged `conflict` when it does not fit beside the others by the capacity rule (`rules.overbooked`), the
    row groups (`group`: lanes, `type`: environment types, `environment`: none) and the booking freezes to shade.
    Four to six queries whatever the size: plain rows, no model instance per booking.
    """
    start, end = _schedule_window(start, end, most_days=REPORT_MOST_DAYS, most_words="a year")
    if group_by not in SCHEDULE_GROUPINGS:
        raise ValidationFailed.field("group_by", "Group by group, type or environment.")
    if environment_type and environment_type not in EnvironmentType.values:
        raise ValidationFailed.field("type", "Choose one of the environment types.")
    today = today or timezone.localdate()
    first, after = day_start(start), day_start(end + _ONE_DAY)
    environment_url = _schedule_link("environments:environment_detail")
    booking_url = _schedule_link("environments:booking_detail")
    type_labels = dict(EnvironmentType.choices)

    environments = _schedule_environments(user, environment_type=environment_type, group=group)
    rows = list(
        environments.order_by(Lower("name"), "pk").values_list(
            "pk", "name", "environment_type", "category", "capacity", "status", "group_id", "group__name"
        )
    )
    capacities = {row[0]: row[4] for row in rows}
    bookings = (
        EnvironmentBooking.objects.restrict(user, "view")
        .filter(environment__in=environments.order_by().values("pk"), status__in=SCHEDULED_BOOKING_STATUSES)
        .order_by()
    )
    fields = (
        "pk", "environment_id", "start_text", "end_text", "usage", "status", "release__name", "phase__name", "purpose",
    )  # fmt: skip
    shown_bookings = bookings.filter(starts_at__lt=after, ends_at__gt=first).annotate(
        start_text=_InstantText("starts_at"), end_text=_InstantText("ends_at")
    )
    items = []
    held: dict[int, list[Held]] = defaultdict(list)
    for pk, environment_id, starts_at, ends_at, usage, status, *labels in (
        _schedule_rows(shown_bookings.values_list(*fields)) if rows else []
    ):
        (start_moment, start_text), (end_moment, end_text) = _schedule_instant(starts_at), _schedule_instant(ends_at)
        items.append((pk, environment_id, start_text, end_text, usage, status, *labels))
        # The capacity rule needs every live booking that overlaps a shown one, also those outside the window.
        if status in LIVE_BOOKING_STATUSES:
            held[environment_id].append(Held(pk, start_moment, end_moment, usage))
    live = [booking for bookings_of in held.values() for booking in bookings_of]
    earliest = min((booking.start for booking in live), default=first)
    latest = max((booking.end for booking in live), default=after)
    if earliest < first or latest > after:
        for pk, environment_id, starts_at, ends_at, usage in (
            bookings.filter(environment_id__in=list(held), status__in=LIVE_BOOKING_STATUSES)
            .filter(starts_at__lt=latest, ends_at__gt=earliest)
            .exclude(starts_at__lt=after, ends_at__gt=first)
            .values_list("pk", "environment_id", "starts_at", "ends_at", "usage")
        ):
            held[environment_id].append(Held(pk, starts_at, ends_at, usage))
    conflicts: set[int] = set()
    for environment_id, windows in held.items():
        conflicts |= overbooked(capacities[environment_id], windows)

    booked = {item[1] for item in items}
    shown = [row for row in rows if row[5] != EnvironmentStatus.DECOMMISSIONED or row[0] in booked]
    environment_rows = [
        {
            "id": pk,
            "name": name,
            "type": kind,
            "type_label": type_labels.get(kind, kind),
            "category": category,
            "capacity": capacity,
            "status": status,
            "group": group_id,
            "group_name": group_name,
            "url": environment_url(pk),
        }
        for pk, name, kind, category, capacity, status, group_id, group_name in shown
    ]
    groups = []
    if group_by == "group":
        lanes: dict = {}
        for row in environment_rows:
            key = f"g{row['group']}" if row["group"] is not None else SCHEDULE_NO_GROUP
            lane = lanes.setdefault(key, {"id": key, "label": row["group_name"] or "No group", "environments": []})
            lane["environments"].append(row["id"])
        groups = sorted(lanes.values(), key=lambda lane: (lane["id"] == SCHEDULE_NO_GROUP, lane["label"].lower()))
    elif group_by == "type":
        kinds: dict = {}
        for row in environment_rows:
            kind = kinds.setdefault(
                row["type"], {"id": f"t-{row['type']}", "label": row["type_label"], "environments": []}
            )
            kind["environments"].append(row["id"])
        order = {value: index for index, value in enumerate(EnvironmentType.values)}
        groups = sorted(kinds.values(), key=lambda kind: order.get(kind["id"][2:], len(order)))

    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "today": today.isoformat(),
        "group_by": group_by,
        "groups": groups,
        "environments": environment_rows,
        "bookings": [
            {
                "id": pk,
                "environment": environment_id,
                "start": starts_at,
                "end": ends_at,
                "usage": usage,
                "status": status,
                "label": " · ".join(part for part in (release_name, phase_name) if part) or purpose or "Booking",
                "purpose": purpose,
                "conflict": pk in conflicts,
                "url": booking_url(pk),
            }
            for pk, environment_id, starts_at, ends_at, usage, status, release_name, phase_name, purpose in items
        ],
        "freezes": _schedule_freezes(freezes_between(start, end, category=FreezeCategory.BOOKING), environment_rows),
        "conflicts": len(conflicts & {item[0] for item in items}),
    }


def _iso_weeks(first_monday: date, count: int) -> list[dict]:
    weeks = []
    for index in range(count):
        monday = first_monday + timedelta(weeks=index)
        year, week, _ = monday.isocalendar()
        weeks.append({"start": monday.isoformat(), "label": f"{year}-W{week:02d}"})
    return weeks


def _merged_windows(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The union of windows as disjoint windows in time order."""
    merged: list[list[datetime]] = []
    for first, last in sorted(windows):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return [(first, last) for first, last in merged]


def _up_windows(history: list[tuple[datetime, str]], end: datetime) -> list[tuple[datetime, datetime]]:
    """The windows in which an environment was in service and up, from its status history (the statuses of
    `rules.UP`; each status holds until the next entry, the last one until `end`; before the first, unknown)."""
    windows = []
    for index, (since, status) in enumerate(history):
        until = history[index + 1][0] if index + 1 < len(history) else end
        if status in RULES_UP and until > since:
            windows.append((since, until))
    return windows


def _days_per_week(windows: list[tuple[datetime, datetime]], week_starts: list[datetime]) -> list[float]:
    """How many days (fractional) of each week [week_starts[i], week_starts[i + 1]) the disjoint `windows` cover."""
    days = []
    earliest = 0  # windows before this one end before the current week: later weeks skip them
    for index in range(len(week_starts) - 1):
        first, last = week_starts[index], week_starts[index + 1]
        covered = timedelta(0)
        while earliest < len(windows) and windows[earliest][1] <= first:
            earliest += 1
        for start, end in windows[earliest:]:
            if start >= last:
                break
            covered += min(end, last) - max(start, first)
        days.append(covered / _ONE_DAY)
    return days


def _share_percent(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(min(100.0, 100.0 * part / whole), 1)


def environment_utilisation(*, user, start, end, environment_type: str | None = None, group=None) -> dict:
    """Per environment and ISO week of `start`..`end` (widened to whole weeks): booked days (the union of its
    approved, active and released bookings, fractional), available days (in service and up, from its status history)
    and utilisation (booked / available, at most 100 %); its idle cost (cost per day times the available days not
    booked); the environments with no booking in the window; totals. Three queries.
    """
    start, end = _schedule_window(start, end, most_days=UTILISATION_MOST_WEEKS * 7, most_words="a year")
    if environment_type and environment_type not in EnvironmentType.values:
        raise ValidationFailed.field("type", "Choose one of the environment types.")
    first_monday = start - timedelta(days=start.weekday())
    count = (end - first_monday).days // 7 + 1
    weeks = _iso_weeks(first_monday, count)
    week_starts = [day_start(first_monday + timedelta(weeks=index)) for index in range(count + 1)]
    first, after = week_starts[0], week_starts[-1]
    environment_url = _schedule_link("environments:environment_detail")

    environments = _schedule_environments(user, environment_type=environment_type, group=group)
    rows = list(
        environments.order_by(Lower("name"), "pk").values_list(
            "pk", "name", "environment_type", "group__name", "cost_per_day", "status", "status_since"
        )
    )
    chosen = environments.order_by().values("pk")
    used: dict[int, list] = defaultdict(list)
    for environment_id, starts_at, ends_at in _schedule_rows(
        EnvironmentBooking.objects.restrict(user, "view")
        .filter(environment__in=chosen, status__in=USED_BOOKING_STATUSES, starts_at__lt=after, ends_at__gt=first)
        .order_by()
        .annotate(start_text=_InstantText("starts_at"), end_text=_InstantText("ends_at"))
        .values_list("environment_id", "start_text", "end_text")
    ):
        starts_at, ends_at = _schedule_instant(starts_at)[0], _schedule_instant(ends_at)[0]
        used[environment_id].append((max(starts_at, first), min(ends_at, after)))
    history: dict[int, list] = defaultdict(list)
    for environment_id, since, status in _schedule_rows(
        EnvironmentStatusChange.objects.restrict(user, "view")
        .filter(environment__in=chosen, started_at__lt=after)
        .order_by("environment_id", "started_at", "id")
        .annotate(since_text=_InstantText("started_at"))
        .values_list("environment_id", "since_text", "status")
    ):
        history[environment_id].append((_schedule_instant(since)[0], status))

    type_labels = dict(EnvironmentType.choices)
    result_rows, idle = [], []
    totals = {"booked": 0.0, "available": 0.0, "idle_cost": 0.0}
    for pk, name, kind, group_name, cost, status, status_since in rows:
        # An environment without a recorded history has held its current status since `status_since`.
        changes = history.get(pk) or [(status_since, status)]
        available = _days_per_week(_up_windows(changes, after), week_starts)
        booked = _days_per_week(_merged_windows(used.get(pk, [])), week_starts)
        booked_total, available_total = sum(booked), sum(available)
        if booked_total <= 0 and available_total <= 0:
            continue  # out of service for the whole window (decommissioned before it, still provisioning)
        cost_per_day = float(cost)
        idle_days = sum(max(0.0, up - held) for up, held in zip(available, booked, strict=True))
        row = {
            "id": pk,
            "name": name,
            "type": kind,
            "type_label": type_labels.get(kind, kind),
            "group": group_name,
            "status": status,
            "cost_per_day": cost_per_day,
            "url": environment_url(pk),
            "weeks": [
                {"booked": round(held, 2), "available": round(up, 2), "utilisation": _share_percent(held, up)}
                for held, up in zip(booked, available, strict=True)
            ],
            "booked": round(booked_total, 2),
            "available": round(available_total, 2),
            "utilisation": _share_percent(booked_total, available_total),
            "idle_days": round(idle_days, 2),
            "idle_cost": round(cost_per_day * idle_days, 2),
            "idle": booked_total <= 0,
        }
        result_rows.append(row)
        if row["idle"]:
            idle.append(row)
        totals["booked"] += booked_total
        totals["available"] += available_total
        totals["idle_cost"] += row["idle_cost"]
    idle.sort(key=lambda row: (-row["idle_cost"], row["name"].lower()))
    return {
        "start": weeks[0]["start"],
        "end": (first_monday + timedelta(weeks=count) - _ONE_DAY).isoformat(),
        "weeks": weeks,
        "environments": result_rows,
        "idle": [row["id"] for row in idle],
        "totals": {
            "booked": round(totals["booked"], 2),
            "available": round(totals["available"], 2),
            "utilisation": _share_percent(totals["booked"], totals["available"]),
            "idle_cost": round(totals["idle_cost"], 2),
            "idle_environments": len(idle),
            "environments": len(result_rows),
        },
    }


def environment_demand(*, user, start=None, weeks: int = 26) -> dict:
    """Demand for environments against supply, per environment type and ISO week, for `weeks` weeks from the week of
    `start` (default: this week).

    Demand: the phases of planned and in-progress releases that need that type of environment (`environment_type`)
    and overlap the week — the environments the plan needs. Supply: the environments of that type in service (not
    provisioning, not decommissioned). A week where demand exceeds supply is a shortage. Two queries.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= DEMAND_MOST_WEEKS:
        raise ValidationFailed.field("weeks", f"Give between 1 and {DEMAND_MOST_WEEKS} weeks.")
    start = _schedule_day(start, "start") if start is not None else timezone.localdate()
    first_monday = start - timedelta(days=start.weekday())
    last_day = first_monday + timedelta(weeks=weeks) - _ONE_DAY
    week_list = _iso_weeks(first_monday, weeks)

    releases = Release.objects.restrict(user, "view").filter(status__in=DEMANDING_RELEASE_STATUSES)
    demand: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for kind, phase_start, phase_end in (
        Phase.objects.restrict(user, "view")
        .filter(
            release__in=releases.order_by().values("pk"), planned_start__lte=last_day, planned_end__gte=first_monday
        )
        .exclude(environment_type="")
        .order_by()
        .values_list("environment_type", "planned_start", "planned_end")
    ):
        first_week = max(0, (phase_start - first_monday).days // 7)
        last_week = min(weeks - 1, (phase_end - first_monday).days // 7)
        counts = demand[kind]
        for index in range(first_week, last_week + 1):
            counts[index] += 1
    supply = dict(
        Environment.objects.restrict(user, "view")
        .exclude(status__in=OUT_OF_SERVICE_STATUSES)
        .order_by()
        .values_list("environment_type")
        .annotate(count=Count("pk"))
        .values_list("environment_type", "count")
    )
    types = []
    for kind, label in EnvironmentType.choices:
        if kind not in demand and not supply.get(kind):
            continue
        needed = demand[kind] if kind in demand else [0] * weeks
        available = supply.get(kind, 0)
        shortage = [count > available for count in needed]
        types.append(
            {
                "type": kind,
                "label": label,
                "supply": available,
                "demand": needed,
                "shortage": shortage,
                "shortage_weeks": sum(shortage),
                "peak_demand": max(needed, default=0),
                "worst_gap": max((count - available for count in needed), default=0),
            }
        )
    return {
        "start": first_monday.isoformat(),
        "end": last_day.isoformat(),
        "weeks": week_list,
        "types": types,
        "shortage_weeks": sum(1 for index in range(weeks) if any(kind["shortage"][index] for kind in types)),
    }
