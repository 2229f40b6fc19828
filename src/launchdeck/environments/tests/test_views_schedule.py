"""The schedule, utilisation and demand pages: what each embeds for its chart, how filters narrow it, that bad filters
come back as form messages, the link from a range selection to the booking form, and query counts."""

import datetime
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from launchdeck.environments import schedule_views
from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.tests.factories import (
    EnvironmentBookingFactory,
    EnvironmentFactory,
    EnvironmentGroupFactory,
    at,
)
from launchdeck.releases.choices import EnvironmentType, FreezeCategory, ReleaseStatus
from launchdeck.releases.tests.factories import FreezeWindowFactory, PhaseFactory, ReleaseFactory

TODAY = datetime.date(2026, 3, 4)


@pytest.fixture(autouse=True)
def today(today_is):
    """Every page sees Wednesday 4 March 2026 as today."""
    return today_is(TODAY)


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def text(response) -> str:
    return response.content.decode()


def embedded(response, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', text(response), re.S)
    assert match, f"no embedded data {element_id}"
    return json.loads(match.group(1))


@pytest.fixture
def estate(db):
    """Two lanes, three environments, two clashing bookings on one of them and a booking freeze."""
    payments, data = EnvironmentGroupFactory(name="Payments lane"), EnvironmentGroupFactory(name="Data lane")
    sit = EnvironmentFactory(name="SIT 1", group=payments, cost_per_day=Decimal("100"))
    uat = EnvironmentFactory(name="UAT 1", group=payments, environment_type=EnvironmentType.UAT)
    warehouse = EnvironmentFactory(name="Warehouse", group=data, environment_type=EnvironmentType.DEV)
    EnvironmentBookingFactory(environment=sit, starts_at=at(0), ends_at=at(3), status=BookingStatus.APPROVED)
    EnvironmentBookingFactory(environment=sit, starts_at=at(2), ends_at=at(4))
    EnvironmentBookingFactory(environment=uat, starts_at=at(7), ends_at=at(9), status=BookingStatus.APPROVED)
    FreezeWindowFactory(
        name="Quarter close",
        category=FreezeCategory.BOOKING,
        starts_on=datetime.date(2026, 3, 30),
        ends_on=datetime.date(2026, 3, 31),
    )
    return {"sit": sit, "uat": uat, "warehouse": warehouse, "payments": payments}


# The schedule


def test_the_schedule_embeds_a_quarter_with_its_conflicts_and_freezes(signed_in, estate):
    response = signed_in.get(reverse("environments:schedule"))

    assert response.status_code == 200
    data = embedded(response, "environment-schedule-data")
    assert (data["start"], data["end"], data["group_by"]) == ("2026-02-23", "2026-05-24", "group")
    assert [group["label"] for group in data["groups"]] == ["Data lane", "Payments lane"]
    assert [booking["conflict"] for booking in data["bookings"]] == [True, True, False]
    assert [freeze["name"] for freeze in data["freezes"]] == ["Quarter close"]
    page = text(response)
    assert 'data-testid="schedule-conflicts"' in page
    assert "2 bookings do not fit beside the others" in page
    assert 'aria-current="page"><i class="bi bi-calendar3-range"></i> Schedule' in page
    assert "environments/schedule.js" in page
    assert "vis-timeline-graph2d.min.js" in page


def test_the_schedule_moves_its_window_earlier_and_later_by_its_own_length(signed_in, estate):
    response = signed_in.get(reverse("environments:schedule"), {"start": "2026-03-02", "end": "2026-03-15"})
    page = text(response)
    assert "start=2026-02-16&amp;end=2026-03-01" in page
    assert "start=2026-03-16&amp;end=2026-03-29" in page


def test_the_schedule_filters_by_type_and_group(signed_in, estate):
    by_type = embedded(
        signed_in.get(reverse("environments:schedule"), {"environment_type": "uat"}), "environment-schedule-data"
    )
    assert [row["name"] for row in by_type["environments"]] == ["UAT 1"]
    by_group = embedded(
        signed_in.get(reverse("environments:schedule"), {"group": estate["payments"].pk, "group_by": "environment"}),
        "environment-schedule-data",
    )
    assert [row["name"] for row in by_group["environments"]] == ["SIT 1", "UAT 1"]
    assert by_group["groups"] == []


def test_an_htmx_request_gets_only_the_schedule_body(signed_in, estate):
    response = signed_in.get(reverse("environments:schedule"), headers={"HX-Request": "true"})
    page = text(response)
    assert 'id="environment-schedule-data"' in page
    assert "<html" not in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-03-10", "end": "2026-03-09"}, "The end must be after the start."),
        ({"start": "2026-01-01", "end": "2027-06-01"}, "Show at most a year at a time."),
        ({"start": "0202-01-01"}, "Enter a date between the years 1900 and 2999."),
        ({"start": "yesterday"}, "Enter a valid date."),
        ({"environment_type": "mainframe"}, "Select a valid choice. mainframe is not one of the available choices."),
    ],
)
def test_bad_schedule_filters_come_back_as_messages(signed_in, estate, params, message):
    response = signed_in.get(reverse("environments:schedule"), params)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert 'data-testid="schedule-invalid"' in page
    assert 'id="environment-schedule-data"' not in page


