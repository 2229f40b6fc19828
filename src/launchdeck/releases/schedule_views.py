"""The schedule on the release page (dependencies, date-change history, planned against actual, the forecast, the
critical phases) and the predictability page: thin views over the schedule's services and selectors."""

import copy
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from launchdeck.core.errors import DomainError
from launchdeck.core.forms import add_domain_error
from launchdeck.core.ui import parse_id
from launchdeck.releases import schedule, selectors, services
from launchdeck.releases.choices import CLOSED_STATUSES, DEPENDENCY_KIND_WORDS
from launchdeck.releases.forms import PREDICTABILITY_GROUPINGS, DependencyForm, PredictabilityFilterForm
from launchdeck.releases.models import Release

# Beyond this many open releases the form asks for the other release's number instead of listing them all.
RELEASES_LISTED = 500
HISTORY_SHOWN = 50  # date changes shown on the release page, newest first


def _schedule_tab(release) -> str:
    return f"{release.get_absolute_url()}#schedule"


def _day(day: datetime.date) -> str:
    return f"{day:%-d %b %Y}"


def _window(start: datetime.date, end: datetime.date) -> str:
    if start == end:
        return _day(start)
    if start.year == end.year:
        return f"{start:%-d %b} \N{EN DASH} {_day(end)}"
    return f"{_day(start)} \N{EN DASH} {_day(end)}"


# The release page


def _end(dependency, side: str) -> dict:
    """One end of a dependency as the page names it: the phase or milestone, else the release itself; `full` names
    its release too ("SIT of Payments 4.2")."""
    release = getattr(dependency, f"{side}_release")
    phase, milestone = getattr(dependency, f"{side}_phase"), getattr(dependency, f"{side}_milestone")
    part = phase or milestone
    if part is None:
        return {"name": release.name, "what": "release", "release": release, "full": release.name}
    what = "phase" if phase is not None else "milestone"
    return {"name": part.name, "what": what, "release": release, "full": f"{part.name} of {release.name}"}


def _lag(days: int) -> str:
    if days == 0:
        return "none"
    unit = "working day" if abs(days) == 1 else "working days"
    return f"{days} {unit} after" if days > 0 else f"{-days} {unit} early (a lead)"


def _dependency_rows(dependencies, release) -> dict[str, list[dict]]:
    """The release's dependencies from its side: what its items wait for, and what waits for them."""
    rows = {"waits_for": [], "waited_on_by": []}
    for dependency in dependencies:
        predecessor, successor = _end(dependency, "predecessor"), _end(dependency, "successor")
        waiting, then = DEPENDENCY_KIND_WORDS[dependency.kind]
        row = {
            "dependency": dependency,
            "kind": dependency.get_kind_display(),
            "sentence": f"{successor['full']} {waiting} {predecessor['full']} {then}",
            "lag": _lag(dependency.lag_days),
            # A dependency touching a released or cancelled release is history: the service refuses to remove it.
            "closed": dependency.predecessor_release.status in CLOSED_STATUSES
            or dependency.successor_release.status in CLOSED_STATUSES,
        }
        if dependency.successor_release_id == release.pk:
            rows["waits_for"].append({**row, "here": successor, "other": predecessor})
        else:
            rows["waited_on_by"].append({**row, "here": predecessor, "other": successor})
    return rows


@login_required
@require_GET
def release_schedule(request, pk: int):
    """The release page's Schedule tab, as the fragment the tab loads when it is opened: the forecast (loaded in
    turn), planned against actual, the dependencies both ways and the latest date changes."""
    user = request.user
    release = Release.objects.restrict(user, "view").select_related("train").get_visible(pk=pk)
    dependencies = _dependency_rows(selectors.dependency_list(user=user, release=release), release)
    history = selectors.release_schedule_history(user=user, release=release)
    closed = release.status in CLOSED_STATUSES
    context = {
        "object": release,
        "dependencies": dependencies,
        "dependency_count": len(dependencies["waits_for"]) + len(dependencies["waited_on_by"]),
        "dependency_add_url": reverse("releases:dependency_create", args=[release.pk])
        if not closed and user.has_perm("releases.add_scheduledependency")
        else None,
        "closed": closed,
        "may_delete_dependency": not closed and user.has_perm("releases.delete_scheduledependency"),
        "schedule_history": history[:HISTORY_SHOWN],
        "schedule_history_more": max(0, len(history) - HISTORY_SHOWN),
        "planned_vs_actual": selectors.release_planned_vs_actual(user=user, release=release),
        "forecast_url": None if closed else reverse("releases:release_forecast", args=[release.pk]),
    }
    return render(request, "releases/partials/_release_schedule_tab.html", context)


