"""Fixtures for the catalogue's tests: the roles that may change it, and checks on what a call wrote."""

import contextlib

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.models import Component, System, SystemDependency
from launchdeck.org.models import Team


@pytest.fixture
def portfolio_manager(make_user):
    return make_user(Role.PORTFOLIO_MANAGER, username="portfolio_manager")


@pytest.fixture
def environment_manager(make_user):
    """May write components, and nothing else of the catalogue."""
    return make_user(Role.ENVIRONMENT_MANAGER, username="environment_manager")


def catalogue_state() -> dict:
    """Every catalogue row (and the teams that own them), field by field, and the number of audit events."""
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in (Team, System, Component)}
    rows["SystemDependency"] = list(SystemDependency.objects.order_by("pk").values())
    return {**rows, "audit events": AuditEvent.objects.count()}


@pytest.fixture
def unchanged(db):
    """`with unchanged(): ...` asserts that the block left every catalogue row and the audit trail as they were."""

    @contextlib.contextmanager
    def check():
        before = catalogue_state()
        yield
        assert catalogue_state() == before

    return check


class _Recorded:
    event: AuditEvent


@pytest.fixture
def one_event(db):
    """`with one_event("system.created") as recorded: ...` asserts the block wrote exactly that one audit event."""

    @contextlib.contextmanager
    def expect(event_type: str):
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        recorded = _Recorded()
        yield recorded
        events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))
        assert [event.event_type for event in events] == [event_type]
        recorded.event = events[0]

    return expect


@pytest.fixture
def quality_manager(make_user):
    return make_user(Role.QUALITY_MANAGER, username="quality_manager")
