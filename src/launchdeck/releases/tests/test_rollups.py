"""The release-health roll-ups: per initiative on the portfolio view, and over every release by portfolio node."""

from datetime import date, timedelta

import pytest

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.portfolio import rollups as portfolio_rollups
from launchdeck.portfolio.tests.factories import InitiativeFactory, PortfolioFactory, ProjectFactory
from launchdeck.releases import rollups, selectors
from launchdeck.releases.health import release_health
from launchdeck.releases.tests.factories import END, GateFactory, ReleaseFactory, ReleaseSystemFactory
from launchdeck.scheduling.calendar import STANDARD

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 15)


@pytest.fixture
def reader(viewer):
    viewer.roles  # noqa: B018 - load the roles now, so query counts measure the selector alone
    return viewer


@pytest.fixture
def nobody(make_user):
    return make_user(username="nobody")


def rated(name: str, score: int, **fields):
    """A release whose risk score is `score` (a multiple of 5 up to 90) whatever the day: rejected gates (15 each, up
    to 30), then working days of slip (up to 30), overridden gates (5 each, up to 15), tier-1 systems (3 each)."""
    rejected = min(2, score // 15)
    slip = min(30, score - 15 * rejected)
    overridden = min(3, (score - 15 * rejected - slip) // 5)
    tier_one = (score - 15 * rejected - slip - 5 * overridden) // 3
    baseline_end = END
    while STANDARD.working_days_between(baseline_end + timedelta(days=1), END + timedelta(days=1)) < slip:
        baseline_end -= timedelta(days=1)
    release = ReleaseFactory(
        name=name, status=fields.pop("status", "planned"), baseline_end=baseline_end if slip else None, **fields
    )
    for status, count in (("rejected", rejected), ("overridden", overridden)):
        for _ in range(count):
            GateFactory(release=release, status=status)
    for _ in range(tier_one):
        ReleaseSystemFactory(release=release, system=SystemFactory(tier=1))
    return release


@pytest.fixture
def estate():
    top = PortfolioFactory(name="Top")
    sub = PortfolioFactory(name="Sub", parent=top)
    deep = PortfolioFactory(name="Deep", parent=sub)
    other = PortfolioFactory(name="Other")
    growth = InitiativeFactory(name="Growth", portfolio=top)
    shop = InitiativeFactory(name="Shop", portfolio=deep)
    quiet = InitiativeFactory(name="Quiet", portfolio=top)
    project = ProjectFactory(initiative=growth)
    return {
        "top": top,
        "sub": sub,
        "deep": deep,
        "other": other,
        "growth": growth,
        "shop": shop,
        "quiet": quiet,
        "releases": [
            rated("Red one", 60, initiative=growth),
            rated("Amber one", 30, project=project),
            rated("Green one", 0, initiative=growth),
            rated("Shipped", 60, initiative=growth, status="released"),
            rated("Deep red", 75, initiative=shop),
            rated("Direct amber", 35, portfolio=sub),
            rated("Elsewhere", 90, portfolio=other),
        ],
    }


def test_the_initiative_roll_up_counts_open_releases_by_health_with_the_worst_first(reader, estate):
    ids = [estate["growth"].pk, estate["shop"].pk, estate["quiet"].pk]
    data = selectors.initiative_release_health(user=reader, initiative_ids=ids, today=TODAY)
    assert data["totals"] == {"green": 1, "amber": 1, "red": 2, "total": 4, "closed": 1}
    assert [(row["name"], row["score"], row["status"]) for row in data["worst"]] == [
        ("Deep red", 75, "red"),
        ("Red one", 60, "red"),
        ("Amber one", 30, "amber"),
    ]
    assert data["worst"][0]["url"] == f"/releases/{estate['releases'][4].pk}/"
    growth, shop = data["initiatives"]
    assert (growth["name"], growth["red"], growth["amber"], growth["green"], growth["closed"]) == ("Growth", 1, 1, 1, 1)
    assert [release["name"] for release in growth["worst"]] == ["Red one", "Amber one"]
    assert (shop["name"], shop["red"], shop["total"]) == ("Shop", 1, 1)
    assert growth["url"] == f"/portfolio/initiatives/{estate['growth'].pk}/"


def test_the_initiative_roll_up_has_nothing_to_say_without_releases_or_to_a_user_without_a_role(reader, nobody, estate):
    assert selectors.initiative_release_health(user=reader, initiative_ids=[estate["quiet"].pk]) is None
    assert selectors.initiative_release_health(user=reader, initiative_ids=[]) is None
    assert selectors.initiative_release_health(user=nobody, initiative_ids=[estate["growth"].pk]) is None


def test_the_initiative_roll_up_reads_any_number_of_releases_in_a_fixed_number_of_queries(
    reader, estate, django_assert_num_queries
):
    ids = [estate["growth"].pk, estate["shop"].pk]
    with django_assert_num_queries(7):
        selectors.initiative_release_health(user=reader, initiative_ids=ids, today=TODAY)
    for number in range(10):
        rated(f"More {number}", 45, initiative=estate["shop"])
    with django_assert_num_queries(7):
        data = selectors.initiative_release_health(user=reader, initiative_ids=ids, today=TODAY)
    assert data["totals"]["amber"] == 11


def test_the_portfolio_roll_up_counts_every_open_release_of_a_node_and_its_sub_portfolios(reader, estate):
    data = selectors.portfolio_release_health(user=reader, today=TODAY)
    top, sub, deep, other = (data[estate[key].pk] for key in ("top", "sub", "deep", "other"))
    assert {key: top[key] for key in ("green", "amber", "red", "total")} == {
        "green": 1,
        "amber": 2,
        "red": 2,
        "total": 5,
    }
    assert [release["name"] for release in top["worst"]] == [
        "Deep red",
        "Red one",
        "Direct amber",
        "Amber one",
    ]
    assert (sub["total"], sub["red"], sub["amber"]) == (2, 1, 1)
    assert (deep["total"], [release["name"] for release in deep["worst"]]) == (1, ["Deep red"])
    assert (other["red"], other["total"]) == (1, 1)
    only = selectors.portfolio_release_health(user=reader, portfolio_ids=[estate["sub"].pk], today=TODAY)
    assert list(only) == [estate["sub"].pk] and only[estate["sub"].pk]["total"] == 2


def test_the_portfolio_roll_up_reads_every_release_in_a_fixed_number_of_queries(
    reader, estate, django_assert_num_queries
):
    with django_assert_num_queries(7):
        selectors.portfolio_release_health(user=reader, today=TODAY)
    for number in range(10):
        rated(f"More {number}", 65, initiative=estate["shop"])
    with django_assert_num_queries(7):
        data = selectors.portfolio_release_health(user=reader, today=TODAY)
    assert data[estate["top"].pk]["red"] == 12


def test_the_portfolio_roll_up_is_empty_for_a_user_without_a_role(nobody, estate):
    assert selectors.portfolio_release_health(user=nobody) == {}


@pytest.mark.parametrize("score", [0, 30, 35, 45, 60, 65, 75, 90])
def test_rated_releases_have_the_score_asked_for(reader, score):
    release = rated("Measured", score)
    facts = selectors.release_health_facts([release.pk], today=TODAY)[release.pk]
    assert release_health(facts, today=TODAY).score == score


# On the portfolio view


@pytest.fixture
def registered():
    """The roll-up as the app registers it at start-up (another app's test may have replaced it since)."""
    rollups.register()
    yield
    rollups.register()


def test_the_app_registers_its_roll_up_with_the_portfolio_view(registered):
    [rollup] = [item for item in portfolio_rollups.registered_rollups() if item.key == "release_health"]
    assert (rollup.title, rollup.template) == ("Release health", "releases/partials/_release_health_rollup.html")
    assert rollup.function is rollups.release_health_rollup


def test_the_portfolio_view_shows_the_release_health_of_its_initiatives(client, reader, estate, registered):
    client.force_login(reader)
    response = client.get(f"/portfolio/portfolios/{estate['top'].pk}/view/", {"start": "2026-01", "end": "2026-12"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-rollup="release_health"' in page and 'data-testid="release-health-rollup"' in page
    assert 'data-health-count="red">2 red' in page and 'data-health-count="amber">1 amber' in page
    assert f'href="/releases/{estate["releases"][4].pk}/">Deep red</a>' in page
    assert "1 released or cancelled" in page
    assert f'href="/releases/reports/portfolio/{estate["top"].pk}/"' in page


def test_the_portfolio_view_has_no_release_health_section_without_releases(client, reader, registered):
    portfolio = PortfolioFactory(name="Empty")
    InitiativeFactory(portfolio=portfolio)
    client.force_login(reader)
    page = client.get(f"/portfolio/portfolios/{portfolio.pk}/view/").content.decode()
    assert 'data-rollup="release_health"' not in page
