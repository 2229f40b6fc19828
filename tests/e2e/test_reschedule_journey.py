"""A release manager drags a train's SIT two weeks later on the timeline, reads what that would move (its project
releases, a deploy pushed past a deployment freeze), applies it with a reason, and finds the change in each moved
release's schedule history and in the audit trail."""

import datetime
import re
import urllib.request

import pytest
from playwright.sync_api import expect

TRAIN = "Horizon train"
PAYMENTS = "Horizon Payments 4.2"  # its SIT follows the train's; deploys the working day after its UAT
LEDGER = "Horizon Ledger 7.1"  # its SIT follows the train's
FREEZE = "Quarter-end deployment freeze"
REASON = "The SIT environment is handed over two weeks late"
SHIFT = datetime.timedelta(days=14)


def next_monday(after: datetime.date, weeks: int) -> datetime.date:
    return after + datetime.timedelta(days=7 - after.weekday(), weeks=weeks)


def shown(day: datetime.date) -> str:
    """A date as the preview writes it: Mon 13 Jul 2026."""
    return f"{day:%a} {day.day} {day:%b %Y}"


@pytest.fixture
def plan(transactional_db):
    """A train with Build, SIT and UAT; two project releases whose SIT follow the train's, each with its own UAT;
    Payments deploys the working day after its UAT; an organisation-wide deployment freeze starts a week after that
    deploy. Moving the SIT two weeks later pushes the deploy into the freeze, so it is postponed past it."""
    from launchdeck.accounts.roles import Role
    from launchdeck.accounts.tests.factories import UserFactory
    from launchdeck.releases.choices import MilestoneKind, PhaseKind, ReleaseStatus
    from launchdeck.releases.tests.factories import (
        FreezeWindowFactory,
        MilestoneFactory,
        PhaseFactory,
        ReleaseFactory,
        TrainFactory,
    )

    start = next_monday(datetime.date.today(), weeks=6)

    def day(offset: int) -> datetime.date:
        return start + datetime.timedelta(days=offset)

    manager = UserFactory(username="rachel", first_name="Rachel", last_name="Okafor", roles=[Role.RELEASE_MANAGER])
    train = TrainFactory(name=TRAIN, status=ReleaseStatus.PLANNED, planned_start=day(0), planned_end=day(116))
    PhaseFactory(
        release=train, name="Build", kind=PhaseKind.BUILD, position=1, planned_start=day(0), planned_end=day(25)
    )
    train_sit = PhaseFactory(
        release=train, name="SIT", kind=PhaseKind.SIT, position=2, planned_start=day(28), planned_end=day(53)
    )
    PhaseFactory(release=train, name="UAT", kind=PhaseKind.UAT, position=3, planned_start=day(56), planned_end=day(74))
    children = {}
    for name in (PAYMENTS, LEDGER):
        child = ReleaseFactory(
            name=name,
            train=train,
            inherits_train_dates=True,
            status=ReleaseStatus.PLANNED,
            planned_start=day(28),
            planned_end=day(109),
        )
        PhaseFactory(
            release=child,
            train_phase=train_sit,
            name="SIT",
            kind=PhaseKind.SIT,
            position=1,
            planned_start=day(28),
            planned_end=day(53),
        )
        uat = PhaseFactory(
            release=child, name="UAT", kind=PhaseKind.UAT, position=2, planned_start=day(56), planned_end=day(74)
        )
        children[name] = {"release": child, "uat": uat}
    deploy = MilestoneFactory(
        release=children[PAYMENTS]["release"],
        phase=children[PAYMENTS]["uat"],
        name="Deploy",
        kind=MilestoneKind.DEPLOY,
        planned_date=day(77),
    )
    FreezeWindowFactory(name=FREEZE, starts_on=day(84), ends_on=day(95))
    return {
        "manager": manager,
        "train": train,
        "train_sit": train_sit,
        "payments": children[PAYMENTS]["release"],
        "ledger": children[LEDGER]["release"],
        "deploy": deploy,
        "first_day": day(0),
        "after_freeze": day(98),
    }


def drag_by_days(page, item, days: int, *, length_days: int) -> None:
    """Drag a timeline item `days` later with the mouse: press on it, move, release.

    The scale comes from the item as drawn (its width spans `length_days` calendar days). vis-timeline starts a drag
    only once the pointer has moved a few pixels, and measures from there: the first small move starts it, the rest
    is the distance.
    """
    box = item.bounding_box()
    per_day = box["width"] / length_days
    x, y = box["x"] + min(24, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 10, y, steps=2)
    page.mouse.move(x + 10 + days * per_day, y, steps=15)
    page.mouse.up()


