"""Release health rolled up over every release of the enterprise preset, and the time to load that preset.

Data: the enterprise preset (8,000 releases, ~3,700 of them open, with ~48,000 phases, ~31,000 milestones, ~23,000
gates and ~26,000 systems in scope; 10 portfolios, 150 initiatives). Times `load_demo(preset="enterprise")` once
(what `launchdeck demo --preset enterprise` runs), then measures as the portfolio manager: the roll-up of release
health for every portfolio node over all its open releases (`selectors.portfolio_release_health`; target median
under 300 ms), the health of all 8,000 releases (`selectors.release_health_map`), and the release-health section
of the portfolio view for all 150 initiatives (`selectors.initiative_release_health`), each with its query count.
"""

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from launchdeck.accounts.models import User
    from launchdeck.demo.generator import load_demo
    from launchdeck.portfolio.models import Initiative, Portfolio
    from launchdeck.releases import selectors
    from launchdeck.releases.models import Gate, Milestone, Phase, Release, ReleaseSystem

    started, cpu = time.perf_counter(), time.process_time()
    load_demo(preset="enterprise", seed=1)
    print(
        f"load_demo(preset='enterprise'): {time.perf_counter() - started:.1f} s "
        f"({time.process_time() - cpu:.1f} s of CPU in this process)"
    )
    user = User.objects.get(username="portfolio_manager")
    statuses = Counter(Release.objects.values_list("status", flat=True))
    initiatives = list(Initiative.objects.values_list("pk", flat=True))
    roots = list(Portfolio.objects.filter(parent=None).order_by("name").values_list("pk", flat=True))
    print(
        f"data: {Release.objects.count():,} releases ({', '.join(f'{n:,} {s}' for s, n in sorted(statuses.items()))}), "
        f"{Phase.objects.count():,} phases, {Milestone.objects.count():,} milestones, {Gate.objects.count():,} gates, "
        f"{ReleaseSystem.objects.count():,} systems in scope; {Portfolio.objects.count()} portfolios, "
        f"{len(initiatives)} initiatives; {machine()}"
    )

    cases = [
        (
            "portfolio roll-up (every portfolio, open releases)",
            lambda: selectors.portfolio_release_health(user=user),
            lambda result: (
                f"{len(result)} portfolios; top level: "
                + ", ".join(f"{result[pk]['total']:,} open ({result[pk]['red']} red)" for pk in roots)
            ),
        ),
        (
            "health of all 8,000 releases",
            lambda: selectors.release_health_map(user=user),
            lambda result: f"{len(result):,} releases: {dict(Counter(h.status for h in result.values()))}",
        ),
        (
            "portfolio view section (150 initiatives)",
            lambda: selectors.initiative_release_health(user=user, initiative_ids=initiatives),
            lambda result: f"{len(result['initiatives'])} initiatives, totals {result['totals']}",
        ),
    ]
    for label, call, describe in cases:
        reset_queries()  # loading the preset filled the query log; count from empty
        with CaptureQueriesContext(connection) as queries:
            result = call()
        try:
            summary = describe(result)
        except (KeyError, TypeError, AttributeError):
            summary = type(result).__name__
        print(f"{label}: {len(queries.captured_queries)} queries; {summary}")
        measure(label, call, runs=args.runs)


if __name__ == "__main__":
    main()
