"""The what-if of a train's slip through the API, on the enterprise preset.

Data: the enterprise preset (8,000 releases in ~510 trains of 5 to 15 children plus standalone and independent ones,
~48,000 phases, ~31,000 milestones, ~23,000 gates, ~2,900 schedule dependencies chaining trains of a portfolio two to
four at a time, ~2,000 schedule changes). Picks the first train (by id) that has 15 children, has not started its
SIT and is waited for by another release, and measures POST /api/v1/schedule/what-if shifting that SIT phase 10
working days later, as the release manager (bearer token); the issue's target is a median under 500 ms. Prints the
releases the change can reach, the queries one request makes, and what moves.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup

SHIFT_DAYS = 10
CHILDREN = 15


def pick_train():
    """The first train by id with 15 children, its SIT not started, that another release waits for."""
    from django.db.models import Count, Exists, OuterRef

    from launchdeck.releases.models import Phase, Release, ScheduleDependency

    waited_for = ScheduleDependency.objects.filter(predecessor_release=OuterRef("pk"))
    trains = (
        Release.objects.filter(kind="enterprise", status__in=["draft", "planned"])
        .annotate(children_count=Count("children"), waited_for=Exists(waited_for))
        .filter(children_count=CHILDREN, waited_for=True)
        .order_by("pk")
    )
    for train in trains:
        sit = Phase.objects.filter(release=train, kind="sit", actual_start=None).order_by("position").first()
        if sit is not None:
            return train, sit
    raise SystemExit(f"No open train with {CHILDREN} children and a SIT still ahead: is the enterprise preset loaded?")


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.demo.generator import load_demo
    from launchdeck.releases.models import Phase, Release, ScheduleChange, ScheduleDependency
    from launchdeck.releases.schedule import affected_release_ids

    load_demo(preset="enterprise", seed=1)
    manager = User.objects.get(username="release_manager")
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(manager)}"})
    train, sit = pick_train()
    reached = affected_release_ids({train.pk})
    print(
        f"data: {Release.objects.count():,} releases, {Phase.objects.count():,} phases, "
        f"{ScheduleDependency.objects.count():,} schedule dependencies, {ScheduleChange.objects.count():,} schedule "
        f"changes; {machine()}"
    )
    print(
        f"train: {train.name} (id {train.pk}, {CHILDREN} children), its SIT {sit.planned_start} to {sit.planned_end} "
        f"shifted {SHIFT_DAYS} working days; {len(reached)} releases within reach of the change"
    )
    body = {"changes": [{"item": f"phase:{sit.pk}", "shift_days": SHIFT_DAYS}]}

    def call():
        response = client.post("/api/v1/schedule/what-if", body, content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return response

    reset_queries()  # loading the preset filled the query log; count from empty
    with CaptureQueriesContext(connection) as queries:
        impact = call().json()
    summary = impact["summary"]
    print(
        f"POST /api/v1/schedule/what-if: {len(queries.captured_queries)} queries; {summary['items_moved']:,} items "
        f"moved in {summary['releases_moved']} releases ({summary['trains_moved']} trains), latest end "
        f"{summary['latest_end_shift_days']:+d} working days; {len(impact['postponed'])} deploys postponed past a "
        f"freeze, {len(impact['in_freeze'])} milestones in a freeze, {len(impact['violations'])} new violations"
    )
    measure(f"what-if: SIT of a train of {CHILDREN} shifted {SHIFT_DAYS} working days", call, runs=args.runs)
    # CPU time of this process per request (the request runs in it; PostgreSQL's own work is not counted): the
    # other work on the machine inflates it less than the wall time.
    cpu = []
    for _ in range(max(5, args.runs // 2)):
        started = time.process_time()
        call()
        cpu.append((time.process_time() - started) * 1000)
    print(f"{'  CPU time of this process per request':<48} median {statistics.median(cpu):>8.2f} ms")


if __name__ == "__main__":
    main()
