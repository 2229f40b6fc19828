"""API schemas of the environments app: `<Entity>In`, `<Entity>Patch`, `<Entity>Out`."""

import datetime
import uuid
from decimal import Decimal
from typing import Literal

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from launchdeck.core.api import Id, StrictIn, UtcDatetime, Version
from launchdeck.environments.choices import (
    BookingStatus,
    BookingUsage,
    DeploymentOutcome,
    DeploymentSource,
    EnvironmentCategory,
    EnvironmentStatus,
    Hosting,
    MaskingStatus,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import MAX_CAPACITY, MAX_VERSION_LENGTH
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.schemas import Day

# Inventory

ENVIRONMENT_NAME = Field(min_length=1, max_length=120)
MONEY_PER_DAY = {"ge": 0, "le": Decimal("99999999.99"), "max_digits": 10, "decimal_places": 2}


class EnvironmentGroupOut(Schema):
    id: int
    name: str
    description: str
    environment_count: int = 0
    version: int


class EnvironmentGroupIn(StrictIn):
    name: str = ENVIRONMENT_NAME
    description: str = Field("", max_length=5000)


class EnvironmentGroupPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=5000)


class EnvironmentLinkOut(Schema):
    id: int
    name: str
    status: EnvironmentStatus


class EnvironmentOut(Schema):
    id: int
    name: str
    category: EnvironmentCategory
    environment_type: EnvironmentType
    hosting: Hosting
    group_id: int | None
    group: str | None = Field(None, alias="group.name")
    owner_team_id: int
    owner_team: str = Field(alias="owner_team.name")
    capacity: int = Field(description="How many bookings may overlap: 1 is exclusive.")
    cost_per_day: float
    url: str
    description: str
    status: EnvironmentStatus
    status_since: datetime.datetime
    open_booking_count: int = Field(0, description="Requested, approved or active bookings that have not ended.")
    version: int


class EnvironmentDetailOut(EnvironmentOut):
    depends_on: list[EnvironmentLinkOut] = Field(description="Environments this one needs to work.")
    needed_by: list[EnvironmentLinkOut] = Field(description="Environments that depend on this one.")


class EnvironmentIn(StrictIn):
    name: str = ENVIRONMENT_NAME
    environment_type: EnvironmentType
    owner_team_id: Id
    category: EnvironmentCategory = EnvironmentCategory.NON_PRODUCTION
    hosting: Hosting = Hosting.CLOUD
    group_id: Id | None = None
    capacity: int = Field(1, ge=1, le=MAX_CAPACITY, description="How many bookings may overlap: 1 is exclusive.")
    cost_per_day: Decimal = Field(Decimal("0"), **MONEY_PER_DAY)
    url: str = Field("", max_length=500)
    description: str = Field("", max_length=5000)
    status: EnvironmentStatus = Field(
        EnvironmentStatus.AVAILABLE, description="The first status (not decommissioned); it starts the history."
    )
    depends_on_ids: list[Id] = Field(default_factory=list, max_length=500)


class EnvironmentPatch(StrictIn):
    version: Version
    name: str | None = Field(None, min_length=1, max_length=120)
    environment_type: EnvironmentType | None = None
    owner_team_id: Id | None = None
    category: EnvironmentCategory | None = None
    hosting: Hosting | None = None
    group_id: Id | None = None
    capacity: int | None = Field(None, ge=1, le=MAX_CAPACITY)
    cost_per_day: Decimal | None = Field(None, **MONEY_PER_DAY)
    url: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=5000)
    depends_on_ids: list[Id] | None = Field(None, max_length=500, description="Replaces the whole list.")


class EnvironmentStatusIn(StrictIn):
    status: EnvironmentStatus
    note: str = Field("", max_length=500)
    at: UtcDatetime | None = Field(None, description="When the status began (default now); not before the current one.")


class EnvironmentStatusChangeOut(Schema):
    id: int
    status: EnvironmentStatus
    started_at: datetime.datetime
    note: str
    actor_name: str


class EnvironmentStatusHistoryOut(Schema):
    environment_id: int
    start: datetime.datetime
    end: datetime.datetime
    availability: float | None = Field(
        description="Time up / time in service within the window (0 to 1); null when it was never in service."
    )
    changes: list[EnvironmentStatusChangeOut] = Field(description="The entries in force during the window.")


class EnvironmentComponentOut(Schema):
    id: int
    environment_id: int
    system_id: int
    system: str = Field(alias="system.name")
    component_id: int | None
    version: str = Field(description="The version of the system deployed there.")
    configuration: str
    deployed_at: datetime.datetime | None


