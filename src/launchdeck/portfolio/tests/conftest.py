"""Fixtures for the portfolio's tests: the roles that may change it, and checks on what a call wrote."""

import contextlib

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.portfolio.models import Allocation, Initiative, Portfolio, Project, RegisterItem, RegisterTag, Spend


@pytest.fixture
def manager(make_user):
    """A portfolio manager: the role that may write everything in `portfolio.*`."""
    return make_user(Role.PORTFOLIO_MANAGER, username="portfolio_manager")


@pytest.fixture
def project_manager(make_user):
    """May write projects and register items, and nothing else of the portfolio."""
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


def portfolio_state() -> dict:
    """Every portfolio row, field by field, and the number of audit events."""
    rows = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Portfolio, Initiative, Project, Spend, Allocation, RegisterItem, RegisterTag)
    }
    return {**rows, "audit events": AuditEvent.objects.count()}


@pytest.fixture
def unchanged(db):
    """`with unchanged(): ...` asserts that the block left every portfolio row and the audit trail as they were."""

    @contextlib.contextmanager
    def check():
        before = portfolio_state()
        yield
        assert portfolio_state() == before

    return check


class _Recorded:
    event: AuditEvent


@pytest.fixture
def one_event(db):
    """`with one_event("initiative.created") as recorded: ...` asserts the block wrote exactly that one audit event."""

    @contextlib.contextmanager
    def expect(event_type: str):
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        recorded = _Recorded()
        yield recorded
        events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))
        assert [event.event_type for event in events] == [event_type]
        recorded.event = events[0]

    return expect
