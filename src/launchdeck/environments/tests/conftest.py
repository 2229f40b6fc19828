"""Fixtures for the environments app's tests: users of each role, a system and an environment most tests use, and
checks on what a call wrote."""

import contextlib

import pytest

from launchdeck.accounts.roles import Role
from launchdeck.audit.models import AuditEvent
from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
    EnvironmentStatusChange,
)
from launchdeck.environments.tests.factories import EnvironmentFactory, EnvironmentStatusChangeFactory

MODELS = (
    EnvironmentGroup,
    Environment,
    EnvironmentStatusChange,
    EnvironmentComponent,
    EnvironmentBooking,
    EnvironmentRequest,
    Deployment,
)


@pytest.fixture
def environment_manager(make_user):
    """Holds every environments permission, approval of bookings included."""
    return make_user(Role.ENVIRONMENT_MANAGER, username="environment_manager")


@pytest.fixture
def project_manager(make_user):
    """May request and change bookings and environment requests, not approve them."""
    return make_user(Role.PROJECT_MANAGER, username="project_manager")


@pytest.fixture
def quality_manager(make_user):
    """May request and change bookings."""
    return make_user(Role.QUALITY_MANAGER, username="quality_manager")


@pytest.fixture
def service_manager(make_user):
    """May record deployments."""
    return make_user(Role.SERVICE_MANAGER, username="service_manager")


@pytest.fixture
def viewer(make_user):
    """Reads everything, changes nothing."""
    return make_user(Role.VIEWER, username="viewer")


@pytest.fixture
def ledger(db):
    """A system called Ledger."""
    return SystemFactory(name="Ledger")


@pytest.fixture
def sit(db):
    """An SIT environment, SIT 1, that has been available for a year."""
    environment = EnvironmentFactory(name="SIT 1")
    EnvironmentStatusChangeFactory(environment=environment)
    return environment


def environments_state() -> dict:
    """Every row of the environments app, field by field, and the number of audit events."""
    rows = {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}
    return {**rows, "audit events": AuditEvent.objects.count()}


@pytest.fixture
def unchanged(db):
    """`with unchanged(): ...` asserts that the block left every environments row and the audit trail as they were."""

    @contextlib.contextmanager
    def check():
        before = environments_state()
        yield
        assert environments_state() == before

    return check


class _Recorded:
    events: list


@pytest.fixture
def events(db):
    """`with events("booking.requested", "booking.requested") as recorded: ...` asserts the block wrote exactly
    those audit events, in order; `recorded.events` holds them."""

    @contextlib.contextmanager
    def expect(*event_types: str):
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        recorded = _Recorded()
        yield recorded
        recorded.events = list(AuditEvent.objects.filter(pk__gt=last).order_by("pk"))
        assert [event.event_type for event in recorded.events] == list(event_types)

    return expect
