"""The bookings API: wiring, permissions and the mapping of refusals to 4xx."""

import datetime

import pytest

from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.models import EnvironmentBooking
from launchdeck.environments.tests.factories import EnvironmentBookingFactory, EnvironmentFactory, at
from launchdeck.releases.tests.factories import PhaseFactory

pytestmark = pytest.mark.django_db


def window(environment, start=0, days=5, **extra):
    return {
        "environment_id": environment.pk,
        "starts_at": at(start).isoformat(),
        "ends_at": at(start + days).isoformat(),
        **extra,
    }


def test_a_booking_is_requested_and_read_back(api_as, project_manager):
    environment = EnvironmentFactory(name="SIT API")
    phase = PhaseFactory()
    client = api_as(project_manager)
    response = client.post("/bookings", window(environment, phase_id=phase.pk, purpose="SIT"))
    assert response.status_code == 201, response.json()
    [made] = response.json()
    assert made["environment"] == "SIT API"
    assert made["status"] == "requested"
    assert made["requester"] == "project_manager"
    assert made["release_id"] == phase.release_id
    assert made["phase"] == phase.name
    got = client.get(f"/bookings/{made['id']}").json()
    assert got == made


def test_a_weekly_booking_answers_every_occurrence(api_as, project_manager):
    response = api_as(project_manager).post(
        "/bookings", window(EnvironmentFactory(), days=1, repeat="weekly", occurrences=3)
    )
    assert response.status_code == 201
    assert len(response.json()) == 3
    assert len({row["series"] for row in response.json()}) == 1


def test_a_clash_is_a_409_naming_the_booking(api_as, project_manager, unchanged):
    environment = EnvironmentFactory(name="SIT X")
    held = EnvironmentBookingFactory(environment=environment)
    client = api_as(project_manager)
    with unchanged():
        response = client.post("/bookings", window(environment, start=1))
    assert response.status_code == 409
    assert response.json()["detail"].startswith(
        f"SIT X is already booked for this window (capacity 1): it clashes with booking {held.pk}"
    )


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"starts_at": at(2).isoformat(), "ends_at": at(1).isoformat()}, "ends_at", "A booking ends after it starts."),
        ({"ends_at": at(0).isoformat()}, "ends_at", "A booking ends after it starts."),
        (
            {"ends_at": at(3652).isoformat()},
            "ends_at",
            "A booking lasts at most 366 days; this one lasts 3652 days. Book it in parts.",
        ),
    ],
)
def test_bad_windows_are_a_422_on_the_field(api_as, project_manager, unchanged, body, field, message):
    environment = EnvironmentFactory()
    client = api_as(project_manager)
    with unchanged():
        response = client.post("/bookings", {**window(environment), **body})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": field, "message": message}]


def test_a_decommissioned_environment_is_a_422(api_as, project_manager, unchanged):
    environment = EnvironmentFactory(name="Gone", status="decommissioned")
    client = api_as(project_manager)
    with unchanged():
        response = client.post("/bookings", window(environment))
    assert response.status_code == 422
    assert response.json()["detail"] == "Gone is decommissioned and cannot be booked."


def test_a_time_without_zone_and_an_unknown_environment_are_422(api_as, project_manager, unchanged):
    environment = EnvironmentFactory()
    client = api_as(project_manager)
    with unchanged():
        naive = client.post("/bookings", {**window(environment), "starts_at": "2026-03-02T09:00:00"})
        unknown = client.post("/bookings", {**window(environment), "environment_id": 999999})
    assert naive.status_code == 422
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "environment_id"


def test_a_viewer_may_read_but_not_book(api_as, viewer, unchanged):
    EnvironmentBookingFactory()
    client = api_as(viewer)
    environment = EnvironmentFactory()
    assert client.get("/bookings").json()["count"] == 1
    with unchanged():
        assert client.post("/bookings", window(environment)).status_code == 403


def test_the_list_filters(api_as, viewer):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, status=BookingStatus.APPROVED)
    EnvironmentBookingFactory()
    client = api_as(viewer)
    assert client.get("/bookings", {"environment": environment.pk}).json()["count"] == 1
    assert client.get("/bookings", {"status": "approved"}).json()["count"] == 1
    assert client.get("/bookings", {"start": at(10).isoformat()}).json()["count"] == 0
    assert client.get("/bookings", {"sort": "nonsense"}).status_code == 422


