"""Environment requests: due dates from the phase on the team's calendar, kinds, masking, the moves between states."""

import datetime
from decimal import Decimal

import pytest

from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.environments import services
from launchdeck.environments.choices import (
    BookingStatus,
    EnvironmentCategory,
    EnvironmentStatus,
    MaskingStatus,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import EnvironmentRequest, EnvironmentStatusChange
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentFactory,
    EnvironmentRequestFactory,
    at,
)
from launchdeck.org.models import Calendar, CalendarClosure
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory

D = datetime.date


@pytest.fixture
def team(db):
    return TeamFactory(name="Environment team", capacity_person_days_per_week=Decimal("10"))


@pytest.fixture
def phase(db):
    """An SIT phase that starts on Monday 16 March 2026."""
    return PhaseFactory(name="SIT", planned_start=D(2026, 3, 16), planned_end=D(2026, 3, 27))


def create(actor, **fields) -> EnvironmentRequest:
    values = {"title": "Refresh SIT data", "kind": RequestKind.CONFIGURATION, "effort_hours": Decimal("16")}
    return services.environment_request_create(actor=actor, **(values | fields))


def refusal(caught) -> tuple:
    error = caught.value
    return (error.errors[0]["field"] if error.errors else None, error.detail)


# Due dates


def test_a_request_for_a_phase_is_due_the_last_working_day_before_it_starts(environment_manager, team, sit, phase):
    with_sla = create(environment_manager, team=team, environment=sit, phase=phase, sla_days=5)
    assert with_sla.due_on == D(2026, 3, 13)  # the Friday before the Monday the phase starts
    assert with_sla.starts_on == D(2026, 3, 9)  # five working days, the due day included
    assert with_sla.release == phase.release


def test_the_team_calendar_decides_which_days_are_working_days(environment_manager, sit, phase):
    calendar = Calendar.objects.create(name="Closed Fridays in March", weekend=[5, 6])
    CalendarClosure.objects.create(calendar=calendar, start=D(2026, 3, 13), end=D(2026, 3, 13), name="Shutdown")
    team = TeamFactory(calendar=calendar)
    request = create(environment_manager, team=team, environment=sit, phase=phase, sla_days=2)
    assert (request.starts_on, request.due_on) == (D(2026, 3, 11), D(2026, 3, 12))


def test_a_phase_starting_after_a_weekend_day_off_still_finds_the_working_day(environment_manager, team, sit):
    saturday_phase = PhaseFactory(planned_start=D(2026, 3, 22), planned_end=D(2026, 3, 27))  # a Sunday
    request = create(environment_manager, team=team, environment=sit, phase=saturday_phase, sla_days=1)
    assert (request.starts_on, request.due_on) == (D(2026, 3, 20), D(2026, 3, 20))


def test_the_sla_defaults_by_kind(environment_manager, team, sit):
    expected = {
        RequestKind.PROVISIONING: 10,
        RequestKind.CONFIGURATION: 3,
        RequestKind.DATA_REFRESH: 5,
        RequestKind.DECOMMISSION: 5,
    }
    for kind, days in expected.items():
        request = create(
            environment_manager,
            kind=kind,
            team=team,
            environment=None if kind == RequestKind.PROVISIONING else sit,
            environment_type=EnvironmentType.UAT if kind == RequestKind.PROVISIONING else "",
            due_on=D(2026, 12, 18),
        )
        assert request.sla_days == days, kind
        assert team_working_days(request) == days, kind
        EnvironmentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.CANCELLED)


def team_working_days(request) -> int:
    from launchdeck.org.calendars import team_calendar

    return team_calendar(request.team).working_days_in(request.starts_on, request.due_on)


def test_a_request_without_a_phase_is_due_on_the_date_given(environment_manager, team, sit):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20), sla_days=3)
    assert (request.starts_on, request.due_on, request.phase) == (D(2026, 3, 18), D(2026, 3, 20), None)


def test_a_due_date_on_a_weekend_starts_the_work_before_it(environment_manager, team, sit):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 22), sla_days=1)
    assert (request.starts_on, request.due_on) == (D(2026, 3, 20), D(2026, 3, 22))


