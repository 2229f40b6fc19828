from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "launchdeck.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from launchdeck.audit.panels import register

        register()
