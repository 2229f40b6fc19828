"""The release workflow: which moves exist, who may make them, what blocks them and what each move records."""

import datetime

import pytest
from django.utils import timezone

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, ValidationFailed
from launchdeck.releases import services, workflow
from launchdeck.releases.choices import GateStatus, PhaseKind, ReleaseKind, ReleaseStatus
from launchdeck.releases.models import Milestone, Phase, Release
from launchdeck.releases.tests.factories import (
    GateApprovalFactory,
    GateCriterionFactory,
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    ReleaseFactory,
    TrainFactory,
    events_written,
    unchanged,
)

D = datetime.date
DRAFT, PLANNED, IN_PROGRESS, RELEASED, CANCELLED = (
    ReleaseStatus.DRAFT,
    ReleaseStatus.PLANNED,
    ReleaseStatus.IN_PROGRESS,
    ReleaseStatus.RELEASED,
    ReleaseStatus.CANCELLED,
)


def move(actor, release, to_status, reason=""):
    return services.release_transition(actor=actor, release=release, to_status=to_status, reason=reason)


def test_the_workflow_table():
    assert workflow.TRANSITIONS == {
        (DRAFT, PLANNED): "releases.plan_release",
        (PLANNED, IN_PROGRESS): "releases.start_release",
        (IN_PROGRESS, RELEASED): "releases.ship_release",
        (DRAFT, CANCELLED): "releases.cancel_release",
        (PLANNED, CANCELLED): "releases.cancel_release",
        (IN_PROGRESS, CANCELLED): "releases.cancel_release",
    }


def test_a_release_goes_from_draft_to_released_recording_each_move(release_manager):
    release = ReleaseFactory()
    with events_written() as written:
        move(release_manager, release, PLANNED, reason="Scope agreed")
        move(release_manager, release, IN_PROGRESS)
        move(release_manager, release, RELEASED)
    assert written.types == ["release.planned", "release.started", "release.released"]
    assert written.events[0].reason == "Scope agreed"
    assert written.events[0].old_data["status"] == "draft" and written.events[0].new_data["status"] == "planned"
    release = Release.objects.get(pk=release.pk)
    today = timezone.localdate()
    assert (release.status, release.actual_start, release.actual_end, release.version) == (RELEASED, today, today, 4)


def test_planning_sets_the_baselines_where_none_are_set(release_manager):
    release = ReleaseFactory()
    phase = PhaseFactory(release=release, planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 13))
    kept = PhaseFactory(
        release=release, baseline_start=D(2026, 3, 9), baseline_end=D(2026, 3, 20), planned_start=D(2026, 3, 16)
    )
    milestone = MilestoneFactory(release=release, planned_date=D(2026, 6, 1))
    with events_written() as written:
        move(release_manager, release, PLANNED)
    release = Release.objects.get(pk=release.pk)
    assert (release.baseline_start, release.baseline_end) == (release.planned_start, release.planned_end)
    phase, kept = Phase.objects.get(pk=phase.pk), Phase.objects.get(pk=kept.pk)
    assert (phase.baseline_start, phase.baseline_end) == (D(2026, 3, 2), D(2026, 3, 13))
    assert (kept.baseline_start, kept.baseline_end) == (D(2026, 3, 9), D(2026, 3, 20))
    assert Milestone.objects.get(pk=milestone.pk).baseline_date == D(2026, 6, 1)
    assert written.event.new_data == {"status": "planned", "baseline_start": "2026-03-02", "baseline_end": "2026-06-26"}


def test_an_existing_baseline_is_kept(release_manager):
    release = ReleaseFactory(baseline_start=D(2026, 1, 5), baseline_end=D(2026, 5, 1))
    move(release_manager, release, PLANNED)
    release = Release.objects.get(pk=release.pk)
    assert (release.baseline_start, release.baseline_end) == (D(2026, 1, 5), D(2026, 5, 1))


def test_starting_keeps_an_actual_start_already_recorded(release_manager):
    release = ReleaseFactory(status=PLANNED, actual_start=D(2026, 3, 3))
    move(release_manager, release, IN_PROGRESS)
    assert Release.objects.get(pk=release.pk).actual_start == D(2026, 3, 3)


