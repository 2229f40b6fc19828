from django.db import models


class InitiativeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class AllocationUnit(models.TextChoices):
    PERSON_DAYS = "person_days", "Person-days per week"
    PERCENT = "percent", "% of the team's capacity"


class RegisterKind(models.TextChoices):
    LESSON = "lesson", "Lesson learned"
    RISK = "risk", "Risk"
    ASSUMPTION = "assumption", "Assumption"
    ISSUE = "issue", "Issue"
    DEPENDENCY = "dependency", "Dependency"


class RegisterCategory(models.TextChoices):
    ENVIRONMENTS = "environments", "Environments"
    TESTING = "testing", "Testing"
    REQUIREMENTS = "requirements", "Requirements"
    DEPENDENCIES = "dependencies", "Dependencies"
    RESOURCING = "resourcing", "Resourcing"
    VENDOR = "vendor", "Vendor"
    TOOLING = "tooling", "Tooling"
    COMMUNICATION = "communication", "Communication"
    SCHEDULE = "schedule", "Schedule"
    BUDGET = "budget", "Budget"
    COMPLIANCE = "compliance", "Compliance"
    DATA = "data", "Data"
    OTHER = "other", "Other"


class Impact(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class RegisterStatus(models.TextChoices):
    OPEN = "open", "Open"
    MITIGATING = "mitigating", "Mitigating"
    CLOSED = "closed", "Closed"
    RECORDED = "recorded", "Recorded"


RAID_KINDS = (RegisterKind.RISK, RegisterKind.ASSUMPTION, RegisterKind.ISSUE, RegisterKind.DEPENDENCY)
RAID_STATUSES = (RegisterStatus.OPEN, RegisterStatus.MITIGATING, RegisterStatus.CLOSED)
OPEN_STATUSES = (RegisterStatus.OPEN, RegisterStatus.MITIGATING)
IMPACT_ORDER = {Impact.LOW: 1, Impact.MEDIUM: 2, Impact.HIGH: 3, Impact.CRITICAL: 4}
