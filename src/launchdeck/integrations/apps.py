from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "launchdeck.integrations"
    label = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from launchdeck.integrations.panels import register

        register()
