"""The environment schedule's data for 600 environments over one quarter, through the API.

Data: 600 environments in 12 groups (every type; capacities 1 to 3), each with 200 bookings one after another (1 to 4
days long, 0 to 2 days apart, so they never overlap: the capacity rule holds) from 2025-01-06 on, about two years:
120,000 bookings, of which about 15,000 overlap the quarter 2026-01-05 to 2026-04-05. A tenth are cancelled or
rejected, some requested, the past ones mostly released, the rest approved; a third belong to one of 40 releases (and
phases), the others carry a purpose. 12 deliberate conflicts (a requested booking on top of another on an exclusive
environment) in the quarter, and two booking freezes (one organisation-wide, one for SIT and UAT environments).
Written with bulk_create. As an environment manager (bearer token, through the whole stack: middleware, token
authentication, Ninja, the selector, the JSON answer), `GET /api/v1/environments/schedule?start=&end=` for that
quarter, grouped by group (the default). Target (issue 6): median under 300 ms. The client runs in the same process,
so the script also gives the CPU time of the process per call, which other work on the machine inflates less.
"""

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, setup

ENVIRONMENTS, PER_ENVIRONMENT, GROUPS, RELEASES = 600, 200, 12, 40
QUARTER = (datetime.date(2026, 1, 5), datetime.date(2026, 4, 5))
CONFLICTS = 12


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from launchdeck.accounts.roles import Role
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.accounts.tests.factories import UserFactory
    from launchdeck.environments.choices import EnvironmentType
    from launchdeck.environments.models import Environment, EnvironmentBooking, EnvironmentGroup
    from launchdeck.org.models import Department, Team
    from launchdeck.releases.models import FreezeWindow, Phase, Release

    rng = random.Random(7)
    team = Team.objects.create(name="Environments", department=Department.objects.create(name="IT"))
    now = timezone.now()
    groups = EnvironmentGroup.objects.bulk_create(EnvironmentGroup(name=f"Lane {n:02d}") for n in range(GROUPS))
    types = list(EnvironmentType.values)
    Environment.objects.bulk_create(
        [
            Environment(
                name=f"Env {index:03d}",
                environment_type=types[index % len(types)],
                group=groups[index % GROUPS],
                owner_team=team,
                capacity=1 + index % 3,
                status_since=now,
            )
            for index in range(ENVIRONMENTS)
        ],
        batch_size=1000,
    )
    releases = Release.objects.bulk_create(
        Release(name=f"Release {n:02d}", planned_start=QUARTER[0], planned_end=QUARTER[1]) for n in range(RELEASES)
    )
    phases = Phase.objects.bulk_create(
        Phase(
            release=release, name=f"SIT {n}", kind="sit", position=1, planned_start=QUARTER[0], planned_end=QUARTER[1]
        )
        for n, release in enumerate(releases)
    )
    start = datetime.datetime(2025, 1, 6, 9, tzinfo=datetime.UTC)
    quarter_start = datetime.datetime.combine(QUARTER[0], datetime.time.min, tzinfo=datetime.UTC)
    rows = []
    exclusive_in_quarter = []
    for environment in Environment.objects.order_by("pk"):
        usage = "exclusive" if environment.capacity == 1 else "shared"
        cursor = start + datetime.timedelta(hours=rng.randint(0, 48))
        for _ in range(PER_ENVIRONMENT):
            begins = cursor + datetime.timedelta(days=rng.randint(0, 2), hours=rng.choice((0, 0, 3)))
            ends = begins + datetime.timedelta(days=rng.randint(1, 4))
            cursor = ends
            draw = rng.random()
            if draw < 0.1:
                status = rng.choice(("cancelled", "rejected"))
            elif ends < now and draw < 0.8:
                status = "released"
            elif draw < 0.25:
                status = "requested"
            else:
                status = "approved"
            index = rng.randrange(3 * RELEASES)
            booking = EnvironmentBooking(
                environment=environment,
                starts_at=begins,
                ends_at=ends,
                usage=usage,
                status=status,
                release=releases[index] if index < RELEASES else None,
                phase=phases[index] if index < RELEASES else None,
                purpose="" if index < RELEASES else f"Regression run {index}",
            )
            rows.append(booking)
            if (
                usage == "exclusive"
                and status == "approved"
                and quarter_start < begins < quarter_start.replace(month=3)
            ):
                exclusive_in_quarter.append(booking)
    for booking in rng.sample(exclusive_in_quarter, CONFLICTS):  # deliberate conflicts, flagged on the schedule
        rows.append(
            EnvironmentBooking(
                environment=booking.environment,
                starts_at=booking.starts_at + datetime.timedelta(hours=2),
                ends_at=booking.ends_at,
                usage="exclusive",
                status="requested",
                purpose="Clashing request",
            )
        )
    EnvironmentBooking.objects.bulk_create(rows, batch_size=5000)
    FreezeWindow.objects.create(
        name="Year-end close",
        category="booking",
        starts_on=datetime.date(2026, 3, 28),
        ends_on=datetime.date(2026, 4, 2),
    )
    FreezeWindow.objects.create(
        name="Test estate upgrade",
        category="booking",
        scope="environments",
        environment_types=["sit", "uat"],
        starts_on=datetime.date(2026, 2, 9),
        ends_on=datetime.date(2026, 2, 13),
    )

    user = UserFactory(username="estate", roles=[Role.ENVIRONMENT_MANAGER])
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(user)}"})
    path = f"/api/v1/environments/schedule?start={QUARTER[0].isoformat()}&end={QUARTER[1].isoformat()}"

    def call():
        response = client.get(path)
        assert response.status_code == 200, response.content[:300]
        return response

    reset_queries()  # building the data filled the query log; count from empty
    with CaptureQueriesContext(connection) as queries:
        data = call().json()
    answer = (
        f"{len(data['environments'])} environments in {len(data['groups'])} groups, {len(data['bookings']):,} "
        f"bookings ({data['conflicts']} in conflict), {len(data['freezes'])} freezes, "
        f"{len(call().content) / 1e6:.1f} MB of JSON, {len(queries)} queries"
    )
    print(
        f"data: {Environment.objects.count():,} environments, {EnvironmentBooking.objects.count():,} bookings; "
        f"answer: {answer}; {machine()}"
    )
    for _ in range(5):  # warm-up
        call()
    wall, cpu = [], []
    for _ in range(args.runs):
        began, cpu_began = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - began) * 1000)
        cpu.append((time.process_time() - cpu_began) * 1000)
    wall.sort()
    print(
        f"{'GET /api/v1/environments/schedule (a quarter)':<48} median {statistics.median(wall):8.2f} ms   "
        f"p95 {wall[max(0, int(len(wall) * 0.95) - 1)]:8.2f} ms   CPU time median {statistics.median(cpu):8.2f} ms"
        f"   ({args.runs} runs)"
    )
    print(f"load average after the runs: {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
