"""Request and response shapes of the releases API.

Class names carry their entity (`Release…`, `Gate…`, `FreezeWindow…`): the OpenAPI document names its components by
class name, across every app.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from launchdeck.accounts.roles import Role
from launchdeck.core.api import Id, StrictIn, Version
from launchdeck.core.services import FIRST_PLAUSIBLE_DAY, LAST_PLAUSIBLE_DAY
from launchdeck.releases.choices import (
    ApprovalDecision,
    CriterionKind,
    DependencyKind,
    EnvironmentType,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)
from launchdeck.releases.models import MAX_LAG_DAYS
from launchdeck.releases.schedule import MAX_CHANGES, MAX_SHIFT_DAYS

# Dates anywhere near the ends of the calendar would overflow working-day and recurrence arithmetic.
Day = Annotated[datetime.date, Field(ge=FIRST_PLAUSIBLE_DAY, le=LAST_PLAUSIBLE_DAY)]
NAME = Field(min_length=1, max_length=150)
SHORT_NAME = Field(min_length=1, max_length=100)
TEXT = Field("", max_length=5000)
USERNAME = Field(None, max_length=150, description="The username of the owner; null for none.")
EFFORT_IN = {"ge": 0, "le": Decimal("99999999.9"), "max_digits": 9, "decimal_places": 1}
WORKING_DAYS = {"ge": 1, "le": 1000}
OFFSET_DAYS = {"ge": -250, "le": 250}
START_OFFSET_DAYS = {"ge": 0, "le": 5000}
POSITION = {"ge": 1, "le": 32767}
PERCENT = {"ge": 0, "le": 100}
ChecklistItem = Annotated[str, Field(min_length=1, max_length=300)]
CheckKey = Annotated[str, Field(min_length=1, max_length=60)]
ROLES = Field(min_length=1, max_length=len(Role.values), description="Roles that must each approve (at least one).")
CHECKLIST = Field(default_factory=list, max_length=30, description="Checklist items a person ticks off (at most 30).")
CHECK_KEYS = Field(default_factory=list, max_length=20, description="Keys of automatic checks from the registry.")
GateBlocks = Literal["planned", "in_progress", "released"]
GATE_BLOCKS = "The status the release cannot move to until the gate is passed: planned, in_progress or released."


def _username(user) -> str | None:
    return user.username if user is not None else None


# Templates


class PhaseTemplateOut(Schema):
    id: int
    template_id: int
    position: int
    name: str
    kind: PhaseKind
    start_offset_days: int = Field(description="Working days from the release's start to the phase's start.")
    duration_days: int = Field(description="Length in working days.")
    environment_type: EnvironmentType | None = Field(description="Null when the phase needs no environment.")
    test_effort_days: float = Field(description="Person-days.")
    is_required: bool
    version: int

    @staticmethod
    def resolve_environment_type(obj) -> str | None:
        return obj.environment_type or None


class PhaseTemplateIn(StrictIn):
    name: str = SHORT_NAME
    kind: PhaseKind
    duration_days: int = Field(**WORKING_DAYS, description="Length in working days.")
    start_offset_days: int | None = Field(
        None, **START_OFFSET_DAYS, description="Working days from the release's start; default right after the last."
    )
    position: int | None = Field(None, **POSITION, description="Default: after the last phase.")
    environment_type: EnvironmentType | None = None
    test_effort_days: Decimal = Field(Decimal("0"), **EFFORT_IN)
    is_required: bool = True


class PhaseTemplatePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: PhaseKind | None = None
    duration_days: int | None = Field(None, **WORKING_DAYS)
    start_offset_days: int | None = Field(None, **START_OFFSET_DAYS)
    position: int | None = Field(None, **POSITION)
    environment_type: EnvironmentType | None = Field(None, description="Null: no environment needed.")
    test_effort_days: Decimal | None = Field(None, **EFFORT_IN)
    is_required: bool | None = None


class MilestoneTemplateOut(Schema):
    id: int
    template_id: int
    phase_id: int
    name: str
    kind: MilestoneKind
    anchor: MilestoneAnchor
    offset_days: int = Field(description="Working days after (negative: before) the anchor.")
    version: int


class MilestoneTemplateIn(StrictIn):
    phase_id: Id = Field(description="A phase of the same template.")
    name: str = SHORT_NAME
    kind: MilestoneKind = MilestoneKind.OTHER
    anchor: MilestoneAnchor = MilestoneAnchor.PHASE_END
    offset_days: int = Field(0, **OFFSET_DAYS)


class MilestoneTemplatePatch(StrictIn):
    version: Version
    phase_id: Id | None = None
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: MilestoneKind | None = None
    anchor: MilestoneAnchor | None = None
    offset_days: int | None = Field(None, **OFFSET_DAYS)


class GateTemplateOut(Schema):
    id: int
    template_id: int
    phase_id: int | None = Field(description="The phase whose end the gate closes; null for the end of the release.")
    name: str
    blocks: ReleaseStatus = Field(description=GATE_BLOCKS)
    approver_roles: list[str]
    checklist: list[str]
    checks: list[str]
    version: int


class GateTemplateIn(StrictIn):
    name: str = SHORT_NAME
    blocks: GateBlocks = Field(ReleaseStatus.RELEASED.value, description=GATE_BLOCKS)
    approver_roles: list[Role] = ROLES
    phase_id: Id | None = Field(None, description="A phase of the same template; null for the end of the release.")
    checklist: list[ChecklistItem] = CHECKLIST
    checks: list[CheckKey] = CHECK_KEYS


class GateTemplatePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    blocks: GateBlocks | None = None
    approver_roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role.values))
    phase_id: Id | None = Field(None, description="Null: the end of the release.")
    checklist: list[ChecklistItem] | None = Field(None, max_length=30, description="Replaces the checklist.")
    checks: list[CheckKey] | None = Field(None, max_length=20, description="Replaces the automatic checks.")


class ReleaseTemplateRowOut(Schema):
    """A template in a list: what it is for and how much it holds."""

    id: int
    name: str
    description: str
    release_kind: ReleaseKind
    is_active: bool
    phase_count: int = 0
    gate_count: int = 0
    release_count: int = Field(0, description="Releases made from it.")
    version: int


class ReleaseTemplateOut(Schema):
    id: int
    name: str
    description: str
    release_kind: ReleaseKind
    is_active: bool
    release_count: int = Field(0, description="Releases made from it.")
    phases: list[PhaseTemplateOut]
    milestones: list[MilestoneTemplateOut]
    gates: list[GateTemplateOut]
    version: int

    @staticmethod
    def resolve_phases(obj) -> list:
        return list(obj.phases.all())

    @staticmethod
    def resolve_milestones(obj) -> list:
        return list(obj.milestones.all())

    @staticmethod
    def resolve_gates(obj) -> list:
        return list(obj.gates.all())


class ReleaseTemplateIn(StrictIn):
    name: str = NAME
    description: str = TEXT
    release_kind: ReleaseKind = ReleaseKind.PROJECT
    is_active: bool = True


class ReleaseTemplatePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = Field(None, max_length=5000)
    release_kind: ReleaseKind | None = None
    is_active: bool | None = None


class LayoutPhaseOut(Schema):
    template_id: int
    name: str
    kind: PhaseKind
    start: datetime.date
    end: datetime.date


class LayoutMilestoneOut(Schema):
    template_id: int
    name: str
    kind: MilestoneKind
    date: datetime.date


class LayoutGateOut(Schema):
    template_id: int
    name: str
    due_date: datetime.date


class ReleaseTemplateLayoutOut(Schema):
    template_id: int
    calendar_id: int | None
    start: datetime.date = Field(description="The release's start as asked.")
    end: datetime.date = Field(description="The end of its last phase.")
    phases: list[LayoutPhaseOut]
    milestones: list[LayoutMilestoneOut]
    gates: list[LayoutGateOut]


# Health


class HealthFactorOut(Schema):
    key: str
    label: str
    detail: str
    points: int = Field(description="What this factor adds to the risk score.")


class ReleaseHealthOut(Schema):
    status: str = Field(description="green, amber or red.")
    score: int = Field(description="Risk score, 0 (none) to 100.")
    factors: list[HealthFactorOut]


# Phases, milestones, gates of a release


class ReleasePhaseOut(Schema):
    id: int
    release_id: int
    template_id: int | None
    train_phase_id: int | None = Field(description="The train's phase whose dates this one follows.")
    position: int
    name: str
    kind: PhaseKind
    status: PhaseStatus
    planned_start: datetime.date
    planned_end: datetime.date
    baseline_start: datetime.date | None
    baseline_end: datetime.date | None
    actual_start: datetime.date | None
    actual_end: datetime.date | None
    percent_complete: int
    environment_type: EnvironmentType | None
    test_effort_days: float
    is_required: bool
    version: int

    @staticmethod
    def resolve_environment_type(obj) -> str | None:
        return obj.environment_type or None


class ReleasePhaseIn(StrictIn):
    name: str = SHORT_NAME
    kind: PhaseKind
    planned_start: Day = Field(description="Within the release's planned window.")
    planned_end: Day = Field(description="On or after the start, within the release's planned window.")
    position: int | None = Field(None, **POSITION, description="Default: after the last phase.")
    environment_type: EnvironmentType | None = None
    test_effort_days: Decimal = Field(Decimal("0"), **EFFORT_IN)
    is_required: bool = True


class ReleasePhasePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: PhaseKind | None = None
    status: PhaseStatus | None = None
    position: int | None = Field(None, **POSITION)
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    percent_complete: int | None = Field(None, **PERCENT)
    environment_type: EnvironmentType | None = Field(None, description="Null: no environment needed.")
    test_effort_days: Decimal | None = Field(None, **EFFORT_IN)
    is_required: bool | None = None


class ReleaseMilestoneOut(Schema):
    id: int
    release_id: int
    phase_id: int | None
    template_id: int | None
    name: str
    kind: MilestoneKind
    planned_date: datetime.date
    baseline_date: datetime.date | None
    actual_date: datetime.date | None
    in_freeze: str | None = Field(
        None, description="For a deploy milestone inside a deployment freeze covering the release: the freeze's name."
    )
    version: int


class ReleaseMilestoneIn(StrictIn):
    name: str = SHORT_NAME
    kind: MilestoneKind = MilestoneKind.OTHER
    planned_date: Day = Field(description="Within the release's planned window (and its phase's).")
    phase_id: Id | None = Field(None, description="A phase of the same release.")


class ReleaseMilestonePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: MilestoneKind | None = None
    planned_date: Day | None = None
    actual_date: Day | None = Field(None, description="When it was reached; null: not yet.")
    phase_id: Id | None = Field(None, description="A phase of the same release; null for none.")


class GateCriterionOut(Schema):
    id: int
    position: int
    kind: CriterionKind
    text: str
    check_key: str | None = Field(description="For an automatic check: its registry key.")
    is_met: bool = Field(description="For a checklist item: ticked off.")
    met_by: str | None
    met_at: datetime.datetime | None
    ok: bool = Field(description="Whether the criterion holds now (a ticked item, a passing check).")
    detail: str = Field(description="Why it holds or not.")

    @staticmethod
    def resolve_check_key(obj) -> str | None:
        return obj.check_key or None

    @staticmethod
    def resolve_met_by(obj) -> str | None:
        return _username(obj.met_by)


class GateCriterionPatch(StrictIn):
    is_met: bool = Field(description="Tick (true) or untick (false) a checklist item of an open gate.")


class GateApprovalOut(Schema):
    id: int
    role: str
    approver: str
    decision: ApprovalDecision
    comment: str
    decided_at: datetime.datetime

    @staticmethod
    def resolve_approver(obj) -> str:
        return obj.approver.username


class GateOut(Schema):
    id: int
    release_id: int
    phase_id: int | None
    template_id: int | None
    name: str
    blocks: ReleaseStatus = Field(description=GATE_BLOCKS)
    due_date: datetime.date
    approver_roles: list[str]
    status: GateStatus
    decided_at: datetime.datetime | None
    override_reason: str
    overridden_by: str | None
    criteria: list[GateCriterionOut] = Field(alias="criteria_rows")
    approvals: list[GateApprovalOut]
    unmet: list[str] = Field(description="The criteria that do not hold, as sentences.")
    approvals_missing: list[str] = Field(description="Approver roles that have not approved yet.")
    version: int

    @staticmethod
    def resolve_overridden_by(obj) -> str | None:
        return _username(obj.overridden_by)


class GateIn(StrictIn):
    name: str = SHORT_NAME
    blocks: GateBlocks = Field(ReleaseStatus.RELEASED.value, description=GATE_BLOCKS)
    due_date: Day
    approver_roles: list[Role] = ROLES
    phase_id: Id | None = Field(None, description="A phase of the same release; null for the end of the release.")
    checklist: list[ChecklistItem] = CHECKLIST
    checks: list[CheckKey] = CHECK_KEYS


class GatePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=100)
    blocks: GateBlocks | None = None
    due_date: Day | None = None
    approver_roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role.values))
    phase_id: Id | None = Field(None, description="Null: the end of the release.")
    checklist: list[ChecklistItem] | None = Field(
        None, max_length=30, description="Replaces the checklist; items kept keep their ticks."
    )
    checks: list[CheckKey] | None = Field(None, max_length=20, description="Replaces the automatic checks.")


class GateDecisionIn(StrictIn):
    role: Role = Field(description="One of your roles, among the gate's approver roles.")
    decision: ApprovalDecision
    comment: str = TEXT


class GateOverrideIn(StrictIn):
    reason: str = Field(min_length=1, max_length=5000, description="Why the gate is passed without being met.")


class GateReopenIn(StrictIn):
    reason: str = Field(min_length=1, max_length=5000)


# Releases


class ReleaseSystemOut(Schema):
    system_id: int
    system: str = Field(alias="system.name")
    tier: int = Field(alias="system.tier")
    impact: SystemImpact
    target_version: str


class ReleaseScopeIn(StrictIn):
    impact: SystemImpact = SystemImpact.IMPACTED
    target_version: str = Field("", max_length=100)


class ScopeSuggestionOut(Schema):
    system_id: int
    system: str
    tier: int
    via_system_id: int = Field(description="The impacted system in scope it depends on.")
    via_system: str


class ReleaseRowOut(Schema):
    """A release in a list: its dates, links and health."""

    id: int
    name: str
    kind: ReleaseKind
    status: ReleaseStatus
    train_id: int | None
    train: str | None = Field(description="The train's name.")
    owner: str | None
    portfolio_id: int | None
    initiative_id: int | None
    project_id: int | None
    planned_start: datetime.date
    planned_end: datetime.date
    actual_start: datetime.date | None
    actual_end: datetime.date | None
    child_count: int = Field(0, description="Child releases (for a train).")
    system_count: int = Field(0, description="Systems in scope.")
    health: str = Field(description="green, amber or red.")
    score: int = Field(description="Risk score, 0 (none) to 100.")
    version: int

    @staticmethod
    def resolve_train(obj) -> str | None:
        return obj.train.name if obj.train_id else None

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)

    @staticmethod
    def resolve_health(obj) -> str:
        return obj.health.status

    @staticmethod
    def resolve_score(obj) -> int:
        return obj.health.score


class ReleaseOut(Schema):
    """A release with everything planned in it."""

    id: int
    name: str
    kind: ReleaseKind
    status: ReleaseStatus
    description: str
    train_id: int | None
    inherits_train_dates: bool
    template_id: int | None
    owner: str | None
    portfolio_id: int | None
    initiative_id: int | None
    project_id: int | None
    calendar_id: int | None
    planned_start: datetime.date
    planned_end: datetime.date
    baseline_start: datetime.date | None
    baseline_end: datetime.date | None
    actual_start: datetime.date | None
    actual_end: datetime.date | None
    children: list[int] = Field(alias="child_ids", description="Ids of the release's child releases (for a train).")
    allowed_transitions: list[ReleaseStatus] = Field(description="Statuses you may move it to now (gates aside).")
    phases: list[ReleasePhaseOut] = Field(alias="phase_rows")
    milestones: list[ReleaseMilestoneOut] = Field(alias="milestone_rows")
    gates: list[GateOut] = Field(alias="gate_rows")
    scope: list[ReleaseSystemOut] = Field(alias="scope_rows")
    health: ReleaseHealthOut
    version: int

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _username(obj.owner)


class ReleaseIn(StrictIn):
    name: str = NAME
    kind: ReleaseKind = ReleaseKind.PROJECT
    planned_start: Day
    planned_end: Day | None = Field(
        None, description="On or after the start; default: the end of the template's layout (needed without one)."
    )
    template_id: Id | None = Field(None, description="Lay its phases, milestones and gates out from the start.")
    owner: str | None = USERNAME
    portfolio_id: Id | None = None
    initiative_id: Id | None = None
    project_id: Id | None = None
    calendar_id: Id | None = Field(None, description="Working calendar for its dates; weekends only when null.")
    description: str = TEXT
    train_id: Id | None = Field(None, description="The enterprise release (train) a project release travels in.")
    inherit_train_dates: bool = Field(False, description="Phases of the train's kinds follow the train's dates.")


class ReleasePatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    kind: ReleaseKind | None = None
    description: str | None = Field(None, max_length=5000)
    owner: str | None = USERNAME
    portfolio_id: Id | None = None
    initiative_id: Id | None = None
    project_id: Id | None = None
    calendar_id: Id | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None


class ReleaseTransitionIn(StrictIn):
    to_status: ReleaseStatus
    reason: str = TEXT


class ReleaseTrainIn(StrictIn):
    train_id: Id = Field(description="The enterprise release to travel in.")
    inherit_dates: bool = Field(False, description="Follow the train's phase dates (else keep its own).")


# Freeze windows


class FreezeWindowOut(Schema):
    id: int
    name: str
    category: FreezeCategory
    scope: FreezeScope
    portfolio_ids: list[int]
    system_ids: list[int]
    environment_types: list[str]
    starts_on: datetime.date
    ends_on: datetime.date = Field(description="The last day of the freeze (inclusive).")
    recurrence: Recurrence
    recurs_until: datetime.date | None
    reason: str
    version: int

    @staticmethod
    def resolve_portfolio_ids(obj) -> list[int]:
        return sorted(portfolio.pk for portfolio in obj.portfolios.all())

    @staticmethod
    def resolve_system_ids(obj) -> list[int]:
        return sorted(system.pk for system in obj.systems.all())


class FreezeWindowIn(StrictIn):
    name: str = NAME
    category: FreezeCategory = FreezeCategory.DEPLOYMENT
    scope: FreezeScope = FreezeScope.ORGANISATION
    starts_on: Day
    ends_on: Day = Field(description="The last day (inclusive); on or after the start.")
    recurrence: Recurrence = Recurrence.NONE
    recurs_until: Day | None = Field(None, description="Last day a recurring freeze may start.")
    portfolio_ids: list[Id] = Field(default_factory=list, max_length=500, description="For a portfolios freeze.")
    system_ids: list[Id] = Field(default_factory=list, max_length=500, description="For a systems freeze.")
    environment_types: list[EnvironmentType] = Field(
        default_factory=list, max_length=len(EnvironmentType.values), description="For an environments freeze."
    )
    reason: str = TEXT


class FreezeWindowPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=150)
    category: FreezeCategory | None = None
    scope: FreezeScope | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    recurrence: Recurrence | None = None
    recurs_until: Day | None = None
    portfolio_ids: list[Id] | None = Field(None, max_length=500)
    system_ids: list[Id] | None = Field(None, max_length=500)
    environment_types: list[EnvironmentType] | None = Field(None, max_length=len(EnvironmentType.values))
    reason: str | None = Field(None, max_length=5000)


# The timeline (the contract of `selectors.timeline_data`)


class TimelineGroupOut(Schema):
    id: str
    label: str
    url: str | None = None


class TimelinePhaseOut(Schema):
    id: int
    name: str
    kind: str
    start: datetime.date
    end: datetime.date
    percent: int


class TimelineMilestoneOut(Schema):
    id: int
    name: str
    kind: str
    date: datetime.date
    in_freeze: bool


class TimelineGateOut(Schema):
    id: int
    name: str
    date: datetime.date
    status: str


class TimelineReleaseOut(Schema):
    id: int
    name: str
    groups: list[str]
    kind: str
    status: str
    health: str
    score: int
    start: datetime.date
    end: datetime.date
    url: str
    train_id: int | None
    phases: list[TimelinePhaseOut]
    milestones: list[TimelineMilestoneOut]
    gates: list[TimelineGateOut]


class TimelineFreezeOut(Schema):
    id: int
    name: str
    category: str
    start: datetime.date
    end: datetime.date
    scope: str


class ReleaseTimelineOut(Schema):
    start: datetime.date
    end: datetime.date
    today: datetime.date
    group_by: str
    groups: list[TimelineGroupOut]
    releases: list[TimelineReleaseOut]
    freezes: list[TimelineFreezeOut]


# The month calendar (the contract of `selectors.release_calendar`)


class CalendarReleaseOut(Schema):
    id: int
    name: str
    kind: ReleaseKind
    status: ReleaseStatus
    url: str


class CalendarMilestoneOut(Schema):
    id: int
    name: str
    kind: MilestoneKind
    reached: bool
    in_freeze: str | None = Field(description="The freeze a deploy milestone falls in, if any.")
    release_id: int
    release: str
    url: str


class CalendarGateOut(Schema):
    id: int
    name: str
    status: GateStatus
    release_id: int
    release: str
    url: str


class CalendarFreezeOut(Schema):
    id: int
    name: str
    category: FreezeCategory
    scope: FreezeScope


class CalendarDayOut(Schema):
    date: datetime.date
    day: int
    in_month: bool
    is_today: bool
    weekend: bool
    starts: list[CalendarReleaseOut] = Field(description="Releases planned to start that day.")
    ends: list[CalendarReleaseOut] = Field(description="Releases planned to end that day.")
    milestones: list[CalendarMilestoneOut]
    gates: list[CalendarGateOut] = Field(description="Gates due that day.")
    freezes: list[CalendarFreezeOut]


class CalendarMonthOut(Schema):
    year: int
    month: int


class ReleaseCalendarOut(Schema):
    """A month as weeks (Monday first) of days; days of the neighbouring months fill the first and last weeks."""

    year: int
    month: int
    title: str
    start: datetime.date = Field(description="The first day shown (a Monday).")
    end: datetime.date = Field(description="The last day shown (a Sunday).")
    today: datetime.date
    previous: CalendarMonthOut
    next: CalendarMonthOut
    weekdays: list[str]
    weeks: list[list[CalendarDayOut]]


# The impact matrix (the contract of `selectors.impact_matrix`)


class ImpactLevelOut(Schema):
    value: int
    impact: SystemImpact
    label: str


class ImpactSystemOut(Schema):
    id: int
    name: str
    tier: int
    releases: int = Field(description="Releases in the period touching it.")
    url: str


class ImpactReleaseOut(Schema):
    id: int
    name: str
    kind: ReleaseKind
    status: ReleaseStatus
    start: datetime.date
    end: datetime.date
    url: str


class ImpactLeftOutOut(Schema):
    systems: int
    releases: int


class ImpactMatrixOut(Schema):
    """Systems (rows) by releases (columns) for a heat map: each cell `[column, row, value]`, value 2 for impacted,
    1 for regression-dependent."""

    start: datetime.date
    end: datetime.date
    months: int
    impact_levels: list[ImpactLevelOut]
    systems: list[ImpactSystemOut]
    releases: list[ImpactReleaseOut]
    cells: list[list[int]]
    left_out: ImpactLeftOutOut = Field(description="How many systems and releases did not fit.")
    note: str


# The release report (the contract of `selectors.release_report`)


class ReportLinkOut(Schema):
    id: int
    name: str


class ReportReleaseOut(Schema):
    id: int
    name: str
    kind: ReleaseKind
    kind_label: str
    status: ReleaseStatus
    status_label: str
    description: str
    owner: str | None
    train: ReportLinkOut | None
    portfolio: ReportLinkOut | None
    initiative: ReportLinkOut | None
    project: ReportLinkOut | None
    template: str | None
    planned_start: datetime.date
    planned_end: datetime.date
    baseline_start: datetime.date | None
    baseline_end: datetime.date | None
    actual_start: datetime.date | None
    actual_end: datetime.date | None
    slip_days: int | None = Field(description="Days the planned end lies after the baseline end.")
    url: str


class ReportHealthOut(Schema):
    status: str
    label: str
    score: int
    factors: list[HealthFactorOut]


class ReportScopeOut(Schema):
    system_id: int
    system: str
    tier: int
    impact: SystemImpact
    impact_label: str
    target_version: str


class ReportPhaseOut(Schema):
    id: int
    name: str
    kind: PhaseKind
    kind_label: str
    status: PhaseStatus
    status_label: str
    planned_start: datetime.date
    planned_end: datetime.date
    baseline_start: datetime.date | None
    baseline_end: datetime.date | None
    actual_start: datetime.date | None
    actual_end: datetime.date | None
    percent_complete: int
    slip_days: int | None


class ReportMilestoneOut(Schema):
    id: int
    name: str
    kind: MilestoneKind
    kind_label: str
    phase: str | None
    planned_date: datetime.date
    baseline_date: datetime.date | None
    actual_date: datetime.date | None
    slip_days: int | None
    overdue: bool
    in_freeze: str | None


class ReportCriterionOut(Schema):
    text: str
    kind: CriterionKind
    kind_label: str
    check_key: str
    is_met: bool | None
    detail: str
    met_by: str | None
    met_at: datetime.datetime | None


class ReportApprovalOut(Schema):
    role: str
    role_label: str
    approver: str | None
    decision: ApprovalDecision
    decision_label: str
    comment: str
    decided_at: datetime.datetime


class ReportOverrideOut(Schema):
    reason: str
    by: str | None
    at: datetime.datetime | None


class ReportGateOut(Schema):
    id: int
    name: str
    phase: str | None
    blocks: ReleaseStatus
    blocks_label: str
    due_date: datetime.date
    overdue: bool
    status: GateStatus
    status_label: str
    decided_at: datetime.datetime | None
    approver_roles: list[str]
    approvals_missing: list[str]
    criteria: list[ReportCriterionOut]
    approvals: list[ReportApprovalOut]
    override: ReportOverrideOut | None


class ReportGateOverrideOut(ReportOverrideOut):
    gate: str


class ReportChildOut(Schema):
    id: int
    name: str
    status: ReleaseStatus
    status_label: str
    planned_start: datetime.date
    planned_end: datetime.date
    health: str | None
    score: int | None


class ReportRegisterItemOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    impact: str
    impact_label: str
    status: str
    status_label: str
    owner: str | None
    raised_on: datetime.date
    url: str


class ReportRisksOut(Schema):
    factors: list[HealthFactorOut]
    register_items: list[ReportRegisterItemOut] = Field(
        alias="register", description="The RAID items of its initiative and project, open ones first."
    )


class ReportDateChangeOut(Schema):
    field: str
    label: str
    old: Any = None
    new: Any = None


class ReportHistoryOut(Schema):
    occurred_at: datetime.datetime
    actor: str
    event_type: str
    object_type: str
    object: str
    changes: list[ReportDateChangeOut]
    reason: str


class ReleaseReportOut(Schema):
    """The printable release report."""

    generated_on: datetime.date
    release: ReportReleaseOut
    health: ReportHealthOut
    scope: list[ReportScopeOut]
    phases: list[ReportPhaseOut]
    milestones: list[ReportMilestoneOut]
    gates: list[ReportGateOut]
    overrides: list[ReportGateOverrideOut]
    children: list[ReportChildOut]
    risks: ReportRisksOut
    date_history: list[ReportHistoryOut] = Field(description="Changes of dates, newest first.")


# The schedule: dependencies, what-if and apply, history, forecast, critical path, predictability

DEPENDENCY_END_KEY = r"^(release|phase|milestone):[1-9][0-9]{0,17}$"
PLAN_ITEM_KEY = r"^(release|phase|milestone|gate):[1-9][0-9]{0,17}$"
LAG_DAYS = {"ge": -MAX_LAG_DAYS, "le": MAX_LAG_DAYS}
PlanItemKind = Literal["release", "phase", "milestone", "gate"]


class ScheduleDependencyEndOut(Schema):
    """One end of a dependency: the item and the release it belongs to."""

    key: str = Field(description='The item\'s key: "release:12", "phase:34" or "milestone:56".')
    kind: Literal["release", "phase", "milestone"]
    id: int
    name: str
    release_id: int
    release_name: str
    release_url: str


def _dependency_end(dependency, side: str) -> dict:
    release = getattr(dependency, f"{side}_release")
    phase = getattr(dependency, f"{side}_phase") if getattr(dependency, f"{side}_phase_id") else None
    milestone = getattr(dependency, f"{side}_milestone") if getattr(dependency, f"{side}_milestone_id") else None
    item, kind = (phase, "phase") if phase else (milestone, "milestone") if milestone else (release, "release")
    return {
        "key": getattr(dependency, f"{side}_key"),
        "kind": kind,
        "id": item.pk,
        "name": item.name,
        "release_id": release.pk,
        "release_name": release.name,
        "release_url": release.get_absolute_url(),
    }


class ScheduleDependencyOut(Schema):
    """The successor waits for the predecessor: FS, SS, FF or SF, with a lag in working days."""

    id: int
    predecessor: ScheduleDependencyEndOut = Field(description="The item waited for.")
    successor: ScheduleDependencyEndOut = Field(description="The item that waits.")
    kind: DependencyKind
    lag_days: int = Field(description="Working days on the successor's calendar (negative: a lead).")
    note: str
    version: int

    @staticmethod
    def resolve_predecessor(obj) -> dict:
        return _dependency_end(obj, "predecessor")

    @staticmethod
    def resolve_successor(obj) -> dict:
        return _dependency_end(obj, "successor")


DEPENDENCY_END = {"pattern": DEPENDENCY_END_KEY, "max_length": 40}


class ScheduleDependencyIn(StrictIn):
    predecessor: str = Field(**DEPENDENCY_END, description='The item waited for: "release:12", "phase:34" or …')
    successor: str = Field(**DEPENDENCY_END, description='The item that waits: "release:12", "phase:34" or …')
    kind: DependencyKind = DependencyKind.FINISH_TO_START
    lag_days: int = Field(0, **LAG_DAYS, description="Working days (negative: a lead), at most 250 either way.")
    note: str = TEXT


class ScheduleDependencyPatch(StrictIn):
    version: Version
    kind: DependencyKind | None = None
    lag_days: int | None = Field(None, **LAG_DAYS)
    note: str | None = Field(None, max_length=5000)


class ScheduleItemChangeIn(StrictIn):
    """One item to move: by a shift in working days or to a new start (exactly one of the two)."""

    item: str = Field(
        pattern=PLAN_ITEM_KEY, max_length=40, description='The item: "release:12", "phase:34", "milestone:56"…'
    )
    shift_days: int | None = Field(
        None,
        ge=-MAX_SHIFT_DAYS,
        le=MAX_SHIFT_DAYS,
        description=f"Working days later (negative: earlier) on its release's calendar, at most {MAX_SHIFT_DAYS}.",
    )
    new_start: Day | None = Field(None, description="Its new first day (its length is kept).")


CHANGES = Field(min_length=1, max_length=MAX_CHANGES, description=f"1 to {MAX_CHANGES} changes, one per item.")


class SchedulePreviewIn(StrictIn):
    changes: list[ScheduleItemChangeIn] = CHANGES


class ScheduleApplyIn(StrictIn):
    changes: list[ScheduleItemChangeIn] = CHANGES
    reason: str = Field(min_length=1, max_length=5000, description="Why the dates change; kept in every history entry.")
    fingerprint: str | None = Field(
        None,
        max_length=100,
        description="The preview's fingerprint: when the plan has changed since, the change is refused with 409.",
    )


class ScheduleImpactChangeOut(Schema):
    item: str
    name: str
    shift_days: int | None
    new_start: datetime.date | None


class ScheduleImpactStepOut(Schema):
    key: str
    name: str


class ScheduleImpactWindowOut(Schema):
    name: str
    start: datetime.date
    end: datetime.date


class ScheduleImpactItemOut(Schema):
    """A phase, milestone or gate that moves, and the chain of items that moved it."""

    key: str
    kind: PlanItemKind
    id: int
    name: str
    release_id: int
    release_name: str
    old_start: datetime.date
    old_end: datetime.date
    new_start: datetime.date
    new_end: datetime.date
    shift_days: int = Field(description="Working days its start moves (negative: earlier).")
    path: list[ScheduleImpactStepOut] = Field(description="From the item changed to this one.")
    postponed_past: ScheduleImpactWindowOut | None = Field(description="The deployment freeze it was pushed past.")
    url: str


class ScheduleImpactReleaseOut(Schema):
    """A release (or train) whose window or contents move."""

    id: int
    name: str
    kind: ReleaseKind
    train_id: int | None
    url: str
    old_start: datetime.date
    old_end: datetime.date
    new_start: datetime.date
    new_end: datetime.date
    start_shift_days: int
    end_shift_days: int
    items_moved: int
    cause: str = Field(description="What moved it: the chain of items, joined by arrows.")


class ScheduleImpactInFreezeOut(Schema):
    key: str
    name: str
    release_name: str
    date: datetime.date
    freeze: str


class ScheduleImpactPostponedOut(Schema):
    key: str
    name: str
    release_name: str
    from_: datetime.date = Field(alias="from", description="Where the change alone would have put it.")
    to: datetime.date
    freeze: str


class ScheduleImpactCriticalOut(Schema):
    release_id: int
    name: str
    became_critical: list[str]
    no_longer_critical: list[str]


class ScheduleImpactViolationOut(Schema):
    message: str


class ScheduleImpactNoteOut(Schema):
    text: str
    url: str | None = None
    severity: str


class ScheduleImpactSectionOut(Schema):
    """What one impact provider (environment bookings, test capacity…) finds."""

    key: str
    title: str
    items: list[ScheduleImpactNoteOut]


class ScheduleImpactSummaryOut(Schema):
    items_moved: int
    releases_moved: int
    trains_moved: int
    latest_end_shift_days: int = Field(description="The largest move of a release's end, in working days.")


class ScheduleImpactOut(Schema):
    """Everything a set of changes would move, changing nothing."""

    changes: list[ScheduleImpactChangeOut]
    moved: list[ScheduleImpactItemOut] = Field(description="Phases, milestones and gates, by release then start.")
    releases: list[ScheduleImpactReleaseOut] = Field(description="Every release whose window or contents move.")
    trains: list[ScheduleImpactReleaseOut] = Field(description="Trains whose end moves.")
    in_freeze: list[ScheduleImpactInFreezeOut] = Field(description="Moved milestones that land inside a freeze.")
    postponed: list[ScheduleImpactPostponedOut] = Field(description="Deploy milestones pushed past a freeze.")
    critical_path: list[ScheduleImpactCriticalOut]
    violations: list[ScheduleImpactViolationOut] = Field(description="Constraints the change would newly break.")
    impacts: list[ScheduleImpactSectionOut] = Field(description="What the impact providers find.")
    summary: ScheduleImpactSummaryOut
    fingerprint: str = Field(description="Send it with the apply, to refuse a plan changed since.")


class ScheduleApplyOut(ScheduleImpactOut):
    """The impact as applied."""

    applied: bool
    audit_event_id: int
    batch: uuid.UUID = Field(description="Shared by the history entries this change wrote.")


class ScheduleChangeOut(Schema):
    """One entry of a release's date-change history."""

    id: int
    batch: uuid.UUID
    occurred_at: datetime.datetime
    actor: str | None = Field(description="The username of who made the change; null for a command or a job.")
    actor_name: str = Field(description="Who made the change as people read it: their name, or the command or job.")
    reason: str
    cause: str
    old_start: datetime.date
    old_end: datetime.date
    new_start: datetime.date
    new_end: datetime.date
    start_shift_days: int = Field(description="Working days on the release's calendar (negative: earlier).")
    end_shift_days: int
    items_moved: int
    audit_event_id: int | None

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return _username(obj.actor)


