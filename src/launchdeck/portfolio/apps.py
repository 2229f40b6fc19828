from django.apps import AppConfig


class PortfolioConfig(AppConfig):
    name = "launchdeck.portfolio"
    label = "portfolio"
    verbose_name = "Portfolio"

    def ready(self):
        from launchdeck.portfolio.panels import register

        register()
