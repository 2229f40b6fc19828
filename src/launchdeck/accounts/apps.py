from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "launchdeck.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self):
        from launchdeck.accounts.panels import register

        register()
