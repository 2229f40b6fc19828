"""The releases part of the REST API: templates, releases, phases, milestones, gates, freezes, the timeline and the
schedule (dependencies, what-if and apply, history, forecast, critical path, predictability).

Thin: each function parses its input, swaps ids for the rows the caller may see, calls one service or selector and
shapes the answer. Rules live in `services`, `schedule`, `workflow`, `checks` and `health`; errors are mapped in
`core.api`.
"""

import contextlib
from typing import Annotated

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.accounts.selectors import user_named
from launchdeck.catalog.models import System
from launchdeck.core.api import (
    ERROR_RESPONSES,
    MAX_ID,
    READ_RESPONSES,
    Id,
    Pagination,
    apply_sort,
    referenced,
    referenced_all,
)
from launchdeck.core.errors import DomainError, NotFound, ValidationFailed
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.releases import schedule, selectors, services, workflow
from launchdeck.releases.checks import evaluate_gate, evaluate_gates
from launchdeck.releases.choices import DependencyKind, FreezeCategory, FreezeScope, ReleaseKind, ReleaseStatus
from launchdeck.releases.freezes import deploy_milestones_in_freeze
from launchdeck.releases.layout import template_layout
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
    ScheduleDependency,
)
from launchdeck.releases.schemas import (
    Day,
    FreezeWindowIn,
    FreezeWindowOut,
    FreezeWindowPatch,
    GateCriterionPatch,
    GateDecisionIn,
    GateIn,
    GateOut,
    GateOverrideIn,
    GatePatch,
    GateReopenIn,
    GateTemplateIn,
    GateTemplateOut,
    GateTemplatePatch,
    ImpactMatrixOut,
    MilestoneTemplateIn,
    MilestoneTemplateOut,
    MilestoneTemplatePatch,
    PhaseTemplateIn,
    PhaseTemplateOut,
    PhaseTemplatePatch,
    ReleaseCalendarOut,
    ReleaseCriticalPathOut,
    ReleaseForecastOut,
    ReleaseHealthOut,
    ReleaseIn,
    ReleaseMilestoneIn,
    ReleaseMilestoneOut,
    ReleaseMilestonePatch,
    ReleaseOut,
    ReleasePatch,
    ReleasePhaseIn,
    ReleasePhaseOut,
    ReleasePhasePatch,
    ReleasePredictabilityOut,
    ReleaseReportOut,
    ReleaseRowOut,
    ReleaseScopeIn,
    ReleaseSystemOut,
    ReleaseTemplateIn,
    ReleaseTemplateLayoutOut,
    ReleaseTemplateOut,
    ReleaseTemplatePatch,
    ReleaseTemplateRowOut,
    ReleaseTimelineOut,
    ReleaseTrainIn,
    ReleaseTransitionIn,
    ScheduleApplyIn,
    ScheduleApplyOut,
    ScheduleChangeOut,
    ScheduleDependencyIn,
    ScheduleDependencyOut,
    ScheduleDependencyPatch,
    ScheduleImpactOut,
    ScheduleItemChangeIn,
    SchedulePreviewIn,
    ScopeSuggestionOut,
)
from launchdeck.releases.selectors import MAX_FORECAST_RUNS

router = Router(tags=["Releases"])

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
SEARCH = Field(None, max_length=200)
SORT = Field(None, max_length=200)
TEMPLATE_SORTS = {"name": "name", "release_kind": "release_kind"}
RELEASE_SORTS = {
    "name": "name",
    "kind": "kind",
    "status": "status",
    "start": "planned_start",
    "end": "planned_end",
    "planned_start": "planned_start",
    "planned_end": "planned_end",
}
FREEZE_SORTS = {"name": "name", "starts_on": "starts_on", "ends_on": "ends_on", "category": "category"}
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


# Filters


class ReleaseTemplateFilter(Schema):
    search: str | None = SEARCH
    release_kind: ReleaseKind | None = None
    is_active: bool | None = None
    sort: str | None = SORT


class ReleaseFilter(Schema):
    q: str | None = Field(None, max_length=200, description="Part of the name.")
    kind: ReleaseKind | None = None
    status: ReleaseStatus | None = None
    train: Id | None = Field(None, description="Child releases of this train.")
    portfolio: Id | None = None
    initiative: Id | None = None
    department: Id | None = Field(None, description="Releases of initiatives sponsored by this department.")
    system: Id | None = Field(None, description="Releases with this system in scope.")
    start: Day | None = Field(None, description="Releases still running on or after this day.")
    end: Day | None = Field(None, description="Releases starting on or before this day.")
    sort: str | None = SORT


class FreezeWindowFilter(Schema):
    category: FreezeCategory | None = None
    scope: FreezeScope | None = None
    from_: Day | None = Field(None, alias="from", description="Windows that may hold on or after this day.")
    to: Day | None = Field(None, description="Windows that may hold on or before this day.")
    sort: str | None = SORT


# Errors named as the client sent them

# Services name a refused reference by the model's field (`phase`); the client sent `phase_id`.
INPUT_NAMES = {
    "phase": "phase_id",
    "train": "train_id",
    "template": "template_id",
    "portfolio": "portfolio_id",
    "initiative": "initiative_id",
    "project": "project_id",
    "calendar": "calendar_id",
    "portfolios": "portfolio_ids",
    "systems": "system_ids",
}


@contextlib.contextmanager
def _fields_as_sent(*sent: str, renamed: dict[str, str] | None = None):
    """Rename the fields of a refusal from model names to the input names the client used (among `sent`), and any
    field in `renamed` to its value."""
    try:
        yield
    except DomainError as exc:
        for error in exc.errors:
            name = INPUT_NAMES.get(error["field"])
            if name in sent:
                error["field"] = name
            elif error["field"] in (renamed or {}):
                error["field"] = renamed[error["field"]]
        raise


# Ids to rows


REFERENCES = {
    "template_id": ("template", ReleaseTemplate),
    "portfolio_id": ("portfolio", Portfolio),
    "initiative_id": ("initiative", Initiative),
    "project_id": ("project", Project),
    "calendar_id": ("calendar", Calendar),
    "train_id": ("train", Release),
}


