"""The environments API: inventory, bookings, environment requests, deployments and versions, utilisation."""

from datetime import timedelta
from typing import Annotated

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from launchdeck.catalog.models import Component, System
from launchdeck.core.api import (
    ERROR_RESPONSES,
    MAX_ID,
    READ_RESPONSES,
    Id,
    Pagination,
    UtcDatetime,
    apply_sort,
    referenced,
    referenced_all,
)
from launchdeck.core.errors import ValidationFailed
from launchdeck.core.services import blank_text_clears, require_plausible_dates
from launchdeck.environments import rules, selectors, services
from launchdeck.environments.choices import (
    BookingStatus,
    BookingUsage,
    DeploymentOutcome,
    DeploymentSource,
    EnvironmentCategory,
    EnvironmentStatus,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import Environment, EnvironmentComponent, EnvironmentGroup, EnvironmentRequest
from launchdeck.environments.schemas import (
    BookingActionIn,
    BookingConflictOut,
    BookingIn,
    BookingOut,
    BookingPatch,
    DeploymentBulkIn,
    DeploymentBulkOut,
    DeploymentIn,
    DeploymentOut,
    EnvironmentComponentIn,
    EnvironmentComponentOut,
    EnvironmentComponentPatch,
    EnvironmentDemandOut,
    EnvironmentDetailOut,
    EnvironmentGroupIn,
    EnvironmentGroupOut,
    EnvironmentGroupPatch,
    EnvironmentIn,
    EnvironmentOut,
    EnvironmentPatch,
    EnvironmentRequestIn,
    EnvironmentRequestNoteIn,
    EnvironmentRequestOut,
    EnvironmentRequestPatch,
    EnvironmentScheduleOut,
    EnvironmentStatusHistoryOut,
    EnvironmentStatusIn,
    EnvironmentUtilisationOut,
    NextFreeSlotOut,
    TeamEnvironmentLoadOut,
    VersionMatrixOut,
)
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.models import Phase, Release
from launchdeck.releases.schemas import Day

router = Router(tags=["Environments"])

# Inventory: environments, groups, components, status

# The inventory's operations hang on a router of their own, added after this module's operations: Ninja matches
# paths in the order they were added, and `/environments/{environment_id}` must come after fixed paths such as
# `/environments/schedule`, which it would otherwise take for an id.
inventory = Router(tags=["Environments"])

EnvironmentPathId = Annotated[int, Path(ge=1, le=MAX_ID)]
ENVIRONMENT_SORTS = {
    "name": "name",
    "type": "environment_type",
    "category": "category",
    "status": "status",
    "capacity": "capacity",
    "cost_per_day": "cost_per_day",
    "group": "group__name",
    "owner_team": "owner_team__name",
}


class EnvironmentFilter(Schema):
    search: str | None = Field(None, max_length=200)
    type: EnvironmentType | None = None
    category: EnvironmentCategory | None = None
    group: Id | None = None
    status: EnvironmentStatus | None = None
    owner_team: Id | None = None
    sort: str | None = Field(None, max_length=200)


class EnvironmentGroupFilter(Schema):
    search: str | None = Field(None, max_length=200)


class StatusHistoryWindow(Schema):
    start: UtcDatetime | None = Field(None, description="Default: 90 days before `end`.")
    end: UtcDatetime | None = Field(None, description="Default: now.")


def _environment(request, pk: int) -> Environment:
    return selectors.environment_get(user=request.auth, pk=pk)


def _environment_references(request, data: dict) -> dict:
    """Turn the ids of an environment's input into the rows they name, among those the caller may see."""
    if "owner_team_id" in data:
        team_id = data.pop("owner_team_id")
        if team_id is None:
            raise ValidationFailed.field("owner_team_id", "An environment needs an owner team.")
        data["owner_team"] = referenced(Team.objects.restrict(request.auth), team_id, field="owner_team_id")
    if "group_id" in data:
        data["group"] = referenced(
            EnvironmentGroup.objects.restrict(request.auth), data.pop("group_id"), field="group_id"
        )
    if "depends_on_ids" in data:
        ids = data.pop("depends_on_ids")
        data["depends_on"] = referenced_all(Environment.objects.restrict(request.auth), ids, field="depends_on_ids")
    return data


@inventory.get(
    "/environment-groups",
    response={200: list[EnvironmentGroupOut], **READ_RESPONSES},
    operation_id="list_environment_groups",
)
@paginate(Pagination)
def list_environment_groups(request: HttpRequest, filters: Query[EnvironmentGroupFilter]):
    """Groups ("lanes") of environments planned together, with how many environments each holds."""
    return selectors.environment_group_list(user=request.auth, search=filters.search)


@inventory.post(
    "/environment-groups",
    response={201: EnvironmentGroupOut, **ERROR_RESPONSES},
    operation_id="create_environment_group",
)
def create_environment_group(request: HttpRequest, payload: EnvironmentGroupIn):
    group = services.environment_group_create(actor=request.auth, **payload.dict())
    return Status(201, selectors.environment_group_get(user=request.auth, pk=group.pk))


@inventory.get(
    "/environment-groups/{group_id}",
    response={200: EnvironmentGroupOut, **READ_RESPONSES},
    operation_id="get_environment_group",
)
def get_environment_group(request: HttpRequest, group_id: EnvironmentPathId):
    return selectors.environment_group_get(user=request.auth, pk=group_id)


@inventory.patch(
    "/environment-groups/{group_id}",
    response={200: EnvironmentGroupOut, **ERROR_RESPONSES},
    operation_id="update_environment_group",
)
def update_environment_group(request: HttpRequest, group_id: EnvironmentPathId, payload: EnvironmentGroupPatch):
    group = selectors.environment_group_get(user=request.auth, pk=group_id)
    services.environment_group_update(actor=request.auth, group=group, **payload.dict(exclude_unset=True))
    return selectors.environment_group_get(user=request.auth, pk=group_id)


@inventory.delete(
    "/environment-groups/{group_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_environment_group",
)
def delete_environment_group(request: HttpRequest, group_id: EnvironmentPathId):
    """Remove a group; its environments stay, in no group."""
    group = selectors.environment_group_get(user=request.auth, pk=group_id)
    services.environment_group_delete(actor=request.auth, group=group)
    return Status(204, None)


@inventory.get(
    "/environments", response={200: list[EnvironmentOut], **READ_RESPONSES}, operation_id="list_environments"
)
@paginate(Pagination)
def list_environments(request: HttpRequest, filters: Query[EnvironmentFilter]):
    """The environment inventory; filter by type, category, group, status, owner team or `search`."""
    environments = selectors.environment_list(
        user=request.auth,
        search=filters.search,
        environment_type=filters.type,
        category=filters.category,
        group=filters.group,
        status=filters.status,
        owner_team=filters.owner_team,
    )
    return apply_sort(environments, filters.sort, ENVIRONMENT_SORTS, "name")


@inventory.post(
    "/environments", response={201: EnvironmentDetailOut, **ERROR_RESPONSES}, operation_id="create_environment"
)
def create_environment(request: HttpRequest, payload: EnvironmentIn):
    """Add an environment; its first status starts its history now."""
    data = _environment_references(request, payload.dict())
    environment = services.environment_create(actor=request.auth, **data)
    return Status(201, _environment(request, environment.pk))


@inventory.get(
    "/environments/{environment_id}",
    response={200: EnvironmentDetailOut, **READ_RESPONSES},
    operation_id="get_environment",
)
def get_environment(request: HttpRequest, environment_id: EnvironmentPathId):
    return _environment(request, environment_id)


@inventory.patch(
    "/environments/{environment_id}",
    response={200: EnvironmentDetailOut, **ERROR_RESPONSES},
    operation_id="update_environment",
)
def update_environment(request: HttpRequest, environment_id: EnvironmentPathId, payload: EnvironmentPatch):
    """Change an environment; `depends_on_ids` replaces the whole list. The status changes through `/status`."""
    changes = _environment_references(request, payload.dict(exclude_unset=True))
    services.environment_update(actor=request.auth, environment=_environment(request, environment_id), **changes)
    return _environment(request, environment_id)


@inventory.delete(
    "/environments/{environment_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_environment",
)
def delete_environment(request: HttpRequest, environment_id: EnvironmentPathId):
    """Remove an environment recorded by mistake; one with bookings or deployments is decommissioned instead."""
    services.environment_delete(actor=request.auth, environment=_environment(request, environment_id))
    return Status(204, None)


@inventory.post(
    "/environments/{environment_id}/status",
    response={200: EnvironmentDetailOut, **ERROR_RESPONSES},
    operation_id="set_environment_status",
)
def set_environment_status(request: HttpRequest, environment_id: EnvironmentPathId, payload: EnvironmentStatusIn):
    """Record a new status (available, down, maintenance, decommissioned…) from `at` (default now)."""
    environment = _environment(request, environment_id)
    services.environment_status_set(actor=request.auth, environment=environment, **payload.dict())
    return _environment(request, environment_id)


@inventory.get(
    "/environments/{environment_id}/status-history",
    response={200: EnvironmentStatusHistoryOut, **READ_RESPONSES},
    operation_id="get_environment_status_history",
)
def get_environment_status_history(
    request: HttpRequest, environment_id: EnvironmentPathId, window: Query[StatusHistoryWindow]
):
    """The status entries in force during the window (default the last 90 days) and the availability over it."""
    environment = _environment(request, environment_id)
    start, end = window.start, window.end
    if start is None or end is None:
        default_start, default_end = selectors.default_history_window(end)
        start, end = start or default_start, end or default_end
    changes = selectors.environment_status_history(user=request.auth, environment=environment, start=start, end=end)
    return {
        "environment_id": environment.pk,
        "start": start,
        "end": end,
        "availability": selectors.environment_availability(environment, start, end, user=request.auth),
        "changes": changes,
    }


@inventory.get(
    "/environments/{environment_id}/components",
    response={200: list[EnvironmentComponentOut], **READ_RESPONSES},
    operation_id="list_environment_components",
)
def list_environment_components(request: HttpRequest, environment_id: EnvironmentPathId):
    """The systems installed in the environment and the version of each."""
    environment = _environment(request, environment_id)
    return list(selectors.environment_component_list(user=request.auth, environment=environment))


def _component_references(request, data: dict) -> dict:
    if "system_id" in data:
        data["system"] = referenced(System.objects.restrict(request.auth), data.pop("system_id"), field="system_id")
    if "component_id" in data:
        data["component"] = referenced(
            Component.objects.restrict(request.auth), data.pop("component_id"), field="component_id"
        )
    return data


@inventory.post(
    "/environments/{environment_id}/components",
    response={200: EnvironmentComponentOut, 201: EnvironmentComponentOut, **ERROR_RESPONSES},
    operation_id="set_environment_component",
)
def set_environment_component(request: HttpRequest, environment_id: EnvironmentPathId, payload: EnvironmentComponentIn):
    """Record the system's version and configuration in the environment; a system already there is replaced."""
    environment = _environment(request, environment_id)
    data = _component_references(request, payload.dict())
    exists = EnvironmentComponent.objects.filter(environment=environment, system=data["system"]).exists()
    row = services.environment_component_set(actor=request.auth, environment=environment, **data)
    return Status(200 if exists else 201, row)


@inventory.patch(
    "/environments/{environment_id}/components/{environment_component_id}",
    response={200: EnvironmentComponentOut, **ERROR_RESPONSES},
    operation_id="update_environment_component",
)
def update_environment_component(
    request: HttpRequest,
    environment_id: EnvironmentPathId,
    environment_component_id: EnvironmentPathId,
    payload: EnvironmentComponentPatch,
):
    """Change some of a component's fields; the others stay."""
    environment = _environment(request, environment_id)
    row = selectors.environment_component_get(user=request.auth, environment=environment, pk=environment_component_id)
    current = {
        "system": row.system,
        "component": row.component,
        "version": row.version,
        "configuration": row.configuration,
        "deployed_at": row.deployed_at,
    }
    changes = _component_references(request, payload.dict(exclude_unset=True))
    blank_text_clears(changes, "version", "configuration")
    return services.environment_component_set(actor=request.auth, environment=environment, **{**current, **changes})


@inventory.delete(
    "/environments/{environment_id}/components/{environment_component_id}",
    response={204: None, **ERROR_RESPONSES},
    operation_id="delete_environment_component",
)
def delete_environment_component(
    request: HttpRequest, environment_id: EnvironmentPathId, environment_component_id: EnvironmentPathId
):
    """Forget that the system runs in the environment."""
    environment = _environment(request, environment_id)
    row = selectors.environment_component_get(user=request.auth, environment=environment, pk=environment_component_id)
    services.environment_component_remove(actor=request.auth, component=row)
    return Status(204, None)


router.add_router("", inventory)


# Bookings

BookingPathId = Annotated[int, Path(ge=1, le=MAX_ID)]
BOOKING_SORTS = {"starts_at": "starts_at", "ends_at": "ends_at", "status": "status", "environment": "environment__name"}


class BookingFilter(Schema):
    environment: Id | None = None
    group: Id | None = None
    type: EnvironmentType | None = None
    status: BookingStatus | None = None
    release: Id | None = None
    phase: Id | None = None
    requester: Id | None = None
    start: UtcDatetime | None = Field(None, description="Bookings that end after this moment.")
    end: UtcDatetime | None = Field(None, description="Bookings that start before this moment.")
    sort: str | None = Field(None, max_length=200)


class ConflictWindow(Schema):
    start: UtcDatetime
    end: UtcDatetime
    environment: list[Id] | None = Field(None, description="Only these environments (repeat the parameter).")


class NextFreeSlotQuery(Schema):
    duration_hours: float = Field(
        ge=rules.MIN_BOOKING.total_seconds() / 3600,
        le=24 * rules.BOOKING_SEARCH_DAYS,
        description=f"How long the booking lasts: 30 minutes to {rules.BOOKING_SEARCH_DAYS} days.",
    )
    usage: BookingUsage = BookingUsage.EXCLUSIVE
    earliest: UtcDatetime | None = Field(
        None, description=f"Search from here (default now), for {rules.BOOKING_SEARCH_DAYS} days."
    )


def _booking(request, pk: int):
    return selectors.booking_get(user=request.auth, pk=pk)


def _booking_references(request, data: dict) -> dict:
    if "environment_id" in data:
        data["environment"] = referenced(
            Environment.objects.restrict(request.auth), data.pop("environment_id"), field="environment_id"
        )
    if "release_id" in data:
        data["release"] = referenced(Release.objects.restrict(request.auth), data.pop("release_id"), field="release_id")
    if "phase_id" in data:
        data["phase"] = referenced(
            Phase.objects.restrict(request.auth).select_related("release"), data.pop("phase_id"), field="phase_id"
        )
    if "team_id" in data:
        data["team"] = referenced(Team.objects.restrict(request.auth), data.pop("team_id"), field="team_id")
    return data


@router.get(
    "/bookings/conflicts",
    response={200: list[BookingConflictOut], **READ_RESPONSES},
    operation_id="list_booking_conflicts",
)
def list_booking_conflicts(request: HttpRequest, window: Query[ConflictWindow]):
    """The live bookings in `start`..`end` that need attention, with the reasons: overbooked, inside a booking
    freeze, on an environment that is down or decommissioned, or outside the phase they serve."""
    return selectors.booking_conflict_report(
        user=request.auth, start=window.start, end=window.end, environment_ids=window.environment
    )


@router.get("/bookings", response={200: list[BookingOut], **READ_RESPONSES}, operation_id="list_bookings")
@paginate(Pagination)
def list_bookings(request: HttpRequest, filters: Query[BookingFilter]):
    """Environment bookings; filter by environment, group, type, status, release, phase, requester or window."""
    data = filters.dict(exclude={"sort", "type"})
    bookings = selectors.booking_list(user=request.auth, environment_type=filters.type, **data)
    return apply_sort(bookings, filters.sort, BOOKING_SORTS, "starts_at")


@router.post("/bookings", response={201: list[BookingOut], **ERROR_RESPONSES}, operation_id="create_booking")
def create_booking(request: HttpRequest, payload: BookingIn):
    """Request an environment for a window (or a weekly or monthly series of windows, all or none); answers the
    bookings made. A window that does not fit beside the live bookings (capacity) or falls in a booking freeze is a
    409 naming what it clashes with."""
    made = services.booking_request(actor=request.auth, **_booking_references(request, payload.dict()))
    return Status(201, list(selectors.booking_list(user=request.auth).filter(pk__in=[booking.pk for booking in made])))


@router.get("/bookings/{booking_id}", response={200: BookingOut, **READ_RESPONSES}, operation_id="get_booking")
def get_booking(request: HttpRequest, booking_id: BookingPathId):
    return _booking(request, booking_id)


@router.patch("/bookings/{booking_id}", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="update_booking")
def update_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingPatch):
    """Move or resize a booking, or change its usage, purpose or team; the new window is checked again."""
    changes = _booking_references(request, payload.dict(exclude_unset=True))
    services.booking_update(actor=request.auth, booking=_booking(request, booking_id), **changes)
    return _booking(request, booking_id)


