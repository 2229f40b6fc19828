"""factory_boy factories for environments: rows made directly, for arranging tests (services are what is tested)."""

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from launchdeck.catalog.tests.factories import SystemFactory
from launchdeck.environments.choices import (
    BookingStatus,
    BookingUsage,
    DeploymentOutcome,
    DeploymentSource,
    EnvironmentCategory,
    EnvironmentStatus,
    Hosting,
    MaskingStatus,
    RequestKind,
    RequestStatus,
)
from launchdeck.environments.models import (
    Deployment,
    Environment,
    EnvironmentBooking,
    EnvironmentComponent,
    EnvironmentGroup,
    EnvironmentRequest,
    EnvironmentStatusChange,
)
from launchdeck.org.tests.factories import TeamFactory
from launchdeck.releases.choices import EnvironmentType

# A Monday, 09:00 UTC: bookings in tests start from here unless they say otherwise.
MONDAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def at(days: float, hours: float = 0) -> datetime.datetime:
    """`MONDAY` plus a number of days (and hours)."""
    return MONDAY + datetime.timedelta(days=days, hours=hours)


class EnvironmentGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnvironmentGroup

    name = factory.Sequence(lambda n: f"Lane {n}")
    description = ""


class EnvironmentFactory(factory.django.DjangoModelFactory):
    """An available, exclusive (capacity 1) non-production SIT environment in the cloud, owned by a new team."""

    class Meta:
        model = Environment

    name = factory.Sequence(lambda n: f"SIT {n}")
    category = EnvironmentCategory.NON_PRODUCTION
    environment_type = EnvironmentType.SIT
    hosting = Hosting.CLOUD
    group = None
    owner_team = factory.SubFactory(TeamFactory)
    capacity = 1
    cost_per_day = Decimal("250.00")
    url = ""
    description = ""
    status = EnvironmentStatus.AVAILABLE
    status_since = factory.LazyFunction(lambda: MONDAY - datetime.timedelta(days=365))


class EnvironmentStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnvironmentStatusChange

    environment = factory.SubFactory(EnvironmentFactory)
    status = EnvironmentStatus.AVAILABLE
    started_at = factory.LazyAttribute(lambda change: change.environment.status_since)
    note = ""
    actor_name = ""


class EnvironmentComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnvironmentComponent

    environment = factory.SubFactory(EnvironmentFactory)
    system = factory.SubFactory(SystemFactory)
    component = None
    version = "1.0.0"
    configuration = ""
    deployed_at = factory.LazyFunction(lambda: MONDAY - datetime.timedelta(days=30))


class EnvironmentBookingFactory(factory.django.DjangoModelFactory):
    """A requested exclusive booking of a new environment for the working week from `MONDAY`."""

    class Meta:
        model = EnvironmentBooking

    environment = factory.SubFactory(EnvironmentFactory)
    starts_at = MONDAY
    ends_at = factory.LazyAttribute(lambda booking: booking.starts_at + datetime.timedelta(days=5))
    usage = BookingUsage.EXCLUSIVE
    status = BookingStatus.REQUESTED
    requester = None
    team = None
    release = None
    phase = None
    purpose = ""


class EnvironmentRequestFactory(factory.django.DjangoModelFactory):
    """A requested 16-hour configuration change of a new environment, due ten days after `MONDAY`."""

    class Meta:
        model = EnvironmentRequest

    title = factory.Sequence(lambda n: f"Environment request {n}")
    kind = RequestKind.CONFIGURATION
    environment = factory.SubFactory(EnvironmentFactory)
    environment_type = ""
    team = factory.SubFactory(TeamFactory)
    effort_hours = Decimal("16.0")
    sla_days = 5
    status = RequestStatus.REQUESTED
    starts_on = datetime.date(2026, 3, 6)
    due_on = datetime.date(2026, 3, 12)
    masking = MaskingStatus.NOT_NEEDED
    description = ""


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deployment

    system = factory.SubFactory(SystemFactory)
    environment = factory.SubFactory(EnvironmentFactory)
    version = "1.0.0"
    deployed_at = factory.LazyFunction(timezone.now)
    outcome = DeploymentOutcome.SUCCEEDED
    source = DeploymentSource.CI