@pytest.mark.parametrize("source", [DRAFT, PLANNED, IN_PROGRESS])
def test_open_releases_may_be_cancelled(release_manager, source):
    release = ReleaseFactory(status=source)
    with events_written() as written:
        move(release_manager, release, CANCELLED, reason="Budget cut")
    assert written.types == ["release.cancelled"] and written.event.reason == "Budget cut"
    assert Release.objects.get(pk=release.pk).status == CANCELLED


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (DRAFT, IN_PROGRESS),
        (DRAFT, RELEASED),
        (DRAFT, DRAFT),
        (PLANNED, RELEASED),
        (PLANNED, DRAFT),
        (IN_PROGRESS, PLANNED),
        (RELEASED, PLANNED),
        (RELEASED, CANCELLED),
        (CANCELLED, DRAFT),
        (CANCELLED, PLANNED),
    ],
)
def test_impossible_moves_are_refused_naming_the_current_status(release_manager, source, target):
    release = ReleaseFactory(status=source, name="Ledger")
    with unchanged(), pytest.raises(Conflict) as caught:
        move(release_manager, release, target)
    assert caught.value.status == 409
    assert caught.value.detail.startswith(f"Ledger is {workflow.status_label(source)}; it cannot move to")


def test_an_unknown_status_is_a_422(release_manager):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        move(release_manager, release, "shipped")
    assert caught.value.errors[0]["field"] == "to_status"


def test_a_stale_instance_moves_from_the_stored_status(release_manager):
    release = ReleaseFactory()
    stale = Release.objects.get(pk=release.pk)
    move(release_manager, release, PLANNED)
    with unchanged(), pytest.raises(Conflict, match="is planned; it cannot move to planned"):
        move(release_manager, stale, PLANNED)


# Who may move what

MAY = {
    Role.RELEASE_MANAGER: {PLANNED, IN_PROGRESS, RELEASED, CANCELLED},
    Role.ADMIN: {PLANNED, IN_PROGRESS, RELEASED, CANCELLED},
    Role.PROJECT_MANAGER: {PLANNED, IN_PROGRESS},
    Role.QUALITY_MANAGER: set(),
    Role.ENVIRONMENT_MANAGER: set(),
    Role.SERVICE_MANAGER: set(),
    Role.PORTFOLIO_MANAGER: set(),
    Role.VIEWER: set(),
}
SOURCE = {PLANNED: DRAFT, IN_PROGRESS: PLANNED, RELEASED: IN_PROGRESS, CANCELLED: PLANNED}
VERB = {PLANNED: "plan", IN_PROGRESS: "start", RELEASED: "ship", CANCELLED: "cancel"}


@pytest.mark.parametrize("role", list(MAY))
@pytest.mark.parametrize("target", [PLANNED, IN_PROGRESS, RELEASED, CANCELLED])
def test_each_role_makes_only_the_moves_the_role_table_gives_it(make_user, role, target):
    user = make_user(role)
    release = ReleaseFactory(status=SOURCE[target])
    if target in MAY[role]:
        move(user, release, target)
        assert Release.objects.get(pk=release.pk).status == target
    else:
        with unchanged(), pytest.raises(PermissionDenied) as caught:
            move(user, release, target)
        assert caught.value.detail == f"Your roles may not {VERB[target]} a release."
        assert caught.value.status == 403


@pytest.mark.parametrize("role", list(MAY))
def test_allowed_transitions_offers_what_the_role_may_do_from_here(make_user, role):
    user = make_user(role)
    for source in (DRAFT, PLANNED, IN_PROGRESS, RELEASED):
        release = ReleaseFactory(status=source)
        expected = [to for (start, to) in workflow.TRANSITIONS if start == source and to in MAY[role]]
        assert workflow.allowed_transitions(user, release) == expected


def test_the_operator_may_make_every_move(db):
    release = ReleaseFactory()
    assert workflow.allowed_transitions(None, release) == [PLANNED, CANCELLED]
    move(None, release, PLANNED)
    assert Release.objects.get(pk=release.pk).status == PLANNED


# Gates and children block moves


def test_an_open_gate_blocks_its_status_with_the_reasons_and_nothing_changes(release_manager):
    release = ReleaseFactory(status=IN_PROGRESS, name="Ledger")
    gate = GateFactory(release=release, name="Go-live", approver_roles=["release_manager", "quality_manager"])
    GateCriterionFactory(gate=gate, text="Rollback tested")
    GateCriterionFactory(gate=gate, text="Runbook approved", is_met=True)
    GateApprovalFactory(gate=gate, role="quality_manager")
    GateFactory(release=release, name="Start gate", blocks=IN_PROGRESS)  # guards another move
    expected = (
        "The gate Go-live is not passed: unmet: Rollback tested (not ticked); awaiting approval from Release manager."
    )
    assert workflow.transition_blockers(release, RELEASED) == [expected]
    with unchanged(), pytest.raises(Conflict) as caught:
        move(release_manager, release, RELEASED)
    assert caught.value.detail == f"Ledger cannot move to released yet: {expected}"
    assert [error["message"] for error in caught.value.errors] == [expected]