class ReleasePredictabilityRowOut(Schema):
    key: str = Field(
        description='"team:12", "team:none", "portfolio:3", "portfolio:none", "2026-Q3"; "all" for the total.'
    )
    label: str
    id: int | None = Field(description="The team's or portfolio's id; null for the other groups.")
    releases: int = Field(description="Released releases in the group.")
    on_time: int = Field(description="Of them, how many ended on or before their baseline (else planned) end.")
    on_time_share: float | None = Field(description="0 to 1; null without releases.")
    mean_slip_days: float | None = Field(description="Working days (negative: early); null without releases.")
    p85_slip_days: float | None = Field(
        description="85 releases in 100 slipped this many working days or fewer; null without releases."
    )


class ReleasePredictabilityOut(Schema):
    group_by: str
    start: datetime.date | None
    end: datetime.date | None
    rows: list[ReleasePredictabilityRowOut] = Field(description="The groups, then the total over all of them.")


class ReleaseForecastOut(Schema):
    """A Monte Carlo forecast of a release's end from how long finished phases of the same kinds really took."""

    release_id: int
    planned_end: datetime.date
    p50: datetime.date | None = Field(description="Half the runs end by this day; null for a closed release.")
    p85: datetime.date | None = Field(description="85 runs in 100 end by this day; null for a closed release.")
    probability_on_time: float | None = Field(
        description="The share of runs ending by the planned end, 0 to 1; null for a closed release."
    )
    runs: int = Field(description="Runs simulated (0 for a closed release).")
    samples: int = Field(description="Historical durations drawn from.")
    basis: str = Field(description="What the forecast rests on, in a sentence.")


class ReleaseCriticalItemOut(Schema):
    """A phase, milestone or open gate with its total float."""

    key: str
    kind: PlanItemKind
    id: int
    name: str
    release_id: int
    release_name: str = Field(description="Its release (for a train: the train or one of its children).")
    start: datetime.date
    end: datetime.date
    total_float: int = Field(
        description="Working days it may slip without moving the end or a fixed date (0 or less: critical)."
    )
    critical: bool


class ReleaseCriticalPathOut(Schema):
    """The critical path of a release (a train with its children's), by the schedule engine."""

    release_id: int
    project_end: datetime.date = Field(description="The end the float is measured against.")
    items: list[ReleaseCriticalItemOut] = Field(description="By start; the critical ones have `critical` set.")
