"""Downstream closure of tier-1 systems through the API, on the enterprise preset.

Data: the enterprise preset (2,500 systems, 10,000 dependencies with some cycles). Measures
GET /api/v1/systems/{id}/closure?direction=downstream for the tier-1 system with the largest closure (the worst
case) and for a typical tier-1 system. Target: median under 50 ms.
"""

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.test import Client

    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.catalog.choices import Direction
    from launchdeck.catalog.models import System, SystemDependency
    from launchdeck.catalog.selectors import system_closure
    from launchdeck.demo.generator import load_demo

    load_demo(preset="enterprise", seed=1)
    admin = User.objects.get(username="admin")
    sizes = {
        system.pk: len(system_closure(user=admin, system=system, direction=Direction.DOWNSTREAM))
        for system in System.objects.filter(tier=1)
    }
    worst = max(sizes, key=sizes.get)
    typical = sorted(sizes, key=sizes.get)[len(sizes) // 2]
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(admin)}"})

    def closure_of(pk):
        def call():
            response = client.get(f"/api/v1/systems/{pk}/closure", {"direction": "downstream"})
            assert response.status_code == 200, response.content[:200]

        return call

    print(
        f"data: {System.objects.count():,} systems, {SystemDependency.objects.count():,} dependencies; "
        f"{len(sizes)} tier-1 systems, downstream closure sizes median {statistics.median(sizes.values()):.0f}, "
        f"max {sizes[worst]}; {machine()}"
    )
    measure(f"closure, largest tier-1 ({sizes[worst]} systems)", closure_of(worst), runs=args.runs)
    measure(f"closure, median tier-1 ({sizes[typical]} systems)", closure_of(typical), runs=args.runs)


if __name__ == "__main__":
    main()