def test_a_rejected_gate_blocks_until_reopened_or_overridden(release_manager):
    release = ReleaseFactory(status=PLANNED)
    GateFactory(release=release, name="Readiness", blocks=IN_PROGRESS, status=GateStatus.REJECTED)
    assert workflow.transition_blockers(release, IN_PROGRESS) == [
        "The gate Readiness was rejected; reopen it or override it."
    ]
    with unchanged(), pytest.raises(Conflict, match="Readiness was rejected"):
        move(release_manager, release, IN_PROGRESS)


@pytest.mark.parametrize("status", [GateStatus.PASSED, GateStatus.OVERRIDDEN])
def test_passed_and_overridden_gates_let_the_release_through(release_manager, status):
    release = ReleaseFactory(status=IN_PROGRESS)
    GateFactory(release=release, status=status)
    move(release_manager, release, RELEASED)
    assert Release.objects.get(pk=release.pk).status == RELEASED


def test_gates_do_not_block_a_cancellation(release_manager):
    release = ReleaseFactory(status=IN_PROGRESS)
    GateFactory(release=release, blocks=RELEASED)
    move(release_manager, release, CANCELLED)
    assert Release.objects.get(pk=release.pk).status == CANCELLED


def test_a_gate_whose_criteria_hold_but_lacks_approval_names_the_roles(release_manager):
    release = ReleaseFactory(status=DRAFT)
    GateFactory(release=release, name="Plan review", blocks=PLANNED, approver_roles=["project_manager", "admin"])
    assert workflow.transition_blockers(release, PLANNED) == [
        "The gate Plan review is not passed: awaiting approval from Project manager, Administrator."
    ]


def test_an_automatic_check_failing_is_named_with_its_detail(release_manager):
    release = ReleaseFactory(status=IN_PROGRESS)
    PhaseFactory(release=release, name="UAT", kind=PhaseKind.UAT, status="skipped", is_required=True)
    gate = GateFactory(release=release, name="Exit", approver_roles=["release_manager"])
    GateCriterionFactory(
        gate=gate, kind="automatic", check_key="required_phases_dated", text="All required phases have dates"
    )
    [reason] = workflow.transition_blockers(release, RELEASED)
    assert "unmet: All required phases have dates: UAT is skipped." in reason


def test_a_train_is_not_released_before_its_children(release_manager):
    train = TrainFactory(name="Winter", status=IN_PROGRESS)
    ReleaseFactory(train=train, name="Ledger", status=IN_PROGRESS)
    ReleaseFactory(train=train, name="Cards", status=PLANNED)
    ReleaseFactory(train=train, name="Old", status=RELEASED)
    ReleaseFactory(train=train, name="Dropped", status=CANCELLED)
    with unchanged(), pytest.raises(Conflict) as caught:
        move(release_manager, train, RELEASED)
    assert [error["message"] for error in caught.value.errors] == [
        "The child release Cards is planned; release or cancel it first.",
        "The child release Ledger is in progress; release or cancel it first.",
    ]
    Release.objects.filter(train=train).exclude(status=CANCELLED).update(status=RELEASED)
    move(release_manager, train, RELEASED)
    assert Release.objects.get(pk=train.pk).status == RELEASED


def test_a_train_may_be_cancelled_with_children_open(release_manager):
    train = TrainFactory(status=PLANNED)
    ReleaseFactory(train=train, kind=ReleaseKind.PROJECT)
    move(release_manager, train, CANCELLED)
    assert Release.objects.get(pk=train.pk).status == CANCELLED


def test_the_blockers_are_read_in_a_bounded_number_of_queries(db, django_assert_max_num_queries):
    release = ReleaseFactory(status=IN_PROGRESS)
    for index in range(6):
        gate = GateFactory(release=release, approver_roles=["release_manager"])
        GateCriterionFactory.create_batch(3, gate=gate)
        GateApprovalFactory(gate=gate, role="release_manager", decision="approved") if index % 2 else None
    with django_assert_max_num_queries(3):
        reasons = workflow.transition_blockers(release, RELEASED)
    assert len(reasons) == 6


# Blockers from a page's one evaluation of its gates


