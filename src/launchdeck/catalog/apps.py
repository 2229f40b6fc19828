from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "launchdeck.catalog"
    label = "catalog"
    verbose_name = "System catalogue"

    def ready(self):
        from launchdeck.catalog.panels import register

        register()
