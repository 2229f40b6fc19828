"""An administrator changes someone's roles and finds the change in its history; a viewer may not manage people."""

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_admin_changes_a_users_roles_and_sees_it_in_the_history(live_server, role_users, page, new_page, sign_in):
    sign_in("admin")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="People and roles").click()
    page.get_by_role("searchbox", name="Search").fill("Okafor")
    users = page.locator("#user-table tbody tr")
    expect(users).to_have_count(1)
    users.get_by_role("link", name="project_manager").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Paul Okafor")
    expect(page.get_by_label("Project manager", exact=True)).to_be_checked()
    page.get_by_label("Release manager", exact=True).check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("User project_manager is updated.")
    expect(page.get_by_label("Release manager", exact=True)).to_be_checked()
    expect(page.get_by_label("Project manager", exact=True)).to_be_checked()
    roles = page.locator("dt", has_text="Roles").locator("xpath=following-sibling::dd[1]")
    expect(roles).to_contain_text("Release manager")
    expect(roles).to_contain_text("Project manager")

    page.get_by_role("tab", name="History").click()
    history = page.locator("#tab-history").get_by_test_id("history")
    expect(history.locator("code")).to_have_text(["user.updated", "user.created"])
    latest = history.locator(":scope > div").first
    expect(latest).to_contain_text("admin · Web")
    expect(latest.locator(".history-data")).to_have_count(2)
    before, after = latest.locator(".history-data").all()
    expect(before).not_to_contain_text("release_manager")
    expect(after).to_contain_text("release_manager")

    # The change takes effect: the person now signs in to both roles.
    theirs = sign_in("project_manager", page=new_page())
    expect(theirs.get_by_test_id("role-badge")).to_have_text(["Release manager", "Project manager"])


@pytest.mark.browser
def test_viewer_may_not_add_users_or_tokens(live_server, role_users, page, sign_in):
    sign_in("viewer")

    response = page.goto(f"{live_server.url}/accounts/users/new/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You may not do this")).to_be_visible()

    page.goto(f"{live_server.url}/accounts/users/")
    expect(page.get_by_role("heading", name="People and roles")).to_be_visible()
    expect(page.get_by_role("link", name="New user")).to_have_count(0)
    page.get_by_role("link", name="admin", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Admin")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)

    page.goto(f"{live_server.url}/accounts/tokens/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(page.get_by_role("button", name="Create token")).to_have_count(0)
