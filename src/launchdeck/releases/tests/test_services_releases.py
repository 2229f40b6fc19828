"""Releases at the services: creating from a template, editing the window, deleting; audit, bad input, permissions."""

import datetime
import re

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.core.errors import Conflict, PermissionDenied, StaleVersion, ValidationFailed
from launchdeck.org.models import CalendarClosure
from launchdeck.org.tests.factories import CalendarFactory
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory, ProjectFactory
from launchdeck.releases import services
from launchdeck.releases.choices import (
    CriterionKind,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    ReleaseKind,
    ReleaseStatus,
)
from launchdeck.releases.models import Gate, GateCriterion, Milestone, Phase, Release
from launchdeck.releases.tests.factories import (
    GateTemplateFactory,
    MilestoneFactory,
    MilestoneTemplateFactory,
    PhaseFactory,
    PhaseTemplateFactory,
    ReleaseFactory,
    ReleaseTemplateFactory,
    TrainFactory,
    events_written,
    unchanged,
)

D = datetime.date
MON = D(2026, 3, 2)


def fields_of(caught) -> list:
    return [error["field"] for error in caught.value.errors]


@pytest.fixture
def template(db):
    template = ReleaseTemplateFactory(name="Standard")
    build = PhaseTemplateFactory(template=template, position=1, name="Build", kind=PhaseKind.BUILD, duration_days=10)
    sit = PhaseTemplateFactory(
        template=template,
        position=2,
        name="SIT",
        kind=PhaseKind.SIT,
        start_offset_days=10,
        duration_days=5,
        environment_type="sit",
        test_effort_days=12,
    )
    MilestoneTemplateFactory(template=template, phase=build, name="Code freeze", kind=MilestoneKind.CODE_FREEZE)
    MilestoneTemplateFactory(
        template=template, phase=sit, name="Deploy", kind=MilestoneKind.DEPLOY, anchor=MilestoneAnchor.PHASE_END
    )
    GateTemplateFactory(
        template=template,
        phase=sit,
        name="SIT exit",
        blocks=ReleaseStatus.RELEASED,
        approver_roles=["quality_manager", "release_manager"],
        checklist=["Defects triaged", "Test report signed"],
        checks=["required_phases_dated"],
    )
    GateTemplateFactory(template=template, name="Go", blocks=ReleaseStatus.IN_PROGRESS)
    return template


def create(actor, **overrides):
    args = {"name": "Payments 26.1", "kind": ReleaseKind.PROJECT, "planned_start": MON, **overrides}
    return services.release_create(actor=actor, **args)


# Creating


def test_a_release_from_a_template_lays_out_phases_milestones_and_gates(release_manager, template):
    with events_written() as written:
        release = create(release_manager, template=template)
    assert written.types == ["release.created"]
    release = Release.objects.get(pk=release.pk)
    assert (release.status, release.planned_start, release.planned_end) == ("draft", MON, D(2026, 3, 20))
    phases = list(release.phases.order_by("position"))
    assert [(p.name, p.kind, p.planned_start, p.planned_end) for p in phases] == [
        ("Build", "build", MON, D(2026, 3, 13)),
        ("SIT", "sit", D(2026, 3, 16), D(2026, 3, 20)),
    ]
    assert phases[1].environment_type == "sit" and phases[1].test_effort_days == 12 and phases[1].template_id
    milestones = {m.name: (m.kind, m.planned_date, m.phase.name) for m in release.milestones.select_related("phase")}
    assert milestones == {
        "Code freeze": ("code_freeze", D(2026, 3, 13), "Build"),
        "Deploy": ("deploy", D(2026, 3, 20), "SIT"),
    }
    gates = {g.name: g for g in release.gates.all()}
    assert (gates["SIT exit"].due_date, gates["SIT exit"].phase.name, gates["SIT exit"].blocks) == (
        D(2026, 3, 20),
        "SIT",
        "released",
    )
    assert gates["SIT exit"].approver_roles == ["quality_manager", "release_manager"]
    assert (gates["Go"].due_date, gates["Go"].phase, gates["Go"].blocks) == (D(2026, 3, 20), None, "in_progress")
    criteria = list(gates["SIT exit"].criteria.order_by("position").values_list("kind", "text", "check_key"))
    assert criteria == [
        (CriterionKind.MANUAL, "Defects triaged", ""),
        (CriterionKind.MANUAL, "Test report signed", ""),
        (CriterionKind.AUTOMATIC, "All required phases are planned", "required_phases_dated"),
    ]
    assert written.event.new_data["template"] == template.pk and written.event.new_data["planned_end"] == "2026-03-20"


