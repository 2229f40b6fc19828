"""The portfolio view, a team's load and the register summary through the API, on the enterprise preset.

Data: the enterprise preset (10 portfolios, 150 initiatives, 600 projects, ~3,900 spend rows, ~430 allocations,
2,000 register items, 250 teams). Measures GET /api/v1/portfolios/{root}/view for the largest top-level portfolio
(its whole subtree), GET /api/v1/teams/{id}/load for the most-allocated team, and GET /api/v1/register-items/summary.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import machine, measure, setup


def main() -> None:
    args = setup(__doc__.splitlines()[0])
    from django.db.models import Count
    from django.test import Client

    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.demo.generator import load_demo
    from launchdeck.org.models import Team
    from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, RegisterItem, Spend

    load_demo(preset="enterprise", seed=1)
    admin = User.objects.get(username="admin")
    client = Client(headers={"Authorization": f"Bearer {bearer_token_for(admin)}"})
    roots = Portfolio.objects.filter(parent=None)
    root = max(roots, key=lambda p: Initiative.objects.filter(portfolio__in=[p, *p.children.all()]).count())
    team = Team.objects.annotate(n=Count("allocations")).order_by("-n").first()
    print(
        f"data: {Portfolio.objects.count()} portfolios, {Initiative.objects.count()} initiatives, "
        f"{Spend.objects.count():,} spend rows, {Allocation.objects.count()} allocations, "
        f"{RegisterItem.objects.count():,} register items; {machine()}"
    )

    def get(path):
        def call():
            response = client.get(path)
            assert response.status_code == 200, response.content[:300]

        return call

    measure(f"portfolio view of {root.name}", get(f"/api/v1/portfolios/{root.pk}/view"), runs=args.runs)
    measure(f"team load of {team.name}", get(f"/api/v1/teams/{team.pk}/load"), runs=args.runs)
    measure("register summary", get("/api/v1/register-items/summary"), runs=args.runs)


if __name__ == "__main__":
    main()
