"""The predictability page: released releases grouped by team, portfolio or quarter, a chart and a table of the
selector's figures, the definitions in a sentence, and bad filters refused with a message."""

import datetime
import json
import re

import pytest
from django.urls import reverse

from launchdeck.core.services import IMPLAUSIBLE_DATE_MESSAGE
from launchdeck.portfolio.tests.factories import PortfolioFactory, ProjectFactory
from launchdeck.releases.choices import ReleaseStatus
from launchdeck.releases.tests.factories import ReleaseFactory

D = datetime.date
URL = "/releases/predictability/"


def flat(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def table_rows(response) -> dict[str, str]:
    return dict(re.findall(r'<tr data-group="([^"]+)">(.*?)</tr>', flat(response)))


def chart(response) -> dict:
    return json.loads(
        re.search(r'<script id="predictability-chart" type="application/json">(.*?)</script>', flat(response)).group(1)
    )


@pytest.fixture
def history(db):
    """Payments' team: one release on time and one five working days late; Ledger's team: one two days early;
    one release without a project; a release still in progress (not counted)."""
    payments = ProjectFactory(owner_team__name="Payments team", initiative__portfolio=PortfolioFactory(name="Retail"))
    ledger = ProjectFactory(owner_team__name="Ledger team", initiative__portfolio=PortfolioFactory(name="Core"))

    def released(name, project, actual_end, **fields):
        return ReleaseFactory(
            name=name,
            project=project,
            status=ReleaseStatus.RELEASED,
            planned_start=D(2026, 1, 5),
            planned_end=D(2026, 3, 27),
            actual_start=D(2026, 1, 5),
            actual_end=actual_end,
            **fields,
        )

    released("On time", payments, D(2026, 3, 27))
    released("Late", payments, D(2026, 4, 3), baseline_end=D(2026, 3, 27))
    released("Early", ledger, D(2026, 3, 25))
    released("Orphan", None, D(2026, 7, 10))
    ReleaseFactory(name="Running", project=payments, status=ReleaseStatus.IN_PROGRESS)


def test_the_page_is_linked_from_the_planning_views_and_explains_its_figures(client, viewer, history):
    client.force_login(viewer)
    assert f'href="{URL}"' in flat(client.get(reverse("releases:timeline")))
    response = client.get(URL)
    assert response.status_code == 200
    page = flat(response)
    assert '<strong aria-current="page">Predictability</strong>' in page
    assert "on or before its baseline end" in page and "P85 slip" in page


def labels(rows: dict[str, str]) -> list[str]:
    return [re.search(r"<th[^>]*>(.*?)</th>", row).group(1) for row in rows.values()]


def test_by_team_each_group_has_its_share_and_slips_and_the_total_comes_last(client, viewer, history):
    client.force_login(viewer)
    response = client.get(URL)
    rows = table_rows(response)
    assert labels(rows) == ["Ledger team", "Payments team", "No team", "All releases"]
    assert list(rows)[-2:] == ["team:none", "all"]
    ledger, payments = list(rows.values())[:2]
    assert "50 %" in payments and "+2.5 working days" in payments and "text-danger" in payments
    assert "100 %" in ledger and "\N{MINUS SIGN}2 working days" in ledger
    assert "2 of 4 releases on time (50 %), by team" in flat(response)
    figure = chart(response)
    assert figure["categories"] == ["Ledger team", "Payments team", "No team"]  # the total is the table's footer
    assert figure["series"][0]["data"] == [100, 50, 0]
    assert [series.get("axis") for series in figure["series"]] == [None, 1, 1]


def test_by_portfolio_and_by_quarter(client, viewer, history):
    client.force_login(viewer)
    portfolios = table_rows(client.get(URL, {"group_by": "portfolio"}))
    assert labels(portfolios) == ["Core", "Retail", "No portfolio", "All releases"]
    quarters = table_rows(client.get(URL, {"group_by": "period"}))
    assert list(quarters) == ["2026-Q1", "2026-Q2", "2026-Q3", "all"]
    assert "2026 Q2" in quarters["2026-Q2"]


def test_a_date_range_counts_only_releases_that_ended_in_it(client, viewer, history):
    client.force_login(viewer)
    response = client.get(URL, {"group_by": "period", "start": "2026-04-01", "end": "2026-06-30"})
    assert list(table_rows(response)) == ["2026-Q2", "all"]
    assert 'value="2026-04-01"' in flat(response)  # the filters in effect are shown
    empty = flat(client.get(URL, {"start": "2030-01-01"}))
    assert 'data-testid="predictability-empty"' in empty and "predictability-chart" not in empty


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start": "2026-06-30", "end": "2026-04-01"}, "end", "cannot be before the start"),
        ({"group_by": "week"}, "group_by", "Select a valid choice"),
        ({"start": "not a date"}, "start", "Enter a valid date"),
        ({"start": "0202-01-01"}, "start", IMPLAUSIBLE_DATE_MESSAGE),
    ],
)
def test_bad_filters_are_refused_with_a_message(client, viewer, history, query, field, message):
    client.force_login(viewer)
    response = client.get(URL, query)
    assert response.status_code == 422
    assert field in response.context["form"].errors and message in response.context["form"].errors[field][0]
    page = flat(response)
    assert 'data-testid="predictability-invalid"' in page and "predictability-table" not in page
