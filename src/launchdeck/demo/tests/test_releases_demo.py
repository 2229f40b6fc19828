"""The demo preset's release planning: templates, freezes, trains with their children, statuses that agree with the
dates, gates decided every way, a deploy inside the year-end freeze, schedule dependencies and the schedule changes
that moved the slipped releases, and the audit trail the services leave.

The preset is loaded once for the module, inside a transaction rolled back at the end (each test still runs in its
own transaction inside it), so the tests after this module find the empty database they expect.
"""

import datetime

import pytest
from django.db import transaction

from launchdeck.accounts.models import User
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.models import SystemDependency
from launchdeck.demo.generator import load_demo
from launchdeck.demo.schedule import SLIP_REASONS
from launchdeck.integrations import services as exchange
from launchdeck.org.calendars import working_calendar
from launchdeck.releases import schedule
from launchdeck.releases.choices import GATE_MET_STATUSES
from launchdeck.releases.freezes import deploy_milestones_in_freeze
from launchdeck.releases.models import (
    FreezeWindow,
    Gate,
    GateApproval,
    Milestone,
    Phase,
    Release,
    ReleaseSystem,
    ReleaseTemplate,
    ScheduleChange,
    ScheduleDependency,
)
from launchdeck.releases.workflow import transition_blockers
from launchdeck.scheduling import engine

SEED = 1


class _Rollback(Exception):
    pass


def _snapshot() -> dict:
    """Everything that makes the release plan: names, dates, statuses, decisions and scope."""
    return {
        "releases": sorted(
            Release.objects.values_list(
                "name",
                "kind",
                "status",
                "train__name",
                "inherits_train_dates",
                "owner__username",
                "project__name",
                "planned_start",
                "planned_end",
                "baseline_start",
                "baseline_end",
                "actual_start",
                "actual_end",
            ),
            key=str,
        ),
        "phases": sorted(
            Phase.objects.values_list(
                "release__name", "name", "status", "planned_start", "planned_end", "baseline_end", "percent_complete"
            )
        ),
        "milestones": sorted(
            Milestone.objects.values_list("release__name", "name", "planned_date", "baseline_date", "actual_date"),
            key=str,
        ),
        "gates": sorted(Gate.objects.values_list("release__name", "name", "status", "due_date", "decided_at"), key=str),
        "approvals": sorted(GateApproval.objects.values_list("gate__release__name", "gate__name", "role", "decision")),
        "scope": sorted(ReleaseSystem.objects.values_list("release__name", "system__name", "impact", "target_version")),
        "freezes": sorted(FreezeWindow.objects.values_list("name", "starts_on", "ends_on")),
        "dependencies": sorted(
            ScheduleDependency.objects.values_list(
                "predecessor_release__name",
                "predecessor_phase__name",
                "predecessor_milestone__name",
                "successor_release__name",
                "successor_phase__name",
                "successor_milestone__name",
                "kind",
                "lag_days",
                "note",
            ),
            key=str,
        ),
        "schedule changes": sorted(
            ScheduleChange.objects.values_list(
                "release__name", "occurred_at", "actor_name", "reason", "cause", "old_end", "new_end", "items_moved"
            ),
            key=str,
        ),
        "actual dates": sorted(Phase.objects.values_list("release__name", "name", "actual_start", "actual_end")),
    }