def _refs(request, data: dict, required: dict[str, str] | None = None) -> dict:
    """Swap the `<name>_id` fields (and `owner`) of an input for the rows they name, among those the caller sees."""
    for key, message in (required or {}).items():
        if key in data and data[key] is None:
            raise ValidationFailed.field(key, message)
    for key, (name, model) in REFERENCES.items():
        if key in data:
            data[name] = referenced(model.objects.restrict(request.auth), data.pop(key), field=key)
    if "owner" in data:
        data["owner"] = user_named(viewer=request.auth, username=data["owner"], field="owner")
    if "environment_type" in data and data["environment_type"] is None:
        data["environment_type"] = ""
    return data


def _phase_template(request, pk: int | None) -> PhaseTemplate | None:
    """A template phase the caller may see; the service checks that it is one of the template's."""
    return referenced(PhaseTemplate.objects.restrict(request.auth), pk, field="phase_id")


def _visible(model, request, pk: int, *related: str):
    return model.objects.restrict(request.auth).select_related(*related).get_visible(pk=pk)


# Shaping answers


def _template(request, pk: int) -> ReleaseTemplate:
    return selectors.template_get(user=request.auth, pk=pk)


def _release(request, pk: int) -> Release:
    """The release row the caller may see (for its page with everything in it: `_release_out`)."""
    return Release.objects.restrict(request.auth).get_visible(pk=pk)


def _evaluated(gate: Gate, evaluation=None) -> Gate:
    """The gate with its evaluation attached: each criterion's result, the unmet ones, the missing approvals."""
    evaluation = evaluation or evaluate_gate(gate)
    for criterion, ok, detail in evaluation.criteria:
        criterion.ok, criterion.detail = ok, detail
    gate.criteria_rows = [criterion for criterion, _, _ in evaluation.criteria]
    gate.unmet = evaluation.unmet
    gate.approvals_missing = evaluation.approvals_missing
    return gate


def _gates_of(**lookup):
    return (
        Gate.objects.filter(**lookup)
        .select_related("overridden_by", "release")
        .prefetch_related(
            Prefetch("criteria", GateCriterion.objects.select_related("met_by").order_by("position", "id")),
            Prefetch("approvals", GateApproval.objects.select_related("approver").order_by("decided_at", "id")),
        )
    )


def _gate_out(request, pk: int) -> Gate:
    Gate.objects.restrict(request.auth).get_visible(pk=pk)
    return _evaluated(_gates_of(pk=pk).get())


def _flag_freezes(release_id: int, milestones: list[Milestone]) -> list[Milestone]:
    flagged = dict(deploy_milestones_in_freeze([release_id]).get(release_id, []))
    for milestone in milestones:
        milestone.in_freeze = flagged.get(milestone.pk)
    return milestones


def _milestone_out(milestone: Milestone) -> Milestone:
    return _flag_freezes(milestone.release_id, [milestone])[0]


def _health(request, release: Release):
    return selectors.release_health_for(user=request.auth, release=release)


def _release_out(request, pk: int) -> Release:
    """A release with everything its detail shows: plan, gates evaluated, scope, children, health, next moves."""
    release = selectors.release_get(user=request.auth, pk=pk)  # everything below prefetched
    release.phase_rows = list(release.phases.all())
    release.milestone_rows = _flag_freezes(release.pk, list(release.milestones.all()))
    gates = list(release.gates.all())
    evaluations = evaluate_gates(gates)  # per-release checks run once for all the gates
    release.gate_rows = [_evaluated(gate, evaluations[gate.pk]) for gate in gates]
    release.scope_rows = list(release.scope.all())
    release.child_ids = [child.pk for child in release.children.all()]
    release.allowed_transitions = workflow.allowed_transitions(request.auth, release)
    release.health = _health(request, release)
    return release


def _scope_rows(release: Release) -> list[ReleaseSystem]:
    return list(release.scope.select_related("system").order_by("system__name"))


# Templates


@router.get(
    "/release-templates",
    response={200: list[ReleaseTemplateRowOut], **READ_RESPONSES},
    operation_id="list_release_templates",
)
@paginate(Pagination)
def list_release_templates(request: HttpRequest, filters: Query[ReleaseTemplateFilter]):
    """Release templates with how many phases, gates and releases each has; filter by kind, active or `search`."""
    templates = selectors.template_list(user=request.auth, **filters.dict(exclude={"sort"}))
    return apply_sort(templates, filters.sort, TEMPLATE_SORTS, "name")


@router.get(
    "/release-templates/{template_id}",
    response={200: ReleaseTemplateOut, **READ_RESPONSES},
    operation_id="get_release_template",
)
def get_release_template(request: HttpRequest, template_id: PathId):
    return _template(request, template_id)


@router.post(
    "/release-templates", response={201: ReleaseTemplateOut, **ERROR_RESPONSES}, operation_id="create_release_template"
)
def create_release_template(request: HttpRequest, payload: ReleaseTemplateIn):
    template = services.template_create(actor=request.auth, **payload.dict())
    return Status(201, _template(request, template.pk))


TEMPLATE_REQUIRED = {
    "name": "A template needs a name.",
    "release_kind": "Give the kind of release.",
    "is_active": "Say whether the template is offered.",
}


@router.patch(
    "/release-templates/{template_id}",
    response={200: ReleaseTemplateOut, **ERROR_RESPONSES},
    operation_id="update_release_template",
)
def update_release_template(request: HttpRequest, template_id: PathId, payload: ReleaseTemplatePatch):
    changes = _refs(request, payload.dict(exclude_unset=True), TEMPLATE_REQUIRED)
    services.template_update(actor=request.auth, template=_template(request, template_id), **changes)
    return _template(request, template_id)


@router.delete(
    "/release-templates/{template_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_release_template"
)
def delete_release_template(request: HttpRequest, template_id: PathId):
    """Remove a template; releases made from it keep their plan (and forget the template)."""
    services.template_delete(actor=request.auth, template=_template(request, template_id))
    return Status(204, None)


@router.get(
    "/release-templates/{template_id}/layout",
    response={200: ReleaseTemplateLayoutOut, **READ_RESPONSES},
    operation_id="get_release_template_layout",
)
def get_release_template_layout(
    request: HttpRequest,
    template_id: PathId,
    start: Day,
    calendar: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Working calendar; weekends only.")] = None,
):
    """The dates a release made from this template and starting on `start` would get, on the calendar given."""
    template = _template(request, template_id)
    calendars = Calendar.objects.restrict(request.auth).prefetch_related("closures")
    chosen = referenced(calendars, calendar, field="calendar")
    try:
        layout = template_layout(template, start, working_calendar(chosen))
    except (OverflowError, ValueError):
        raise ValidationFailed.field("start", "This start is too close to the end of the calendar.") from None
    return {
        "template_id": template.pk,
        "calendar_id": chosen.pk if chosen else None,
        "start": start,
        "end": layout.end,
        "phases": [
            {
                "template_id": row.template.pk,
                "name": row.template.name,
                "kind": row.template.kind,
                "start": row.start,
                "end": row.end,
            }
            for row in layout.phases
        ],
        "milestones": [
            {"template_id": row.template.pk, "name": row.template.name, "kind": row.template.kind, "date": row.date}
            for row in layout.milestones
        ],
        "gates": [
            {"template_id": row.template.pk, "name": row.template.name, "due_date": row.due_date}
            for row in layout.gates
        ],
    }


