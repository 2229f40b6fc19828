"""A release manager plans a train from its template, puts three project releases in it (one following the train's
dates), approves a gate, is refused a start that a gate still blocks, and finds it all on the consolidated timeline."""

import datetime
import re

import pytest
from playwright.sync_api import expect

TRAIN = "Aurora train"
PAYMENTS = "Aurora Payments 1.0"  # follows the train's phase dates
LEDGER = "Aurora Ledger 2.0"  # its own dates; planned, then refused a start
PORTAL = "Aurora Portal 3.0"  # made standalone, then added to the train from the train's page


def next_monday(after: datetime.date, weeks: int) -> datetime.date:
    return after + datetime.timedelta(days=7 - after.weekday(), weeks=weeks)


def create_release(page, base_url: str | None, *, name: str, kind: str, template: str, start: datetime.date, query=""):
    """Fill in the new-release form (opened here with `query`, or already open when `base_url` is None)."""
    if base_url is not None:
        page.goto(f"{base_url}/releases/new/{query}")
    page.get_by_label("Name").fill(name)
    page.locator("#id_kind").select_option(kind)
    page.locator("#id_template").select_option(label=template)
    page.locator("#id_planned_start").fill(start.isoformat())
    expect(page.get_by_test_id("release-preview")).to_contain_text("Build")  # the layout on the calendar, unsaved
    return page


def submit_release(page, name: str):
    page.get_by_role("button", name="Create the release").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    return re.search(r"/releases/(\d+)/", page.url).group(1)


def open_tab(page, name: str):
    page.locator("#release-tabs").get_by_role("tab", name=re.compile(rf"^{name}")).click()


@pytest.mark.browser
def test_release_manager_plans_a_train_and_sees_it_on_the_consolidated_timeline(
    live_server, demo, page, sign_in, screenshot_dir
):
    from launchdeck.releases.models import Release

    base = live_server.url
    start = next_monday(datetime.date.today(), weeks=4)
    sign_in("release_manager")

    # A train from the enterprise template: its phases, milestones and gates laid out on the calendar.
    create_release(page, base, name=TRAIN, kind="enterprise", template="Enterprise quarterly train", start=start)
    page.screenshot(path=screenshot_dir / "release-train-preview.png", full_page=True)
    train_id = submit_release(page, TRAIN)
    open_tab(page, "Phases")
    expect(page.locator("#tab-phases")).to_contain_text("System integration test")

    # Two project releases made from the train's page: one follows the train's phase dates, one keeps its own.
    open_tab(page, "Train")
    page.get_by_role("link", name="New project release in this train").click()
    expect(page.locator("#id_train")).to_have_value(train_id)
    create_release(page, None, name=PAYMENTS, kind="project", template="Project release", start=start)
    page.get_by_label("Inherit the train's phase dates").check()
    submit_release(page, PAYMENTS)
    create_release(
        page,
        base,
        name=LEDGER,
        kind="project",
        template="Project release",
        start=start + datetime.timedelta(weeks=2),
        query=f"?kind=project&train={train_id}",
    )
    ledger_id = submit_release(page, LEDGER)

    # The third is made on its own and added from the train's page, keeping its dates.
    create_release(
        page, base, name=PORTAL, kind="project", template="Project release", start=start + datetime.timedelta(weeks=1)
    )
    submit_release(page, PORTAL)
    page.goto(f"{base}/releases/{train_id}/#train")
    adding = page.get_by_test_id("child-add")
    adding.get_by_label("Project release").select_option(label=PORTAL)
    adding.get_by_label("Keep its own phase dates").check()
    adding.get_by_role("button", name="Add to the train").click()
    children = page.get_by_test_id("train-children")
    expect(children.locator("tbody tr")).to_have_count(3)
    expect(children.get_by_role("row").filter(has_text=PAYMENTS)).to_contain_text("follow the train's")
    expect(children.get_by_role("row").filter(has_text=PORTAL)).to_contain_text("its own")
    page.screenshot(path=screenshot_dir / "release-train-children.png", full_page=True)
    assert Release.objects.filter(train_id=train_id).count() == 3
    assert Release.objects.get(name=PAYMENTS).inherits_train_dates

    # A gate approved: the payments release's plan, its checklist ticked and the release manager's approval given.
    page.get_by_role("link", name=PAYMENTS).click()
    open_tab(page, "Gates")
    gate = page.get_by_test_id("gate-card").filter(has_text="Plan approved")
    gate.get_by_label("Scope agreed with the business owner").check()
    # Ticked and saved: the card comes back saying who ticked it.
    expect(gate.locator("li").filter(has_text="Scope agreed with the business owner")).to_contain_text("—")
    gate = page.get_by_test_id("gate-card").filter(has_text="Plan approved")
    gate.get_by_label("Comment").fill("Scope signed off with the payments product owner.")
    gate.get_by_role("button", name="Approve").click()
    gate = page.get_by_test_id("gate-card").filter(has_text="Plan approved")
    expect(gate.get_by_test_id("gate-approvals")).to_contain_text("Approved")
    expect(gate).to_contain_text("Scope signed off with the payments product owner.")
    expect(gate.locator(".card-header")).to_contain_text("Passed")
    page.screenshot(path=screenshot_dir / "release-gate-approved.png", full_page=True)

    # The ledger release is planned, but may not start: its plan gate is still open, and the page says why.
    page.goto(f"{base}/releases/{ledger_id}/")
    status = page.locator("#release-status")
    status.get_by_role("button", name="Mark as planned").click()
    expect(page.get_by_role("alert").filter(has_text="planned")).to_be_visible()
    status = page.locator("#release-status")
    status.get_by_role("button", name="Start").click()
    refusal = page.locator(".alert-danger")
    expect(refusal).to_contain_text("Plan approved")
    expect(page.locator("#release-status")).to_contain_text("Planned")
    page.screenshot(path=screenshot_dir / "release-start-refused.png", full_page=True)
    assert Release.objects.get(pk=ledger_id).status == "planned"

    # All of it on the consolidated timeline: the train's row, the four bars, the tooltip, the way back.
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Timeline").click()
    timeline = page.locator("#release-timeline")
    expect(timeline).to_have_attribute("data-ready", "true")
    row = timeline.locator(".vis-label").filter(has_text=TRAIN)
    row.scroll_into_view_if_needed()
    for name in (TRAIN, PAYMENTS, LEDGER, PORTAL):
        expect(timeline.locator(".vis-item.tl-release").filter(has_text=name)).to_have_count(1)
    ledger = timeline.locator(".vis-item.tl-release").filter(has_text=LEDGER)
    expect(ledger).to_have_class(re.compile(r"tl-status-planned"))
    ledger.locator(".tl-name").hover()
    expect(page.locator(".tl-tip")).to_contain_text(LEDGER)
    expect(page.locator(".tl-tip")).to_contain_text("Project release · planned")
    page.get_by_role("button", name="Month").click()
    expect(page.get_by_role("button", name="Month")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=screenshot_dir / "release-timeline.png", full_page=True)
    ledger = timeline.locator(".vis-item.tl-release").filter(has_text=LEDGER)
    ledger.locator(".tl-name").click()
    expect(page).to_have_url(f"{base}/releases/{ledger_id}/")
