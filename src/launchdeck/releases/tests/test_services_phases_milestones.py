"""Phases and milestones at the services: inside their release, in a phase of their own release; audit, permissions."""

import datetime
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.releases import services
from launchdeck.releases.choices import MilestoneKind, PhaseKind, PhaseStatus
from launchdeck.releases.models import Gate, Milestone, Phase
from launchdeck.releases.tests.factories import (
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    events_written,
    unchanged,
)

D = datetime.date


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def release(db):
    """2 March to 26 June 2026."""
    return ReleaseFactory(name="Ledger")


@pytest.fixture
def project_manager(make_user):
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


# Phases


def test_phase_create_places_it_last_and_records_it(release_manager, release):
    PhaseFactory(release=release, position=4)
    with events_written() as written:
        phase = services.phase_create(
            actor=release_manager,
            release=release,
            name=" SIT ",
            kind=PhaseKind.SIT,
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 24),
            environment_type="sit",
            test_effort_days=15,
        )
    assert written.types == ["phase.created"]
    assert (phase.name, phase.position, phase.environment_type) == ("SIT", 5, "sit")
    assert written.event.new_data["release"] == release.pk and written.event.new_data["planned_end"] == "2026-04-24"


@pytest.mark.parametrize(
    ("start", "end"),
    [(D(2026, 2, 23), D(2026, 3, 6)), (D(2026, 6, 22), D(2026, 7, 3)), (D(2026, 1, 5), D(2026, 8, 28))],
)
def test_a_phase_outside_its_release_is_refused(release_manager, release, start, end):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_create(
            actor=release_manager, release=release, name="SIT", kind="sit", planned_start=start, planned_end=end
        )
    assert caught.value.status == 422
    assert caught.value.detail.startswith(f"The phase SIT ({start.day} ")
    assert caught.value.detail.endswith("lies outside the release (2 Mar 2026 to 26 Jun 2026).")


def test_a_phase_ending_before_it_starts_is_refused(release_manager, release):
    with (
        unchanged(),
        pytest.raises(ValidationFailed, match=re.escape("The end date cannot be before the start date.")) as caught,
    ):
        services.phase_create(
            actor=release_manager,
            release=release,
            name="SIT",
            kind="sit",
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 3),
        )
    assert fields_of(caught) == ["planned_end"]


@pytest.mark.parametrize(
    ("optional", "field"),
    [
        ({"percent_complete": 101}, "percent_complete"),
        ({"status": "paused"}, "status"),
        ({"environment_type": "mars"}, "environment_type"),
        ({"test_effort_days": -2}, "test_effort_days"),
        ({"train_phase": None}, "train_phase"),
    ],
)
def test_bad_phase_input_is_refused_by_field(release_manager, release, optional, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_create(
            actor=release_manager,
            release=release,
            name="SIT",
            kind="sit",
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 24),
            **optional,
        )
    assert fields_of(caught) == [field]


def test_phase_names_are_unique_in_a_release(release_manager, release):
    PhaseFactory(release=release, name="SIT")
    with unchanged(), pytest.raises(Conflict, match="already has a phase with this name"):
        services.phase_create(
            actor=release_manager,
            release=release,
            name="sit",
            kind="sit",
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 24),
        )


def test_phase_update_records_progress(project_manager, release):
    phase = PhaseFactory(release=release)
    with events_written() as written:
        services.phase_update(
            actor=project_manager, phase=phase, version=1, percent_complete=40, status=PhaseStatus.IN_PROGRESS
        )
    assert written.types == ["phase.updated"]
    assert written.event.new_data == {"percent_complete": 40, "status": "in_progress"}
    assert Phase.objects.get(pk=phase.pk).version == 2


def test_phase_update_keeps_the_phase_in_its_release(release_manager, release):
    phase = PhaseFactory(release=release, name="UAT")
    with unchanged(), pytest.raises(ValidationFailed, match="The phase UAT") as caught:
        services.phase_update(actor=release_manager, phase=phase, version=1, planned_end=D(2026, 7, 10))
    assert fields_of(caught) == ["planned_end"]
    phase = Phase.objects.get(pk=phase.pk)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_update(
            actor=release_manager, phase=phase, version=1, actual_start=D(2026, 3, 5), actual_end=D(2026, 3, 4)
        )
    assert fields_of(caught) == ["actual_end"]


@pytest.mark.parametrize("field", ["release", "template", "train_phase", "baseline_start"])
def test_phase_update_refuses_fields_set_elsewhere(release_manager, release, field):
    phase = PhaseFactory(release=release)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_update(actor=release_manager, phase=phase, version=1, **{field: None})
    assert fields_of(caught) == [field]


