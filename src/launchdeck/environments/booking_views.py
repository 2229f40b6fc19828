"""The booking pages: list, conflict report, detail with its actions, the booking form with "next free slot", and the
environment page's bookings fragment. Thin: the rules live in the services and selectors."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from launchdeck.core.errors import DomainError, ValidationFailed
from launchdeck.core.forms import without_version
from launchdeck.core.services import is_plausible_date
from launchdeck.core.ui import PAGE_SIZE, form_page, parse_id
from launchdeck.environments import rules, selectors, services
from launchdeck.environments.choices import LIVE_BOOKING_STATUSES, BookingStatus, BookingUsage
from launchdeck.environments.forms import BookingFilterForm, BookingForm, DecisionForm, ReportWindowForm
from launchdeck.environments.models import Environment, EnvironmentBooking
from launchdeck.releases.models import Release

STATUS_BADGES = {
    BookingStatus.REQUESTED: "text-bg-warning",
    BookingStatus.APPROVED: "text-bg-success",
    BookingStatus.ACTIVE: "text-bg-primary",
    BookingStatus.RELEASED: "text-bg-secondary",
    BookingStatus.REJECTED: "text-bg-danger",
    BookingStatus.CANCELLED: "text-bg-light border",
}
REPORT_DAYS = 90
DEFAULT_SLOT_HOURS = 8.0


# Helpers


def _with_badges(bookings):
    for booking in bookings:
        booking.badge = STATUS_BADGES.get(booking.status, "text-bg-light")
    return bookings


def _conflict_rows(user, start: datetime.date, end: datetime.date) -> list[dict]:
    """The conflict report over the days `start` to `end` (both included)."""
    return selectors.booking_conflict_report(
        user=user, start=selectors.day_start(start), end=selectors.day_start(end + datetime.timedelta(days=1))
    )


def _actions(user, booking: EnvironmentBooking) -> list[dict]:
    """The steps open to the user now, as buttons (the services decide; this only hides what would be refused)."""
    manager = user.has_perm("environments.approve_environmentbooking")
    may_change = user.has_perm("environments.change_environmentbooking") and services.booking_is_theirs_to_change(
        user, booking
    )
    actions = []
    for name, step in services.BOOKING_TRANSITIONS.items():
        if booking.status not in step.sources:
            continue
        if step.own_only and not may_change:
            continue
        if not step.own_only and not manager:
            continue
        if name == "approve" and not services.booking_may_approve(user, booking):
            continue  # one's own request, while the policy wants another manager to approve it
        actions.append(
            {
                "name": name,
                "label": {
                    "approve": "Approve",
                    "reject": "Reject",
                    "activate": "Start using it",
                    "release": "Release",
                    "cancel": "Cancel the booking",
                }[name],
                "style": {
                    "approve": "btn-success",
                    "reject": "btn-outline-danger",
                    "activate": "btn-primary",
                    "release": "btn-outline-primary",
                    "cancel": "btn-outline-danger",
                }[name],
                "note": step.takes_note,
                "note_required": step.needs_note,
                "url": reverse(f"environments:booking_{name}", args=[booking.pk]),
            }
        )
    return actions


# Pages


@login_required
def booking_list(request):
    """Bookings by start, filtered by environment, type, status or release."""
    user = request.user
    filters = BookingFilterForm(
        request.GET or None,
        environments=Environment.objects.restrict(user, "view").order_by("name"),
        releases=Release.objects.restrict(user, "view").order_by("name"),
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    status = data.get("status") or None
    environment, release = data.get("environment"), data.get("release")
    bookings = selectors.booking_list(
        user=user,
        environment=environment.pk if environment else None,
        environment_type=data.get("type") or None,
        status=list(LIVE_BOOKING_STATUSES) if status == "live" else status,
        release=release.pk if release else None,
        phase=parse_id(request.GET.get("phase", "")),
        group=parse_id(request.GET.get("group", "")),
    )
    page = Paginator(bookings, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_badges(page.object_list)
    context = {
        "page": page,
        "filters": filters,
        "create_url": reverse("environments:booking_create")
        if user.has_perm("environments.add_environmentbooking")
        else None,
    }
    template = "environments/partials/_booking_table.html" if request.htmx else "environments/booking_list.html"
    return render(request, template, context)


@login_required
def booking_conflicts(request):
    """The conflict report: live bookings that are overbooked, frozen, on a broken environment or off their phase."""
    form = ReportWindowForm(request.GET or None)
    today = timezone.localdate()
    start, end = today, today + datetime.timedelta(days=REPORT_DAYS)
    error = None
    if form.is_bound and not form.is_valid():
        error = next(iter(form.errors.values()))[0]
    elif form.is_bound:
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or (start + datetime.timedelta(days=REPORT_DAYS))
    try:
        rows = _conflict_rows(request.user, start, end)
    except ValidationFailed as refused:
        error, start, end = refused.detail, today, today + datetime.timedelta(days=REPORT_DAYS)
        rows = _conflict_rows(request.user, start, end)
    _with_badges([row["booking"] for row in rows])
    return render(
        request,
        "environments/booking_conflicts.html",
        {"rows": rows, "form": form, "start": start, "end": end, "error": error},
        status=422 if error else 200,
    )


@login_required
def booking_detail(request, pk: int):
    """One booking: its window, what it is for, its decision and the steps open to the user."""
    booking = selectors.booking_get(user=request.user, pk=pk)
    _with_badges([booking])
    user = request.user
    may_edit = (
        booking.status in LIVE_BOOKING_STATUSES
        and user.has_perm("environments.change_environmentbooking")
        and services.booking_is_theirs_to_change(user, booking)
    )
    series = []
    if booking.series:
        series = list(selectors.booking_list(user=user).filter(series=booking.series))
    return render(
        request,
        "environments/booking_detail.html",
        {
            "object": booking,
            "object_type": booking._meta.label_lower,
            "actions": _actions(user, booking),
            "edit_url": reverse("environments:booking_edit", args=[pk]) if may_edit else None,
            "series": series,
            "covers_phase": booking.phase is None
            or selectors.booking_within_phase(booking.starts_at, booking.ends_at, booking.phase),
        },
    )


def _prefill(request) -> dict:
    """Initial values from the address: `?environment=&start=&end=` (the schedule's range selection), `phase=`."""
    initial = {}
    for name in ("environment", "phase", "release"):
        pk = parse_id(request.GET.get(name, ""))
        if pk:
            initial[name] = pk
    for name, field in (("start", "starts_at"), ("end", "ends_at")):
        raw = (request.GET.get(name) or "").strip()
        try:
            moment = datetime.datetime.fromisoformat(raw) if raw else None
        except ValueError:
            moment = None
        if moment is not None and is_plausible_date(moment.date()):
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_default_timezone())
            initial[field] = timezone.localtime(moment, timezone.get_default_timezone()).strftime("%Y-%m-%dT%H:%M")
    if request.GET.get("usage") in BookingUsage.values:
        initial["usage"] = request.GET["usage"]
    return initial