def test_the_layout_follows_the_release_calendar(release_manager, template):
    calendar = CalendarFactory()
    CalendarClosure.objects.create(calendar=calendar, name="Offsite", start=D(2026, 3, 9), end=D(2026, 3, 13))
    release = create(release_manager, template=template, calendar=calendar)
    assert release.planned_end == D(2026, 3, 27)
    assert Phase.objects.get(release=release, name="Build").planned_end == D(2026, 3, 20)


def test_a_later_end_than_the_layout_is_kept(release_manager, template):
    release = create(release_manager, template=template, planned_end=D(2026, 4, 30))
    assert release.planned_end == D(2026, 4, 30)


def test_an_end_before_the_layout_end_is_refused_naming_the_phase(release_manager, template):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager, template=template, planned_end=D(2026, 3, 18))
    assert fields_of(caught) == ["planned_end"]
    assert "the phase SIT (16 Mar 2026 to 20 Mar 2026)" in caught.value.detail
    assert "20 Mar 2026 or later" in caught.value.detail


def test_a_milestone_after_the_last_phase_extends_the_default_end(release_manager, template):
    sit = template.phases.get(name="SIT")
    MilestoneTemplateFactory(template=template, phase=sit, name="Warranty check", offset_days=5)
    assert create(release_manager, template=template).planned_end == D(2026, 3, 27)


def test_a_template_milestone_before_the_start_is_refused(release_manager, template):
    MilestoneTemplateFactory(
        template=template,
        phase=template.phases.get(name="Build"),
        name="Kick-off",
        anchor=MilestoneAnchor.PHASE_START,
        offset_days=-3,
    )
    with unchanged(), pytest.raises(ValidationFailed, match="Kick-off") as caught:
        create(release_manager, template=template)
    assert fields_of(caught) == ["planned_start"]


@pytest.mark.parametrize("with_template", [True, False])
def test_an_end_before_the_start_is_refused(release_manager, template, with_template):
    with (
        unchanged(),
        pytest.raises(ValidationFailed, match=re.escape("The end date cannot be before the start date.")) as caught,
    ):
        create(release_manager, template=template if with_template else None, planned_end=D(2026, 3, 1))
    assert fields_of(caught) == ["planned_end"] and caught.value.status == 422


def test_without_a_template_the_end_is_required(release_manager):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager)
    assert fields_of(caught) == ["planned_end"]
    release = create(release_manager, planned_end=D(2026, 6, 30))
    assert (release.phases.count(), release.milestones.count(), release.gates.count()) == (0, 0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"kind": "train"}, "kind"),
        ({"planned_start": None}, "planned_start"),
        ({"name": "x" * 151}, "name"),
    ],
)
def test_bad_release_input_is_refused_by_field(release_manager, changes, field):
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager, **{"planned_end": D(2026, 6, 30), **changes})
    assert fields_of(caught) == [field]


def test_release_names_are_unique_whatever_the_case(release_manager):
    ReleaseFactory(name="Payments 26.1")
    with unchanged(), pytest.raises(Conflict, match=re.escape("A release with this name already exists.")):
        create(release_manager, name="PAYMENTS 26.1", planned_end=D(2026, 6, 30))


def test_a_project_fills_in_its_initiative_and_portfolio(release_manager):
    project = ProjectFactory()
    release = create(release_manager, planned_end=D(2026, 6, 30), project=project)
    assert (release.initiative, release.portfolio) == (project.initiative, project.initiative.portfolio)


def test_links_that_disagree_are_refused(release_manager):
    project, initiative = ProjectFactory(name="Ledger"), InitiativeFactory(name="Mobile")
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager, planned_end=D(2026, 6, 30), project=project, initiative=initiative)
    assert fields_of(caught) == ["project"]
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        create(release_manager, planned_end=D(2026, 6, 30), initiative=initiative, portfolio=PortfolioFactory())
    assert fields_of(caught) == ["initiative"]


