"""Bookings follow their phases through the schedule's what-if and apply; the gate check of approved bookings."""

import datetime

import pytest

from launchdeck.audit.models import AuditEvent
from launchdeck.environments.choices import BookingStatus
from launchdeck.environments.models import EnvironmentBooking
from launchdeck.environments.tests.factories import EnvironmentBookingFactory, EnvironmentFactory
from launchdeck.releases import checks, schedule
from launchdeck.releases import services as release_services
from launchdeck.releases.choices import FreezeCategory, PhaseKind
from launchdeck.releases.schedule import Change
from launchdeck.releases.tests.factories import FreezeWindowFactory, GateFactory, PhaseFactory, ReleaseFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 2, 16)


def moment(day: int, month: int = 3, hour: int = 9) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, tzinfo=datetime.UTC)


@pytest.fixture
def plan(db):
    """Payments 4.2 with SIT 23 March to 3 April; SIT books two environments, the second already taken on 30 March."""
    release = ReleaseFactory(name="Payments 4.2", planned_start=D(2026, 3, 2), planned_end=D(2026, 6, 26))
    PhaseFactory(release=release, name="Build", planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 13), position=1)
    sit = PhaseFactory(
        release=release,
        name="SIT",
        kind=PhaseKind.SIT,
        planned_start=D(2026, 3, 23),
        planned_end=D(2026, 4, 3),
        position=2,
    )
    free = EnvironmentFactory(name="SIT free")
    busy = EnvironmentFactory(name="SIT busy")
    fits = EnvironmentBookingFactory(
        environment=free, phase=sit, release=release, starts_at=moment(23), ends_at=moment(3, 4, 17)
    )
    stuck = EnvironmentBookingFactory(
        environment=busy, phase=sit, release=release, starts_at=moment(23), ends_at=moment(27, hour=17)
    )
    blocker = EnvironmentBookingFactory(environment=busy, starts_at=moment(30), ends_at=moment(1, 4))
    return {"release": release, "sit": sit, "fits": fits, "stuck": stuck, "blocker": blocker}


def later(plan, days=3):
    return [Change(key=f"phase:{plan['sit'].pk}", shift_days=days)]


def bookings_section(impact):
    [section] = [section for section in impact["impacts"] if section["key"] == "environment-bookings"]
    assert section["title"] == "Environment bookings"
    return section["items"]


def test_the_what_if_shows_each_booking_new_window_and_the_one_that_would_stop_fitting(plan, viewer):
    before = list(EnvironmentBooking.objects.order_by("pk").values())
    impact = schedule.what_if(user=viewer, changes=later(plan), today=TODAY)
    items = bookings_section(impact)
    fits, stuck = plan["fits"], plan["stuck"]
    assert items == [
        {
            "text": f"SIT free booking {fits.pk} for SIT: 23 Mar 2026 09:00 to 3 Apr 2026 17:00 → "
            "26 Mar 2026 09:00 to 8 Apr 2026 17:00.",
            "url": fits.get_absolute_url(),
            "severity": "info",
        },
        {
            "text": f"SIT busy booking {stuck.pk} for SIT: 23 Mar 2026 09:00 to 27 Mar 2026 17:00 → "
            f"26 Mar 2026 09:00 to 1 Apr 2026 17:00 — would stop fitting: It would clash with booking "
            f"{plan['blocker'].pk} (30 Mar 2026 09:00 to 1 Apr 2026 09:00, exclusive, requested). Applying leaves "
            "it where it is, and the conflict report shows it as outside its phase.",
            "url": stuck.get_absolute_url(),
            "severity": "error",
        },
    ]
    assert list(EnvironmentBooking.objects.order_by("pk").values()) == before


def test_a_booking_freeze_in_the_new_window_is_an_error_in_the_preview(plan, viewer):
    FreezeWindowFactory(name="Easter", category=FreezeCategory.BOOKING, starts_on=D(2026, 4, 6), ends_on=D(2026, 4, 6))
    items = bookings_section(schedule.what_if(user=viewer, changes=later(plan), today=TODAY))
    assert items[0]["severity"] == "error"
    assert (
        "would stop fitting: It would fall in the booking freeze Easter (2026-04-06 to 2026-04-06)." in items[0]["text"]
    )