@pytest.fixture
def warm(live_server):
    """The live server's first answer imports every view and builds the API; on a busy machine that can take longer
    than a page may to load, so ask for a page once before the browser does."""
    urllib.request.urlopen(f"{live_server.url}/accounts/login/", timeout=120).close()
    return live_server


@pytest.mark.browser
def test_release_manager_drags_a_train_phase_previews_the_impact_and_applies_it(
    live_server, warm, plan, page, sign_in, screenshot_dir
):
    from launchdeck.accounts.tests.factories import PASSWORD
    from launchdeck.audit.models import AuditEvent
    from launchdeck.releases.models import Milestone, Phase, ScheduleChange

    base = live_server.url
    sit_start, sit_end = plan["train_sit"].planned_start, plan["train_sit"].planned_end
    new_start = sit_start + SHIFT
    sign_in("rachel", PASSWORD)

    # The timeline over the train's months, in Reschedule mode: clicking the train shows its phases under its row.
    first_day = plan["first_day"]
    period = f"?start={first_day - datetime.timedelta(days=14)}&end={first_day + datetime.timedelta(days=140)}"
    page.goto(f"{base}/releases/timeline/{period}")
    timeline = page.locator("#release-timeline")
    expect(timeline).to_have_attribute("data-ready", "true")
    toggle = page.get_by_role("button", name="Reschedule", exact=True)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    panel = page.get_by_test_id("schedule-panel")
    expect(panel).to_be_visible()
    timeline.locator(".vis-item.tl-release").filter(has_text=TRAIN).locator(".tl-name").click()
    expect(timeline).to_have_attribute("data-selected", str(plan["train"].pk))
    expect(timeline.locator(".vis-label").filter(has_text=f"Phases of {TRAIN}")).to_be_visible()
    sit = timeline.locator(".vis-item.tl-phase-item").filter(has_text="SIT")
    expect(sit).to_be_visible()
    expect(panel.get_by_label("SIT — new start")).to_have_value(sit_start.isoformat())

    # Drag the SIT two weeks later: the drop asks for the preview.
    with page.expect_response(lambda r: r.url.endswith("/releases/schedule/preview/")) as answer:
        drag_by_days(page, sit, 14, length_days=(sit_end - sit_start).days + 1)
    # The drop landed exactly two weeks later: that is the date the preview was asked for.
    assert answer.value.request.post_data_json == {
        "item": f"phase:{plan['train_sit'].pk}",
        "new_start": new_start.isoformat(),
    }
    preview = page.get_by_test_id("schedule-preview")
    expect(preview).to_have_attribute("data-state", "preview")
    expect(preview.get_by_test_id("schedule-summary")).to_contain_text(
        f"SIT of {TRAIN} would start on {shown(new_start)} instead of {shown(sit_start)}"
    )
    expect(panel.get_by_label("SIT — new start")).to_have_value(new_start.isoformat())
    # The project releases that move with it, and what moved them.
    moved = preview.get_by_test_id("schedule-releases")
    for name in (TRAIN, PAYMENTS, LEDGER):
        expect(moved.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(moved).to_contain_text(f"Moved by SIT of {TRAIN} → SIT of {PAYMENTS}")
    # The deploy that lands in the freeze is pushed past it.
    postponed = preview.get_by_test_id("schedule-postponed")
    expect(postponed).to_contain_text(f"Deploy of {PAYMENTS}")
    expect(postponed).to_contain_text(f"{shown(plan['after_freeze'])}, after {FREEZE}")
    # On the timeline: the phase where it was dropped, the bars that would move outlined.
    expect(sit).to_have_class(re.compile(r"tl-phase-moved"))
    expect(timeline.locator(".vis-item.tl-release.tl-would-move")).to_have_count(3)
    page.screenshot(path=screenshot_dir / "reschedule-preview.png", full_page=True)
    panel.screenshot(path=screenshot_dir / "reschedule-preview-panel.png")
    assert Phase.objects.get(pk=plan["train_sit"].pk).planned_start == sit_start  # a preview changes nothing
    assert not ScheduleChange.objects.exists()

    # Apply needs a reason.
    preview.get_by_role("button", name="Apply").click()
    expect(preview.locator(".invalid-feedback")).to_have_text("Say why the dates change.")
    preview = page.get_by_test_id("schedule-preview")
    preview.get_by_label("Why do the dates change?").fill(REASON)
    with page.expect_response(lambda r: "/releases/timeline/" in r.url and r.request.method == "GET"):
        preview.get_by_role("button", name="Apply").click()
    applied = page.get_by_test_id("schedule-applied")
    expect(applied).to_contain_text("Applied")
    expect(applied).to_contain_text(REASON)
    # The timeline reloaded its data: the SIT starts at its new date, nothing is pending any more.
    expect(timeline).not_to_have_attribute("data-reloading", "true")
    expect(panel.get_by_label("SIT — new start")).to_have_value(new_start.isoformat())
    expect(timeline.locator(".vis-item.tl-release.tl-would-move")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "reschedule-applied.png", full_page=True)
    assert Phase.objects.get(pk=plan["train_sit"].pk).planned_start == new_start
    assert Milestone.objects.get(pk=plan["deploy"].pk).planned_date == plan["after_freeze"]

    # Each moved release keeps the change in its schedule history.
    for release in (plan["payments"], plan["ledger"], plan["train"]):
        change = ScheduleChange.objects.get(release=release)
        assert (change.reason, change.actor_name) == (REASON, "Rachel Okafor")
    page.get_by_test_id("schedule-applied-releases").get_by_role("link", name=PAYMENTS).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PAYMENTS)
    history = page.get_by_test_id("schedule-history")
    expect(history).to_contain_text(REASON)
    expect(history).to_contain_text(f"SIT of {TRAIN} → SIT of {PAYMENTS}")
    expect(history).to_contain_text("Rachel Okafor")
    page.screenshot(path=screenshot_dir / "reschedule-history.png", full_page=True)
    page.goto(f"{base}/releases/{plan['ledger'].pk}/#schedule")
    expect(page.get_by_test_id("schedule-history")).to_contain_text(REASON)

    # And in the audit trail: one release.rescheduled event, with the reason.
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Event type").fill("release.rescheduled")
    page.get_by_label("Event type").press("Enter")
    row = page.locator("#audit-table tbody tr").filter(has_text="release.rescheduled")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text(TRAIN)
    page.screenshot(path=screenshot_dir / "reschedule-audit.png", full_page=True)
    assert AuditEvent.objects.filter(event_type="release.rescheduled").count() == 1

    # The train's page, opened at its History tab, shows the event there (the tab loads however it is opened).
    page.goto(f"{base}/releases/{plan['train'].pk}/#history")
    history = page.locator("#tab-history").get_by_test_id("history")
    expect(history).to_contain_text("release.rescheduled")
    expect(history).to_contain_text(REASON)