def test_someone_who_may_book_can_select_a_range_to_open_the_booking_form(client, project_manager, estate):
    client.force_login(project_manager)
    page = text(client.get(reverse("environments:schedule")))
    assert f'data-booking-url="{reverse("environments:booking_create")}"' in page
    assert 'data-time-zone="UTC"' in page
    assert "drag along its row" in page


def test_a_viewer_gets_no_range_selection(signed_in, estate):
    page = text(signed_in.get(reverse("environments:schedule")))
    assert "data-booking-url" not in page
    assert "drag along its row" not in page


def test_beyond_its_row_limit_the_schedule_keeps_the_busiest_rows_and_says_so(signed_in, estate, monkeypatch):
    monkeypatch.setattr(schedule_views, "SCHEDULE_ROWS", 1)
    response = signed_in.get(reverse("environments:schedule"))
    data = embedded(response, "environment-schedule-data")
    assert [row["name"] for row in data["environments"]] == ["SIT 1"]
    assert [group["label"] for group in data["groups"]] == ["Payments lane"]
    assert "2 more are left out" in text(response)


def test_the_schedule_page_reads_the_same_queries_for_more_environments(
    signed_in, estate, django_assert_max_num_queries
):
    def count() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert signed_in.get(reverse("environments:schedule")).status_code == 200
        return len(captured)

    few = count()
    for _ in range(10):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory())
        for day in range(0, 50, 7):
            EnvironmentBookingFactory(environment=environment, starts_at=at(day), ends_at=at(day + 5))
    assert count() == few


# Utilisation


def test_the_utilisation_page_draws_a_heat_map_and_lists_idle_environments(signed_in, estate):
    response = signed_in.get(reverse("environments:utilisation"), {"start": "2026-03-02", "end": "2026-03-15"})

    assert response.status_code == 200
    chart = embedded(response, "utilisation-data")
    assert chart["weeks"] == ["2026-W10", "2026-W11"]
    assert chart["environments"] == ["SIT 1", "UAT 1", "Warehouse"]
    assert chart["cells"][0] == [0, 0, 42.9, 3.0, 7.0]  # SIT 1's approved booking (the requested one is not use)
    page = text(response)
    assert 'data-testid="utilisation-idle"' in page
    idle = page.split('data-testid="utilisation-idle"')[1]
    assert "Warehouse" in idle and "SIT 1" not in idle
    assert "3,500.00" in idle  # 14 idle days at 250 a day
    assert 'aria-current="page"><i class="bi bi-speedometer2"></i> Utilisation' in page


def test_bad_utilisation_filters_come_back_as_messages(signed_in, estate):
    page = text(signed_in.get(reverse("environments:utilisation"), {"start": "2026-03-10", "end": "2026-03-01"}))
    assert "The end must be after the start." in page
    assert 'data-testid="utilisation-invalid"' in page


def test_the_utilisation_page_reads_the_same_queries_for_more_environments(
    signed_in, estate, django_assert_max_num_queries
):
    def count() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert signed_in.get(reverse("environments:utilisation")).status_code == 200
        return len(captured)

    few = count()
    for _ in range(10):
        environment = EnvironmentFactory(group=EnvironmentGroupFactory())
        EnvironmentBookingFactory(environment=environment, starts_at=at(-20), ends_at=at(-15), status="approved")
    assert count() == few


# Demand and supply


def test_the_demand_page_charts_each_type_and_lists_the_shortage_weeks(signed_in, estate):
    release = ReleaseFactory(name="Payments 7.2", status=ReleaseStatus.PLANNED)
    for _ in range(2):
        PhaseFactory(
            release=release,
            environment_type=EnvironmentType.UAT,
            planned_start=datetime.date(2026, 3, 16),
            planned_end=datetime.date(2026, 3, 20),
        )

    response = signed_in.get(reverse("environments:demand"), {"weeks": 13})

    assert response.status_code == 200
    chart = embedded(response, "demand-data")
    assert len(chart["weeks"]) == 13
    uat = next(kind for kind in chart["types"] if kind["type"] == "uat")
    assert (uat["supply"], uat["demand"][2], uat["shortage"][2], uat["color"]) == (1, 2, True, uat["color"])
    page = text(response)
    assert 'data-testid="demand-shortages"' in page
    assert "2026-W12" in page.split('data-testid="demand-shortages"')[1]
    assert "1 week with a shortage" in page
    assert 'aria-current="page"><i class="bi bi-graph-up"></i> Demand' in page


def test_bad_demand_filters_come_back_as_messages(signed_in, estate):
    page = text(signed_in.get(reverse("environments:demand"), {"weeks": "7", "start": "9999-01-01"}))
    assert "Select a valid choice. 7 is not one of the available choices." in page
    assert "Enter a date between the years 1900 and 2999." in page
    assert 'data-testid="demand-invalid"' in page


def test_the_demand_page_reads_the_same_queries_for_more_phases(signed_in, estate, django_assert_max_num_queries):
    def count() -> int:
        with django_assert_max_num_queries(20) as captured:
            assert signed_in.get(reverse("environments:demand")).status_code == 200
        return len(captured)

    few = count()
    for _ in range(10):
        PhaseFactory(release=ReleaseFactory(status=ReleaseStatus.PLANNED), environment_type=EnvironmentType.SIT)
    assert count() == few


def test_the_pages_need_a_signed_in_user(client, db):
    for name in ("environments:schedule", "environments:utilisation", "environments:demand"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"], name
