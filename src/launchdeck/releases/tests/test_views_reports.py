"""The printable portfolio status report: the portfolio and its sub-portfolios, green / amber / red totals, and per
initiative its releases with status, dates, slip, next milestone, open gates and the health of the one rule."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory, ProjectFactory
from launchdeck.releases import selectors
from launchdeck.releases.choices import GateStatus, ReleaseStatus
from launchdeck.releases.tests.factories import GateFactory, MilestoneFactory, PhaseFactory, ReleaseFactory

TODAY = datetime.date.today()


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def text(response) -> str:
    return response.content.decode()


def flat(response) -> str:
    return re.sub(r"\s+", " ", text(response))


def rows(response) -> dict[int, dict]:
    """Each release row of the report: its health and score as shown, and the row's text."""
    found = {}
    for release_id, row in re.findall(r'<tr data-release="(\d+)">(.*?)</tr>', flat(response)):
        health = re.search(r'data-health="(\w+)" data-score="(\d+)">(\w+) · (\d+)</span>', row)
        found[int(release_id)] = {"health": health.group(1), "score": int(health.group(2)), "text": row}
    return found


@pytest.fixture
def estate(db):
    """Retail with the Online sub-portfolio: a late release with an overdue milestone and open gates, one through a
    project, one of the portfolio without an initiative, and a released one."""
    retail = PortfolioFactory(name="Retail")
    online = PortfolioFactory(name="Online", parent=retail)
    checkout = InitiativeFactory(name="Checkout revamp", portfolio=retail)
    app = InitiativeFactory(name="Mobile app", portfolio=online)
    late = ReleaseFactory(
        name="Checkout 2.0",
        status=ReleaseStatus.IN_PROGRESS,
        initiative=checkout,
        planned_start=days(-60),
        planned_end=days(30),
        baseline_start=days(-60),
        baseline_end=days(10),
    )
    PhaseFactory(release=late, planned_start=days(-60), planned_end=days(20), percent_complete=10)
    MilestoneFactory(release=late, name="Code freeze", planned_date=days(-5))
    MilestoneFactory(release=late, name="Go live", planned_date=days(25))
    GateFactory(release=late, name="UAT exit", due_date=days(-3))
    GateFactory(release=late, name="Go/no-go", due_date=days(25))
    GateFactory(release=late, name="Done", due_date=days(-30), status=GateStatus.PASSED)
    via_project = ReleaseFactory(
        name="App 3.1",
        status=ReleaseStatus.PLANNED,
        project=ProjectFactory(initiative=app, name="App rebuild"),
        planned_start=days(10),
        planned_end=days(70),
    )
    MilestoneFactory(release=via_project, name="Beta", planned_date=days(40))
    orphan = ReleaseFactory(name="Store hotfix", portfolio=retail, planned_start=days(-1), planned_end=days(5))
    shipped = ReleaseFactory(
        name="Checkout 1.9",
        status=ReleaseStatus.RELEASED,
        initiative=checkout,
        planned_start=days(-120),
        planned_end=days(-70),
        baseline_end=days(-75),
        actual_end=days(-70),
    )
    ReleaseFactory(name="Elsewhere", initiative=InitiativeFactory(name="Other initiative"))
    return {
        "retail": retail,
        "online": online,
        "late": late,
        "via_project": via_project,
        "orphan": orphan,
        "shipped": shipped,
    }


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE_MANAGER, Role.PORTFOLIO_MANAGER])
def test_the_report_shows_every_release_with_the_health_of_the_one_rule(client, make_user, estate, role):
    user = make_user(role)
    client.force_login(user)
    response = client.get(f"/releases/reports/portfolio/{estate['retail'].pk}/")
    assert response.status_code == 200
    shown = rows(response)
    expected = {estate[key].pk for key in ("late", "via_project", "orphan", "shipped")}
    assert set(shown) == expected
    health = selectors.release_health_map(user=user, release_ids=sorted(expected))
    assert {pk: (row["health"], row["score"]) for pk, row in shown.items()} == {
        pk: (health[pk].status, health[pk].score) for pk in expected
    }
    assert shown[estate["late"].pk]["score"] > 0


