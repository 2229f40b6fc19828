"""What environments say about a schedule change: the impact providers of the bookings and environment requests of
moved phases (registered in `panels.register()`)."""

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from launchdeck.environments import selectors, services
from launchdeck.environments.choices import OPEN_REQUEST_STATUSES, BookingStatus
from launchdeck.environments.models import EnvironmentBooking, EnvironmentRequest
from launchdeck.org.calendars import team_calendar
from launchdeck.releases.checks import CheckResult
from launchdeck.releases.schedule import ImpactContext

# Bookings

BOOKINGS_PROVIDER = ("environment-bookings", "Environment bookings")


def _window(starts_at, ends_at) -> str:
    return f"{selectors.when(starts_at)} to {selectors.when(ends_at)}"


def preview_bookings(context: ImpactContext) -> list[dict]:
    """Each live booking of a moved phase with its new window (start shifted by the phase's start change, end by its
    end change); an error, saying why, for those that would stop fitting (a clash or a booking freeze): applying
    leaves them where they are."""
    notes = []
    for row in selectors.booking_move_plan(context.phases):
        if not row["changes"]:
            continue
        booking = row["booking"]
        text = (
            f"{booking.environment} booking {booking.pk} for {booking.phase.name}: "
            f"{_window(booking.starts_at, booking.ends_at)} → {_window(row['starts_at'], row['ends_at'])}"
        )
        if row["problem"]:
            text += (
                f" — would stop fitting: {row['problem']} Applying leaves it where it is, and the conflict report "
                "shows it as outside its phase."
            )
        else:
            text += "."
        notes.append(
            {"text": text, "url": booking.get_absolute_url(), "severity": "error" if row["problem"] else "info"}
        )
    return notes


def apply_bookings(context: ImpactContext, actor) -> None:
    """Move the bookings of the moved phases that still fit, as the preview listed them."""
    services.booking_move_for_phases(actor=actor, phases=context.phases, reason=context.reason)


def bookings_confirmed(gate) -> CheckResult:
    """Gate check "All environment bookings approved": every live booking of the gate's release is approved or
    active (none still only requested)."""
    waiting = list(
        EnvironmentBooking.objects.filter(release_id=gate.release_id, status=BookingStatus.REQUESTED)
        .select_related("environment")
        .order_by("starts_at", "pk")[:4]
    )
    if not waiting:
        return CheckResult(True, "Every environment booking of the release is approved.")
    total = EnvironmentBooking.objects.filter(release_id=gate.release_id, status=BookingStatus.REQUESTED).count()
    named = ", ".join(f"{booking.environment} from {selectors.when(booking.starts_at)}" for booking in waiting[:3])
    more = f" and {total - 3} more" if total > 3 else ""
    noun = "booking is" if total == 1 else "bookings are"
    return CheckResult(False, f"{total} {noun} not approved yet: {named}{more}.")


# Environment requests

REQUESTS_PROVIDER = ("environment-requests", "Environment requests")


def _moved_requests(context: ImpactContext) -> list[tuple[EnvironmentRequest, date, date]]:
    """The open requests of the moved phases whose dates change, with their new (starts_on, due_on)."""
    moved = {pk: window for pk, window in context.phases.items() if window[0] != window[2]}
    if not moved:
        return []
    requests = (
        EnvironmentRequest.objects.filter(phase_id__in=moved, status__in=OPEN_REQUEST_STATUSES)
        .select_related("team", "team__department", "team__calendar", "team__department__calendar")
        .order_by("due_on", "pk")
    )
    found = []
    for request in requests:
        starts_on, due_on = services.request_dates(
            team=request.team, sla_days=request.sla_days, phase_start=moved[request.phase_id][2], due_on=None
        )
        if (starts_on, due_on) != (request.starts_on, request.due_on):
            found.append((request, starts_on, due_on))
    return found


def _over_capacity(moves: list[tuple[EnvironmentRequest, date, date]]) -> dict[int, list[tuple[str, Decimal]]]:
    """For each moved request (by id), the weeks of its new window in which its team would be over capacity."""
    by_team: dict[int, list[tuple[EnvironmentRequest, date, date]]] = {}
    for move in moves:
        by_team.setdefault(move[0].team_id, []).append(move)
    found: dict[int, list[tuple[str, Decimal]]] = {}
    for team_moves in by_team.values():
        team = team_moves[0][0].team
        start = selectors.week_start(min(min(move[1], move[0].starts_on) for move in team_moves))
        last = max(max(move[2], move[0].due_on) for move in team_moves)
        weeks = (last - start).days // 7 + 1
        moved_ids = {move[0].pk for move in team_moves}
        others = (
            EnvironmentRequest.objects.filter(
                team=team, status__in=OPEN_REQUEST_STATUSES, starts_on__lte=last, due_on__gte=start
            )
            .exclude(pk__in=moved_ids)
            .values_list("starts_on", "due_on", "effort_hours")
        )
        windows = [*others, *((first, due, request.effort_hours) for request, first, due in team_moves)]
        load = selectors.spread_effort(windows, team_calendar(team), start, weeks)
        capacity = team.capacity_person_days_per_week
        for request, first, due in team_moves:
            for index, value in enumerate(load):
                monday = start + timedelta(days=7 * index)
                if value > capacity and monday <= due and first < monday + timedelta(days=7):
                    year, week, _ = monday.isocalendar()
                    found.setdefault(request.pk, []).append((f"{year}-W{week:02d}", value))
    return found


def preview_requests(context: ImpactContext) -> list[dict]:
    """Each open request of a moved phase with its new dates; an error when its new start is already past or its
    team would go over capacity in a week of the new window."""
    moves = _moved_requests(context)
    over = _over_capacity(moves)
    today = timezone.localdate()
    notes = []
    for request, starts_on, due_on in moves:
        text = (
            f"{request.title} ({request.team}): due {request.due_on:%d %b %Y} → {due_on:%d %b %Y}, "
            f"work starts {starts_on:%d %b %Y}"
        )
        problems = []
        if starts_on < today:
            problems.append(f"the new start {starts_on:%d %b %Y} is already past")
        for week, value in over.get(request.pk, ()):
            problems.append(
                f"{request.team} is over capacity in {week} ({value:.1f} of "
                f"{request.team.capacity_person_days_per_week} person-days)"
            )
        if problems:
            text += " — " + "; ".join(problems)
        notes.append(
            {"text": text + ".", "url": request.get_absolute_url(), "severity": "error" if problems else "info"}
        )
    return notes


def apply_requests(context: ImpactContext, actor) -> None:
    """Move the dates of the open requests of the moved phases, as the preview listed them."""
    for request, starts_on, due_on in _moved_requests(context):
        services.environment_request_move(
            actor=actor, request=request, starts_on=starts_on, due_on=due_on, reason=context.reason
        )
