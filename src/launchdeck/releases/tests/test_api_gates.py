"""The releases API: gates (criteria, decisions, overrides, reopening) and the release workflow's transitions."""

import datetime

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.releases.choices import CriterionKind, GateStatus, ReleaseStatus
from launchdeck.releases.models import Gate, GateApproval, Release
from launchdeck.releases.tests.factories import (
    GateApprovalFactory,
    GateCriterionFactory,
    GateFactory,
    PhaseFactory,
    ReleaseFactory,
    events_written,
    unchanged,
)


@pytest.fixture
def api(api_as, release_manager):
    return api_as(release_manager)


@pytest.fixture
def project_manager(make_user):
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


def fields(response) -> list:
    return [error["field"] for error in response.json()["errors"]]


# Gates


def test_a_gate_is_created_with_its_criteria_and_evaluated(api):
    release = ReleaseFactory()
    phase = PhaseFactory(release=release)
    response = api.post(
        f"/releases/{release.pk}/gates",
        {
            "name": "Go/no-go",
            "blocks": "released",
            "due_date": "2026-06-26",
            "approver_roles": ["release_manager", "quality_manager"],
            "phase_id": phase.pk,
            "checklist": ["Release notes written", "Rollback rehearsed"],
            "checks": ["required_phases_dated"],
        },
    )
    assert response.status_code == 201, response.json()
    gate = response.json()
    assert (gate["status"], gate["phase_id"], gate["approvals"]) == ("open", phase.pk, [])
    assert [(c["text"], c["kind"], c["ok"]) for c in gate["criteria"]] == [
        ("Release notes written", "manual", False),
        ("Rollback rehearsed", "manual", False),
        ("All required phases are planned", "automatic", True),
    ]
    assert gate["criteria"][2]["check_key"] == "required_phases_dated"
    assert gate["unmet"] == ["Release notes written (not ticked)", "Rollback rehearsed (not ticked)"]
    assert gate["approvals_missing"] == ["release_manager", "quality_manager"]
    assert api.get(f"/gates/{gate['id']}").json() == gate
    assert api.get(f"/releases/{release.pk}").json()["gates"] == [gate]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"due_date": None}, "due_date"),
        ({"approver_roles": []}, "approver_roles"),
        ({"approver_roles": ["release_manager", "king"]}, "approver_roles.1"),
        ({"checks": ["telepathy"]}, "checks"),
        ({"checklist": ["x" * 301]}, "checklist.0"),
        ({"checklist": ["item"] * 31}, "checklist"),
        ({"blocks": "cancelled"}, "blocks"),
        ({"phase_id": 999999}, "phase_id"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_gates_are_a_422_naming_the_field(api, body, field):
    release = ReleaseFactory()
    payload = {"name": "Go", "due_date": "2026-06-26", "approver_roles": ["release_manager"], **body}
    with unchanged():
        response = api.post(f"/releases/{release.pk}/gates", payload)
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_gate_in_a_phase_of_another_release_is_a_422_on_phase_id(api):
    release = ReleaseFactory()
    elsewhere = PhaseFactory()
    with unchanged():
        response = api.post(
            f"/releases/{release.pk}/gates",
            {"name": "Go", "due_date": "2026-06-26", "approver_roles": ["release_manager"], "phase_id": elsewhere.pk},
        )
    assert response.status_code == 422
    assert fields(response) == ["phase_id"]


def test_an_open_gate_is_changed_and_deleted_a_decided_one_is_not(api):
    gate = GateFactory()
    changed = api.patch(
        f"/gates/{gate.pk}",
        {"version": 1, "due_date": "2026-06-19", "checklist": ["Sign-off"], "blocks": "in_progress"},
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["due_date"], changed.json()["blocks"]) == ("2026-06-19", "in_progress")
    assert [c["text"] for c in changed.json()["criteria"]] == ["Sign-off"]
    assert api.delete(f"/gates/{gate.pk}").status_code == 204
    passed = GateFactory(status=GateStatus.PASSED)
    with unchanged():
        assert api.patch(f"/gates/{passed.pk}", {"version": 1, "name": "Later"}).status_code == 409
        assert api.delete(f"/gates/{passed.pk}").status_code == 409


def test_ticking_a_checklist_item_answers_the_gate_evaluated_again(api_as, project_manager, make_user):
    gate = GateFactory()
    item = GateCriterionFactory(gate=gate, text="Release notes written")
    check = GateCriterionFactory(
        gate=gate, kind=CriterionKind.AUTOMATIC, text="Phases", check_key="required_phases_dated"
    )
    client, service_manager = api_as(project_manager), api_as(make_user(Role.SERVICE_MANAGER))
    with events_written() as written:
        response = client.patch(f"/gate-criteria/{item.pk}", {"is_met": True})
    assert response.status_code == 200, response.json()
    assert written.types == ["gatecriterion.ticked"]
    ticked = response.json()["criteria"][0]
    assert (ticked["is_met"], ticked["ok"], ticked["met_by"]) == (True, True, "project_manager")
    assert response.json()["unmet"] == []
    with unchanged():
        automatic = client.patch(f"/gate-criteria/{check.pk}", {"is_met": True})
        assert automatic.status_code == 422 and fields(automatic) == ["is_met"]
        assert service_manager.patch(f"/gate-criteria/{item.pk}", {"is_met": False}).status_code == 403
        assert client.patch(f"/gate-criteria/{item.pk}", {"is_met": "maybe"}).status_code == 422


def test_approvals_by_every_approver_role_pass_the_gate(api_as, release_manager, make_user):
    gate = GateFactory(approver_roles=["release_manager", "quality_manager"])
    first = api_as(release_manager).post(
        f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved", "comment": "Fine by me"}
    )
    assert first.status_code == 200, first.json()
    assert (first.json()["status"], first.json()["approvals_missing"]) == ("open", ["quality_manager"])
    assert first.json()["approvals"][0]["approver"] == "release_manager"
    quality = make_user(Role.QUALITY_MANAGER, username="quality")
    second = api_as(quality).post(f"/gates/{gate.pk}/decisions", {"role": "quality_manager", "decision": "approved"})
    assert second.status_code == 200, second.json()
    assert second.json()["status"] == "passed"
    assert [a["role"] for a in second.json()["approvals"]] == ["release_manager", "quality_manager"]


def test_approving_a_gate_twice_is_a_409_and_changes_nothing(api_as, release_manager, make_user):
    gate = GateFactory(approver_roles=["release_manager", "quality_manager"])
    GateApprovalFactory(gate=gate, role="release_manager", approver=release_manager)
    client, other = api_as(release_manager), api_as(make_user(Role.RELEASE_MANAGER, username="other_rm"))
    with unchanged():
        again = client.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved"})
        same_role = other.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved"})
    assert (again.status_code, same_role.status_code) == (409, 409)
    assert "already" in again.json()["detail"]


def test_approving_with_a_role_one_does_not_hold_is_a_403_and_changes_nothing(api_as, release_manager):
    gate = GateFactory(approver_roles=["release_manager", "quality_manager"])
    client = api_as(release_manager)
    with unchanged():
        response = client.post(f"/gates/{gate.pk}/decisions", {"role": "quality_manager", "decision": "approved"})
    assert response.status_code == 403
    assert "You do not hold the role" in response.json()["detail"]


def test_approving_as_a_role_the_gate_does_not_ask_is_a_403(api_as, make_user):
    gate = GateFactory(approver_roles=["release_manager"])
    quality = api_as(make_user(Role.QUALITY_MANAGER))
    with unchanged():
        response = quality.post(f"/gates/{gate.pk}/decisions", {"role": "quality_manager", "decision": "approved"})
    assert response.status_code == 403


def test_approving_before_the_criteria_hold_is_a_409_naming_them(api):
    gate = GateFactory()
    GateCriterionFactory(gate=gate, text="Release notes written")
    with unchanged():
        response = api.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved"})
    assert response.status_code == 409
    assert "Release notes written" in response.json()["detail"]
    assert response.json()["errors"][0]["message"] == "Release notes written (not ticked)"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "king"}, "role"),
        ({"decision": "maybe"}, "decision"),
        ({"decision": None}, "decision"),
        ({"comment": "x" * 5001}, "comment"),
        ({"approver": "someone"}, "approver"),
    ],
)
def test_bad_decisions_are_a_422(api, body, field):
    gate = GateFactory()
    with unchanged():
        response = api.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved", **body})
    assert response.status_code == 422, response.json()
    assert fields(response) == [field]


