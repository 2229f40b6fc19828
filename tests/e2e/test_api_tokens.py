"""A release manager makes an API token for a pipeline, sees it once, and revokes it."""

import pytest
from playwright.sync_api import expect

TOKEN_NAME = "Deploy bot for billing"


def api_status(playwright, base_url: str, token: str) -> int:
    """The status of GET /api/v1/users/me with only `token` (no browser session) to authenticate."""
    api = playwright.request.new_context(base_url=base_url, extra_http_headers={"Authorization": f"Bearer {token}"})
    try:
        return api.get("/api/v1/users/me").status
    finally:
        api.dispose()


@pytest.mark.browser
def test_release_manager_creates_an_api_token_sees_it_once_and_revokes_it(
    live_server, role_users, page, sign_in, playwright
):
    tokens_url = f"{live_server.url}/accounts/tokens/"
    sign_in("release_manager")
    page.goto(tokens_url)
    expect(page.get_by_role("row").filter(has_text="CI pipeline: payments")).to_contain_text("active")

    page.get_by_label("Name").fill(TOKEN_NAME)
    page.get_by_label("Expires after (days)").fill("30")
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_test_id("new-token")
    expect(shown).to_contain_text(f"Token “{TOKEN_NAME}” is created")
    raw = shown.locator("code").inner_text().strip()
    assert raw.startswith("ld_")
    row = page.get_by_role("row").filter(has_text=TOKEN_NAME)
    expect(row).to_have_count(1)
    expect(row.locator("code")).to_have_text(f"{raw[:10]}…")
    assert api_status(playwright, live_server.url, raw) == 200

    page.goto(tokens_url)
    expect(page.get_by_test_id("new-token")).to_have_count(0)
    expect(page.get_by_text(raw)).to_have_count(0)
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("active")

    page.on("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Token '{TOKEN_NAME}' is revoked")
    expect(row.locator(".badge")).to_have_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="CI pipeline: payments")).to_contain_text("active")
    assert api_status(playwright, live_server.url, raw) == 401