def _booking_action(request, booking_id: int, payload: BookingActionIn, action: str):
    booking = _booking(request, booking_id)
    services.booking_act(actor=request.auth, booking=booking, action=action, version=payload.version, note=payload.note)
    return _booking(request, booking_id)


@router.post(
    "/bookings/{booking_id}/approve", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="approve_booking"
)
def approve_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingActionIn):
    """Approve a requested booking (environment managers; not one's own unless the policy allows it)."""
    return _booking_action(request, booking_id, payload, "approve")


@router.post(
    "/bookings/{booking_id}/reject", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="reject_booking"
)
def reject_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingActionIn):
    """Reject a booking, saying why in `note`."""
    return _booking_action(request, booking_id, payload, "reject")


@router.post(
    "/bookings/{booking_id}/activate", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="activate_booking"
)
def activate_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingActionIn):
    """Mark an approved booking as in use."""
    return _booking_action(request, booking_id, payload, "activate")


@router.post(
    "/bookings/{booking_id}/release", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="release_booking"
)
def release_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingActionIn):
    """Give an active booking back."""
    return _booking_action(request, booking_id, payload, "release")


@router.post(
    "/bookings/{booking_id}/cancel", response={200: BookingOut, **ERROR_RESPONSES}, operation_id="cancel_booking"
)
def cancel_booking(request: HttpRequest, booking_id: BookingPathId, payload: BookingActionIn):
    """Cancel a requested or approved booking."""
    return _booking_action(request, booking_id, payload, "cancel")


