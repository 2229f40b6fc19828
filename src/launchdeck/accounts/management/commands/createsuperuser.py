from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used in Launchdeck: create an administrator with `launchdeck user create NAME --role admin`."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")
        parser.add_argument("--username")
        parser.add_argument("--email")
        parser.add_argument("--noinput", "--no-input", action="store_true")

    def handle(self, *args, **options):
        raise CommandError(
            "Use `launchdeck user create NAME --role admin`: it checks the password rules and records the change "
            "in the audit trail."
        )
