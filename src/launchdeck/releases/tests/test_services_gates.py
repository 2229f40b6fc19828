"""Gates at the services: creating and editing, ticking checklist items, approvals by role, overrides, reopening,
and the automatic checks of the registry."""

import datetime
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.core.errors import Conflict, PermissionDenied, ValidationFailed
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases import checks, services
from launchdeck.releases.choices import (
    CriterionKind,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    ReleaseKind,
    ReleaseStatus,
)
from launchdeck.releases.models import Gate, GateApproval, GateCriterion
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    GateApprovalFactory,
    GateCriterionFactory,
    GateFactory,
    MilestoneFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    ReleaseTemplateFactory,
    TrainFactory,
    events_written,
    unchanged,
)

D = datetime.date


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def quality_manager(make_user):
    return make_user(Role.QUALITY_MANAGER, username="quality_manager")


@pytest.fixture
def project_manager(make_user):
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


@pytest.fixture
def gate(db):
    """Go-live of Ledger (in progress), approved by the release and quality managers, one checklist item."""
    release = ReleaseFactory(name="Ledger", status=ReleaseStatus.IN_PROGRESS)
    gate = GateFactory(release=release, name="Go-live", approver_roles=["release_manager", "quality_manager"])
    GateCriterionFactory(gate=gate, text="Rollback tested")
    return gate


def fresh(gate) -> Gate:
    return Gate.objects.get(pk=gate.pk)


def tick_all(gate) -> None:
    GateCriterion.objects.filter(gate=gate, kind=CriterionKind.MANUAL).update(is_met=True)


def decide(actor, gate, role, decision="approved", comment=""):
    return services.gate_decide(actor=actor, gate=gate, role=role, decision=decision, comment=comment)


# Creating and editing gates


def test_gate_create_adds_its_criteria(release_manager):
    release = ReleaseFactory()
    phase = PhaseFactory(release=release, name="SIT")
    with events_written() as written:
        gate = services.gate_create(
            actor=release_manager,
            release=release,
            name="SIT exit",
            blocks=ReleaseStatus.RELEASED,
            due_date=phase.planned_end,
            approver_roles=["quality_manager"],
            phase=phase,
            checklist=["Defects triaged"],
            checks=["children_passed", "no_milestone_in_freeze"],
        )
    assert written.types == ["gate.created"]
    assert written.event.new_data["checks"] == ["children_passed", "no_milestone_in_freeze"]
    criteria = list(gate.criteria.values_list("position", "kind", "text", "check_key"))
    assert criteria == [
        (0, "manual", "Defects triaged", ""),
        (1, "automatic", "All child releases passed this gate", "children_passed"),
        (2, "automatic", "No deploy milestone inside a freeze", "no_milestone_in_freeze"),
    ]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"approver_roles": []}, "approver_roles"),
        ({"approver_roles": ["chief"]}, "approver_roles"),
        ({"checks": ["magic"]}, "checks"),
        ({"checklist": [""]}, "checklist"),
        ({"blocks": "draft"}, "blocks"),
        ({"name": ""}, "name"),
        ({"phase": "foreign"}, "phase"),
        ({"phase": 999999}, "phase"),
    ],
)
def test_bad_gates_are_refused_by_field(release_manager, changes, field):
    release = ReleaseFactory()
    if changes.get("phase") == "foreign":
        changes["phase"] = PhaseFactory()
    args = {"name": "G", "blocks": "released", "due_date": D(2026, 6, 1), "approver_roles": ["admin"], **changes}
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.gate_create(actor=release_manager, release=release, **args)
    assert fields_of(caught) == [field]


def test_gate_update_keeps_ticks_of_items_that_stay(release_manager, gate):
    GateCriterion.objects.filter(gate=gate).update(is_met=True)
    with events_written() as written:
        services.gate_update(
            actor=release_manager,
            gate=gate,
            version=1,
            name="Go live",
            checklist=["Rollback tested", "Comms sent"],
            checks=["required_phases_dated"],
        )
    assert written.types == ["gate.updated"]
    assert written.event.new_data == {
        "name": "Go live",
        "checklist": ["Rollback tested", "Comms sent"],
        "checks": ["required_phases_dated"],
    }
    assert list(fresh(gate).criteria.values_list("text", "is_met")) == [
        ("Rollback tested", True),
        ("Comms sent", False),
        ("All required phases are planned", False),
    ]