def test_phase_update_refuses_a_stale_version(release_manager, release):
    phase = PhaseFactory(release=release)
    services.phase_update(actor=release_manager, phase=Phase.objects.get(pk=phase.pk), version=1, percent_complete=5)
    with unchanged(), pytest.raises(StaleVersion):
        services.phase_update(actor=release_manager, phase=phase, version=1, percent_complete=10)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.QUALITY_MANAGER, Role.ENVIRONMENT_MANAGER])
def test_roles_without_phase_rights_change_no_phase(make_user, release, role):
    phase = PhaseFactory(release=release)
    with unchanged(), pytest.raises(PermissionDenied):
        services.phase_update(actor=make_user(role), phase=phase, version=1, percent_complete=5)


def test_project_managers_change_but_neither_add_nor_delete_phases(project_manager, release):
    phase = PhaseFactory(release=release)
    with unchanged(), pytest.raises(PermissionDenied):
        services.phase_create(
            actor=project_manager,
            release=release,
            name="X",
            kind="uat",
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 24),
        )
    with unchanged(), pytest.raises(PermissionDenied):
        services.phase_delete(actor=project_manager, phase=phase)


def test_phase_delete_keeps_its_milestones_and_gates_on_the_release(release_manager, release):
    phase = PhaseFactory(release=release)
    milestone = MilestoneFactory(release=release, phase=phase)
    gate = GateFactory(release=release, phase=phase)
    with events_written() as written:
        services.phase_delete(actor=release_manager, phase=phase)
    assert written.types == ["phase.deleted"]
    assert Milestone.objects.get(pk=milestone.pk).phase is None and Gate.objects.get(pk=gate.pk).phase is None


# Milestones


def test_milestone_create_in_a_phase_of_its_release(project_manager, release_manager, release):
    phase = PhaseFactory(release=release)
    with events_written() as written:
        milestone = services.milestone_create(
            actor=release_manager,
            release=release,
            name="Deploy",
            kind=MilestoneKind.DEPLOY,
            planned_date=D(2026, 3, 10),
            phase=phase,
        )
    assert written.types == ["milestone.created"]
    assert written.event.new_data == {
        "release": release.pk,
        "phase": phase.pk,
        "name": "Deploy",
        "kind": "deploy",
        "planned_date": "2026-03-10",
        "actual_date": None,
    }
    by_id = services.milestone_create(
        actor=release_manager, release=release, name="Go", planned_date=D(2026, 3, 11), phase=phase.pk
    )
    assert by_id.phase == phase and milestone.phase == phase


@pytest.mark.parametrize("phase", ["other release", 987654, "text"])
def test_a_milestone_in_a_phase_that_does_not_exist_in_the_release_is_refused(release_manager, release, phase):
    if phase == "other release":
        phase = PhaseFactory()
    with (
        unchanged(),
        pytest.raises(ValidationFailed, match=re.escape("The phase does not exist in this release.")) as caught,
    ):
        services.milestone_create(
            actor=release_manager, release=release, name="Deploy", planned_date=D(2026, 3, 10), phase=phase
        )
    assert fields_of(caught) == ["phase"] and caught.value.status == 422


@pytest.mark.parametrize("day", [D(2026, 3, 1), D(2026, 6, 27)])
def test_a_milestone_outside_its_release_is_refused(release_manager, release, day):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_create(actor=release_manager, release=release, name="Deploy", planned_date=day)
    assert fields_of(caught) == ["planned_date"]
    assert caught.value.detail == (
        f"The milestone Deploy ({day.day} {day:%b} 2026) lies outside the release (2 Mar 2026 to 26 Jun 2026)."
    )


def test_milestones_on_the_first_and_last_day_are_inside(release_manager, release):
    services.milestone_create(actor=release_manager, release=release, name="A", planned_date=D(2026, 3, 2))
    services.milestone_create(actor=release_manager, release=release, name="B", planned_date=D(2026, 6, 26))
    assert release.milestones.count() == 2


def test_milestone_update_moves_it_and_records_reaching_it(project_manager, release):
    milestone = MilestoneFactory(release=release, planned_date=D(2026, 5, 1))
    with events_written() as written:
        services.milestone_update(
            actor=project_manager, milestone=milestone, version=1, planned_date=D(2026, 5, 8), actual_date=D(2026, 5, 8)
        )
    assert written.event.new_data == {"planned_date": "2026-05-08", "actual_date": "2026-05-08"}


