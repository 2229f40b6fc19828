"""Templates and their parts, at the services: audit events, bad input and permissions."""

import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.releases import services
from launchdeck.releases.choices import MilestoneAnchor, PhaseKind, ReleaseStatus
from launchdeck.releases.models import GateTemplate, MilestoneTemplate, PhaseTemplate, Release, ReleaseTemplate
from launchdeck.releases.tests.factories import (
    GateTemplateFactory,
    MilestoneTemplateFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseTemplateFactory,
    events_written,
    unchanged,
)


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def template(db):
    return ReleaseTemplateFactory(name="Standard")


def test_template_create_records_the_template(release_manager):
    with events_written() as written:
        template = services.template_create(actor=release_manager, name="  Quarterly ", description="Four a year")
    assert ReleaseTemplate.objects.get(pk=template.pk).name == "Quarterly"
    assert written.types == ["releasetemplate.created"]
    assert written.event.new_data == {
        "name": "Quarterly",
        "description": "Four a year",
        "release_kind": "project",
        "is_active": True,
    }


@pytest.mark.parametrize("name", ["standard", " STANDARD "])
def test_template_names_are_unique_whatever_the_case(release_manager, template, name):
    with unchanged(), pytest.raises(Conflict, match=re.escape("A template with this name already exists.")):
        services.template_create(actor=release_manager, name=name)


@pytest.mark.parametrize(("changes", "field"), [({"name": " "}, "name"), ({"release_kind": "monthly"}, "release_kind")])
def test_bad_template_input_is_refused_by_field(release_manager, changes, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.template_create(actor=release_manager, **{"name": "T", **changes})
    assert fields_of(caught) == [field]


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER, Role.QUALITY_MANAGER, Role.ENVIRONMENT_MANAGER])
def test_only_release_managers_and_admins_write_templates(make_user, template, role):
    user = make_user(role)
    with unchanged(), pytest.raises(PermissionDenied):
        services.template_create(actor=user, name="Mine")
    with unchanged(), pytest.raises(PermissionDenied):
        services.phase_template_add(actor=user, template=template, name="Build", kind="build", duration_days=5)
    with unchanged(), pytest.raises(PermissionDenied):
        services.template_delete(actor=user, template=template)


def test_an_admin_writes_templates(admin_user):
    assert services.template_create(actor=admin_user, name="Admin's").pk


def test_template_update_records_what_changed_and_refuses_a_stale_version(release_manager, template):
    with events_written() as written:
        services.template_update(actor=release_manager, template=template, version=1, is_active=False)
    assert (written.event.old_data, written.event.new_data) == ({"is_active": True}, {"is_active": False})
    with unchanged(), pytest.raises(StaleVersion):
        services.template_update(actor=release_manager, template=ReleaseTemplate.objects.get(), version=1, name="X")


def test_template_update_refuses_unknown_fields(release_manager, template):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.template_update(actor=release_manager, template=template, version=1, version_note="x")
    assert fields_of(caught) == ["version_note"]


def test_a_template_used_by_releases_may_be_deleted_and_they_keep_their_dates(release_manager, template):
    release = ReleaseFactory(template=template)
    with events_written() as written:
        services.template_delete(actor=release_manager, template=template)
    assert written.types == ["releasetemplate.deleted"]
    release = Release.objects.get(pk=release.pk)
    assert release.template is None and release.planned_start is not None


# Phase templates


def test_a_phase_without_an_offset_starts_right_after_the_previous_one(release_manager, template):
    build = services.phase_template_add(
        actor=release_manager, template=template, name="Build", kind=PhaseKind.BUILD, duration_days=10
    )
    sit = services.phase_template_add(
        actor=release_manager, template=template, name="SIT", kind=PhaseKind.SIT, duration_days=5
    )
    uat = services.phase_template_add(
        actor=release_manager, template=template, name="UAT", kind=PhaseKind.UAT, duration_days=5, start_offset_days=12
    )
    release = services.phase_template_add(
        actor=release_manager, template=template, name="Release", kind=PhaseKind.RELEASE, duration_days=1
    )
    assert [(p.position, p.start_offset_days) for p in (build, sit, uat, release)] == [
        (1, 0),
        (2, 10),
        (3, 12),
        (4, 17),
    ]


