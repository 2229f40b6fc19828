"""Every write to environments, their components and status, bookings, environment requests and deployments."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from launchdeck.audit.services import (
    audit_record,
    changed_fields,
    delete_audited,
    fields_of,
    still_used,
    update_audited,
)
from launchdeck.catalog.models import Component, System
from launchdeck.core.bulk import insert_all
from launchdeck.core.errors import Conflict, PermissionDenied, ValidationFailed
from launchdeck.core.models import bump_version
from launchdeck.core.permissions import require_perm
from launchdeck.core.services import (
    IMPLAUSIBLE_DATE_MESSAGE,
    assign,
    blank_text_clears,
    constraint_error,
    is_plausible_date,
    plural,
    require_plausible_dates,
    require_values,
    save,
    snapshot,
)
from launchdeck.environments import rules, selectors
from launchdeck.environments.choices import (
    LIVE_BOOKING_STATUSES,
    OPEN_REQUEST_STATUSES,
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
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
    EnvironmentStatusChange,
)
from launchdeck.org.calendars import team_calendar
from launchdeck.org.models import Team
from launchdeck.releases.choices import Recurrence
from launchdeck.releases.models import Phase, Release

# Inventory

ENVIRONMENT_GROUP_FIELDS = ["name", "description"]
ENVIRONMENT_FIELDS = [
    "name",
    "category",
    "environment_type",
    "hosting",
    "group",
    "owner_team",
    "capacity",
    "cost_per_day",
    "url",
    "description",
]
ENVIRONMENT_COMPONENT_FIELDS = ["system", "component", "version", "configuration", "deployed_at"]
# A clock a little ahead of ours is not a mistake; a status or deployment hours ahead is.


def _environment_data(environment: Environment) -> dict:
    data = snapshot(environment, ENVIRONMENT_FIELDS)
    data["depends_on"] = sorted(environment.depends_on.values_list("pk", flat=True)) if environment.pk else []
    return data


@transaction.atomic
def environment_group_create(*, actor, name: str, description: str = "") -> EnvironmentGroup:
    """Add a group ("lane") of environments planned together."""
    require_perm(actor, "environments.add_environmentgroup")
    group = save(EnvironmentGroup(name=(name or "").strip(), description=description or ""))
    audit_record(actor, "environmentgroup.created", group, new=snapshot(group, ENVIRONMENT_GROUP_FIELDS))
    return group


@transaction.atomic
def environment_group_update(
    *, actor, group: EnvironmentGroup, version: int | None = None, **changes
) -> EnvironmentGroup:
    """Rename or describe a group; refused if `version` is stale."""
    require_values(changes, name="A group needs a name.")
    return update_audited(
        actor,
        group,
        permission="environments.change_environmentgroup",
        event_type="environmentgroup.updated",
        data=fields_of(ENVIRONMENT_GROUP_FIELDS),
        version=version,
        changes=blank_text_clears(changes, "description"),
    )


@transaction.atomic
def environment_group_delete(*, actor, group: EnvironmentGroup) -> None:
    """Remove a group; its environments stay, in no group."""
    require_perm(actor, "environments.delete_environmentgroup", group)
    delete_audited(actor, group, "environmentgroup.deleted")


def _check_not_in_future(value: datetime | None, field: str, what: str) -> None:
    if value is None:
        return
    require_plausible_dates(**{field: value.date()})
    if value > timezone.now() + rules.CLOCK_TOLERANCE:
        raise ValidationFailed.field(field, f"{what} cannot be in the future.")


def _check_depends_on(environment: Environment, depends_on: list[Environment]) -> None:
    if environment.pk and any(other.pk == environment.pk for other in depends_on):
        raise ValidationFailed.field("depends_on", f"{environment} cannot depend on itself.")


@transaction.atomic
def environment_create(
    *,
    actor,
    name: str,
    environment_type: str,
    owner_team: Team,
    category: str = EnvironmentCategory.NON_PRODUCTION,
    hosting: str = Hosting.CLOUD,
    group: EnvironmentGroup | None = None,
    capacity: int = 1,
    cost_per_day: Decimal = Decimal("0"),
    url: str = "",
    description: str = "",
    status: str = EnvironmentStatus.AVAILABLE,
    depends_on: list[Environment] | None = None,
    at: datetime | None = None,
) -> Environment:
    """Add an environment to the inventory; its first status starts its history (at `at`, by default now)."""
    require_perm(actor, "environments.add_environment")
    if status == EnvironmentStatus.DECOMMISSIONED:
        raise ValidationFailed.field("status", "A new environment cannot start decommissioned.")
    _check_not_in_future(at, "at", "The start of the status")
    since = at or timezone.now()
    environment = Environment(
        name=(name or "").strip(),
        environment_type=environment_type,
        owner_team=owner_team,
        category=category,
        hosting=hosting,
        group=group,
        capacity=capacity,
        cost_per_day=cost_per_day,
        url=(url or "").strip(),
        description=description or "",
        status=status,
        status_since=since,
    )
    save(environment)
    depends_on = list(depends_on or [])
    _check_depends_on(environment, depends_on)
    environment.depends_on.set(depends_on)
    save(
        EnvironmentStatusChange(environment=environment, status=status, started_at=since, actor_name=_actor_name(actor))
    )
    new = {**_environment_data(environment), "status": status, "status_since": since}
    audit_record(actor, "environment.created", environment, new=new)
    return environment


def _actor_name(actor) -> str:
    return actor.get_username() if actor is not None and getattr(actor, "is_authenticated", False) else ""


@transaction.atomic
def environment_update(
    *,
    actor,
    environment: Environment,
    version: int | None = None,
    depends_on: list[Environment] | None = None,
    **changes,
) -> Environment:
    """Change an environment's description, capacity, cost, group or dependencies; refused if `version` is stale.

    The status changes through `environment_status_set`, which keeps its history.
    """
    if "status" in changes or "status_since" in changes:
        raise ValidationFailed.field("status", "Change the status with a status change, which keeps its history.")
    require_values(
        changes,
        name="An environment needs a name.",
        environment_type="An environment needs a type.",
        owner_team="An environment needs an owner team.",
        category="An environment needs a category.",
        hosting="An environment needs a hosting.",
        capacity="An environment needs a capacity.",
        cost_per_day="An environment needs a cost per day (0 if none).",
    )
    blank_text_clears(changes, "url", "description")
    if depends_on is not None:
        _check_depends_on(environment, list(depends_on))

    def set_depends_on(instance: Environment) -> None:
        if depends_on is not None:
            instance.depends_on.set(list(depends_on))

    return update_audited(
        actor,
        environment,
        permission="environments.change_environment",
        event_type="environment.updated",
        data=_environment_data,
        version=version,
        changes=changes,
        after_save=set_depends_on,
    )


@transaction.atomic
def environment_delete(*, actor, environment: Environment) -> None:
    """Remove an environment recorded by mistake; one with bookings, deployments or requests is decommissioned."""
    require_perm(actor, "environments.delete_environment", environment)
    uses = [
        plural(environment.bookings.count(), "booking"),
        plural(environment.deployments.count(), "deployment"),
        plural(environment.requests.count(), "environment request"),
    ]
    if any(count for count, _ in uses):
        raise still_used(environment, uses, remedy="set its status to decommissioned instead")
    delete_audited(actor, environment, "environment.deleted")


def check_decommission(environment: Environment, moment: datetime, when: str) -> None:
    """THE rule of retiring an environment: refused while live bookings of it still run after `moment` (named, up to
    five). A status change to decommissioned and a decommission request (when made and when completed) ask it."""
    held = list(
        EnvironmentBooking.objects.filter(
            environment=environment, status__in=LIVE_BOOKING_STATUSES, ends_at__gt=moment
        ).order_by("starts_at", "pk")[:6]
    )
    if not held:
        return
    shown = [
        f"{booking.starts_at:%d %b %Y} to {booking.ends_at:%d %b %Y} ({booking.get_status_display().lower()})"
        for booking in held[:5]
    ]
    more = " and more" if len(held) > 5 else ""
    message = (
        f"{environment} still has live bookings {when}: {'; '.join(shown)}{more}. Cancel or move them before it is "
        "decommissioned."
    )
    raise Conflict(message, errors=[("environment", message)])


@transaction.atomic
def environment_status_set(
    *,
    actor,
    environment: Environment,
    status: str,
    note: str = "",
    at: datetime | None = None,
) -> Environment:
    """Record that `environment` is `status` from `at` (default now): a new entry of its history, the new status."""
    require_perm(actor, "environments.add_environmentstatuschange", environment)
    if status not in EnvironmentStatus.values:
        raise ValidationFailed.field("status", f"The status is one of: {', '.join(EnvironmentStatus.values)}.")
    _check_not_in_future(at, "at", "A status change")
    # Lock the row: two status changes at once would otherwise both read the same current status.
    current = Environment.objects.select_for_update().get(pk=environment.pk)
    since = at or timezone.now()
    if since < current.status_since:
        raise ValidationFailed.field(
            "at",
            "A status change cannot start before the current status began "
            f"({current.status_since:%Y-%m-%d %H:%M} UTC).",
        )
    if status == current.status:
        raise ValidationFailed.field("status", f"{current} is already {current.get_status_display().lower()}.")
    if status == EnvironmentStatus.DECOMMISSIONED:
        check_decommission(current, since, "from then on")
    note = (note or "").strip()
    change = EnvironmentStatusChange(
        environment=current, status=status, started_at=since, note=note, actor_name=_actor_name(actor)
    )
    save(change)
    old = {"status": current.status, "status_since": current.status_since}
    bump_version(current, current.version)
    current.status, current.status_since = status, since
    current.save(update_fields=["status", "status_since", "updated_at"])
    environment.status, environment.status_since, environment.version = status, since, current.version
    audit_record(
        actor,
        "environment.status_changed",
        current,
        old=old,
        new={"status": status, "status_since": since},
        reason=change.note,
    )
    return current


def _check_component(row: EnvironmentComponent) -> None:
    if row.component_id and row.component.system_id != row.system_id:
        raise ValidationFailed.field("component", f"{row.component} is a part of another system.")
    problem = rules.version_problem(row.version or "", required=False)
    if problem:
        raise ValidationFailed.field("version", problem)
    _check_not_in_future(row.deployed_at, "deployed_at", "The deployment time")


@transaction.atomic
def environment_component_set(
    *,
    actor,
    environment: Environment,
    system: System,
    version: str = "",
    configuration: str = "",
    component: Component | None = None,
    deployed_at: datetime | None = None,
) -> EnvironmentComponent:
    """Record which version of `system` runs in `environment` and how it is configured (replacing what was there)."""
    row = EnvironmentComponent.objects.select_for_update().filter(environment=environment, system=system).first()
    creating = row is None
    require_perm(actor, f"environments.{'add' if creating else 'change'}_environmentcomponent", environment)
    if creating:
        row = EnvironmentComponent(environment=environment, system=system)
    old = None if creating else snapshot(row, ENVIRONMENT_COMPONENT_FIELDS)
    row.version = (version or "").strip()
    row.configuration = configuration or ""
    row.component = component
    row.deployed_at = deployed_at
    _check_component(row)
    save(row)
    new = snapshot(row, ENVIRONMENT_COMPONENT_FIELDS)
    if old is not None:
        old, new = changed_fields(old, new)
    audit_record(actor, "environmentcomponent.set", row, old=old, new={"environment": environment.pk, **new})
    return row


@transaction.atomic
def environment_component_remove(*, actor, component: EnvironmentComponent) -> None:
    """Forget that a system runs in an environment."""
    require_perm(actor, "environments.delete_environmentcomponent", component.environment)
    delete_audited(actor, component, "environmentcomponent.removed")


# Bookings

MAX_OCCURRENCES = 52
BOOKING_FIELDS = [
    "environment",
    "starts_at",
    "ends_at",
    "usage",
    "status",
    "requester",
    "team",
    "release",
    "phase",
    "purpose",
    "series",
]
_REPEAT_STEPS = {Recurrence.WEEKLY: relativedelta(weeks=1), Recurrence.MONTHLY: relativedelta(months=1)}


@dataclass(frozen=True)
class BookingTransition:
    """One step of a booking's life: from which statuses, to which, the permission it needs and its audit event."""

    sources: tuple[str, ...]
    target: str
    permission: str
    event_type: str
    own_only: bool = True  # people who may not approve bookings may take this step only on their own bookings
    takes_note: bool = False  # the step keeps a note (the decision's, or why it was cancelled)
    needs_note: bool = False  # ... and refuses to be taken without one