def test_the_report_groups_releases_by_initiative_with_dates_slip_milestone_and_gates(client, viewer, estate):
    client.force_login(viewer)
    response = client.get(f"/releases/reports/portfolio/{estate['retail'].pk}/")
    page = flat(response)
    shown = rows(response)
    late = shown[estate["late"].pk]["text"]
    assert "In progress" in late and f"{days(-60):%-d %b %Y} \N{EN DASH} {days(30):%-d %b %Y}" in late
    assert "+20 d" in late  # planned end 20 days after the baseline end
    assert "Code freeze" in late and "(overdue)" in late
    assert re.search(r'<td class="text-end pe-3">2</td>$', late)  # two gates still open
    assert "on baseline" not in late
    assert "—" in shown[estate["via_project"].pk]["text"]  # no baseline yet
    assert "Beta" in shown[estate["via_project"].pk]["text"]
    page = page[page.index('<div class="report-page-break">') :]  # the initiatives, after the summary
    # by portfolio (Online before Retail), then initiative
    assert page.index("Mobile app") < page.index("App 3.1") < page.index("Checkout revamp")
    assert page.index("Checkout revamp") < page.index("Checkout 2.0") < page.index("Releases without an initiative")
    assert page.index("Releases without an initiative") < page.index("Store hotfix")
    assert "Elsewhere" not in page and "Other initiative" not in page


def test_the_report_totals_open_releases_by_health_and_links_the_sub_portfolios(client, viewer, estate):
    client.force_login(viewer)
    response = client.get(f"/releases/reports/portfolio/{estate['retail'].pk}/")
    page = flat(response)
    health = selectors.release_health_map(
        user=viewer, release_ids=[estate[key].pk for key in ("late", "via_project", "orphan")]
    )
    for status in ("red", "amber", "green"):
        count = sum(1 for rated in health.values() if rated.status == status)
        assert f'data-health-count="{status}">{count}</div>' in page
    assert 'Released · cancelled</div><div class="stat">1 · 0</div>' in page
    assert f'href="/releases/reports/portfolio/{estate["online"].pk}/">Online</a>' in page
    assert "in this portfolio and 1 sub-portfolio" in page


def test_the_report_is_printable(client, viewer, estate):
    client.force_login(viewer)
    page = text(client.get(f"/releases/reports/portfolio/{estate['online'].pk}/"))
    assert 'onclick="window.print()"' in page and "@media print" in page
    assert "nav.navbar, .no-print" in page and "report-page-break" in page
    # the sub-portfolio's report: its breadcrumb leads back up to Retail's report
    assert f'href="/releases/reports/portfolio/{estate["retail"].pk}/">Retail</a>' in page
    assert "App 3.1" in page and "Checkout 2.0" not in page


def test_a_portfolio_without_initiatives_or_releases_says_so(client, viewer, db):
    client.force_login(viewer)
    empty = PortfolioFactory(name="Empty")
    page = flat(client.get(f"/releases/reports/portfolio/{empty.pk}/"))
    assert "No initiative in this portfolio." in page and "None: Empty has no sub-portfolios." in page


def test_an_unknown_portfolio_is_a_404(client, viewer, db):
    client.force_login(viewer)
    assert client.get("/releases/reports/portfolio/999999/").status_code == 404


def test_the_report_takes_a_fixed_number_of_queries(client, viewer, estate):
    client.force_login(viewer)
    path = f"/releases/reports/portfolio/{estate['retail'].pk}/"
    client.get(path)
    with CaptureQueriesContext(connection) as few:
        client.get(path)
    for index in range(5):
        initiative = InitiativeFactory(portfolio=estate["online"])
        release = ReleaseFactory(name=f"More {index}", initiative=initiative, baseline_end=days(1))
        MilestoneFactory(release=release, planned_date=days(-1))
        GateFactory(release=release, due_date=days(-1))
        PortfolioFactory(parent=estate["retail"])
    with CaptureQueriesContext(connection) as many:
        client.get(path)
    assert len(many) == len(few)
