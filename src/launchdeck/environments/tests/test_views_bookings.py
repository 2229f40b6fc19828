"""The booking pages: wiring, permissions, forms that re-render with messages, next free slot, the fragment."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.models import EnvironmentBooking
from launchdeck.environments.tests.factories import EnvironmentBookingFactory, EnvironmentFactory, at

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 1)


@pytest.fixture(autouse=True)
def today(monkeypatch, today_is):
    today_is(TODAY)
    now = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    return TODAY


@pytest.fixture
def signed_in(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


def test_the_booking_list_filters_by_environment(signed_in, viewer):
    environment = EnvironmentFactory(name="SIT listed")
    EnvironmentBookingFactory(environment=environment)
    EnvironmentBookingFactory(environment=EnvironmentFactory(name="SIT other"))
    client = signed_in(viewer)
    page = client.get(reverse("environments:booking_list"))
    assert page.status_code == 200
    assert b"SIT listed" in page.content and b"SIT other" in page.content
    assert b"New booking" not in page.content
    filtered = client.get(
        reverse("environments:booking_list"), {"environment": environment.pk}, headers={"HX-Request": "true"}
    )
    assert b"SIT listed" in filtered.content and b"SIT other" not in filtered.content


def test_the_form_is_prefilled_from_the_schedule_selection(signed_in, project_manager):
    environment = EnvironmentFactory()
    page = signed_in(project_manager).get(
        reverse("environments:booking_create"),
        {"environment": environment.pk, "start": "2026-03-02T09:00:00+00:00", "end": "2026-03-04T17:00"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="2026-03-02T09:00"' in html
    assert 'value="2026-03-04T17:00"' in html
    assert f'<option value="{environment.pk}" selected>' in html
    assert "Next free slot" in html


def test_booking_through_the_form(signed_in, project_manager):
    environment = EnvironmentFactory()
    response = signed_in(project_manager).post(
        reverse("environments:booking_create"),
        {
            "environment": environment.pk,
            "starts_at": "2026-03-02T09:00",
            "ends_at": "2026-03-06T17:00",
            "usage": "exclusive",
            "repeat": "none",
            "occurrences": "1",
        },
    )
    booking = EnvironmentBooking.objects.get()
    assert response.status_code == 302
    assert response.url == booking.get_absolute_url()
    assert booking.requester == project_manager


def test_a_clash_re_renders_the_form_with_the_message(signed_in, project_manager, unchanged):
    environment = EnvironmentFactory(name="SIT full")
    EnvironmentBookingFactory(environment=environment)
    client = signed_in(project_manager)
    with unchanged():
        response = client.post(
            reverse("environments:booking_create"),
            {
                "environment": environment.pk,
                "starts_at": "2026-03-03T09:00",
                "ends_at": "2026-03-04T09:00",
                "usage": "exclusive",
            },
        )
    assert response.status_code == 422
    assert "SIT full is already booked for this window" in response.content.decode()


def test_a_ten_year_booking_re_renders_the_form_with_the_message(signed_in, project_manager, unchanged):
    environment = EnvironmentFactory()
    client = signed_in(project_manager)
    with unchanged():
        response = client.post(
            reverse("environments:booking_create"),
            {
                "environment": environment.pk,
                "starts_at": "2026-03-02T09:00",
                "ends_at": "2036-03-02T09:00",
                "usage": "shared",
            },
        )
    assert response.status_code == 422
    assert "A booking lasts at most 366 days" in response.content.decode()


def test_a_viewer_cannot_open_the_form(signed_in, viewer):
    assert signed_in(viewer).get(reverse("environments:booking_create")).status_code == 403


def test_next_free_slot_fills_the_dates(signed_in, project_manager):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    response = signed_in(project_manager).get(
        reverse("environments:booking_next_free_slot"),
        {
            "environment": environment.pk,
            "usage": "exclusive",
            "starts_at": "2026-03-02T09:00",
            "ends_at": "2026-03-03T09:00",
        },
    )
    html = response.content.decode()
    assert 'id="id_starts_at"' in html and 'value="2026-03-04T09:00"' in html
    assert 'value="2026-03-05T09:00"' in html
    assert "is free from 4 Mar 2026 09:00 to 5 Mar 2026 09:00" in html


def test_next_free_slot_without_an_environment_says_so(signed_in, project_manager):
    response = signed_in(project_manager).get(reverse("environments:booking_next_free_slot"), {"environment": "x"})
    assert "Choose an environment first." in response.content.decode()


def test_next_free_slot_of_a_decommissioned_environment_says_so(signed_in, project_manager):
    environment = EnvironmentFactory(name="Old SIT", status="decommissioned")
    response = signed_in(project_manager).get(
        reverse("environments:booking_next_free_slot"), {"environment": environment.pk, "usage": "exclusive"}
    )
    html = response.content.decode()
    assert "Old SIT is decommissioned and cannot be booked." in html
    assert "Nothing fits" not in html


def test_the_detail_offers_approval_to_a_manager_only(signed_in, project_manager, environment_manager):
    booking = EnvironmentBookingFactory(requester=project_manager)
    url = reverse("environments:booking_detail", args=[booking.pk])
    planner_page = signed_in(project_manager).get(url).content.decode()
    assert "Approve" not in planner_page and "Cancel the booking" in planner_page
    manager_page = signed_in(environment_manager).get(url).content.decode()
    assert "Approve" in manager_page and "Reject" in manager_page


def test_the_detail_does_not_offer_a_manager_approval_of_their_own_booking(signed_in, environment_manager):
    booking = EnvironmentBookingFactory(requester=environment_manager)
    page = signed_in(environment_manager).get(reverse("environments:booking_detail", args=[booking.pk]))
    assert "Approve" not in page.content.decode() and "Reject" in page.content.decode()


def test_approving_from_the_page(signed_in, project_manager, environment_manager):
    booking = EnvironmentBookingFactory(requester=project_manager)
    response = signed_in(environment_manager).post(reverse("environments:booking_approve", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.APPROVED


def test_a_refused_step_shows_the_reason_and_changes_nothing(signed_in, environment_manager, unchanged):
    booking = EnvironmentBookingFactory()
    client = signed_in(environment_manager)
    with unchanged():
        response = client.post(reverse("environments:booking_reject", args=[booking.pk]), {"note": ""}, follow=True)
    assert "Say why the booking is rejected." in response.content.decode()


def test_editing_moves_the_booking(signed_in, project_manager):
    booking = EnvironmentBookingFactory(requester=project_manager)
    response = signed_in(project_manager).post(
        reverse("environments:booking_edit", args=[booking.pk]),
        {"version": 1, "starts_at": "2026-03-03T09:00", "ends_at": "2026-03-04T09:00", "usage": "exclusive"},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(1)


def test_the_conflict_report_page(signed_in, viewer):
    environment = EnvironmentFactory(name="SIT double")
    EnvironmentBookingFactory(environment=environment)
    EnvironmentBookingFactory(environment=environment, starts_at=at(1))
    client = signed_in(viewer)
    page = client.get(reverse("environments:booking_conflicts"))
    assert page.status_code == 200
    assert page.content.decode().count("Overbooked") == 2
    backwards = client.get(reverse("environments:booking_conflicts"), {"start": "2026-03-10", "end": "2026-03-01"})
    assert backwards.status_code == 422 and "The end must be after the start." in backwards.content.decode()
    too_long = client.get(reverse("environments:booking_conflicts"), {"start": "2026-01-01", "end": "2027-01-02"})
    assert too_long.status_code == 422 and "Show at most a year at a time." in too_long.content.decode()


def test_the_environment_fragment_lists_live_bookings_from_today(signed_in, project_manager):
    environment = EnvironmentFactory(name="SIT panel")
    EnvironmentBookingFactory(environment=environment, purpose="kept")
    EnvironmentBookingFactory(environment=environment, status=BookingStatus.CANCELLED, starts_at=at(10), ends_at=at(11))
    page = signed_in(project_manager).get(reverse("environments:environment_bookings_panel", args=[environment.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Book it" in html
    assert html.count("<tr>") == 2  # the heading and one live booking
