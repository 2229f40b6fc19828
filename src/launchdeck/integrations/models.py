from django.conf import settings
from django.db import models
from django.urls import reverse

from launchdeck.core.models import BaseModel


class ImportBatchStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    APPLIED = "applied", "Applied"
    REFUSED = "refused", "Refused"


class ImportBatch(BaseModel):
    """An uploaded spreadsheet, its dry-run report, and whether it was applied (all rows, or nothing)."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="import_batches"
    )
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=8)
    dataset = models.CharField(max_length=40, blank=True, help_text="For CSV files: which kind of rows they hold.")
    content = models.BinaryField()
    status = models.CharField(max_length=12, choices=ImportBatchStatus.choices, default=ImportBatchStatus.PREVIEWED)
    report = models.JSONField(default=dict)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "import batches"

    def __str__(self):
        return f"Import of {self.file_name}"

    def get_absolute_url(self):
        return reverse("integrations:import_detail", args=[self.pk])

    @classmethod
    def restrict_scope(cls, queryset, user, action):
        """People see their own imports; administrators see everyone's."""
        return queryset if user.has_perm("accounts.change_user") else queryset.filter(created_by=user)