@pytest.mark.browser
def test_a_keyboard_user_types_a_new_start_previews_it_and_cancels(
    live_server, warm, plan, page, sign_in, screenshot_dir
):
    from launchdeck.accounts.tests.factories import PASSWORD
    from launchdeck.releases.models import Phase

    sit_start = plan["train_sit"].planned_start
    new_start = sit_start + SHIFT
    sign_in("rachel", PASSWORD)
    first_day = plan["first_day"]
    page.goto(
        f"{live_server.url}/releases/timeline/"
        f"?start={first_day - datetime.timedelta(days=14)}&end={first_day + datetime.timedelta(days=140)}"
    )
    timeline = page.locator("#release-timeline")
    expect(timeline).to_have_attribute("data-ready", "true")
    page.get_by_role("button", name="Reschedule", exact=True).click()
    timeline.locator(".vis-item.tl-release").filter(has_text=TRAIN).locator(".tl-name").click()
    panel = page.get_by_test_id("schedule-panel")
    start = panel.get_by_label("SIT — new start")
    start.fill(new_start.isoformat())
    start.press("Enter")
    preview = page.get_by_test_id("schedule-preview")
    expect(preview.get_by_test_id("schedule-summary")).to_contain_text(f"would start on {shown(new_start)}")
    # The typed move shows on the timeline as a dropped one would.
    sit = timeline.locator(".vis-item.tl-phase-item").filter(has_text="SIT")
    expect(sit).to_have_class(re.compile(r"tl-phase-moved"))
    page.screenshot(path=screenshot_dir / "reschedule-typed.png", full_page=True)

    preview.get_by_role("button", name="Cancel").click()
    expect(panel.locator("[data-schedule-result]")).to_be_empty()
    expect(sit).not_to_have_class(re.compile(r"tl-phase-moved"))
    expect(start).to_have_value(sit_start.isoformat())
    expect(timeline.locator(".vis-item.tl-release.tl-would-move")).to_have_count(0)
    assert Phase.objects.get(pk=plan["train_sit"].pk).planned_start == sit_start