@pytest.mark.parametrize("status", [GateStatus.PASSED, GateStatus.REJECTED, GateStatus.OVERRIDDEN])
def test_decided_gates_are_neither_edited_nor_deleted(release_manager, status):
    gate = GateFactory(status=status, name="Done")
    with unchanged(), pytest.raises(Conflict, match="only open gates can be changed"):
        services.gate_update(actor=release_manager, gate=gate, version=1, name="Again")
    with unchanged(), pytest.raises(Conflict, match="only open gates can be deleted"):
        services.gate_delete(actor=release_manager, gate=gate)


def test_gate_update_refuses_a_status_change(release_manager, gate):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.gate_update(actor=release_manager, gate=gate, version=1, status="passed")
    assert fields_of(caught) == ["status"]


def test_an_open_gate_is_deleted_with_its_criteria(release_manager, gate):
    with events_written() as written:
        services.gate_delete(actor=release_manager, gate=gate)
    assert written.types == ["gate.deleted"]
    assert not GateCriterion.objects.exists()


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.QUALITY_MANAGER, Role.VIEWER])
def test_only_release_managers_create_gates(make_user, role):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.gate_create(
            actor=make_user(role),
            release=release,
            name="G",
            blocks="released",
            due_date=D(2026, 6, 1),
            approver_roles=["admin"],
        )


# Checklist items


@pytest.mark.parametrize("role", [Role.QUALITY_MANAGER, Role.PROJECT_MANAGER, Role.RELEASE_MANAGER, Role.ADMIN])
def test_roles_that_may_tick_checklist_items(make_user, gate, role):
    user = make_user(role)
    criterion = gate.criteria.get()
    with events_written() as written:
        services.gate_criterion_set(actor=user, criterion=criterion, is_met=True)
    assert written.types == ["gatecriterion.ticked"]
    criterion.refresh_from_db()
    assert (criterion.is_met, criterion.met_by, criterion.met_at is not None) == (True, user, True)
    with events_written() as written:
        services.gate_criterion_set(actor=user, criterion=criterion, is_met=False)
    assert written.types == ["gatecriterion.unticked"]
    criterion.refresh_from_db()
    assert (criterion.is_met, criterion.met_by, criterion.met_at) == (False, None, None)


def test_ticking_twice_records_once(quality_manager, gate):
    criterion = gate.criteria.get()
    services.gate_criterion_set(actor=quality_manager, criterion=criterion, is_met=True)
    with events_written() as written:
        services.gate_criterion_set(actor=quality_manager, criterion=criterion, is_met=True)
    assert written.types == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ENVIRONMENT_MANAGER, Role.SERVICE_MANAGER])
def test_other_roles_do_not_tick(make_user, gate, role):
    with unchanged(), pytest.raises(PermissionDenied):
        services.gate_criterion_set(actor=make_user(role), criterion=gate.criteria.get(), is_met=True)


def test_automatic_checks_are_not_ticked(quality_manager, gate):
    automatic = GateCriterionFactory(gate=gate, kind="automatic", check_key="children_passed", text="Children")
    with unchanged(), pytest.raises(ValidationFailed, match="automatic check"):
        services.gate_criterion_set(actor=quality_manager, criterion=automatic, is_met=True)


def test_items_of_decided_gates_are_not_ticked(quality_manager):
    gate = GateFactory(status=GateStatus.PASSED)
    criterion = GateCriterionFactory(gate=gate)
    with unchanged(), pytest.raises(Conflict, match="its checklist can no longer change"):
        services.gate_criterion_set(actor=quality_manager, criterion=criterion, is_met=True)


# Decisions


