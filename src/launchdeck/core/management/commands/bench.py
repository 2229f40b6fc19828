import subprocess
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the benchmarks in ./benchmarks (each in its own process and database) and print their results."

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", help="Benchmark names (file names without bench_ and .py); all when omitted."
        )
        parser.add_argument(
            "--dir", default="benchmarks", help="Where the benchmark scripts are (default ./benchmarks)."
        )
        parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
        parser.add_argument("--database-url", help="Run against this database instead of a fresh SQLite file.")

    def handle(self, *args, names, dir, list, database_url, **options):
        folder = Path(dir)
        scripts = sorted(folder.glob("bench_*.py"))
        if not scripts:
            raise CommandError(f"No benchmarks found in {folder.resolve()} (run from the source checkout).")
        available = {script.stem.removeprefix("bench_"): script for script in scripts}
        if list:
            for name in available:
                self.stdout.write(name)
            return
        unknown = [name for name in names if name not in available]
        if unknown:
            raise CommandError(f"Unknown benchmark {', '.join(unknown)}; choose from {', '.join(available)}.")
        failed = []
        for name in names or available:
            self.stdout.write(f"== {name}")
            self.stdout.flush()
            extra = ["--database-url", database_url] if database_url else []
            if subprocess.run([sys.executable, str(available[name]), *extra], check=False).returncode != 0:
                failed.append(name)
        if failed:
            raise CommandError(f"Benchmarks failed: {', '.join(failed)}")
