"""Every write to release planning: templates, releases and trains, scope, phases, milestones, gates, freezes and
the schedule (dependencies, applied changes and the history they leave).

Phases, milestones, gates and criteria are audited on their own rows (`phase.updated`, `gate.approved`…); scope
changes and train membership on the release (`release.scope_changed`, `release.joined_train`); an applied schedule
change is one `release.rescheduled` event carrying its whole impact.
"""

import datetime
import uuid
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from launchdeck.accounts.roles import Role, is_valid_role, role_label, roles_may_write
from launchdeck.audit.models import AuditEvent
from launchdeck.audit.services import (
    audit_record,
    changed_fields,
    delete_audited,
    fields_of,
    still_used,
    update_audited,
)
from launchdeck.catalog.graph import adjacency, closure
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from launchdeck.core.models import bump_version
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import (
    assign,
    blank_text_clears,
    check_end_after_start,
    is_plausible_date,
    plural,
    require_plausible_dates,
    require_values,
    save,
    snapshot,
)
from launchdeck.org.calendars import working_calendar
from launchdeck.releases import schedule, workflow
from launchdeck.releases.checks import (
    check_label,
    evaluate_gate,
    gate_checks,
    gate_decidable_roles,
    record_check_results,
)
from launchdeck.releases.choices import (
    CLOSED_STATUSES,
    GATE_MET_STATUSES,
    ApprovalDecision,
    CriterionKind,
    DependencyKind,
    EnvironmentType,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.freezes import MAX_LENGTH_DAYS
from launchdeck.releases.layout import template_layout
from launchdeck.releases.models import (
    MAX_LAG_DAYS,
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
from launchdeck.scheduling.calendar import WorkingCalendar

TEMPLATE_FIELDS = ["name", "description", "release_kind", "is_active"]
PHASE_TEMPLATE_FIELDS = [
    "position",
    "name",
    "kind",
    "start_offset_days",
    "duration_days",
    "environment_type",
    "test_effort_days",
    "is_required",
]
MILESTONE_TEMPLATE_FIELDS = ["phase", "name", "kind", "anchor", "offset_days"]
GATE_TEMPLATE_FIELDS = ["phase", "name", "blocks", "approver_roles", "checklist", "checks"]
RELEASE_FIELDS = [
    "name",
    "kind",
    "status",
    "train",
    "inherits_train_dates",
    "template",
    "owner",
    "portfolio",
    "initiative",
    "project",
    "calendar",
    "description",
    "planned_start",
    "planned_end",
    "baseline_start",
    "baseline_end",
    "actual_start",
    "actual_end",
]
RELEASE_EDITABLE = {
    "name",
    "kind",
    "template",
    "owner",
    "portfolio",
    "initiative",
    "project",
    "calendar",
    "description",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
}
PHASE_FIELDS = [
    "release",
    "train_phase",
    "position",
    "name",
    "kind",
    "status",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "percent_complete",
    "environment_type",
    "test_effort_days",
    "is_required",
]
PHASE_EDITABLE = {
    "position",
    "name",
    "kind",
    "status",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "percent_complete",
    "environment_type",
    "test_effort_days",
    "is_required",
}
MILESTONE_FIELDS = ["release", "phase", "name", "kind", "planned_date", "actual_date"]
MILESTONE_EDITABLE = {"phase", "name", "kind", "planned_date", "actual_date"}
GATE_FIELDS = ["release", "phase", "name", "blocks", "due_date", "approver_roles", "status"]
GATE_EDITABLE = {"phase", "name", "blocks", "due_date", "approver_roles", "checklist", "checks"}
FREEZE_FIELDS = [
    "name",
    "category",
    "scope",
    "environment_types",
    "starts_on",
    "ends_on",
    "recurrence",
    "recurs_until",
    "reason",
]
MAX_CHECKLIST_ITEMS = 30
MAX_CRITERION_TEXT = 300
MAX_ONE_OFF_DAYS = MAX_LENGTH_DAYS
MAX_RECURRENCE_YEARS = 10
MAX_OCCURRENCE_DAYS = {Recurrence.WEEKLY: 7, Recurrence.MONTHLY: 28, Recurrence.YEARLY: MAX_LENGTH_DAYS}


# Wording


def _day(day: datetime.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _span(start: datetime.date, end: datetime.date) -> str:
    return f"{_day(start)} to {_day(end)}"


def _joined(items: list[str], word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _refuse_unknown(changes: dict, editable: set[str], messages: dict[str, str] | None = None) -> None:
    """Fields a caller may not set through an edit: a field-level 422, naming the service that does it."""
    for name in changes:
        if name not in editable:
            message = (messages or {}).get(name, f"{name.replace('_', ' ').capitalize()} cannot be changed here.")
            raise ValidationFailed.field(name, message)


def _check_dates(start, end, *, field: str = "planned_end") -> None:
    check_end_after_start(start, end, field=field)


def _plausible(values: dict, *names: str) -> None:
    """The dates among `names` that `values` gives lie in the plausible years (a 422 on the first that does not)."""
    require_plausible_dates(**{name: values[name] for name in names if name in values})


# Closed releases: what happened stays as it happened


def _plan_is_history(release: Release) -> str:
    """Why a released or cancelled release's plan may not change: "Ledger 7.1 is released; its plan is history."."""
    return f"{release.name} is {workflow.status_label(release.status)}; its plan is history."


def _require_plan_open(release: Release) -> None:
    """A released or cancelled release's plan is history: its phases, milestones, gates and scope no longer change."""
    if release.status in CLOSED_STATUSES:
        raise Conflict(_plan_is_history(release))


def _differs(row: models.Model, name: str, value) -> bool:
    """Whether setting `name` to `value` would change `row` (a related row compares by its id)."""
    field = row._meta.get_field(name)
    current = getattr(row, field.attname)
    if field.is_relation:
        value = value.pk if isinstance(value, models.Model) else value
    return current != value


def _require_history_edit(release: Release, row: models.Model, changes: dict, allowed: set[str]) -> None:
    """On a closed release only what happened (`allowed`: actual dates, progress) may still be recorded."""
    if release.status in CLOSED_STATUSES and any(
        name not in allowed and _differs(row, name, value) for name, value in changes.items()
    ):
        _require_plan_open(release)


def _now():
    return timezone.now()


# Gate criteria vocabulary (shared by gate templates and gates)


def _listed(values):
    """A list of the values given as a list, tuple or set; anything else as it is, for the check to name."""
    if values is None:
        return []
    return list(values) if isinstance(values, (list, tuple, set, frozenset)) else values


def _clean_roles(roles) -> list[str]:
    if not isinstance(roles, (list, tuple)) or not roles:
        raise ValidationFailed.field("approver_roles", "Name at least one role that approves the gate, as a list.")
    cleaned = []
    for role in roles:
        if not isinstance(role, str) or not is_valid_role(role):
            raise ValidationFailed.field(
                "approver_roles", f"{role!r} is not a role; the roles are {', '.join(Role.values)}."
            )
        if not roles_may_write([role]):
            raise ValidationFailed.field(
                "approver_roles", f"The role {role_label(role)} only reads; it cannot approve a gate."
            )
        if role not in cleaned:
            cleaned.append(role)
    return cleaned


def _clean_checklist(items) -> list[str]:
    if not isinstance(items, (list, tuple)):
        raise ValidationFailed.field("checklist", "The checklist is a list of items.")
    cleaned = []
    for item in items:
        text = item.strip() if isinstance(item, str) else ""
        if not text:
            raise ValidationFailed.field("checklist", "A checklist item cannot be blank.")
        if len(text) > MAX_CRITERION_TEXT:
            raise ValidationFailed.field("checklist", f"A checklist item is at most {MAX_CRITERION_TEXT} characters.")
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_CHECKLIST_ITEMS:
        raise ValidationFailed.field("checklist", f"A gate has at most {MAX_CHECKLIST_ITEMS} checklist items.")
    return cleaned


def _clean_checks(keys) -> list[str]:
    if not isinstance(keys, (list, tuple)):
        raise ValidationFailed.field("checks", "The checks are a list of check keys.")
    registry = gate_checks()
    cleaned = []
    for key in keys:
        if key not in registry:
            raise ValidationFailed.field(
                "checks", f"{key!r} is not an automatic check; the checks are {', '.join(sorted(registry))}."
            )
        if key not in cleaned:
            cleaned.append(key)
    return cleaned


# Templates


@transaction.atomic
def template_create(
    *, actor, name: str, description: str = "", release_kind: str = ReleaseKind.PROJECT, is_active: bool = True
) -> ReleaseTemplate:
    """Start a release template; its phases, milestones and gates are added one by one."""
    require_perm(actor, "releases.add_releasetemplate")
    template = ReleaseTemplate(
        name=(name or "").strip(), description=description or "", release_kind=release_kind, is_active=is_active
    )
    save(template)
    audit_record(actor, "releasetemplate.created", template, new=snapshot(template, TEMPLATE_FIELDS))
    return template


@transaction.atomic
def template_update(*, actor, template: ReleaseTemplate, version: int | None = None, **changes) -> ReleaseTemplate:
    """Rename, describe, retarget or (de)activate a template; refused if `version` is stale."""
    _refuse_unknown(changes, set(TEMPLATE_FIELDS))
    blank_text_clears(changes, "description")
    return update_audited(
        actor,
        template,
        permission="releases.change_releasetemplate",
        event_type="releasetemplate.updated",
        data=fields_of(TEMPLATE_FIELDS),
        version=version,
        changes=changes,
    )


@transaction.atomic
def template_delete(*, actor, template: ReleaseTemplate) -> None:
    """Remove a template with its parts; releases made from it keep their phases and lose only the link."""
    require_perm(actor, "releases.delete_releasetemplate", template)
    delete_audited(actor, template, "releasetemplate.deleted")


def _next_position(rows) -> int:
    last = rows.order_by("-position").values_list("position", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def phase_template_add(
    *,
    actor,
    template: ReleaseTemplate,
    name: str,
    kind: str,
    duration_days: int,
    start_offset_days: int | None = None,
    position: int | None = None,
    environment_type: str = "",
    test_effort_days: Decimal | int = 0,
    is_required: bool = True,
) -> PhaseTemplate:
    """Add a phase to a template; without an offset it starts right after the phase before it."""
    require_perm(actor, "releases.add_phasetemplate", template)
    ReleaseTemplate.objects.select_for_update().filter(pk=template.pk).first()  # positions are handed out in turn
    if position is None:
        position = _next_position(template.phases.all())
    if start_offset_days is None:
        previous = template.phases.filter(position__lt=position).order_by("-position").first()
        start_offset_days = previous.start_offset_days + previous.duration_days if previous else 0
    phase = PhaseTemplate(
        template=template,
        position=position,
        name=(name or "").strip(),
        kind=kind,
        start_offset_days=start_offset_days,
        duration_days=duration_days,
        environment_type=environment_type or "",
        test_effort_days=test_effort_days,
        is_required=is_required,
    )
    save(phase)
    audit_record(actor, "phasetemplate.created", phase, new=snapshot(phase, ["template", *PHASE_TEMPLATE_FIELDS]))
    return phase


@transaction.atomic
def phase_template_update(
    *, actor, phase_template: PhaseTemplate, version: int | None = None, **changes
) -> PhaseTemplate:
    """Change a template's phase (name, kind, position, offset, duration…); refused if `version` is stale."""
    _refuse_unknown(changes, set(PHASE_TEMPLATE_FIELDS))
    blank_text_clears(changes, "environment_type")
    require_values(
        changes,
        position="Give the phase a position.",
        start_offset_days="Give the offset in working days (0 to start with the release).",
        duration_days="Give the duration in working days.",
        test_effort_days="Give the test effort (0 when there is none).",
    )
    return update_audited(
        actor,
        phase_template,
        permission="releases.change_phasetemplate",
        event_type="phasetemplate.updated",
        data=fields_of(PHASE_TEMPLATE_FIELDS),
        version=version,
        changes=changes,
    )


@transaction.atomic
def phase_template_delete(*, actor, phase_template: PhaseTemplate) -> None:
    """Remove a template's phase that no milestone or gate of the template hangs on."""
    require_perm(actor, "releases.delete_phasetemplate", phase_template)
    uses = [
        plural(phase_template.milestones.count(), "milestone"),
        plural(phase_template.gates.count(), "gate"),
    ]
    if any(count for count, _ in uses):
        raise still_used(phase_template, uses)
    delete_audited(actor, phase_template, "phasetemplate.deleted")


def _check_template_phase(template_id: int, phase) -> None:
    if phase is not None and phase.template_id != template_id:
        raise ValidationFailed.field("phase", "The phase does not exist in this template.")


@transaction.atomic
def milestone_template_add(
    *,
    actor,
    template: ReleaseTemplate,
    phase: PhaseTemplate,
    name: str,
    kind: str = MilestoneKind.OTHER,
    anchor: str = MilestoneAnchor.PHASE_END,
    offset_days: int = 0,
) -> MilestoneTemplate:
    """Add a milestone to a template, `offset_days` working days from the start or end of one of its phases."""
    require_perm(actor, "releases.add_milestonetemplate", template)
    if phase is None:
        raise ValidationFailed.field("phase", "Choose the phase the milestone is anchored to.")
    _check_template_phase(template.pk, phase)
    milestone = MilestoneTemplate(
        template=template, phase=phase, name=(name or "").strip(), kind=kind, anchor=anchor, offset_days=offset_days
    )
    save(milestone)
    audit_record(
        actor, "milestonetemplate.created", milestone, new=snapshot(milestone, ["template", *MILESTONE_TEMPLATE_FIELDS])
    )
    return milestone


@transaction.atomic
def milestone_template_update(
    *, actor, milestone_template: MilestoneTemplate, version: int | None = None, **changes
) -> MilestoneTemplate:
    """Change a template's milestone; its phase must be one of the same template."""
    _refuse_unknown(changes, set(MILESTONE_TEMPLATE_FIELDS))
    require_values(changes, phase="Choose the phase the milestone is anchored to.", offset_days="Give the offset.")
    return update_audited(
        actor,
        milestone_template,
        permission="releases.change_milestonetemplate",
        event_type="milestonetemplate.updated",
        data=fields_of(MILESTONE_TEMPLATE_FIELDS),
        version=version,
        changes=changes,
        before_save=lambda row: _check_template_phase(row.template_id, row.phase),
    )


@transaction.atomic
def milestone_template_delete(*, actor, milestone_template: MilestoneTemplate) -> None:
    require_perm(actor, "releases.delete_milestonetemplate", milestone_template)
    delete_audited(actor, milestone_template, "milestonetemplate.deleted")


def _check_gate_template(gate: GateTemplate) -> None:
    _check_template_phase(gate.template_id, gate.phase)
    gate.approver_roles = _clean_roles(gate.approver_roles)
    gate.checklist = _clean_checklist(gate.checklist)
    gate.checks = _clean_checks(gate.checks)


@transaction.atomic
def gate_template_add(
    *,
    actor,
    template: ReleaseTemplate,
    name: str,
    blocks: str,
    approver_roles,
    phase: PhaseTemplate | None = None,
    checklist=(),
    checks=(),
) -> GateTemplate:
    """Add a gate to a template: closing a phase (or the release), blocking a status, approved by roles."""
    require_perm(actor, "releases.add_gatetemplate", template)
    gate = GateTemplate(
        template=template,
        phase=phase,
        name=(name or "").strip(),
        blocks=blocks,
        approver_roles=_listed(approver_roles),
        checklist=_listed(checklist),
        checks=_listed(checks),
    )
    _check_gate_template(gate)
    save(gate)
    audit_record(actor, "gatetemplate.created", gate, new=snapshot(gate, ["template", *GATE_TEMPLATE_FIELDS]))
    return gate


@transaction.atomic
def gate_template_update(*, actor, gate_template: GateTemplate, version: int | None = None, **changes) -> GateTemplate:
    """Change a template's gate: its phase, the status it blocks, its approvers and criteria."""
    _refuse_unknown(changes, set(GATE_TEMPLATE_FIELDS))
    for name in ("checklist", "checks"):
        if name in changes and changes[name] is None:
            changes[name] = []
    return update_audited(
        actor,
        gate_template,
        permission="releases.change_gatetemplate",
        event_type="gatetemplate.updated",
        data=fields_of(GATE_TEMPLATE_FIELDS),
        version=version,
        changes=changes,
        before_save=_check_gate_template,
    )


@transaction.atomic
def gate_template_delete(*, actor, gate_template: GateTemplate) -> None:
    require_perm(actor, "releases.delete_gatetemplate", gate_template)
    delete_audited(actor, gate_template, "gatetemplate.deleted")


# Releases


def _check_links(release: Release) -> None:
    """Portfolio, initiative and project agree; a project fills in its initiative, an initiative its portfolio."""
    if release.project_id and release.initiative_id is None:
        release.initiative = release.project.initiative
    if release.initiative_id and release.portfolio_id is None:
        release.portfolio = release.initiative.portfolio
    if release.project_id and release.project.initiative_id != release.initiative_id:
        raise ValidationFailed.field(
            "project", f"The project {release.project.name} belongs to another initiative than {release.initiative}."
        )
    if release.initiative_id and release.initiative.portfolio_id != release.portfolio_id:
        raise ValidationFailed.field(
            "initiative",
            f"The initiative {release.initiative.name} belongs to another portfolio than {release.portfolio}.",
        )


def _outside(release: Release, *, exclude_phase: int | None = None) -> list[str]:
    """The phases and milestones of `release` that do not lie inside its planned window, named with their dates."""
    start, end = release.planned_start, release.planned_end
    named = []
    phases = release.phases.exclude(planned_start__gte=start, planned_end__lte=end).order_by("planned_start")
    if exclude_phase:
        phases = phases.exclude(pk=exclude_phase)
    for name, first, last in phases.values_list("name", "planned_start", "planned_end"):
        named.append(f"the phase {name} ({_span(first, last)})")
    milestones = release.milestones.exclude(planned_date__gte=start, planned_date__lte=end).order_by("planned_date")
    for name, day in milestones.values_list("name", "planned_date"):
        named.append(f"the milestone {name} ({_day(day)})")
    return named


def _check_release(release: Release) -> None:
    _check_dates(release.planned_start, release.planned_end)
    _check_dates(release.actual_start, release.actual_end, field="actual_end")
    _check_links(release)


def _check_train(train: Release, release: Release, *, release_field: str = "release") -> None:
    """The rules for `release` travelling in `train` (not for whether it already travels in another one)."""
    if train.kind != ReleaseKind.ENTERPRISE:
        raise ValidationFailed.field(
            "train", f"{train.name} is not an enterprise release; only enterprise releases are trains."
        )
    if release.kind != ReleaseKind.PROJECT:
        raise ValidationFailed.field(
            release_field,
            f"Only project releases join a train; {release.name} is {ReleaseKind(release.kind).label.lower()}.",
        )
    if train.status in CLOSED_STATUSES:
        raise Conflict(f"The train {train.name} is {workflow.status_label(train.status)}; it takes no more releases.")
    if release.status in CLOSED_STATUSES:
        raise Conflict(f"{release.name} is {workflow.status_label(release.status)}; it cannot join a train.")


def _inherit_train_dates(release: Release, train: Release) -> dict[str, list[str]]:
    """Pair the release's phases with the train's of the same kind (in order) and take their dates and links; their
    milestones and gates move with them; widen the release's window to cover it all. Answers the moved phases and
    markers with their new dates, for the audit."""
    train_phases: dict[str, list[Phase]] = defaultdict(list)
    for phase in train.phases.order_by("position", "planned_start"):
        train_phases[phase.kind].append(phase)
    used: dict[str, int] = defaultdict(int)
    moved = {}
    calendar = working_calendar(release.calendar)
    for phase in release.phases.order_by("position", "planned_start"):
        candidates = train_phases.get(phase.kind, [])
        index = used[phase.kind]
        if index >= len(candidates):
            continue
        used[phase.kind] += 1
        source = candidates[index]
        old_start, old_end = phase.planned_start, phase.planned_end
        phase.planned_start, phase.planned_end, phase.train_phase = source.planned_start, source.planned_end, source
        phase.version += 1
        phase.save(update_fields=["planned_start", "planned_end", "train_phase", "version", "updated_at"])
        moved[phase.name] = [source.planned_start.isoformat(), source.planned_end.isoformat()]
        for marker, _, new in _carry_markers(phase, old_start, old_end, calendar):
            moved[marker.name] = [value.isoformat() for value in new.values()]
    _widen_to_contents(release)
    return moved


def _carry_markers(phase: Phase, old_start, old_end, calendar: WorkingCalendar) -> list[tuple[object, dict, dict]]:
    """Keep a moved phase's milestones not yet reached and its open gates where they sat relative to it, in working
    days from the phase's start (milestones anchored there by their template) or end (the rest). Answers each moved
    row with its old and new dates."""
    if (old_start, old_end) == (phase.planned_start, phase.planned_end):
        return []
    moved = []
    for milestone in phase.milestones.filter(actual_date__isnull=True).select_related("template"):
        at_start = milestone.template is not None and milestone.template.anchor == MilestoneAnchor.PHASE_START
        old_anchor, new_anchor = (old_start, phase.planned_start) if at_start else (old_end, phase.planned_end)
        day = calendar.add_working_days(new_anchor, calendar.offset(old_anchor, milestone.planned_date))
        if day != milestone.planned_date:
            moved.append((milestone, {"planned_date": milestone.planned_date}, {"planned_date": day}))
            milestone.planned_date, milestone.version = day, milestone.version + 1
            milestone.save(update_fields=["planned_date", "version", "updated_at"])
    for gate in phase.gates.filter(status=GateStatus.OPEN):
        day = calendar.add_working_days(phase.planned_end, calendar.offset(old_end, gate.due_date))
        if day != gate.due_date:
            moved.append((gate, {"due_date": gate.due_date}, {"due_date": day}))
            gate.due_date, gate.version = day, gate.version + 1
            gate.save(update_fields=["due_date", "version", "updated_at"])
    return moved


def _widen_to_contents(release: Release) -> bool:
    """Stretch the release's planned window over all its phases and milestones; whether it changed."""
    days = [day for bounds in release.phases.values_list("planned_start", "planned_end") for day in bounds]
    days += list(release.milestones.values_list("planned_date", flat=True))
    if not days:
        return False
    start, end = min([release.planned_start, *days]), max([release.planned_end, *days])
    if (start, end) == (release.planned_start, release.planned_end):
        return False
    release.planned_start, release.planned_end = start, end
    return True


def _materialise_template(release: Release, layout) -> None:
    """Create the phases, milestones, gates and criteria of a laid-out template for `release`."""
    phases = {}
    for position, planned in enumerate(layout.phases, start=1):
        template = planned.template
        phases[template.pk] = Phase.objects.create(
            release=release,
            template=template,
            position=position,
            name=template.name,
            kind=template.kind,
            planned_start=planned.start,
            planned_end=planned.end,
            environment_type=template.environment_type,
            test_effort_days=template.test_effort_days,
            is_required=template.is_required,
        )
    Milestone.objects.bulk_create(
        [
            Milestone(
                release=release,
                phase=phases.get(planned.template.phase_id),
                template=planned.template,
                name=planned.template.name,
                kind=planned.template.kind,
                planned_date=planned.date,
            )
            for planned in layout.milestones
        ]
    )
    for planned in layout.gates:
        template = planned.template
        gate = Gate.objects.create(
            release=release,
            phase=phases.get(template.phase_id) if template.phase_id else None,
            template=template,
            name=template.name,
            blocks=template.blocks,
            due_date=planned.due_date,
            approver_roles=list(template.approver_roles),
        )
        _create_criteria(gate, template.checklist, template.checks)


def _create_criteria(gate: Gate, checklist, checks, *, start: int = 0, ticked: dict | None = None) -> None:
    ticked = ticked or {}
    rows = [
        GateCriterion(
            gate=gate,
            position=start + index,
            kind=CriterionKind.MANUAL,
            text=text,
            is_met=text in ticked,
            met_by_id=ticked.get(text, (None, None))[0],
            met_at=ticked.get(text, (None, None))[1],
        )
        for index, text in enumerate(checklist)
    ]
    rows += [
        GateCriterion(
            gate=gate,
            position=start + len(rows) + index,
            kind=CriterionKind.AUTOMATIC,
            text=check_label(key)[:MAX_CRITERION_TEXT],
            check_key=key,
        )
        for index, key in enumerate(checks)
    ]
    GateCriterion.objects.bulk_create(rows)


def _laid_out(template: ReleaseTemplate, planned_start: datetime.date, calendar):
    """The template laid out from `planned_start`; running off the end of the calendar is a 422 on the start."""
    working = working_calendar(calendar)
    try:
        return template_layout(template, planned_start, working)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed.field(
            "planned_start", f"The template cannot be laid out from {_day(planned_start)}: {exc}"
        ) from None


@transaction.atomic
def release_create(
    *,
    actor,
    name: str,
    kind: str,
    planned_start: datetime.date,
    planned_end: datetime.date | None = None,
    template: ReleaseTemplate | None = None,
    owner=None,
    portfolio=None,
    initiative=None,
    project=None,
    calendar=None,
    description: str = "",
    train: Release | None = None,
    inherit_train_dates: bool = False,
) -> Release:
    """Create a draft release; from a template its phases, milestones and gates are laid out on its working calendar
    from `planned_start`, and its end defaults to the end of the last phase."""
    require_perm(actor, "releases.add_release")
    if planned_start is None:
        raise ValidationFailed.field("planned_start", "Give the release's start date.")
    require_plausible_dates(planned_start=planned_start, planned_end=planned_end)
    if template is not None and not template.is_active:
        raise ValidationFailed.field("template", f"The template {template.name} is inactive.")
    if train is not None:
        train = _locked(train)  # the train before its child: its status is checked on the row that stays so
    release = Release(
        name=(name or "").strip(),
        kind=kind,
        template=template,
        owner=owner,
        portfolio=portfolio,
        initiative=initiative,
        project=project,
        calendar=calendar,
        description=description or "",
        planned_start=planned_start,
        planned_end=planned_end,
    )
    layout = None
    if template is not None:
        layout = _laid_out(template, planned_start, calendar)
        before = [milestone for milestone in layout.milestones if milestone.date < planned_start]
        if before:
            first = before[0]
            raise ValidationFailed.field(
                "planned_start",
                f"The milestone {first.template.name} of the template would fall on {_day(first.date)}, before the "
                f"release's start; change the template's offset or start the release earlier.",
            )
        needed_end = max([layout.end, *(milestone.date for milestone in layout.milestones)])
        if not is_plausible_date(needed_end):
            raise ValidationFailed.field(
                "planned_start",
                f"From this start the template would run until {_day(needed_end)}, past the year 2999; "
                "start the release earlier.",
            )
        if planned_end is None:
            release.planned_end = needed_end
        elif planned_end >= planned_start and planned_end < needed_end:
            late = next((phase for phase in layout.phases if phase.end > planned_end), None)
            what = (
                f"the phase {late.template.name} ({_span(late.start, late.end)})"
                if late
                else "a milestone of the template"
            )
            raise ValidationFailed.field(
                "planned_end",
                f"The end {_day(planned_end)} is before the end of {what}; give {_day(needed_end)} or later, or "
                "leave the end empty to take it from the template.",
            )
    elif planned_end is None:
        raise ValidationFailed.field("planned_end", "Give the release's end date (or a template to lay it out).")
    _check_release(release)
    if train is not None:
        _check_train(train, release, release_field="kind")
        release.train = train
        release.inherits_train_dates = bool(inherit_train_dates)
    save(release)
    if layout is not None:
        _materialise_template(release, layout)
    if train is not None and inherit_train_dates:
        _inherit_train_dates(release, train)
        save(release)
    audit_record(actor, "release.created", release, new=snapshot(release, RELEASE_FIELDS))
    return release


LINK_FIELDS = {"portfolio", "initiative", "project"}
RELEASE_HISTORY_EDITABLE = {"name", "description", "actual_start", "actual_end"}


def _fill_links(changes: dict) -> None:
    """A new project brings its initiative, a new initiative its portfolio, unless the caller names them too."""
    project = changes.get("project")
    if project is not None and "initiative" not in changes:
        changes["initiative"] = project.initiative
    initiative = changes.get("initiative")
    if initiative is not None and "portfolio" not in changes:
        changes["portfolio"] = initiative.portfolio


@transaction.atomic
def release_update(*, actor, release: Release, version: int | None = None, **changes) -> Release:
    """Change a release's details and planned window; refused if it would leave a phase or milestone outside."""
    require_perm(actor, "releases.change_release", release)
    _refuse_unknown(
        changes,
        RELEASE_EDITABLE,
        {
            "status": "The status changes through the workflow (plan, start, ship, cancel), not by editing.",
            "train": "Add the release to a train, or remove it, with the train actions.",
            "inherits_train_dates": "Choose whether to inherit the train's dates when adding it to the train.",
            "baseline_start": "The baseline is set when the release is planned.",
            "baseline_end": "The baseline is set when the release is planned.",
        },
    )
    blank_text_clears(changes, "description")
    require_values(
        changes,
        name="Give the release a name.",
        kind="Choose the kind of release.",
        planned_start="Give the release's start date.",
        planned_end="Give the release's end date.",
    )
    _plausible(changes, "planned_start", "planned_end", "actual_start", "actual_end")
    _require_history_edit(release, release, changes, RELEASE_HISTORY_EDITABLE)
    links_change = bool(LINK_FIELDS & changes.keys())
    _fill_links(changes)

    def check(row: Release) -> None:
        _check_dates(row.planned_start, row.planned_end)
        _check_dates(row.actual_start, row.actual_end, field="actual_end")
        if links_change:  # links that moved on since (a project to another initiative) do not block other edits
            _check_links(row)
        if row.kind != ReleaseKind.PROJECT and row.train_id:
            raise ValidationFailed.field(
                "kind", f"{row.name} travels in the train {row.train.name}; only project releases travel in a train."
            )
        if row.kind != ReleaseKind.ENTERPRISE and row.children.exists():
            raise ValidationFailed.field(
                "kind", f"{row.name} still has child releases; remove them before it stops being a train."
            )
        outside = _outside(row)
        if outside:
            field = "planned_start" if "planned_start" in changes else "planned_end"
            raise ValidationFailed.field(
                field,
                f"The release ({_span(row.planned_start, row.planned_end)}) would leave "
                f"{_joined(outside)} outside it; move them first.",
            )

    window_before = (release.planned_start, release.planned_end)
    update_audited(
        actor,
        release,
        permission="releases.change_release",
        event_type="release.updated",
        data=fields_of(RELEASE_FIELDS),
        version=version,
        changes=changes,
        before_save=check,
    )
    if (release.planned_start, release.planned_end) != window_before:
        _record_dates_edited(actor, release, window_before)
    return release


@transaction.atomic
def release_delete(*, actor, release: Release) -> None:
    """Remove a draft or cancelled release (with its phases, milestones and gates); a train only without children."""
    require_perm(actor, "releases.delete_release", release)
    current = _locked(release)
    if current.status not in (ReleaseStatus.DRAFT, ReleaseStatus.CANCELLED):
        raise Conflict(
            f"{current.name} is {workflow.status_label(current.status)}; only draft or cancelled releases can be "
            "deleted. Cancel it instead."
        )
    children = list(current.children.order_by("name").values_list("name", flat=True))
    if children:
        raise Conflict(
            f"{current.name} still has child releases ({_joined(children)}); remove them from the train first."
        )
    delete_audited(actor, current, "release.deleted")


def _locked(release: Release) -> Release:
    """The release's row, locked for the rest of the transaction, so two moves of it queue instead of racing."""
    locked = Release.objects.select_for_update().filter(pk=release.pk).first()
    if locked is None:
        raise NotFound("Release not found.")
    return locked


@transaction.atomic
def release_add_to_train(*, actor, train: Release, release: Release, inherit_dates: bool) -> Release:
    """Put a project release in an enterprise release's train, keeping its phase dates or inheriting the train's."""
    require_perm(actor, "releases.change_release", release)
    train = _locked(train)  # always the train before its child, so that two requests lock in the same order
    current = _locked(release)
    if current.train_id and current.train_id != train.pk:
        other = Release.objects.filter(pk=current.train_id).values_list("name", flat=True).first()
        raise Conflict(
            f"{current.name} is already in train {other}; remove it from {other} first.",
            errors=[("train", f"{current.name} is already in train {other}.")],
        )
    _check_train(train, current)
    before = snapshot(current, RELEASE_FIELDS)
    bump_version(current, current.version)
    if current.train_id == train.pk and current.inherits_train_dates and not inherit_dates:
        current.phases.update(train_phase=None)
    current.train, current.inherits_train_dates = train, bool(inherit_dates)
    moved = _inherit_train_dates(current, train) if inherit_dates else {}
    save(current)
    old, new = changed_fields(before, snapshot(current, RELEASE_FIELDS))
    audit_record(actor, "release.joined_train", current, old=old, new={**new, "phases": moved})
    _refresh(release, current)
    return release


def _refresh(stale: Release, fresh: Release) -> None:
    """Bring the caller's instance up to date with the row the service changed."""
    for field in fresh._meta.concrete_fields:
        setattr(stale, field.attname, getattr(fresh, field.attname))
    for name in ("train",):
        stale._state.fields_cache.pop(name, None)


@transaction.atomic
def release_remove_from_train(*, actor, release: Release) -> Release:
    """Take a release out of its train; its phases keep their dates but stop following the train's."""
    require_perm(actor, "releases.change_release", release)
    current = _locked(release)
    if current.train_id is None:
        raise Conflict(f"{current.name} is not in a train.")
    before = snapshot(current, RELEASE_FIELDS)
    bump_version(current, current.version)
    current.phases.update(train_phase=None)
    current.train, current.inherits_train_dates = None, False
    save(current)
    old, new = changed_fields(before, snapshot(current, RELEASE_FIELDS))
    audit_record(actor, "release.left_train", current, old=old, new=new)
    _refresh(release, current)
    return release


@transaction.atomic
def release_transition(*, actor, release: Release, to_status: str, reason: str = "") -> Release:
    """Move a release along its workflow, if the actor's roles allow it and no gate or open child blocks it.

    Planning records the baseline (release, phases, milestones) where none is set; starting records the actual
    start, shipping the actual end.
    """
    if to_status not in ReleaseStatus.values:
        raise ValidationFailed.field(
            "to_status", f"{to_status!r} is not a release status; the statuses are {', '.join(ReleaseStatus.values)}."
        )
    current = _locked(release)
    if workflow.transition_permission(current.status, to_status) is None:
        raise Conflict(
            f"{current.name} is {workflow.status_label(current.status)}; it cannot move to "
            f"{workflow.status_label(to_status)}.",
            errors=[("to_status", f"Not a move from {workflow.status_label(current.status)}.")],
        )
    if actor is not None:
        if not actor.is_authenticated:
            require_perm(actor, "releases.view_release")
        if not workflow.may_transition(actor, current, to_status):
            raise PermissionDenied(f"Your roles may not {workflow.VERBS[to_status]} a release.")
    blockers = workflow.transition_blockers(current, to_status)
    if blockers:
        raise Conflict(
            f"{current.name} cannot move to {workflow.status_label(to_status)} yet: " + " ".join(blockers),
            errors=[(None, blocker) for blocker in blockers],
        )
    before = snapshot(current, RELEASE_FIELDS)
    bump_version(current, current.version)
    today = timezone.localdate()
    current.status = to_status
    if to_status == ReleaseStatus.PLANNED:
        _set_baselines(current)
    elif to_status == ReleaseStatus.IN_PROGRESS:
        current.actual_start = current.actual_start or today
    elif to_status == ReleaseStatus.RELEASED:
        current.actual_start = current.actual_start or today
        current.actual_end = current.actual_end or max(today, current.actual_start)
    save(current)
    old, new = changed_fields(before, snapshot(current, RELEASE_FIELDS))
    audit_record(actor, f"release.{workflow.EVENTS[to_status]}", current, old=old, new=new, reason=reason)
    _refresh(release, current)
    return release


def _set_baselines(release: Release) -> None:
    if release.baseline_start is None and release.baseline_end is None:
        release.baseline_start, release.baseline_end = release.planned_start, release.planned_end
    for phase in release.phases.filter(baseline_start__isnull=True, baseline_end__isnull=True):
        Phase.objects.filter(pk=phase.pk).update(baseline_start=phase.planned_start, baseline_end=phase.planned_end)
    for milestone in release.milestones.filter(baseline_date__isnull=True).only("pk", "planned_date"):
        Milestone.objects.filter(pk=milestone.pk).update(baseline_date=milestone.planned_date)


# Scope


def _scope_row(row: ReleaseSystem) -> dict:
    return {"system": row.system_id, "impact": row.impact, "target_version": row.target_version}


@transaction.atomic
def release_scope_set(
    *, actor, release: Release, system: System, impact: str = SystemImpact.IMPACTED, target_version: str = ""
) -> ReleaseSystem:
    """Put a system in a release's scope, or change how it is in it (impacted or regression, target version)."""
    require_perm(actor, "releases.change_release", release)
    if system is None:
        raise ValidationFailed.field("system", "Choose a system.")
    _require_plan_open(_locked(release))
    row = ReleaseSystem.objects.select_for_update().filter(release=release, system=system).first()
    before = _scope_row(row) if row else None
    row = row or ReleaseSystem(release=release, system=system)
    row.impact, row.target_version = impact, (target_version or "").strip()
    save(row)
    after = _scope_row(row)
    if before != after:
        old, new = changed_fields(before, after) if before else (None, after)
        audit_record(
            actor,
            "release.scope_changed",
            release,
            old=old and {"system": system.pk, **old},
            new={"system": system.pk, **new},
        )
    return row


@transaction.atomic
def release_scope_remove(*, actor, release: Release, system: System) -> None:
    """Take a system out of a release's scope."""
    require_perm(actor, "releases.change_release", release)
    _require_plan_open(_locked(release))
    row = ReleaseSystem.objects.filter(release=release, system=system).first()
    if row is None:
        raise NotFound(f"{system} is not in the scope of {release.name}.")
    before = _scope_row(row)
    row.delete()
    audit_record(actor, "release.scope_changed", release, old=before, new=None)


@transaction.atomic
def release_scope_add_suggested(*, actor, release: Release) -> list[ReleaseSystem]:
    """Add, as regression-dependent, every system downstream of the release's impacted systems (those depending on
    them, directly or through others) that is not in scope yet."""
    require_perm(actor, "releases.change_release", release)
    _require_plan_open(_locked(release))  # two clicks at once queue here; the second finds the first's rows in scope
    scope = dict(ReleaseSystem.objects.filter(release=release).values_list("system_id", "impact"))
    impacted = sorted(system for system, impact in scope.items() if impact == SystemImpact.IMPACTED)
    if not impacted:
        return []
    graph = adjacency(SystemDependency.objects.values_list("source_id", "target_id"), reverse=True)
    reached: list[int] = []
    for system_id in impacted:
        for item in closure(graph, system_id):
            if item.system not in scope and item.system not in reached:
                reached.append(item.system)
    if not reached:
        return []
    try:
        with transaction.atomic():
            rows = ReleaseSystem.objects.bulk_create(
                [
                    ReleaseSystem(release=release, system_id=system_id, impact=SystemImpact.REGRESSION)
                    for system_id in reached
                ]
            )
    except IntegrityError:  # added at the same moment by another request: nothing left to add
        return []
    audit_record(actor, "release.scope_changed", release, new={"added": reached, "impact": SystemImpact.REGRESSION})
    return rows


# Phases


def _check_phase(phase: Phase, release: Release) -> None:
    _check_dates(phase.planned_start, phase.planned_end)
    _check_dates(phase.actual_start, phase.actual_end, field="actual_end")
    if (
        phase.planned_start
        and phase.planned_end
        and (phase.planned_start < release.planned_start or phase.planned_end > release.planned_end)
    ):
        field = "planned_start" if phase.planned_start < release.planned_start else "planned_end"
        raise ValidationFailed.field(
            field,
            f"The phase {phase.name} ({_span(phase.planned_start, phase.planned_end)}) lies outside the release "
            f"({_span(release.planned_start, release.planned_end)}).",
        )


@transaction.atomic
def phase_create(
    *,
    actor,
    release: Release,
    name: str,
    kind: str,
    planned_start: datetime.date,
    planned_end: datetime.date,
    **optional,
) -> Phase:
    """Add a phase to a release, inside its planned window."""
    require_perm(actor, "releases.add_phase", release)
    _refuse_unknown(optional, PHASE_EDITABLE - {"name", "kind", "planned_start", "planned_end"})
    require_plausible_dates(planned_start=planned_start, planned_end=planned_end)
    _plausible(optional, "actual_start", "actual_end")
    _require_plan_open(release)
    blank_text_clears(optional, "environment_type")
    if optional.get("position") is None:
        optional["position"] = _next_position(release.phases.all())
    phase = Phase(
        release=release,
        name=(name or "").strip(),
        kind=kind,
        planned_start=planned_start,
        planned_end=planned_end,
        **optional,
    )
    _check_phase(phase, release)
    save(phase)
    audit_record(actor, "phase.created", phase, new=snapshot(phase, PHASE_FIELDS))
    return phase


PHASE_HISTORY_EDITABLE = {"status", "actual_start", "actual_end", "percent_complete"}


@transaction.atomic
def phase_update(*, actor, phase: Phase, version: int | None = None, **changes) -> Phase:
    """Change a phase (dates, status, % complete…) inside its release's window.

    Moving a train's phase moves the phases of the child releases that inherit it (widening their windows if need
    be); moving an inheriting phase by hand stops it following the train.
    """
    require_perm(actor, "releases.change_phase", phase)
    _refuse_unknown(changes, PHASE_EDITABLE)
    blank_text_clears(changes, "environment_type")
    require_values(
        changes,
        name="Give the phase a name.",
        kind="Choose the kind of phase.",
        status="Choose the phase's status.",
        planned_start="Give the phase's start date.",
        planned_end="Give the phase's end date.",
        percent_complete="Give the percent complete (0 to 100).",
        test_effort_days="Give the test effort (0 when there is none).",
        position="Give the phase a position.",
    )
    _plausible(changes, "planned_start", "planned_end", "actual_start", "actual_end")
    release = phase.release
    _require_history_edit(release, phase, changes, PHASE_HISTORY_EDITABLE)
    dates_before = (phase.planned_start, phase.planned_end)

    def check(row: Phase) -> None:
        _check_phase(row, release)
        if row.train_phase_id and (row.planned_start, row.planned_end) != dates_before:
            row.train_phase = None

    update_audited(
        actor,
        phase,
        permission="releases.change_phase",
        event_type="phase.updated",
        data=fields_of(PHASE_FIELDS),
        version=version,
        changes=changes,
        before_save=check,
    )
    if (phase.planned_start, phase.planned_end) != dates_before:
        _follow_train_phase(actor, phase)
    return phase


def _follow_train_phase(actor, train_phase: Phase) -> None:
    """Move the inheriting phases of child releases to the train phase's dates, audited per child."""
    followers = list(
        Phase.objects.filter(train_phase=train_phase)
        .exclude(release__status__in=CLOSED_STATUSES)  # a shipped or cancelled child keeps the dates it had
        .select_related("release")
        .order_by("release_id", "pk")
    )
    widened: dict[int, Release] = {}
    for follower in followers:
        before = snapshot(follower, PHASE_FIELDS)
        bump_version(follower, follower.version)
        follower.planned_start, follower.planned_end = train_phase.planned_start, train_phase.planned_end
        save(follower)
        old, new = changed_fields(before, snapshot(follower, PHASE_FIELDS))
        reason = f"Follows the train's phase {train_phase}."
        audit_record(actor, "phase.updated", follower, old=old, new=new, reason=reason)
        calendar = working_calendar(follower.release.calendar)
        for marker, old, new in _carry_markers(follower, before["planned_start"], before["planned_end"], calendar):
            event = "milestone.updated" if isinstance(marker, Milestone) else "gate.updated"
            audit_record(actor, event, marker, old=old, new=new, reason=f"Moves with its phase {follower}.")
        widened.setdefault(follower.release_id, follower.release)
    for child in widened.values():
        child.refresh_from_db()
        before = snapshot(child, RELEASE_FIELDS)
        if _widen_to_contents(child):
            bump_version(child, child.version)
            save(child)
            old, new = changed_fields(before, snapshot(child, RELEASE_FIELDS))
            audit_record(
                actor,
                "release.updated",
                child,
                old=old,
                new=new,
                reason=f"Widened to follow the train's phase {train_phase}.",
            )


@transaction.atomic
def phase_delete(*, actor, phase: Phase) -> None:
    """Remove a phase; its milestones and gates stay on the release, in no phase."""
    require_perm(actor, "releases.delete_phase", phase)
    _require_plan_open(phase.release)
    delete_audited(actor, phase, "phase.deleted")


# Milestones


def _resolve_phase(release: Release, phase) -> Phase | None:
    """A phase of `release`, given as a row or an id; anything else is a 422 on `phase`."""
    if phase is None:
        return None
    phase_id = phase.pk if isinstance(phase, Phase) else phase
    found = Phase.objects.filter(pk=phase_id, release=release).first() if isinstance(phase_id, int) else None
    if found is None:
        raise ValidationFailed.field("phase", "The phase does not exist in this release.")
    return found


def _check_milestone(milestone: Milestone, release: Release) -> None:
    day = milestone.planned_date
    if day and not (release.planned_start <= day <= release.planned_end):
        raise ValidationFailed.field(
            "planned_date",
            f"The milestone {milestone.name} ({_day(day)}) lies outside the release "
            f"({_span(release.planned_start, release.planned_end)}).",
        )


@transaction.atomic
def milestone_create(
    *,
    actor,
    release: Release,
    name: str,
    kind: str = MilestoneKind.OTHER,
    planned_date: datetime.date,
    phase: Phase | int | None = None,
    actual_date: datetime.date | None = None,
) -> Milestone:
    """Add a milestone to a release, inside its window, optionally in one of its phases."""
    require_perm(actor, "releases.add_milestone", release)
    require_plausible_dates(planned_date=planned_date, actual_date=actual_date)
    _require_plan_open(release)
    milestone = Milestone(
        release=release,
        phase=_resolve_phase(release, phase),
        name=(name or "").strip(),
        kind=kind,
        planned_date=planned_date,
        actual_date=actual_date,
    )
    _check_milestone(milestone, release)
    save(milestone)
    audit_record(actor, "milestone.created", milestone, new=snapshot(milestone, MILESTONE_FIELDS))
    return milestone


@transaction.atomic
def milestone_update(*, actor, milestone: Milestone, version: int | None = None, **changes) -> Milestone:
    """Move, rename or re-phase a milestone, or record when it was reached."""
    require_perm(actor, "releases.change_milestone", milestone)
    _refuse_unknown(changes, MILESTONE_EDITABLE)
    require_values(changes, name="Give the milestone a name.", kind="Choose the kind.", planned_date="Give the date.")
    _plausible(changes, "planned_date", "actual_date")
    release = milestone.release
    if "phase" in changes:
        changes["phase"] = _resolve_phase(release, changes["phase"])
    _require_history_edit(release, milestone, changes, {"actual_date"})
    return update_audited(
        actor,
        milestone,
        permission="releases.change_milestone",
        event_type="milestone.updated",
        data=fields_of(MILESTONE_FIELDS),
        version=version,
        changes=changes,
        before_save=lambda row: _check_milestone(row, release),
    )


@transaction.atomic
def milestone_delete(*, actor, milestone: Milestone) -> None:
    require_perm(actor, "releases.delete_milestone", milestone)
    _require_plan_open(milestone.release)
    delete_audited(actor, milestone, "milestone.deleted")


# Gates


def _gate_data(gate: Gate) -> dict:
    return snapshot(gate, GATE_FIELDS)


def _criteria_data(gate: Gate) -> dict:
    rows = list(gate.criteria.order_by("position", "id").values_list("kind", "text", "check_key"))
    return {
        "checklist": [text for kind, text, _ in rows if kind == CriterionKind.MANUAL],
        "checks": [key for kind, _, key in rows if kind == CriterionKind.AUTOMATIC],
    }


def _require_open(gate: Gate, doing: str) -> None:
    if gate.status != GateStatus.OPEN:
        raise Conflict(f"The gate {gate.name} is {GateStatus(gate.status).label.lower()}; {doing}.")


@transaction.atomic
def gate_create(
    *,
    actor,
    release: Release,
    name: str,
    blocks: str,
    due_date: datetime.date,
    approver_roles,
    phase: Phase | int | None = None,
    checklist=(),
    checks=(),
) -> Gate:
    """Add a gate to a release: it blocks a status until its criteria hold and its approver roles approve."""
    require_perm(actor, "releases.add_gate", release)
    require_plausible_dates(due_date=due_date)
    _require_plan_open(release)
    gate = Gate(
        release=release,
        phase=_resolve_phase(release, phase),
        name=(name or "").strip(),
        blocks=blocks,
        due_date=due_date,
        approver_roles=_clean_roles(_listed(approver_roles)),
    )
    checklist, checks = _clean_checklist(_listed(checklist)), _clean_checks(_listed(checks))
    save(gate)
    _create_criteria(gate, checklist, checks)
    audit_record(actor, "gate.created", gate, new={**_gate_data(gate), "checklist": checklist, "checks": checks})
    return gate


@transaction.atomic
def gate_update(*, actor, gate: Gate, version: int | None = None, **changes) -> Gate:
    """Change an open gate; a new checklist keeps the ticks of items that stay, new checks replace the old.

    New approver roles or criteria ask a different question than the one already answered: the decisions made so
    far are cleared (they stay in the audit event), so that the gate is decided again.
    """
    require_perm(actor, "releases.change_gate", gate)
    _refuse_unknown(
        changes, GATE_EDITABLE, {"status": "A gate's status changes by decisions, overrides and reopening."}
    )
    require_values(
        changes, name="Give the gate a name.", blocks="Choose the status it blocks.", due_date="Give the date."
    )
    _plausible(changes, "due_date")
    current = _locked_gate(gate)
    _require_plan_open(current.release)
    _require_open(current, "only open gates can be changed")
    if "phase" in changes:
        changes["phase"] = _resolve_phase(current.release, changes["phase"])
    if "approver_roles" in changes:
        changes["approver_roles"] = _clean_roles(changes["approver_roles"])
    checklist = _clean_checklist(changes.pop("checklist") or []) if "checklist" in changes else None
    checks = _clean_checks(changes.pop("checks") or []) if "checks" in changes else None
    criteria_before = _criteria_data(current)
    kept_checklist = criteria_before["checklist"] if checklist is None else checklist
    kept_checks = criteria_before["checks"] if checks is None else checks
    question_changed = (
        set(changes.get("approver_roles", current.approver_roles)) != set(current.approver_roles or ())
        or set(kept_checklist) != set(criteria_before["checklist"])
        or set(kept_checks) != set(criteria_before["checks"])
    )

    before = {**_gate_data(current), **criteria_before}
    bump_version(current, version)
    assign(current, {key: value.strip() if isinstance(value, str) else value for key, value in changes.items()})
    save(current)
    if checklist is not None or checks is not None:
        ticked = {
            text: (met_by, met_at)
            for text, met_by, met_at in current.criteria.filter(kind=CriterionKind.MANUAL, is_met=True).values_list(
                "text", "met_by_id", "met_at"
            )
        }
        current.criteria.all().delete()
        _create_criteria(current, kept_checklist, kept_checks, ticked=ticked)
    decisions = _decisions(current) if question_changed else []
    if decisions:
        current.approvals.all().delete()
    old, new = changed_fields(before, {**_gate_data(current), **_criteria_data(current)})
    if decisions:
        old, new = {**old, "decisions": decisions}, {**new, "decisions": []}
    audit_record(actor, "gate.updated", current, old=old, new=new)
    _refresh_gate(gate, current)
    return gate


def _decisions(gate: Gate) -> list[dict]:
    """The gate's decisions as the audit keeps them when they are cleared."""
    return [
        {"role": role, "approver": approver, "decision": decision}
        for role, approver, decision in gate.approvals.order_by("pk").values_list("role", "approver_id", "decision")
    ]


@transaction.atomic
def gate_delete(*, actor, gate: Gate) -> None:
    """Remove an open gate (a decided one stays on the record)."""
    require_perm(actor, "releases.delete_gate", gate)
    current = _locked_gate(gate)
    _require_plan_open(current.release)
    _require_open(current, "only open gates can be deleted")
    delete_audited(actor, current, "gate.deleted")


def _locked_gate(gate: Gate) -> Gate:
    locked = Gate.objects.select_for_update().select_related("release").filter(pk=gate.pk).first()
    if locked is None:
        raise NotFound("Gate not found.")
    return locked


def _refresh_gate(stale: Gate, fresh: Gate) -> None:
    for field in fresh._meta.concrete_fields:
        setattr(stale, field.attname, getattr(fresh, field.attname))


@transaction.atomic
def gate_criterion_set(*, actor, criterion: GateCriterion, is_met: bool) -> GateCriterion:
    """Tick (or untick) a checklist item of an open gate; automatic checks are evaluated, never ticked."""
    require_perm(actor, "releases.change_gatecriterion", criterion)
    gate = _locked_gate(criterion.gate)
    if criterion.kind != CriterionKind.MANUAL:
        raise ValidationFailed.field("is_met", f"{criterion.text} is an automatic check; it is evaluated, not ticked.")
    _require_plan_open(gate.release)
    _require_open(gate, "its checklist can no longer change")
    row = GateCriterion.objects.select_for_update().get(pk=criterion.pk)
    is_met = bool(is_met)
    if row.is_met != is_met:
        row.is_met = is_met
        row.met_by = actor if (is_met and actor is not None and actor.is_authenticated) else None
        row.met_at = _now() if is_met else None
        row.save(update_fields=["is_met", "met_by", "met_at"])
        audit_record(
            actor,
            "gatecriterion.ticked" if is_met else "gatecriterion.unticked",
            row,
            old={"is_met": not is_met},
            new={"gate": gate.pk, "text": row.text, "is_met": is_met},
        )
    for field in ("is_met", "met_by_id", "met_at"):
        setattr(criterion, field, getattr(row, field))
    criterion._state.fields_cache.pop("met_by", None)
    return criterion


@transaction.atomic
def gate_decide(*, actor, gate: Gate, role: str, decision: str, comment: str = "") -> GateApproval:
    """Approve or reject a gate as one of its approver roles, which the actor must hold.

    Approving needs every criterion to hold. One rejection rejects the gate; when every approver role has approved,
    the gate is passed.
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Gate decisions are made by a signed-in person holding an approver role.")
    if not roles_may_write(actor.roles):
        raise PermissionDenied("Your roles only read; gate decisions are made by a person holding an approver role.")
    if decision not in ApprovalDecision.values:
        raise ValidationFailed.field("decision", "The decision is approved or rejected.")
    current = _locked_gate(gate)
    approvers = _joined([role_label(approver) for approver in current.approver_roles or ()], "or")
    if role not in (current.approver_roles or ()):
        raise PermissionDenied(f"Only {approvers} may approve this gate.")
    if not actor.is_active or role not in actor.roles:
        raise PermissionDenied(f"You do not hold the role {role_label(role)}. Only {approvers} may approve this gate.")
    if current.status != GateStatus.OPEN:
        raise Conflict(f"The gate {current.name} is already {GateStatus(current.status).label.lower()}.")
    if current.release.status in CLOSED_STATUSES:
        raise Conflict(
            f"{current.release.name} is {workflow.status_label(current.release.status)}; its gates take no decisions."
        )
    earlier = GateApproval.objects.filter(gate=current, role=role).first()
    if earlier is not None:
        raise Conflict(f"{role_label(role)} has already {earlier.decision} this gate.")
    earlier = GateApproval.objects.filter(gate=current, approver=actor).first()
    if earlier is not None:
        raise Conflict(
            f"{actor.display_name} has already {earlier.decision} this gate (as {role_label(earlier.role)})."
        )
    # The checks above only word the refusal; who may decide is the one rule the gate page offers from.
    if role not in gate_decidable_roles(actor, current):
        raise PermissionDenied(f"Only {approvers} may approve this gate.")
    if decision == ApprovalDecision.APPROVED:
        evaluation = evaluate_gate(current)
        if evaluation.unmet:
            raise Conflict(
                f"The gate {current.name} cannot be approved yet: {'; '.join(evaluation.unmet).rstrip('.')}.",
                errors=[(None, unmet) for unmet in evaluation.unmet],
            )
    approval = GateApproval(
        gate=current, role=role, approver=actor, decision=decision, comment=(comment or "").strip(), decided_at=_now()
    )
    save(approval)
    audit_record(
        actor,
        f"gate.{decision}",
        current,
        new={"role": role, "decision": decision, "comment": approval.comment},
    )
    status = None
    if decision == ApprovalDecision.REJECTED:
        status = GateStatus.REJECTED
    else:
        approved = set(current.approvals.filter(decision=ApprovalDecision.APPROVED).values_list("role", flat=True))
        if approved.issuperset(current.approver_roles or ()):
            status = GateStatus.PASSED
    if status:
        record_check_results(current, at=approval.decided_at)
        bump_version(current, current.version)
        current.status, current.decided_at = status, approval.decided_at
        current.save(update_fields=["status", "decided_at", "version", "updated_at"])
        if status == GateStatus.PASSED:
            audit_record(actor, "gate.passed", current, old={"status": GateStatus.OPEN}, new={"status": status})
    _refresh_gate(gate, current)
    return approval


@transaction.atomic
def gate_override(*, actor, gate: Gate, reason: str) -> Gate:
    """Let a release past a gate that is not passed, with a reason that stays on the gate for all to see."""
    require_perm(actor, "releases.override_gate", gate)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Say why the gate is overridden.")
    current = _locked_gate(gate)
    _require_plan_open(current.release)
    if current.status in GATE_MET_STATUSES:
        raise Conflict(f"The gate {current.name} is already {GateStatus(current.status).label.lower()}.")
    before = _gate_data(current)
    decided_at = _now()
    record_check_results(current, at=decided_at)
    bump_version(current, current.version)
    current.status, current.override_reason, current.decided_at = GateStatus.OVERRIDDEN, reason, decided_at
    current.overridden_by = actor if actor is not None and actor.is_authenticated else None
    save(current)
    audit_record(
        actor,
        "gate.overridden",
        current,
        old={"status": before["status"]},
        new={"status": current.status, "override_reason": reason},
        reason=reason,
    )
    _refresh_gate(gate, current)
    return gate


@transaction.atomic
def gate_reopen(*, actor, gate: Gate, reason: str) -> Gate:
    """Open a rejected gate again for new decisions; its earlier decisions are cleared (they stay in the history)."""
    require_perm(actor, "releases.change_gate", gate)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Say why the gate is reopened.")
    current = _locked_gate(gate)
    if current.status != GateStatus.REJECTED:
        raise Conflict(
            f"The gate {current.name} is {GateStatus(current.status).label.lower()}; only a rejected gate is reopened."
        )
    _require_plan_open(current.release)
    decisions = _decisions(current)
    current.approvals.all().delete()
    bump_version(current, current.version)
    current.status, current.decided_at = GateStatus.OPEN, None
    save(current)
    audit_record(
        actor,
        "gate.reopened",
        current,
        old={"status": GateStatus.REJECTED, "decisions": decisions},
        new={"status": GateStatus.OPEN},
        reason=reason,
    )
    _refresh_gate(gate, current)
    return gate


# Freeze windows


def _freeze_lists(window: FreezeWindow, portfolios: list, systems: list) -> dict:
    return {
        "portfolios": sorted(portfolio.pk for portfolio in portfolios),
        "systems": sorted(system.pk for system in systems),
    }


_SCOPE_WORDS = {"portfolios": "a portfolios", "systems": "a systems", "environment_types": "an environments"}


def _scope_label(scope: str) -> str:
    return FreezeScope(scope).label if scope in FreezeScope.values else str(scope)


def _check_freeze(window: FreezeWindow, portfolios: list, systems: list) -> None:
    require_plausible_dates(starts_on=window.starts_on, ends_on=window.ends_on, recurs_until=window.recurs_until)
    _check_dates(window.starts_on, window.ends_on, field="ends_on")
    types = window.environment_types
    if not isinstance(types, list):
        raise ValidationFailed.field("environment_types", "The environment types are a list.")
    for value in types:
        if value not in EnvironmentType.values:
            raise ValidationFailed.field(
                "environment_types",
                f"{value!r} is not an environment type; the types are {', '.join(EnvironmentType.values)}.",
            )
    window.environment_types = list(dict.fromkeys(types))
    scope = window.scope
    needs = {
        FreezeScope.PORTFOLIOS: ("portfolios", portfolios, "Choose at least one portfolio for a portfolios freeze."),
        FreezeScope.SYSTEMS: ("systems", systems, "Choose at least one system for a systems freeze."),
        FreezeScope.ENVIRONMENTS: (
            "environment_types",
            window.environment_types,
            "Choose at least one environment type for an environments freeze.",
        ),
    }
    for field, values, _ in needs.values():
        if values and needs.get(scope, (None,))[0] != field:
            raise ValidationFailed.field(
                field,
                f"Only {_SCOPE_WORDS[field]} freeze lists {field.replace('_', ' ')}; this one is "
                f"{_scope_label(scope).lower()}.",
            )
    if scope in needs and not needs[scope][1]:
        raise ValidationFailed.field(needs[scope][0], needs[scope][2])
    if window.starts_on is None or window.ends_on is None:
        return
    if window.recurrence not in Recurrence.values:
        raise ValidationFailed.field(
            "recurrence", f"The recurrence is one of {', '.join(Recurrence.values)}; not {window.recurrence!r}."
        )
    length = (window.ends_on - window.starts_on).days + 1
    if window.recurrence == Recurrence.NONE:
        if window.recurs_until is not None:
            raise ValidationFailed.field("recurs_until", "A one-off freeze does not recur; leave this empty.")
        if length > MAX_ONE_OFF_DAYS:
            raise ValidationFailed.field("ends_on", f"A one-off freeze lasts at most {MAX_ONE_OFF_DAYS} days.")
        return
    limit = MAX_OCCURRENCE_DAYS.get(window.recurrence)
    if limit is not None and length > limit:
        raise ValidationFailed.field(
            "ends_on",
            f"A freeze recurring {Recurrence(window.recurrence).label.lower()} lasts at most {limit} days each time.",
        )
    if window.recurs_until is None:
        raise ValidationFailed.field("recurs_until", "Say until when the freeze recurs.")
    if window.recurs_until < window.starts_on:
        raise ValidationFailed.field("recurs_until", "A freeze cannot stop recurring before it starts.")
    horizon = window.starts_on + relativedelta(years=MAX_RECURRENCE_YEARS)  # 29 February ends on the 28th
    if window.recurs_until > horizon:
        raise ValidationFailed.field(
            "recurs_until", f"A freeze recurs for at most {MAX_RECURRENCE_YEARS} years (until {_day(horizon)})."
        )


def _freeze_data(window: FreezeWindow, portfolios: list, systems: list) -> dict:
    return {**snapshot(window, FREEZE_FIELDS), **_freeze_lists(window, portfolios, systems)}


@transaction.atomic
def freeze_create(
    *,
    actor,
    name: str,
    category: str,
    scope: str,
    starts_on: datetime.date,
    ends_on: datetime.date,
    recurrence: str = Recurrence.NONE,
    recurs_until: datetime.date | None = None,
    portfolios=(),
    systems=(),
    environment_types=(),
    reason: str = "",
) -> FreezeWindow:
    """Declare a freeze window: organisation-wide or for portfolios, systems or environment types; once or recurring."""
    require_perm(actor, "releases.add_freezewindow")
    portfolios, systems = list(portfolios or ()), list(systems or ())
    window = FreezeWindow(
        name=(name or "").strip(),
        category=category,
        scope=scope,
        starts_on=starts_on,
        ends_on=ends_on,
        recurrence=recurrence,
        recurs_until=recurs_until,
        environment_types=list(environment_types or ()),
        reason=reason or "",
    )
    _check_freeze(window, portfolios, systems)
    save(window)
    window.portfolios.set(portfolios)
    window.systems.set(systems)
    audit_record(actor, "freezewindow.created", window, new=_freeze_data(window, portfolios, systems))
    return window


@transaction.atomic
def freeze_update(*, actor, window: FreezeWindow, version: int | None = None, **changes) -> FreezeWindow:
    """Change a freeze window (dates, recurrence, what it covers); refused if `version` is stale."""
    require_perm(actor, "releases.change_freezewindow", window)
    _refuse_unknown(changes, {*FREEZE_FIELDS, "portfolios", "systems"})
    blank_text_clears(changes, "reason")
    require_values(
        changes,
        name="Give the freeze a name.",
        category="Choose what the freeze blocks.",
        scope="Choose what the freeze covers.",
        starts_on="Give the first day.",
        ends_on="Give the last day.",
        recurrence="Choose how it recurs (or one-off).",
    )
    if "environment_types" in changes and changes["environment_types"] is None:
        changes["environment_types"] = []
    portfolios = list(changes.pop("portfolios") or ()) if "portfolios" in changes else list(window.portfolios.all())
    systems = list(changes.pop("systems") or ()) if "systems" in changes else list(window.systems.all())
    before = _freeze_data(window, list(window.portfolios.all()), list(window.systems.all()))
    bump_version(window, version)
    assign(window, {key: value.strip() if isinstance(value, str) else value for key, value in changes.items()})
    _check_freeze(window, portfolios, systems)
    save(window)
    window.portfolios.set(portfolios)
    window.systems.set(systems)
    old, new = changed_fields(before, _freeze_data(window, portfolios, systems))
    audit_record(actor, "freezewindow.updated", window, old=old, new=new)
    return window


@transaction.atomic
def freeze_delete(*, actor, window: FreezeWindow) -> None:
    require_perm(actor, "releases.delete_freezewindow", window)
    delete_audited(actor, window, "freezewindow.deleted")


# The schedule

DEPENDENCY_FIELDS = [
    "predecessor_release",
    "predecessor_phase",
    "predecessor_milestone",
    "successor_release",
    "successor_phase",
    "successor_milestone",
    "predecessor_key",
    "successor_key",
    "kind",
    "lag_days",
    "note",
]
DEPENDENCY_EDITABLE = {"kind", "lag_days", "note"}
NO_SUCH_PLAN_ITEM = "No such release, phase or milestone."
DATES_EDITED = "Dates edited"


def _lock_releases(ids) -> None:
    """Lock the releases' rows, lowest id first, so that two schedule writes over the same releases queue."""
    list(Release.objects.select_for_update().filter(pk__in=sorted(ids)).order_by("pk").values_list("pk", flat=True))


def _dependency_end(actor, key, field: str) -> tuple[Release, Phase | None, Milestone | None]:
    """The release and the phase or milestone a dependency end names, if `actor` may see them; a 422 on `field`
    for a bad key, an item unknown or out of sight, or an item of a released or cancelled release."""
    try:
        kind, pk = schedule.parse_key(key, kinds=schedule.DEPENDENCY_END_KINDS)
    except ValueError:
        raise ValidationFailed.field(
            field, 'Give the item as "release:<id>", "phase:<id>" or "milestone:<id>".'
        ) from None
    releases = Release.objects.restrict(actor, "view")
    phase = milestone = None
    if kind == "release":
        release = releases.filter(pk=pk).first()
    else:
        model = Phase if kind == "phase" else Milestone
        row = model.objects.restrict(actor, "view").select_related("release").filter(pk=pk).first()
        release = row.release if row is not None and releases.filter(pk=row.release_id).exists() else None
        phase, milestone = (row, None) if kind == "phase" else (None, row)
    if release is None:
        raise ValidationFailed.field(field, NO_SUCH_PLAN_ITEM)
    if release.status in CLOSED_STATUSES:
        raise ValidationFailed.field(field, _plan_is_history(release))
    return release, phase, milestone


def _closed_end(dependency: ScheduleDependency) -> Release | None:
    """The released or cancelled release a dependency links, if any (the first by name): its plan is history."""
    return (
        Release.objects.filter(pk__in=[dependency.predecessor_release_id, dependency.successor_release_id])
        .filter(status__in=CLOSED_STATUSES)
        .order_by("name")
        .first()
    )


def _check_kind_and_lag(kind, lag_days) -> None:
    if kind not in DependencyKind.values:
        raise ValidationFailed.field(
            "kind", f"{kind!r} is not a kind of dependency; the kinds are {', '.join(DependencyKind.values)}."
        )
    if isinstance(lag_days, bool) or not isinstance(lag_days, int):
        raise ValidationFailed.field("lag_days", "The lag is a whole number of working days.")
    if abs(lag_days) > MAX_LAG_DAYS:
        raise ValidationFailed.field("lag_days", f"A lag is at most {MAX_LAG_DAYS} working days either way.")


def _dependency_data(dependency: ScheduleDependency) -> dict:
    return snapshot(dependency, DEPENDENCY_FIELDS)


@transaction.atomic
def dependency_create(
    *,
    actor,
    predecessor: str,
    successor: str,
    kind: str = DependencyKind.FINISH_TO_START,
    lag_days: int = 0,
    note: str = "",
) -> ScheduleDependency:
    """Make one item of the plan (a release, phase or milestone: "phase:34") wait for another, by FS, SS, FF or SF
    with a lag in working days; refused if it would close a cycle, naming it."""
    require_perm(actor, "releases.add_scheduledependency")
    _check_kind_and_lag(kind, lag_days)
    before_release, before_phase, before_milestone = _dependency_end(actor, predecessor, "predecessor")
    after_release, after_phase, after_milestone = _dependency_end(actor, successor, "successor")
    if predecessor == successor:
        raise ValidationFailed.field("successor", "An item cannot depend on itself.")
    _lock_releases({before_release.pk, after_release.pk})
    duplicate = ScheduleDependency._meta.constraints[0]
    if ScheduleDependency.objects.filter(predecessor_key=predecessor, successor_key=successor).exists():
        message = duplicate.get_violation_error_message()
        raise Conflict(message, errors=[("successor", message)])
    schedule.check_new_dependency(predecessor, successor, kind)
    dependency = ScheduleDependency(
        predecessor_release=before_release,
        predecessor_phase=before_phase,
        predecessor_milestone=before_milestone,
        successor_release=after_release,
        successor_phase=after_phase,
        successor_milestone=after_milestone,
        predecessor_key=predecessor,
        successor_key=successor,
        kind=kind,
        lag_days=lag_days,
        note=(note or "").strip(),
    )
    save(dependency)
    audit_record(actor, "schedule_dependency.created", dependency, new=_dependency_data(dependency))
    return dependency


@transaction.atomic
def dependency_update(
    *, actor, dependency: ScheduleDependency, version: int | None = None, **changes
) -> ScheduleDependency:
    """Change a dependency's kind, lag or note (its two ends stay: delete it and make another to link others);
    refused if `version` is stale, or if the new kind would close a cycle."""
    require_perm(actor, "releases.change_scheduledependency", dependency)
    ends = "Its ends stay; delete the dependency and make another to link other items."
    _refuse_unknown(
        changes,
        DEPENDENCY_EDITABLE,
        {name: ends for name in DEPENDENCY_FIELDS if name not in DEPENDENCY_EDITABLE},
    )
    blank_text_clears(changes, "note")
    require_values(changes, kind="Choose the kind of dependency.", lag_days="Give the lag (0 for none).")
    current = ScheduleDependency.objects.select_for_update().filter(pk=dependency.pk).first()
    if current is None:
        raise NotFound("Dependency not found.")
    kind, lag_days = changes.get("kind", current.kind), changes.get("lag_days", current.lag_days)
    _check_kind_and_lag(kind, lag_days)
    if (kind, lag_days) != (current.kind, current.lag_days):
        closed = _closed_end(current)
        if closed is not None:
            raise ValidationFailed.field("kind" if kind != current.kind else "lag_days", _plan_is_history(closed))
    old_ends = schedule.dependency_end_keys(current.predecessor_key, current.successor_key, current.kind)
    if schedule.dependency_end_keys(current.predecessor_key, current.successor_key, kind) != old_ends:
        # Another kind may tie other ends (a release's end instead of its start): that can close a cycle.
        _lock_releases({current.predecessor_release_id, current.successor_release_id})
        schedule.check_new_dependency(current.predecessor_key, current.successor_key, kind)
    update_audited(
        actor,
        current,
        permission="releases.change_scheduledependency",
        event_type="schedule_dependency.updated",
        data=_dependency_data,
        version=version,
        changes=changes,
    )
    for field in current._meta.concrete_fields:
        setattr(dependency, field.attname, getattr(current, field.attname))
    return dependency


@transaction.atomic
def dependency_delete(*, actor, dependency: ScheduleDependency) -> None:
    """Remove a dependency; the items keep their dates. Refused if it links a released or cancelled release (as
    adding or changing one is): that release's plan is history."""
    require_perm(actor, "releases.delete_scheduledependency", dependency)
    closed = _closed_end(dependency)
    if closed is not None:
        raise ValidationFailed(_plan_is_history(closed))
    delete_audited(actor, dependency, "schedule_dependency.deleted")


def _claim(rows, moves: dict, key_of, fields: tuple[str, str]) -> None:
    """Check that each locked row still has the dates the impact was worked out from (else a 409), then give it
    its new dates and its next version."""
    now = _now()
    first, last = fields
    for row in rows:
        old_start, old_end, new_start, new_end = moves[key_of(row)]
        if (getattr(row, first), getattr(row, last)) != (old_start, old_end):
            raise Conflict("The plan changed since the preview; preview the change again.")
        setattr(row, first, new_start)
        if last != first:
            setattr(row, last, new_end)
        row.version += 1
        row.updated_at = now


def _apply_moves(evaluation: schedule.Evaluation) -> None:
    """Write the new dates of every moved phase, milestone and gate, and every release window that moved."""
    moves, dates, labels = evaluation.moves, evaluation.dates, evaluation.plan.labels
    ids: dict[str, list[int]] = defaultdict(list)
    for key in moves:
        if labels[key].kind in ("phase", "milestone", "gate"):
            ids[labels[key].kind].append(labels[key].id)
    # A child phase follows its train phase only while it keeps the train phase's dates.
    train_moved = [labels[key].id for key in moves if labels[key].kind == "phase"]
    phases = list(Phase.objects.select_for_update().filter(pk__in=ids["phase"]).order_by("pk"))
    followers = list(
        Phase.objects.select_for_update()
        .filter(train_phase_id__in=train_moved)
        .exclude(pk__in=ids["phase"])
        .exclude(release__status__in=CLOSED_STATUSES)
        .order_by("pk")
    )
    _claim(phases, moves, lambda row: f"phase:{row.pk}", ("planned_start", "planned_end"))
    left = []
    for phase in [*phases, *followers]:
        followed = dates.get(f"phase:{phase.train_phase_id}") if phase.train_phase_id else None
        if phase.train_phase_id and (phase.planned_start, phase.planned_end) != followed:
            phase.train_phase_id = None
            left.append(phase)
    for follower in (row for row in followers if row in left):  # unlinked without moving: still a change of it
        follower.version, follower.updated_at = follower.version + 1, _now()
    Phase.objects.bulk_update(
        [*phases, *(row for row in followers if row in left)],
        ["planned_start", "planned_end", "train_phase", "version", "updated_at"],
        batch_size=500,
    )
    milestones = list(Milestone.objects.select_for_update().filter(pk__in=ids["milestone"]).order_by("pk"))
    _claim(milestones, moves, lambda row: f"milestone:{row.pk}", ("planned_date", "planned_date"))
    Milestone.objects.bulk_update(milestones, ["planned_date", "version", "updated_at"], batch_size=500)
    gates = list(Gate.objects.select_for_update().filter(pk__in=ids["gate"]).order_by("pk"))
    _claim(gates, moves, lambda row: f"gate:{row.pk}", ("due_date", "due_date"))
    Gate.objects.bulk_update(gates, ["due_date", "version", "updated_at"], batch_size=500)

    windows = {pk: window for pk, window in evaluation.windows.items() if window[:2] != window[2:]}
    releases = list(Release.objects.filter(pk__in=sorted(windows)).order_by("pk"))
    by_key = {f"release:{pk}": window for pk, window in windows.items()}
    _claim(releases, by_key, lambda row: f"release:{row.pk}", ("planned_start", "planned_end"))
    Release.objects.bulk_update(releases, ["planned_start", "planned_end", "version", "updated_at"], batch_size=500)


@transaction.atomic
def schedule_apply(*, actor, changes, reason: str, fingerprint: str | None = None, today=None) -> dict:
    """Apply a what-if in one transaction: every moved phase, milestone, gate and release window, one audit event
    `release.rescheduled` carrying the whole impact, one history entry per moved release; the impact providers
    follow. Refused (409, nothing changed) if the plan changed since the preview (`fingerprint`) or the change would
    break a constraint that holds today."""
    require_perm(actor, "releases.reschedule_release")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "Say why the dates change.")
    evaluation = schedule.evaluate(user=actor, changes=changes, today=today, lock=_lock_releases)
    impact = evaluation.impact
    if fingerprint and fingerprint != impact["fingerprint"]:
        message = "The plan changed since the preview; preview the change again."
        raise Conflict(message, errors=[("fingerprint", message)])
    if impact["violations"]:
        messages = [violation["message"] for violation in impact["violations"]]
        what = "a constraint that holds" if len(messages) == 1 else f"{len(messages)} constraints that hold"
        raise Conflict(
            f"The change would break {what} today: " + "; ".join(message.rstrip(".") for message in messages) + ".",
            errors=[(None, message) for message in messages],
        )
    if not impact["releases"]:
        raise ValidationFailed.field("changes", "The change moves nothing; there is nothing to apply.")
    _apply_moves(evaluation)
    first = Release.objects.get(pk=evaluation.first_release_id)
    event = audit_record(actor, "release.rescheduled", first, new=impact, reason=reason)
    batch = uuid.uuid4()
    is_user = actor is not None and actor.is_authenticated
    ScheduleChange.objects.bulk_create(
        [
            ScheduleChange(
                release_id=row["id"],
                batch=batch,
                occurred_at=event.occurred_at,
                actor=actor if is_user else None,
                actor_name=_changed_by(actor, event),
                reason=reason,
                cause=row["cause"],
                old_start=row["old_start"],
                old_end=row["old_end"],
                new_start=row["new_start"],
                new_end=row["new_end"],
                start_shift_days=row["start_shift_days"],
                end_shift_days=row["end_shift_days"],
                items_moved=row["items_moved"],
                audit_event=event,
            )
            for row in impact["releases"]
        ]
    )
    schedule.apply_providers(replace(evaluation.context, reason=reason), actor)
    return {**impact, "applied": True, "audit_event_id": event.pk, "batch": str(batch)}


def _changed_by(actor, event: AuditEvent | None) -> str:
    """Who made a schedule change, as the history shows it: a user by their display name, else the operator (a
    command or a job) its audit event names."""
    if actor is not None and actor.is_authenticated:
        return actor.display_name
    return event.actor_name if event else ""


def _record_dates_edited(actor, release: Release, before: tuple[datetime.date, datetime.date]) -> None:
    """A history entry for a release whose window was edited by hand, tied to the edit's audit event."""
    event = (
        AuditEvent.objects.filter(
            object_type=release._meta.label_lower, object_id=str(release.pk), event_type="release.updated"
        )
        .order_by("-pk")
        .first()
    )
    calendar = working_calendar(release.calendar)
    old_start, old_end = before
    is_user = actor is not None and actor.is_authenticated
    ScheduleChange.objects.create(
        release=release,
        batch=uuid.uuid4(),
        occurred_at=event.occurred_at if event else _now(),
        actor=actor if is_user else None,
        actor_name=_changed_by(actor, event),
        reason=event.reason if event else "",
        cause=DATES_EDITED,
        old_start=old_start,
        old_end=old_end,
        new_start=release.planned_start,
        new_end=release.planned_end,
        start_shift_days=calendar.offset(old_start, release.planned_start),
        end_shift_days=calendar.offset(old_end, release.planned_end),
        items_moved=0,
        audit_event=event,
    )
