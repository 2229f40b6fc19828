"""A portfolio manager imports a workbook of teams and systems: sees the wrong rows explained, fixes them, applies,
finds what was imported, and reads the portfolio view's charts."""

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

TEAM = "Kestrel Delivery"
SYSTEM = "Kestrel Ledger"
TEAM_HEADER = ["name", "department", "capacity_person_days_per_week", "skills"]
SYSTEM_HEADER = ["name", "owner_team", "kind", "tier", "lifecycle", "external_ids"]


def write_workbook(path, *, teams: list[list], systems: list[list]):
    """An XLSX file with a `teams` and a `systems` sheet, as a person would keep them."""
    book = Workbook()
    book.remove(book.active)
    for name, header, rows in (("teams", TEAM_HEADER, teams), ("systems", SYSTEM_HEADER, systems)):
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def estate(*, department: str, portal_tier: int) -> dict:
    """Two teams and two systems; the second team's department and the second system's tier are the variables."""
    return {
        "teams": [
            [TEAM, "Payments", 25, "development; testing"],
            ["Kestrel Data", department, 10.5, "data"],
        ],
        "systems": [
            [SYSTEM, TEAM, "application", 1, "live", "cmdb=CI900001"],
            ["Kestrel Portal", TEAM, "application", portal_tier, "in_development", ""],
        ],
    }


def upload(page, base_url: str, workbook) -> None:
    """Open the import page, choose the workbook and ask for the dry run."""
    page.goto(f"{base_url}/exchange/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import and export")
    page.locator("input[type=file][name=file]").set_input_files(workbook)
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_url(re.compile(r"/exchange/imports/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(workbook.name)


@pytest.mark.browser
def test_portfolio_manager_fixes_a_rejected_workbook_applies_it_and_reads_the_portfolio_view(
    live_server, demo, page, sign_in, screenshot_dir, tmp_path
):
    from launchdeck.catalog.models import System
    from launchdeck.org.models import Team

    sign_in("portfolio_manager")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Import / export").click()
    expect(page).to_have_url(f"{live_server.url}/exchange/")

    # A workbook with two wrong rows: a team in a department that does not exist, a system of tier 7.
    wrong = write_workbook(tmp_path / "estate.xlsx", **estate(department="Atlantis", portal_tier=7))
    upload(page, live_server.url, wrong)

    expect(page.get_by_test_id("import-status")).to_have_text("Previewed")
    expect(page.get_by_role("status")).to_contain_text("2 rows cannot be imported, so nothing will be")
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_contain_text("teams")
    expect(summary).to_contain_text("systems")
    expect(summary.locator(".text-danger")).to_have_text(["1 rejected", "1 rejected"])
    rows = page.get_by_test_id("import-rows").locator("tbody tr")
    expect(rows).to_have_count(2)  # the page opens on the rejected rows
    expect(rows.nth(0).locator("td")).to_have_text(
        ["teams", "3", "Kestrel Data", "rejected", "department", "Unknown department 'Atlantis'."]
    )
    expect(rows.nth(1).locator("td")).to_have_text(
        ["systems", "3", "Kestrel Portal", "rejected", "tier", re.compile(r"\b7\b")]
    )
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    page.screenshot(path=screenshot_dir / "import-preview-with-rejections.png", full_page=True)
    # The dry run went through the services and was rolled back: nothing exists yet.
    assert not Team.objects.filter(name__startswith="Kestrel").exists()
    assert not System.objects.filter(name__startswith="Kestrel").exists()

    # Fixed: a department that exists, a tier from 1 to 4.
    fixed = write_workbook(tmp_path / "estate-fixed.xlsx", **estate(department="Finance", portal_tier=2))
    upload(page, live_server.url, fixed)

    expect(page.get_by_test_id("import-status")).to_have_text("Previewed")
    expect(page.get_by_test_id("import-summary").locator(".text-danger")).to_have_count(0)
    expect(page.get_by_test_id("import-summary").get_by_text("none rejected")).to_have_count(2)
    rows = page.get_by_test_id("import-rows").locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.locator("td:nth-child(4)")).to_have_text(["created"] * 4)
    page.get_by_role("button", name="Apply all 4 rows").click()

    expect(page.get_by_role("alert")).to_contain_text("Imported: 4 rows created or updated.")
    expect(page.get_by_test_id("import-status")).to_have_text("Applied")
    expect(page.get_by_text(re.compile(r"^Applied on "))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Apply"))).to_have_count(0)
    page.screenshot(path=screenshot_dir / "import-applied.png", full_page=True)
    team = Team.objects.get(name=TEAM)
    assert (team.department.name, team.skill_codes) == ("Payments", ["development", "testing"])
    assert System.objects.get(name="Kestrel Portal").tier == 2

    # The imported system is in the catalogue, owned by the imported team.
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Systems", exact=True).click()
    page.get_by_role("searchbox", name="Search systems").fill(SYSTEM)
    page.get_by_role("searchbox", name="Search systems").press("Enter")
    page.get_by_role("link", name=SYSTEM, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SYSTEM)
    details = page.locator("#tab-details dl")
    expect(details).to_contain_text("Tier 1 (business critical)")
    expect(details).to_contain_text(TEAM)
    expect(details).to_contain_text("cmdb: CI900001")
    expect(page.locator("[data-chart=system-graph-data] canvas")).to_be_attached()
    page.screenshot(path=screenshot_dir / "import-system.png", full_page=True)

    # The portfolio view of a demo portfolio draws its charts.
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Portfolio", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Customer Experience")
    row.get_by_role("link", name="Portfolio view").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer Experience")
    charts = page.locator("[data-chart]")
    expect(charts.first).to_be_visible()
    assert charts.count() >= 3
    for chart in charts.all():
        expect(chart.locator("canvas, svg").first).to_be_attached()
    page.screenshot(path=screenshot_dir / "portfolio-view.png", full_page=True)