# THE transition table of bookings: every status change goes through one of these.
BOOKING_TRANSITIONS: dict[str, BookingTransition] = {
    "approve": BookingTransition(
        (BookingStatus.REQUESTED,),
        BookingStatus.APPROVED,
        "environments.approve_environmentbooking",
        "booking.approved",
        own_only=False,
        takes_note=True,
    ),
    "reject": BookingTransition(
        (BookingStatus.REQUESTED, BookingStatus.APPROVED),
        BookingStatus.REJECTED,
        "environments.approve_environmentbooking",
        "booking.rejected",
        own_only=False,
        takes_note=True,
        needs_note=True,
    ),
    "activate": BookingTransition(
        (BookingStatus.APPROVED,), BookingStatus.ACTIVE, "environments.change_environmentbooking", "booking.activated"
    ),
    "release": BookingTransition(
        (BookingStatus.ACTIVE,), BookingStatus.RELEASED, "environments.change_environmentbooking", "booking.released"
    ),
    "cancel": BookingTransition(
        (BookingStatus.REQUESTED, BookingStatus.APPROVED),
        BookingStatus.CANCELLED,
        "environments.change_environmentbooking",
        "booking.cancelled",
        takes_note=True,
    ),
}


def booking_conflict_error(
    environment: Environment, clashing: list[EnvironmentBooking], *, prefix: str = ""
) -> Conflict:
    """The one wording of a refusal by the capacity rule (409)."""
    message = (
        f"{prefix}{environment} is already booked for this window (capacity {environment.capacity}): it clashes with "
        f"{selectors.describe_bookings(clashing)}."
    )
    return Conflict(message, errors=[("starts_at", message)])


def _may_manage_bookings(actor) -> bool:
    """Environment managers (who may approve) act on any booking; others on their own only."""
    return actor is None or actor.has_perm("environments.approve_environmentbooking")


