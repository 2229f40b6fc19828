from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from launchdeck.core.errors import DomainError
from launchdeck.integrations import services
from launchdeck.integrations.datasets import DATASETS


class Command(BaseCommand):
    help = "Import a CSV or XLSX file: a dry run that reports every row, then (with --apply) all rows or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv or .xlsx file.")
        parser.add_argument("--dataset", choices=list(DATASETS), default="", help="What a CSV file holds.")
        parser.add_argument("--apply", action="store_true", help="Apply when no row is rejected (default: dry run).")

    def handle(self, *args, file, dataset, apply, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            services.check_upload_size(path.stat().st_size)
            batch = services.import_preview(actor=None, file_name=path.name, content=path.read_bytes(), dataset=dataset)
        except DomainError as exc:
            raise CommandError(_message(exc)) from None
        report = batch.report
        for row in report["rows"]:
            if row["action"] == "rejected":
                column = f" [{row['column']}]" if row.get("column") else ""
                self.stdout.write(f"REJECTED {row['sheet']} row {row['row']} ({row['key']}){column}: {row['reason']}")
        for key, counts in report["summary"].items():
            self.stdout.write(f"{key}: " + ", ".join(f"{count} {action}" for action, count in sorted(counts.items())))
        if report["rejected"]:
            raise CommandError(f"{report['rejected']} row(s) rejected; nothing imported.")
        if not apply:
            self.stdout.write(f"Dry run only (import {batch.pk}); run again with --apply to import.")
            return
        try:
            services.import_apply(actor=None, batch=batch)
        except DomainError as exc:
            raise CommandError(_message(exc)) from None
        self.stdout.write(f"Applied: import {batch.pk}.")


def _message(exc: DomainError) -> str:
    details = "; ".join(error["message"] for error in exc.errors)
    return f"{exc.detail} {details}".strip()