def test_the_gate_passes_when_every_approver_role_has_approved(release_manager, quality_manager, gate):
    tick_all(gate)
    with events_written() as written:
        approval = decide(quality_manager, gate, "quality_manager", comment=" Tests green ")
    assert written.types == ["gate.approved"]
    assert written.event.new_data == {"role": "quality_manager", "decision": "approved", "comment": "Tests green"}
    assert (approval.approver, approval.comment, fresh(gate).status) == (quality_manager, "Tests green", "open")
    with events_written() as written:
        decide(release_manager, gate, "release_manager")
    assert written.types == ["gate.approved", "gate.passed"]
    gate = fresh(gate)
    assert gate.status == GateStatus.PASSED and gate.decided_at is not None and gate.version == 2


def test_one_rejection_rejects_the_gate(quality_manager, gate):
    with events_written() as written:
        decide(quality_manager, gate, "quality_manager", "rejected", comment="Too many defects")
    assert written.types == ["gate.rejected"]
    assert fresh(gate).status == GateStatus.REJECTED
    assert GateApproval.objects.get().decision == "rejected"


def test_a_rejection_does_not_need_the_criteria_to_hold(quality_manager, gate):
    decide(quality_manager, gate, "quality_manager", "rejected")
    assert fresh(gate).status == GateStatus.REJECTED


def test_approving_needs_every_criterion_to_hold_and_lists_what_is_unmet(quality_manager, gate):
    GateCriterionFactory(gate=gate, text="Comms sent")
    PhaseFactory(release=gate.release, name="UAT", kind=PhaseKind.UAT, status=PhaseStatus.SKIPPED)
    GateCriterionFactory(gate=gate, kind="automatic", check_key="required_phases_dated", text="Phases dated")
    with unchanged(), pytest.raises(Conflict) as caught:
        decide(quality_manager, gate, "quality_manager")
    assert caught.value.detail == (
        "The gate Go-live cannot be approved yet: Rollback tested (not ticked); Comms sent (not ticked); "
        "Phases dated: UAT is skipped."
    )
    assert [error["message"] for error in caught.value.errors] == [
        "Rollback tested (not ticked)",
        "Comms sent (not ticked)",
        "Phases dated: UAT is skipped.",
    ]


def test_approving_a_gate_twice_is_refused(quality_manager, gate):
    tick_all(gate)
    decide(quality_manager, gate, "quality_manager")
    with (
        unchanged(),
        pytest.raises(Conflict, match=re.escape("Quality manager has already approved this gate.")) as caught,
    ):
        decide(quality_manager, fresh(gate), "quality_manager")
    assert caught.value.status == 409


def test_the_same_role_cannot_decide_twice_through_another_person(make_user, quality_manager, gate):
    tick_all(gate)
    decide(quality_manager, gate, "quality_manager")
    other = make_user(Role.QUALITY_MANAGER)
    with unchanged(), pytest.raises(Conflict, match=re.escape("Quality manager has already approved this gate.")):
        decide(other, gate, "quality_manager")


def test_one_person_holding_two_approver_roles_decides_once(make_user, gate):
    both = make_user(Role.RELEASE_MANAGER, Role.QUALITY_MANAGER, first_name="Ada", last_name="Byron")
    tick_all(gate)
    decide(both, gate, "quality_manager")
    with (
        unchanged(),
        pytest.raises(Conflict, match=re.escape("Ada Byron has already approved this gate (as Quality manager).")),
    ):
        decide(both, gate, "release_manager")


def test_a_role_that_is_not_an_approver_may_not_decide(project_manager, gate):
    tick_all(gate)
    with unchanged(), pytest.raises(PermissionDenied) as caught:
        decide(project_manager, gate, "project_manager")
    assert caught.value.detail == "Only Release manager or Quality manager may approve this gate."
    assert caught.value.status == 403


def test_a_person_must_hold_the_role_they_decide_as(release_manager, gate):
    tick_all(gate)
    with unchanged(), pytest.raises(PermissionDenied, match="You do not hold the role Quality manager") as caught:
        decide(release_manager, gate, "quality_manager")
    assert "Only Release manager or Quality manager may approve this gate." in caught.value.detail


def test_an_admin_does_not_approve_for_roles_they_do_not_hold(admin_user, gate):
    tick_all(gate)
    with unchanged(), pytest.raises(PermissionDenied):
        decide(admin_user, gate, "release_manager")


