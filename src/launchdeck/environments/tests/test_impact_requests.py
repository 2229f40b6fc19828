"""Environment requests follow the phases that need them: the schedule's what-if lists them, apply moves them."""

import datetime
from decimal import Decimal

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.environments.choices import RequestStatus
from launchdeck.environments.tests.factories import EnvironmentRequestFactory
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases import schedule
from launchdeck.releases import services as release_services
from launchdeck.releases.schedule import Change
from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory

D = datetime.date
TODAY = D(2026, 3, 4)


@pytest.fixture(autouse=True)
def today(today_is):
    return today_is(TODAY)


@pytest.fixture
def manager(make_user):
    return make_user(Role.RELEASE_MANAGER, username="rm")


@pytest.fixture
def ledger(db):
    """Ledger: Build 2-20 March, SIT 23 March to 3 April."""
    release = ReleaseFactory(name="Ledger", planned_start=D(2026, 3, 2), planned_end=D(2026, 4, 30))
    release.build = PhaseFactory(
        release=release, name="Build", position=1, planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 20)
    )
    release.sit = PhaseFactory(
        release=release, name="SIT", position=2, planned_start=D(2026, 3, 23), planned_end=D(2026, 4, 3)
    )
    return release


@pytest.fixture
def team(db):
    return TeamFactory(name="Env team", capacity_person_days_per_week=Decimal("5"))


def sit_request(ledger, team, **fields):
    """A 3-day SLA request due the Friday before SIT starts (Wednesday 18 to Friday 20 March)."""
    values = {
        "title": "Configure SIT",
        "team": team,
        "release": ledger,
        "phase": ledger.sit,
        "sla_days": 3,
        "effort_hours": Decimal("8"),
        "starts_on": D(2026, 3, 18),
        "due_on": D(2026, 3, 20),
    }
    return EnvironmentRequestFactory(**(values | fields))


def impacts(user, *changes) -> list[dict]:
    impact = schedule.what_if(user=user, changes=list(changes), today=TODAY)
    return [section for section in impact["impacts"] if section["key"] == "environment-requests"]


def shift(row, days: int) -> Change:
    return Change(key=f"phase:{row.pk}", shift_days=days)


def test_the_preview_lists_the_requests_of_a_moved_phase_with_their_new_dates(manager, ledger, team):
    request = sit_request(ledger, team)
    sit_request(ledger, team, title="Done already", status=RequestStatus.DONE)
    ((section,),) = [impacts(manager, shift(ledger.sit, 5))]
    assert section["title"] == "Environment requests"
    assert section["items"] == [
        {
            "text": "Configure SIT (Env team): due 20 Mar 2026 → 27 Mar 2026, work starts 25 Mar 2026.",
            "url": request.get_absolute_url(),
            "severity": "info",
        }
    ]


def test_a_new_start_already_past_is_an_error(manager, ledger, team, today_is):
    today_is(D(2026, 3, 16))
    sit_request(ledger, team, sla_days=10, starts_on=D(2026, 3, 9))
    (section,) = impacts(manager, shift(ledger.sit, 1))
    ((item,),) = [section["items"]]
    assert item["severity"] == "error"
    assert item["text"].endswith("— the new start 10 Mar 2026 is already past.")


def test_a_move_that_puts_the_team_over_capacity_is_an_error(manager, ledger, team):
    sit_request(ledger, team, effort_hours=Decimal("24"))
    # The team is busy the week after: moving SIT by a week piles both into week 13.
    EnvironmentRequestFactory(team=team, effort_hours=Decimal("32"), starts_on=D(2026, 3, 23), due_on=D(2026, 3, 27))
    (section,) = impacts(manager, shift(ledger.sit, 5))
    ((item,),) = [section["items"]]
    assert item["severity"] == "error"
    assert "Env team is over capacity in 2026-W13 (7.0 of 5.0 person-days)" in item["text"]


def test_a_move_of_another_phase_lists_nothing(manager, ledger, team):
    sit_request(ledger, team)
    other = PhaseFactory(planned_start=D(2026, 3, 2), planned_end=D(2026, 3, 13))
    assert impacts(manager, shift(other, 2)) == [
        {"key": "environment-requests", "title": "Environment requests", "items": []}
    ]


def test_applying_the_change_moves_the_requests_and_audits_it(manager, ledger, team, events):
    request = sit_request(ledger, team)
    untouched = sit_request(ledger, team, title="Cancelled", status=RequestStatus.CANCELLED)
    with events("release.rescheduled", "environmentrequest.moved") as recorded:
        release_services.schedule_apply(actor=manager, changes=[shift(ledger.sit, 5)], reason="Supplier late")
    request.refresh_from_db()
    untouched.refresh_from_db()
    assert (request.starts_on, request.due_on, request.version) == (D(2026, 3, 25), D(2026, 3, 27), 2)
    assert (untouched.starts_on, untouched.due_on) == (D(2026, 3, 18), D(2026, 3, 20))
    moved = recorded.events[1]
    assert moved.reason == "Supplier late"
    assert moved.old_data == {"starts_on": "2026-03-18", "due_on": "2026-03-20"}
    assert moved.new_data == {"starts_on": "2026-03-25", "due_on": "2026-03-27"}