def test_creating_a_request_is_audited(environment_manager, team, sit, events):
    with events("environmentrequest.created") as recorded:
        request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    (event,) = recorded.events
    assert event.new_data["due_on"] == "2026-03-20" and event.object_id == str(request.pk)
    assert request.requester == environment_manager and request.status == RequestStatus.REQUESTED


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"due_on": None}, "due_on", "Give a due date, or the phase that needs the environment."),
        ({"due_on": D(9999, 1, 1)}, "due_on", "Enter a date between the years 1900 and 2999."),
        ({"sla_days": 0}, "sla_days", "The SLA is between 1 and 250 working days."),
        ({"sla_days": 251}, "sla_days", "The SLA is between 1 and 250 working days."),
        ({"kind": "rebuild"}, "kind", "Choose a kind: provisioning, configuration, data_refresh, decommission."),
        ({"environment": None}, "environment", "A configuration change needs the environment it is for."),
        ({"title": "  "}, "title", "This field cannot be blank."),
        ({"effort_hours": Decimal("0")}, "effort_hours", "Ensure this value is greater than or equal to 0.5."),
        ({"effort_hours": Decimal("20000")}, "effort_hours", "Ensure this value is less than or equal to 10000."),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(environment_manager, team, sit, unchanged, fields, field, message):
    values = {"team": team, "environment": sit, "due_on": D(2026, 3, 20)} | fields
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(environment_manager, **values)
    assert refusal(caught) == (field, message)


def test_provisioning_needs_the_type_of_environment_wanted(environment_manager, team, unchanged):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(environment_manager, kind=RequestKind.PROVISIONING, team=team, due_on=D(2026, 3, 20))
    assert refusal(caught) == ("environment_type", "Say which type of environment is to be provisioned.")
    made = create(
        environment_manager,
        kind=RequestKind.PROVISIONING,
        team=team,
        environment_type=EnvironmentType.PERFORMANCE,
        due_on=D(2026, 3, 20),
    )
    assert made.environment is None and made.environment_type == EnvironmentType.PERFORMANCE


def test_the_other_kinds_take_the_type_of_their_environment(environment_manager, team, sit):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    assert request.environment_type == EnvironmentType.SIT


def test_a_decommissioned_environment_takes_no_request(environment_manager, team, unchanged):
    gone = EnvironmentFactory(name="Old UAT", status=EnvironmentStatus.DECOMMISSIONED)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(environment_manager, team=team, environment=gone, due_on=D(2026, 3, 20))
    assert refusal(caught) == ("environment", "Old UAT is decommissioned.")


def test_a_phase_of_another_release_is_refused(environment_manager, team, sit, phase, unchanged):
    other = ReleaseFactory(name="Other")
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(environment_manager, team=team, environment=sit, phase=phase, release=other)
    assert refusal(caught) == ("phase", "The phase SIT is not a phase of this release.")


def test_roles_without_the_permission_cannot_request(viewer, quality_manager, team, sit, unchanged):
    for user in (viewer, quality_manager):
        with unchanged(), pytest.raises(PermissionDenied):
            create(user, team=team, environment=sit, due_on=D(2026, 3, 20))


def test_project_managers_may_request(project_manager, team, sit):
    assert create(project_manager, team=team, environment=sit, due_on=D(2026, 3, 20)).pk


# Decommission and masking


def test_decommissioning_an_environment_with_live_bookings_after_the_date_is_refused_naming_them(
    environment_manager, team, sit, unchanged
):
    EnvironmentBookingFactory(environment=sit, starts_at=at(21), ends_at=at(25))
    EnvironmentBookingFactory(environment=sit, starts_at=at(28), ends_at=at(30), status=BookingStatus.APPROVED)
    EnvironmentBookingFactory(environment=sit, starts_at=at(35), ends_at=at(37), status=BookingStatus.CANCELLED)
    EnvironmentBookingFactory(environment=sit, starts_at=at(0), ends_at=at(4))  # before the date: no matter
    with unchanged(), pytest.raises(Conflict) as caught:
        create(environment_manager, kind=RequestKind.DECOMMISSION, team=team, environment=sit, due_on=D(2026, 3, 20))
    assert refusal(caught) == (
        "environment",
        "SIT 1 still has live bookings after 20 Mar 2026: 23 Mar 2026 to 27 Mar 2026 (requested); 30 Mar 2026 to "
        "01 Apr 2026 (approved). Cancel or move them before it is decommissioned.",
    )