def _is_self_approval(actor, booking: EnvironmentBooking) -> bool:
    """Whether `actor` approving `booking` would approve their own request, which the policy
    (`LAUNCHDECK_BOOKING_SELF_APPROVAL`, off by default) forbids."""
    return (
        not settings.LAUNCHDECK_BOOKING_SELF_APPROVAL
        and actor is not None
        and booking.requester_id is not None
        and booking.requester_id == actor.pk
    )


def booking_may_approve(actor, booking: EnvironmentBooking) -> bool:
    """Whether `actor` may approve `booking`: an environment manager, and not their own request unless the policy
    allows it. The booking pages ask this to offer the button; `booking_approve` enforces the same rule."""
    return _may_manage_bookings(actor) and not _is_self_approval(actor, booking)


def booking_is_theirs_to_change(actor, booking: EnvironmentBooking) -> bool:
    """Whether `actor` may change, move or cancel `booking` as far as whose it is goes: environment managers any,
    others only the bookings they requested. The services enforce it; the booking pages ask it to offer buttons."""
    return _may_manage_bookings(actor) or booking.requester_id == actor.pk


def _require_own_or_manager(actor, booking: EnvironmentBooking, what: str) -> None:
    if not booking_is_theirs_to_change(actor, booking):
        raise PermissionDenied(f"Only the person who requested this booking or an environment manager may {what} it.")


def _check_window(starts_at: datetime, ends_at: datetime) -> None:
    """The rules of a booking's window alone: aware, plausible, end after start, 30 minutes to 366 days."""
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(moment, datetime):
            raise ValidationFailed.field(name, "Enter a date and time.")
        if timezone.is_naive(moment):
            raise ValidationFailed.field(name, "Give the time with its time zone.")
    require_plausible_dates(starts_at=starts_at.date(), ends_at=ends_at.date())
    problem = rules.window_problem(starts_at, ends_at)
    if problem:
        raise ValidationFailed.field(*problem)


def _check_bookable(environment: Environment) -> None:
    problem = selectors.unbookable_reason(environment)
    if problem:
        raise ValidationFailed.field("environment", problem)


def _check_freezes(environment: Environment, starts_at, ends_at, release, *, prefix: str = "") -> None:
    frozen = selectors.booking_freezes(environment, starts_at, ends_at, release)
    if frozen:
        freeze = frozen[0]
        message = (
            f"{prefix}{environment} is in the booking freeze {freeze.name} from {freeze.start} to {freeze.end}; "
            "choose a window outside it."
        )
        raise Conflict(message, errors=[("starts_at", message)])


def _check_fits(environment: Environment, starts_at, ends_at, usage, release, *, exclude=(), prefix: str = "") -> None:
    """A window fits the environment: outside its booking freezes and within its capacity beside the other live
    bookings (but those of `exclude`). Asked when a booking is requested, moved and approved."""
    _check_freezes(environment, starts_at, ends_at, release, prefix=prefix)
    clashing = selectors.booking_conflicts(
        environment=environment, starts_at=starts_at, ends_at=ends_at, usage=usage, exclude=list(exclude)
    )
    if clashing:
        raise booking_conflict_error(environment, clashing, prefix=prefix)


def _clean_purpose(purpose: str) -> str:
    purpose = (purpose or "").strip()
    if len(purpose) > 200:
        raise ValidationFailed.field("purpose", "The purpose has at most 200 characters.")
    return purpose


def _lock_environment(environment: Environment) -> Environment:
    """Lock the environment's row until the transaction ends: concurrent bookings of it check and write in turn."""
    return Environment.objects.select_for_update().get(pk=environment.pk)


def _check_usage(usage: str) -> None:
    if usage not in BookingUsage.values:
        raise ValidationFailed.field("usage", "Usage is exclusive or shared.")


def _release_of_phase(release: Release | None, phase: Phase | None) -> Release | None:
    """A booking of a phase takes the phase's release; naming another release is a mistake."""
    if phase is None:
        return release
    if release is not None and release.pk != phase.release_id:
        raise ValidationFailed.field("phase", f"The phase {phase.name} belongs to another release than {release}.")
    return phase.release


@transaction.atomic
def booking_request(
    *,
    actor,
    environment: Environment,
    starts_at: datetime,
    ends_at: datetime,
    usage: str = BookingUsage.EXCLUSIVE,
    release: Release | None = None,
    phase: Phase | None = None,
    team: Team | None = None,
    purpose: str = "",
    repeat: str = Recurrence.NONE,
    occurrences: int = 1,
) -> list[EnvironmentBooking]:
    """Request `environment` for a window, or for `occurrences` windows a week or a month apart (one series).

    Every occurrence is checked by the capacity rule and the booking freezes; all are booked or none, and a refusal
    names the occurrence. The environment's row is locked before the check, so parallel requests cannot overbook it.
    """
    require_perm(actor, "environments.add_environmentbooking", environment)
    _check_usage(usage)
    _check_window(starts_at, ends_at)
    if repeat not in (Recurrence.NONE, *_REPEAT_STEPS):
        raise ValidationFailed.field("repeat", "A booking repeats every week or every month, or not at all.")
    if isinstance(occurrences, bool) or not isinstance(occurrences, int) or not 1 <= occurrences <= MAX_OCCURRENCES:
        raise ValidationFailed.field("occurrences", f"Book 1 to {MAX_OCCURRENCES} occurrences.")
    if repeat == Recurrence.NONE and occurrences != 1:
        raise ValidationFailed.field("occurrences", "Choose how the booking repeats to book more than one occurrence.")
    purpose = _clean_purpose(purpose)
    release = _release_of_phase(release, phase)
    environment = _lock_environment(environment)
    _check_bookable(environment)

    windows = [(starts_at, ends_at)]
    step = _REPEAT_STEPS.get(repeat)
    if step is not None:
        windows = [(starts_at + step * index, ends_at + step * index) for index in range(occurrences)]
    series = uuid.uuid4() if len(windows) > 1 else None
    requester = actor if actor is not None and actor.is_authenticated else None
    made: list[EnvironmentBooking] = []
    for index, (start, end) in enumerate(windows, start=1):
        prefix = f"Occurrence {index} of {len(windows)} ({selectors.when(start)}): " if len(windows) > 1 else ""
        require_plausible_dates(starts_at=start.date(), ends_at=end.date())
        # Occurrences already made in this call are rows by now, so a long weekly booking meets its own series.
        _check_fits(environment, start, end, usage, release, prefix=prefix)
        booking = save(
            EnvironmentBooking(
                environment=environment,
                starts_at=start,
                ends_at=end,
                usage=usage,
                requester=requester,
                team=team,
                release=release,
                phase=phase,
                purpose=purpose,
                series=series,
            )
        )
        audit_record(actor, "booking.requested", booking, new=snapshot(booking, BOOKING_FIELDS))
        made.append(booking)
    return made