PHASE_TEMPLATE_REQUIRED = {
    "name": "A phase needs a name.",
    "kind": "Give the kind of phase.",
    "duration_days": "Give the length in working days.",
    "start_offset_days": "Give the offset in working days (0: at the release's start).",
    "position": "Give the position.",
    "test_effort_days": "Give the test effort (0 when none).",
    "is_required": "Say whether the phase is required.",
}


@router.post(
    "/release-templates/{template_id}/phases",
    response={201: PhaseTemplateOut, **ERROR_RESPONSES},
    operation_id="create_phase_template",
)
def create_phase_template(request: HttpRequest, template_id: PathId, payload: PhaseTemplateIn):
    """Add a phase; without `start_offset_days` it starts right after the previous phase."""
    template = _template(request, template_id)
    phase = services.phase_template_add(actor=request.auth, template=template, **_refs(request, payload.dict()))
    return Status(201, _visible(PhaseTemplate, request, phase.pk))


@router.get(
    "/phase-templates/{phase_template_id}",
    response={200: PhaseTemplateOut, **READ_RESPONSES},
    operation_id="get_phase_template",
)
def get_phase_template(request: HttpRequest, phase_template_id: PathId):
    return _visible(PhaseTemplate, request, phase_template_id)


@router.patch(
    "/phase-templates/{phase_template_id}",
    response={200: PhaseTemplateOut, **ERROR_RESPONSES},
    operation_id="update_phase_template",
)
def update_phase_template(request: HttpRequest, phase_template_id: PathId, payload: PhaseTemplatePatch):
    phase = _visible(PhaseTemplate, request, phase_template_id, "template")
    changes = _refs(request, payload.dict(exclude_unset=True), PHASE_TEMPLATE_REQUIRED)
    services.phase_template_update(actor=request.auth, phase_template=phase, **changes)
    return _visible(PhaseTemplate, request, phase_template_id)


@router.delete(
    "/phase-templates/{phase_template_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_phase_template",
)
def delete_phase_template(request: HttpRequest, phase_template_id: PathId):
    phase = _visible(PhaseTemplate, request, phase_template_id, "template")
    services.phase_template_delete(actor=request.auth, phase_template=phase)
    return Status(204, None)


MILESTONE_TEMPLATE_REQUIRED = {
    "phase_id": "A template milestone is anchored to one of its phases.",
    "name": "A milestone needs a name.",
    "kind": "Give the kind of milestone.",
    "anchor": "Give the anchor: start or end of the phase.",
    "offset_days": "Give the offset in working days (0: on the anchor).",
}


@router.post(
    "/release-templates/{template_id}/milestones",
    response={201: MilestoneTemplateOut, **ERROR_RESPONSES},
    operation_id="create_milestone_template",
)
def create_milestone_template(request: HttpRequest, template_id: PathId, payload: MilestoneTemplateIn):
    """Add a milestone anchored to the start or end of one of the template's phases."""
    template = _template(request, template_id)
    data = payload.dict()
    data["phase"] = _phase_template(request, data.pop("phase_id"))
    with _fields_as_sent("phase_id"):
        milestone = services.milestone_template_add(actor=request.auth, template=template, **data)
    return Status(201, _visible(MilestoneTemplate, request, milestone.pk))


@router.get(
    "/milestone-templates/{milestone_template_id}",
    response={200: MilestoneTemplateOut, **READ_RESPONSES},
    operation_id="get_milestone_template",
)
def get_milestone_template(request: HttpRequest, milestone_template_id: PathId):
    return _visible(MilestoneTemplate, request, milestone_template_id)


@router.patch(
    "/milestone-templates/{milestone_template_id}",
    response={200: MilestoneTemplateOut, **ERROR_RESPONSES},
    operation_id="update_milestone_template",
)
def update_milestone_template(request: HttpRequest, milestone_template_id: PathId, payload: MilestoneTemplatePatch):
    milestone = _visible(MilestoneTemplate, request, milestone_template_id, "template")
    changes = _refs(request, payload.dict(exclude_unset=True), MILESTONE_TEMPLATE_REQUIRED)
    if "phase_id" in changes:
        changes["phase"] = _phase_template(request, changes.pop("phase_id"))
    with _fields_as_sent("phase_id"):
        services.milestone_template_update(actor=request.auth, milestone_template=milestone, **changes)
    return _visible(MilestoneTemplate, request, milestone_template_id)


@router.delete(
    "/milestone-templates/{milestone_template_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_milestone_template",
)
def delete_milestone_template(request: HttpRequest, milestone_template_id: PathId):
    milestone = _visible(MilestoneTemplate, request, milestone_template_id, "template")
    services.milestone_template_delete(actor=request.auth, milestone_template=milestone)
    return Status(204, None)


GATE_TEMPLATE_REQUIRED = {
    "name": "A gate needs a name.",
    "blocks": "Give the status the gate guards.",
    "approver_roles": "Give the approver roles (an empty list for none).",
    "checklist": "Give the checklist (an empty list for none).",
    "checks": "Give the automatic checks (an empty list for none).",
}


@router.post(
    "/release-templates/{template_id}/gates",
    response={201: GateTemplateOut, **ERROR_RESPONSES},
    operation_id="create_gate_template",
)
def create_gate_template(request: HttpRequest, template_id: PathId, payload: GateTemplateIn):
    """Add a gate at the end of one of the template's phases (or of the release) with its criteria and approvers."""
    template = _template(request, template_id)
    data = payload.dict()
    data["phase"] = _phase_template(request, data.pop("phase_id"))
    with _fields_as_sent("phase_id"):
        gate = services.gate_template_add(actor=request.auth, template=template, **data)
    return Status(201, _visible(GateTemplate, request, gate.pk))