def test_milestone_update_refuses_a_foreign_phase_and_a_date_outside(release_manager, release):
    milestone = MilestoneFactory(release=release)
    other = PhaseFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_update(actor=release_manager, milestone=milestone, version=1, phase=other)
    assert fields_of(caught) == ["phase"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_update(actor=release_manager, milestone=milestone, version=1, planned_date=D(2027, 1, 1))
    assert fields_of(caught) == ["planned_date"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_update(actor=release_manager, milestone=milestone, version=1, release=ReleaseFactory.build())
    assert fields_of(caught) == ["release"]


def test_a_milestone_leaves_its_phase(release_manager, release):
    milestone = MilestoneFactory(release=release, phase=PhaseFactory(release=release))
    services.milestone_update(actor=release_manager, milestone=milestone, version=1, phase=None)
    assert Milestone.objects.get(pk=milestone.pk).phase is None


def test_milestone_names_are_unique_in_a_release(release_manager, release):
    MilestoneFactory(release=release, name="Deploy")
    with unchanged(), pytest.raises(Conflict, match="already has a milestone with this name"):
        services.milestone_create(actor=release_manager, release=release, name="DEPLOY", planned_date=D(2026, 3, 10))


def test_milestone_permissions(make_user, project_manager, release_manager, release):
    milestone = MilestoneFactory(release=release)
    viewer = make_user(Role.VIEWER)
    with unchanged(), pytest.raises(PermissionDenied):
        services.milestone_update(actor=viewer, milestone=milestone, version=1, name="X")
    with unchanged(), pytest.raises(PermissionDenied):
        services.milestone_create(actor=project_manager, release=release, name="X", planned_date=D(2026, 3, 10))
    with unchanged(), pytest.raises(PermissionDenied):
        services.milestone_delete(actor=project_manager, milestone=milestone)
    with events_written() as written:
        services.milestone_delete(actor=release_manager, milestone=milestone)
    assert written.types == ["milestone.deleted"]


# Dates out of any plan


def test_phases_and_milestones_outside_the_plausible_years_are_refused(release_manager, release):
    phase, milestone = PhaseFactory(release=release), MilestoneFactory(release=release)
    attempts = [
        (
            lambda: services.phase_create(
                actor=release_manager,
                release=release,
                name="P",
                kind=PhaseKind.BUILD,
                planned_start=D(2026, 3, 2),
                planned_end=D(9999, 12, 31),
            ),
            "planned_end",
        ),
        (lambda: services.phase_update(actor=release_manager, phase=phase, actual_start=D(202, 3, 2)), "actual_start"),
        (
            lambda: services.milestone_create(
                actor=release_manager,
                release=release,
                name="M",
                planned_date=D(3000, 1, 1),
            ),
            "planned_date",
        ),
        (
            lambda: services.milestone_update(
                actor=release_manager,
                milestone=milestone,
                actual_date=D(1899, 1, 1),
            ),
            "actual_date",
        ),
    ]
    for attempt, field in attempts:
        with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
            attempt()
        assert fields_of(caught) == [field]


# Closed releases


@pytest.fixture
def shipped(db):
    """Ledger, released, with a build phase and a deploy milestone."""
    release = ReleaseFactory(name="Ledger", status="released")
    PhaseFactory(release=release, name="Build", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 27))
    MilestoneFactory(release=release, name="Deploy", planned_date=D(2026, 6, 1))
    return release


def test_the_phases_and_milestones_of_a_closed_release_are_history(release_manager, shipped):
    phase, milestone = shipped.phases.get(), shipped.milestones.get()
    attempts = [
        lambda: services.phase_create(
            actor=release_manager,
            release=shipped,
            name="Late",
            kind=PhaseKind.BUILD,
            planned_start=D(2026, 4, 6),
            planned_end=D(2026, 4, 10),
        ),
        lambda: services.phase_update(actor=release_manager, phase=phase, planned_end=D(2026, 4, 3)),
        lambda: services.phase_update(actor=release_manager, phase=phase, name="Build and test"),
        lambda: services.phase_delete(actor=release_manager, phase=phase),
        lambda: services.milestone_create(actor=release_manager, release=shipped, name="M", planned_date=D(2026, 6, 2)),
        lambda: services.milestone_update(actor=release_manager, milestone=milestone, planned_date=D(2026, 6, 2)),
        lambda: services.milestone_update(actor=release_manager, milestone=milestone, phase=phase),
        lambda: services.milestone_delete(actor=release_manager, milestone=milestone),
    ]
    for attempt in attempts:
        with unchanged(), pytest.raises(Conflict, match=re.escape("Ledger is released; its plan is history.")):
            attempt()


def test_what_happened_is_still_recorded_on_the_phases_and_milestones_of_a_closed_release(release_manager, shipped):
    phase, milestone = shipped.phases.get(), shipped.milestones.get()
    services.phase_update(
        actor=release_manager,
        phase=phase,
        status=PhaseStatus.DONE,
        percent_complete=100,
        actual_start=D(2026, 3, 3),
        actual_end=D(2026, 4, 2),
        planned_end=phase.planned_end,  # a form sends the plan back unchanged
    )
    services.milestone_update(actor=release_manager, milestone=milestone, actual_date=D(2026, 6, 3))
    phase.refresh_from_db()
    milestone.refresh_from_db()
    assert (phase.status, phase.percent_complete, phase.actual_end) == (PhaseStatus.DONE, 100, D(2026, 4, 2))
    assert milestone.actual_date == D(2026, 6, 3)