class EnvironmentComponentIn(StrictIn):
    system_id: Id = Field(description="The system; setting it again replaces what is recorded for it.")
    component_id: Id | None = None
    version: str = Field("", max_length=MAX_VERSION_LENGTH, description="The version deployed.")
    configuration: str = Field("", max_length=5000)
    deployed_at: UtcDatetime | None = None


class EnvironmentComponentPatch(StrictIn):
    component_id: Id | None = None
    version: str | None = Field(None, max_length=MAX_VERSION_LENGTH, description="The version deployed.")
    configuration: str | None = Field(None, max_length=5000)
    deployed_at: UtcDatetime | None = None


# Bookings


class BookingOut(Schema):
    id: int
    environment_id: int
    environment: str = Field(alias="environment.name")
    starts_at: datetime.datetime
    ends_at: datetime.datetime = Field(description="The end of the window (exclusive).")
    usage: BookingUsage
    status: BookingStatus
    requester_id: int | None
    requester: str | None = None
    team_id: int | None
    release_id: int | None
    release: str | None = None
    phase_id: int | None
    phase: str | None = None
    purpose: str
    series: uuid.UUID | None = Field(description="Shared by the occurrences of a recurring booking.")
    decided_by_id: int | None
    decided_at: datetime.datetime | None
    decision_note: str
    version: int

    @staticmethod
    def resolve_requester(obj) -> str | None:
        return obj.requester.get_username() if obj.requester_id else None

    @staticmethod
    def resolve_release(obj) -> str | None:
        return obj.release.name if obj.release_id else None

    @staticmethod
    def resolve_phase(obj) -> str | None:
        return obj.phase.name if obj.phase_id else None


class BookingIn(StrictIn):
    environment_id: Id
    starts_at: UtcDatetime
    ends_at: UtcDatetime = Field(
        description="The end of the window (exclusive); 30 minutes to 366 days after the start."
    )
    usage: BookingUsage = BookingUsage.EXCLUSIVE
    release_id: Id | None = None
    phase_id: Id | None = Field(None, description="The phase it serves; the booking takes the phase's release.")
    team_id: Id | None = None
    purpose: str = Field("", max_length=200)
    repeat: Literal["none", "weekly", "monthly"] = "none"
    occurrences: int = Field(1, ge=1, le=52, description="How many windows a repeating booking books.")


class BookingPatch(StrictIn):
    version: Version
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    usage: BookingUsage | None = None
    purpose: str | None = Field(None, max_length=200)
    team_id: Id | None = None


class BookingActionIn(StrictIn):
    version: Version | None = None
    note: str = Field("", max_length=2000, description="Why (required to reject).")


class BookingConflictOut(Schema):
    booking: BookingOut
    reasons: list[str]


class NextFreeSlotOut(Schema):
    environment_id: int
    usage: BookingUsage
    duration_hours: float
    earliest: datetime.datetime
    latest: datetime.datetime = Field(description="How far the search looked (90 days after `earliest`).")
    starts_at: datetime.datetime | None = Field(description="None when nothing fits in the 90 days.")
    ends_at: datetime.datetime | None


# Environment requests

EFFORT = {"ge": Decimal("0.5"), "le": Decimal("10000"), "max_digits": 7, "decimal_places": 1}


class EnvironmentRequestOut(Schema):
    id: int
    title: str
    kind: RequestKind
    status: RequestStatus
    environment_id: int | None
    environment: str | None
    environment_type: str
    release_id: int | None
    release: str | None
    phase_id: int | None
    phase: str | None
    team_id: int
    team: str
    effort_hours: float
    sla_days: int = Field(description="Working days the team has for the work.")
    starts_on: datetime.date = Field(description="When the work starts: the due date less the SLA, in working days.")
    due_on: datetime.date = Field(description="The last working day before the phase that needs it starts.")
    masking: MaskingStatus
    requester: str | None
    description: str
    completed_at: datetime.datetime | None
    version: int

    @staticmethod
    def resolve_environment(obj) -> str | None:
        return obj.environment.name if obj.environment_id else None

    @staticmethod
    def resolve_release(obj) -> str | None:
        return obj.release.name if obj.release_id else None

    @staticmethod
    def resolve_phase(obj) -> str | None:
        return obj.phase.name if obj.phase_id else None

    @staticmethod
    def resolve_team(obj) -> str:
        return obj.team.name

    @staticmethod
    def resolve_effort_hours(obj) -> float:
        return float(obj.effort_hours)

    @staticmethod
    def resolve_requester(obj) -> str | None:
        return obj.requester.get_username() if obj.requester_id else None


