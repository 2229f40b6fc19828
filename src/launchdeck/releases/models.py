"""Release templates, releases and trains, their phases, milestones and gates, and freeze windows."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import reverse

from launchdeck.catalog.models import System
from launchdeck.core.models import BaseModel
from launchdeck.org.models import Calendar
from launchdeck.portfolio.models import Initiative, Portfolio, Project
from launchdeck.releases.choices import (
    ApprovalDecision,
    CriterionKind,
    DependencyKind,
    EnvironmentType,
    FreezeCategory,
    FreezeScope,
    GateStatus,
    MilestoneAnchor,
    MilestoneKind,
    PhaseKind,
    PhaseStatus,
    Recurrence,
    ReleaseKind,
    ReleaseStatus,
    SystemImpact,
)

EFFORT = {"max_digits": 9, "decimal_places": 1}


def _unique_name(model: str, *scope: str, message: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        *scope,
        Lower("name"),
        name=f"releases_{model}_name_unique",
        violation_error_code="unique",
        violation_error_message=message,
    )


def _ends_after_start(model: str, start: str, end: str, message: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{start}__isnull": True}) | Q(**{f"{end}__isnull": True}) | Q(**{f"{end}__gte": F(start)}),
        name=f"releases_{model}_{end}_after_{start}",
        violation_error_message=message,
    )


# Templates


class ReleaseTemplate(BaseModel):
    """A standard release lifecycle: the phases, milestones and gates every release made from it follows."""

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    release_kind = models.CharField(
        max_length=20,
        choices=ReleaseKind.choices,
        default=ReleaseKind.PROJECT,
        help_text="The kind of release this template is meant for.",
    )
    is_active = models.BooleanField(default=True, help_text="Inactive templates are kept but not offered.")

    class Meta:
        ordering = ["name"]
        constraints = [_unique_name("template", message="A template with this name already exists.")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("releases:template_detail", args=[self.pk])


class PhaseTemplate(BaseModel):
    """One phase of a template, placed by working days from the release's start."""

    template = models.ForeignKey(ReleaseTemplate, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(help_text="Order of the phase in the lifecycle.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=PhaseKind.choices)
    start_offset_days = models.PositiveIntegerField(
        default=0, help_text="Working days from the release's start to the phase's start."
    )
    duration_days = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(1000)], help_text="Length in working days."
    )
    environment_type = models.CharField(max_length=20, choices=EnvironmentType.choices, blank=True)
    test_effort_days = models.DecimalField(
        **EFFORT, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))], help_text="Person-days."
    )
    is_required = models.BooleanField(default=True, help_text="Every release made from the template needs dates.")

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            _unique_name("phasetemplate", "template", message="This template already has a phase with this name."),
            models.UniqueConstraint(
                fields=["template", "position"],
                name="releases_phasetemplate_position_unique",
                violation_error_code="unique",
                violation_error_message="This template already has a phase at this position.",
            ),
            models.CheckConstraint(
                condition=Q(duration_days__gte=1),
                name="releases_phasetemplate_duration_positive",
                violation_error_message="A phase lasts at least one working day.",
            ),
            models.CheckConstraint(
                condition=Q(test_effort_days__gte=0),
                name="releases_phasetemplate_effort_not_negative",
                violation_error_message="Test effort cannot be negative.",
            ),
        ]

    def __str__(self):
        return f"{self.template.name} / {self.name}"


class MilestoneTemplate(BaseModel):
    """A milestone of a template, anchored to the start or end of one of its phases."""

    template = models.ForeignKey(ReleaseTemplate, on_delete=models.CASCADE, related_name="milestones")
    phase = models.ForeignKey(PhaseTemplate, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=MilestoneKind.choices, default=MilestoneKind.OTHER)
    anchor = models.CharField(max_length=10, choices=MilestoneAnchor.choices, default=MilestoneAnchor.PHASE_END)
    offset_days = models.IntegerField(
        default=0,
        validators=[MinValueValidator(-250), MaxValueValidator(250)],
        help_text="Working days after (or, negative, before) the anchor.",
    )

    class Meta:
        ordering = ["template", "phase__position", "name"]
        constraints = [
            _unique_name(
                "milestonetemplate", "template", message="This template already has a milestone with this name."
            )
        ]

    def __str__(self):
        return f"{self.template.name} / {self.name}"


