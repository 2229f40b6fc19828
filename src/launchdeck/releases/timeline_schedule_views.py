"""Rescheduling from the consolidated timeline: preview what a phase's new start moves, then apply it or not.

The timeline's Reschedule mode posts a change here (a phase dragged along the time line, or its new start typed in
the side panel) and shows the answer in the panel. The preview is `schedule.what_if`'s impact as it is; applying goes
through `services.schedule_apply`, which works the impact out again inside its transaction and refuses a plan that
changed since the preview (409, answered here with a fresh preview). Every answer is the `_schedule_preview.html`
partial, with the status of what happened (422 bad input, 404 not found, 409 conflict), so the panel can show it.
"""

import contextlib
import datetime
import json
from collections.abc import Mapping

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from launchdeck.core.errors import Conflict, DomainError
from launchdeck.core.services import IMPLAUSIBLE_DATE_MESSAGE, is_plausible_date
from launchdeck.core.ui import parse_id
from launchdeck.releases import schedule, selectors, services

PREVIEW_TEMPLATE = "releases/partials/_schedule_preview.html"
# The panel's script swaps these answers in whatever their status (htmx leaves error responses out by default).
PANEL_HEADER = "X-Schedule-Panel"
APPLIED_EVENT = "schedule-applied"
# Dates in the impact (ISO text in the JSON-ready dict) that the panel shows as dates.
DATE_KEYS = frozenset({"old_start", "old_end", "new_start", "new_end", "date", "from", "to", "start", "end"})
# Forecasts are worked out on demand for the releases on screen; a Monte Carlo run each, so at most this many.
FORECAST_MOST = 60


class ScheduleChangeForm(forms.Form):
    """One change of the plan: an item (a phase, from the timeline) and either its new start or a shift."""

    item = forms.CharField(max_length=40, error_messages={"required": "Choose a phase to move."})
    new_start = forms.DateField(required=False, label="New start")
    shift_days = forms.IntegerField(
        required=False,
        min_value=-schedule.MAX_SHIFT_DAYS,
        max_value=schedule.MAX_SHIFT_DAYS,
        label="Shift in working days",
    )

    def clean_item(self):
        key = self.cleaned_data["item"]
        try:
            schedule.parse_key(key)  # the one grammar of item keys: ASCII ids, none of them 0
        except ValueError:
            raise forms.ValidationError("Choose a phase to move.") from None
        return key

    def clean_new_start(self):
        day = self.cleaned_data.get("new_start")
        if day is not None and not is_plausible_date(day):
            raise forms.ValidationError(IMPLAUSIBLE_DATE_MESSAGE)
        return day

    def clean(self):
        data = super().clean()
        if "new_start" in self.errors or "shift_days" in self.errors:
            return data
        given = [name for name in ("new_start", "shift_days") if data.get(name) is not None]
        if not given:
            self.add_error("new_start", "Give the new start date.")
        elif len(given) == 2:
            self.add_error("shift_days", "Give a new start or a shift, not both.")
        return data

    def change(self) -> "schedule.Change":
        data = self.cleaned_data
        return schedule.Change(key=data["item"], shift_days=data.get("shift_days"), new_start=data.get("new_start"))


