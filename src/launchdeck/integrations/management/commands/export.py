import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from launchdeck.core.errors import DomainError
from launchdeck.integrations import services
from launchdeck.integrations.datasets import DATASETS


class Command(BaseCommand):
    help = "Export datasets as CSV (one dataset) or XLSX (a sheet each) to a file or standard output."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dataset", action="append", choices=list(DATASETS), help="Repeat for several; all by default."
        )
        parser.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")

    def handle(self, *args, dataset, format, output, **options):
        try:
            _, content = services.export_file(user=None, datasets=dataset or list(DATASETS), file_format=format)
        except DomainError as exc:
            raise CommandError(exc.detail) from None
        if output:
            Path(output).write_bytes(content)
            self.stdout.write(f"Wrote {len(content):,} bytes to {output}.")
        else:
            sys.stdout.buffer.write(content)