@router.get(
    "/environments/{environment_id}/next-free-slot",
    response={200: NextFreeSlotOut, **READ_RESPONSES},
    operation_id="get_next_free_slot",
)
def get_next_free_slot(request: HttpRequest, environment_id: BookingPathId, query: Query[NextFreeSlotQuery]):
    """The earliest window of `duration_hours` within 90 days from `earliest` (default now) that fits beside the
    live bookings and outside the booking freezes covering the environment."""
    environment = Environment.objects.restrict(request.auth).get_visible(pk=environment_id)
    unbookable = selectors.unbookable_reason(environment)
    if unbookable:
        raise ValidationFailed.field("environment", unbookable)
    earliest = query.earliest or timezone.now()
    require_plausible_dates(earliest=earliest.date())
    require_plausible_dates(earliest=(earliest + timedelta(days=selectors.BOOKING_SEARCH_DAYS)).date())
    duration = timedelta(hours=query.duration_hours)
    start = selectors.next_free_slot(
        user=request.auth, environment=environment, duration=duration, usage=query.usage, earliest=earliest
    )
    return {
        "environment_id": environment.pk,
        "usage": query.usage,
        "duration_hours": query.duration_hours,
        "earliest": earliest,
        "latest": earliest + timedelta(days=selectors.BOOKING_SEARCH_DAYS),
        "starts_at": start,
        "ends_at": start + duration if start else None,
    }


