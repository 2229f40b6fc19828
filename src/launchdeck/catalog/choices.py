from django.db import models


class SystemKind(models.TextChoices):
    APPLICATION = "application", "Application"
    SERVICE = "service", "Service"


class Lifecycle(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_DEVELOPMENT = "in_development", "In development"
    LIVE = "live", "Live"
    SUNSETTING = "sunsetting", "Sunsetting"
    RETIRED = "retired", "Retired"


class Tier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1 (business critical)"
    TIER_2 = 2, "Tier 2"
    TIER_3 = 3, "Tier 3"
    TIER_4 = 4, "Tier 4 (low impact)"


class InterfaceKind(models.TextChoices):
    API = "api", "API"
    DATA_FEED = "data_feed", "Data feed"
    BATCH = "batch", "Batch"
    UI = "ui", "UI"


class DependencyCriticality(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"


class Direction(models.TextChoices):
    DOWNSTREAM = "downstream", "Downstream (what depends on it)"
    UPSTREAM = "upstream", "Upstream (what it depends on)"