def test_phase_template_add_is_audited(release_manager, template):
    with events_written() as written:
        phase = services.phase_template_add(
            actor=release_manager, template=template, name=" Build ", kind="build", duration_days=3
        )
    assert written.types == ["phasetemplate.created"]
    assert written.event.new_data["name"] == "Build" and written.event.new_data["template"] == template.pk
    assert phase.name == "Build"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"duration_days": 0}, "duration_days"),
        ({"duration_days": 1001}, "duration_days"),
        ({"kind": "party"}, "kind"),
        ({"name": ""}, "name"),
        ({"environment_type": "moon"}, "environment_type"),
        ({"test_effort_days": -1}, "test_effort_days"),
    ],
)
def test_bad_phase_templates_are_refused_by_field(release_manager, template, changes, field):
    args = {"name": "Build", "kind": "build", "duration_days": 5, **changes}
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_template_add(actor=release_manager, template=template, **args)
    assert field in fields_of(caught)


def test_two_phases_of_a_template_cannot_share_a_position_or_a_name(release_manager, template):
    PhaseTemplateFactory(template=template, position=1, name="Build")
    with unchanged(), pytest.raises(Conflict, match="already has a phase at this position"):
        services.phase_template_add(
            actor=release_manager, template=template, name="SIT", kind="sit", duration_days=5, position=1
        )
    with unchanged(), pytest.raises(Conflict, match="already has a phase with this name"):
        services.phase_template_add(actor=release_manager, template=template, name="build", kind="sit", duration_days=5)


def test_phase_template_update_and_stale_version(release_manager, template):
    phase = PhaseTemplateFactory(template=template, duration_days=5)
    with events_written() as written:
        services.phase_template_update(actor=release_manager, phase_template=phase, version=1, duration_days=8)
    assert written.event.new_data == {"duration_days": 8}
    with unchanged(), pytest.raises(StaleVersion):
        services.phase_template_update(actor=release_manager, phase_template=phase, version=1, duration_days=9)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.phase_template_update(actor=release_manager, phase_template=phase, version=2, duration_days=None)
    assert fields_of(caught) == ["duration_days"]


def test_a_phase_template_with_milestones_or_gates_cannot_be_deleted(release_manager, template):
    phase = PhaseTemplateFactory(template=template, name="SIT")
    MilestoneTemplateFactory(template=template, phase=phase)
    GateTemplateFactory(template=template, phase=phase)
    with unchanged(), pytest.raises(Conflict, match=re.escape("is still used by 1 milestone and 1 gate")):
        services.phase_template_delete(actor=release_manager, phase_template=phase)
    lone = PhaseTemplateFactory(template=template)
    with events_written() as written:
        services.phase_template_delete(actor=release_manager, phase_template=lone)
    assert written.types == ["phasetemplate.deleted"] and not PhaseTemplate.objects.filter(pk=lone.pk).exists()


# Milestone templates


def test_milestone_template_add_anchors_to_a_phase_of_the_template(release_manager, template):
    phase = PhaseTemplateFactory(template=template)
    with events_written() as written:
        milestone = services.milestone_template_add(
            actor=release_manager,
            template=template,
            phase=phase,
            name="Deploy",
            kind="deploy",
            anchor=MilestoneAnchor.PHASE_END,
            offset_days=-2,
        )
    assert written.types == ["milestonetemplate.created"]
    assert (milestone.offset_days, milestone.phase) == (-2, phase)


