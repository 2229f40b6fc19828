from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from launchdeck.core.models import BaseModel
from launchdeck.org.models import Department, Team
from launchdeck.portfolio.choices import (
    AllocationUnit,
    Impact,
    InitiativeStatus,
    RegisterCategory,
    RegisterKind,
    RegisterStatus,
)

MONEY = {"max_digits": 14, "decimal_places": 2}


def _unique_name(model: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        Lower("name"),
        name=f"portfolio_{model}_name_unique",
        violation_error_code="unique",
        violation_error_message=f"{'An' if model[0] in 'aeiou' else 'A'} {model} with this name already exists.",
    )


def _ends_after_start(model: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(end__gte=models.F("start")),
        name=f"portfolio_{model}_end_after_start",
        violation_error_message="The end date cannot be before the start date.",
    )


class Portfolio(BaseModel):
    """A node of the portfolio tree: a grouping of change initiatives, possibly inside a larger portfolio."""

    name = models.CharField(max_length=150)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The portfolio this one sits in; empty for a top-level portfolio.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("portfolio"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")),
                name="portfolio_portfolio_not_own_parent",
                violation_error_message="A portfolio cannot sit in itself.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("portfolio:portfolio_detail", args=[self.pk])


class Initiative(BaseModel):
    """A change initiative (a programme): what it is for, who owns it, its budget and its dates."""

    portfolio = models.ForeignKey(Portfolio, on_delete=models.PROTECT, related_name="initiatives")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="initiatives", help_text="The department that sponsors it."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_initiatives"
    )
    name = models.CharField(max_length=150)
    objective = models.TextField(blank=True)
    start = models.DateField()
    end = models.DateField()
    budget = models.DecimalField(
        **MONEY,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The whole budget for the initiative's life.",
    )
    status = models.CharField(max_length=20, choices=InitiativeStatus.choices, default=InitiativeStatus.PROPOSED)

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("initiative"),
            _ends_after_start("initiative"),
            models.CheckConstraint(
                condition=models.Q(budget__gte=0),
                name="portfolio_initiative_budget_not_negative",
                violation_error_message="The budget cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("portfolio:initiative_detail", args=[self.pk])


class Project(BaseModel):
    """A project delivering part of an initiative, owned by one team."""

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="projects")
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=150)
    start = models.DateField()
    end = models.DateField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [_unique_name("project"), _ends_after_start("project")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("portfolio:project_detail", args=[self.pk])


class Spend(BaseModel):
    """Planned and actual spend of an initiative in one month, booked to one department's cost centre.

    `month` is the first day of the month. `actual` is empty until the month is booked. The variance
    (actual - planned) is derived wherever it is shown, never stored.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="spend")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="spend")
    month = models.DateField(help_text="The first day of the month.")
    planned = models.DecimalField(**MONEY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))])
    actual = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Empty until the month's actuals are booked.",
    )

    class Meta:
        ordering = ["month", "department__name"]
        verbose_name = "spend"
        verbose_name_plural = "spend"
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "department", "month"],
                name="portfolio_spend_one_row_per_month",
                violation_error_code="unique",
                violation_error_message="Spend for this initiative, department and month is already recorded.",
            ),
            models.CheckConstraint(
                condition=models.Q(planned__gte=0),
                name="portfolio_spend_planned_not_negative",
                violation_error_message="Planned spend cannot be negative.",
            ),
            models.CheckConstraint(
                condition=models.Q(actual__isnull=True) | models.Q(actual__gte=0),
                name="portfolio_spend_actual_not_negative",
                violation_error_message="Actual spend cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["month", "department"], name="portfolio_spend_month_idx")]

    def __str__(self):
        return f"{self.initiative} · {self.department} · {self.month:%b %Y}"

    def get_absolute_url(self):
        return self.initiative.get_absolute_url()

    @property
    def variance(self) -> Decimal | None:
        """Actual less planned; None until the month is booked."""
        return None if self.actual is None else self.actual - self.planned


class Allocation(BaseModel):
    """A team's commitment to an initiative for a period, in person-days per week or as a share of its capacity.

    Allocations beyond what a team can do are recorded as they are and flagged by `team_load`, never capped.
    """

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="allocations")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="allocations")
    start = models.DateField()
    end = models.DateField()
    unit = models.CharField(max_length=20, choices=AllocationUnit.choices, default=AllocationUnit.PERSON_DAYS)
    amount = models.DecimalField(
        max_digits=8,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("100000"))],
        help_text="Person-days per week, or per cent of the team's capacity (above 100 is allowed and flagged).",
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start", "team__name"]
        constraints = [
            _ends_after_start("allocation"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0),
                name="portfolio_allocation_amount_positive",
                violation_error_message="An allocation must be more than zero.",
            ),
        ]
        indexes = [models.Index(fields=["team", "start", "end"], name="portfolio_alloc_team_idx")]

    def __str__(self):
        return f"{self.team} on {self.initiative}: {self.amount_label}"

    def get_absolute_url(self):
        return self.initiative.get_absolute_url()

    @property
    def amount_label(self) -> str:
        amount = f"{Decimal(self.amount):f}"
        amount = amount.rstrip("0").rstrip(".") if "." in amount else amount
        if self.unit == AllocationUnit.PERCENT:
            return f"{amount}% of capacity"
        return f"{amount} person-days/week"

    @property
    def above_full_capacity(self) -> bool:
        """A percentage allocation above 100: more than the whole team, on its own."""
        return self.unit == AllocationUnit.PERCENT and self.amount > 100


class RegisterItem(BaseModel):
    """One entry of the register: a lesson learned, or a RAID item (risk, assumption, issue, dependency).

    Lessons are `recorded`; RAID items go open → mitigating → closed (and may be reopened). Category and tags make
    the challenges that recur across initiatives countable.
    """

    kind = models.CharField(max_length=20, choices=RegisterKind.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=RegisterCategory.choices)
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MEDIUM)
    status = models.CharField(max_length=20, choices=RegisterStatus.choices, default=RegisterStatus.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="register_items"
    )
    initiative = models.ForeignKey(
        Initiative, null=True, blank=True, on_delete=models.PROTECT, related_name="register_items"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="register_items")
    raised_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_on", "-pk"]
        verbose_name = "register item"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed_on__isnull=True) | models.Q(closed_on__gte=models.F("raised_on")),
                name="portfolio_registeritem_closed_after_raised",
                violation_error_message="An item cannot be closed before it was raised.",
            ),
            models.CheckConstraint(
                condition=(models.Q(kind=RegisterKind.LESSON) & models.Q(status=RegisterStatus.RECORDED))
                | (~models.Q(kind=RegisterKind.LESSON) & ~models.Q(status=RegisterStatus.RECORDED)),
                name="portfolio_registeritem_lessons_are_recorded",
                violation_error_message="Lessons are recorded; risks, assumptions, issues and dependencies are open, "
                "mitigating or closed.",
            ),
            models.CheckConstraint(
                condition=(models.Q(status=RegisterStatus.CLOSED) & models.Q(closed_on__isnull=False))
                | (~models.Q(status=RegisterStatus.CLOSED) & models.Q(closed_on__isnull=True)),
                name="portfolio_registeritem_closed_on_when_closed",
                violation_error_message="A closed item has a closing date, and only a closed item has one.",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "status"], name="portfolio_register_kind_idx"),
            models.Index(fields=["category", "raised_on"], name="portfolio_register_cat_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("portfolio:registeritem_detail", args=[self.pk])

    @property
    def tag_names(self) -> list[str]:
        return sorted(tag.name for tag in self.tags.all())


class RegisterTag(models.Model):
    """A tag on a register item (lower case), in its own table so tags can be counted and filtered anywhere."""

    item = models.ForeignKey(RegisterItem, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "name"], name="portfolio_registertag_unique")]
        indexes = [models.Index(fields=["name"], name="portfolio_registertag_name_idx")]

    def __str__(self):
        return self.name