# Environment requests

RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]


class EnvironmentRequestFilter(Schema):
    search: str | None = Field(None, max_length=200)
    kind: RequestKind | None = None
    status: RequestStatus | None = None
    open_only: bool = Field(False, description="Only requested and in-progress requests.")
    team: Id | None = None
    environment: Id | None = None
    release: Id | None = None
    phase: Id | None = None
    due_from: Day | None = None
    due_until: Day | None = None


class TeamLoadQuery(Schema):
    start: Day | None = Field(None, description="A day of the first week shown; default: this week.")
    weeks: int = Field(12, ge=1, le=104)


def _request_references(request: HttpRequest, data: dict) -> dict:
    """Turn the `*_id` fields of a request's input into rows the caller may see (a 422 naming the field if not)."""
    user = request.auth
    sources = {
        "team_id": ("team", Team.objects.restrict(user)),
        "environment_id": ("environment", Environment.objects.restrict(user)),
        "release_id": ("release", Release.objects.restrict(user)),
        "phase_id": ("phase", Phase.objects.restrict(user)),
    }
    for field, (name, queryset) in sources.items():
        if field in data:
            data[name] = referenced(queryset, data.pop(field), field=field)
    if "environment_type" in data and data["environment_type"] is None:
        data["environment_type"] = ""
    return data