class ScheduleApplyForm(ScheduleChangeForm):
    """The change again, why it is made, and the fingerprint of the preview it was decided on."""

    reason = forms.CharField(
        max_length=2000,
        error_messages={"required": "Say why the dates change."},
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    fingerprint = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the dates change.")
        return reason


def _message(exc: DomainError) -> list[str]:
    """A refusal as its sentences: the detail, then every field message that says something more (a detail that
    already runs through them after a colon keeps only its heading)."""
    reasons = [error["message"] for error in exc.errors if error["message"] and error["message"] != exc.detail]
    heading = exc.detail
    if reasons and reasons[0] in heading:
        heading = heading[: heading.index(reasons[0])].rstrip(" :") + ":"
    return [heading, *dict.fromkeys(reasons)]


def _as_dates(value):
    """The impact with its ISO dates as dates (for the template's date filter); everything else as it is."""
    if isinstance(value, Mapping):
        shown = {}
        for key, item in value.items():
            if key in DATE_KEYS and isinstance(item, str):
                with contextlib.suppress(ValueError):
                    item = datetime.date.fromisoformat(item)
            shown[key] = _as_dates(item)
        return shown
    if isinstance(value, list | tuple):
        return [_as_dates(item) for item in value]
    return value


def _by_release(moved: list[dict]) -> list[dict]:
    """The moved items in one list per release, in the impact's order (release name, then start)."""
    groups: dict = {}
    for item in moved:
        group = groups.setdefault(
            item["release_id"], {"release_id": item["release_id"], "name": item["release_name"], "items": []}
        )
        group["items"].append(item)
    return list(groups.values())


def _panel(request, context: dict, *, status: int = 200) -> HttpResponse:
    context.setdefault("apply_url", reverse("releases:schedule_apply"))
    response = render(request, PREVIEW_TEMPLATE, context, status=status)
    response[PANEL_HEADER] = "1"
    return response


def _moved_releases(impact: Mapping) -> list[dict]:
    """The trains, then the other releases, that move (a train can be in both of the impact's lists)."""
    moved: dict = {}
    for release in [*impact["trains"], *impact["releases"]]:
        moved.setdefault(release["id"], release)
    return list(moved.values())


def _preview_context(form: ScheduleChangeForm, impact: dict) -> dict:
    shown = _as_dates(impact)
    key = form.cleaned_data["item"]
    changed = next((item for item in impact["moved"] if item["key"] == key), None)
    release_id = changed["release_id"] if changed else None
    return {
        "impact": shown,
        "changed": next((item for item in shown["moved"] if item["key"] == key), None),
        "moved_releases": _moved_releases(shown),
        "moved_by_release": _by_release(shown["moved"]),
        # What the timeline draws while the preview is open: where the changed item lands and what else moves.
        "timeline_preview": {
            "item": key,
            "new_start": changed["new_start"] if changed else None,
            "new_end": changed["new_end"] if changed else None,
            # The phases of the same release that move along (the timeline shows that release's phases).
            "phases": {
                item["id"]: [item["new_start"], item["new_end"]]
                for item in impact["moved"]
                if item["kind"] == "phase" and item["release_id"] == release_id and item["key"] != key
            },
            "releases": [
                {
                    field: release[field]
                    for field in ("id", "new_start", "new_end", "start_shift_days", "end_shift_days")
                }
                for release in _moved_releases(impact)
            ],
        },
    }


def _preview(request, form: ScheduleChangeForm, *, error: list[str] | None = None, status: int = 200) -> HttpResponse:
    """Work out the impact of the form's change and answer the preview (or why there is none)."""
    context: dict = {"form": form, "error": error}
    try:
        impact = schedule.what_if(user=request.user, changes=[form.change()], today=timezone.localdate())
    except DomainError as exc:
        context["error"] = (error or []) + [line for line in _message(exc) if line not in (error or [])]
        return _panel(request, context, status=status if error else exc.status)
    context.update(_preview_context(form, impact))
    if isinstance(form, ScheduleApplyForm):
        # Refused at apply: the reason typed stays (with its message, if any); the fingerprint is the fresh preview's.
        data = form.data.copy()
        data["fingerprint"] = impact["fingerprint"]
        context["apply_form"] = ScheduleApplyForm(data)
        context["apply_form"].is_valid()
    else:
        context["apply_form"] = ScheduleApplyForm(initial={**form.cleaned_data, "fingerprint": impact["fingerprint"]})
    return _panel(request, context, status=status)


# Rescheduling from the timeline


@require_POST
@login_required
@permission_required("releases.reschedule_release", raise_exception=True)
def schedule_preview(request):
    """What moving one phase (to a new start, or by some working days) would move; nothing is written."""
    form = ScheduleChangeForm(request.POST)
    if not form.is_valid():
        return _panel(request, {"form": form}, status=422)
    return _preview(request, form)


@require_POST
@login_required
@permission_required("releases.reschedule_release", raise_exception=True)
def schedule_apply(request):
    """Apply a previewed change with its reason; a plan that changed since the preview gets a fresh preview (409)."""
    form = ScheduleApplyForm(request.POST)
    if not form.is_valid():
        if any(name in form.errors for name in ("item", "new_start", "shift_days", "__all__")):
            return _panel(request, {"form": form}, status=422)
        # Only the reason is missing or wrong: show the preview again with the message beside the reason.
        return _preview(request, form, status=422)
    data = form.cleaned_data
    try:
        result = services.schedule_apply(
            actor=request.user,
            changes=[form.change()],
            reason=data["reason"],
            fingerprint=data["fingerprint"] or None,
            today=timezone.localdate(),
        )
    except Conflict as exc:
        return _preview(request, form, error=_message(exc), status=exc.status)
    except DomainError as exc:
        return _panel(request, {"form": form, "error": _message(exc)}, status=exc.status)
    shown = _as_dates(result)
    moved = _moved_releases(shown)
    response = _panel(
        request,
        {
            "form": form,
            "applied": shown,
            "applied_releases": moved,
            "reason": data["reason"],
            "audit_url": f"{reverse('audit:auditevent_list')}?event_type=release.rescheduled",
        },
    )
    response["HX-Trigger"] = json.dumps(
        {APPLIED_EVENT: {"releases": [release["id"] for release in moved], "item": data["item"]}}
    )
    return response


@require_GET
@login_required
def timeline_forecast(request):
    """P50 / P85 forecasts of the open releases the timeline shows (asked for by id), for its forecast markers."""
    ids = [pk for pk in map(parse_id, request.GET.getlist("release")[:FORECAST_MOST]) if pk is not None]
    if not ids:
        return JsonResponse({"forecasts": {}})
    try:
        # Open releases the user may see only: the selector leaves the others out.
        forecasts = selectors.forecast_map(user=request.user, release_ids=ids)
    except DomainError as exc:
        return JsonResponse({"detail": exc.detail}, status=exc.status)
    fields = ("p50", "p85", "probability_on_time", "planned_end")
    answer = {}
    for pk, forecast in forecasts.items():
        answer[str(pk)] = {
            field: value.isoformat() if isinstance(value, datetime.date) else value
            for field, value in forecast.items()
            if field in fields
        }
    return JsonResponse({"forecasts": answer})
