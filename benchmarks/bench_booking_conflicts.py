"""The conflict check of a new booking with 120,000 bookings present.

Data: 600 environments (capacities 1 to 3) with 200 bookings each (120,000 in all, day-long windows over about 2.5
years, some cancelled), written with bulk_create. Measures `selectors.booking_conflicts` (the one indexed query plus
`rules.clashes`) for a window on a busy environment, and `services.booking_request` end to end (lock, freezes,
check, insert, audit) in a transaction rolled back after each call. Target: conflict check median under 5 ms.
"""

import datetime
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup

ENVIRONMENTS = 600
PER_ENVIRONMENT = 200


class _Rollback(Exception):
    pass


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db import transaction
    from django.utils import timezone

    from launchdeck.audit.context import audit_context
    from launchdeck.core.errors import Conflict
    from launchdeck.environments import selectors, services
    from launchdeck.environments.models import Environment, EnvironmentBooking
    from launchdeck.org.models import Department, Team

    rng = random.Random(1)
    team = Team.objects.create(name="Environments", department=Department.objects.create(name="IT"))
    now = timezone.now()
    Environment.objects.bulk_create(
        [
            Environment(
                name=f"Env {index:03d}",
                environment_type="sit",
                owner_team=team,
                capacity=1 + index % 3,
                status_since=now,
            )
            for index in range(ENVIRONMENTS)
        ],
        batch_size=1000,
    )
    start = datetime.datetime(2025, 1, 6, 9, tzinfo=datetime.UTC)
    rows = []
    for environment in Environment.objects.all():
        for number in range(PER_ENVIRONMENT):
            begins = start + datetime.timedelta(days=number * 4 + rng.randint(0, 1))
            rows.append(
                EnvironmentBooking(
                    environment=environment,
                    starts_at=begins,
                    ends_at=begins + datetime.timedelta(days=rng.randint(1, 3)),
                    usage="shared" if environment.capacity > 1 else "exclusive",
                    status="cancelled" if rng.random() < 0.1 else "approved",
                )
            )
    EnvironmentBooking.objects.bulk_create(rows, batch_size=5000)
    busy = Environment.objects.get(name="Env 301")
    window_start = start + datetime.timedelta(days=400, hours=3)
    window_end = window_start + datetime.timedelta(days=2)

    def check():
        selectors.booking_conflicts(environment=busy, starts_at=window_start, ends_at=window_end, usage="shared")

    def request():
        # The window may clash or fit: either way the check, the freezes and (when it fits) the insert and the audit
        # event run, and nothing stays.
        try:
            with audit_context("cli", operator="bench"), transaction.atomic():
                services.booking_request(
                    actor=None, environment=busy, starts_at=window_start, ends_at=window_end, usage="shared"
                )
                raise _Rollback
        except (_Rollback, Conflict):
            pass

    counts = f"{Environment.objects.count():,} environments, {EnvironmentBooking.objects.count():,} bookings"
    print(f"data: {counts}; {machine()}")
    measure("conflict check (booking_conflicts)", check, runs=args.runs)
    measure("booking_request end to end (rolled back)", request, runs=args.runs)


if __name__ == "__main__":
    main()