@login_required
@permission_required("environments.add_environmentbooking", raise_exception=True)
def booking_create(request):
    """Book an environment; the window can be prefilled from the schedule, or found with "next free slot"."""
    form = BookingForm(request.POST or None, initial=_prefill(request), user=request.user)

    def save(data):
        data = without_version(data)
        made = services.booking_request(actor=request.user, **data)
        if len(made) > 1:
            messages.info(request, f"{len(made)} occurrences are booked.")
        return made[0]

    return form_page(
        request,
        form=form,
        title="New booking",
        save=save,
        success="{object} is booked and waits for approval.",
        cancel_url=reverse("environments:booking_list"),
        template="environments/booking_form.html",
    )


@login_required
@permission_required("environments.change_environmentbooking", raise_exception=True)
def booking_edit(request, pk: int):
    """Move or resize a booking, or change its usage, team or purpose; it is checked again."""
    booking = selectors.booking_get(user=request.user, pk=pk)
    local = timezone.get_default_timezone()
    initial = {
        "version": booking.version,
        "starts_at": timezone.localtime(booking.starts_at, local).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": timezone.localtime(booking.ends_at, local).strftime("%Y-%m-%dT%H:%M"),
        "usage": booking.usage,
        "team": booking.team_id,
        "purpose": booking.purpose,
    }
    form = BookingForm(request.POST or None, initial=initial, user=request.user, editing=True)
    form.environment_pk = booking.environment_id
    form.booking_pk = booking.pk
    return form_page(
        request,
        form=form,
        title=f"Edit booking of {booking.environment}",
        save=lambda data: services.booking_update(actor=request.user, booking=booking, **data),
        success="{object} is saved.",
        cancel_url=booking.get_absolute_url(),
        template="environments/booking_form.html",
    )


