"""Fixtures shared by every test: users per role and API clients acting as them; what the PostgreSQL leg runs."""

import os

import pytest
from hypothesis import settings

from launchdeck.accounts.roles import Role

# In CI, property tests draw the same examples on every run (the settings each test gives still apply): a run that
# lands or not must not depend on the luck of the draw. Run locally, they explore new examples every time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

# A test that asks for none of these cannot reach the database (pytest-django blocks it), so it behaves the same on
# both legs: the PostgreSQL leg leaves it to the SQLite leg and says so.
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup", "live_server", "django_db_reset_sequences"})


def _reaches_database(item) -> bool:
    return bool(DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))) or bool(
        item.get_closest_marker("django_db")
    )


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    skip = pytest.mark.skip(reason="cannot reach the database: runs on the SQLite leg only")
    pure = [item for item in items if not _reaches_database(item)]
    for item in pure:
        item.add_marker(skip)
    config.pure_tests_left_to_sqlite = len(pure)


def pytest_report_header(config):
    from django.db import connection

    if connection.vendor == "postgresql":
        return "PostgreSQL leg: tests that cannot reach the database run on the SQLite leg only (shown as skipped)."
    return None


@pytest.fixture
def today_is(monkeypatch):
    """`today_is(date)`: from then on, the application's today (`timezone.localdate()`) is `date`; returns it."""
    from django.utils import timezone

    def freeze(day):
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
        return day

    return freeze


@pytest.fixture
def make_user(db):
    from launchdeck.accounts.tests.factories import UserFactory

    def make(*roles: str, **fields):
        return UserFactory(roles=list(roles), **fields)

    return make


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, username="admin")


@pytest.fixture
def viewer(make_user):
    return make_user(Role.VIEWER, username="viewer")


@pytest.fixture
def release_manager(make_user):
    return make_user(Role.RELEASE_MANAGER, username="release_manager")


@pytest.fixture
def api_as(db):
    """`api_as(user)`: a JSON API client authenticated with a bearer token of `user`; `api_as(None)` is anonymous."""
    from launchdeck.accounts.testing import ApiClient, bearer_token_for

    def make(user):
        return ApiClient(bearer_token_for(user) if user is not None else None)

    return make
