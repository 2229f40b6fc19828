from django.db import models


class AuditSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "Command line"
    JOB = "job", "Background job"
    WEBHOOK = "webhook", "Webhook"
