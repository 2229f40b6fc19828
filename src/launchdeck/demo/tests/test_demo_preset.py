"""The demo preset, loaded once for the module: people, the organisation, the catalogue, the portfolio, release
planning (templates, freezes, trains, statuses that agree with the dates, gates decided every way, schedule
dependencies and changes) and environments (the estate, its history, bookings within capacity bar the one deliberate
conflict, requests, deployments that agree with the versions the components show).

The preset is loaded twice (the first load is read and rolled back, to show that the same seed gives the same data),
inside a transaction rolled back at the end of the module, so the tests after it find the empty database they expect.
Snapshots compare names, never ids: ids differ between loads on PostgreSQL. One module, so the preset loads once.
"""

import datetime
import itertools
from collections import defaultdict
from itertools import pairwise

import pytest
from django.db import transaction

from launchdeck.accounts.models import User
from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.graph import adjacency, closure
from launchdeck.catalog.models import System, SystemDependency
from launchdeck.demo.environments import SIZES
from launchdeck.demo.generator import DEMO_PASSWORD, load_demo
from launchdeck.demo.schedule import SLIP_REASONS
from launchdeck.environments import rules
from launchdeck.environments.choices import (
    LIVE_BOOKING_STATUSES,
    BookingStatus,
    DeploymentOutcome,
    EnvironmentCategory,
    EnvironmentStatus,
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
from launchdeck.integrations import services as exchange
from launchdeck.org.calendars import working_calendar
from launchdeck.org.models import Calendar, Department, Person, Team
from launchdeck.portfolio import selectors
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, Spend
from launchdeck.releases import schedule
from launchdeck.releases.choices import GATE_MET_STATUSES, EnvironmentType
from launchdeck.releases.freezes import deploy_milestones_in_freeze, freezes_between
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


def _people_snapshot() -> dict:
    return {
        "people": sorted(User.objects.values_list("username", "first_name", "last_name")),
        "roles": sorted(User.objects.values_list("username", "role_assignments__role")),
    }


def _full_snapshot() -> dict:
    return {**_people_snapshot(), **_release_snapshot(), **_environment_snapshot()}


@pytest.fixture(scope="module")
def first_load(django_db_setup, django_db_blocker):
    """Load the preset, read it, roll it back, and load it again for the module's tests."""
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                load_demo(preset="demo", seed=SEED)
                first = _full_snapshot()
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


def test_the_same_seed_gives_the_same_people_releases_and_environments(demo):
    again = _full_snapshot()
    assert len(again["releases"]) > 40
    assert len(again["bookings"]) == SIZES["demo"]["bookings"]
    assert again == demo


def test_one_user_per_role_named_after_it_with_the_demo_password(demo):
    for role in Role.values:
        user = User.objects.get(username=role)
        assert user.roles == [role]
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_staff


def test_demo_goes_through_the_services_and_leaves_audit_events(demo):
    created = AuditEvent.objects.filter(event_type="user.created")
    assert created.count() == len(Role.values)
    assert set(created.values_list("actor_name", flat=True)) == {"demo-loader"}
    assert AuditEvent.objects.filter(event_type="api_token.revoked", reason="Script retired").exists()


# Release planning


def _release_snapshot() -> dict:
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


# Environments

# Bookings that held their window when they ran (or still hold it): none may overbook but the deliberate ones.
HOLDING = (*LIVE_BOOKING_STATUSES, BookingStatus.RELEASED)


def _environment_snapshot() -> dict:
    """The environments' data by names: what a second load with the same seed must give again."""
    return {
        "environments": sorted(
            Environment.objects.values_list(
                "name",
                "group__name",
                "category",
                "environment_type",
                "hosting",
                "owner_team__name",
                "capacity",
                "cost_per_day",
                "status",
                "status_since",
            )
        ),
        "depends on": sorted(Environment.objects.values_list("name", "depends_on__name"), key=str),
        "history": sorted(EnvironmentStatusChange.objects.values_list("environment__name", "started_at", "status")),
        "components": sorted(
            EnvironmentComponent.objects.values_list("environment__name", "system__name", "version", "deployed_at"),
            key=str,
        ),
        "bookings": sorted(
            EnvironmentBooking.objects.values_list(
                "environment__name",
                "starts_at",
                "ends_at",
                "usage",
                "status",
                "requester__username",
                "release__name",
                "phase__name",
                "purpose",
                "decided_by__username",
            ),
            key=str,
        ),
        "requests": sorted(
            EnvironmentRequest.objects.values_list(
                "title", "kind", "status", "environment__name", "team__name", "starts_on", "due_on", "masking"
            ),
            key=str,
        ),
        "deployments": sorted(
            Deployment.objects.values_list(
                "environment__name", "system__name", "version", "deployed_at", "outcome", "source", "release__name"
            ),
            key=str,
        ),
    }


def test_forty_environments_in_eight_groups_of_every_type_and_category(demo):
    assert Environment.objects.count() == 40
    assert EnvironmentGroup.objects.count() == 8
    assert set(Environment.objects.values_list("environment_type", flat=True)) == set(EnvironmentType.values)
    assert set(Environment.objects.values_list("category", flat=True)) == set(EnvironmentCategory.values)
    assert set(Environment.objects.values_list("capacity", flat=True)) == {1, 2, 3}
    assert not Environment.objects.filter(cost_per_day__lte=0).exists()
    assert Environment.objects.filter(status=EnvironmentStatus.DECOMMISSIONED).count() == 1
    assert Environment.objects.filter(status=EnvironmentStatus.PROVISIONING).count() == 1
    # Production and DR for every family of systems.
    for family in ("Payments", "Retail", "Lending", "Core"):
        assert Environment.objects.filter(name=f"PROD {family}", environment_type="production").exists()
        assert Environment.objects.filter(name=f"DR {family}", environment_type="dr").exists()
    assert Environment.objects.filter(environment_type="uat", depends_on__category="data").exists()


def test_every_environment_has_a_year_of_history_that_ends_in_its_status(demo):
    history = defaultdict(list)
    for name, started_at, status in EnvironmentStatusChange.objects.values_list(
        "environment__name", "started_at", "status"
    ).order_by("started_at", "pk"):
        history[name].append((started_at, status))
    for environment in Environment.objects.all():
        rows = history[environment.name]
        assert rows[-1] == (environment.status_since, environment.status)
    statuses = {status for rows in history.values() for _, status in rows}
    assert {"down", "degraded", "maintenance", "in_use", "decommissioned", "provisioning"} <= statuses
    sandbox = next(name for name, rows in history.items() if len(rows) > 3)
    year_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=365)
    availability = rules.availability(history[sandbox], year_ago, datetime.datetime.now(datetime.UTC))
    assert availability is not None and 0.9 < availability < 1


