"""Release trains at the services: who may join, inheriting the train's phase dates, following the train."""

import datetime
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, ValidationFailed
from launchdeck.releases import services
from launchdeck.releases.choices import PhaseKind, ReleaseKind, ReleaseStatus
from launchdeck.releases.models import Phase, Release
from launchdeck.releases.tests.factories import (
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    TrainFactory,
    events_written,
    unchanged,
)

D = datetime.date


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def train(db):
    """Winter train, 2 March to 31 July, with SIT in April and UAT in May."""
    train = TrainFactory(name="Winter", planned_start=D(2026, 3, 2), planned_end=D(2026, 7, 31))
    PhaseFactory(
        release=train, name="Train SIT", kind=PhaseKind.SIT, planned_start=D(2026, 4, 6), planned_end=D(2026, 4, 24)
    )
    PhaseFactory(
        release=train, name="Train UAT", kind=PhaseKind.UAT, planned_start=D(2026, 5, 4), planned_end=D(2026, 5, 22)
    )
    return train


@pytest.fixture
def child(db):
    """Ledger, 9 March to 15 May, with build, SIT and UAT of its own."""
    child = ReleaseFactory(name="Ledger", planned_start=D(2026, 3, 9), planned_end=D(2026, 5, 15))
    PhaseFactory(
        release=child, name="Build", kind=PhaseKind.BUILD, planned_start=D(2026, 3, 9), planned_end=D(2026, 3, 27)
    )
    PhaseFactory(
        release=child, name="SIT", kind=PhaseKind.SIT, planned_start=D(2026, 3, 30), planned_end=D(2026, 4, 10)
    )
    PhaseFactory(
        release=child, name="UAT", kind=PhaseKind.UAT, planned_start=D(2026, 4, 13), planned_end=D(2026, 4, 24)
    )
    return child


def dates(release) -> dict:
    return {p.name: (p.planned_start, p.planned_end, p.train_phase_id) for p in Phase.objects.filter(release=release)}


def test_a_child_keeping_its_dates_joins_the_train(release_manager, train, child):
    before = dates(child)
    with events_written() as written:
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)
    assert written.types == ["release.joined_train"]
    assert written.event.new_data == {"train": train.pk, "phases": {}}
    child = Release.objects.get(pk=child.pk)
    assert (child.train, child.inherits_train_dates, child.version) == (train, False, 2)
    assert dates(child) == before


def test_a_child_inheriting_takes_the_train_phases_dates_and_widens_its_window(release_manager, train, child):
    train_sit, train_uat = train.phases.get(kind="sit"), train.phases.get(kind="uat")
    with events_written() as written:
        returned = services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    assert dates(child) == {
        "Build": (D(2026, 3, 9), D(2026, 3, 27), None),
        "SIT": (D(2026, 4, 6), D(2026, 4, 24), train_sit.pk),
        "UAT": (D(2026, 5, 4), D(2026, 5, 22), train_uat.pk),
    }
    child = Release.objects.get(pk=child.pk)
    assert (child.inherits_train_dates, child.planned_start, child.planned_end) == (True, D(2026, 3, 9), D(2026, 5, 22))
    assert returned.planned_end == D(2026, 5, 22) and returned.train_id == train.pk
    assert written.event.new_data["planned_end"] == "2026-05-22"
    assert written.event.new_data["phases"] == {
        "SIT": ["2026-04-06", "2026-04-24"],
        "UAT": ["2026-05-04", "2026-05-22"],
    }