def test_the_operator_makes_no_decisions(gate):
    with unchanged(), pytest.raises(PermissionDenied):
        decide(None, gate, "release_manager")


def test_an_unknown_decision_is_a_422(quality_manager, gate):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        decide(quality_manager, gate, "quality_manager", "maybe")
    assert fields_of(caught) == ["decision"]


@pytest.mark.parametrize("status", [GateStatus.PASSED, GateStatus.REJECTED, GateStatus.OVERRIDDEN])
def test_decided_gates_take_no_more_decisions(quality_manager, status):
    gate = GateFactory(status=status, approver_roles=["quality_manager"], name="Exit")
    with unchanged(), pytest.raises(Conflict, match=f"The gate Exit is already {status}."):
        decide(quality_manager, gate, "quality_manager")


def test_gates_of_closed_releases_take_no_decisions(quality_manager):
    gate = GateFactory(release=ReleaseFactory(status=ReleaseStatus.CANCELLED), approver_roles=["quality_manager"])
    with unchanged(), pytest.raises(Conflict, match="its gates take no decisions"):
        decide(quality_manager, gate, "quality_manager")


# Overrides and reopening


def test_an_override_records_reason_who_and_when(release_manager, gate):
    with events_written() as written:
        services.gate_override(actor=release_manager, gate=gate, reason="  Regulator deadline ")
    assert written.types == ["gate.overridden"] and written.event.reason == "Regulator deadline"
    gate = fresh(gate)
    assert (gate.status, gate.override_reason, gate.overridden_by) == (
        "overridden",
        "Regulator deadline",
        release_manager,
    )
    assert gate.decided_at is not None


def test_a_rejected_gate_may_be_overridden(release_manager, gate):
    Gate.objects.filter(pk=gate.pk).update(status=GateStatus.REJECTED)
    services.gate_override(actor=release_manager, gate=gate, reason="Accepted risk")
    assert fresh(gate).status == GateStatus.OVERRIDDEN


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_needs_a_reason(release_manager, gate, reason):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.gate_override(actor=release_manager, gate=gate, reason=reason)
    assert fields_of(caught) == ["reason"]


@pytest.mark.parametrize("status", [GateStatus.PASSED, GateStatus.OVERRIDDEN])
def test_a_passed_gate_is_not_overridden(release_manager, status):
    gate = GateFactory(status=status)
    with unchanged(), pytest.raises(Conflict, match=f"is already {status}"):
        services.gate_override(actor=release_manager, gate=gate, reason="x")


@pytest.mark.parametrize(
    "role", [Role.PROJECT_MANAGER, Role.QUALITY_MANAGER, Role.VIEWER, Role.SERVICE_MANAGER, Role.PORTFOLIO_MANAGER]
)
def test_only_roles_that_may_override_do(make_user, gate, role):
    with unchanged(), pytest.raises(PermissionDenied):
        services.gate_override(actor=make_user(role), gate=gate, reason="Because")


def test_an_admin_overrides(admin_user, gate):
    services.gate_override(actor=admin_user, gate=gate, reason="Because")
    assert fresh(gate).overridden_by == admin_user


def test_reopening_a_rejected_gate_clears_its_decisions(release_manager, quality_manager, gate):
    tick_all(gate)
    decide(release_manager, gate, "release_manager")
    decide(quality_manager, gate, "quality_manager", "rejected")
    with events_written() as written:
        services.gate_reopen(actor=release_manager, gate=gate, reason="Defects fixed")
    assert written.types == ["gate.reopened"] and written.event.reason == "Defects fixed"
    assert [d["decision"] for d in written.event.old_data["decisions"]] == ["approved", "rejected"]
    gate = fresh(gate)
    assert (gate.status, gate.decided_at, gate.approvals.count()) == ("open", None, 0)
    decide(quality_manager, gate, "quality_manager")
    decide(release_manager, gate, "release_manager")
    assert fresh(gate).status == GateStatus.PASSED


@pytest.mark.parametrize("status", [GateStatus.OPEN, GateStatus.PASSED, GateStatus.OVERRIDDEN])
def test_only_rejected_gates_are_reopened(release_manager, status):
    gate = GateFactory(status=status)
    with unchanged(), pytest.raises(Conflict, match="only a rejected gate is reopened"):
        services.gate_reopen(actor=release_manager, gate=gate, reason="x")


