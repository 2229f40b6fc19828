"""The consolidated release timeline for one quarter through the API, on the enterprise preset.

Data: the enterprise preset (8,000 releases in ~510 trains of 5 to 15 children plus standalone and independent ones,
~48,000 phases, ~31,000 milestones, ~23,000 gates, 4 freeze windows); about 1,500 releases overlap the current
quarter. Measures GET /api/v1/timeline for the current quarter as a release manager (bearer token), grouped by train
(the target: median under 200 ms, in a bounded number of queries), then by portfolio and by system; prints the
queries one request makes and how many releases, phases, milestones and gates it returns.
"""

import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup


def quarter_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    first = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    following = datetime.date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.demo.generator import load_demo
    from launchdeck.releases.models import Gate, Milestone, Phase, Release

    load_demo(preset="enterprise", seed=1)
    manager = User.objects.get(username="release_manager")
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(manager)}"})
    start, end = quarter_of(datetime.date.today())
    overlapping = Release.objects.filter(planned_start__lte=end, planned_end__gte=start).count()
    print(
        f"data: {Release.objects.count():,} releases ({overlapping:,} overlapping {start} to {end}), "
        f"{Phase.objects.count():,} phases, {Milestone.objects.count():,} milestones, {Gate.objects.count():,} gates; "
        f"{machine()}"
    )

    for group_by in ("train", "portfolio", "system"):
        path = f"/api/v1/timeline?start={start}&end={end}&group_by={group_by}"

        def call(path=path):
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]
            return response

        reset_queries()  # loading the preset filled the query log; count from empty
        with CaptureQueriesContext(connection) as queries:
            data = call().json()
        releases = data["releases"]
        print(
            f"GET {path}: {len(queries.captured_queries)} queries; {len(data['groups'])} groups, "
            f"{len(releases):,} releases, {sum(len(r['phases']) for r in releases):,} phases, "
            f"{sum(len(r['milestones']) for r in releases):,} milestones, {sum(len(r['gates']) for r in releases):,} "
            f"gates, {len(data['freezes'])} freezes"
        )
        measure(f"timeline of the quarter, grouped by {group_by}", call, runs=args.runs)


if __name__ == "__main__":
    main()
