from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "launchdeck.releases"
    label = "releases"
    verbose_name = "Releases"

    def ready(self):
        from launchdeck.releases import checks, panels, rollups

        checks.register_builtin_checks()
        panels.register()
        rollups.register()