@router.get(
    "/gate-templates/{gate_template_id}",
    response={200: GateTemplateOut, **READ_RESPONSES},
    operation_id="get_gate_template",
)
def get_gate_template(request: HttpRequest, gate_template_id: PathId):
    return _visible(GateTemplate, request, gate_template_id)


@router.patch(
    "/gate-templates/{gate_template_id}",
    response={200: GateTemplateOut, **ERROR_RESPONSES},
    operation_id="update_gate_template",
)
def update_gate_template(request: HttpRequest, gate_template_id: PathId, payload: GateTemplatePatch):
    gate = _visible(GateTemplate, request, gate_template_id, "template")
    changes = _refs(request, payload.dict(exclude_unset=True), GATE_TEMPLATE_REQUIRED)
    if "phase_id" in changes:
        changes["phase"] = _phase_template(request, changes.pop("phase_id"))
    with _fields_as_sent("phase_id"):
        services.gate_template_update(actor=request.auth, gate_template=gate, **changes)
    return _visible(GateTemplate, request, gate_template_id)


@router.delete(
    "/gate-templates/{gate_template_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_gate_template"
)
def delete_gate_template(request: HttpRequest, gate_template_id: PathId):
    gate = _visible(GateTemplate, request, gate_template_id, "template")
    services.gate_template_delete(actor=request.auth, gate_template=gate)
    return Status(204, None)


# Releases


class ReleasePagination(Pagination):
    """The page of releases, each with its health from the one health rule (computed for the page only)."""

    def paginate_queryset(self, queryset, pagination, **params) -> dict:
        page = super().paginate_queryset(queryset, pagination, **params)
        request = params["request"]
        health = selectors.release_health_map(user=request.auth, release_ids=[release.pk for release in page["items"]])
        for release in page["items"]:
            release.health = health[release.pk]
        return page


@router.get("/releases", response={200: list[ReleaseRowOut], **READ_RESPONSES}, operation_id="list_releases")
@paginate(ReleasePagination)
def list_releases(request: HttpRequest, filters: Query[ReleaseFilter]):
    """Releases with their health and risk score; filter by kind, status, train, portfolio, initiative, department,
    system in scope, a window of dates (`start`/`end`: releases overlapping it) or `q`."""
    releases = selectors.release_list(user=request.auth, filters=filters.dict(exclude={"sort"}))
    return apply_sort(releases, filters.sort, RELEASE_SORTS, "planned_start,name")


@router.get("/releases/{release_id}", response={200: ReleaseOut, **READ_RESPONSES}, operation_id="get_release")
def get_release(request: HttpRequest, release_id: PathId):
    """A release with its phases, milestones (deploy milestones inside a freeze flagged), gates with their criteria,
    approvals and what is missing, systems in scope, child releases, health with its factors and the statuses you
    may move it to."""
    return _release_out(request, release_id)


@router.post("/releases", response={201: ReleaseOut, **ERROR_RESPONSES}, operation_id="create_release")
def create_release(request: HttpRequest, payload: ReleaseIn):
    """Create a release; with `template_id` its phases, milestones and gates are laid out from `planned_start` on the
    working calendar, with `train_id` it travels in that train (following its dates with `inherit_train_dates`)."""
    data = _refs(request, payload.dict())
    # Joining a train at creation, "release" is the release being made: what is wrong with it is its kind.
    with _fields_as_sent(*payload.dict(), renamed={"release": "kind"}):
        release = services.release_create(actor=request.auth, **data)
    return Status(201, _release_out(request, release.pk))


RELEASE_REQUIRED = {
    "name": "A release needs a name.",
    "kind": "Give the kind of release.",
    "planned_start": "Give the planned start.",
    "planned_end": "Give the planned end.",
}


@router.patch("/releases/{release_id}", response={200: ReleaseOut, **ERROR_RESPONSES}, operation_id="update_release")
def update_release(request: HttpRequest, release_id: PathId, payload: ReleasePatch):
    """Change a release; a window that would leave phases or milestones outside it is a 422."""
    sent = payload.dict(exclude_unset=True)
    changes = _refs(request, dict(sent), RELEASE_REQUIRED)
    with _fields_as_sent(*sent):
        services.release_update(actor=request.auth, release=_release(request, release_id), **changes)
    return _release_out(request, release_id)


@router.delete("/releases/{release_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_release")
def delete_release(request: HttpRequest, release_id: PathId):
    """Remove a draft or cancelled release; a train with child releases is a 409."""
    services.release_delete(actor=request.auth, release=_release(request, release_id))
    return Status(204, None)


@router.post(
    "/releases/{release_id}/transition",
    response={200: ReleaseOut, **ERROR_RESPONSES},
    operation_id="transition_release",
)
def transition_release(request: HttpRequest, release_id: PathId, payload: ReleaseTransitionIn):
    """Move a release along draft → planned → in progress → released, or cancel it. A move your roles may not make
    is a 403; one held back by gates not passed is a 409 naming each gate and why."""
    services.release_transition(actor=request.auth, release=_release(request, release_id), **payload.dict())
    return _release_out(request, release_id)


@router.post(
    "/releases/{release_id}/train", response={200: ReleaseOut, **ERROR_RESPONSES}, operation_id="add_release_to_train"
)
def add_release_to_train(request: HttpRequest, release_id: PathId, payload: ReleaseTrainIn):
    """Put a project release in a train, keeping its own phase dates or following the train's (`inherit_dates`); a
    release already in another train is a 409."""
    release = _release(request, release_id)
    train = referenced(Release.objects.restrict(request.auth), payload.train_id, field="train_id")
    with _fields_as_sent("train_id"):
        services.release_add_to_train(
            actor=request.auth, train=train, release=release, inherit_dates=payload.inherit_dates
        )
    return _release_out(request, release_id)


@router.delete(
    "/releases/{release_id}/train",
    response={200: ReleaseOut, **ERROR_RESPONSES},
    operation_id="remove_release_from_train",
)
def remove_release_from_train(request: HttpRequest, release_id: PathId):
    """Take a release out of its train; its phases keep the dates they have."""
    services.release_remove_from_train(actor=request.auth, release=_release(request, release_id))
    return _release_out(request, release_id)


@router.get(
    "/releases/{release_id}/health",
    response={200: ReleaseHealthOut, **READ_RESPONSES},
    operation_id="get_release_health",
)
def get_release_health(request: HttpRequest, release_id: PathId):
    """Health (green, amber, red), risk score and each factor with the points it adds: the same values the release
    page and the report show."""
    return _health(request, _release(request, release_id))