@transaction.atomic
def booking_update(*, actor, booking: EnvironmentBooking, version: int | None = None, **changes) -> EnvironmentBooking:
    """Move or resize a live booking, change its usage, purpose or team; the new window is checked again.

    An approved booking moved by someone who may not approve bookings goes back to requested.
    """
    require_perm(actor, "environments.change_environmentbooking", booking)
    _require_own_or_manager(actor, booking, "change")
    allowed = {"starts_at", "ends_at", "usage", "purpose", "team"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], "This cannot be changed on a booking.")
    require_values(
        changes,
        starts_at="A booking needs a start.",
        ends_at="A booking needs an end.",
        usage="A booking needs a usage.",
    )
    blank_text_clears(changes, "purpose")
    if booking.status not in LIVE_BOOKING_STATUSES:
        raise Conflict(f"A {booking.get_status_display().lower()} booking cannot be changed.")
    environment = _lock_environment(booking.environment)
    before = snapshot(booking, BOOKING_FIELDS)
    bump_version(booking, version)
    if "purpose" in changes:
        changes["purpose"] = _clean_purpose(changes["purpose"])
    assign(booking, changes)
    _check_usage(booking.usage)
    moved = (booking.starts_at, booking.ends_at, booking.usage) != (
        before["starts_at"],
        before["ends_at"],
        before["usage"],
    )
    if moved:
        _check_window(booking.starts_at, booking.ends_at)
        _check_bookable(environment)
        _check_fits(
            environment, booking.starts_at, booking.ends_at, booking.usage, booking.release, exclude=[booking.pk]
        )
        # Someone who could not approve the new window themselves (not a manager, or a manager moving their own
        # booking while self-approval is off) sends it back for approval.
        if booking.status == BookingStatus.APPROVED and not booking_may_approve(actor, booking):
            booking.status = BookingStatus.REQUESTED
            booking.decided_by, booking.decided_at = None, None
    save(booking)
    old, new = changed_fields(before, snapshot(booking, BOOKING_FIELDS))
    audit_record(actor, "booking.updated", booking, old=old, new=new)
    return booking


_DONE_WORDS = {
    "approve": "approved",
    "reject": "rejected",
    "activate": "started",
    "release": "released",
    "cancel": "cancelled",
}


def _transition(actor, booking: EnvironmentBooking, action: str, *, version: int | None, note: str = "") -> None:
    step = BOOKING_TRANSITIONS[action]
    require_perm(actor, step.permission, booking)
    if step.needs_note and not note:
        raise ValidationFailed.field("note", f"Say why the booking is {_DONE_WORDS[action]}.")
    if step.own_only:
        _require_own_or_manager(actor, booking, action)
    if booking.status not in step.sources:
        allowed = " or ".join(BookingStatus(source).label.lower() for source in step.sources)
        article = "an" if allowed[0] in "aeiou" else "a"
        raise Conflict(
            f"Only {article} {allowed} booking can be {_DONE_WORDS[action]}; "
            f"this one is {booking.get_status_display().lower()}."
        )
    before = snapshot(booking, ["status", "decided_by", "decided_at", "decision_note"])
    bump_version(booking, version)
    booking.status = step.target
    if action in ("approve", "reject"):
        booking.decided_by = actor if actor is not None and actor.is_authenticated else None
        booking.decided_at = timezone.now()
        booking.decision_note = note
    booking.save()
    old, new = changed_fields(before, snapshot(booking, ["status", "decided_by", "decided_at", "decision_note"]))
    audit_record(actor, step.event_type, booking, old=old, new=new, reason=note)


def _sync(booking: EnvironmentBooking, fresh: EnvironmentBooking) -> EnvironmentBooking:
    """The caller's instance reads as stored after a transition made on the locked copy."""
    for field in booking._meta.concrete_fields:
        setattr(booking, field.attname, getattr(fresh, field.attname))
    return booking


def _locked_booking(booking: EnvironmentBooking) -> tuple[Environment, EnvironmentBooking]:
    """Lock the environment, then the booking (always in this order, so two writers never wait on each other)."""
    environment = _lock_environment(booking.environment)
    fresh = EnvironmentBooking.objects.select_for_update().get(pk=booking.pk)
    return environment, fresh


@transaction.atomic
def booking_approve(
    *, actor, booking: EnvironmentBooking, version: int | None = None, note: str = ""
) -> EnvironmentBooking:
    """Approve a requested booking (environment managers); a booking that no longer fits cannot be approved."""
    require_perm(actor, "environments.approve_environmentbooking", booking)
    if _is_self_approval(actor, booking):
        raise PermissionDenied("You requested this booking: another environment manager must approve it.")
    environment, fresh = _locked_booking(booking)
    if fresh.status == BookingStatus.REQUESTED:
        # Approval checks the window again as a new request would be checked: the environment may have been
        # decommissioned, or a booking freeze declared, since the booking was requested.
        _check_bookable(environment)
        _check_fits(environment, fresh.starts_at, fresh.ends_at, fresh.usage, fresh.release_id, exclude=[fresh.pk])
    _transition(actor, fresh, "approve", version=version, note=(note or "").strip())
    return _sync(booking, fresh)


@transaction.atomic
def booking_reject(*, actor, booking: EnvironmentBooking, note: str, version: int | None = None) -> EnvironmentBooking:
    """Reject a requested (or approved) booking, saying why; its window is free again."""
    _, fresh = _locked_booking(booking)
    _transition(actor, fresh, "reject", version=version, note=(note or "").strip())
    return _sync(booking, fresh)


@transaction.atomic
def booking_activate(*, actor, booking: EnvironmentBooking, version: int | None = None) -> EnvironmentBooking:
    """Mark an approved booking as in use (not on an environment decommissioned since it was approved)."""
    environment, fresh = _locked_booking(booking)
    _check_bookable(environment)
    _transition(actor, fresh, "activate", version=version)
    return _sync(booking, fresh)


@transaction.atomic
def booking_release(*, actor, booking: EnvironmentBooking, version: int | None = None) -> EnvironmentBooking:
    """Give an active booking back: the environment is free again from now on."""
    _, fresh = _locked_booking(booking)
    _transition(actor, fresh, "release", version=version)
    return _sync(booking, fresh)


@transaction.atomic
def booking_cancel(
    *, actor, booking: EnvironmentBooking, version: int | None = None, note: str = ""
) -> EnvironmentBooking:
    """Cancel a requested or approved booking; its window is free again."""
    _, fresh = _locked_booking(booking)
    _transition(actor, fresh, "cancel", version=version, note=(note or "").strip())
    return _sync(booking, fresh)


_BOOKING_STEPS = {
    "approve": booking_approve,
    "reject": booking_reject,
    "activate": booking_activate,
    "release": booking_release,
    "cancel": booking_cancel,
}


def booking_act(*, actor, booking: EnvironmentBooking, action: str, version: int | None = None, note: str = ""):
    """Take the step of `BOOKING_TRANSITIONS` named `action`, as the API's actions and the booking page's buttons do;
    the note goes to the steps that keep one."""
    extra = {"note": note} if BOOKING_TRANSITIONS[action].takes_note else {}
    return _BOOKING_STEPS[action](actor=actor, booking=booking, version=version, **extra)


