"""An environment manager finds a double booking on the environment schedule, moves one of the two bookings to the
next free slot, approves it, and after a pipeline records a deployment with the CLI (against the server's API) finds
the new version in the version matrix, drifting from production."""

import datetime
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
LANE = "Payments lane"
SYSTEM = "Payments API"
RELEASE = "Horizon Payments 4.3"
NEW_VERSION = "4.3.0-rc.2"
PRODUCTION_VERSION = "4.2.1"


def next_monday(after: datetime.date, weeks: int) -> datetime.date:
    return after + datetime.timedelta(days=7 - after.weekday(), weeks=weeks)


def moment(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=datetime.UTC)


@pytest.fixture
def estate(role_users):
    """A lane of four environments (SIT, UAT, staging, production) running the Payments API; a release whose SIT
    phase has a requested booking of SIT 1; and two requested exclusive bookings that overlap on UAT 1 (made
    directly: the service would refuse the second)."""
    from launchdeck.audit.context import audit_context
    from launchdeck.catalog.tests.factories import SystemFactory
    from launchdeck.environments import services
    from launchdeck.environments.choices import EnvironmentCategory
    from launchdeck.environments.tests.factories import EnvironmentBookingFactory, EnvironmentComponentFactory
    from launchdeck.org.tests.factories import TeamFactory
    from launchdeck.releases.choices import EnvironmentType, PhaseKind, ReleaseStatus
    from launchdeck.releases.tests.factories import PhaseFactory, ReleaseFactory, ReleaseSystemFactory

    monday = next_monday(datetime.date.today(), weeks=1)
    requester = role_users["project_manager"]
    with audit_context("cli", operator="test-setup"):
        team = TeamFactory(name="Environment team")
        lane = services.environment_group_create(actor=None, name=LANE)
        environments = {
            name: services.environment_create(
                actor=None, name=name, environment_type=kind, category=category, owner_team=team, group=lane
            )
            for name, kind, category in (
                ("SIT 1", EnvironmentType.SIT, EnvironmentCategory.NON_PRODUCTION),
                ("UAT 1", EnvironmentType.UAT, EnvironmentCategory.NON_PRODUCTION),
                ("Staging", EnvironmentType.STAGING, EnvironmentCategory.NON_PRODUCTION),
                ("Payments production", EnvironmentType.PRODUCTION, EnvironmentCategory.PRODUCTION),
            )
        }
        system = SystemFactory(name=SYSTEM)
        deployed = moment(monday - datetime.timedelta(days=21), 9)
        for name, version in (
            ("SIT 1", "4.3.0-rc.1"),
            ("UAT 1", PRODUCTION_VERSION),
            ("Staging", PRODUCTION_VERSION),
            ("Payments production", PRODUCTION_VERSION),
        ):
            EnvironmentComponentFactory(
                environment=environments[name], system=system, version=version, deployed_at=deployed
            )
        release = ReleaseFactory(
            name=RELEASE,
            status=ReleaseStatus.PLANNED,
            planned_start=monday - datetime.timedelta(days=14),
            planned_end=monday + datetime.timedelta(days=60),
        )
        ReleaseSystemFactory(release=release, system=system, target_version="4.3.0")
        sit = PhaseFactory(
            release=release,
            name="SIT",
            kind=PhaseKind.SIT,
            environment_type=EnvironmentType.SIT,
            planned_start=monday,
            planned_end=monday + datetime.timedelta(days=11),
        )
        (phase_booking,) = services.booking_request(
            actor=requester,
            environment=environments["SIT 1"],
            starts_at=moment(monday, 8),
            ends_at=moment(monday + datetime.timedelta(days=11), 18),
            phase=sit,
            purpose="System integration test of 4.3",
        )
        # The double booking of UAT 1: Tuesday to Thursday, and Wednesday to Friday.
        first = EnvironmentBookingFactory(
            environment=environments["UAT 1"],
            starts_at=moment(monday + datetime.timedelta(days=8), 9),
            ends_at=moment(monday + datetime.timedelta(days=10), 17),
            requester=requester,
            purpose="Acceptance of the new fees screen",
        )
        second = EnvironmentBookingFactory(
            environment=environments["UAT 1"],
            starts_at=moment(monday + datetime.timedelta(days=9), 9),
            ends_at=moment(monday + datetime.timedelta(days=11), 17),
            requester=requester,
            purpose="Regression of the refunds flow",
        )
    return {
        "environments": environments,
        "system": system,
        "phase_booking": phase_booking,
        "first": first,
        "second": second,
    }


@pytest.fixture
def warm(live_server):
    """The live server's first answer imports every view; ask for a page once before the browser does, so a busy
    machine does not spend a page's time limit on it."""
    urllib.request.urlopen(f"{live_server.url}/accounts/login/", timeout=120).close()
    return live_server