@router.get(
    "/releases/{release_id}/report",
    response={200: ReleaseReportOut, **READ_RESPONSES},
    operation_id="get_release_report",
)
def get_release_report(request: HttpRequest, release_id: PathId):
    """The printable release report: scope, dates, gates and approvals, risks and the history of date changes."""
    return selectors.release_report(user=request.auth, release=_release(request, release_id))


# Scope


@router.get(
    "/releases/{release_id}/scope",
    response={200: list[ReleaseSystemOut], **READ_RESPONSES},
    operation_id="list_release_scope",
)
def list_release_scope(request: HttpRequest, release_id: PathId):
    """The systems in the release's scope, impacted or regression-dependent, with their target versions."""
    return _scope_rows(_release(request, release_id))


@router.put(
    "/releases/{release_id}/scope/{system_id}",
    response={200: ReleaseSystemOut, **ERROR_RESPONSES},
    operation_id="set_release_scope",
)
def set_release_scope(request: HttpRequest, release_id: PathId, system_id: PathId, payload: ReleaseScopeIn):
    """Put a system in scope, or change how it is impacted and its target version."""
    release = _release(request, release_id)
    system = _visible(System, request, system_id)
    row = services.release_scope_set(actor=request.auth, release=release, system=system, **payload.dict())
    return ReleaseSystem.objects.select_related("system").get(pk=row.pk)


@router.delete(
    "/releases/{release_id}/scope/{system_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="remove_release_scope",
)
def remove_release_scope(request: HttpRequest, release_id: PathId, system_id: PathId):
    release = _release(request, release_id)
    system = _visible(System, request, system_id)
    services.release_scope_remove(actor=request.auth, release=release, system=system)
    return Status(204, None)


def _suggestions(request, release) -> list[dict]:
    return [
        {
            "system_id": system.pk,
            "system": system.name,
            "tier": system.tier,
            "via_system_id": via.pk,
            "via_system": via.name,
        }
        for system, via in selectors.release_regression_suggestions(user=request.auth, release=release)
    ]


@router.get(
    "/releases/{release_id}/scope-suggestions",
    response={200: list[ScopeSuggestionOut], **READ_RESPONSES},
    operation_id="list_scope_suggestions",
)
def list_scope_suggestions(request: HttpRequest, release_id: PathId):
    """Systems downstream of the impacted ones and not in scope yet: candidates for regression testing."""
    return _suggestions(request, _release(request, release_id))


@router.post(
    "/releases/{release_id}/scope-suggestions/apply",
    response={200: list[ReleaseSystemOut], **ERROR_RESPONSES},
    operation_id="apply_scope_suggestions",
)
def apply_scope_suggestions(request: HttpRequest, release_id: PathId):
    """Add every suggested system to the scope as regression-dependent; answers the rows added."""
    rows = services.release_scope_add_suggested(actor=request.auth, release=_release(request, release_id))
    return list(ReleaseSystem.objects.filter(pk__in=[row.pk for row in rows]).select_related("system"))


# Phases


PHASE_REQUIRED = {
    "name": "A phase needs a name.",
    "kind": "Give the kind of phase.",
    "status": "Give the status.",
    "position": "Give the position.",
    "planned_start": "Give the planned start.",
    "planned_end": "Give the planned end.",
    "percent_complete": "Give the percent complete (0 when not started).",
    "test_effort_days": "Give the test effort (0 when none).",
    "is_required": "Say whether the phase is required.",
}


@router.post(
    "/releases/{release_id}/phases", response={201: ReleasePhaseOut, **ERROR_RESPONSES}, operation_id="create_phase"
)
def create_phase(request: HttpRequest, release_id: PathId, payload: ReleasePhaseIn):
    """Add a phase inside the release's planned window."""
    release = _release(request, release_id)
    phase = services.phase_create(actor=request.auth, release=release, **_refs(request, payload.dict()))
    return Status(201, _visible(Phase, request, phase.pk))


@router.get("/phases/{phase_id}", response={200: ReleasePhaseOut, **READ_RESPONSES}, operation_id="get_phase")
def get_phase(request: HttpRequest, phase_id: PathId):
    return _visible(Phase, request, phase_id)


@router.patch("/phases/{phase_id}", response={200: ReleasePhaseOut, **ERROR_RESPONSES}, operation_id="update_phase")
def update_phase(request: HttpRequest, phase_id: PathId, payload: ReleasePhasePatch):
    """Change a phase: dates within its release, progress, status; phases of child releases that follow it move too."""
    phase = _visible(Phase, request, phase_id, "release")
    changes = _refs(request, payload.dict(exclude_unset=True), PHASE_REQUIRED)
    services.phase_update(actor=request.auth, phase=phase, **changes)
    return _visible(Phase, request, phase_id)


@router.delete("/phases/{phase_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_phase")
def delete_phase(request: HttpRequest, phase_id: PathId):
    services.phase_delete(actor=request.auth, phase=_visible(Phase, request, phase_id, "release"))
    return Status(204, None)


# Milestones


MILESTONE_REQUIRED = {
    "name": "A milestone needs a name.",
    "kind": "Give the kind of milestone.",
    "planned_date": "Give the planned date.",
}


@router.post(
    "/releases/{release_id}/milestones",
    response={201: ReleaseMilestoneOut, **ERROR_RESPONSES},
    operation_id="create_milestone",
)
def create_milestone(request: HttpRequest, release_id: PathId, payload: ReleaseMilestoneIn):
    """Add a milestone inside the release's window, optionally in one of its phases."""
    release = _release(request, release_id)
    data = payload.dict()
    data["phase"] = data.pop("phase_id")  # the service takes it among the release's phases
    with _fields_as_sent("phase_id"):
        milestone = services.milestone_create(actor=request.auth, release=release, **data)
    return Status(201, _milestone_out(_visible(Milestone, request, milestone.pk)))


@router.get(
    "/milestones/{milestone_id}", response={200: ReleaseMilestoneOut, **READ_RESPONSES}, operation_id="get_milestone"
)
def get_milestone(request: HttpRequest, milestone_id: PathId):
    """A milestone; a deploy milestone inside a deployment freeze covering its release names the freeze."""
    return _milestone_out(_visible(Milestone, request, milestone_id))


