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
from launchdeck.core.forms import DateInput, StyledForm
from launchdeck.core.services import is_plausible_date
from launchdeck.core.ui import PAGE_SIZE, form_page, parse_id
from launchdeck.environments import selectors, services
from launchdeck.environments.choices import LIVE_BOOKING_STATUSES, BookingStatus, BookingUsage
from launchdeck.environments.forms import DateTimeInput
from launchdeck.environments.models import Environment, EnvironmentBooking
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType, Recurrence, ReleaseStatus
from launchdeck.releases.models import Phase, Release

STATUS_BADGES = {
    BookingStatus.REQUESTED: "text-bg-warning",
    BookingStatus.APPROVED: "text-bg-success",
    BookingStatus.ACTIVE: "text-bg-primary",
    BookingStatus.RELEASED: "text-bg-secondary",
    BookingStatus.REJECTED: "text-bg-danger",
    BookingStatus.CANCELLED: "text-bg-light border",
}
CLOSED_RELEASE_STATUSES = (ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED)
REPORT_DAYS = 90
MAX_REPORT_DAYS = 366
DEFAULT_SLOT_HOURS = 8.0


# Forms


class BookingFilterForm(StyledForm):
    environment = forms.ModelChoiceField(
        queryset=Environment.objects.none(), required=False, empty_label="Any environment"
    )
    type = forms.ChoiceField(choices=[("", "Any type"), *EnvironmentType.choices], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), ("live", "Live"), *BookingStatus.choices], required=False)
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False, empty_label="Any release")

    def __init__(self, *args, environments, releases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = environments
        self.fields["release"].queryset = releases


class PhaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.release.name} / {obj.name} ({obj.planned_start:%d %b} to {obj.planned_end:%d %b %Y})"


class BookingForm(StyledForm):
    """A booking's window and what it is for; the dates are read in the site's time zone."""

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    environment = forms.ModelChoiceField(queryset=Environment.objects.none())
    starts_at = forms.DateTimeField(label="Starts", widget=DateTimeInput())
    ends_at = forms.DateTimeField(label="Ends", widget=DateTimeInput(), help_text="The booking ends at this moment.")
    usage = forms.ChoiceField(choices=BookingUsage.choices, initial=BookingUsage.EXCLUSIVE)
    phase = PhaseChoiceField(
        queryset=Phase.objects.none(), required=False, help_text="The booking moves when the phase moves."
    )
    release = forms.ModelChoiceField(queryset=Release.objects.none(), required=False)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False, empty_label="No team")
    purpose = forms.CharField(max_length=200, required=False)
    repeat = forms.ChoiceField(
        choices=[
            (Recurrence.NONE, "Does not repeat"),
            (Recurrence.WEEKLY, "Every week"),
            (Recurrence.MONTHLY, "Every month"),
        ],
        required=False,
        initial=Recurrence.NONE,
    )
    occurrences = forms.IntegerField(min_value=1, max_value=services.MAX_OCCURRENCES, initial=1, required=False)

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].queryset = Environment.objects.restrict(user, "view").order_by("name")
        self.fields["phase"].queryset = (
            Phase.objects.restrict(user, "view")
            .exclude(release__status__in=CLOSED_RELEASE_STATUSES)
            .select_related("release")
            .order_by("release__name", "planned_start", "pk")
        )
        self.fields["release"].queryset = (
            Release.objects.restrict(user, "view").exclude(status__in=CLOSED_RELEASE_STATUSES).order_by("name")
        )
        self.fields["team"].queryset = Team.objects.restrict(user, "view").order_by("name")
        if editing:
            for name in ("environment", "phase", "release", "repeat", "occurrences"):
                del self.fields[name]

    def clean(self):
        data = super().clean()
        for name in ("starts_at", "ends_at"):
            moment = data.get(name)
            if moment is not None and not is_plausible_date(moment.date()):
                self.add_error(name, "Enter a date between the years 1900 and 2999.")
        if "repeat" in self.fields:
            data["repeat"] = data.get("repeat") or Recurrence.NONE
            data["occurrences"] = data.get("occurrences") or 1
        return data


class DecisionForm(StyledForm):
    note = forms.CharField(max_length=2000, required=False)


class ReportWindowForm(StyledForm):
    start = forms.DateField(widget=DateInput(), required=False)
    end = forms.DateField(widget=DateInput(), required=False)


# Helpers


def _with_badges(bookings):
    for booking in bookings:
        booking.badge = STATUS_BADGES.get(booking.status, "text-bg-light")
    return bookings


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def _actions(user, booking: EnvironmentBooking) -> list[dict]:
    """The steps open to the user now, as buttons (the services decide; this only hides what would be refused)."""
    mine = booking.requester_id == user.pk
    manager = user.has_perm("environments.approve_environmentbooking")
    may_change = user.has_perm("environments.change_environmentbooking") and (mine or manager)
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
                "note": name in ("approve", "reject", "cancel"),
                "note_required": name == "reject",
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
    if form.is_valid():
        start = form.cleaned_data.get("start") or start
        end = form.cleaned_data.get("end") or (start + datetime.timedelta(days=REPORT_DAYS))
        if not (is_plausible_date(start) and is_plausible_date(end)):
            error, start, end = (
                "Enter dates between the years 1900 and 2999.",
                today,
                today + datetime.timedelta(days=REPORT_DAYS),
            )
        elif end < start or (end - start).days > MAX_REPORT_DAYS:
            error = f"Choose an end on or after the start, at most {MAX_REPORT_DAYS} days later."
            end = start + datetime.timedelta(days=REPORT_DAYS)
    rows = selectors.booking_conflict_report(
        user=request.user, start=_midnight(start), end=_midnight(end + datetime.timedelta(days=1))
    )
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
        and (booking.requester_id == user.pk or user.has_perm("environments.approve_environmentbooking"))
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
        data = {key: value for key, value in data.items() if key != "version"}
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
    service = getattr(services, f"booking_{action}")
    kwargs = {"note": note} if action in ("approve", "reject", "cancel") else {}
    try:
        service(actor=request.user, booking=booking, **kwargs)
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
        hours = min((end - start).total_seconds() / 3600, 24 * 90)
    now = timezone.now()
    if start and is_plausible_date(start.date()) and start > now:
        earliest = start
    context = {"found": None, "message": ""}
    environment = Environment.objects.restrict(request.user, "view").filter(pk=environment_pk).first()
    if environment is None:
        context["message"] = "Choose an environment first."
    elif hours < 0.5:
        context["message"] = "A booking lasts at least 30 minutes."
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
            context["message"] = f"Nothing fits {environment} for {hours:g} hours in the next 90 days."
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
    today = _midnight(timezone.localdate())
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