def test_six_hundred_bookings_over_the_past_and_next_six_months_in_every_status(demo):
    bookings = EnvironmentBooking.objects.all()
    assert bookings.count() == 600
    assert set(bookings.values_list("status", flat=True)) == set(BookingStatus.values)
    # The generator decides what has happened by the start of the day it runs.
    today = datetime.datetime.combine(datetime.date.today(), datetime.time(0), tzinfo=datetime.UTC)
    first, last = bookings.order_by("starts_at").first(), bookings.order_by("-ends_at").first()
    assert today - datetime.timedelta(days=190) < first.starts_at < today - datetime.timedelta(days=150)
    assert today + datetime.timedelta(days=150) < last.ends_at < today + datetime.timedelta(days=200)
    assert not bookings.filter(ends_at__lte=today, status__in=[BookingStatus.REQUESTED, BookingStatus.ACTIVE])
    assert not bookings.filter(starts_at__gte=today, status=BookingStatus.RELEASED).exists()
    rejected = bookings.filter(status=BookingStatus.REJECTED)
    assert rejected.exists() and not rejected.filter(decision_note="").exists()
    decided = bookings.exclude(decided_by=None)
    assert decided.exists() and not [b for b in decided if b.decided_by_id == b.requester_id]


def test_bookings_of_phases_book_the_type_the_phase_needs_for_its_release_within_its_dates(demo):
    linked = EnvironmentBooking.objects.exclude(phase=None).select_related("phase", "environment")
    assert linked.count() > 150
    for booking in linked:
        phase = booking.phase
        assert booking.environment.environment_type == phase.environment_type
        assert booking.release_id == phase.release_id
        if booking.status not in (BookingStatus.REJECTED, BookingStatus.CANCELLED):
            assert phase.planned_start <= booking.starts_at.date() <= phase.planned_end + datetime.timedelta(days=1)


def test_no_environment_is_overbooked_but_the_one_deliberate_conflict_next_month(demo):
    held = defaultdict(list)
    rows = EnvironmentBooking.objects.filter(status__in=HOLDING).select_related("environment")
    for booking in rows:
        held[booking.environment].append(rules.Held(booking, booking.starts_at, booking.ends_at, booking.usage))
    overbooked = set()
    for environment, windows in held.items():
        overbooked |= rules.overbooked(environment.capacity, windows)
    assert len(overbooked) == 2
    first, second = sorted(overbooked, key=lambda booking: booking.starts_at)
    assert first.environment == second.environment and first.environment.capacity == 1
    assert first.status == second.status == BookingStatus.REQUESTED
    assert first.requester != second.requester
    today = datetime.date.today()
    assert 0 < (first.starts_at.date() - today).days <= 70