def test_completing_a_decommission_retires_the_environment(environment_manager, team, sit, events):
    request = create(
        environment_manager, kind=RequestKind.DECOMMISSION, team=team, environment=sit, due_on=D(2026, 3, 20)
    )
    with events("environmentrequest.completed", "environment.status_changed"):
        services.environment_request_complete(actor=environment_manager, request=request, note="Switched off")
    sit.refresh_from_db()
    request.refresh_from_db()
    assert sit.status == EnvironmentStatus.DECOMMISSIONED
    assert request.status == RequestStatus.DONE and request.completed_at is not None
    assert EnvironmentStatusChange.objects.filter(environment=sit).last().status == EnvironmentStatus.DECOMMISSIONED


def test_a_decommission_cannot_complete_while_the_environment_is_still_booked(
    environment_manager, team, sit, unchanged
):
    request = create(
        environment_manager, kind=RequestKind.DECOMMISSION, team=team, environment=sit, due_on=D(2030, 3, 20)
    )
    # Booked after the request was made (bookings do not check for a pending decommission): now it holds the
    # environment in the future, so retiring it would strand the booking.
    EnvironmentBookingFactory(environment=sit, starts_at=at(2000), ends_at=at(2001))
    with unchanged(), pytest.raises(Conflict) as caught:
        services.environment_request_complete(actor=environment_manager, request=request)
    assert "SIT 1 still has live bookings from now on: " in caught.value.detail


def test_a_data_refresh_into_a_non_production_environment_needs_masking(environment_manager, team, sit):
    request = create(
        environment_manager, kind=RequestKind.DATA_REFRESH, team=team, environment=sit, due_on=D(2026, 3, 20)
    )
    assert request.masking == MaskingStatus.PENDING
    production = EnvironmentFactory(
        category=EnvironmentCategory.PRODUCTION, environment_type=EnvironmentType.PRODUCTION
    )
    into_production = create(
        environment_manager, kind=RequestKind.DATA_REFRESH, team=team, environment=production, due_on=D(2026, 3, 20)
    )
    assert into_production.masking == MaskingStatus.NOT_NEEDED
    change = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    assert change.masking == MaskingStatus.NOT_NEEDED


def test_a_data_refresh_cannot_complete_before_its_data_is_masked(environment_manager, team, sit, unchanged, events):
    request = create(
        environment_manager, kind=RequestKind.DATA_REFRESH, team=team, environment=sit, due_on=D(2026, 3, 20)
    )
    with unchanged(), pytest.raises(Conflict) as caught:
        services.environment_request_complete(actor=environment_manager, request=request)
    assert refusal(caught) == (
        "masking",
        "The refreshed data is not masked yet: record the masking before completing the refresh.",
    )
    with events("environmentrequest.masked", "environmentrequest.completed"):
        services.environment_request_mask_done(actor=environment_manager, request=request)
        services.environment_request_complete(actor=environment_manager, request=request)
    request.refresh_from_db()
    assert (request.masking, request.status) == (MaskingStatus.DONE, RequestStatus.DONE)


def test_masking_is_recorded_only_where_it_is_pending(environment_manager, team, sit, unchanged):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    with unchanged(), pytest.raises(Conflict) as caught:
        services.environment_request_mask_done(actor=environment_manager, request=request)
    assert refusal(caught) == ("masking", "This request needs no masking.")


# Moves between states


def test_a_request_moves_from_requested_to_in_progress_to_done(environment_manager, team, sit, events):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    with events("environmentrequest.started", "environmentrequest.completed"):
        services.environment_request_start(actor=environment_manager, request=request)
        services.environment_request_complete(actor=environment_manager, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.DONE and request.version == 3


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (RequestStatus.IN_PROGRESS, "start", "A in progress request cannot be started."),
        (RequestStatus.DONE, "start", "A done request cannot be started."),
        (RequestStatus.DONE, "complete", "A done request cannot be completed."),
        (RequestStatus.CANCELLED, "complete", "A cancelled request cannot be completed."),
        (RequestStatus.DONE, "cancel", "A done request cannot be cancelled."),
        (RequestStatus.CANCELLED, "cancel", "A cancelled request cannot be cancelled."),
    ],
)
def test_moves_the_table_does_not_allow_are_refused(environment_manager, unchanged, status, action, message):
    request = EnvironmentRequestFactory(status=status)
    move = getattr(services, f"environment_request_{action}")
    with unchanged(), pytest.raises(Conflict) as caught:
        move(actor=environment_manager, request=request)
    assert refusal(caught) == ("status", message)


