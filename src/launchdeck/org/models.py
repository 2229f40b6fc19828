from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from launchdeck.core.models import BaseModel
from launchdeck.org.choices import Skill


def _unique_name(model: str, label: str = "name") -> models.UniqueConstraint:
    return models.UniqueConstraint(
        Lower("name"),
        name=f"org_{model}_name_unique",
        violation_error_code="unique",
        violation_error_message=f"A {model} with this {label} already exists.",
    )


class Calendar(BaseModel):
    """A working calendar: which weekdays are weekend, whose public holidays apply, and extra closures."""

    name = models.CharField(max_length=100)
    country = models.CharField(
        max_length=2,
        blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use a two-letter country code such as GB or DE.")],
        help_text="ISO 3166 country code whose public holidays apply; empty for weekends only.",
    )
    subdivision = models.CharField(max_length=10, blank=True, help_text="Region within the country, e.g. ENG or BY.")
    weekend = models.JSONField(default=list, blank=True, help_text="Weekday numbers off work, Monday = 0.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [_unique_name("calendar")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:calendar_detail", args=[self.pk])


class CalendarClosure(BaseModel):
    """Days a calendar does not work beyond weekends and public holidays, e.g. a year-end shutdown."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closures")
    name = models.CharField(max_length=100)
    start = models.DateField()
    end = models.DateField()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")),
                name="org_closure_end_after_start",
                violation_error_message="A closure cannot end before it starts.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.start} to {self.end})"


class Department(BaseModel):
    """An organisational unit with its own cost centre; teams belong to one."""

    name = models.CharField(max_length=120)
    cost_centre = models.CharField(max_length=40, help_text="The finance code spend is booked against.")
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="departments")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("department"),
            models.UniqueConstraint(
                Lower("cost_centre"),
                name="org_department_cost_centre_unique",
                violation_error_code="unique",
                violation_error_message="Another department already uses this cost centre.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:department_detail", args=[self.pk])


class Team(BaseModel):
    """A delivery team: what it can do (skills) and how much (person-days per week)."""

    name = models.CharField(max_length=120)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="teams")
    capacity_person_days_per_week = models.DecimalField(
        max_digits=8,
        decimal_places=1,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100000"))],
        help_text="Person-days of work the team can take on in a normal week.",
    )
    calendar = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="teams",
        help_text="Empty: the department's calendar.",
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            _unique_name("team"),
            models.CheckConstraint(
                condition=models.Q(capacity_person_days_per_week__gte=0),
                name="org_team_capacity_not_negative",
                violation_error_message="Capacity cannot be negative.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("org:team_detail", args=[self.pk])

    @property
    def skill_codes(self) -> list[str]:
        held = {skill.skill for skill in self.skills.all()}
        return [code for code in Skill.values if code in held]


class TeamSkill(models.Model):
    """One skill a team has."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="skills")
    skill = models.CharField(max_length=20, choices=Skill.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "skill"], name="org_teamskill_unique")]

    def __str__(self):
        return self.get_skill_display()


class Person(BaseModel):
    """Someone who does the work, in one or more teams; linked to a user when they sign in."""

    full_name = models.CharField(max_length=150)
    email = models.EmailField(max_length=254)
    fte = models.DecimalField(
        "FTE",
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1.00"))],
        help_text="Full-time equivalent, from 0.01 to 1.",
    )
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="org_person_email_unique",
                violation_error_code="unique",
                violation_error_message="A person with this e-mail address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(fte__gt=0, fte__lte=1),
                name="org_person_fte_range",
                violation_error_message="FTE must be more than 0 and at most 1.",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("org:person_detail", args=[self.pk])