@pytest.mark.parametrize(
    "role", [Role.PROJECT_MANAGER, Role.VIEWER, Role.QUALITY_MANAGER, Role.SERVICE_MANAGER, Role.PORTFOLIO_MANAGER]
)
def test_only_release_managers_and_admins_create_releases(make_user, role, template):
    with unchanged(), pytest.raises(PermissionDenied):
        create(make_user(role), template=template)


def test_an_admin_creates_releases(admin_user):
    assert create(admin_user, planned_end=D(2026, 6, 30)).pk


def test_anonymous_and_inactive_users_are_refused(make_user, template):
    from django.contrib.auth.models import AnonymousUser

    from launchdeck.core.errors import NotAuthenticated

    with unchanged(), pytest.raises(NotAuthenticated):
        create(AnonymousUser(), template=template)
    with unchanged(), pytest.raises(PermissionDenied):
        create(make_user(Role.RELEASE_MANAGER, is_active=False), template=template)


# Editing


def test_release_update_records_only_what_changed(release_manager):
    release = ReleaseFactory(description="")
    with events_written() as written:
        services.release_update(
            actor=release_manager, release=release, version=1, description="Q1", planned_end=D(2026, 7, 31)
        )
    assert written.types == ["release.updated"]
    assert written.event.old_data == {"description": "", "planned_end": "2026-06-26"}
    assert written.event.new_data == {"description": "Q1", "planned_end": "2026-07-31"}
    assert Release.objects.get(pk=release.pk).version == 2


def test_release_update_refuses_a_stale_version(release_manager):
    release = ReleaseFactory()
    services.release_update(actor=release_manager, release=Release.objects.get(pk=release.pk), version=1, name="A")
    with unchanged(), pytest.raises(StaleVersion):
        services.release_update(actor=release_manager, release=release, version=1, name="B")


def test_a_window_that_would_leave_phases_or_milestones_outside_is_refused_naming_them(release_manager):
    release = ReleaseFactory()
    PhaseFactory(release=release, name="SIT", planned_start=D(2026, 5, 4), planned_end=D(2026, 5, 29))
    PhaseFactory(release=release, name="Build", planned_start=MON, planned_end=D(2026, 3, 13))
    MilestoneFactory(release=release, name="Deploy", planned_date=D(2026, 6, 1))
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_update(actor=release_manager, release=release, version=1, planned_end=D(2026, 5, 15))
    assert fields_of(caught) == ["planned_end"]
    assert caught.value.detail == (
        "The release (2 Mar 2026 to 15 May 2026) would leave the phase SIT (4 May 2026 to 29 May 2026) and the "
        "milestone Deploy (1 Jun 2026) outside it; move them first."
    )
    release = Release.objects.get(pk=release.pk)
    with unchanged(), pytest.raises(ValidationFailed, match="the phase Build") as caught:
        services.release_update(actor=release_manager, release=release, version=1, planned_start=D(2026, 3, 9))
    assert fields_of(caught) == ["planned_start"]


def test_release_update_refuses_an_end_before_the_start(release_manager):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_update(actor=release_manager, release=release, version=1, planned_end=D(2026, 2, 1))
    assert fields_of(caught) == ["planned_end"]
    release = Release.objects.get(pk=release.pk)
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_update(
            actor=release_manager, release=release, version=1, actual_start=MON, actual_end=D(2026, 3, 1)
        )
    assert fields_of(caught) == ["actual_end"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "released"),
        ("train", None),
        ("inherits_train_dates", True),
        ("baseline_start", MON),
        ("planned_start", None),
    ],
)
def test_release_update_refuses_fields_changed_elsewhere(release_manager, field, value):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_update(actor=release_manager, release=release, version=1, **{field: value})
    assert fields_of(caught) == [field]


def test_a_train_with_children_cannot_stop_being_a_train(release_manager):
    train = TrainFactory(name="Winter")
    ReleaseFactory(train=train)
    with unchanged(), pytest.raises(ValidationFailed, match="still has child releases") as caught:
        services.release_update(actor=release_manager, release=train, version=1, kind=ReleaseKind.PROJECT)
    assert fields_of(caught) == ["kind"]