@pytest.fixture(scope="module")
def first_load(django_db_setup, django_db_blocker):
    """Load the preset, read its release plan, roll it back, and load it again for the module's tests."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                load_demo(preset="demo", seed=SEED)
                first = _snapshot()
                raise _Rollback
        except _Rollback:
            pass
        with transaction.atomic():
            load_demo(preset="demo", seed=SEED)
            yield first
            transaction.set_rollback(True)


@pytest.fixture
def demo(first_load, db):
    return first_load


def test_the_same_seed_gives_the_same_releases_dates_and_decisions(demo):
    again = _snapshot()
    assert len(again["releases"]) > 40
    assert again == demo


def test_three_templates_lay_out_the_standard_lifecycles(demo):
    train = ReleaseTemplate.objects.get(name="Enterprise quarterly train")
    assert list(train.phases.values_list("kind", flat=True)) == [
        "plan",
        "build",
        "sit",
        "uat",
        "performance",
        "staging",
        "release",
        "warranty",
    ]
    assert set(train.milestones.values_list("kind", flat=True)) == {"scope_freeze", "code_freeze", "go_no_go", "deploy"}
    gates = {gate.name: gate for gate in train.gates.all()}
    assert gates["Plan approved"].blocks == "in_progress"
    assert gates["Go/no-go"].approver_roles == ["release_manager", "service_manager"]
    assert {"children_passed", "no_milestone_in_freeze"} <= set(gates["Go/no-go"].checks)
    assert set(ReleaseTemplate.objects.values_list("release_kind", flat=True)) == {
        "enterprise",
        "project",
        "independent",
    }


def test_trains_carry_5_to_15_children_some_inheriting_the_trains_dates_some_keeping_their_own(demo):
    trains = list(Release.objects.filter(kind="enterprise"))
    assert len(trains) == 4
    inheriting = keeping = 0
    for train in trains:
        children = list(train.children.prefetch_related("phases"))
        assert 5 <= len(children) <= 15
        train_phases = {phase.kind: phase for phase in train.phases.all()}
        for child in children:
            assert child.kind == "project"
            assert child.project.initiative_id == child.initiative_id
            assert child.initiative.portfolio_id == child.portfolio_id
            for phase in child.phases.all():
                if child.inherits_train_dates:
                    source = train_phases[phase.kind]
                    assert phase.train_phase_id == source.pk
                    assert (phase.planned_start, phase.planned_end) == (source.planned_start, source.planned_end)
                else:
                    assert phase.train_phase_id is None
            inheriting += child.inherits_train_dates
            keeping += not child.inherits_train_dates
    assert inheriting and keeping


def test_statuses_agree_with_the_dates(demo):
    today = datetime.date.today()
    releases = list(Release.objects.prefetch_related("phases", "milestones"))
    assert {release.status for release in releases} == {"draft", "planned", "in_progress", "released", "cancelled"}
    assert min(release.planned_start for release in releases) < today - datetime.timedelta(days=150)
    assert max(release.planned_end for release in releases) > today + datetime.timedelta(days=240)
    for release in releases:
        phases, milestones = list(release.phases.all()), list(release.milestones.all())
        assert all(release.planned_start <= p.planned_start <= p.planned_end <= release.planned_end for p in phases)
        assert all(release.planned_start <= m.planned_date <= release.planned_end for m in milestones)
        assert all(p.actual_start is None or p.actual_start <= today for p in phases)
        assert all(m.actual_date is None or m.actual_date <= today for m in milestones)
        delivery = [phase for phase in phases if phase.kind != "plan"]
        if release.status == "released":
            assert release.actual_end <= today
            assert all(phase.status == "done" for phase in phases)
        elif release.status == "in_progress":
            assert release.actual_start <= today
            assert any(phase.status in ("in_progress", "done") for phase in delivery)
        elif release.status in ("draft", "planned"):
            assert all(phase.actual_start is None for phase in delivery)
            assert min(phase.planned_start for phase in delivery) > today
        else:
            assert all(phase.status in ("done", "skipped") for phase in phases)
        assert (release.baseline_end is None) == (release.status == "draft")
        if release.status in ("in_progress", "released"):
            # Every move it made was allowed: nothing would block it now.
            assert transition_blockers(release, release.status) == []
        if release.planned_end < today and release.status not in ("released", "cancelled"):
            # Not shipped on time: something is overdue.
            assert any(m.actual_date is None and m.planned_date < today for m in milestones)


def test_some_releases_slipped_past_their_baseline_and_some_milestones_are_overdue(demo):
    today = datetime.date.today()
    slipped = [r for r in Release.objects.exclude(baseline_end=None) if r.planned_end > r.baseline_end]
    assert len(slipped) >= 5
    overdue = Milestone.objects.filter(
        actual_date=None, planned_date__lt=today, release__status__in=["planned", "in_progress"]
    )
    assert overdue.exists()
    assert Phase.objects.filter(status="in_progress", percent_complete__gt=0).exists()


def test_gates_were_passed_one_rejected_and_one_overridden_with_a_reason(demo):
    passed = Gate.objects.filter(status="passed").prefetch_related("approvals__approver__role_assignments")
    assert passed.count() > 20
    for gate in passed:
        approvals = list(gate.approvals.all())
        assert sorted(a.role for a in approvals) == sorted(gate.approver_roles)
        assert all(a.decision == "approved" and a.role in a.approver.roles for a in approvals)
        assert gate.decided_at.date() == gate.due_date
    rejected = Gate.objects.get(status="rejected")
    decision = rejected.approvals.get()
    assert decision.decision == "rejected" and decision.comment
    assert rejected.release.status == "in_progress"
    overridden = Gate.objects.filter(status="overridden").select_related("release", "overridden_by")
    assert overridden.exists()
    for gate in overridden:
        assert gate.override_reason and gate.overridden_by.username == "release_manager"
    assert overridden.filter(release__status="released").exists()
    released_gates = Gate.objects.filter(release__status="released")
    assert set(released_gates.values_list("status", flat=True)) <= set(GATE_MET_STATUSES)


def test_freezes_cover_the_year_end_a_monthly_close_core_systems_and_production_bookings(demo):
    windows = {window.name: window for window in FreezeWindow.objects.all()}
    year_end = windows["Year-end deployment freeze"]
    assert (year_end.scope, year_end.category, year_end.recurrence) == ("organisation", "deployment", "yearly")
    assert (year_end.starts_on.month, year_end.starts_on.day, year_end.ends_on.month) == (12, 15, 1)
    close = windows["Month-end financial close"]
    assert close.recurrence == "monthly" and close.portfolios.filter(name="Regulatory Change").exists()
    assert windows["Core platform upgrade"].systems.count() == 2
    booking = windows["Production booking freeze: peak trading"]
    assert (booking.category, booking.scope, booking.environment_types) == (
        "booking",
        "environments",
        ["production", "dr"],
    )


def test_a_deploy_milestone_falls_inside_the_year_end_freeze(demo):
    flagged = deploy_milestones_in_freeze(list(Release.objects.values_list("pk", flat=True)))
    inside = [pk for items in flagged.values() for pk, name in items if name == "Year-end deployment freeze"]
    assert inside
    deploy = Milestone.objects.select_related("release").get(pk=inside[0])
    assert deploy.kind == "deploy" and deploy.release.status not in ("released", "cancelled")
    day = deploy.planned_date
    assert (day.month == 12 and day.day >= 15) or (day.month == 1 and day.day <= 5)
    go_no_go = deploy.release.gates.get(name="Go/no-go")
    assert go_no_go.status == "open"


def test_systems_in_scope_are_impacted_ones_and_their_dependents_to_regression_test(demo):
    releases = Release.objects.exclude(kind="enterprise").prefetch_related("scope")
    for release in releases:
        scope = list(release.scope.all())
        assert 2 <= len(scope) <= 6
        impacted = {row.system_id for row in scope if row.impact == "impacted"}
        assert impacted and all(row.target_version for row in scope if row.impact == "impacted")
        for row in scope:
            if row.impact == "regression":
                assert SystemDependency.objects.filter(source_id=row.system_id, target_id__in=impacted).exists()
    assert ReleaseSystem.objects.filter(impact="regression").exists()


def test_releases_were_made_through_the_services_and_left_audit_events(demo):
    events = AuditEvent.objects.all()
    assert events.filter(event_type="release.created").count() == Release.objects.count()
    for status, event in (("released", "release.released"), ("cancelled", "release.cancelled")):
        assert events.filter(event_type=event).count() == Release.objects.filter(status=status).count()
    assert events.filter(event_type="release.started").count() >= Release.objects.filter(status="released").count()
    assert set(events.filter(event_type__startswith="release.").values_list("actor_name", flat=True)) >= {"demo-loader"}
    approvals = events.filter(event_type="gate.approved")
    assert approvals.count() == GateApproval.objects.filter(decision="approved").count()
    assert not approvals.filter(actor=None).exists()
    for event_type in (
        "gate.rejected",
        "gate.overridden",
        "gatecriterion.ticked",
        "phase.updated",
        "freezewindow.created",
    ):
        assert events.filter(event_type=event_type).exists(), event_type


def test_dependencies_link_open_releases_within_and_across_trains_in_every_kind(demo):
    dependencies = list(
        ScheduleDependency.objects.select_related("predecessor_release", "successor_release").order_by("pk")
    )
    assert 10 <= len(dependencies) <= 20
    assert {dependency.kind for dependency in dependencies} == {"FS", "SS", "FF", "SF"}
    shapes = {(d.predecessor_key.split(":")[0], d.successor_key.split(":")[0]) for d in dependencies}
    assert {("release", "release"), ("phase", "phase"), ("milestone", "phase")} <= shapes
    assert any(dependency.lag_days < 0 for dependency in dependencies) or any(
        dependency.lag_days > 0 for dependency in dependencies
    )

    def train(release):
        return release.pk if release.kind == "enterprise" else release.train_id

    pairs = [(train(d.predecessor_release), train(d.successor_release)) for d in dependencies]
    assert any(before and after and before != after for before, after in pairs)  # across trains
    assert any(before and before == after for before, after in pairs)  # between releases of one train
    assert any(before is None or after is None for before, after in pairs)  # standalone releases
    for dependency in dependencies:
        assert dependency.predecessor_release.status not in ("released", "cancelled")
        assert dependency.successor_release.status not in ("released", "cancelled")
    created = AuditEvent.objects.filter(event_type="schedule_dependency.created")
    assert created.count() == len(dependencies)
    assert set(created.values_list("actor_name", flat=True)) == {"release_manager"}


def test_dependencies_close_no_cycle_and_every_one_holds_on_the_plan_as_loaded(demo):
    plan = schedule.plan_for(Release.objects.values_list("pk", flat=True), blackouts=False)
    engine.check_acyclic(plan.labels, plan.dependencies)  # raises CycleError naming a cycle
    explicit = {
        schedule.dependency_end_keys(*row)
        for row in ScheduleDependency.objects.values_list("predecessor_key", "successor_key", "kind")
    }
    result = engine.propagate(plan.items, plan.dependencies, {})
    broken = [v for v in result.violations if (v.dependency.predecessor, v.dependency.successor) in explicit]
    assert broken == []
    assert not result.moved


def test_a_two_week_slip_of_the_next_trains_sit_moves_its_children_and_pushes_a_deploy_past_the_year_end_freeze(
    demo,
):
    """What the browser journey does: the release manager drags the SIT of the next train (the first planned one)
    two weeks later."""
    train = Release.objects.filter(kind="enterprise", status="planned").order_by("planned_start").first()
    sit = train.phases.get(kind="sit", actual_start=None)
    followers = Phase.objects.filter(train_phase=sit)
    assert followers.exists()  # children inheriting the train's dates follow its SIT
    manager = User.objects.get(username="release_manager")
    impact = schedule.what_if(user=manager, changes=[schedule.Change(key=f"phase:{sit.pk}", shift_days=10)])
    moved = {row["id"] for row in impact["releases"]}
    assert {sit.release_id, *followers.values_list("release_id", flat=True)} <= moved
    assert any(row["freeze"] == "Year-end deployment freeze" for row in impact["postponed"])
    assert impact["violations"] == []


def test_slipped_releases_were_moved_by_schedule_changes_with_a_reason_and_a_history(demo):
    today = datetime.date.today()
    changes = list(ScheduleChange.objects.select_related("release", "audit_event", "actor").order_by("pk"))
    assert len(changes) >= 5
    events = AuditEvent.objects.filter(event_type="release.rescheduled")
    assert events.count() == len({change.batch for change in changes})
    for change in changes:
        assert change.reason in SLIP_REASONS
        assert change.audit_event.reason == change.reason
        assert change.actor.username == "release_manager"
        assert change.occurred_at.date() < today
        assert change.cause and change.items_moved > 0
        assert change.new_end > change.old_end
        calendar = working_calendar(change.release.calendar)
        assert change.end_shift_days == calendar.working_days_between(change.old_end, change.new_end)
    # Every planned release that sits elsewhere than its baseline has a history that takes it from one to the other
    # (in the order the changes were applied).
    history = {}
    for change in changes:
        history.setdefault(change.release_id, []).append(change)
    for release in Release.objects.exclude(baseline_end=None):
        entries = history.get(release.pk, [])
        if (release.planned_start, release.planned_end) == (release.baseline_start, release.baseline_end):
            continue
        assert entries, release.name
        assert (entries[0].old_start, entries[0].old_end) == (release.baseline_start, release.baseline_end)
        assert (entries[-1].new_start, entries[-1].new_end) == (release.planned_start, release.planned_end)


def test_finished_phases_have_actual_dates_some_later_and_some_earlier_than_planned(demo):
    finished = Phase.objects.filter(release__status="released")
    assert finished.exists() and not finished.filter(actual_start=None).exists()
    assert not finished.filter(actual_end=None).exists()
    done = list(Phase.objects.filter(status="done"))
    assert all(phase.actual_start <= phase.actual_end < datetime.date.today() for phase in done)
    assert any(phase.actual_end > phase.planned_end for phase in done)
    assert any(phase.actual_end < phase.planned_end for phase in done)


def test_dependencies_export_and_import_back_into_the_plan_unchanged(demo):
    manager = User.objects.get(username="release_manager")
    _, before = exchange.export_file(user=manager, datasets=["schedule_dependencies"], file_format="csv")
    assert len(before.decode().splitlines()) == ScheduleDependency.objects.count() + 1
    ScheduleDependency.objects.all().delete()
    batch = exchange.import_preview(
        actor=manager, file_name="links.csv", content=before, dataset="schedule_dependencies"
    )
    assert batch.report["rejected"] == 0, batch.report["rows"][:3]
    exchange.import_apply(actor=manager, batch=batch)
    assert exchange.export_file(user=manager, datasets=["schedule_dependencies"], file_format="csv")[1] == before


def test_the_demo_names_plan_items_with_the_schedules_own_keys():
    from launchdeck.demo import schedule as demo_schedule
    from launchdeck.releases import schedule

    assert demo_schedule.item_key is schedule.item_key