def critical_phase_ids(release, phases) -> set[int]:
    """The release's phases on its critical path, for the badges of its phase table: none for a finished release
    (its dates are history), nor for a plan with no critical path to show (a stored cycle, which the Schedule tab's
    forecast names)."""
    if release.status in CLOSED_STATUSES or not phases:
        return set()
    try:
        return set(schedule.release_critical_phase_ids(release))
    except DomainError:
        return set()


@login_required
@require_GET
def release_forecast(request, pk: int):
    """The release's forecast card as a fragment: it runs a simulation, so the page loads it when it is looked at."""
    user = request.user
    release = Release.objects.restrict(user, "view").get_visible(pk=pk)
    context = {"object": release, "forecast": None, "error": None, "chart": None, "today": timezone.localdate()}
    try:
        forecast = selectors.release_forecast(user=user, release=release)  # None: released or cancelled
    except DomainError as exc:
        context["error"] = exc.detail
    else:
        if forecast is not None:
            forecast = _readable_forecast(forecast)
            context.update(forecast=forecast, chart=_forecast_chart(forecast, context["today"]))
    return render(request, "releases/partials/_release_forecast.html", context)


def _as_date(value):
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _readable_forecast(forecast: dict) -> dict:
    """The selector's forecast with real dates and the probability as a whole percentage."""
    readable = {**forecast, **{key: _as_date(forecast[key]) for key in ("p50", "p85", "planned_end")}}
    readable["percent_on_time"] = round(forecast["probability_on_time"] * 100)
    return readable


def _forecast_chart(forecast: dict, today: datetime.date) -> dict:
    """Planned end, P50 and P85 (and today) on a date axis, the band between P50 and P85 shaded."""
    markers = [
        {"name": "Planned end", "date": forecast["planned_end"].isoformat(), "color": "#6c757d"},
        {"name": "P50", "date": forecast["p50"].isoformat(), "color": "#0d6efd"},
        {"name": "P85", "date": forecast["p85"].isoformat(), "color": "#dc3545"},
    ]
    return {
        "kind": "dates",
        "markers": markers,
        "band": {"from": forecast["p50"].isoformat(), "to": forecast["p85"].isoformat()},
        "today": today.isoformat(),
    }


# Dependencies


def _item_label(name: str, start: datetime.date, end: datetime.date | None = None) -> str:
    return f"{name} ({_window(start, end or start)})"


def _item_choices(release) -> list:
    """The release itself, its phases and its milestones as choices keyed by the engine's keys, grouped."""
    phases = release.phases.order_by("position", "planned_start")
    milestones = release.milestones.order_by("planned_date", "name")
    choices = [(f"release:{release.pk}", _item_label("The whole release", release.planned_start, release.planned_end))]
    if phases := [(f"phase:{p.pk}", _item_label(p.name, p.planned_start, p.planned_end)) for p in phases]:
        choices.append(("Phases", phases))
    if milestones := [(f"milestone:{m.pk}", _item_label(m.name, m.planned_date)) for m in milestones]:
        choices.append(("Milestones", milestones))
    return choices


def _open_releases(user):
    return Release.objects.restrict(user, "view").exclude(status__in=CLOSED_STATUSES).order_by("name", "pk")


def _dependency_form(request, release, data=None) -> DependencyForm:
    releases = _open_releases(request.user)
    return DependencyForm(
        data,
        this_items=_item_choices(release),
        releases=releases,
        item_choices=_item_choices,
        items_url=reverse("releases:dependency_items"),
        typed_release=releases.count() > RELEASES_LISTED,
    )


def _on_form(exc: DomainError, direction: str) -> DomainError:
    """A service refusal about the predecessor or the successor, placed on the form's field for that end."""
    if direction == "waits_for":
        fields = {"predecessor": "other_item", "successor": "this_item"}
    else:
        fields = {"predecessor": "this_item", "successor": "other_item"}
    placed = copy.copy(exc)
    placed.errors = [{**error, "field": fields.get(error["field"], error["field"])} for error in exc.errors]
    return placed


