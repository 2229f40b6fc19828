"""Fixtures for the organisation's tests: the role that may change it, and checks on what a call wrote."""

import contextlib

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.org.models import Calendar, CalendarClosure, Department, Person, Team, TeamSkill


@pytest.fixture
def manager(make_user):
    """A portfolio manager: the role that may write `org.*`."""
    return make_user(Role.PORTFOLIO_MANAGER, username="portfolio_manager")


def org_state() -> dict:
    """Every organisation row, field by field, and the number of audit events."""
    rows = {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (Calendar, CalendarClosure, Department, Team, TeamSkill, Person, Person.teams.through)
    }
    return {**rows, "audit events": AuditEvent.objects.count()}


@pytest.fixture
def unchanged(db):
    """`with unchanged(): ...` asserts that the block left every organisation row and the audit trail as they were."""

    @contextlib.contextmanager
    def check():
        before = org_state()
        yield
        assert org_state() == before

    return check


class _Recorded:
    event: AuditEvent


@pytest.fixture
def one_event(db):
    """`with one_event("team.created") as recorded: ...` asserts the block wrote exactly that one audit event."""

    @contextlib.contextmanager
    def expect(event_type: str):
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        recorded = _Recorded()
        yield recorded
        events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))
        assert [event.event_type for event in events] == [event_type]
        recorded.event = events[0]

    return expect