def test_the_life_of_a_booking_through_the_api(api_as, project_manager, environment_manager):
    planner, manager = api_as(project_manager), api_as(environment_manager)
    [booking] = planner.post("/bookings", window(EnvironmentFactory())).json()
    path = f"/bookings/{booking['id']}"
    assert planner.post(f"{path}/approve", {}).status_code == 403
    approved = manager.post(f"{path}/approve", {"note": "fine"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert planner.post(f"{path}/approve", {}).status_code == 403
    assert manager.post(f"{path}/approve", {}).status_code == 409
    assert planner.post(f"{path}/activate", {}).json()["status"] == "active"
    assert planner.post(f"{path}/release", {"version": 3}).json()["status"] == "released"


def test_approving_ones_own_booking_is_a_403_with_the_reason(api_as, environment_manager, unchanged):
    client = api_as(environment_manager)
    [booking] = client.post("/bookings", window(EnvironmentFactory())).json()
    with unchanged():
        response = client.post(f"/bookings/{booking['id']}/approve", {})
    assert response.status_code == 403
    assert response.json()["detail"] == "You requested this booking: another environment manager must approve it."


def test_a_rejection_without_a_note_is_a_422(api_as, environment_manager, unchanged):
    booking = EnvironmentBookingFactory()
    client = api_as(environment_manager)
    with unchanged():
        response = client.post(f"/bookings/{booking.pk}/reject", {"note": ""})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "note", "message": "Say why the booking is rejected."}]


def test_a_patch_moves_the_booking_and_a_stale_one_is_a_409(api_as, project_manager):
    client = api_as(project_manager)
    [booking] = client.post("/bookings", window(EnvironmentFactory())).json()
    path = f"/bookings/{booking['id']}"
    moved = client.patch(path, {"version": 1, "starts_at": at(1).isoformat(), "ends_at": at(2).isoformat()})
    assert moved.status_code == 200
    assert moved.json()["starts_at"].startswith("2026-03-03T09:00")
    assert client.patch(path, {"version": 1, "purpose": "late"}).status_code == 409
    assert EnvironmentBooking.objects.get().purpose == ""


def test_the_conflict_report(api_as, viewer):
    environment = EnvironmentFactory()
    first = EnvironmentBookingFactory(environment=environment)
    second = EnvironmentBookingFactory(environment=environment, starts_at=at(1))
    client = api_as(viewer)
    response = client.get("/bookings/conflicts", {"start": at(-1).isoformat(), "end": at(10).isoformat()})
    assert response.status_code == 200
    assert {row["booking"]["id"] for row in response.json()} == {first.pk, second.pk}
    bad = client.get("/bookings/conflicts", {"start": at(1).isoformat(), "end": at(0).isoformat()})
    assert (bad.status_code, bad.json()["detail"]) == (422, "The end must be after the start.")
    long = client.get("/bookings/conflicts", {"start": at(0).isoformat(), "end": at(367).isoformat()})
    assert (long.status_code, long.json()["detail"]) == (422, "Show at most a year at a time.")


def test_the_next_free_slot(api_as, viewer):
    environment = EnvironmentFactory()
    EnvironmentBookingFactory(environment=environment, starts_at=at(0), ends_at=at(2))
    client = api_as(viewer)
    path = f"/environments/{environment.pk}/next-free-slot"
    response = client.get(path, {"duration_hours": 24, "earliest": at(0).isoformat()})
    assert response.status_code == 200
    body = response.json()
    assert datetime.datetime.fromisoformat(body["starts_at"]) == at(2)
    assert datetime.datetime.fromisoformat(body["ends_at"]) == at(3)
    assert client.get(path, {"duration_hours": 0.1}).status_code == 422
    assert client.get("/environments/999999/next-free-slot", {"duration_hours": 1}).status_code == 404


def test_the_next_free_slot_of_a_decommissioned_environment_says_so(api_as, viewer):
    environment = EnvironmentFactory(name="Old SIT", status="decommissioned")
    response = api_as(viewer).get(f"/environments/{environment.pk}/next-free-slot", {"duration_hours": 1})
    assert response.status_code == 422
    assert response.json()["detail"] == "Old SIT is decommissioned and cannot be booked."