@login_required
@permission_required("releases.add_scheduledependency", raise_exception=True)
def dependency_create(request, pk: int):
    """Link one of this release's items to an item of another release, either way round; the service's refusals
    (a cycle, named; a duplicate; a lag out of range) come back on the field they are about."""
    user = request.user
    release = Release.objects.restrict(user, "view").get_visible(pk=pk)
    form = _dependency_form(request, release, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        here, there = data["this_item"], data["other_item"]
        predecessor, successor = (there, here) if data["direction"] == "waits_for" else (here, there)
        try:
            services.dependency_create(
                actor=user,
                predecessor=predecessor,
                successor=successor,
                kind=data["kind"],
                lag_days=data["lag_days"],
                note=data["note"],
            )
        except DomainError as exc:
            add_domain_error(form, _on_form(exc, data["direction"]))
        else:
            messages.success(request, "The dependency is added.")
            return redirect(_schedule_tab(release))
    context = {
        "form": form,
        "title": f"New dependency of {release}",
        "object": release,
        "cancel_url": _schedule_tab(release),
    }
    return render(request, "releases/dependency_form.html", context, status=422 if form.errors else 200)


@login_required
@require_GET
def dependency_items(request):
    """The "its item" choice for the release chosen in the dependency form, as a fragment the form swaps in."""
    releases = _open_releases(request.user)
    form = DependencyForm(
        initial={"other_release": request.GET.get("other_release")},
        this_items=[],
        releases=releases,
        item_choices=_item_choices,
        items_url=reverse("releases:dependency_items"),
    )
    return render(request, "releases/partials/_dependency_other_item.html", {"field": form["other_item"]})


@login_required
@require_POST
@permission_required("releases.delete_scheduledependency", raise_exception=True)
def dependency_delete(request, pk: int):
    """Remove a dependency; back to the page of the release it was removed from."""
    dependency = selectors.dependency_get(user=request.user, pk=pk)
    ends = {
        dependency.predecessor_release_id: dependency.predecessor_release,
        dependency.successor_release_id: dependency.successor_release,
    }
    release = ends.get(parse_id(request.POST.get("release", ""))) or dependency.successor_release
    try:
        services.dependency_delete(actor=request.user, dependency=dependency)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "The dependency is removed.")
    return redirect(_schedule_tab(release))


# Predictability

ON_TIME, MEAN_SLIP, P85_SLIP = "#198754", "#fd7e14", "#dc3545"


def _predictability_chart(rows: list[dict], *, over_time: bool) -> dict:
    """On-time share as bars on the left axis; mean and P85 slip on the right one, as lines through quarters
    (`over_time`) and as points for teams or portfolios, which follow no order a line could mean."""
    slip_type = "line" if over_time else "scatter"
    return {
        "kind": "combo",
        "categories": [row["label"] for row in rows],
        "axes": [{"name": "On time (%)", "max": 100}, {"name": "Slip (working days)"}],
        "rotate": 30 if len(rows) > 6 else 0,
        "series": [
            {"name": "On time (%)", "data": [row["on_time_percent"] for row in rows], "color": ON_TIME},
            *(
                {"name": name, "data": [row[field] for row in rows], "type": slip_type, "axis": 1, "color": colour}
                | ({"symbol": True} if slip_type == "line" else {})
                for name, field, colour in (
                    ("Mean slip", "mean_slip_days", MEAN_SLIP),
                    ("P85 slip", "p85_slip_days", P85_SLIP),
                )
            ),
        ],
    }


def _readable_row(row: dict) -> dict:
    """A predictability row with its on-time share as a whole percentage (None for a group without releases)."""
    share = row["on_time_share"]
    return {**row, "on_time_percent": None if share is None else round(share * 100)}


@login_required
def predictability(request):
    """How often releases finish on time, and by how much they slip, per team, portfolio or quarter."""
    form = PredictabilityFilterForm(request.GET)
    rows, group_by = None, "team"
    if form.is_valid():
        filters = form.cleaned_data
        group_by = filters["group_by"]
        try:
            rows = selectors.predictability(
                user=request.user, group_by=group_by, start=filters.get("start"), end=filters.get("end")
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            rows = [_readable_row(row) for row in rows]
            form = PredictabilityFilterForm(initial=filters)
    context = {"form": form, "rows": None, "group_label": dict(PREDICTABILITY_GROUPINGS)[group_by]}
    if rows is not None:
        # The selector's last row is the total over every group.
        groups, total = rows[:-1], rows[-1]
        context.update(
            rows=groups,
            total=total,
            chart=_predictability_chart(groups, over_time=group_by == "period") if total["releases"] else None,
        )
    return render(request, "releases/predictability.html", context, status=200 if rows is not None else 422)