def test_a_rejected_gate_is_reopened_and_an_open_one_overridden_with_a_reason(api):
    gate = GateFactory()
    rejected = api.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "rejected"})
    assert rejected.json()["status"] == "rejected"
    reopened = api.post(f"/gates/{gate.pk}/reopen", {"reason": "Fixed the defects"})
    assert reopened.status_code == 200, reopened.json()
    assert (reopened.json()["status"], reopened.json()["approvals"]) == ("open", [])
    with unchanged():
        assert api.post(f"/gates/{gate.pk}/reopen", {"reason": "Again"}).status_code == 409
        assert fields(api.post(f"/gates/{gate.pk}/override", {"reason": ""})) == ["reason"]
        assert fields(api.post(f"/gates/{gate.pk}/override", {})) == ["reason"]
    overridden = api.post(f"/gates/{gate.pk}/override", {"reason": "Business accepts the risk"})
    assert overridden.status_code == 200, overridden.json()
    body = overridden.json()
    assert (body["status"], body["override_reason"], body["overridden_by"]) == (
        "overridden",
        "Business accepts the risk",
        "release_manager",
    )


def test_only_roles_that_may_override_do(api_as, project_manager):
    gate, client = GateFactory(), api_as(project_manager)
    with unchanged():
        response = client.post(f"/gates/{gate.pk}/override", {"reason": "Hurry"})
    assert response.status_code == 403
    assert Gate.objects.get(pk=gate.pk).status == GateStatus.OPEN