class EnvironmentRequestIn(StrictIn):
    title: str = Field(min_length=1, max_length=200)
    kind: RequestKind
    team_id: Id = Field(description="The team that does the work.")
    effort_hours: Decimal = Field(**EFFORT)
    sla_days: int | None = Field(
        None,
        ge=1,
        le=250,
        description="Working days; by kind when omitted (provisioning 10, configuration 3, data refresh 5, "
        "decommission 5).",
    )
    environment_id: Id | None = Field(None, description="Required except for provisioning.")
    environment_type: EnvironmentType | None = Field(None, description="Required for provisioning.")
    release_id: Id | None = None
    phase_id: Id | None = Field(None, description="The phase that needs the environment: the request is due before it.")
    due_on: Day | None = Field(None, description="Required when no phase is given.")
    description: str = Field("", max_length=5000)


class EnvironmentRequestPatch(StrictIn):
    version: Version
    title: str | None = Field(None, min_length=1, max_length=200)
    team_id: Id | None = None
    effort_hours: Decimal | None = Field(None, **EFFORT)
    sla_days: int | None = Field(None, ge=1, le=250)
    environment_id: Id | None = None
    environment_type: EnvironmentType | None = None
    release_id: Id | None = None
    phase_id: Id | None = None
    due_on: Day | None = None
    description: str | None = Field(None, max_length=5000)


class EnvironmentRequestNoteIn(StrictIn):
    note: str = Field("", max_length=500, description="Why, for the audit trail.")


class TeamEnvironmentLoadWeekOut(Schema):
    week: str = Field(description="ISO week, e.g. 2026-W10.")
    start: datetime.date
    committed: float = Field(description="Person-days (8 hours) of open environment requests in the week.")
    capacity: float
    over: bool


class TeamEnvironmentLoadOut(Schema):
    team_id: int
    team: str
    capacity: float = Field(description="The team's person-days per week.")
    start: datetime.date
    open_requests: int
    over_weeks: int
    weeks: list[TeamEnvironmentLoadWeekOut]


# Deployments and versions
class DeploymentOut(Schema):
    id: int
    system_id: int
    system: str = Field(alias="system.name")
    environment_id: int
    environment: str = Field(alias="environment.name")
    version: str
    deployed_at: datetime.datetime
    outcome: DeploymentOutcome
    source: DeploymentSource
    release_id: int | None
    release: str | None = None
    change_reference: str
    external_id: str
    notes: str
    recorded_by: str | None = None
    recorded_at: datetime.datetime

    @staticmethod
    def resolve_release(obj) -> str | None:
        return obj.release.name if obj.release_id else None

    @staticmethod
    def resolve_recorded_by(obj) -> str | None:
        return obj.recorded_by.username if obj.recorded_by_id else None


class DeploymentIn(BaseModel):
    """A deployment; name the system, the environment and the release by id (`system_id`) or by name (`system`).

    A plain pydantic model refusing unknown fields like `StrictIn`: Ninja's schema wrapper costs about half a
    millisecond a row, which a bulk request of 5,000 rows would feel.
    """

    model_config = ConfigDict(extra="forbid")

    system_id: Id | None = Field(None, description="The system's id; or give its name as `system`.")
    system: str | None = Field(None, min_length=1, max_length=150, description="The system's name (any case).")
    environment_id: Id | None = Field(None, description="The environment's id; or give its name as `environment`.")
    environment: str | None = Field(None, min_length=1, max_length=120, description="The environment's name.")
    version: str = Field(min_length=1, max_length=MAX_VERSION_LENGTH, description="One line, e.g. 4.2.0 or a1b2c3d.")
    deployed_at: UtcDatetime | None = Field(None, description="When it was deployed (default: now); a time zone.")
    outcome: DeploymentOutcome = DeploymentOutcome.SUCCEEDED
    source: DeploymentSource = DeploymentSource.MANUAL
    release_id: Id | None = None
    release: str | None = Field(None, min_length=1, max_length=150, description="The release's name.")
    change_reference: str = Field("", max_length=50, description="The change request's reference.")
    external_id: str = Field("", max_length=100, description="The pipeline run that reports it: once per source.")
    notes: str = Field("", max_length=5000)


class DeploymentBulkIn(StrictIn):
    rows: list[DeploymentIn] = Field(min_length=1, max_length=5000, description="1 to 5,000 deployments.")


class DeploymentBulkOut(Schema):
    count: int
    ids: list[int]


class VersionMatrixEnvironmentOut(Schema):
    id: int
    name: str
    environment_type: EnvironmentType
    category: EnvironmentCategory
    group: str | None


