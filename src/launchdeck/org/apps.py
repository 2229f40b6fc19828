from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "launchdeck.org"
    label = "org"
    verbose_name = "Organisation"

    def ready(self):
        from launchdeck.org.panels import register

        register()
