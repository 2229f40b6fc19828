"""Fixtures shared by every test: users per role and API clients acting as them."""

import pytest

from launchdeck.accounts.roles import Role


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