def test_reopening_needs_a_reason_and_the_permission(make_user, release_manager):
    gate = GateFactory(status=GateStatus.REJECTED)
    with unchanged(), pytest.raises(ValidationFailed):
        services.gate_reopen(actor=release_manager, gate=gate, reason=" ")
    with unchanged(), pytest.raises(PermissionDenied):
        services.gate_reopen(actor=make_user(Role.QUALITY_MANAGER), gate=gate, reason="x")


# The check registry and the built-in checks


def test_the_built_in_checks_are_registered():
    registry = checks.gate_checks()
    assert {key: check.label for key, check in registry.items()}.items() >= {
        "children_passed": "All child releases passed this gate",
        "required_phases_dated": "All required phases are planned",
        "no_milestone_in_freeze": "No deploy milestone inside a freeze",
    }.items()


def test_other_apps_register_checks(db):
    checks.register_gate_check("test_always_fails", "Always fails", lambda gate: checks.CheckResult(False, "Nope"))
    try:
        gate = GateFactory()
        GateCriterionFactory(gate=gate, kind="automatic", check_key="test_always_fails", text="Always fails")
        evaluation = checks.evaluate_gate(gate)
        assert evaluation.unmet == ["Always fails: Nope"]
        assert [(c.text, ok, detail) for c, ok, detail in evaluation.criteria] == [("Always fails", False, "Nope")]
    finally:
        checks._REGISTRY.pop("test_always_fails")


def test_a_check_no_longer_registered_never_passes(db):
    gate = GateFactory()
    GateCriterionFactory(gate=gate, kind="automatic", check_key="gone", text="Gone")
    assert checks.evaluate_gate(gate).unmet == ["Gone: The check 'gone' is not available."]


def test_evaluate_gate_lists_roles_still_to_approve(db):
    gate = GateFactory(approver_roles=["release_manager", "quality_manager", "admin"])
    GateApprovalFactory(gate=gate, role="quality_manager", decision="approved")
    GateApprovalFactory(gate=gate, role="admin", decision="rejected")
    assert checks.evaluate_gate(gate).approvals_missing == ["release_manager", "admin"]


def check(key, gate):
    return checks.gate_checks()[key].function(gate)


def test_children_passed_on_a_train(db):
    train = TrainFactory()
    template_gate = GateFactory(release=train, name="Go-live")
    passed = ReleaseFactory(train=train, name="Ledger")
    GateFactory(release=passed, name="go-live", status=GateStatus.PASSED)
    waiting = ReleaseFactory(train=train, name="Cards")
    GateFactory(release=waiting, name="Go-live", status=GateStatus.OPEN)
    ReleaseFactory(train=train, name="No gate")  # children without such a gate do not count
    dropped = ReleaseFactory(train=train, name="Dropped", status=ReleaseStatus.CANCELLED)
    GateFactory(release=dropped, name="Go-live")
    result = check("children_passed", template_gate)
    assert (result.ok, result.detail) == (
        False,
        "Not passed yet in Cards. 1 child release without such a gate is not counted.",
    )
    Gate.objects.filter(release=waiting).update(status=GateStatus.OVERRIDDEN)
    assert check("children_passed", template_gate).ok


def test_children_passed_matches_gates_made_from_the_same_template(db):
    from launchdeck.releases.tests.factories import GateTemplateFactory

    gate_template = GateTemplateFactory()
    train = TrainFactory()
    train_gate = GateFactory(release=train, name="Train exit", template=gate_template)
    child = ReleaseFactory(train=train, name="Ledger")
    GateFactory(release=child, name="Child exit", template=gate_template)
    assert check("children_passed", train_gate).detail == "Not passed yet in Ledger."


def test_children_passed_without_children(db):
    assert check("children_passed", GateFactory(release=TrainFactory())).detail == "No child releases"
    result = check("children_passed", GateFactory(release=ReleaseFactory(kind=ReleaseKind.INDEPENDENT)))
    assert (result.ok, result.detail) == (True, "No child releases")


