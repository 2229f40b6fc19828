"""Fixtures for the releases app's tests."""

import pytest

from launchdeck.releases import schedule


@pytest.fixture(autouse=True)
def no_impact_providers_but_the_tests_own(monkeypatch):
    """The schedule's what-if as the releases app alone gives it: the impact providers that higher apps register
    (environments, …) are left out, so these tests see only the fakes they register. The environments app tests its
    own providers through the same what-if."""
    monkeypatch.setattr(schedule, "_PROVIDERS", {})
