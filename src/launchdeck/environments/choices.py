"""The fixed vocabularies of environments, bookings, environment requests and deployments."""

from django.db import models

# Environment types are the releases app's list, so a phase's need and an environment speak the same words.
from launchdeck.releases.choices import EnvironmentType  # noqa: F401  (re-exported for this app's callers)


class EnvironmentCategory(models.TextChoices):
    PRODUCTION = "production", "Production"
    NON_PRODUCTION = "non_production", "Non-production"
    DATA = "data", "Data"


class Hosting(models.TextChoices):
    PHYSICAL = "physical", "Physical"
    CLOUD = "cloud", "Cloud"
    HYBRID = "hybrid", "Hybrid"


class EnvironmentStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    IN_USE = "in_use", "In use"
    DEGRADED = "degraded", "Degraded"
    DOWN = "down", "Down"
    MAINTENANCE = "maintenance", "Maintenance"
    PROVISIONING = "provisioning", "Provisioning"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


# Availability = time up / time in service. Degraded is up (it serves, badly); provisioning and decommissioned
# are not in service at all.
UP_STATUSES = frozenset({EnvironmentStatus.AVAILABLE, EnvironmentStatus.IN_USE, EnvironmentStatus.DEGRADED})
OUT_OF_SERVICE_STATUSES = frozenset({EnvironmentStatus.PROVISIONING, EnvironmentStatus.DECOMMISSIONED})


class BookingUsage(models.TextChoices):
    EXCLUSIVE = "exclusive", "Exclusive (code or configuration change)"
    SHARED = "shared", "Shared (regression)"


class BookingStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ACTIVE = "active", "Active"
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


# Bookings that hold their window: they count toward conflicts. Rejected, cancelled and released ones do not.
LIVE_BOOKING_STATUSES = (BookingStatus.REQUESTED, BookingStatus.APPROVED, BookingStatus.ACTIVE)


class RequestKind(models.TextChoices):
    PROVISIONING = "provisioning", "Provisioning"
    CONFIGURATION = "configuration", "Configuration change"
    DATA_REFRESH = "data_refresh", "Data refresh"
    DECOMMISSION = "decommission", "Decommission"


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_REQUEST_STATUSES = (RequestStatus.REQUESTED, RequestStatus.IN_PROGRESS)


class MaskingStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "Not needed"
    PENDING = "pending", "Pending"
    DONE = "done", "Done"


class DeploymentOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    ROLLED_BACK = "rolled_back", "Rolled back"


class DeploymentSource(models.TextChoices):
    CI = "ci", "CI pipeline"
    MANUAL = "manual", "Manual"
    RUNBOOK = "runbook", "Runbook"