def _environment_request(request: HttpRequest, pk: int) -> EnvironmentRequest:
    return selectors.environment_request_get(user=request.auth, pk=pk)


@router.get(
    "/environment-requests",
    response={200: list[EnvironmentRequestOut], **READ_RESPONSES},
    operation_id="list_environment_requests",
)
@paginate(Pagination)
def list_environment_requests(request: HttpRequest, filters: Query[EnvironmentRequestFilter]):
    """Environment requests by due date: provisioning, configuration changes, data refreshes and decommissions."""
    return selectors.environment_request_list(user=request.auth, **filters.dict())


@router.post(
    "/environment-requests",
    response={201: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="create_environment_request",
)
def create_environment_request(request: HttpRequest, payload: EnvironmentRequestIn):
    """Ask a team for environment work; due on the last working day before `phase_id` starts, else on `due_on`."""
    data = _request_references(request, payload.dict())
    created = services.environment_request_create(actor=request.auth, **data)
    return Status(201, _environment_request(request, created.pk))


@router.get(
    "/environment-requests/{request_id}",
    response={200: EnvironmentRequestOut, **READ_RESPONSES},
    operation_id="get_environment_request",
)
def get_environment_request(request: HttpRequest, request_id: RequestId):
    """One environment request."""
    return _environment_request(request, request_id)


@router.patch(
    "/environment-requests/{request_id}",
    response={200: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="update_environment_request",
)
def update_environment_request(request: HttpRequest, request_id: RequestId, payload: EnvironmentRequestPatch):
    """Change an open request; its start and due dates follow its phase (or due date) and SLA."""
    changes = _request_references(request, payload.dict(exclude_unset=True))
    services.environment_request_update(
        actor=request.auth, request=_environment_request(request, request_id), **changes
    )
    return _environment_request(request, request_id)


@router.post(
    "/environment-requests/{request_id}/start",
    response={200: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="start_environment_request",
)
def start_environment_request(request: HttpRequest, request_id: RequestId):
    """The team starts the work."""
    services.environment_request_start(actor=request.auth, request=_environment_request(request, request_id))
    return _environment_request(request, request_id)


@router.post(
    "/environment-requests/{request_id}/mask-done",
    response={200: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="mask_environment_request",
)
def mask_environment_request(request: HttpRequest, request_id: RequestId):
    """Record that a data refresh's data is masked (it cannot complete before)."""
    services.environment_request_mask_done(actor=request.auth, request=_environment_request(request, request_id))
    return _environment_request(request, request_id)


@router.post(
    "/environment-requests/{request_id}/complete",
    response={200: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="complete_environment_request",
)
def complete_environment_request(request: HttpRequest, request_id: RequestId, payload: EnvironmentRequestNoteIn):
    """The work is done; completing a decommission marks the environment decommissioned."""
    services.environment_request_complete(
        actor=request.auth, request=_environment_request(request, request_id), note=payload.note
    )
    return _environment_request(request, request_id)


@router.post(
    "/environment-requests/{request_id}/cancel",
    response={200: EnvironmentRequestOut, **ERROR_RESPONSES},
    operation_id="cancel_environment_request",
)
def cancel_environment_request(request: HttpRequest, request_id: RequestId, payload: EnvironmentRequestNoteIn):
    """Withdraw an open request."""
    services.environment_request_cancel(
        actor=request.auth, request=_environment_request(request, request_id), note=payload.note
    )
    return _environment_request(request, request_id)


@router.get(
    "/teams/{team_id}/environment-load",
    response={200: TeamEnvironmentLoadOut, **READ_RESPONSES},
    operation_id="get_team_environment_load",
)
def get_team_environment_load(request: HttpRequest, team_id: RequestId, query: Query[TeamLoadQuery]):
    """A team's committed effort on open environment requests per ISO week (person-days), against its capacity."""
    team = Team.objects.restrict(request.auth).get_visible(pk=team_id)
    return selectors.team_environment_load(user=request.auth, team=team, start=query.start, weeks=query.weeks)


# Deployments and versions
DeploymentPathId = Annotated[int, Path(ge=1, le=MAX_ID)]


class DeploymentFilter(Schema):
    environment: Id | None = None
    system: Id | None = None
    release: Id | None = None
    outcome: DeploymentOutcome | None = None
    source: DeploymentSource | None = None
    since: UtcDatetime | None = Field(None, description="Deployed at or after this time.")
    until: UtcDatetime | None = Field(None, description="Deployed before this time.")
    search: str | None = Field(None, max_length=200, description="Part of the version, change reference or run id.")


class VersionMatrixFilter(Schema):
    system: list[Id] | None = Field(None, description="Only these systems (repeat the parameter for several).")
    environment: list[Id] | None = Field(None, description="Only these environments.")
    type: EnvironmentType | None = Field(None, description="Only environments of this type.")
    group: Id | None = Field(None, description="Only the environments of this group (lane).")
    release: Id | None = Field(None, description="Flag drift from this release's target versions; rows: its scope.")
    drift_only: bool = Field(False, description="Only the systems with a drifting cell.")
    limit: int = Field(100, ge=1, le=500, description="Systems per page.")
    offset: int = Field(0, ge=0, le=10_000_000)


def _deployment_reference(request, model, pk: int | None, name: str | None, *, field: str, named: dict):
    """The row a deployment names by id (`<field>_id`) or by name (`<field>`, already looked up in `named`), among
    those the caller may see."""
    if pk is not None and name is not None:
        raise ValidationFailed.field(field, f"Give the {field} by id or by name, not both.")
    if pk is not None:
        return referenced(model.objects.restrict(request.auth), pk, field=f"{field}_id")
    if name is not None:
        found = named[model]
        if found is None:
            raise ValidationFailed.field(field, selectors.unknown_name(field, name))
        return found
    if field == "release":
        return None
    raise ValidationFailed.field(field, f"Give the {field}: its id ({field}_id) or its name ({field}).")


def _bulk_reference(row: dict, field: str):
    """A bulk row's reference as the service takes it: an id, a name, or nothing (both given is refused there)."""
    pk, name = row.pop(f"{field}_id"), row.pop(field)
    if pk is not None and name is not None:
        return True  # neither an id nor a name: the service refuses it, naming the row
    return pk if pk is not None else name


@router.get("/deployments", response={200: list[DeploymentOut], **READ_RESPONSES}, operation_id="list_deployments")
@paginate(Pagination)
def list_deployments(request: HttpRequest, filters: Query[DeploymentFilter]):
    """Deployments, newest first; filter by environment, system, release, outcome, source and time."""
    return selectors.deployment_list(user=request.auth, **filters.dict())


@router.post("/deployments", response={201: DeploymentOut, **ERROR_RESPONSES}, operation_id="record_deployment")
def record_deployment(request: HttpRequest, payload: DeploymentIn):
    """Record a deployment (from a CI pipeline, a runbook or by hand). A succeeded one newer than what the
    environment records becomes the environment's version of the system. A repeated `external_id` from the same
    `source` is 409, so a retried pipeline step is not counted twice."""
    data = payload.model_dump()
    references = (("system", System), ("environment", Environment), ("release", Release))
    # The references given by name only, read in one query.
    named = selectors.named_rows(
        user=request.auth,
        names={
            model: data[field] for field, model in references if data[field] is not None and not data[f"{field}_id"]
        },
    )
    for field, model in references:
        pk = data.pop(f"{field}_id")
        data[field] = _deployment_reference(request, model, pk, data[field], field=field, named=named)
    # The answer is the recorded row itself: its system, environment, release and recorder are already at hand.
    return Status(201, services.deployment_record(actor=request.auth, **data))


@router.post(
    "/deployments/bulk", response={201: DeploymentBulkOut, **ERROR_RESPONSES}, operation_id="record_deployments_in_bulk"
)
def record_deployments_in_bulk(request: HttpRequest, payload: DeploymentBulkIn):
    """Record up to 5,000 deployments at once, all or none: a refusal names every rejected row
    (`rows.<index>.<field>`) and records nothing. Each row is as for `POST /deployments`."""
    rows = []
    for row in payload.model_dump()["rows"]:
        for field in ("system", "environment", "release"):
            row[field] = _bulk_reference(row, field)
        rows.append(row)
    deployments = services.deployment_record_many(actor=request.auth, rows=rows)
    return Status(201, {"count": len(deployments), "ids": [deployment.pk for deployment in deployments]})


@router.get(
    "/deployments/{deployment_id}", response={200: DeploymentOut, **READ_RESPONSES}, operation_id="get_deployment"
)
def get_deployment(request: HttpRequest, deployment_id: DeploymentPathId):
    return selectors.deployment_get(user=request.auth, pk=deployment_id)


@router.get("/version-matrix", response={200: VersionMatrixOut, **READ_RESPONSES}, operation_id="get_version_matrix")
def get_version_matrix(request: HttpRequest, filters: Query[VersionMatrixFilter]):
    """Systems by environments: the version each environment runs, with drift from production and, given a
    release, from its target versions. Rows are the given systems, else the release's scope, else every system
    deployed in the chosen environments; columns run from development to production."""
    release = referenced(Release.objects.restrict(request.auth), filters.release, field="release")
    matrix = selectors.version_matrix(
        user=request.auth,
        systems=filters.system,
        environments=filters.environment,
        release=release,
        environment_type=filters.type,
        group=filters.group,
        drift_only=filters.drift_only,
        limit=filters.limit,
        offset=filters.offset,
    )
    return {**matrix, "limit": filters.limit, "offset": filters.offset}


# Schedule, utilisation and demand


class EnvironmentScheduleQuery(Schema):
    start: Day | None = Field(None, description="First day shown; default: the Monday of last week.")
    end: Day | None = Field(None, description="Last day shown; default: 13 weeks from the start; at most a year.")
    group_by: str = Field("group", pattern="^(group|type|environment)$", description="group, type or environment.")
    type: EnvironmentType | None = Field(None, description="Only environments of this type.")
    group: Id | None = Field(None, description="Only the environments of this group (lane).")


@router.get(
    "/environments/schedule",
    response={200: EnvironmentScheduleOut, **READ_RESPONSES},
    operation_id="get_environment_schedule",
)
def get_environment_schedule(request: HttpRequest, query: Query[EnvironmentScheduleQuery]):
    """Who holds which environment when: the environment rows (grouped by lane, type or not at all), their bookings
    in the window with conflicts flagged by the capacity rule, and the booking freezes to shade. The data the
    schedule page draws."""
    start, end = selectors.fill_window(query.start, query.end, selectors.schedule_default_window())
    data = selectors.environment_schedule(
        user=request.auth,
        start=start,
        end=end,
        group_by=query.group_by,
        environment_type=query.type,
        group=query.group,
    )
    # Built to the documented shape by the selector; sent as is rather than validated again booking by booking.
    return JsonResponse(data)


class EnvironmentUtilisationQuery(Schema):
    start: Day | None = Field(None, description="First day (its ISO week is the first); default: 12 weeks ago.")
    end: Day | None = Field(None, description="Last day (its ISO week is the last); default: this week.")
    type: EnvironmentType | None = Field(None, description="Only environments of this type.")
    group: Id | None = Field(None, description="Only the environments of this group (lane).")


@router.get(
    "/environments/utilisation",
    response={200: EnvironmentUtilisationOut, **READ_RESPONSES},
    operation_id="get_environment_utilisation",
)
def get_environment_utilisation(request: HttpRequest, query: Query[EnvironmentUtilisationQuery]):
    """Per environment and ISO week: booked days, available days and utilisation; idle environments and the cost of
    idle time; totals."""
    start, end = selectors.fill_window(query.start, query.end, selectors.utilisation_default_window())
    data = selectors.environment_utilisation(
        user=request.auth, start=start, end=end, environment_type=query.type, group=query.group
    )
    return JsonResponse(data)


@router.get(
    "/environments/demand",
    response={200: EnvironmentDemandOut, **READ_RESPONSES},
    operation_id="get_environment_demand",
)
def get_environment_demand(
    request: HttpRequest,
    weeks: Annotated[int, Query(ge=1, le=52, description="How many weeks, 1 to 52.")] = 26,
    start: Annotated[Day | None, Query(description="A day of the first week; default: this week.")] = None,
):
    """Per environment type and ISO week: how many phases of planned and in-progress releases need such an
    environment (demand) against how many are in service (supply); shortage weeks flagged."""
    return selectors.environment_demand(user=request.auth, start=start, weeks=weeks)
