"""The enterprise preset at full scale: hundreds of people, and a schedule whose bulk-inserted dependencies and
history look exactly as the services would have written them.

The preset is loaded once for the module, inside a transaction rolled back at the end (each test still runs in its
own transaction inside it), so the tests after this module find the empty database they expect.
"""

import datetime
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.db.models import F, Q

from launchdeck.accounts.models import User
from launchdeck.demo.environments import SIZES
from launchdeck.demo.generator import load_demo
from launchdeck.demo.schedule import SLIP_REASONS
from launchdeck.environments import rules
from launchdeck.environments.choices import LIVE_BOOKING_STATUSES, BookingStatus
from launchdeck.environments.models import Deployment, Environment, EnvironmentBooking, EnvironmentGroup
from launchdeck.org.calendars import working_calendar
from launchdeck.releases import schedule
from launchdeck.releases.models import MAX_LAG_DAYS, Milestone, Phase, Release, ScheduleChange, ScheduleDependency
from launchdeck.scheduling import engine

# The release plan at full scale; the environments' bookings and deployments at a tenth and a fiftieth of it (the
# same code paths: the full volume, which takes minutes to write, is what the environment benchmarks load and count).
ENVIRONMENT_SIZES = {**SIZES["enterprise"], "bookings": 12_000, "requests": 150, "deployments": 20_000}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with (
        pytest.MonkeyPatch.context() as patch,
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        patch.setitem(SIZES, "enterprise", ENVIRONMENT_SIZES)
        result = load_demo(preset="enterprise", seed=1)
        plan = schedule.plan_for(Release.objects.values_list("pk", flat=True), blackouts=False)
        yield result, plan
        transaction.set_rollback(True)


@pytest.fixture
def enterprise(loaded, db):
    return loaded


def test_enterprise_preset_has_hundreds_of_people(enterprise):
    result, _ = enterprise
    assert result.created["users (colleagues)"] == 400
    assert User.objects.count() == 408


def test_thousands_of_dependencies_in_every_kind_in_the_shape_the_service_writes(enterprise):
    result, _ = enterprise
    dependencies = list(ScheduleDependency.objects.order_by("pk"))
    assert 2000 <= len(dependencies) <= 5000
    assert result.created["schedule dependencies"] == len(dependencies)
    assert set(Counter(dependency.kind for dependency in dependencies)) == {"FS", "SS", "FF", "SF"}
    phases = dict(Phase.objects.values_list("pk", "release_id"))
    milestones = dict(Milestone.objects.values_list("pk", "release_id"))
    shapes = Counter()
    for dependency in dependencies:
        ends = []
        for release_id, phase_id, milestone_id, key in (
            (
                dependency.predecessor_release_id,
                dependency.predecessor_phase_id,
                dependency.predecessor_milestone_id,
                dependency.predecessor_key,
            ),
            (
                dependency.successor_release_id,
                dependency.successor_phase_id,
                dependency.successor_milestone_id,
                dependency.successor_key,
            ),
        ):
            assert phase_id is None or milestone_id is None
            if phase_id is not None:
                assert (key, phases[phase_id]) == (f"phase:{phase_id}", release_id)
            elif milestone_id is not None:
                assert (key, milestones[milestone_id]) == (f"milestone:{milestone_id}", release_id)
            else:
                assert key == f"release:{release_id}"
            ends.append(key.split(":")[0])
        shapes[tuple(ends)] += 1
        assert dependency.predecessor_key != dependency.successor_key
        assert abs(dependency.lag_days) <= MAX_LAG_DAYS and dependency.note and dependency.version == 1
    assert {("release", "release"), ("phase", "phase"), ("milestone", "phase"), ("release", "phase")} <= set(shapes)
    assert len({(d.predecessor_key, d.successor_key) for d in dependencies}) == len(dependencies)


def test_dependencies_close_no_cycle_and_hold_on_the_plan_as_loaded(enterprise):
    _, plan = enterprise
    engine.check_acyclic(plan.labels, plan.dependencies)  # raises CycleError naming a cycle
    explicit = {
        schedule.dependency_end_keys(*row)
        for row in ScheduleDependency.objects.values_list("predecessor_key", "successor_key", "kind")
    }
    result = engine.propagate(plan.items, plan.dependencies, {})
    assert [v for v in result.violations if (v.dependency.predecessor, v.dependency.successor) in explicit] == []


def test_a_slip_of_one_train_reaches_a_bounded_number_of_releases(enterprise):
    trains = Release.objects.filter(kind="enterprise", status__in=["draft", "planned"]).order_by("pk")[:40]
    reach = [len(schedule.affected_release_ids({train.pk})) for train in trains]
    assert max(reach) <= 150
    assert sum(size > 16 for size in reach) >= len(reach) // 2  # most trains wait for, or are waited for by, others


def test_slipped_releases_have_a_history_from_their_baseline_to_their_plan(enterprise):
    result, _ = enterprise
    changes = list(ScheduleChange.objects.select_related("release__calendar", "actor").order_by("pk"))
    assert len(changes) > 1000 and result.created["schedule changes"] == len(changes)
    now = datetime.datetime.now(datetime.UTC)
    batches = defaultdict(list)
    for change in changes[:300]:
        release = change.release
        assert (change.old_start, change.old_end) == (release.baseline_start, release.baseline_end)
        assert (change.new_start, change.new_end) == (release.planned_start, release.planned_end)
        calendar = working_calendar(release.calendar)
        assert change.end_shift_days == calendar.working_days_between(change.old_end, change.new_end) > 0
        assert change.start_shift_days == 0 and change.items_moved > 0
        assert change.reason in SLIP_REASONS and change.cause
        assert change.occurred_at < now and change.actor_name == change.actor.display_name
        assert {"release_manager", "project_manager"} & set(change.actor.roles)
        batches[change.batch].append(release)
    for releases in batches.values():
        # one applied change: a release, or children of one train that inherit its dates (with the train, unless
        # it is still a draft)
        trains = {release.pk if release.kind == "enterprise" else release.train_id for release in releases}
        assert len(releases) == 1 or len(trains) == 1
    moved = Release.objects.exclude(baseline_end=None).filter(
        ~Q(planned_start=F("baseline_start")) | ~Q(planned_end=F("baseline_end"))
    )
    assert set(moved.values_list("pk", flat=True)) == {change.release_id for change in changes}


def test_finished_phases_have_actual_dates(enterprise):
    finished = Phase.objects.filter(release__status="released")
    assert not finished.filter(actual_start=None).exists() and not finished.filter(actual_end=None).exists()
    assert finished.exclude(actual_end=F("planned_end")).count() > finished.count() // 4


def test_six_hundred_environments_in_sixty_lanes_booked_within_capacity_but_the_deliberate_conflicts(enterprise):
    result, _ = enterprise
    assert Environment.objects.count() == 600
    assert EnvironmentGroup.objects.count() == 60
    assert EnvironmentBooking.objects.count() == ENVIRONMENT_SIZES["bookings"]
    # The sized pipeline traffic, and each release's own deployments on its deploy day on top.
    assert ENVIRONMENT_SIZES["deployments"] < Deployment.objects.count() == result.created["deployments"]
    held = defaultdict(list)
    holding = (*LIVE_BOOKING_STATUSES, BookingStatus.RELEASED)
    rows = EnvironmentBooking.objects.filter(status__in=holding).values_list(
        "pk", "environment_id", "environment__capacity", "starts_at", "ends_at", "usage"
    )
    capacity = {}
    for pk, environment_id, environment_capacity, starts_at, ends_at, usage in rows:
        held[environment_id].append(rules.Held(pk, starts_at, ends_at, usage))
        capacity[environment_id] = environment_capacity
    overbooked = set().union(*(rules.overbooked(capacity[key], bookings) for key, bookings in held.items()))
    assert len(overbooked) == 2 * ENVIRONMENT_SIZES["conflicts"]