def _act(request, pk: int, action: str):
    booking = selectors.booking_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        services.booking_act(actor=request.user, booking=booking, action=action, note=note)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"The booking is {booking.get_status_display().lower()}.")
    return redirect(booking.get_absolute_url())


@login_required
@require_POST
def booking_approve(request, pk: int):
    return _act(request, pk, "approve")


@login_required
@require_POST
def booking_reject(request, pk: int):
    return _act(request, pk, "reject")


@login_required
@require_POST
def booking_activate(request, pk: int):
    return _act(request, pk, "activate")


@login_required
@require_POST
def booking_release(request, pk: int):
    return _act(request, pk, "release")


@login_required
@require_POST
def booking_cancel(request, pk: int):
    return _act(request, pk, "cancel")


@login_required
def booking_next_free_slot(request):
    """The booking form's "Next free slot" (htmx): the earliest window of the wanted length within 90 days, written
    into the form's start and end fields."""
    environment_pk = parse_id(request.GET.get("environment", ""))
    # When a booking is being moved, its own window is not in the way.
    moving = parse_id(request.GET.get("booking", ""))
    usage = request.GET.get("usage") if request.GET.get("usage") in BookingUsage.values else BookingUsage.EXCLUSIVE
    field = BookingForm.base_fields["starts_at"]
    hours = DEFAULT_SLOT_HOURS
    earliest = None
    try:
        start = field.clean(request.GET.get("starts_at") or None) if request.GET.get("starts_at") else None
        end = field.clean(request.GET.get("ends_at") or None) if request.GET.get("ends_at") else None
    except forms.ValidationError:
        start = end = None
    if start and end and end > start and is_plausible_date(start.date()) and is_plausible_date(end.date()):
        hours = min((end - start).total_seconds() / 3600, 24 * rules.BOOKING_SEARCH_DAYS)
    now = timezone.now()
    if start and is_plausible_date(start.date()) and start > now:
        earliest = start
    context = {"found": None, "message": ""}
    environment = Environment.objects.restrict(request.user, "view").filter(pk=environment_pk).first()
    if environment is None:
        context["message"] = "Choose an environment first."
    elif selectors.unbookable_reason(environment):
        context["message"] = selectors.unbookable_reason(environment)
    elif datetime.timedelta(hours=hours) < rules.MIN_BOOKING:
        context["message"] = rules.window_problem(now, now + datetime.timedelta(hours=hours))[1]
    else:
        duration = datetime.timedelta(hours=hours)
        try:
            found = selectors.next_free_slot(
                user=request.user,
                environment=environment,
                duration=duration,
                usage=usage,
                earliest=earliest,
                exclude=[moving] if moving else (),
            )
        except (ValidationFailed, OverflowError):
            found = None
        if found is None:
            context["message"] = (
                f"Nothing fits {environment} for {hours:g} hours in the next {rules.BOOKING_SEARCH_DAYS} days."
            )
        else:
            local = timezone.get_default_timezone()
            context["found"] = {
                "starts_at": timezone.localtime(found, local).strftime("%Y-%m-%dT%H:%M"),
                "ends_at": timezone.localtime(found + duration, local).strftime("%Y-%m-%dT%H:%M"),
            }
            context["message"] = (
                f"{environment} is free from {selectors.when(found)} to {selectors.when(found + duration)}."
            )
    return render(request, "environments/partials/_next_free_slot.html", context)


@login_required
def environment_bookings_panel(request, pk: int) -> HttpResponse:
    """The environment page's bookings: the live ones from today, and links to book it or find a free slot."""
    environment = Environment.objects.restrict(request.user, "view").get_visible(pk=pk)
    today = selectors.day_start(timezone.localdate())
    bookings = _with_badges(
        list(
            selectors.booking_list(
                user=request.user, environment=environment.pk, start=today, status=list(LIVE_BOOKING_STATUSES)
            )[:20]
        )
    )
    may_book = request.user.has_perm("environments.add_environmentbooking")
    return render(
        request,
        "environments/partials/_environment_bookings.html",
        {
            "environment": environment,
            "bookings": bookings,
            "create_url": reverse("environments:booking_create") + f"?environment={environment.pk}"
            if may_book
            else None,
        },
    )
