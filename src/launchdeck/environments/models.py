"""Environments and their groups, components and status history; bookings; environment requests; deployments."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse

from launchdeck.catalog.models import Component, System
from launchdeck.core.models import BaseModel, RestrictedQuerySet
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
from launchdeck.environments.rules import MAX_VERSION_LENGTH
from launchdeck.org.models import Team
from launchdeck.releases.choices import EnvironmentType
from launchdeck.releases.models import Phase, Release

MAX_CAPACITY = 100
"""The most bookings one environment may hold at once (shared usage)."""


def _unique_name(model: str, message: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        Lower("name"),
        name=f"environments_{model}_name_unique",
        violation_error_code="unique",
        violation_error_message=message,
    )


class EnvironmentGroup(BaseModel):
    """A lane of environments planned together (e.g. "Payments SIT lane"): the schedule groups by it."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [_unique_name("group", "An environment group with this name already exists.")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("environments:environment_list") + f"?group={self.pk}"


class Environment(BaseModel):
    """A production, non-production or data environment: what it is for, who owns it and how many may use it."""

    name = models.CharField(max_length=120)
    category = models.CharField(
        max_length=20, choices=EnvironmentCategory.choices, default=EnvironmentCategory.NON_PRODUCTION
    )
    environment_type = models.CharField("type", max_length=20, choices=EnvironmentType.choices)
    hosting = models.CharField(max_length=20, choices=Hosting.choices, default=Hosting.CLOUD)
    group = models.ForeignKey(
        EnvironmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="environments"
    )
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="environments")
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CAPACITY)],
        help_text="How many bookings may overlap: 1 is exclusive use; shared (regression) bookings fill the rest.",
    )
    cost_per_day = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    url = models.URLField("URL", max_length=500, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=EnvironmentStatus.choices, default=EnvironmentStatus.AVAILABLE)
    status_since = models.DateTimeField(help_text="When the current status began.")
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="needed_by",
        help_text="Environments this one needs to work (e.g. a shared data environment).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("environment", "An environment with this name already exists."),
            models.CheckConstraint(
                condition=Q(capacity__gte=1, capacity__lte=MAX_CAPACITY),
                name="environments_environment_capacity_range",
                violation_error_message=f"Capacity is between 1 (exclusive) and {MAX_CAPACITY}.",
            ),
            models.CheckConstraint(
                condition=Q(cost_per_day__gte=0),
                name="environments_environment_cost_not_negative",
                violation_error_message="The cost per day cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["environment_type", "status"], name="env_type_status_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("environments:environment_detail", args=[self.pk])


class EnvironmentStatusChange(models.Model):
    """One entry of an environment's status history: from `started_at` it was `status` (until the next entry)."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=EnvironmentStatus.choices)
    started_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["environment", "started_at", "pk"]
        indexes = [models.Index(fields=["environment", "started_at"], name="env_status_at_idx")]

    def __str__(self):
        return f"{self.environment.name}: {self.get_status_display()} from {self.started_at:%Y-%m-%d %H:%M}"


class EnvironmentComponent(BaseModel):
    """A system installed in an environment, the version deployed there and how it is configured."""

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="components")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="environment_components")
    component = models.ForeignKey(
        Component,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The part of the system, where it matters.",
    )
    version = models.CharField(max_length=MAX_VERSION_LENGTH, blank=True)
    configuration = models.TextField(blank=True, help_text="Configuration notes: endpoints, feature flags, data set.")
    deployed_at = models.DateTimeField(null=True, blank=True, help_text="When the current version was deployed.")

    class Meta:
        ordering = ["environment", "system__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["environment", "system"],
                name="environments_component_unique",
                violation_error_code="unique",
                violation_error_message="This system is already recorded in this environment.",
            )
        ]
        indexes = [models.Index(fields=["system", "environment"], name="env_component_sys_idx")]

    def __str__(self):
        return f"{self.system.name} {self.version or '(no version)'} in {self.environment.name}"

    def get_absolute_url(self):
        return self.environment.get_absolute_url()


class EnvironmentBooking(BaseModel):
    """A window of an environment held for a release, a phase or a team: exclusive (a change) or shared (regression).

    Requested, approved and active bookings hold their window (`LIVE_BOOKING_STATUSES`); the services keep every
    environment within its capacity at every instant (see `environments.rules`).
    """

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="The end of the window (exclusive).")
    usage = models.CharField(max_length=20, choices=BookingUsage.choices, default=BookingUsage.EXCLUSIVE)
    status = models.CharField(max_length=20, choices=BookingStatus.choices, default=BookingStatus.REQUESTED)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings")
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="environment_bookings"
    )
    phase = models.ForeignKey(
        Phase,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="environment_bookings",
        help_text="The phase this booking serves: it moves when the phase moves.",
    )
    purpose = models.CharField(max_length=200, blank=True)
    series = models.UUIDField(null=True, blank=True, help_text="Shared by the occurrences of a recurring booking.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = "booking"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="environments_booking_ends_after_start",
                violation_error_message="A booking ends after it starts.",
            ),
        ]
        indexes = [
            # The conflict check: one environment's bookings that end after a moment, read in order.
            models.Index(fields=["environment", "ends_at", "starts_at"], name="env_booking_env_idx"),
            # The schedule: every booking in a window.
            models.Index(fields=["starts_at", "ends_at"], name="env_booking_window_idx"),
            models.Index(fields=["series"], name="env_booking_series_idx"),
        ]

    def __str__(self):
        return f"{self.environment.name} {self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("environments:booking_detail", args=[self.pk])


class EnvironmentRequest(BaseModel):
    """Work an environment team must do before a phase can use an environment: provision, change, refresh, retire."""

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    environment = models.ForeignKey(
        Environment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        help_text="Empty for the provisioning of an environment that does not exist yet.",
    )
    environment_type = models.CharField(
        "environment type",
        max_length=20,
        choices=EnvironmentType.choices,
        blank=True,
        help_text="For provisioning: the kind of environment wanted.",
    )
    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="environment_requests"
    )
    phase = models.ForeignKey(
        Phase,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="environment_requests",
        help_text="The phase that needs the environment: the request is due before it starts.",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="environment_requests")
    effort_hours = models.DecimalField(
        max_digits=7,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("10000"))],
    )
    sla_days = models.PositiveSmallIntegerField(
        "SLA (working days)",
        validators=[MinValueValidator(1), MaxValueValidator(250)],
        help_text="Working days the team has to complete the request.",
    )
    status = models.CharField(max_length=20, choices=RequestStatus.choices, default=RequestStatus.REQUESTED)
    starts_on = models.DateField(help_text="When the team starts: the due date less the SLA, in working days.")
    due_on = models.DateField(help_text="The last working day before the phase that needs it starts, or as given.")
    masking = models.CharField(
        max_length=20,
        choices=MaskingStatus.choices,
        default=MaskingStatus.NOT_NEEDED,
        help_text="For a data refresh into a non-production environment: personal data must be masked first.",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=F("starts_on")),
                name="environments_request_due_after_start",
                violation_error_message="The due date cannot be before the start.",
            ),
            models.CheckConstraint(
                condition=Q(effort_hours__gt=0),
                name="environments_request_effort_positive",
                violation_error_message="The effort is more than zero hours.",
            ),
        ]
        indexes = [models.Index(fields=["team", "status", "due_on"], name="env_request_team_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("environments:request_detail", args=[self.pk])


class Deployment(models.Model):
    """A system's version deployed into an environment at a time, and how it went: an append-only fact.

    `change_reference` names the change request (the changes app links back to it by that reference).
    `external_id`, when given, makes a repeated report from the same source (a retried pipeline) a duplicate.
    """

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="deployments")
    environment = models.ForeignKey(Environment, on_delete=models.PROTECT, related_name="deployments")
    version = models.CharField(max_length=MAX_VERSION_LENGTH)
    deployed_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=DeploymentOutcome.choices, default=DeploymentOutcome.SUCCEEDED)
    source = models.CharField(max_length=20, choices=DeploymentSource.choices, default=DeploymentSource.MANUAL)
    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="deployments")
    change_reference = models.CharField(max_length=50, blank=True)
    external_id = models.CharField(max_length=100, blank=True, help_text="The pipeline run or job that reported it.")
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-deployed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="environments_deployment_external_unique",
                violation_error_code="unique",
                violation_error_message="A deployment with this source and external id is already recorded.",
            )
        ]
        indexes = [
            models.Index(fields=["environment", "deployed_at"], name="env_deploy_env_idx"),
            models.Index(fields=["system", "deployed_at"], name="env_deploy_sys_idx"),
            models.Index(fields=["deployed_at"], name="env_deploy_at_idx"),
        ]

    def __str__(self):
        return f"{self.system.name} {self.version} to {self.environment.name}"

    def get_absolute_url(self):
        return reverse("environments:deployment_list") + f"?environment={self.environment_id}"