def test_a_weekly_regression_series_books_the_same_shared_window_every_week(demo):
    series = EnvironmentBooking.objects.exclude(series=None)
    assert series.values("series").distinct().count() == SIZES["demo"]["series"]
    occurrences = list(series.order_by("starts_at"))
    assert len(occurrences) == 13 and len({booking.environment_id for booking in occurrences}) == 1
    gaps = {(b.starts_at - a.starts_at) for a, b in pairwise(occurrences)}
    assert gaps == {datetime.timedelta(weeks=1)}
    assert {booking.usage for booking in occurrences} == {"shared"}
    assert {booking.status for booking in occurrences} >= {BookingStatus.RELEASED, BookingStatus.APPROVED}


def test_one_live_booking_sits_inside_a_booking_freeze_of_its_environment(demo):
    today = datetime.date.today()
    freezes = freezes_between(
        today - datetime.timedelta(days=200), today + datetime.timedelta(days=200), category="booking"
    )
    inside = []
    live = EnvironmentBooking.objects.filter(status__in=HOLDING).select_related("environment")
    for booking in live:
        for occurrence in freezes:
            covers = occurrence.scope == "organisation" or (
                occurrence.scope == "environments"
                and booking.environment.environment_type in occurrence.environment_types
            )
            first, last = booking.starts_at.date(), booking.ends_at.date()
            if covers and occurrence.start <= last and first <= occurrence.end:
                inside.append(booking)
    assert len(inside) <= 1
    ahead = [o for o in freezes if o.end >= today + datetime.timedelta(days=2) and "production" in o.environment_types]
    if ahead:  # the peak-trading freeze lies within the bookings' reach of today
        assert len(inside) == 1 and inside[0].status == BookingStatus.REQUESTED


def test_requests_of_every_kind_fall_due_before_the_phases_that_need_them(demo):
    requests = EnvironmentRequest.objects.select_related("phase", "environment")
    assert requests.count() == SIZES["demo"]["requests"]
    assert set(requests.values_list("kind", flat=True)) == set(RequestKind.values)
    assert {RequestStatus.DONE, RequestStatus.IN_PROGRESS, RequestStatus.REQUESTED} <= set(
        requests.values_list("status", flat=True)
    )
    for request in requests:
        assert request.starts_on <= request.due_on
        if request.phase is not None:
            assert request.due_on < request.phase.planned_start
            assert request.release_id == request.phase.release_id
        if request.kind == RequestKind.PROVISIONING:
            assert request.environment_type
        else:
            assert request.environment is not None
        if request.status == RequestStatus.DONE:
            assert request.completed_at is not None
        if request.kind == RequestKind.DATA_REFRESH:
            assert request.masking in (MaskingStatus.PENDING, MaskingStatus.DONE)
            if request.status == RequestStatus.DONE:
                assert request.masking == MaskingStatus.DONE
    retired = Environment.objects.get(status=EnvironmentStatus.DECOMMISSIONED)
    assert requests.filter(environment=retired, kind=RequestKind.DECOMMISSION, status=RequestStatus.DONE).exists()


def test_twenty_thousand_deployments_and_every_component_shows_its_latest_successful_one(demo):
    assert Deployment.objects.count() == SIZES["demo"]["deployments"]
    assert set(Deployment.objects.values_list("outcome", flat=True)) == set(DeploymentOutcome.values)
    assert Deployment.objects.exclude(release=None).count() > 1000
    latest = {}
    rows = Deployment.objects.filter(outcome=DeploymentOutcome.SUCCEEDED).values_list(
        "environment_id", "system_id", "version", "deployed_at"
    )
    for environment_id, system_id, version, deployed_at in rows.order_by("deployed_at", "pk"):
        latest[(environment_id, system_id)] = (version, deployed_at)
    components = EnvironmentComponent.objects.values_list("environment_id", "system_id", "version", "deployed_at")
    for environment_id, system_id, version, deployed_at in components:
        assert latest.get((environment_id, system_id), ("", None)) == (version, deployed_at)
    deployed = set(Deployment.objects.values_list("environment_id", "system_id").distinct())
    assert deployed == {(e, s) for e, s, version, _ in components if version}


def test_production_is_ahead_of_some_test_environments_and_behind_others(demo):
    versions = defaultdict(dict)
    for environment, kind, system, version in EnvironmentComponent.objects.values_list(
        "environment__name", "environment__environment_type", "system__name", "version"
    ):
        versions[system][(environment, kind)] = version
    behind = ahead = 0
    for by_environment in versions.values():
        production = {version for (_, kind), version in by_environment.items() if kind == "production"}
        for (_, kind), version in by_environment.items():
            if kind in ("sit", "uat") and production and version and version not in production:
                if "-rc." in version:
                    ahead += 1
                else:
                    behind += 1
    assert behind > 0 and ahead > 0


