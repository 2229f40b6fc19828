"""The fixed vocabularies of release planning."""

from django.db import models


class ReleaseKind(models.TextChoices):
    ENTERPRISE = "enterprise", "Enterprise release (train)"
    PROJECT = "project", "Project release"
    INDEPENDENT = "independent", "Independent release"


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


CLOSED_STATUSES = frozenset({ReleaseStatus.RELEASED, ReleaseStatus.CANCELLED})


class PhaseKind(models.TextChoices):
    PLAN = "plan", "Plan"
    BUILD = "build", "Build"
    SIT = "sit", "System integration test"
    UAT = "uat", "User acceptance test"
    PERFORMANCE = "performance", "Performance test"
    STAGING = "staging", "Staging"
    RELEASE = "release", "Release"
    WARRANTY = "warranty", "Warranty"


class PhaseStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class EnvironmentType(models.TextChoices):
    """Kinds of environment a phase needs; the environments app classifies its environments by the same list."""

    DEV = "dev", "Development"
    SIT = "sit", "SIT"
    UAT = "uat", "UAT"
    PERFORMANCE = "performance", "Performance"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    DR = "dr", "Disaster recovery"


class MilestoneKind(models.TextChoices):
    SCOPE_FREEZE = "scope_freeze", "Scope freeze"
    CODE_FREEZE = "code_freeze", "Code freeze"
    GO_NO_GO = "go_no_go", "Go / no-go"
    DEPLOY = "deploy", "Deploy"
    OTHER = "other", "Other"


class MilestoneAnchor(models.TextChoices):
    PHASE_START = "start", "Start of the phase"
    PHASE_END = "end", "End of the phase"


class GateStatus(models.TextChoices):
    OPEN = "open", "Open"
    PASSED = "passed", "Passed"
    REJECTED = "rejected", "Rejected"
    OVERRIDDEN = "overridden", "Overridden"


GATE_MET_STATUSES = frozenset({GateStatus.PASSED, GateStatus.OVERRIDDEN})


class ApprovalDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class CriterionKind(models.TextChoices):
    MANUAL = "manual", "Checklist item"
    AUTOMATIC = "automatic", "Automatic check"


class SystemImpact(models.TextChoices):
    IMPACTED = "impacted", "Impacted"
    REGRESSION = "regression", "Regression-dependent"


class FreezeCategory(models.TextChoices):
    DEPLOYMENT = "deployment", "Deployments"
    CHANGE = "change", "Changes"
    BOOKING = "booking", "Environment bookings"


class FreezeScope(models.TextChoices):
    ORGANISATION = "organisation", "Whole organisation"
    PORTFOLIOS = "portfolios", "Portfolios"
    SYSTEMS = "systems", "Systems"
    ENVIRONMENTS = "environments", "Environments"


class Recurrence(models.TextChoices):
    NONE = "none", "One-off"
    WEEKLY = "weekly", "Every week"
    MONTHLY = "monthly", "Every month"
    YEARLY = "yearly", "Every year"


class DependencyKind(models.TextChoices):
    FINISH_TO_START = "FS", "Finish to start"
    START_TO_START = "SS", "Start to start"
    FINISH_TO_FINISH = "FF", "Finish to finish"
    START_TO_FINISH = "SF", "Start to finish"


# How each kind reads from the waiting item's side: "<waiting> starts after <other> finishes". The one wording of
# the kinds: the release page's sentences and the dependency form's choices are made from it.
DEPENDENCY_KIND_WORDS = {
    DependencyKind.FINISH_TO_START: ("starts after", "finishes"),
    DependencyKind.START_TO_START: ("starts after", "starts"),
    DependencyKind.FINISH_TO_FINISH: ("finishes after", "finishes"),
    DependencyKind.START_TO_FINISH: ("finishes after", "starts"),
}