def test_a_child_in_a_train_stays_a_project_release(release_manager):
    child = ReleaseFactory(train=TrainFactory(name="Winter"))
    with unchanged(), pytest.raises(ValidationFailed, match="travels in the train Winter") as caught:
        services.release_update(actor=release_manager, release=child, version=1, kind=ReleaseKind.INDEPENDENT)
    assert fields_of(caught) == ["kind"]


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER])
def test_only_release_managers_edit_releases(make_user, role):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_update(actor=make_user(role), release=release, version=1, name="Mine")


# Deleting


@pytest.mark.parametrize("status", [ReleaseStatus.DRAFT, ReleaseStatus.CANCELLED])
def test_draft_and_cancelled_releases_are_deleted_with_their_plan(release_manager, status):
    release = ReleaseFactory(status=status)
    phase = PhaseFactory(release=release)
    MilestoneFactory(release=release, phase=phase)
    gate = Gate.objects.create(release=release, name="G", due_date=MON, approver_roles=["release_manager"])
    GateCriterion.objects.create(gate=gate, text="x")
    with events_written() as written:
        services.release_delete(actor=release_manager, release=release)
    assert written.types == ["release.deleted"] and written.event.object_id == str(release.pk)
    assert not (Release.objects.exists() or Phase.objects.exists() or Milestone.objects.exists())
    assert not GateCriterion.objects.exists()


@pytest.mark.parametrize("status", [ReleaseStatus.PLANNED, ReleaseStatus.IN_PROGRESS, ReleaseStatus.RELEASED])
def test_releases_under_way_or_shipped_are_not_deleted(release_manager, status):
    release = ReleaseFactory(status=status, name="Ledger")
    with unchanged(), pytest.raises(Conflict, match="only draft or cancelled releases can be deleted") as caught:
        services.release_delete(actor=release_manager, release=release)
    assert caught.value.status == 409


def test_a_train_with_children_is_not_deleted(release_manager):
    train = TrainFactory(name="Winter")
    ReleaseFactory(train=train, name="Ledger")
    ReleaseFactory(train=train, name="Cards")
    message = "Winter still has child releases (Cards and Ledger); remove them from the train first."
    with unchanged(), pytest.raises(Conflict, match=re.escape(message)):
        services.release_delete(actor=release_manager, release=train)


def test_deleting_a_train_phase_leaves_inheriting_phases_with_their_dates(release_manager):
    train = TrainFactory()
    train_phase = PhaseFactory(release=train, kind="sit")
    child = ReleaseFactory()
    follower = PhaseFactory(release=child, kind="sit", train_phase=train_phase)
    services.phase_delete(actor=release_manager, phase=train_phase)
    follower.refresh_from_db()
    assert follower.train_phase is None and follower.planned_start == train_phase.planned_start


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER])
def test_only_release_managers_delete_releases(make_user, role):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(PermissionDenied):
        services.release_delete(actor=make_user(role), release=release)


# Links to the portfolio


def test_a_rename_does_not_recheck_links_that_moved_on_since(release_manager):
    project = ProjectFactory()
    release = ReleaseFactory(project=project, initiative=project.initiative, portfolio=project.initiative.portfolio)
    project.initiative = InitiativeFactory()  # the project moved to another initiative (and portfolio)
    project.save()
    services.release_update(actor=release_manager, release=release, name="Renamed")
    assert Release.objects.get(pk=release.pk).name == "Renamed"


def test_a_new_project_brings_its_initiative_and_portfolio(release_manager):
    release = ReleaseFactory(initiative=InitiativeFactory())
    release.portfolio = release.initiative.portfolio
    release.save()
    project = ProjectFactory()
    with events_written() as written:
        services.release_update(actor=release_manager, release=release, project=project)
    row = Release.objects.get(pk=release.pk)
    assert (row.project_id, row.initiative_id, row.portfolio_id) == (
        project.pk,
        project.initiative_id,
        project.initiative.portfolio_id,
    )
    assert written.event.new_data["initiative"] == project.initiative_id