def test_cancelling_records_the_note(project_manager, events):
    request = EnvironmentRequestFactory(requester=project_manager)
    with events("environmentrequest.cancelled") as recorded:
        services.environment_request_cancel(actor=project_manager, request=request, note="Phase dropped")
    assert recorded.events[0].reason == "Phase dropped"
    assert request.status == RequestStatus.CANCELLED


def test_a_viewer_cannot_move_a_request(viewer, unchanged):
    request = EnvironmentRequestFactory()
    for action in ("start", "complete", "cancel", "mask_done"):
        with unchanged(), pytest.raises(PermissionDenied):
            getattr(services, f"environment_request_{action}")(actor=viewer, request=request)


# Updates


def test_moving_a_request_to_another_phase_moves_its_dates(environment_manager, team, sit, phase, events):
    request = create(environment_manager, team=team, environment=sit, due_on=D(2026, 3, 20))
    with events("environmentrequest.updated") as recorded:
        services.environment_request_update(actor=environment_manager, request=request, phase=phase, sla_days=2)
    request.refresh_from_db()
    assert (request.starts_on, request.due_on, request.release) == (D(2026, 3, 12), D(2026, 3, 13), phase.release)
    assert recorded.events[0].old_data["due_on"] == "2026-03-20"


def test_a_date_typed_in_replaces_the_phase(environment_manager, team, sit, phase):
    request = create(environment_manager, team=team, environment=sit, phase=phase)
    services.environment_request_update(actor=environment_manager, request=request, due_on=D(2026, 4, 3))
    request.refresh_from_db()
    assert (request.phase, request.due_on) == (None, D(2026, 4, 3))


def test_a_stale_or_closed_request_is_not_changed(environment_manager, unchanged):
    request = EnvironmentRequestFactory()
    with unchanged(), pytest.raises(StaleVersion):
        services.environment_request_update(actor=environment_manager, request=request, title="New", version=7)
    done = EnvironmentRequestFactory(status=RequestStatus.DONE)
    with unchanged(), pytest.raises(Conflict) as caught:
        services.environment_request_update(actor=environment_manager, request=done, title="New")
    assert refusal(caught) == ("status", "This request is done; it cannot be changed.")


def test_an_update_that_breaks_a_rule_changes_nothing(environment_manager, unchanged):
    request = EnvironmentRequestFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_request_update(actor=environment_manager, request=request, environment=None)
    assert refusal(caught) == ("environment", "A configuration change needs the environment it is for.")
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.environment_request_update(actor=environment_manager, request=request, title=None)
    assert refusal(caught) == ("title", "A request needs a title.")


@pytest.mark.parametrize(
    "action",
    [
        services.environment_request_start,
        services.environment_request_mask_done,
        services.environment_request_complete,
    ],
)
def test_those_who_request_environments_may_not_do_the_environment_teams_work(project_manager, unchanged, action):
    request = EnvironmentRequestFactory(requester=project_manager, masking=MaskingStatus.PENDING)
    with unchanged(), pytest.raises(PermissionDenied, match="fulfil_environmentrequest"):
        action(actor=project_manager, request=request)


def test_only_who_made_a_request_or_the_environment_team_may_change_or_cancel_it(
    project_manager, make_user, environment_manager, unchanged
):
    request = EnvironmentRequestFactory(requester=project_manager)
    another = make_user("project_manager", username="another_project_manager")
    with unchanged(), pytest.raises(PermissionDenied, match="Only the person who made this request"):
        services.environment_request_update(actor=another, request=request, title="Not mine")
    with unchanged(), pytest.raises(PermissionDenied, match="Only the person who made this request"):
        services.environment_request_cancel(actor=another, request=request)
    services.environment_request_update(actor=project_manager, request=request, title="Mine")
    services.environment_request_cancel(actor=environment_manager, request=request)
    assert request.status == RequestStatus.CANCELLED
