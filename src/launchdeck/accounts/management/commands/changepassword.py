from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used in Launchdeck: use `launchdeck user set-password NAME`."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")

    def handle(self, *args, **options):
        raise CommandError("Use `launchdeck user set-password NAME`: it records the change in the audit trail.")