def test_nothing_is_deployed_to_or_booked_on_a_retired_environment_after_it_was_retired(demo):
    retired = Environment.objects.get(status=EnvironmentStatus.DECOMMISSIONED)
    assert not Deployment.objects.filter(environment=retired, deployed_at__gte=retired.status_since).exists()
    assert not retired.bookings.filter(ends_at__gt=retired.status_since, status__in=HOLDING).exists()
    building = Environment.objects.get(status=EnvironmentStatus.PROVISIONING)
    assert not Deployment.objects.filter(environment=building).exists()
    assert not building.bookings.filter(starts_at__lt=datetime.datetime.now(datetime.UTC)).exists()


# The catalogue


def a_cycle(edges: list[tuple[int, int]]) -> list[int] | None:
    """One dependency cycle (its first system repeated at the end), or None if the graph has none."""
    graph = adjacency(edges)
    for start in sorted(graph):
        for item in closure(graph, start):
            if start in graph.get(item.system, ()):
                return [*item.path, start]
    return None


@pytest.fixture
def demo_edges(demo) -> list[tuple[int, int]]:
    return list(SystemDependency.objects.values_list("source_id", "target_id"))


def test_the_demo_has_40_systems_each_owned_by_a_team_and_90_distinct_dependencies(demo_edges):
    assert (System.objects.count(), len(demo_edges)) == (40, 90)
    assert not System.objects.filter(owner_team__isnull=True).exists()
    assert System.objects.values("owner_team").distinct().count() > 1
    assert len(set(demo_edges)) == 90 and all(source != target for source, target in demo_edges)
    assert AuditEvent.objects.filter(event_type="system.created").count() == 40
    assert AuditEvent.objects.filter(event_type="system_dependency.created").count() == 90


def test_the_demo_dependencies_contain_a_cycle(demo_edges):
    cycle = a_cycle(demo_edges)
    assert cycle is not None, "the demo estate should have at least one dependency cycle"
    assert cycle[0] == cycle[-1] and len(cycle) >= 3
    assert all(step in set(demo_edges) for step in itertools.pairwise(cycle))


def test_a_cycle_is_found_only_where_there_is_one():
    assert a_cycle([(1, 2), (2, 3), (1, 3)]) is None
    assert a_cycle([(1, 2), (2, 3), (3, 2)]) == [2, 3, 2]
    assert a_cycle([(5, 1), (1, 2), (2, 3), (3, 1)]) == [1, 2, 3, 1]


# The organisation


def test_the_demo_has_calendars_departments_teams_and_people_linked_to_the_role_users(demo):
    counts = (Calendar.objects.count(), Department.objects.count(), Team.objects.count(), Person.objects.count())
    assert counts == (5, 6, 20, 120)
    linked = dict(Person.objects.filter(user__isnull=False).values_list("user__username", "full_name"))
    assert set(linked) == {role for role in Role.values if role != Role.ADMIN}
    assert linked[Role.RELEASE_MANAGER] == User.objects.get(username=Role.RELEASE_MANAGER).get_full_name()
    assert not Person.objects.filter(user__username=Role.ADMIN).exists()
    assert not Team.objects.filter(members=None).exists()
    assert AuditEvent.objects.filter(event_type="person.created").count() == 120
    assert Calendar.objects.get(country="GB", subdivision="ENG").closures.count() == 1


# The portfolio


def test_the_demo_has_a_portfolio_with_overspend_over_allocation_and_recurring_challenges(demo):
    assert Portfolio.objects.filter(parent=None).count() == 3
    assert Portfolio.objects.filter(parent__isnull=False).count() == 8
    assert (Initiative.objects.count(), Project.objects.count(), RegisterItem.objects.count()) == (12, 30, 80)
    assert not Initiative.objects.exclude(spend__isnull=False).exists()
    months = set(Spend.objects.values_list("month", flat=True))
    today = datetime.date.today()
    assert len(months) == 12
    assert not Spend.objects.filter(month__gt=today, actual__isnull=False).exists()
    assert Spend.objects.filter(actual__isnull=False).exists()
    viewer = User.objects.get(username="viewer")
    assert selectors.initiative_list(user=viewer, over_budget=True).count() >= 2
    assert Allocation.objects.values("team").distinct().count() >= 15
    over = selectors.over_allocated_teams(user=viewer, start=today, end=today + datetime.timedelta(weeks=12))
    assert 1 <= over["count"] <= 6
    summary = selectors.register_summary(items=selectors.register_list(user=viewer))
    assert summary["by_category"][0]["category"] == "environments" and summary["by_category"][0]["recurring"]
    assert any(tag["name"] == "test-data" and tag["recurring"] for tag in summary["by_tag"])
    assert AuditEvent.objects.filter(event_type="spend.recorded").count() == Spend.objects.count()
