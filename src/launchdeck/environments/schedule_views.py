"""The environment schedule, utilisation and demand pages: thin views over `environments.selectors`."""

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from launchdeck.core.errors import DomainError
from launchdeck.core.forms import add_domain_error
from launchdeck.environments import selectors
from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.forms import DemandFilterForm, ScheduleFilterForm, UtilisationFilterForm
from launchdeck.environments.models import EnvironmentGroup

SCHEDULE_ROWS = 250
"""The most environment rows the schedule page draws at once; the busiest are kept and the rest counted."""
SCHEDULE_ZOOMS = [("week", "2 weeks"), ("month", "Month"), ("quarter", "Quarter")]
HEAT_MAP_ROWS = 40
HEAT_LEVELS = [(0, "#f8f9fa"), (25, "#cfe2ff"), (50, "#6ea8fe"), (75, "#0d6efd"), (100, "#052c65")]


def _groups(user) -> list[tuple[int, str]]:
    return list(EnvironmentGroup.objects.restrict(user, "view").order_by("name").values_list("pk", "name"))


def _page_url(name: str) -> str | None:
    """The URL of another helper's page, or None while it does not exist (the page then offers no link)."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _busiest_rows(data: dict, most: int) -> int:
    """Keep the `most` environment rows with the most bookings (in their order) and their bookings; count the rest."""
    if len(data["environments"]) <= most:
        return 0
    sizes: dict[int, int] = {}
    for booking in data["bookings"]:
        sizes[booking["environment"]] = sizes.get(booking["environment"], 0) + 1
    kept = {row["id"] for row in sorted(data["environments"], key=lambda row: -sizes.get(row["id"], 0))[:most]}
    left_out = len(data["environments"]) - len(kept)
    data["environments"] = [row for row in data["environments"] if row["id"] in kept]
    data["bookings"] = [booking for booking in data["bookings"] if booking["environment"] in kept]
    for group in data["groups"]:
        group["environments"] = [pk for pk in group["environments"] if pk in kept]
    data["groups"] = [group for group in data["groups"] if group["environments"]]
    return left_out


def _filters(form) -> dict:
    data = form.cleaned_data
    return {
        "start": data["start"],
        "end": data["end"],
        "environment_type": data.get("environment_type") or None,
        "group": data.get("group") or None,
    }


@login_required
def schedule(request):
    """The environment schedule: bookings on a timeline by environment, conflicts and freezes shown; selecting a
    range on a row opens the booking form for it."""
    groups = _groups(request.user)
    default = selectors.schedule_default_window(timezone.localdate())
    form = ScheduleFilterForm(request.GET, groups=groups, default=default)
    data = None
    if form.is_valid():
        filters = form.cleaned_data
        try:
            data = selectors.environment_schedule(user=request.user, group_by=filters["group_by"], **_filters(form))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Show the window and grouping in effect, filled in where the request left them out.
            form = ScheduleFilterForm(initial=filters, groups=groups, default=default)
    context = {"form": form, "schedule": data, "zooms": SCHEDULE_ZOOMS, "statuses": BookingStatus.choices}
    if data is not None:
        start, end = (datetime.date.fromisoformat(data[key]) for key in ("start", "end"))
        length = end - start + datetime.timedelta(days=1)
        query = request.GET.copy()
        pages = {}
        for key, first in (("earlier", start - length), ("later", start + length)):
            query["start"], query["end"] = first.isoformat(), (first + length - datetime.timedelta(days=1)).isoformat()
            pages[key] = query.urlencode()
        query["start"], query["end"] = (day.isoformat() for day in default)
        pages["now"] = query.urlencode()
        may_book = request.user.has_perm("environments.add_environmentbooking")
        context.update(
            start=start,
            end=end,
            pages=pages,
            left_out=_busiest_rows(data, SCHEDULE_ROWS),
            booking_create_url=_page_url("environments:booking_create") if may_book else None,
            time_zone=settings.TIME_ZONE,
            scoped_freezes=[freeze for freeze in data["freezes"] if freeze["environments"] is not None],
        )
    template = "environments/partials/_schedule_body.html" if request.htmx else "environments/environment_schedule.html"
    return render(request, template, context)


def _heat_map(data: dict) -> dict:
    """The utilisation as the heat map's data: environments down, weeks across, a cell per week with a value."""
    cells = []
    for row_index, row in enumerate(data["environments"]):
        for week_index, week in enumerate(row["weeks"]):
            cells.append([week_index, row_index, week["utilisation"], week["booked"], week["available"]])
    return {
        "weeks": [week["label"] for week in data["weeks"]],
        "week_starts": [week["start"] for week in data["weeks"]],
        "environments": [row["name"] for row in data["environments"]],
        "links": [row["url"] for row in data["environments"]],
        "cells": cells,
        "levels": [{"value": value, "color": colour} for value, colour in HEAT_LEVELS],
    }