def booking_move_for_phases(
    *, actor, phases: dict[int, tuple[date, date, date, date]], reason: str = ""
) -> list[EnvironmentBooking]:
    """Move the live bookings of moved phases (`phases`: as the schedule's `ImpactContext` gives them) where they still
    fit; the others stay where they are (the conflict report then shows them as outside their phase).

    Called inside the schedule's applying transaction; the environments are locked first, then the plan is the one
    the what-if preview showed (`selectors.booking_move_plan`). Each moved booking is audited `booking.moved`.
    """
    environment_ids = sorted(
        set(
            EnvironmentBooking.objects.filter(
                phase_id__in=sorted(phases), status__in=LIVE_BOOKING_STATUSES
            ).values_list("environment_id", flat=True)
        )
    )
    list(Environment.objects.select_for_update().filter(pk__in=environment_ids).order_by("pk").values_list("pk"))
    moved = []
    for row in selectors.booking_move_plan(phases):
        booking = row["booking"]
        if row["problem"] is not None or not row["changes"]:
            continue
        old = {"starts_at": booking.starts_at, "ends_at": booking.ends_at}
        booking.starts_at, booking.ends_at = row["starts_at"], row["ends_at"]
        booking.version += 1
        booking.save(update_fields=["starts_at", "ends_at", "version", "updated_at"])
        audit_record(
            actor,
            "booking.moved",
            booking,
            old=old,
            new={"starts_at": booking.starts_at, "ends_at": booking.ends_at},
            reason=reason,
        )
        moved.append(booking)
    return moved


# Environment requests

REQUEST_FIELDS = [
    "title",
    "kind",
    "environment",
    "environment_type",
    "release",
    "phase",
    "team",
    "effort_hours",
    "sla_days",
    "status",
    "starts_on",
    "due_on",
    "masking",
    "description",
]
# Working days a team has for a request when none is given, by kind.
DEFAULT_SLA_DAYS = {
    RequestKind.PROVISIONING: 10,
    RequestKind.CONFIGURATION: 3,
    RequestKind.DATA_REFRESH: 5,
    RequestKind.DECOMMISSION: 5,
}
# The permission of the environment team's own work on a request (starting, masking, completing it): environment
# managers hold it; those who only request environments may edit and cancel their requests, not fulfil them.
FULFIL_REQUEST = "environments.fulfil_environmentrequest"
# The one table of an environment request's moves: the statuses each action starts from, where it leads, and the
# permission it needs.
REQUEST_TRANSITIONS = {
    "start": ((RequestStatus.REQUESTED,), RequestStatus.IN_PROGRESS, FULFIL_REQUEST),
    "complete": ((RequestStatus.REQUESTED, RequestStatus.IN_PROGRESS), RequestStatus.DONE, FULFIL_REQUEST),
    "cancel": (
        (RequestStatus.REQUESTED, RequestStatus.IN_PROGRESS),
        RequestStatus.CANCELLED,
        "environments.change_environmentrequest",
    ),
}
REQUEST_ACTION_WORDS = {"start": "started", "complete": "completed", "cancel": "cancelled"}


def request_dates(*, team: Team, sla_days: int, phase_start: date | None, due_on: date | None) -> tuple[date, date]:
    """(starts_on, due_on) of a request: due on the last working day (of the team's calendar) before the phase that
    needs it starts on `phase_start`, else on the date given; it starts `sla_days` working days before, the due day
    included. The one rule of a request's dates: creation, edits and the schedule's what-if use it."""
    calendar = team_calendar(team)
    if phase_start is not None:
        due_on = calendar.previous_working_day(phase_start - timedelta(days=1))
    if due_on is None:
        raise ValidationFailed.field("due_on", "Give a due date, or the phase that needs the environment.")
    require_plausible_dates(due_on=due_on)
    last_working = calendar.previous_working_day(due_on)
    starts_on = calendar.add_working_days(last_working, -(sla_days - 1)) if sla_days > 1 else last_working
    return min(starts_on, due_on), due_on


def _check_request(request: EnvironmentRequest) -> None:
    """The rules of a request's kind, environment, phase and dates (the dates are already derived)."""
    kind = request.kind
    environment = request.environment
    if kind == RequestKind.PROVISIONING:
        if not request.environment_type and environment is not None:
            request.environment_type = environment.environment_type
        if not request.environment_type:
            raise ValidationFailed.field("environment_type", "Say which type of environment is to be provisioned.")
    else:
        if environment is None:
            raise ValidationFailed.field(
                "environment", f"A {request.get_kind_display().lower()} needs the environment it is for."
            )
        if environment.status == EnvironmentStatus.DECOMMISSIONED:
            raise ValidationFailed.field("environment", f"{environment} is decommissioned.")
        request.environment_type = environment.environment_type
    if request.phase is not None:
        if request.release_id and request.release_id != request.phase.release_id:
            raise ValidationFailed.field("phase", f"The phase {request.phase.name} is not a phase of this release.")
        request.release_id = request.phase.release_id
    if kind == RequestKind.DECOMMISSION:
        check_decommission(environment, selectors.day_start(request.due_on), f"after {request.due_on:%d %b %Y}")
    if kind == RequestKind.DATA_REFRESH and environment.category != EnvironmentCategory.PRODUCTION:
        # Personal data copied out of production must be masked before the environment is used.
        if request.masking == MaskingStatus.NOT_NEEDED:
            request.masking = MaskingStatus.PENDING
    elif request.masking == MaskingStatus.PENDING:
        request.masking = MaskingStatus.NOT_NEEDED


@transaction.atomic
def environment_request_create(
    *,
    actor,
    title: str,
    kind: str,
    team: Team,
    effort_hours: Decimal,
    sla_days: int | None = None,
    environment: Environment | None = None,
    environment_type: str = "",
    release: Release | None = None,
    phase: Phase | None = None,
    due_on: date | None = None,
    description: str = "",
) -> EnvironmentRequest:
    """Ask an environment team for work (provisioning, a configuration change, a data refresh, a decommission) due
    before the phase that needs it starts, or by the date given."""
    require_perm(actor, "environments.add_environmentrequest")
    if kind not in RequestKind.values:
        raise ValidationFailed.field("kind", f"Choose a kind: {', '.join(RequestKind.values)}.")
    sla_days = DEFAULT_SLA_DAYS[kind] if sla_days is None else sla_days
    if not 1 <= sla_days <= 250:
        raise ValidationFailed.field("sla_days", "The SLA is between 1 and 250 working days.")
    starts_on, due_on = request_dates(
        team=team, sla_days=sla_days, phase_start=phase.planned_start if phase else None, due_on=due_on
    )
    request = EnvironmentRequest(
        title=(title or "").strip(),
        kind=kind,
        team=team,
        effort_hours=effort_hours,
        sla_days=sla_days,
        environment=environment,
        environment_type=environment_type or "",
        release=release,
        phase=phase,
        starts_on=starts_on,
        due_on=due_on,
        description=description or "",
        requester=actor if actor is not None and actor.is_authenticated else None,
    )
    _check_request(request)
    save(request)
    audit_record(actor, "environmentrequest.created", request, new=snapshot(request, REQUEST_FIELDS))
    return request


def _require_open(request: EnvironmentRequest, doing: str) -> None:
    if request.status not in OPEN_REQUEST_STATUSES:
        message = f"This request is {request.get_status_display().lower()}; it cannot be {doing}."
        raise Conflict(message, errors=[("status", message)])