def test_applying_moves_the_bookings_that_fit_and_leaves_the_others(plan, release_manager, viewer):
    release_services.schedule_apply(actor=release_manager, changes=later(plan), reason="Build overran", today=TODAY)
    fits, stuck = plan["fits"], plan["stuck"]
    fits.refresh_from_db()
    stuck.refresh_from_db()
    assert (fits.starts_at, fits.ends_at, fits.version) == (moment(26), moment(8, 4, 17), 2)
    assert (stuck.starts_at, stuck.ends_at, stuck.version) == (moment(23), moment(27, hour=17), 1)
    [event] = AuditEvent.objects.filter(event_type="booking.moved")
    assert event.object_id == str(fits.pk)
    assert event.reason == "Build overran"
    assert event.old_data == {"starts_at": moment(23).isoformat(), "ends_at": moment(3, 4, 17).isoformat()}
    from launchdeck.environments import selectors

    report = selectors.booking_conflict_report(user=viewer, start=moment(1), end=moment(30, 4))
    assert [(row["booking"].pk, row["reasons"]) for row in report] == [
        (stuck.pk, ["It no longer lies within its phase SIT (2026-03-26 to 2026-04-08)."])
    ]


def test_a_phase_move_that_stretches_a_booking_beyond_the_maximum_is_an_error_in_the_preview(plan, viewer):
    from launchdeck.environments.impact import preview_bookings
    from launchdeck.releases.schedule import ImpactContext

    EnvironmentBooking.objects.filter(pk=plan["stuck"].pk).update(status=BookingStatus.CANCELLED)
    sit = plan["sit"]
    longer = {sit.pk: (sit.planned_start, sit.planned_end, sit.planned_start, D(2027, 6, 30))}
    [item] = preview_bookings(ImpactContext(user=viewer, phases=longer, releases={}))
    assert item["severity"] == "error"
    assert "would stop fitting: A booking lasts at most 366 days; this one lasts 464 days." in item["text"]


def test_cancelled_bookings_of_a_moved_phase_stay_out_of_it(plan, viewer):
    EnvironmentBooking.objects.filter(pk=plan["fits"].pk).update(status=BookingStatus.CANCELLED)
    items = bookings_section(schedule.what_if(user=viewer, changes=later(plan), today=TODAY))
    assert [item["url"] for item in items] == [plan["stuck"].get_absolute_url()]


# The gate check


def test_the_gate_check_holds_when_every_live_booking_is_approved_or_active(db):
    release = ReleaseFactory()
    gate = GateFactory(release=release)
    assert checks.run_check("bookings-confirmed", gate).ok
    environment = EnvironmentFactory(name="UAT 1")
    EnvironmentBookingFactory(release=release, environment=environment, status=BookingStatus.APPROVED)
    EnvironmentBookingFactory(release=release, status=BookingStatus.CANCELLED)
    assert checks.run_check("bookings-confirmed", gate).ok
    EnvironmentBookingFactory(
        release=release, environment=environment, status=BookingStatus.REQUESTED, starts_at=moment(16)
    )
    result = checks.run_check("bookings-confirmed", gate)
    assert not result.ok
    assert result.detail == "1 booking is not approved yet: UAT 1 from 16 Mar 2026 09:00."
    assert checks.check_label("bookings-confirmed") == "All environment bookings approved"


# The plan of moves, booking by booking


def test_back_to_back_bookings_of_a_phase_move_together(db):
    from launchdeck.environments import selectors

    phase = PhaseFactory(planned_start=D(2026, 3, 23), planned_end=D(2026, 3, 31))
    environment = EnvironmentFactory()
    first = EnvironmentBookingFactory(environment=environment, phase=phase, starts_at=moment(23), ends_at=moment(25))
    second = EnvironmentBookingFactory(environment=environment, phase=phase, starts_at=moment(25), ends_at=moment(27))
    moves = {phase.pk: (D(2026, 3, 23), D(2026, 3, 31), D(2026, 3, 25), D(2026, 4, 2))}
    plan = {row["booking"].pk: row for row in selectors.booking_move_plan(moves)}
    assert plan[first.pk]["problem"] is None and plan[second.pk]["problem"] is None
    assert (plan[second.pk]["starts_at"], plan[second.pk]["ends_at"]) == (moment(27), moment(29))

    # Something in the way of the second: it stays, and so must the first, which would land on it.
    blocker = EnvironmentBookingFactory(environment=environment, starts_at=moment(28), ends_at=moment(30))
    plan = {row["booking"].pk: row for row in selectors.booking_move_plan(moves)}
    assert f"booking {blocker.pk}" in plan[second.pk]["problem"]
    assert f"booking {second.pk}" in plan[first.pk]["problem"]