@login_required
def utilisation(request):
    """Utilisation per environment and week as a heat map, the idle environments and what their idle time costs."""
    groups = _groups(request.user)
    default = selectors.utilisation_default_window(timezone.localdate())
    form = UtilisationFilterForm(request.GET, groups=groups, default=default)
    data = None
    if form.is_valid():
        filters = form.cleaned_data
        try:
            data = selectors.environment_utilisation(user=request.user, **_filters(form))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            form = UtilisationFilterForm(initial=filters, groups=groups, default=default)
    context = {"form": form, "utilisation": data}
    if data is not None:
        by_id = {row["id"]: row for row in data["environments"]}
        context.update(
            start=datetime.date.fromisoformat(data["start"]),
            end=datetime.date.fromisoformat(data["end"]),
            chart=_heat_map(data),
            idle=[by_id[pk] for pk in data["idle"]],
            # Forty rows at most on screen: beyond that the chart's slider scrolls them (see utilisation.js).
            chart_height=max(220, 100 + 18 * min(HEAT_MAP_ROWS, len(data["environments"]))),
        )
    # Bad filters come back as messages with a 422, like a form (the schedule page answers 200: htmx swaps only that).
    return render(
        request, "environments/environment_utilisation.html", context, status=200 if data is not None else 422
    )


SHORTAGE_COLOUR = "#dc3545"
TYPE_COLOURS = ["#0d6efd", "#6610f2", "#d63384", "#fd7e14", "#20c997", "#6c757d", "#198754"]


@login_required
def demand(request):
    """Demand for environments from the release plan against the environments in service, per type and week."""
    form = DemandFilterForm(request.GET)
    data = None
    if form.is_valid():
        filters = form.cleaned_data
        try:
            data = selectors.environment_demand(
                user=request.user, start=filters.get("start") or timezone.localdate(), weeks=filters.get("weeks") or 26
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Show the week and length in effect, filled in where the request left them out.
            form = DemandFilterForm(initial={"start": data["start"], "weeks": len(data["weeks"])})
    context = {"form": form, "demand": data}
    if data is not None:
        shortages = [
            {
                "type": kind["label"],
                "week": week["label"],
                "start": datetime.date.fromisoformat(week["start"]),
                "demand": kind["demand"][index],
                "supply": kind["supply"],
                "short_by": kind["demand"][index] - kind["supply"],
            }
            for index, week in enumerate(data["weeks"])
            for kind in data["types"]
            if kind["shortage"][index]
        ]
        context.update(
            start=datetime.date.fromisoformat(data["start"]),
            end=datetime.date.fromisoformat(data["end"]),
            shortages=shortages,
            chart={
                "weeks": [week["label"] for week in data["weeks"]],
                "types": [
                    {**kind, "color": TYPE_COLOURS[index % len(TYPE_COLOURS)]}
                    for index, kind in enumerate(data["types"])
                ],
                "shortage_color": SHORTAGE_COLOUR,
            },
        )
    return render(request, "environments/environment_demand.html", context, status=200 if data is not None else 422)