def test_required_phases_dated_against_the_template(db):
    template = ReleaseTemplateFactory()
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD)
    PhaseTemplateFactory(template=template, position=2, name="SIT", kind=PhaseKind.SIT)
    PhaseTemplateFactory(template=template, position=3, name="UAT", kind=PhaseKind.UAT)
    PhaseTemplateFactory(template=template, position=4, name="Perf", kind=PhaseKind.PERFORMANCE, is_required=False)
    release = ReleaseFactory(template=template)
    PhaseFactory(release=release, template=build, name="Build")
    PhaseFactory(release=release, name="System test", kind=PhaseKind.SIT, status=PhaseStatus.SKIPPED)
    gate = GateFactory(release=release)
    result = check("required_phases_dated", gate)
    assert (result.ok, result.detail) == (False, "System test is skipped; UAT is missing.")
    PhaseFactory(release=release, name="UAT", kind=PhaseKind.UAT)
    release.phases.filter(kind=PhaseKind.SIT).update(status=PhaseStatus.NOT_STARTED)
    assert check("required_phases_dated", gate).ok


def test_required_phases_dated_without_a_template(db):
    release = ReleaseFactory()
    PhaseFactory(release=release, name="Build", is_required=True)
    PhaseFactory(release=release, name="Perf", is_required=False, status=PhaseStatus.SKIPPED)
    gate = GateFactory(release=release)
    assert check("required_phases_dated", gate).ok
    PhaseFactory(release=release, name="UAT", is_required=True, status=PhaseStatus.SKIPPED)
    assert check("required_phases_dated", gate).detail == "UAT is skipped."


def test_no_milestone_in_freeze_names_milestone_and_freeze(db):
    portfolio = PortfolioFactory()
    release = ReleaseFactory(portfolio=portfolio, planned_end=D(2026, 12, 31))
    MilestoneFactory(release=release, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 21))
    MilestoneFactory(release=release, name="Sign-off", kind=MilestoneKind.OTHER, planned_date=D(2026, 12, 22))
    gate = GateFactory(release=release)
    assert check("no_milestone_in_freeze", gate).ok
    FreezeWindowFactory(name="Year end", scope=FreezeScope.PORTFOLIOS, portfolios=[portfolio])
    FreezeWindowFactory(name="Bookings", category=FreezeCategory.BOOKING)
    result = check("no_milestone_in_freeze", gate)
    assert (result.ok, result.detail) == (False, "Deploy is inside Year end.")


def test_no_milestone_in_freeze_ignores_freezes_for_other_systems(db):
    release = ReleaseFactory(planned_end=D(2026, 12, 31))
    ReleaseSystemFactory(release=release)
    MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY, planned_date=D(2026, 12, 21))
    FreezeWindowFactory(scope=FreezeScope.SYSTEMS, systems=[SystemFactory()])
    assert check("no_milestone_in_freeze", GateFactory(release=release)).ok


def test_an_approval_needs_the_automatic_checks_to_pass(quality_manager):
    train = TrainFactory(status=ReleaseStatus.IN_PROGRESS)
    gate = GateFactory(release=train, name="Go-live", approver_roles=["quality_manager"])
    GateCriterionFactory(gate=gate, kind="automatic", check_key="children_passed", text="Children passed")
    GateFactory(release=ReleaseFactory(train=train, name="Ledger"), name="Go-live")
    with unchanged(), pytest.raises(Conflict, match=re.escape("Children passed: Not passed yet in Ledger.")):
        decide(quality_manager, gate, "quality_manager")
    Gate.objects.exclude(pk=gate.pk).update(status=GateStatus.PASSED)
    decide(quality_manager, gate, "quality_manager")
    assert fresh(gate).status == GateStatus.PASSED


# A decided gate is history