def test_a_project_of_another_initiative_than_the_one_given_is_still_refused(release_manager):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed) as caught:
        services.release_update(
            actor=release_manager, release=release, project=ProjectFactory(), initiative=InitiativeFactory()
        )
    assert fields_of(caught) == ["project"]


# Dates out of any plan


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"planned_start": D(3000, 1, 5), "planned_end": D(3000, 2, 5)}, "planned_start"),
        ({"planned_start": D(2026, 1, 5), "planned_end": D(9999, 12, 31)}, "planned_end"),
        ({"planned_start": D(1899, 12, 1), "planned_end": D(1899, 12, 31)}, "planned_start"),
    ],
)
def test_a_release_outside_the_plausible_years_is_refused(release_manager, args, field):
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        create(release_manager, **args)
    assert fields_of(caught) == [field]


@pytest.mark.parametrize("field", ["planned_start", "planned_end", "actual_start", "actual_end"])
def test_an_edit_to_an_implausible_date_is_refused(release_manager, field):
    release = ReleaseFactory()
    with unchanged(), pytest.raises(ValidationFailed, match="between the years 1900 and 2999") as caught:
        services.release_update(actor=release_manager, release=release, **{field: D(9999, 12, 31)})
    assert fields_of(caught) == [field]


def test_a_template_laid_out_past_the_plausible_years_is_refused_on_the_start(release_manager):
    template = ReleaseTemplateFactory()
    PhaseTemplateFactory(template=template, start_offset_days=5000, duration_days=1000)
    with unchanged(), pytest.raises(ValidationFailed, match="past the year 2999") as caught:
        create(release_manager, template=template, planned_start=D(2999, 6, 1))
    assert fields_of(caught) == ["planned_start"]


def test_a_template_that_runs_off_the_calendar_is_refused_on_the_start(release_manager):
    template = ReleaseTemplateFactory()
    PhaseTemplateFactory(template=template, start_offset_days=3_000_000, duration_days=5)
    with unchanged(), pytest.raises(ValidationFailed, match="cannot be laid out") as caught:
        create(release_manager, template=template, planned_start=D(2999, 6, 1))
    assert fields_of(caught) == ["planned_start"]


def test_an_inactive_template_is_refused(release_manager, template):
    template.is_active = False
    template.save()
    with unchanged(), pytest.raises(ValidationFailed, match=re.escape("The template Standard is inactive.")) as caught:
        create(release_manager, template=template)
    assert fields_of(caught) == ["template"]


def test_delete_checks_the_status_of_the_locked_row(release_manager):
    release = ReleaseFactory(name="Ledger")
    Release.objects.filter(pk=release.pk).update(status=ReleaseStatus.IN_PROGRESS)  # started since it was read
    with unchanged(), pytest.raises(Conflict, match="only draft or cancelled"):
        services.release_delete(actor=release_manager, release=release)


# Closed releases


@pytest.mark.parametrize("status", [ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED])
@pytest.mark.parametrize(
    "changes",
    [
        {"planned_end": D(2026, 7, 31)},
        {"planned_start": D(2026, 2, 2)},
        {"kind": ReleaseKind.INDEPENDENT},
        {"project": "new"},
    ],
)
def test_the_plan_of_a_closed_release_is_history(release_manager, status, changes):
    release = ReleaseFactory(name="Ledger", status=status)
    if changes.get("project") == "new":
        changes["project"] = ProjectFactory()
    label = "released" if status == ReleaseStatus.RELEASED else "cancelled"
    with unchanged(), pytest.raises(Conflict, match=re.escape(f"Ledger is {label}; its plan is history.")):
        services.release_update(actor=release_manager, release=release, **changes)


def test_what_happened_is_still_recorded_on_a_closed_release(release_manager):
    release = ReleaseFactory(name="Ledger", status=ReleaseStatus.RELEASED)
    services.release_update(
        actor=release_manager,
        release=release,
        actual_start=D(2026, 3, 4),
        actual_end=D(2026, 6, 30),
        description="Shipped a week late",
        planned_end=release.planned_end,  # a form sends the planned dates back unchanged
    )
    row = Release.objects.get(pk=release.pk)
    assert (row.actual_start, row.actual_end, row.description) == (D(2026, 3, 4), D(2026, 6, 30), "Shipped a week late")
