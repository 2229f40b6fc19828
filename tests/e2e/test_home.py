"""Every role signs in, finds the home page made for them, and signs out again."""

import re

import pytest
from playwright.sync_api import expect

from launchdeck.accounts.roles import Role

NAVIGATION = ["Home", "People and roles", "Audit trail"]


@pytest.mark.browser
def test_each_role_signs_in_to_its_home_page_and_signs_out(live_server, demo, new_page, sign_in, screenshot_dir):
    # One demo load for all the roles, each in a browser context of its own.
    for role in Role.values:
        _home_and_sign_out(live_server, new_page(), sign_in, screenshot_dir, role)


def _home_and_sign_out(live_server, page, sign_in, screenshot_dir, role):
    sign_in(role, page=page)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link")).to_contain_text(NAVIGATION)

    access = page.locator("section.card[data-panel=your-access]")
    expect(access.get_by_test_id("role-badge")).to_have_text([Role(role).label])

    people = page.locator("section.card[data-panel=people-and-roles]")
    if role == Role.ADMIN:
        expect(people).to_be_visible()
        expect(people).to_contain_text("active users")
    else:
        expect(people).to_have_count(0)

    recent = page.locator("section.card[data-panel=recent-activity]")
    # the eight newest changes, whatever the demo's last step was: each an `<entity>.<past tense>` event type
    expect(recent.locator("li code")).to_have_count(8)
    expect(recent.locator("li code").first).to_have_text(re.compile(r"^[a-z_]+\.[a-z_]+$"))
    expect(page.locator("section.card[data-panel=my-activity]")).to_be_visible()

    page.screenshot(path=screenshot_dir / f"home-{role}.png", full_page=True)

    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