@pytest.mark.django_db
def test_blockers_from_given_evaluations_match_blockers_worked_out_alone(django_assert_num_queries):
    from launchdeck.releases import checks, selectors

    release = ReleaseFactory(status=IN_PROGRESS)
    for index in range(3):
        gate = GateFactory(release=release, name=f"Gate {index}", blocks=RELEASED, approver_roles=["release_manager"])
        GateCriterionFactory(gate=gate, kind="automatic", check_key="required_phases_dated", text="Planned")
        GateCriterionFactory(gate=gate, kind="automatic", check_key="no_milestone_in_freeze", text="No freeze")
    GateFactory(release=release, name="Rejected", blocks=RELEASED, status=GateStatus.REJECTED)
    alone = workflow.transition_blockers(release, RELEASED)
    page = selectors.release_get(user=None, pk=release.pk)
    evaluations = checks.evaluate_gates(page.gates.all())
    with django_assert_num_queries(0):
        given = workflow.transition_blockers(page, RELEASED, evaluations=evaluations)
    assert given == alone and len(given) == 4


@pytest.mark.django_db
def test_a_per_release_check_runs_once_for_all_the_gates_of_a_release(django_assert_num_queries):
    from launchdeck.releases import checks, selectors

    release = ReleaseFactory(status=IN_PROGRESS)
    for index in range(5):
        gate = GateFactory(release=release, name=f"Gate {index}")
        GateCriterionFactory(gate=gate, kind="automatic", check_key="no_milestone_in_freeze", text="No freeze")
    gates = list(selectors.release_get(user=None, pk=release.pk).gates.all())
    with django_assert_num_queries(1):  # the deploy milestones, once; none means no freeze is read
        evaluations = checks.evaluate_gates(gates)
    assert all(evaluation.criteria_met for evaluation in evaluations.values())


# Who may decide a gate


@pytest.mark.django_db
def test_gate_decidable_roles_are_the_open_gates_approver_roles_the_user_holds_and_may_write_with(make_user):
    from launchdeck.releases.checks import gate_decidable_roles

    gate = GateFactory(approver_roles=[Role.RELEASE_MANAGER, Role.QUALITY_MANAGER, Role.VIEWER])
    both = make_user(Role.RELEASE_MANAGER, Role.QUALITY_MANAGER)
    assert gate_decidable_roles(both, gate) == [Role.RELEASE_MANAGER, Role.QUALITY_MANAGER]
    reader = make_user(Role.VIEWER)
    assert gate_decidable_roles(reader, gate) == []  # a read-only role decides nothing, even when named
    assert gate_decidable_roles(make_user(Role.SERVICE_MANAGER), gate) == []
    assert gate_decidable_roles(make_user(Role.RELEASE_MANAGER, is_active=False), gate) == []
    GateApprovalFactory(gate=gate, role=Role.QUALITY_MANAGER)
    assert gate_decidable_roles(make_user(Role.RELEASE_MANAGER, Role.QUALITY_MANAGER), gate) == [Role.RELEASE_MANAGER]
    GateApprovalFactory(gate=gate, role=Role.RELEASE_MANAGER, approver=both)
    assert gate_decidable_roles(both, gate) == []  # one decision per person
    gate.status = GateStatus.REJECTED
    assert gate_decidable_roles(make_user(Role.QUALITY_MANAGER), gate) == []


# The built-in checks


@pytest.mark.django_db
def test_children_passed_matches_by_template_first_and_by_name_only_without_one():
    from launchdeck.releases.checks import run_check
    from launchdeck.releases.tests.factories import GateTemplateFactory

    gate_template = GateTemplateFactory()
    train = TrainFactory()
    train_gate = GateFactory(release=train, name="Go-live", template=gate_template)
    ledger = ReleaseFactory(train=train, name="Ledger")
    GateFactory(release=ledger, name="Exit", template=gate_template, status=GateStatus.PASSED)
    GateFactory(release=ledger, name="go-live", status=GateStatus.OPEN)  # same name, but the template gate matches
    cards = ReleaseFactory(train=train, name="Cards")
    GateFactory(release=cards, name="Go-live", status=GateStatus.PASSED)  # no template gate: matched by name
    ReleaseFactory(train=train, name="Web")  # no such gate at all
    result = run_check("children_passed", train_gate)
    assert result.ok
    assert result.detail == (
        "Every child release with this gate has passed it. 1 child release without such a gate is not counted."
    )


@pytest.mark.django_db
def test_required_phases_planned_is_labelled_for_what_it_checks():
    from launchdeck.releases.checks import check_label

    assert check_label("required_phases_dated") == "All required phases are planned"