@router.patch(
    "/milestones/{milestone_id}",
    response={200: ReleaseMilestoneOut, **ERROR_RESPONSES},
    operation_id="update_milestone",
)
def update_milestone(request: HttpRequest, milestone_id: PathId, payload: ReleaseMilestonePatch):
    milestone = _visible(Milestone, request, milestone_id, "release")
    changes = _refs(request, payload.dict(exclude_unset=True), MILESTONE_REQUIRED)
    if "phase_id" in changes:
        changes["phase"] = changes.pop("phase_id")
    with _fields_as_sent("phase_id"):
        services.milestone_update(actor=request.auth, milestone=milestone, **changes)
    return _milestone_out(_visible(Milestone, request, milestone_id))


@router.delete("/milestones/{milestone_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_milestone")
def delete_milestone(request: HttpRequest, milestone_id: PathId):
    services.milestone_delete(actor=request.auth, milestone=_visible(Milestone, request, milestone_id, "release"))
    return Status(204, None)


# Gates


GATE_REQUIRED = {
    "name": "A gate needs a name.",
    "blocks": "Give the status the gate guards.",
    "due_date": "Give the due date.",
    "approver_roles": "Give the approver roles (an empty list for none).",
}


@router.post("/releases/{release_id}/gates", response={201: GateOut, **ERROR_RESPONSES}, operation_id="create_gate")
def create_gate(request: HttpRequest, release_id: PathId, payload: GateIn):
    """Add a gate with its checklist, automatic checks and approver roles."""
    release = _release(request, release_id)
    data = payload.dict()
    data["phase"] = data.pop("phase_id")  # the service takes it among the release's phases
    with _fields_as_sent("phase_id"):
        gate = services.gate_create(actor=request.auth, release=release, **data)
    return Status(201, _gate_out(request, gate.pk))


@router.get("/gates/{gate_id}", response={200: GateOut, **READ_RESPONSES}, operation_id="get_gate")
def get_gate(request: HttpRequest, gate_id: PathId):
    """A gate evaluated now: each criterion with whether it holds and why, what is unmet, who has yet to approve."""
    return _gate_out(request, gate_id)


@router.patch("/gates/{gate_id}", response={200: GateOut, **ERROR_RESPONSES}, operation_id="update_gate")
def update_gate(request: HttpRequest, gate_id: PathId, payload: GatePatch):
    """Change an open gate."""
    gate = _visible(Gate, request, gate_id, "release")
    changes = _refs(request, payload.dict(exclude_unset=True), GATE_REQUIRED)
    if "phase_id" in changes:
        changes["phase"] = changes.pop("phase_id")
    with _fields_as_sent("phase_id"):
        services.gate_update(actor=request.auth, gate=gate, **changes)
    return _gate_out(request, gate_id)


@router.delete("/gates/{gate_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_gate")
def delete_gate(request: HttpRequest, gate_id: PathId):
    """Remove an open gate."""
    services.gate_delete(actor=request.auth, gate=_visible(Gate, request, gate_id, "release"))
    return Status(204, None)


@router.post("/gates/{gate_id}/decisions", response={200: GateOut, **ERROR_RESPONSES}, operation_id="decide_gate")
def decide_gate(request: HttpRequest, gate_id: PathId, payload: GateDecisionIn):
    """Approve or reject a gate as one of your roles (one of the gate's approver roles); each role and each person
    decides once (409 the second time)."""
    gate = _visible(Gate, request, gate_id, "release")
    services.gate_decide(actor=request.auth, gate=gate, **payload.dict())
    return _gate_out(request, gate_id)


@router.post("/gates/{gate_id}/override", response={200: GateOut, **ERROR_RESPONSES}, operation_id="override_gate")
def override_gate(request: HttpRequest, gate_id: PathId, payload: GateOverrideIn):
    """Pass a gate without meeting it, with the reason; shown on the gate, the release and its report."""
    gate = _visible(Gate, request, gate_id, "release")
    services.gate_override(actor=request.auth, gate=gate, reason=payload.reason)
    return _gate_out(request, gate_id)


@router.post("/gates/{gate_id}/reopen", response={200: GateOut, **ERROR_RESPONSES}, operation_id="reopen_gate")
def reopen_gate(request: HttpRequest, gate_id: PathId, payload: GateReopenIn):
    """Open a rejected gate again, clearing its decisions, with the reason."""
    gate = _visible(Gate, request, gate_id, "release")
    services.gate_reopen(actor=request.auth, gate=gate, reason=payload.reason)
    return _gate_out(request, gate_id)


@router.patch(
    "/gate-criteria/{criterion_id}", response={200: GateOut, **ERROR_RESPONSES}, operation_id="update_gate_criterion"
)
def update_gate_criterion(request: HttpRequest, criterion_id: PathId, payload: GateCriterionPatch):
    """Tick or untick a checklist item of an open gate; answers the gate, evaluated again."""
    criterion = GateCriterion.objects.select_related("gate__release").filter(pk=criterion_id).first()
    if criterion is None or not Gate.objects.restrict(request.auth).filter(pk=criterion.gate_id).exists():
        raise NotFound("Gate criterion not found.")
    services.gate_criterion_set(actor=request.auth, criterion=criterion, is_met=payload.is_met)
    return _gate_out(request, criterion.gate_id)


# Freeze windows


def _freeze(request, pk: int) -> FreezeWindow:
    return selectors.freeze_get(user=request.auth, pk=pk)


def _freeze_refs(request, data: dict, required: dict[str, str] | None = None) -> dict:
    for key, message in (required or {}).items():
        if key in data and data[key] is None:
            raise ValidationFailed.field(key, message)
    if "portfolio_ids" in data:
        visible = Portfolio.objects.restrict(request.auth)
        data["portfolios"] = referenced_all(visible, data.pop("portfolio_ids"), field="portfolio_ids")
    if "system_ids" in data:
        visible = System.objects.restrict(request.auth)
        data["systems"] = referenced_all(visible, data.pop("system_ids"), field="system_ids")
    return data


@router.get(
    "/freeze-windows", response={200: list[FreezeWindowOut], **READ_RESPONSES}, operation_id="list_freeze_windows"
)
@paginate(Pagination)
def list_freeze_windows(request: HttpRequest, filters: Query[FreezeWindowFilter]):
    """Freeze windows; filter by category, scope, or those that may hold between `from` and `to` (one-off windows
    overlapping the range, recurring ones that start by its end and still recur near its start)."""
    start, end = filters.from_, filters.to
    if start and end and end < start:
        raise ValidationFailed.field("to", "The end of the range cannot be before its start.")
    windows = selectors.freeze_list(
        user=request.auth, filters={"category": filters.category, "scope": filters.scope, "start": start, "end": end}
    )
    return apply_sort(windows, filters.sort, FREEZE_SORTS, "starts_on,name")


