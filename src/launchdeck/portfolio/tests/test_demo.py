"""The portfolio in the demo data: enough of everything, with the patterns the pages are there to show."""

import datetime

from launchdeck.accounts.models import User
from launchdeck.audit.models import AuditEvent
from launchdeck.demo.generator import load_demo
from launchdeck.portfolio import selectors
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, Spend


def test_the_demo_has_a_portfolio_with_overspend_over_allocation_and_recurring_challenges(db):
    load_demo(preset="demo", seed=1)
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
