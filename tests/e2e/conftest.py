"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server, signed in as demo users."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse ORM calls made from it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def playwright():
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser):
    """`new_page()`: a page in a fresh browser context (its own cookies, so its own session).

    Every page fails its test on an uncaught script error or a static asset that does not load, so a page that
    looks right only because its JavaScript or CSS never ran does not pass.
    """
    contexts, problems = [], []

    def make():
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        page.on(
            "requestfailed",
            lambda request: (
                # a navigation cancels what the previous page was still loading; that is not a fault
                problems.append(f"{request.failure} for {request.url}")
                if request.failure != "net::ERR_ABORTED"
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                problems.append(f"{response.status} for {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "The browser reported problems:\n" + "\n".join(problems)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def demo(transactional_db):
    """The `demo` preset: one user per role (username = role code), colleagues and two API tokens."""
    from launchdeck.demo.generator import load_demo

    return load_demo(preset="demo", seed=1)


@pytest.fixture
def role_users(transactional_db):
    """Only the people of the `demo` preset: one user per role (username = role code, the demo password), the
    colleagues and the two API tokens, with no plan — for journeys about signing in and accounts."""
    import random

    from launchdeck.audit.context import audit_context
    from launchdeck.demo.generator import EXTRA_USERS, DemoResult, _colleagues, _role_users, _tokens

    result = DemoResult(preset="demo", seed=1)
    with audit_context("cli", operator="demo-loader"):
        users = _role_users(result)
        _colleagues(random.Random(1), EXTRA_USERS["demo"], result)
        _tokens(users, result)
    return users


@pytest.fixture
def sign_in(live_server, page):
    """`sign_in(username, password=DEMO_PASSWORD, page=page)`: fill in and submit the sign-in form."""
    from launchdeck.demo.generator import DEMO_PASSWORD

    def submit(username: str, password: str = DEMO_PASSWORD, *, page=page):
        page.goto(f"{live_server.url}/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        # Wait for the server's answer: a failed sign-in re-renders the same URL, so the URL cannot tell.
        with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/accounts/login/")):
            page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return submit


@pytest.fixture(scope="session")
def screenshot_dir():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