@router.get(
    "/freeze-windows/{freeze_window_id}",
    response={200: FreezeWindowOut, **READ_RESPONSES},
    operation_id="get_freeze_window",
)
def get_freeze_window(request: HttpRequest, freeze_window_id: PathId):
    return _freeze(request, freeze_window_id)


@router.post("/freeze-windows", response={201: FreezeWindowOut, **ERROR_RESPONSES}, operation_id="create_freeze_window")
def create_freeze_window(request: HttpRequest, payload: FreezeWindowIn):
    """Declare a freeze: organisation-wide or for portfolios, systems or kinds of environment; once or recurring."""
    with _fields_as_sent("portfolio_ids", "system_ids"):
        window = services.freeze_create(actor=request.auth, **_freeze_refs(request, payload.dict()))
    return Status(201, _freeze(request, window.pk))


FREEZE_REQUIRED = {
    "name": "A freeze needs a name.",
    "category": "Give the category.",
    "scope": "Give the scope.",
    "starts_on": "Give the first day.",
    "ends_on": "Give the last day.",
    "recurrence": "Give the recurrence (none for a one-off freeze).",
    "portfolio_ids": "Give the portfolios (an empty list for none).",
    "system_ids": "Give the systems (an empty list for none).",
    "environment_types": "Give the kinds of environment (an empty list for none).",
}


@router.patch(
    "/freeze-windows/{freeze_window_id}",
    response={200: FreezeWindowOut, **ERROR_RESPONSES},
    operation_id="update_freeze_window",
)
def update_freeze_window(request: HttpRequest, freeze_window_id: PathId, payload: FreezeWindowPatch):
    window = _freeze(request, freeze_window_id)
    changes = _freeze_refs(request, payload.dict(exclude_unset=True), FREEZE_REQUIRED)
    with _fields_as_sent("portfolio_ids", "system_ids"):
        services.freeze_update(actor=request.auth, window=window, **changes)
    return _freeze(request, freeze_window_id)


@router.delete(
    "/freeze-windows/{freeze_window_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_freeze_window"
)
def delete_freeze_window(request: HttpRequest, freeze_window_id: PathId):
    services.freeze_delete(actor=request.auth, window=_freeze(request, freeze_window_id))
    return Status(204, None)


# Views of the plan


class TimelineQuery(Schema):
    start: Day = Field(description="First day shown.")
    end: Day = Field(description="Last day shown: on or after the start, at most three years after it.")
    group_by: str = Field("train", pattern="^(train|portfolio|system)$", description="train, portfolio or system.")
    portfolio: Id | None = None
    department: Id | None = None
    system: Id | None = None
    status: ReleaseStatus | None = None


@router.get("/timeline", response={200: ReleaseTimelineOut, **READ_RESPONSES}, operation_id="get_timeline")
def get_timeline(request: HttpRequest, query: Query[TimelineQuery]):
    """The consolidated timeline between `start` and `end`: groups, releases with their phases, milestones (flagged
    inside a freeze) and gates, health, and the freezes to shade. The same data the timeline page draws."""
    data = selectors.timeline_data(user=request.auth, **query.dict())
    # Built to the documented shape by the selector; sent as is rather than validated again object by object.
    return JsonResponse(data, encoder=DjangoJSONEncoder)


@router.get(
    "/release-calendar", response={200: ReleaseCalendarOut, **READ_RESPONSES}, operation_id="get_release_calendar"
)
def get_release_calendar(
    request: HttpRequest,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="The month, as YYYY-MM.")],
):
    """The month's releases (running, starting, ending) and milestones, day by day."""
    year, number = (int(part) for part in month.split("-"))
    if not 1900 <= year <= 2999:
        raise ValidationFailed.field("month", "Give a month of the years 1900 to 2999.")
    return selectors.release_calendar(user=request.auth, year=year, month=number)


@router.get("/impact-matrix", response={200: ImpactMatrixOut, **READ_RESPONSES}, operation_id="get_impact_matrix")
def get_impact_matrix(
    request: HttpRequest,
    start: Annotated[Day | None, Query(description="First month (any day of it); default: this one.")] = None,
    months: Annotated[int, Query(ge=1, le=12, description="How many months, 1 to 12.")] = 6,
):
    """Systems by releases over the months asked: how many releases touch each system, impacted or for regression."""
    start = start or timezone.localdate()
    return selectors.impact_matrix(user=request.auth, start=start.replace(day=1), months=months)


# The schedule


class ScheduleDependencyFilter(Schema):
    release: Id | None = Field(None, description="Dependencies into or out of this release, its phases or milestones.")
    kind: DependencyKind | None = None


class RowsPagination(Pagination):
    """Pagination over the rows a selector answers as a list (already in order) rather than as a query."""

    def paginate_queryset(self, queryset, pagination, **params) -> dict:
        if isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, pagination, **params)
        rows = list(queryset)
        return {
            "items": rows[pagination.offset : pagination.offset + pagination.limit],
            "count": len(rows),
            "limit": pagination.limit,
            "offset": pagination.offset,
        }


def _dependency(request, pk: int) -> ScheduleDependency:
    return selectors.dependency_get(user=request.auth, pk=pk)


def _changes(changes: list[ScheduleItemChangeIn]) -> list[schedule.Change]:
    return [schedule.Change(key=row.item, shift_days=row.shift_days, new_start=row.new_start) for row in changes]


@router.get(
    "/dependencies",
    response={200: list[ScheduleDependencyOut], **READ_RESPONSES},
    operation_id="list_schedule_dependencies",
)
@paginate(Pagination)
def list_schedule_dependencies(request: HttpRequest, filters: Query[ScheduleDependencyFilter]):
    """Dependencies between releases, phases and milestones, each end named with its release; filter by a release
    (dependencies into or out of it, its phases and milestones) or by kind."""
    return selectors.dependency_list(user=request.auth, release=filters.release, filters={"kind": filters.kind})