# Transitions


def test_a_release_moves_through_its_workflow(api):
    release = ReleaseFactory(planned_start=datetime.date(2026, 11, 2), planned_end=datetime.date(2027, 1, 29))
    with events_written() as written:
        planned = api.post(f"/releases/{release.pk}/transition", {"to_status": "planned", "reason": "Scope agreed"})
    assert planned.status_code == 200, planned.json()
    assert written.types == ["release.planned"] and written.event.reason == "Scope agreed"
    assert (planned.json()["status"], planned.json()["baseline_end"]) == ("planned", "2027-01-29")
    started = api.post(f"/releases/{release.pk}/transition", {"to_status": "in_progress"})
    assert (started.json()["status"], started.json()["allowed_transitions"]) == (
        "in_progress",
        ["released", "cancelled"],
    )
    shipped = api.post(f"/releases/{release.pk}/transition", {"to_status": "released"})
    assert shipped.status_code == 200 and shipped.json()["actual_end"] is not None


def test_a_transition_blocked_by_gates_is_a_409_naming_each_gate_and_changes_nothing(api):
    release = ReleaseFactory(status=ReleaseStatus.IN_PROGRESS)
    GateFactory(release=release, name="Go/no-go", blocks=ReleaseStatus.RELEASED)
    GateCriterionFactory(gate=GateFactory(release=release, name="Security sign-off"), text="Pen test passed")
    GateFactory(release=release, name="Not this one", blocks=ReleaseStatus.IN_PROGRESS)
    with unchanged():
        response = api.post(f"/releases/{release.pk}/transition", {"to_status": "released"})
    assert response.status_code == 409
    body = response.json()
    assert "Go/no-go" in body["detail"] and "Security sign-off" in body["detail"]
    assert "Not this one" not in body["detail"]
    messages = [error["message"] for error in body["errors"]]
    assert len(messages) == 2
    assert any("Go/no-go" in message and "Release manager" in message for message in messages)
    assert any("Security sign-off" in message and "Pen test passed" in message for message in messages)


def test_project_managers_plan_and_start_but_do_not_ship_or_cancel(api_as, project_manager):
    client = api_as(project_manager)
    release = ReleaseFactory()
    assert client.post(f"/releases/{release.pk}/transition", {"to_status": "planned"}).status_code == 200
    started = client.post(f"/releases/{release.pk}/transition", {"to_status": "in_progress"})
    assert started.status_code == 200, started.json()
    assert started.json()["allowed_transitions"] == []
    with unchanged():
        shipped = client.post(f"/releases/{release.pk}/transition", {"to_status": "released"})
        cancelled = client.post(f"/releases/{release.pk}/transition", {"to_status": "cancelled", "reason": "No"})
    assert (shipped.status_code, cancelled.status_code) == (403, 403)
    assert shipped.json()["detail"] == "Your roles may not ship a release."
    assert Release.objects.get(pk=release.pk).status == ReleaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"to_status": "shipped"}, 422, "to_status"),
        ({"to_status": None}, 422, "to_status"),
        ({}, 422, "to_status"),
        ({"to_status": "released"}, 409, "to_status"),
        ({"to_status": "planned", "reason": "x" * 5001}, 422, "reason"),
        ({"to_status": "planned", "when": "now"}, 422, "when"),
    ],
)
def test_bad_transitions_are_refused_and_change_nothing(api, body, status, field):
    release = ReleaseFactory()
    with unchanged():
        response = api.post(f"/releases/{release.pk}/transition", body)
    assert response.status_code == status, response.json()
    assert fields(response) == [field]


def test_gates_of_a_cancelled_release_take_no_decisions(api):
    release = ReleaseFactory(status=ReleaseStatus.CANCELLED)
    gate = GateFactory(release=release)
    with unchanged():
        response = api.post(f"/gates/{gate.pk}/decisions", {"role": "release_manager", "decision": "approved"})
    assert response.status_code == 409
    assert not GateApproval.objects.exists()