@transaction.atomic
def environment_request_update(
    *, actor, request: EnvironmentRequest, version: int | None = None, **changes
) -> EnvironmentRequest:
    """Change an open request (title, effort, SLA, team, environment, phase or due date); its dates follow."""
    require_perm(actor, "environments.change_environmentrequest", request)
    _require_own_request_or_team(actor, request, "change")
    _require_open(request, "changed")
    unknown = set(changes) - {
        "title",
        "description",
        "effort_hours",
        "sla_days",
        "team",
        "environment",
        "environment_type",
        "release",
        "phase",
        "due_on",
    }
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], "This cannot be changed on a request.")
    require_values(
        changes,
        title="A request needs a title.",
        effort_hours="Give the effort in hours.",
        sla_days="Give the SLA in working days.",
        team="A request needs the team that does the work.",
    )
    blank_text_clears(changes, "description", "environment_type")
    before = snapshot(request, REQUEST_FIELDS)
    bump_version(request, version)
    if "due_on" in changes and changes["due_on"] is not None and "phase" not in changes:
        changes["phase"] = None  # a date typed in replaces the phase's
    assign(request, {key: value.strip() if isinstance(value, str) else value for key, value in changes.items()})
    if "phase" in changes and changes["phase"] is not None and "release" not in changes:
        request.release_id = None
    if not 1 <= request.sla_days <= 250:
        raise ValidationFailed.field("sla_days", "The SLA is between 1 and 250 working days.")
    phase_start = request.phase.planned_start if request.phase else None
    request.starts_on, request.due_on = request_dates(
        team=request.team, sla_days=request.sla_days, phase_start=phase_start, due_on=request.due_on
    )
    _check_request(request)
    save(request)
    old, new = changed_fields(before, snapshot(request, REQUEST_FIELDS))
    audit_record(actor, "environmentrequest.updated", request, old=old, new=new)
    return request


def _check_transition(request: EnvironmentRequest, action: str) -> RequestStatus:
    allowed, target, _ = REQUEST_TRANSITIONS[action]
    if request.status not in allowed:
        message = f"A {request.get_status_display().lower()} request cannot be {REQUEST_ACTION_WORDS[action]}."
        raise Conflict(message, errors=[("status", message)])
    return target


def _require_own_request_or_team(actor, request: EnvironmentRequest, what: str) -> None:
    """Who asked for the work edits and withdraws their request; the environment team (who fulfil requests) any."""
    if actor is None or actor.has_perm(FULFIL_REQUEST) or request.requester_id == actor.pk:
        return
    raise PermissionDenied(f"Only the person who made this request or the environment team may {what} it.")


def _request_move(actor, request: EnvironmentRequest, action: str, note: str = "") -> EnvironmentRequest:
    require_perm(actor, REQUEST_TRANSITIONS[action][2], request)
    if action == "cancel":
        _require_own_request_or_team(actor, request, "cancel")
    target = _check_transition(request, action)
    before = snapshot(request, ["status", "completed_at"])
    bump_version(request, None)
    request.status = target
    if target == RequestStatus.DONE:
        request.completed_at = timezone.now()
    request.save(update_fields=["status", "completed_at", "version", "updated_at"])
    audit_record(
        actor,
        f"environmentrequest.{REQUEST_ACTION_WORDS[action]}",
        request,
        old=before,
        new=snapshot(request, ["status", "completed_at"]),
        reason=note,
    )
    return request


@transaction.atomic
def environment_request_start(*, actor, request: EnvironmentRequest) -> EnvironmentRequest:
    """The team starts work on a requested request."""
    return _request_move(actor, request, "start")


@transaction.atomic
def environment_request_mask_done(*, actor, request: EnvironmentRequest) -> EnvironmentRequest:
    """Record that the refreshed data is masked, so the refresh may complete."""
    require_perm(actor, FULFIL_REQUEST, request)
    _require_open(request, "changed")
    if request.masking != MaskingStatus.PENDING:
        message = (
            "Masking is already done." if request.masking == MaskingStatus.DONE else "This request needs no masking."
        )
        raise Conflict(message, errors=[("masking", message)])
    bump_version(request, None)
    request.masking = MaskingStatus.DONE
    request.save(update_fields=["masking", "version", "updated_at"])
    audit_record(
        actor, "environmentrequest.masked", request, old={"masking": MaskingStatus.PENDING}, new={"masking": "done"}
    )
    return request


@transaction.atomic
def environment_request_complete(*, actor, request: EnvironmentRequest, note: str = "") -> EnvironmentRequest:
    """The work is done; a data refresh only once its data is masked, and a decommission retires the environment."""
    require_perm(actor, FULFIL_REQUEST, request)
    _check_transition(request, "complete")
    if request.kind == RequestKind.DATA_REFRESH and request.masking == MaskingStatus.PENDING:
        message = "The refreshed data is not masked yet: record the masking before completing the refresh."
        raise Conflict(message, errors=[("masking", message)])
    environment = request.environment
    if request.kind == RequestKind.DECOMMISSION:
        # Locked as a booking request locks it, so no booking slips in while the environment is retired.
        environment = Environment.objects.select_for_update().get(pk=environment.pk)
        check_decommission(environment, timezone.now(), "from now on")
    completed = _request_move(actor, request, "complete", note)
    if request.kind == RequestKind.DECOMMISSION and environment.status != EnvironmentStatus.DECOMMISSIONED:
        environment_status_set(
            actor=actor,
            environment=environment,
            status=EnvironmentStatus.DECOMMISSIONED,
            note=f"Decommissioned by the request “{request.title}”.",
        )
    return completed


@transaction.atomic
def environment_request_cancel(*, actor, request: EnvironmentRequest, note: str = "") -> EnvironmentRequest:
    """Withdraw an open request; the team's load no longer counts it."""
    return _request_move(actor, request, "cancel", note)


@transaction.atomic
def environment_request_move(*, actor, request: EnvironmentRequest, starts_on: date, due_on: date, reason: str = ""):
    """Move a request's dates because the phase that needs it moved (the schedule's apply calls this, inside its
    transaction, for an actor allowed to reschedule); audited as `environmentrequest.moved`."""
    before = snapshot(request, ["starts_on", "due_on"])
    bump_version(request, None)
    request.starts_on, request.due_on = starts_on, due_on
    request.save(update_fields=["starts_on", "due_on", "version", "updated_at"])
    audit_record(
        actor,
        "environmentrequest.moved",
        request,
        old=before,
        new=snapshot(request, ["starts_on", "due_on"]),
        reason=reason,
    )
    return request


# Deployments and versions
DEPLOYMENT_FIELDS = [
    "system",
    "environment",
    "version",
    "deployed_at",
    "outcome",
    "source",
    "release",
    "change_reference",
    "external_id",
]
MAX_BULK_DEPLOYMENTS = 5_000
MAX_DEPLOYMENT_NOTES = 5_000
_REFERENCES = ("system", "environment", "release")
_DEPLOYMENT_TEXT_LIMITS = {"change_reference": 50, "external_id": 100, "notes": MAX_DEPLOYMENT_NOTES}
# Looked up for every row of a bulk call: the enums' `values` are built anew on each access.
_OUTCOMES, _SOURCES = frozenset(DeploymentOutcome.values), frozenset(DeploymentSource.values)


