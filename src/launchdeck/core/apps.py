from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "launchdeck.core"
    label = "core"
    verbose_name = "Core"