def test_created_in_a_train_with_inherited_dates(release_manager, train):
    from launchdeck.releases.tests.factories import PhaseTemplateFactory, ReleaseTemplateFactory

    template = ReleaseTemplateFactory()
    PhaseTemplateFactory(template=template, position=1, name="Build", kind="build", duration_days=5)
    PhaseTemplateFactory(template=template, position=2, name="SIT", kind="sit", start_offset_days=5, duration_days=5)
    with events_written() as written:
        release = services.release_create(
            actor=release_manager,
            name="Cards",
            kind=ReleaseKind.PROJECT,
            planned_start=D(2026, 3, 2),
            template=template,
            train=train,
            inherit_train_dates=True,
        )
    assert written.types == ["release.created"]
    assert dates(release)["SIT"] == (D(2026, 4, 6), D(2026, 4, 24), train.phases.get(kind="sit").pk)
    release = Release.objects.get(pk=release.pk)
    assert (release.train, release.inherits_train_dates, release.planned_end) == (train, True, D(2026, 4, 24))


def test_created_in_a_train_refuses_a_non_project_release(release_manager, train):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_create(
            actor=release_manager,
            name="X",
            kind=ReleaseKind.INDEPENDENT,
            planned_start=D(2026, 3, 2),
            planned_end=D(2026, 4, 2),
            train=train,
        )
    assert fields_of(caught) == ["kind"]


def test_a_child_already_in_a_train_cannot_join_another(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    spring = TrainFactory(name="Spring")
    with unchanged(), pytest.raises(Conflict) as caught:
        services.release_add_to_train(actor=release_manager, train=spring, release=child, inherit_dates=False)
    assert caught.value.detail == "Ledger is already in train Winter; remove it from Winter first."
    assert caught.value.status == 409


def test_a_stale_instance_already_in_a_train_is_still_refused(release_manager, train, child):
    stale = Release.objects.get(pk=child.pk)
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)
    spring = TrainFactory()
    with unchanged(), pytest.raises(Conflict, match="already in train Winter"):
        services.release_add_to_train(actor=release_manager, train=spring, release=stale, inherit_dates=False)


def test_joining_the_same_train_again_switches_inheritance(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)
    child = Release.objects.get(pk=child.pk)
    assert child.inherits_train_dates is False
    assert all(train_phase is None for _, _, train_phase in dates(child).values())


@pytest.mark.parametrize(
    ("train_kind", "child_kind", "field"),
    [
        (ReleaseKind.PROJECT, ReleaseKind.PROJECT, "train"),
        (ReleaseKind.INDEPENDENT, ReleaseKind.PROJECT, "train"),
        (ReleaseKind.ENTERPRISE, ReleaseKind.INDEPENDENT, "release"),
        (ReleaseKind.ENTERPRISE, ReleaseKind.ENTERPRISE, "release"),
    ],
)
def test_only_project_releases_join_and_only_enterprise_releases_are_trains(
    release_manager, train_kind, child_kind, field
):
    train = ReleaseFactory(kind=train_kind, name="Host")
    child = ReleaseFactory(kind=child_kind, name="Guest")
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)
    assert fields_of(caught) == [field]


def test_a_train_cannot_join_itself(release_manager, train):
    with unchanged(), pytest.raises(ValidationFailed):
        services.release_add_to_train(actor=release_manager, train=train, release=train, inherit_dates=False)


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
def test_closed_trains_take_no_children(release_manager, child, status):
    train = TrainFactory(name="Autumn", status=status)
    with unchanged(), pytest.raises(Conflict, match=f"The train Autumn is {status}; it takes no more releases."):
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)


def test_closed_releases_do_not_join(release_manager, train):
    child = ReleaseFactory(status=ReleaseStatus.RELEASED, name="Old")
    with unchanged(), pytest.raises(Conflict, match=re.escape("Old is released; it cannot join a train.")):
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER, Role.QUALITY_MANAGER])
def test_only_release_managers_assemble_trains(make_user, role, train, child):
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_add_to_train(actor=make_user(role), train=train, release=child, inherit_dates=True)


