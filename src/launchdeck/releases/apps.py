from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "launchdeck.releases"
    label = "releases"
    verbose_name = "Releases"