class VersionCellOut(Schema):
    environment_id: int
    version: str
    deployed_at: datetime.datetime | None
    drift_from_production: bool
    drift_from_target: bool


class VersionMatrixRowOut(Schema):
    system_id: int
    system: str
    production_version: str | None = Field(description="The version in production (the newest, where they differ).")
    target_version: str | None = Field(description="The release's target version, when a release is asked about.")
    drifting: bool
    cells: list[VersionCellOut | None] = Field(description="One per environment, in the order of `environments`.")


class VersionMatrixOut(Schema):
    environments: list[VersionMatrixEnvironmentOut]
    rows: list[VersionMatrixRowOut]
    system_count: int = Field(description="Rows in all, before `limit` and `offset`.")
    drift_from_production: int = Field(description="Cells that differ from production.")
    drift_from_target: int = Field(description="Cells that differ from the release's target version.")
    release_id: int | None
    limit: int
    offset: int


# Schedule, utilisation and demand


class EnvironmentScheduleGroupOut(Schema):
    id: str
    label: str
    environments: list[int] = Field(description="The ids of the environment rows in this group, in order.")


class EnvironmentScheduleRowOut(Schema):
    id: int
    name: str
    type: str
    type_label: str
    category: str
    capacity: int
    status: str
    group: int | None
    group_name: str | None
    url: str | None


class EnvironmentScheduleBookingOut(Schema):
    id: int
    environment: int
    start: datetime.datetime
    end: datetime.datetime = Field(description="Exclusive.")
    usage: str
    status: str
    label: str = Field(description="The release and phase it serves, else its purpose.")
    purpose: str
    conflict: bool = Field(description="It does not fit beside the environment's other live bookings (capacity).")
    url: str | None


class EnvironmentScheduleFreezeOut(Schema):
    id: str
    window_id: int
    name: str
    scope: str
    start: datetime.date
    end: datetime.date = Field(description="The last day (inclusive).")
    environments: list[int] | None = Field(description="The environment rows it covers; null: every environment.")


class EnvironmentScheduleOut(Schema):
    start: datetime.date
    end: datetime.date
    today: datetime.date
    group_by: str
    groups: list[EnvironmentScheduleGroupOut]
    environments: list[EnvironmentScheduleRowOut]
    bookings: list[EnvironmentScheduleBookingOut]
    freezes: list[EnvironmentScheduleFreezeOut]
    conflicts: int = Field(description="How many bookings shown do not fit beside the others.")


class EnvironmentWeekOut(Schema):
    start: datetime.date = Field(description="The Monday of the ISO week.")
    label: str = Field(description="The ISO week, as 2026-W10.")


class EnvironmentUtilisationWeekOut(Schema):
    booked: float = Field(description="Days covered by approved, active or released bookings.")
    available: float = Field(description="Days in service and up.")
    utilisation: float | None = Field(description="Booked / available, in percent (at most 100); null: not available.")


class EnvironmentUtilisationRowOut(Schema):
    id: int
    name: str
    type: str
    type_label: str
    group: str | None
    status: str
    cost_per_day: float
    url: str | None
    weeks: list[EnvironmentUtilisationWeekOut]
    booked: float
    available: float
    utilisation: float | None
    idle_days: float = Field(description="Available days not booked.")
    idle_cost: float = Field(description="Cost per day times the idle days.")
    idle: bool = Field(description="No booking in the whole window.")


class EnvironmentUtilisationTotalsOut(Schema):
    booked: float
    available: float
    utilisation: float | None
    idle_cost: float
    idle_environments: int
    environments: int


class EnvironmentUtilisationOut(Schema):
    start: datetime.date
    end: datetime.date
    weeks: list[EnvironmentWeekOut]
    environments: list[EnvironmentUtilisationRowOut]
    idle: list[int] = Field(description="The idle environments' ids, the costliest first.")
    totals: EnvironmentUtilisationTotalsOut


class EnvironmentDemandTypeOut(Schema):
    type: str
    label: str
    supply: int = Field(description="Environments of this type in service.")
    demand: list[int] = Field(description="Per week: phases of planned and in-progress releases needing this type.")
    shortage: list[bool]
    shortage_weeks: int
    peak_demand: int
    worst_gap: int = Field(description="The most phases in one week beyond the supply (negative: spare).")


class EnvironmentDemandOut(Schema):
    start: datetime.date
    end: datetime.date
    weeks: list[EnvironmentWeekOut]
    types: list[EnvironmentDemandTypeOut]
    shortage_weeks: int = Field(description="Weeks in which any type is short.")