def test_leaving_the_train_clears_the_links_and_keeps_the_dates(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    inherited = {name: (start, end) for name, (start, end, _) in dates(child).items()}
    with events_written() as written:
        services.release_remove_from_train(actor=release_manager, release=child)
    assert written.types == ["release.left_train"]
    assert written.event.old_data == {"train": train.pk, "inherits_train_dates": True}
    child = Release.objects.get(pk=child.pk)
    assert (child.train, child.inherits_train_dates) == (None, False)
    assert {name: (start, end) for name, (start, end, _) in dates(child).items()} == inherited
    assert all(link is None for _, _, link in dates(child).values())


def test_leaving_when_not_in_a_train_is_refused(release_manager, child):
    with unchanged(), pytest.raises(Conflict, match=re.escape("Ledger is not in a train.")):
        services.release_remove_from_train(actor=release_manager, release=child)


def test_moving_a_train_phase_moves_inheriting_children_audited_per_child(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    keeper = ReleaseFactory(name="Cards", planned_start=D(2026, 3, 2), planned_end=D(2026, 7, 31))
    PhaseFactory(release=keeper, name="SIT", kind="sit", planned_start=D(2026, 4, 1), planned_end=D(2026, 4, 10))
    services.release_add_to_train(actor=release_manager, train=train, release=keeper, inherit_dates=False)
    train_sit = Phase.objects.get(release=train, kind="sit")
    with events_written() as written:
        services.phase_update(
            actor=release_manager, phase=train_sit, version=1, planned_start=D(2026, 5, 25), planned_end=D(2026, 6, 5)
        )
    assert written.types == ["phase.updated", "phase.updated", "release.updated"]
    follow = written.events[1]
    assert (follow.object_id, follow.new_data) == (
        str(Phase.objects.get(release=child, name="SIT").pk),
        {"planned_start": "2026-05-25", "planned_end": "2026-06-05"},
    )
    assert "Follows the train's phase" in follow.reason
    assert (written.events[2].object_id, written.events[2].new_data) == (str(child.pk), {"planned_end": "2026-06-05"})
    assert dates(child)["SIT"][:2] == (D(2026, 5, 25), D(2026, 6, 5))
    assert Release.objects.get(pk=child.pk).planned_end == D(2026, 6, 5)
    assert dates(keeper)["SIT"][:2] == (D(2026, 4, 1), D(2026, 4, 10))


def test_moving_an_inheriting_phase_by_hand_stops_it_following(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    sit = Phase.objects.get(release=child, name="SIT")
    services.phase_update(actor=release_manager, phase=sit, version=sit.version, planned_end=D(2026, 4, 30))
    assert Phase.objects.get(pk=sit.pk).train_phase is None
    train_sit = Phase.objects.get(release=train, kind="sit")
    services.phase_update(actor=release_manager, phase=train_sit, version=1, planned_start=D(2026, 4, 13))
    assert Phase.objects.get(pk=sit.pk).planned_start == D(2026, 4, 6)


def test_a_train_phase_outside_the_train_is_refused_and_children_stay(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    train_sit = Phase.objects.get(release=train, kind="sit")
    with unchanged(), pytest.raises(ValidationFailed, match=re.escape("The phase Train SIT")):
        services.phase_update(actor=release_manager, phase=train_sit, version=1, planned_end=D(2026, 8, 14))


def test_a_closed_child_keeps_its_dates_when_the_train_phase_moves(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    Release.objects.filter(pk=child.pk).update(status=ReleaseStatus.CANCELLED)
    train_sit = Phase.objects.get(release=train, kind="sit")
    with events_written() as written:
        services.phase_update(actor=release_manager, phase=train_sit, version=1, planned_start=D(2026, 4, 13))
    assert written.types == ["phase.updated"]
    assert dates(child)["SIT"][:2] == (D(2026, 4, 6), D(2026, 4, 24))


# Milestones and gates move with the phase they sit in


def test_inheriting_carries_each_phases_milestones_and_open_gates_in_working_days(release_manager, train, child):
    sit = child.phases.get(kind="sit")  # 30 March to Friday 10 April; the train's SIT ends Friday 24 April
    # Two working days before SIT's end (Wednesday 8 April); a gate due on its last day; one reached already.
    signed_off = MilestoneFactory(release=child, phase=sit, name="SIT sign-off", planned_date=D(2026, 4, 8))
    reached = MilestoneFactory(
        release=child, phase=sit, name="Test data ready", planned_date=D(2026, 4, 1), actual_date=D(2026, 4, 1)
    )
    exit_gate = GateFactory(release=child, phase=sit, name="SIT exit", due_date=D(2026, 4, 10))
    decided = GateFactory(release=child, phase=sit, name="SIT entry", due_date=D(2026, 3, 30), status="passed")
    with events_written() as written:
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    assert written.event.new_data["phases"]["SIT sign-off"] == ["2026-04-22"]
    assert written.event.new_data["phases"]["SIT exit"] == ["2026-04-24"]
    signed_off.refresh_from_db(), reached.refresh_from_db(), exit_gate.refresh_from_db(), decided.refresh_from_db()
    assert (signed_off.planned_date, signed_off.version) == (D(2026, 4, 22), 2)
    assert reached.planned_date == D(2026, 4, 1)  # reached: history, not plan
    assert exit_gate.due_date == D(2026, 4, 24)
    assert decided.due_date == D(2026, 3, 30)  # decided: stays where it was decided


def test_a_milestone_past_its_phase_end_widens_the_inheriting_release(release_manager, train, child):
    uat = child.phases.get(kind="uat")  # ends Friday 24 April; the release ends 15 May; the train's UAT ends 22 May
    MilestoneFactory(release=child, phase=uat, name="Deploy", kind="deploy", planned_date=D(2026, 5, 15))
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    # 15 working days after UAT's old end, after its new end: Friday 12 June.
    assert child.milestones.get(name="Deploy").planned_date == D(2026, 6, 12)
    assert Release.objects.get(pk=child.pk).planned_end == D(2026, 6, 12)


def test_moving_a_train_phase_carries_the_followers_milestones_audited(release_manager, train, child):
    services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=True)
    sit = child.phases.get(kind="sit")  # now 6 to 24 April
    milestone = MilestoneFactory(release=child, phase=sit, name="SIT sign-off", planned_date=D(2026, 4, 22))
    train_sit = Phase.objects.get(release=train, kind="sit")
    with events_written() as written:
        services.phase_update(actor=release_manager, phase=train_sit, version=1, planned_end=D(2026, 5, 1))
    assert written.types == ["phase.updated", "phase.updated", "milestone.updated"]
    assert (written.events[2].object_id, written.events[2].new_data) == (
        str(milestone.pk),
        {"planned_date": "2026-04-29"},
    )
    assert "Moves with its phase" in written.events[2].reason


# Races: the train's row is locked and its status read from there


def test_joining_checks_the_locked_trains_status(release_manager, train, child):
    Release.objects.filter(pk=train.pk).update(status=ReleaseStatus.RELEASED)  # shipped since `train` was read
    with unchanged(), pytest.raises(Conflict, match="takes no more releases"):
        services.release_add_to_train(actor=release_manager, train=train, release=child, inherit_dates=False)


def test_creating_in_a_train_checks_the_locked_trains_status_and_kind(release_manager, train):
    args = {"name": "Late", "kind": ReleaseKind.PROJECT, "planned_start": D(2026, 3, 2), "planned_end": D(2026, 4, 2)}
    Release.objects.filter(pk=train.pk).update(status=ReleaseStatus.CANCELLED)
    with unchanged(), pytest.raises(Conflict, match="takes no more releases"):
        services.release_create(actor=release_manager, train=train, **args)
    Release.objects.filter(pk=train.pk).update(status=ReleaseStatus.PLANNED, kind=ReleaseKind.INDEPENDENT)
    with unchanged(), pytest.raises(ValidationFailed, match="not an enterprise release"):
        services.release_create(actor=release_manager, train=train, **args)
