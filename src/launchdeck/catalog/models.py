from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from launchdeck.catalog.choices import DependencyCriticality, InterfaceKind, Lifecycle, SystemKind, Tier
from launchdeck.core.models import BaseModel
from launchdeck.org.models import Team


class System(BaseModel):
    """An application or service in the catalogue: who owns it and how much its failure matters."""

    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=SystemKind.choices, default=SystemKind.APPLICATION)
    owner_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="systems")
    tier = models.PositiveSmallIntegerField("criticality tier", choices=Tier.choices, default=Tier.TIER_3)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.LIVE)
    description = models.TextField(blank=True)
    external_ids = models.JSONField(
        default=dict, blank=True, help_text='Identifiers in other tools, e.g. {"cmdb": "CI004512"}.'
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="catalog_system_name_unique",
                violation_error_code="unique",
                violation_error_message="A system with this name already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(tier__gte=1, tier__lte=4),
                name="catalog_system_tier_range",
                violation_error_message="The criticality tier is 1, 2, 3 or 4.",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:system_detail", args=[self.pk])


class Component(BaseModel):
    """A deployable part of a system (a service, a database, a batch job, a user interface)."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "system",
                Lower("name"),
                name="catalog_component_name_unique",
                violation_error_code="unique",
                violation_error_message="This system already has a component with this name.",
            )
        ]

    def __str__(self):
        return f"{self.system.name} / {self.name}"

    def get_absolute_url(self):
        return self.system.get_absolute_url()


class SystemDependency(BaseModel):
    """`source` depends on `target`: a change to the target may break the source. Cycles are allowed."""

    source = models.ForeignKey(System, on_delete=models.CASCADE, related_name="dependencies")
    target = models.ForeignKey(System, on_delete=models.CASCADE, related_name="dependents")
    interface_kind = models.CharField(max_length=20, choices=InterfaceKind.choices, default=InterfaceKind.API)
    criticality = models.CharField(
        max_length=10, choices=DependencyCriticality.choices, default=DependencyCriticality.MEDIUM
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["source__name", "target__name"]
        verbose_name_plural = "system dependencies"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target"],
                name="catalog_dependency_unique",
                violation_error_code="unique",
                violation_error_message="This dependency is already recorded.",
            ),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")),
                name="catalog_dependency_not_on_itself",
                violation_error_message="A system cannot depend on itself.",
            ),
        ]
        indexes = [models.Index(fields=["target", "source"], name="catalog_dep_target_idx")]

    def __str__(self):
        return f"{self.source} depends on {self.target}"

    def get_absolute_url(self):
        return self.source.get_absolute_url()