def test_a_milestone_template_cannot_hang_on_another_templates_phase(release_manager, template):
    foreign = PhaseTemplateFactory()
    with (
        unchanged(),
        pytest.raises(ValidationFailed, match=re.escape("The phase does not exist in this template.")) as caught,
    ):
        services.milestone_template_add(actor=release_manager, template=template, phase=foreign, name="Deploy")
    assert fields_of(caught) == ["phase"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_template_add(actor=release_manager, template=template, phase=None, name="Deploy")
    assert fields_of(caught) == ["phase"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"offset_days": 251}, "offset_days"), ({"anchor": "middle"}, "anchor"), ({"kind": "party"}, "kind")],
)
def test_bad_milestone_templates_are_refused(release_manager, template, changes, field):
    phase = PhaseTemplateFactory(template=template)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_template_add(actor=release_manager, template=template, phase=phase, name="M", **changes)
    assert fields_of(caught) == [field]


def test_milestone_template_update_keeps_it_in_its_template(release_manager, template):
    milestone = MilestoneTemplateFactory(phase=PhaseTemplateFactory(template=template))
    foreign = PhaseTemplateFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.milestone_template_update(
            actor=release_manager, milestone_template=milestone, version=1, phase=foreign
        )
    assert fields_of(caught) == ["phase"]
    milestone = MilestoneTemplate.objects.get(pk=milestone.pk)
    services.milestone_template_update(actor=release_manager, milestone_template=milestone, version=1, offset_days=3)
    assert MilestoneTemplate.objects.get(pk=milestone.pk).offset_days == 3
    services.milestone_template_delete(actor=release_manager, milestone_template=milestone)
    assert not MilestoneTemplate.objects.exists()


# Gate templates


def test_gate_template_add_keeps_roles_checklist_and_checks(release_manager, template):
    with events_written() as written:
        gate = services.gate_template_add(
            actor=release_manager,
            template=template,
            name="Go/no-go",
            blocks=ReleaseStatus.RELEASED,
            approver_roles=["release_manager", "quality_manager", "release_manager"],
            checklist=[" Release notes written ", "Rollback tested"],
            checks=["no_milestone_in_freeze"],
        )
    assert written.types == ["gatetemplate.created"]
    gate = GateTemplate.objects.get(pk=gate.pk)
    assert gate.approver_roles == ["release_manager", "quality_manager"]
    assert gate.checklist == ["Release notes written", "Rollback tested"]
    assert gate.checks == ["no_milestone_in_freeze"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"approver_roles": []}, "approver_roles", "at least one role"),
        ({"approver_roles": ["wizard"]}, "approver_roles", "'wizard' is not a role"),
        ({"approver_roles": "release_manager"}, "approver_roles", "at least one role"),
        ({"checks": ["all_green"]}, "checks", "'all_green' is not an automatic check"),
        ({"checklist": ["  "]}, "checklist", "cannot be blank"),
        ({"checklist": ["x" * 301]}, "checklist", "at most 300"),
        ({"blocks": "draft"}, "blocks", "not a valid choice"),
        ({"blocks": "cancelled"}, "blocks", "not a valid choice"),
        ({"phase": "other"}, "phase", "does not exist in this template"),
    ],
)
def test_bad_gate_templates_are_refused(release_manager, template, changes, field, message):
    if changes.get("phase") == "other":
        changes["phase"] = PhaseTemplateFactory()
    args = {"name": "Gate", "blocks": "released", "approver_roles": ["release_manager"], **changes}
    with unchanged(), pytest.raises(ValidationFailed, match=re.escape(message)) as caught:
        services.gate_template_add(actor=release_manager, template=template, **args)
    assert fields_of(caught) == [field]


def test_gate_template_update_validates_like_add(release_manager, template):
    gate = GateTemplateFactory(template=template)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.gate_template_update(actor=release_manager, gate_template=gate, version=1, approver_roles=[])
    assert fields_of(caught) == ["approver_roles"]
    gate = GateTemplate.objects.get(pk=gate.pk)
    with events_written() as written:
        services.gate_template_update(
            actor=release_manager, gate_template=gate, version=1, checklist=["Signed off"], checks=None
        )
    assert written.event.new_data == {"checklist": ["Signed off"]}
    services.gate_template_delete(actor=release_manager, gate_template=gate)
    assert not GateTemplate.objects.exists()