class GateTemplate(BaseModel):
    """A quality gate of a template: criteria to meet and the roles that approve, at the end of a phase."""

    template = models.ForeignKey(ReleaseTemplate, on_delete=models.CASCADE, related_name="gates")
    phase = models.ForeignKey(
        PhaseTemplate,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="gates",
        help_text="The phase whose end the gate closes; empty for the end of the release.",
    )
    name = models.CharField(max_length=100)
    blocks = models.CharField(
        max_length=20,
        choices=[(value, label) for value, label in ReleaseStatus.choices if value not in ("draft", "cancelled")],
        default=ReleaseStatus.RELEASED,
        help_text="The status a release cannot move to until this gate is passed.",
    )
    approver_roles = models.JSONField(default=list, blank=True, help_text="Roles that must each approve.")
    checklist = models.JSONField(default=list, blank=True, help_text="Checklist items a person ticks off.")
    checks = models.JSONField(default=list, blank=True, help_text="Keys of automatic checks from the check registry.")

    class Meta:
        ordering = ["template", "name"]
        constraints = [
            _unique_name("gatetemplate", "template", message="This template already has a gate with this name.")
        ]

    def __str__(self):
        return f"{self.template.name} / {self.name}"


# Releases


class Release(BaseModel):
    """A release: an enterprise train, a project release (in a train or standalone) or an independent one."""

    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=ReleaseKind.choices, default=ReleaseKind.PROJECT)
    status = models.CharField(max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT)
    train = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The enterprise release (train) this project release travels in.",
    )
    inherits_train_dates = models.BooleanField(
        default=False, help_text="Phases of the same kind as the train's follow the train's dates."
    )
    template = models.ForeignKey(
        ReleaseTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="releases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_releases"
    )
    portfolio = models.ForeignKey(Portfolio, null=True, blank=True, on_delete=models.PROTECT, related_name="releases")
    initiative = models.ForeignKey(Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="releases")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="releases")
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="releases",
        help_text="Working calendar for its dates; weekends only when empty.",
    )
    description = models.TextField(blank=True)
    planned_start = models.DateField()
    planned_end = models.DateField()
    baseline_start = models.DateField(null=True, blank=True, help_text="Planned start when the release was planned.")
    baseline_end = models.DateField(null=True, blank=True, help_text="Planned end when the release was planned.")
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["planned_start", "name"]
        constraints = [
            _unique_name("release", message="A release with this name already exists."),
            _ends_after_start("release", "planned_start", "planned_end", "The end date cannot be before the start."),
            _ends_after_start("release", "baseline_start", "baseline_end", "The end date cannot be before the start."),
            _ends_after_start("release", "actual_start", "actual_end", "The end date cannot be before the start."),
            models.CheckConstraint(
                condition=Q(train__isnull=True) | Q(kind=ReleaseKind.PROJECT),
                name="releases_release_only_project_in_train",
                violation_error_message="Only project releases travel in a train.",
            ),
            models.CheckConstraint(
                condition=~Q(train=F("id")),
                name="releases_release_not_own_train",
                violation_error_message="A release cannot be its own train.",
            ),
        ]
        indexes = [
            models.Index(fields=["planned_start", "planned_end"], name="releases_release_window_idx"),
            models.Index(fields=["status"], name="releases_release_status_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("releases:release_detail", args=[self.pk])


class ReleaseSystem(models.Model):
    """A system in a release's scope, with the version the release takes it to."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="scope")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="release_scope")
    impact = models.CharField(max_length=20, choices=SystemImpact.choices, default=SystemImpact.IMPACTED)
    target_version = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["release", "system__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "system"],
                name="releases_releasesystem_unique",
                violation_error_code="unique",
                violation_error_message="This system is already in the release's scope.",
            )
        ]
        indexes = [models.Index(fields=["system", "release"], name="releases_scope_system_idx")]

    def __str__(self):
        return f"{self.release} / {self.system}"


class Phase(BaseModel):
    """A phase of one release (build, SIT, UAT…) with its planned, baseline and actual dates."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="phases")
    template = models.ForeignKey(PhaseTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    train_phase = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inheriting_phases",
        help_text="The train's phase whose dates this one follows.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=PhaseKind.choices)
    status = models.CharField(max_length=20, choices=PhaseStatus.choices, default=PhaseStatus.NOT_STARTED)
    planned_start = models.DateField()
    planned_end = models.DateField()
    baseline_start = models.DateField(null=True, blank=True)
    baseline_end = models.DateField(null=True, blank=True)
    actual_start = models.DateField(null=True, blank=True)
    actual_end = models.DateField(null=True, blank=True)
    percent_complete = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    environment_type = models.CharField(max_length=20, choices=EnvironmentType.choices, blank=True)
    test_effort_days = models.DecimalField(
        **EFFORT, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))], help_text="Person-days."
    )
    is_required = models.BooleanField(default=True)

    class Meta:
        ordering = ["release", "position", "planned_start"]
        constraints = [
            _unique_name("phase", "release", message="This release already has a phase with this name."),
            _ends_after_start("phase", "planned_start", "planned_end", "The end date cannot be before the start."),
            _ends_after_start("phase", "actual_start", "actual_end", "The end date cannot be before the start."),
            models.CheckConstraint(
                condition=Q(percent_complete__lte=100),
                name="releases_phase_percent_range",
                violation_error_message="Percent complete is between 0 and 100.",
            ),
        ]
        indexes = [models.Index(fields=["planned_start", "planned_end"], name="releases_phase_window_idx")]

    def __str__(self):
        return f"{self.release.name} / {self.name}"

    def get_absolute_url(self):
        return self.release.get_absolute_url()