def test_a_decided_gates_automatic_checks_read_as_they_stood_when_it_was_decided(
    release_manager, quality_manager, gate
):
    deploy = MilestoneFactory(release=gate.release, name="Deploy", kind=MilestoneKind.DEPLOY)
    check = GateCriterionFactory(
        gate=gate, kind=CriterionKind.AUTOMATIC, text="No deploy in a freeze", check_key="no_milestone_in_freeze"
    )
    tick_all(gate)
    decide(quality_manager, gate, "quality_manager")
    decide(release_manager, gate, "release_manager")
    check.refresh_from_db()
    assert check.is_met and check.met_at == fresh(gate).decided_at
    # A freeze declared afterwards fails the check when it runs, but the passed gate keeps what it said then.
    FreezeWindowFactory(starts_on=deploy.planned_date, ends_on=deploy.planned_date)
    assert not checks.run_check("no_milestone_in_freeze", fresh(gate)).ok
    assert checks.evaluate_gate(fresh(gate)).unmet == []


def test_an_override_records_the_checks_that_did_not_hold(release_manager, gate):
    deploy = MilestoneFactory(release=gate.release, name="Deploy", kind=MilestoneKind.DEPLOY)
    FreezeWindowFactory(starts_on=deploy.planned_date, ends_on=deploy.planned_date)
    check = GateCriterionFactory(
        gate=gate, kind=CriterionKind.AUTOMATIC, text="No deploy in a freeze", check_key="no_milestone_in_freeze"
    )
    services.gate_override(actor=release_manager, gate=gate, reason="Emergency fix agreed with the CAB")
    check.refresh_from_db()
    assert not check.is_met and check.met_at is not None
    assert "No deploy in a freeze: did not hold" in checks.evaluate_gate(fresh(gate)).unmet


# Changing the question after decisions were made


def approved_by_release_manager(gate, actor) -> None:
    tick_all(gate)
    decide(actor, gate, "release_manager")


def test_new_approver_roles_clear_the_decisions_so_the_gate_can_be_decided_again(release_manager, gate):
    approved_by_release_manager(gate, release_manager)
    with events_written() as written:
        services.gate_update(actor=release_manager, gate=gate, version=fresh(gate).version, approver_roles=["admin"])
    assert written.types == ["gate.updated"]
    assert written.event.old_data["decisions"] == [
        {"role": "release_manager", "approver": release_manager.pk, "decision": "approved"}
    ]
    assert written.event.new_data["decisions"] == []
    assert not GateApproval.objects.filter(gate=gate).exists() and fresh(gate).status == GateStatus.OPEN


def test_a_gate_whose_roles_shrank_to_those_who_approved_is_decided_again_not_stuck(make_user):
    both = make_user(Role.RELEASE_MANAGER, Role.QUALITY_MANAGER)
    gate = GateFactory(release=ReleaseFactory(status=ReleaseStatus.IN_PROGRESS), approver_roles=["release_manager"])
    services.gate_update(actor=both, gate=gate, approver_roles=["release_manager", "quality_manager"])
    decide(both, gate, "release_manager")
    services.gate_update(actor=both, gate=gate, approver_roles=["release_manager"])
    decide(both, gate, "release_manager")
    assert fresh(gate).status == GateStatus.PASSED


@pytest.mark.parametrize(
    "changes", [{"checklist": ["Rollback tested", "Security sign-off"]}, {"checks": ["required_phases_dated"]}]
)
def test_new_criteria_clear_the_decisions(release_manager, gate, changes):
    approved_by_release_manager(gate, release_manager)
    with events_written() as written:
        services.gate_update(actor=release_manager, gate=gate, **changes)
    assert written.event.old_data["decisions"][0]["role"] == "release_manager"
    assert not GateApproval.objects.filter(gate=gate).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Go live"},
        {"due_date": D(2026, 6, 1)},
        {"approver_roles": ["quality_manager", "release_manager"]},
        {"checklist": ["Rollback tested"]},
    ],
)
def test_edits_that_ask_the_same_question_keep_the_decisions(release_manager, gate, changes):
    approved_by_release_manager(gate, release_manager)
    with events_written() as written:
        services.gate_update(actor=release_manager, gate=gate, **changes)
    assert "decisions" not in (written.event.old_data or {})
    assert GateApproval.objects.filter(gate=gate).count() == 1