def deployment_problems(row: dict, *, now: datetime) -> list[tuple[str, str]]:
    """Every rule a deployment row (version, time, outcome, source, texts, environment) breaks, as (field, message).

    The one check behind single and bulk recording; `row` holds the resolved environment and the cleaned values.
    """
    problems = []
    problem = rules.version_problem(row["version"])
    if problem:
        problems.append(("version", problem))
    deployed_at = row["deployed_at"]
    if not isinstance(deployed_at, datetime) or timezone.is_naive(deployed_at):
        problems.append(("deployed_at", "Give the time of the deployment with its time zone."))
    elif not is_plausible_date(deployed_at.date()):
        problems.append(("deployed_at", IMPLAUSIBLE_DATE_MESSAGE))
    elif deployed_at > now + rules.CLOCK_TOLERANCE:
        problems.append(("deployed_at", "A deployment cannot be recorded more than 5 minutes ahead of now."))
    if row["outcome"] not in _OUTCOMES:
        problems.append(("outcome", f"The outcome is one of {', '.join(DeploymentOutcome.values)}."))
    if row["source"] not in _SOURCES:
        problems.append(("source", f"The source is one of {', '.join(DeploymentSource.values)}."))
    for field, limit in _DEPLOYMENT_TEXT_LIMITS.items():
        if len(row[field]) > limit:
            problems.append((field, f"At most {limit:,} characters."))
    environment = row["environment"]
    if environment is not None and environment.status == EnvironmentStatus.DECOMMISSIONED:
        problems.append(("environment", f"{environment} is decommissioned: it takes no deployments."))
    return problems


def _deployment_row(**values) -> dict:
    """A row's values cleaned the same way for single and bulk recording: texts stripped, time defaulted to now."""
    row = {
        **values,
        "version": (values.get("version") or "").strip(),
        "outcome": values.get("outcome") or DeploymentOutcome.SUCCEEDED,
        "source": values.get("source") or DeploymentSource.MANUAL,
        "deployed_at": values.get("deployed_at") or timezone.now(),
    }
    for field in _DEPLOYMENT_TEXT_LIMITS:
        row[field] = (values.get(field) or "").strip()
    return row


def _duplicate_message(source: str, external_id: str) -> str:
    return f"A deployment from source {source} with external id {external_id!r} is already recorded."


def _recorder(actor):
    return actor if actor is not None and actor.is_authenticated else None


def _update_components(deployments: list[Deployment]) -> tuple[int, dict[tuple[int, int], str]]:
    """Move each environment component to the newest succeeded deployment among `deployments` when that is newer
    than what it records, adding the component if the system was not yet in the environment.

    The components are read locked (PostgreSQL; SQLite's write transaction already serialises), so deployments
    reported out of order, or at the same moment by two pipelines, leave the newest version. Returns how many
    components changed or were added, and the version each changed one had before.
    """
    newest: dict[tuple[int, int], Deployment] = {}
    for deployment in deployments:
        if deployment.outcome != DeploymentOutcome.SUCCEEDED:
            continue
        key = (deployment.environment_id, deployment.system_id)
        if key not in newest or deployment.deployed_at >= newest[key].deployed_at:
            newest[key] = deployment
    if not newest:
        return 0, {}
    current = {
        (component.environment_id, component.system_id): component
        for component in EnvironmentComponent.objects.select_for_update()
        .filter(environment_id__in={key[0] for key in newest}, system_id__in={key[1] for key in newest})
        .order_by()
        .only("id", "environment_id", "system_id", "version", "deployed_at")
    }
    now = timezone.now()
    changed, previous, missing = [], {}, []
    for key, deployment in newest.items():
        component = current.get(key)
        if component is None:
            missing.append(
                EnvironmentComponent(
                    environment_id=key[0],
                    system_id=key[1],
                    version=deployment.version,
                    deployed_at=deployment.deployed_at,
                )
            )
        elif component.deployed_at is None or component.deployed_at <= deployment.deployed_at:
            previous[key] = component.version
            component.version, component.deployed_at = deployment.version, deployment.deployed_at
            component.updated_at = now
            changed.append(component)
    if changed:
        _write_component_versions(changed)
    if missing:
        try:
            insert_all(EnvironmentComponent, missing)
        except IntegrityError:
            # Another deployment added one of these components at the same moment; the transaction is undone.
            raise Conflict("A deployment of the same system was recorded at the same moment; send it again.") from None
    return len(changed) + len(missing), previous


def _write_component_versions(components: list[EnvironmentComponent]) -> None:
    """Write the version, deployment time and update time of each component: one UPDATE statement run for every
    component (`executemany`, which the drivers run without a round of Python work per row), where the ORM's
    `bulk_update` builds a CASE expression over every row."""
    connection = connections[EnvironmentComponent.objects.db]
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.executemany(
            _component_update_sql(connection, "{id} = %s"),
            [
                (component.version, adapt(component.deployed_at), adapt(component.updated_at), component.pk)
                for component in components
            ],
        )


def _saved_deployments(deployments: list[Deployment]) -> None:
    """Insert the deployments; a constraint refused (the same pipeline run twice, at the same moment) is a 409."""
    try:
        insert_all(Deployment, deployments)
    except IntegrityError as exc:
        error = constraint_error(Deployment, exc)
        if isinstance(error, Conflict) and len(deployments) == 1 and deployments[0].external_id:
            message = _duplicate_message(deployments[0].source, deployments[0].external_id)
            error = Conflict(message, errors=[("external_id", message)])
        raise error from exc


@transaction.atomic
def deployment_record(
    *,
    actor,
    system: System,
    environment: Environment,
    version: str,
    deployed_at: datetime | None = None,
    outcome: str = DeploymentOutcome.SUCCEEDED,
    source: str = DeploymentSource.MANUAL,
    release: Release | None = None,
    change_reference: str = "",
    external_id: str = "",
    notes: str = "",
) -> Deployment:
    """Record that a system's version was deployed into an environment (now, unless `deployed_at` says when).

    A succeeded deployment newer than what the environment records becomes its current version of the system;
    a failed or rolled-back one is history only. A repeated external id from the same source is refused (409), so a
    retried pipeline step does not count twice.
    """
    require_perm(actor, "environments.add_deployment", environment)
    row = _deployment_row(
        system=system,
        environment=environment,
        version=version,
        deployed_at=deployed_at,
        outcome=outcome,
        source=source,
        release=release,
        change_reference=change_reference,
        external_id=external_id,
        notes=notes,
    )
    problems = deployment_problems(row, now=timezone.now())
    if problems:
        raise ValidationFailed(problems[0][1] if len(problems) == 1 else None, errors=problems)
    deployment = Deployment(**row, recorded_by=_recorder(actor))
    # The unique constraint, not a query first, refuses a repeated pipeline run: one query less on the hot path.
    _saved_deployments([deployment])
    updated = _move_component(deployment)
    audit_record(
        actor,
        "deployment.recorded",
        deployment,
        new={**snapshot(deployment, DEPLOYMENT_FIELDS), "sets_current_version": updated},
    )
    return deployment


_COMPONENT_COLUMNS = ("id", "version", "deployed_at", "updated_at", "environment", "system")


def _component_update_sql(connection, where: str) -> str:
    """The UPDATE setting a component's version, deployment time and update time (parameters in that order), for the
    rows `where` selects (columns named as {field}, its parameters after those three)."""
    quote = connection.ops.quote_name
    column = {name: quote(EnvironmentComponent._meta.get_field(name).column) for name in _COMPONENT_COLUMNS}
    return (
        f"UPDATE {quote(EnvironmentComponent._meta.db_table)} "
        f"SET {column['version']} = %s, {column['deployed_at']} = %s, {column['updated_at']} = %s "
        f"WHERE {where.format(**column)}"
    )