class Milestone(BaseModel):
    """A dated point of a release (code freeze, go/no-go, deploy), usually inside one of its phases."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="milestones")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="milestones")
    template = models.ForeignKey(MilestoneTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=MilestoneKind.choices, default=MilestoneKind.OTHER)
    planned_date = models.DateField()
    baseline_date = models.DateField(null=True, blank=True)
    actual_date = models.DateField(null=True, blank=True, help_text="When it was reached.")

    class Meta:
        ordering = ["release", "planned_date", "name"]
        constraints = [
            _unique_name("milestone", "release", message="This release already has a milestone with this name.")
        ]
        indexes = [models.Index(fields=["planned_date"], name="releases_milestone_date_idx")]

    def __str__(self):
        return f"{self.release.name} / {self.name}"

    def get_absolute_url(self):
        return self.release.get_absolute_url()


class Gate(BaseModel):
    """A quality gate of a release: criteria and approvals that must hold before the release may move on."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="gates")
    phase = models.ForeignKey(Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="gates")
    template = models.ForeignKey(GateTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=100)
    blocks = models.CharField(
        max_length=20,
        choices=[(value, label) for value, label in ReleaseStatus.choices if value not in ("draft", "cancelled")],
        default=ReleaseStatus.RELEASED,
        help_text="The status the release cannot move to until this gate is passed.",
    )
    due_date = models.DateField(help_text="When the decision is due: the end of its phase, or of the release.")
    approver_roles = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=GateStatus.choices, default=GateStatus.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["release", "due_date", "name"]
        constraints = [_unique_name("gate", "release", message="This release already has a gate with this name.")]
        indexes = [models.Index(fields=["status", "due_date"], name="releases_gate_status_idx")]

    def __str__(self):
        return f"{self.release.name} / {self.name}"

    def get_absolute_url(self):
        return self.release.get_absolute_url()


class GateCriterion(models.Model):
    """One criterion of a gate: a checklist item a person ticks, or an automatic check from the registry."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=CriterionKind.choices, default=CriterionKind.MANUAL)
    text = models.CharField(max_length=300)
    check_key = models.CharField(max_length=60, blank=True, help_text="Registry key of an automatic check.")
    is_met = models.BooleanField(default=False, help_text="For checklist items: ticked off.")
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    met_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["gate", "position", "id"]
        verbose_name_plural = "gate criteria"

    def __str__(self):
        return self.text


class GateApproval(models.Model):
    """One role's decision on a gate, by a person holding that role, with a comment."""

    gate = models.ForeignKey(Gate, on_delete=models.CASCADE, related_name="approvals")
    role = models.CharField(max_length=40)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="gate_approvals")
    decision = models.CharField(max_length=20, choices=ApprovalDecision.choices)
    comment = models.TextField(blank=True)
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["gate", "decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["gate", "role"],
                name="releases_gateapproval_role_once",
                violation_error_code="unique",
                violation_error_message="This role has already decided on this gate.",
            ),
            models.UniqueConstraint(
                fields=["gate", "approver"],
                name="releases_gateapproval_person_once",
                violation_error_code="unique",
                violation_error_message="You have already decided on this gate.",
            ),
        ]

    def __str__(self):
        return f"{self.gate} / {self.role}: {self.decision}"


# Freeze windows


