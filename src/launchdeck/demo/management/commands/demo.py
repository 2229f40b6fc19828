from django.core.management.base import BaseCommand, CommandError

from launchdeck.demo.generator import DEMO_PASSWORD, PRESETS, ROLE_PEOPLE, database_is_empty, load_demo


class Command(BaseCommand):
    help = "Load deterministic demo data: preset `demo` (small, for people) or `enterprise` (full scale)."

    def add_arguments(self, parser):
        parser.add_argument("--preset", choices=PRESETS, default="demo")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (default 1).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the database already has users.")

    def handle(self, *args, preset, seed, if_empty, **options):
        if not database_is_empty():
            if if_empty:
                self.stdout.write("The database already has data; demo data not loaded.")
                return
            raise CommandError("The database is not empty. Demo data loads only into an empty database.")
        result = load_demo(preset=preset, seed=seed)
        self.stdout.write(f"Loaded preset {result.preset!r} with seed {result.seed}:")
        for line in result.lines():
            self.stdout.write("  " + line)
        self.stdout.write(f"Sign in as any of: {', '.join(ROLE_PEOPLE)} — password: {DEMO_PASSWORD}")
