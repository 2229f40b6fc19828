from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "launchdeck.demo"
    label = "demo"
    verbose_name = "Demo data"