def subnav(page):
    return page.get_by_role("list", name="Environment management")


def record_deployment_with_the_cli(server: str, token: str, *args: str) -> subprocess.CompletedProcess:
    """`launchdeck deployment record --server ... --token ...` in its own process, as a CI pipeline runs it.

    Its database setting points at an empty in-memory SQLite: in server mode it must write only through the API."""
    environment = {**os.environ, "LAUNCHDECK_DEBUG": "1", "LAUNCHDECK_DATABASE_URL": "sqlite:///:memory:"}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "launchdeck", "deployment", "record", "--server", server, "--token", token, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=180,
    )


@pytest.mark.browser
def test_environment_manager_resolves_a_double_booking_approves_it_and_checks_a_deployment(
    live_server, warm, estate, page, sign_in, screenshot_dir
):
    from launchdeck.accounts.models import User
    from launchdeck.accounts.testing import bearer_token_for
    from launchdeck.environments.choices import BookingStatus
    from launchdeck.environments.models import Deployment, EnvironmentBooking

    base = live_server.url
    monday = next_monday(datetime.date.today(), weeks=1)
    first, second = estate["first"], estate["second"]
    sign_in("environment_manager")

    # The schedule shows the lane and its environments; the two bookings of UAT 1 have the conflict's red border.
    page.goto(f"{base}/environments/")
    subnav(page).get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Environment schedule")
    schedule = page.get_by_test_id("environment-schedule")
    expect(schedule).to_have_attribute("data-ready", "true")
    expect(schedule.locator(".vis-label").filter(has_text=LANE)).to_be_visible()
    expect(schedule.locator(".vis-label").filter(has_text="UAT 1")).to_be_visible()
    conflicts = schedule.locator(".vis-item.es-booking.es-conflict")
    expect(conflicts).to_have_count(2)
    expect(conflicts.first.locator(".es-conflict-icon")).to_be_visible()
    expect(conflicts.filter(has_text="Acceptance of the new fees screen")).to_have_count(1)
    expect(conflicts.filter(has_text="Regression of the refunds flow")).to_have_count(1)
    # The phase-linked booking is on SIT 1, labelled with its release and phase, and fits.
    phase_bar = schedule.locator(".vis-item.es-booking").filter(has_text=f"{RELEASE} · SIT")
    expect(phase_bar).to_have_class(re.compile(r"\bes-status-requested\b"))
    expect(phase_bar).not_to_have_class(re.compile(r"\bes-conflict\b"))
    expect(page.get_by_test_id("schedule-conflicts")).to_contain_text("2 bookings do not fit beside the others")
    expect(page.get_by_test_id("schedule-legend").locator(".legend-swatch.es-conflict")).to_be_visible()
    expect(page.get_by_test_id("schedule-legend")).to_contain_text("Conflict: over capacity")
    page.screenshot(path=screenshot_dir / "environments-schedule-conflict.png", full_page=True)

    # Narrowed to the three weeks in question, the bars are wide enough to read.
    first_day, last_day = monday - datetime.timedelta(days=3), monday + datetime.timedelta(days=17)
    for label, day, summary in (
        ("From", first_day, f"between {first_day.day} {first_day:%b %Y} and "),
        ("To", last_day, f"between {first_day.day} {first_day:%b %Y} and {last_day.day} {last_day:%b %Y}"),
    ):
        # Each filter reloads the schedule as soon as it changes. The next one is filled once the new schedule is
        # drawn, which happens when htmx has settled the new form: until then htmx does not listen to its changes.
        with page.expect_response(lambda r: "/environments/schedule/" in r.url and r.status == 200):
            page.get_by_test_id("schedule-filters").get_by_label(label).fill(day.isoformat())
        expect(page.get_by_test_id("schedule-summary")).to_contain_text(summary)
        expect(page.get_by_test_id("environment-schedule")).to_have_attribute("data-ready", "true")
    schedule = page.get_by_test_id("environment-schedule")
    expect(schedule).to_have_attribute("data-ready", "true")
    expect(schedule.locator(".vis-item.es-booking.es-conflict")).to_have_count(2)
    page.screenshot(path=screenshot_dir / "environments-schedule-conflict-weeks.png", full_page=True)

    # The conflict report names both bookings; the manager opens the second one from it.
    page.get_by_test_id("schedule-conflicts").get_by_role("link", name="See the conflict report").click()
    report = page.get_by_test_id("booking-conflicts")
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report).to_contain_text("UAT 1")
    page.screenshot(path=screenshot_dir / "environments-conflict-report.png", full_page=True)
    report.locator("tbody tr").filter(has_text=f"{second.starts_at:%-d %b %Y %H:%M}").get_by_role(
        "link", name="UAT 1"
    ).click()
    expect(page).to_have_url(f"{base}/environments/bookings/{second.pk}/")
    expect(page.get_by_test_id("booking-status")).to_have_text("Requested")

    # Move it with "Next free slot": the form fills in a window of the same length that fits.
    page.get_by_role("link", name="Move or edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit booking of UAT 1")
    starts, ends = page.get_by_label("Starts"), page.get_by_label("Ends")
    expect(starts).to_have_value(f"{second.starts_at:%Y-%m-%dT%H:%M}")
    page.get_by_test_id("next-free-slot").click()
    expect(page.get_by_test_id("next-free-slot-message")).to_contain_text("UAT 1 is free from")
    expect(starts).not_to_have_value(f"{second.starts_at:%Y-%m-%dT%H:%M}")
    found_start = datetime.datetime.fromisoformat(starts.input_value()).replace(tzinfo=datetime.UTC)
    found_end = datetime.datetime.fromisoformat(ends.input_value()).replace(tzinfo=datetime.UTC)
    assert found_end - found_start == second.ends_at - second.starts_at
    assert found_start >= first.ends_at
    page.screenshot(path=screenshot_dir / "environments-next-free-slot.png", full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{base}/environments/bookings/{second.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("is saved")
    moved = EnvironmentBooking.objects.get(pk=second.pk)
    assert (moved.starts_at, moved.ends_at) == (found_start, found_end)

    # Approve it: another person requested it, so the environment manager may.
    actions = page.get_by_test_id("booking-actions")
    actions.get_by_label("Note for approve").fill("Moved after the fees acceptance")
    actions.get_by_role("button", name="Approve").click()
    expect(page.get_by_test_id("booking-status")).to_have_text("Approved")
    expect(page.locator(".alert-success")).to_contain_text("The booking is approved.")
    expect(page.locator("#tab-details")).to_contain_text("Moved after the fees acceptance")
    page.screenshot(path=screenshot_dir / "environments-booking-approved.png", full_page=True)
    moved.refresh_from_db()
    assert (moved.status, moved.decided_by.username) == (BookingStatus.APPROVED, "environment_manager")

    # Back on the schedule's three weeks nothing is in conflict any more.
    page.goto(f"{base}/environments/schedule/?start={first_day}&end={last_day}")
    schedule = page.get_by_test_id("environment-schedule")
    expect(schedule).to_have_attribute("data-ready", "true")
    expect(schedule.locator(".vis-item.es-booking.es-status-approved")).to_have_count(1)
    expect(schedule.locator(".vis-item.es-booking")).to_have_count(3)
    expect(schedule.locator(".vis-item.es-conflict")).to_have_count(0)
    expect(page.get_by_test_id("schedule-conflicts")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "environments-schedule-resolved.png", full_page=True)

    # A pipeline records the release candidate into UAT 1 through the API with the CLI.
    token = bearer_token_for(User.objects.get(username="service_manager"))
    done = record_deployment_with_the_cli(
        base,
        token,
        "--system",
        SYSTEM.lower(),
        "--environment",
        "uat 1",
        "--version",
        NEW_VERSION,
        "--release",
        RELEASE,
        "--external-id",
        "pipeline-run-4711",
    )
    assert done.returncode == 0, done.stderr
    deployment = Deployment.objects.get()
    assert f"Recorded deployment {deployment.pk}: {SYSTEM} {NEW_VERSION} to UAT 1" in done.stdout
    assert (deployment.recorded_by.username, deployment.release.name) == ("service_manager", RELEASE)

    # The version matrix shows it in UAT 1's cell, marked as drifting from production.
    subnav(page).get_by_role("link", name="Versions").click()
    matrix = page.get_by_test_id("version-matrix")
    headers = [text.strip().split("\n")[0].strip() for text in matrix.locator("thead th").all_inner_texts()]
    row = matrix.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=SYSTEM))
    cells = row.locator("th, td")
    expect(cells.nth(headers.index("Production"))).to_have_text(PRODUCTION_VERSION)
    uat = cells.nth(headers.index("UAT 1"))
    expect(uat).to_contain_text(NEW_VERSION)
    expect(uat).to_contain_text("≠ prod")
    expect(uat).to_have_attribute("data-drift", "production")
    for name in ("Staging", "Payments production"):
        expect(cells.nth(headers.index(name))).to_have_text(PRODUCTION_VERSION)
        expect(cells.nth(headers.index(name))).not_to_have_attribute("data-drift", re.compile(".*"))
    page.screenshot(path=screenshot_dir / "environments-version-matrix.png", full_page=True)

    # With the release chosen, the target column shows where the release has not landed yet.
    page.get_by_test_id("matrix-filters").get_by_label("Release").select_option(label=RELEASE)
    page.get_by_test_id("matrix-filters").get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("matrix-summary")).to_contain_text(f"from the targets of {RELEASE}")
    page.screenshot(path=screenshot_dir / "environments-version-matrix-release.png", full_page=True)