class FreezeWindow(BaseModel):
    """A blackout: days in which deployments, changes or bookings are not allowed, once or recurring."""

    name = models.CharField(max_length=150)
    category = models.CharField(max_length=20, choices=FreezeCategory.choices, default=FreezeCategory.DEPLOYMENT)
    scope = models.CharField(max_length=20, choices=FreezeScope.choices, default=FreezeScope.ORGANISATION)
    portfolios = models.ManyToManyField(Portfolio, blank=True, related_name="freeze_windows")
    systems = models.ManyToManyField(System, blank=True, related_name="freeze_windows")
    environment_types = models.JSONField(
        default=list, blank=True, help_text="For an environments freeze: the kinds of environment it covers."
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    recurrence = models.CharField(max_length=20, choices=Recurrence.choices, default=Recurrence.NONE)
    recurs_until = models.DateField(null=True, blank=True, help_text="Last day a recurring freeze may start.")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_on", "name"]
        constraints = [
            _unique_name("freezewindow", message="A freeze window with this name already exists."),
            _ends_after_start("freezewindow", "starts_on", "ends_on", "The end date cannot be before the start."),
            _ends_after_start(
                "freezewindow", "starts_on", "recurs_until", "A freeze cannot stop recurring before it starts."
            ),
        ]
        indexes = [models.Index(fields=["starts_on", "ends_on"], name="releases_freeze_window_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("releases:freezewindow_detail", args=[self.pk])


# The schedule: dependencies between releases, phases and milestones, and the history of applied date changes

MAX_LAG_DAYS = 250
"""The longest lag or lead of a dependency, in working days (about a year)."""


class ScheduleDependency(BaseModel):
    """One item of the plan (a release, a phase or a milestone) waits for another: FS, SS, FF or SF, with a lag.

    Each end names its release, and at most one phase or milestone of that release (neither: the release itself).
    `predecessor_key` and `successor_key` ("release:12", "phase:34", "milestone:56") are the schedule engine's keys of
    the two ends, kept by the services; they make a dependency unique and a self-dependency impossible.
    """

    predecessor_release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="successor_links")
    predecessor_phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="successor_links"
    )
    predecessor_milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="successor_links"
    )
    successor_release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="predecessor_links")
    successor_phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.CASCADE, related_name="predecessor_links"
    )
    successor_milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.CASCADE, related_name="predecessor_links"
    )
    predecessor_key = models.CharField(max_length=40, editable=False)
    successor_key = models.CharField(max_length=40, editable=False)
    kind = models.CharField(max_length=2, choices=DependencyKind.choices, default=DependencyKind.FINISH_TO_START)
    lag_days = models.IntegerField(
        default=0,
        validators=[MinValueValidator(-MAX_LAG_DAYS), MaxValueValidator(MAX_LAG_DAYS)],
        help_text="Working days between the two (negative: a lead).",
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["successor_release_id", "successor_key", "predecessor_key"]
        constraints = [
            models.UniqueConstraint(
                "predecessor_key",
                "successor_key",
                name="releases_scheduledependency_unique",
                violation_error_code="unique",
                violation_error_message="These two items are already linked by a dependency.",
            ),
            models.CheckConstraint(
                condition=~Q(predecessor_key=F("successor_key")),
                name="releases_scheduledependency_not_self",
                violation_error_message="An item cannot depend on itself.",
            ),
            models.CheckConstraint(
                condition=Q(predecessor_phase__isnull=True) | Q(predecessor_milestone__isnull=True),
                name="releases_scheduledependency_one_predecessor",
                violation_error_message="A dependency starts from a phase or a milestone, not both.",
            ),
            models.CheckConstraint(
                condition=Q(successor_phase__isnull=True) | Q(successor_milestone__isnull=True),
                name="releases_scheduledependency_one_successor",
                violation_error_message="A dependency ends at a phase or a milestone, not both.",
            ),
            models.CheckConstraint(
                condition=Q(lag_days__gte=-MAX_LAG_DAYS) & Q(lag_days__lte=MAX_LAG_DAYS),
                name="releases_scheduledependency_lag_range",
                violation_error_message=f"A lag is at most {MAX_LAG_DAYS} working days either way.",
            ),
        ]
        indexes = [
            models.Index(fields=["predecessor_release"], name="releases_dep_pred_release_idx"),
            models.Index(fields=["successor_release"], name="releases_dep_succ_release_idx"),
        ]

    def __str__(self):
        lag = f" {self.lag_days:+d}wd" if self.lag_days else ""
        return f"{self.predecessor_key} -{self.kind}{lag}-> {self.successor_key}"


class ScheduleChange(models.Model):
    """One entry of a release's date-change history: who moved it, when, why, from which dates to which.

    Written by the services whenever a release's planned window moves (an applied schedule change, or an edit of its
    dates); the shifts are in working days on the release's calendar, positive when later.
    """

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="schedule_changes")
    batch = models.UUIDField(help_text="Shared by every entry written by one applied change.")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    cause = models.CharField(max_length=300, blank=True, help_text="What moved it, e.g. the chain of dependencies.")
    old_start = models.DateField()
    old_end = models.DateField()
    new_start = models.DateField()
    new_end = models.DateField()
    start_shift_days = models.IntegerField(default=0)
    end_shift_days = models.IntegerField(default=0)
    items_moved = models.PositiveIntegerField(default=0, help_text="Phases, milestones and gates of it that moved.")
    audit_event = models.ForeignKey(
        "audit.AuditEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["release", "occurred_at"], name="releases_schedulechange_idx")]

    def __str__(self):
        return f"{self.release}: {self.old_start} to {self.old_end} → {self.new_start} to {self.new_end}"