@pytest.mark.parametrize("status", [GateStatus.PASSED, GateStatus.REJECTED, GateStatus.OVERRIDDEN])
@pytest.mark.parametrize(
    "changes",
    [{"checklist": ["Security sign-off"]}, {"checks": ["required_phases_dated"]}, {"approver_roles": ["admin"]}],
)
def test_the_criteria_of_a_decided_gate_do_not_change(release_manager, gate, status, changes):
    Gate.objects.filter(pk=gate.pk).update(status=status)
    gate.refresh_from_db()
    with unchanged(), pytest.raises(Conflict, match="only open gates can be changed"):
        services.gate_update(actor=release_manager, gate=gate, **changes)


def test_gate_update_and_delete_check_the_status_of_the_locked_row(release_manager, gate):
    Gate.objects.filter(pk=gate.pk).update(status=GateStatus.PASSED)  # decided since `gate` was read
    with unchanged(), pytest.raises(Conflict, match="only open gates can be changed"):
        services.gate_update(actor=release_manager, gate=gate, name="Go live")
    with unchanged(), pytest.raises(Conflict, match="only open gates can be deleted"):
        services.gate_delete(actor=release_manager, gate=gate)


# Read-only roles do not approve


def test_a_read_only_role_is_not_an_approver_role(release_manager):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="Viewer") as caught:
        services.gate_create(
            actor=release_manager,
            release=release,
            name="G",
            blocks="released",
            due_date=D(2026, 6, 1),
            approver_roles=["release_manager", "viewer"],
        )
    assert fields_of(caught) == ["approver_roles"]
    gate = GateFactory(release=release)
    with unchanged(), pytest.raises(ValidationFailed, match="Viewer"):
        services.gate_update(actor=release_manager, gate=gate, approver_roles=["viewer"])
    with pytest.raises(ValidationFailed, match="Viewer"):
        services.gate_template_add(
            actor=release_manager,
            template=ReleaseTemplateFactory(),
            name="G",
            blocks="released",
            approver_roles=["viewer"],
        )


def test_a_read_only_person_cannot_decide_even_where_a_gate_names_their_role(viewer):
    gate = GateFactory(release=ReleaseFactory(status=ReleaseStatus.IN_PROGRESS), approver_roles=["viewer"])
    with unchanged(), pytest.raises(PermissionDenied, match="only read"):
        decide(viewer, gate, "viewer")


# Closed releases


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
def test_the_gates_of_a_closed_release_are_history(release_manager, status):
    release = ReleaseFactory(name="Ledger", status=status)
    gate = GateFactory(release=release, name="Go-live")
    rejected = GateFactory(release=release, name="SIT exit", status=GateStatus.REJECTED)
    criterion = GateCriterionFactory(gate=gate, text="Rollback tested")
    label = "released" if status == ReleaseStatus.RELEASED else "cancelled"
    history = re.escape(f"Ledger is {label}; its plan is history.")
    attempts = [
        lambda: services.gate_create(
            actor=release_manager,
            release=release,
            name="Late",
            blocks="released",
            due_date=release.planned_end,
            approver_roles=["release_manager"],
        ),
        lambda: services.gate_update(actor=release_manager, gate=gate, name="Renamed"),
        lambda: services.gate_delete(actor=release_manager, gate=gate),
        lambda: services.gate_override(actor=release_manager, gate=gate, reason="Shipped anyway"),
        lambda: services.gate_reopen(actor=release_manager, gate=rejected, reason="Try again"),
        lambda: services.gate_criterion_set(actor=release_manager, criterion=criterion, is_met=True),
    ]
    for attempt in attempts:
        with unchanged(), pytest.raises(Conflict, match=history):
            attempt()


@pytest.mark.parametrize(
    ("changes", "field"), [({"due_date": D(3000, 1, 1)}, "due_date"), ({"due_date": D(1899, 12, 31)}, "due_date")]
)
def test_a_gate_due_outside_the_plausible_years_is_refused(release_manager, gate, changes, field):
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        services.gate_update(actor=release_manager, gate=gate, **changes)
    assert fields_of(caught) == [field]
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        services.gate_create(
            actor=release_manager,
            release=gate.release,
            name="G",
            blocks="released",
            approver_roles=["release_manager"],
            **changes,
        )
    assert fields_of(caught) == [field]
