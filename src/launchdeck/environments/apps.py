from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "launchdeck.environments"
    label = "environments"
    verbose_name = "Environments"

    def ready(self):
        from launchdeck.environments import panels

        panels.register()
