"""The freeze window pages: the list and its filters, the page with the next occurrences and the releases deploying
inside, and the forms, whose refusals (from the service) are shown on their fields and change nothing."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from launchdeck.accounts.roles import Role
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.portfolio.tests.factories import PortfolioFactory
from launchdeck.releases import selectors
from launchdeck.releases.choices import MilestoneKind
from launchdeck.releases.models import FreezeWindow
from launchdeck.releases.tests.factories import (
    FreezeWindowFactory,
    MilestoneFactory,
    ReleaseFactory,
    ReleaseSystemFactory,
    events_written,
    unchanged,
)

TODAY = datetime.date.today()


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def text(response) -> str:
    return response.content.decode()


def flat(response) -> str:
    return re.sub(r"\s+", " ", text(response))


def listed(response) -> list[str]:
    return re.findall(r'<a href="/releases/freezes/\d+/">([^<]+)</a>', text(response))


def field_error(response, message: str) -> bool:
    return f'<div class="invalid-feedback d-block">{message}</div>' in text(response)


@pytest.fixture
def payments(db):
    return PortfolioFactory(name="Payments")


@pytest.fixture
def windows(payments):
    """A year-end deployment freeze for everyone, a weekly change freeze for Payments, a past booking freeze for the
    Ledger system and an environments freeze for UAT and staging."""
    ledger = SystemFactory(name="Ledger")
    return {
        "year_end": FreezeWindowFactory(name="Year-end freeze", starts_on=days(20), ends_on=days(30)),
        "fridays": FreezeWindowFactory(
            name="Friday change freeze",
            category="change",
            scope="portfolios",
            portfolios=[payments],
            starts_on=days(1),
            ends_on=days(1),
            recurrence="weekly",
            recurs_until=days(60),
        ),
        "old": FreezeWindowFactory(
            name="Old booking freeze",
            category="booking",
            scope="systems",
            systems=[ledger],
            starts_on=days(-100),
            ends_on=days(-90),
        ),
        "environments": FreezeWindowFactory(
            name="Test estate freeze",
            scope="environments",
            environment_types=["uat", "staging"],
            starts_on=days(-2),
            ends_on=days(3),
        ),
    }


@pytest.fixture
def manager_client(client, release_manager):
    client.force_login(release_manager)
    return client


def form_data(**overrides) -> dict:
    data = {
        "name": "Easter freeze",
        "category": "deployment",
        "scope": "organisation",
        "starts_on": "2027-03-26",
        "ends_on": "2027-03-29",
        "recurrence": "none",
        "recurs_until": "",
        "reason": "Skeleton staff",
    }
    return {**data, **overrides}


# The list


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RELEASE_MANAGER, Role.ENVIRONMENT_MANAGER])
def test_the_freeze_list_says_what_each_covers_and_when(client, make_user, windows, role):
    client.force_login(make_user(role))
    response = client.get("/releases/freezes/")
    page = flat(response)
    assert response.status_code == 200
    assert listed(response) == ["Old booking freeze", "Test estate freeze", "Friday change freeze", "Year-end freeze"]
    assert "Portfolios: Payments" in page and "Systems: Ledger" in page and "Whole organisation" in page
    assert "Environments: Staging, UAT" in page
    assert f"Every week until {days(60):%-d %b %Y}" in page and "One-off" in page
    assert f"{days(20):%-d %b %Y} to {days(30):%-d %b %Y}" in page
    assert "in force</span> to" in page  # the environments freeze holds today
    assert ('href="/releases/freezes/new/"' in page) == (role != Role.VIEWER)


def test_the_freeze_list_filters_by_category_scope_and_time(manager_client, windows):
    assert listed(manager_client.get("/releases/freezes/", {"category": "change"})) == ["Friday change freeze"]
    assert listed(manager_client.get("/releases/freezes/", {"scope": "systems"})) == ["Old booking freeze"]
    assert listed(manager_client.get("/releases/freezes/", {"when": "past"})) == ["Old booking freeze"]
    assert listed(manager_client.get("/releases/freezes/", {"when": "upcoming"})) == [
        "Test estate freeze",
        "Friday change freeze",
        "Year-end freeze",
    ]
    response = manager_client.get("/releases/freezes/", {"q": "year"}, headers={"HX-Request": "true"})
    assert text(response).startswith('<div id="object-table">') and listed(response) == ["Year-end freeze"]


def test_a_recurring_freeze_whose_last_occurrence_is_over_is_past(manager_client, db):
    FreezeWindowFactory(
        name="Old Mondays", starts_on=days(-60), ends_on=days(-60), recurrence="weekly", recurs_until=days(-20)
    )
    assert listed(manager_client.get("/releases/freezes/", {"when": "past"})) == ["Old Mondays"]
    assert listed(manager_client.get("/releases/freezes/", {"when": "upcoming"})) == []


def test_the_freeze_list_takes_a_fixed_number_of_queries(manager_client, windows, payments):
    manager_client.get("/releases/freezes/")
    with CaptureQueriesContext(connection) as few:
        manager_client.get("/releases/freezes/")
    for index in range(6):
        FreezeWindowFactory(scope="portfolios", portfolios=[payments, PortfolioFactory()], starts_on=days(index))
        FreezeWindowFactory(scope="systems", systems=SystemFactory.create_batch(2), starts_on=days(index))
    with CaptureQueriesContext(connection) as many:
        manager_client.get("/releases/freezes/")
    assert len(many) == len(few)


# The freeze's page


def test_the_freeze_page_lists_the_next_occurrences(manager_client, windows):
    response = manager_client.get(f"/releases/freezes/{windows['fridays'].pk}/")
    page = flat(response)
    assert response.status_code == 200
    table = re.search(r'data-testid="freeze-occurrences">.*?</table>', page).group(0)
    starts = re.findall(r'<td class="ps-3 text-nowrap">([^<]+)</td>', table)
    assert starts == [f"{days(1 + 7 * week):%a %-d %b %Y}" for week in range(9)]
    assert "Only deployment freezes flag releases' deploy milestones; this one freezes changes." in page
    assert f"/audit/history/releases.freezewindow/{windows['fridays'].pk}/" in page


def test_the_freeze_page_lists_the_releases_deploying_inside_it(client, viewer, windows, payments):
    inside = ReleaseFactory(name="Payments 4.2", planned_start=days(-10), planned_end=days(40))
    MilestoneFactory(release=inside, name="Go live", kind=MilestoneKind.DEPLOY, planned_date=days(25))
    MilestoneFactory(release=inside, name="Code freeze", kind=MilestoneKind.CODE_FREEZE, planned_date=days(22))
    later = ReleaseFactory(name="Ledger 2", planned_start=days(-10), planned_end=days(60))
    MilestoneFactory(release=later, name="Deploy", kind=MilestoneKind.DEPLOY, planned_date=days(45))
    client.force_login(viewer)
    response = client.get(f"/releases/freezes/{windows['year_end'].pk}/")
    table = re.search(r'data-testid="freeze-affected">.*?</table>', flat(response)).group(0)
    assert "Payments 4.2" in table and "Go live" in table and f"{days(25):%a %-d %b %Y}" in table
    assert "Code freeze" not in table and "Ledger 2" not in table
    health = selectors.release_health_map(user=viewer, release_ids=[inside.pk])[inside.pk]
    assert f"{health.status.capitalize()} · {health.score}" in table


def test_a_portfolio_or_system_freeze_lists_only_the_releases_it_covers(manager_client, payments):
    window = FreezeWindowFactory(name="Payments freeze", scope="portfolios", portfolios=[payments], starts_on=days(5))
    ours = ReleaseFactory(name="Ours", portfolio=payments, planned_start=days(-5), planned_end=days(90))
    theirs = ReleaseFactory(name="Theirs", planned_start=days(-5), planned_end=days(90))
    for release in (ours, theirs):
        MilestoneFactory(release=release, kind=MilestoneKind.DEPLOY, planned_date=days(6))
    table = re.search(r'data-testid="freeze-affected">.*?</table>', flat(manager_client.get(window.get_absolute_url())))
    assert "Ours" in table.group(0) and "Theirs" not in table.group(0)

    ledger = SystemFactory(name="Ledger")
    window = FreezeWindowFactory(name="Ledger freeze", scope="systems", systems=[ledger], starts_on=days(5))
    ReleaseSystemFactory(release=theirs, system=ledger)
    table = re.search(r'data-testid="freeze-affected">.*?</table>', flat(manager_client.get(window.get_absolute_url())))
    assert "Theirs" in table.group(0) and "Ours" not in table.group(0)


def test_an_environments_freeze_says_it_governs_bookings(manager_client, windows):
    page = flat(manager_client.get(f"/releases/freezes/{windows['environments'].pk}/"))
    assert "governs bookings of those environments" in page and "in force now" in page


# Create, edit, delete


def test_a_release_manager_creates_edits_and_deletes_a_freeze(manager_client, payments):
    with events_written() as written:
        response = manager_client.post(
            "/releases/freezes/new/",
            form_data(scope="portfolios", portfolios=[payments.pk], recurrence="yearly", recurs_until="2030-03-26"),
        )
    window = FreezeWindow.objects.get(name="Easter freeze")
    assert response.status_code == 302 and response["Location"] == f"/releases/freezes/{window.pk}/"
    assert written.types == ["freezewindow.created"] and written.event.source == "web"
    assert list(window.portfolios.all()) == [payments] and window.recurs_until == datetime.date(2030, 3, 26)

    form = text(manager_client.get(f"/releases/freezes/{window.pk}/edit/"))
    assert f'<option value="{payments.pk}" selected>Payments</option>' in form
    with events_written() as written:
        response = manager_client.post(f"/releases/freezes/{window.pk}/edit/", form_data(version=window.version))
    assert response.status_code == 302 and written.types == ["freezewindow.updated"]
    window.refresh_from_db()
    assert (window.scope, window.recurrence, window.recurs_until) == ("organisation", "none", None)
    assert not window.portfolios.exists()

    with events_written() as written:
        response = manager_client.post(f"/releases/freezes/{window.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/releases/freezes/"
    assert written.types == ["freezewindow.deleted"] and not FreezeWindow.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"ends_on": "2027-03-20"}, "ends_on", "The end date cannot be before the start date."),
        ({"recurrence": "yearly"}, "recurs_until", "Say until when the freeze recurs."),
        ({"scope": "portfolios"}, "portfolios", "Choose at least one portfolio for a portfolios freeze."),
        ({"scope": "systems"}, "systems", "Choose at least one system for a systems freeze."),
        (
            {"scope": "environments"},
            "environment_types",
            "Choose at least one environment type for an environments freeze.",
        ),
    ],
)
def test_bad_input_is_shown_on_its_field_and_changes_nothing(manager_client, db, changes, field, message):
    with unchanged():
        response = manager_client.post("/releases/freezes/new/", form_data(**changes))
    assert response.status_code == 422
    assert field_error(response, message), re.findall(r"invalid-feedback d-block\">([^<]+)", text(response))
    assert 'value="Easter freeze"' in text(response)


def test_a_bad_edit_is_shown_and_changes_nothing(manager_client, windows):
    window = windows["year_end"]
    with unchanged():
        response = manager_client.post(
            f"/releases/freezes/{window.pk}/edit/",
            form_data(version=window.version, starts_on="2027-01-10", ends_on="2027-01-01"),
        )
    assert response.status_code == 422 and field_error(response, "The end date cannot be before the start date.")


@pytest.mark.parametrize("role", [Role.ENVIRONMENT_MANAGER, Role.SERVICE_MANAGER])
def test_environment_and_service_managers_manage_freezes(client, make_user, db, role):
    client.force_login(make_user(role))
    with events_written() as written:
        response = client.post("/releases/freezes/new/", form_data(name=f"Freeze by {role}"))
    assert response.status_code == 302 and written.types == ["freezewindow.created"]
    window = FreezeWindow.objects.get()
    page = text(client.get(window.get_absolute_url()))
    assert f"/releases/freezes/{window.pk}/edit/" in page and f"/releases/freezes/{window.pk}/delete/" in page


@pytest.mark.parametrize("role", [Role.PROJECT_MANAGER, Role.VIEWER, Role.QUALITY_MANAGER])
def test_other_roles_may_not_create_change_or_delete_freezes(client, make_user, windows, role):
    client.force_login(make_user(role))
    window = windows["year_end"]
    with unchanged():
        assert client.get("/releases/freezes/new/").status_code == 403
        assert client.post("/releases/freezes/new/", form_data()).status_code == 403
        assert client.post(f"/releases/freezes/{window.pk}/edit/", form_data(version=1)).status_code == 403
        assert client.post(f"/releases/freezes/{window.pk}/delete/").status_code == 403
    page = text(client.get(window.get_absolute_url()))
    assert "/edit/" not in page and "/delete/" not in page