def _move_component(deployment: Deployment) -> bool:
    """`_update_components` for one deployment, in one conditional UPDATE in the usual case (a pipeline's hot path):
    whether the environment's version of the system is now this deployment's."""
    if deployment.outcome != DeploymentOutcome.SUCCEEDED:
        return False
    # Written out in SQL: on a pipeline's hot path the ORM's building of this UPDATE cost several times running it.
    connection = connections[EnvironmentComponent.objects.db]
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _component_update_sql(
                connection,
                "{environment} = %s AND {system} = %s AND ({deployed_at} IS NULL OR {deployed_at} <= %s)",
            ),
            [
                deployment.version,
                adapt(deployment.deployed_at),
                adapt(timezone.now()),
                deployment.environment_id,
                deployment.system_id,
                adapt(deployment.deployed_at),
            ],
        )
        if cursor.rowcount:
            return True
    component = EnvironmentComponent.objects.filter(
        environment_id=deployment.environment_id, system_id=deployment.system_id
    )
    if component.exists():
        return False  # the environment already runs something deployed later
    try:
        EnvironmentComponent.objects.create(
            environment_id=deployment.environment_id,
            system_id=deployment.system_id,
            version=deployment.version,
            deployed_at=deployment.deployed_at,
        )
    except IntegrityError:
        raise Conflict("A deployment of the same system was recorded at the same moment; send it again.") from None
    return True


def _bulk_references(actor, rows: list[dict]) -> dict[str, dict]:
    """Every system, environment and release the rows name (an object, an id, or a name in any case), looked up
    among those `actor` may see in one query per kind: {"system": {key: row}, ...}."""
    kinds = {"system": System, "environment": Environment, "release": Release}
    found: dict[str, dict] = {}
    for field, model in kinds.items():
        ids = {value for row in rows if isinstance(value := row.get(field), int) and not isinstance(value, bool)}
        names = {value.strip().lower() for row in rows if isinstance(value := row.get(field), str)}
        known: dict = {}
        if ids or names:
            queryset = model.objects.restrict(actor, "view").annotate(lower_name=Lower("name"))
            matches = Q(pk__in=ids) | Q(lower_name__in=names)
            for obj in queryset.filter(matches):
                known[obj.pk] = obj
                known[obj.lower_name] = obj
        found[field] = known
    return found


def _bulk_resolve(value, known: dict, field: str):
    """(object, problem) for one reference of a bulk row."""
    if value is None or value == "":
        return None, None if field == "release" else f"Give the {field}."
    if isinstance(value, models.Model):
        return value, None
    if isinstance(value, str):
        obj = known.get(value.strip().lower())
        return obj, None if obj else selectors.unknown_name(field, value)
    if isinstance(value, int) and not isinstance(value, bool):
        obj = known.get(value)
        return obj, None if obj else f"No {field} with id {value}."
    return None, f"Give the {field} once: by id or by name."


@transaction.atomic
def deployment_record_many(*, actor, rows: list[dict]) -> list[Deployment]:
    """Record up to 5,000 deployments at once, all or none: a refusal lists every rejected row's index and reason.

    Each row holds `deployment_record`'s arguments; `system`, `environment` and `release` may be objects, ids or
    names. Components move as `deployment_record` moves them, and one audit event `deployment.recorded_in_bulk`
    (on the environment when all rows share one, else on the first deployment) carries the counts.
    """
    require_perm(actor, "environments.add_deployment")
    if not rows:
        raise ValidationFailed.field("rows", "Send at least one deployment.")
    if len(rows) > MAX_BULK_DEPLOYMENTS:
        raise ValidationFailed.field(
            "rows", f"Send at most {MAX_BULK_DEPLOYMENTS:,} deployments at once; this has {len(rows):,}."
        )
    known = _bulk_references(actor, rows)
    now = timezone.now()
    errors: list[tuple[str, str]] = []
    cleaned: list[dict] = []
    for index, raw in enumerate(rows):
        unknown_fields = set(raw) - {*DEPLOYMENT_FIELDS, "notes"}
        problems = [(field, "This is not a deployment field.") for field in sorted(unknown_fields)]
        references = {}
        for field in ("system", "environment", "release"):
            obj, problem = _bulk_resolve(raw.get(field), known[field], field)
            references[field] = obj
            if problem:
                problems.append((field, problem))
        row = _deployment_row(**{**{key: raw.get(key) for key in DEPLOYMENT_FIELDS}, "notes": raw.get("notes")})
        row.update(references)
        problems += deployment_problems(row, now=now)
        errors += [(f"rows.{index}.{field}", f"Row {index}: {message}") for field, message in problems]
        cleaned.append(row)
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(cleaned):
        if row["external_id"]:
            key = (row["source"], row["external_id"])
            if key in seen:
                errors.append(
                    (
                        f"rows.{index}.external_id",
                        f"Row {index}: the same source and external id as row {seen[key]}.",
                    )
                )
            seen.setdefault(key, index)
    if errors:
        rejected = len({field.split(".")[1] for field, _ in errors})
        raise ValidationFailed(
            f"{rejected:,} of {len(rows):,} rows were refused; nothing was recorded.",
            errors=errors,
        )
    if seen:
        recorded = set()
        external_ids = {external_id for _, external_id in seen}
        sources = {source for source, _ in seen}
        for start in range(0, len(external_ids), 500):
            chunk = sorted(external_ids)[start : start + 500]
            recorded |= set(
                # Read through the partial unique index on (source, external id), whose condition this repeats.
                Deployment.objects.filter(source__in=sources, external_id__in=chunk)
                .exclude(external_id="")
                .values_list("source", "external_id")
            )
        duplicates = [(index, key) for key, index in seen.items() if key in recorded]
        if duplicates:
            raise Conflict(
                f"{len(duplicates):,} of {len(rows):,} rows are already recorded; nothing was recorded.",
                errors=[
                    (f"rows.{index}.external_id", f"Row {index}: {_duplicate_message(*key)}")
                    for index, key in sorted(duplicates)
                ],
            )
    for environment in {row["environment"].pk: row["environment"] for row in cleaned}.values():
        require_perm(actor, "environments.add_deployment", environment)
    recorder = _recorder(actor)
    # Made with the ids of what they refer to: setting related objects costs more than the insert, row for row.
    deployments = [
        Deployment(
            **{key: value for key, value in row.items() if key not in _REFERENCES},
            **{f"{key}_id": row[key].pk if row[key] is not None else None for key in _REFERENCES},
            recorded_by_id=recorder.pk if recorder else None,
        )
        for row in cleaned
    ]
    _saved_deployments(deployments)
    updated, _ = _update_components(deployments)
    per_environment: dict[str, int] = {}
    for row in cleaned:
        per_environment[row["environment"].name] = per_environment.get(row["environment"].name, 0) + 1
    environments = {row["environment"].pk: row["environment"] for row in cleaned}
    if len(environments) == 1:
        subject = next(iter(environments.values()))
    else:
        subject = deployments[0]
        subject.system, subject.environment = cleaned[0]["system"], cleaned[0]["environment"]  # named in the event
    audit_record(
        actor,
        "deployment.recorded_in_bulk",
        subject,
        new={
            "count": len(deployments),
            "environments": per_environment,
            "components_updated": updated,
            "first_id": deployments[0].pk,
            "last_id": deployments[-1].pk,
        },
    )
    return deployments


# Schedule, utilisation and demand