@router.post(
    "/dependencies", response={201: ScheduleDependencyOut, **ERROR_RESPONSES}, operation_id="create_schedule_dependency"
)
def create_schedule_dependency(request: HttpRequest, payload: ScheduleDependencyIn):
    """Make `successor` wait for `predecessor`; one that would close a cycle is a 422 naming the cycle, a second
    dependency between the same two items a 409."""
    dependency = services.dependency_create(actor=request.auth, **payload.dict())
    return Status(201, _dependency(request, dependency.pk))


@router.get(
    "/dependencies/{dependency_id}",
    response={200: ScheduleDependencyOut, **READ_RESPONSES},
    operation_id="get_schedule_dependency",
)
def get_schedule_dependency(request: HttpRequest, dependency_id: PathId):
    return _dependency(request, dependency_id)


DEPENDENCY_REQUIRED = {
    "kind": "Give the kind: FS, SS, FF or SF.",
    "lag_days": "Give the lag in working days (0 for none).",
}


@router.patch(
    "/dependencies/{dependency_id}",
    response={200: ScheduleDependencyOut, **ERROR_RESPONSES},
    operation_id="update_schedule_dependency",
)
def update_schedule_dependency(request: HttpRequest, dependency_id: PathId, payload: ScheduleDependencyPatch):
    """Change a dependency's kind, lag or note; its two ends stay (delete it and make another to link others)."""
    dependency = _dependency(request, dependency_id)
    changes = _refs(request, payload.dict(exclude_unset=True), DEPENDENCY_REQUIRED)
    if "note" in changes and changes["note"] is None:
        changes["note"] = ""
    services.dependency_update(actor=request.auth, dependency=dependency, **changes)
    return _dependency(request, dependency_id)


@router.delete(
    "/dependencies/{dependency_id}", response={204: None, **ERROR_RESPONSES}, operation_id="delete_schedule_dependency"
)
def delete_schedule_dependency(request: HttpRequest, dependency_id: PathId):
    services.dependency_delete(actor=request.auth, dependency=_dependency(request, dependency_id))
    return Status(204, None)


@router.post(
    "/schedule/what-if",
    response={200: ScheduleImpactOut, **ERROR_RESPONSES},
    operation_id="preview_schedule_change",
    by_alias=True,
)
def preview_schedule_change(request: HttpRequest, payload: SchedulePreviewIn):
    """What the changes would move, changing nothing: every phase, milestone and gate that moves (old and new dates,
    how far, the chain of items that moved it), the releases and trains whose window moves, milestones landing in a
    freeze or pushed past one, critical-path changes, constraints newly broken and what the impact providers find.

    A change to a released or cancelled release, a started phase or a reached milestone, or the same item twice is a
    422; an item that does not exist or that you may not see is a 404."""
    return schedule.what_if(user=request.auth, changes=_changes(payload.changes))


@router.post(
    "/schedule/apply",
    response={200: ScheduleApplyOut, **ERROR_RESPONSES},
    operation_id="apply_schedule_change",
    by_alias=True,
)
def apply_schedule_change(request: HttpRequest, payload: ScheduleApplyIn):
    """Apply the changes in one transaction, with the reason: the moved rows, one audit event carrying the whole
    impact, one history entry per moved release. A plan changed since the preview (`fingerprint`) or a change that
    would break a constraint is a 409 and changes nothing."""
    return services.schedule_apply(
        actor=request.auth,
        changes=_changes(payload.changes),
        reason=payload.reason,
        fingerprint=payload.fingerprint,
    )


@router.get(
    "/releases/{release_id}/schedule-history",
    response={200: list[ScheduleChangeOut], **READ_RESPONSES},
    operation_id="list_release_schedule_history",
)
@paginate(RowsPagination)
def list_release_schedule_history(request: HttpRequest, release_id: PathId):
    """The release's date-change history, newest first: who, when, why, from which window to which and what moved it."""
    return selectors.release_schedule_history(user=request.auth, release=_release(request, release_id))


class ReleaseForecastQuery(Schema):
    runs: int = Field(2000, ge=1, le=MAX_FORECAST_RUNS, description=f"Runs to simulate, 1 to {MAX_FORECAST_RUNS:,}.")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="The same seed always gives the same forecast.")


@router.get(
    "/releases/{release_id}/forecast",
    response={200: ReleaseForecastOut, **READ_RESPONSES},
    operation_id="get_release_forecast",
)
def get_release_forecast(request: HttpRequest, release_id: PathId, query: Query[ReleaseForecastQuery]):
    """When the release will likely end: P50 and P85 end dates and the probability of meeting its planned end, from
    a Monte Carlo simulation of its plan (a train's or a child's: the whole train's) drawing each open phase's
    duration from how long finished phases of its kind (of its team, with enough history) really took."""
    release = _release(request, release_id)
    forecast = selectors.release_forecast(user=request.auth, release=release, runs=query.runs, seed=query.seed)
    if forecast is None:  # released or cancelled: nothing left to forecast
        forecast = {
            "p50": None,
            "p85": None,
            "probability_on_time": None,
            "planned_end": release.planned_end,
            "runs": 0,
            "samples": 0,
            "basis": f"{release.get_status_display()}: its dates are history.",
        }
    return {"release_id": release.pk, **forecast}


@router.get(
    "/releases/{release_id}/critical-path",
    response={200: ReleaseCriticalPathOut, **READ_RESPONSES},
    operation_id="get_release_critical_path",
)
def get_release_critical_path(request: HttpRequest, release_id: PathId):
    """Each phase, milestone and open gate of the release (of a train: with its children's) with its total float
    in working days, critical when it has none: slipping it moves the release's end or runs into a fixed date."""
    return schedule.release_critical_path(_release(request, release_id))


class ReleasePredictabilityQuery(Schema):
    group_by: str = Field("team", pattern="^(team|portfolio|period)$", description="team, portfolio or period.")
    start: Day | None = Field(None, description="Releases that ended on or after this day.")
    end: Day | None = Field(None, description="Releases that ended on or before this day.")


@router.get(
    "/predictability", response={200: ReleasePredictabilityOut, **READ_RESPONSES}, operation_id="get_predictability"
)
def get_predictability(request: HttpRequest, query: Query[ReleasePredictabilityQuery]):
    """How predictably released releases ended, grouped by team (their project's owner team), portfolio or quarter of
    their actual end: the share on time (ended on or before the baseline end, else the planned end) and the mean and
    85th percentile of the slip in working days; the last row is the total over all of them."""
    rows = selectors.predictability(user=request.auth, group_by=query.group_by, start=query.start, end=query.end)
    return {"group_by": query.group_by, "start": query.start, "end": query.end, "rows": rows}
