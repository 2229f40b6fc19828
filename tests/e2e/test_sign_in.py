"""Signing in with a wrong password: refused with a message, and locked out after too many tries."""

import re

import pytest
from playwright.sync_api import expect

from launchdeck.demo.generator import DEMO_PASSWORD

FAILURE_LIMIT = 5  # AXES_FAILURE_LIMIT


@pytest.mark.browser
def test_a_wrong_password_is_refused_with_a_message(live_server, role_users, page, sign_in):
    sign_in("release_manager", "not-the-password")

    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    expect(page.locator("#id_username")).to_have_value("release_manager")
    expect(page.locator("#id_password")).to_have_value("")
    expect(page.get_by_test_id("user-menu")).to_have_count(0)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


@pytest.mark.browser
def test_too_many_wrong_passwords_lock_the_account_even_against_the_right_one(live_server, role_users, page, sign_in):
    for attempt in range(1, FAILURE_LIMIT):
        sign_in("quality_manager", f"wrong-{attempt}")
        expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")

    sign_in("quality_manager", f"wrong-{FAILURE_LIMIT}")
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()

    sign_in("quality_manager", DEMO_PASSWORD)
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
