"""Importing spreadsheets: a dry run that reports every row, and an all-or-nothing apply.

Both run every row through the domain services inside one transaction: the dry run rolls it back, the apply
commits it only when no row was rejected. So the preview is exactly what the apply does, with the same rules.
"""

from collections import Counter

from django.db import transaction
from django.utils import timezone

from launchdeck.audit.services import audit_record
from launchdeck.core.errors import Conflict, DomainError, ValidationFailed
from launchdeck.core.permissions import require_perm
from launchdeck.integrations import tabular
from launchdeck.integrations.datasets import (
    DATASETS,
    RowRejected,
    forget_lookups,
    lookup_cache,
    ordered,
    reading_columns,
)
from launchdeck.integrations.models import ImportBatch, ImportBatchStatus


class _RollBack(Exception):
    pass


def _sheets(batch: ImportBatch) -> dict:
    data = bytes(batch.content)
    if batch.file_format == "xlsx":
        sheets = {name.strip().lower(): rows for name, rows in tabular.read_xlsx_sheets(data).items()}
        unknown = [name for name in sheets if name not in DATASETS]
        if unknown:
            raise ValidationFailed.field(
                "file",
                f"Unknown sheet {', '.join(repr(n) for n in unknown)}: name each sheet after what it holds "
                f"({', '.join(DATASETS)}).",
            )
        return sheets
    if batch.dataset not in DATASETS:
        raise ValidationFailed.field("dataset", f"Say what the CSV holds: one of {', '.join(DATASETS)}.")
    return {batch.dataset: tabular.read_csv(data)}


def _run(actor, batch: ImportBatch, *, commit: bool) -> dict:
    """Import every row through the services; return the report. Commits only if asked and nothing was rejected."""
    sheets = _sheets(batch)
    rows_report: list[dict] = []
    counts: dict[str, Counter] = {}
    total = 0
    try:
        with lookup_cache(), transaction.atomic():
            for key in ordered(sheets):
                dataset = DATASETS[key]
                rows = iter(sheets[key])
                header = [name.strip().lower() for name in next(rows, [])]
                dataset.check_header(header)
                counts[key] = Counter()
                for number, cells in enumerate(rows, start=2):
                    if not any(cells):
                        continue
                    total += 1
                    if total > tabular.MAX_ROWS:
                        raise ValidationFailed.field("file", f"The file has more than {tabular.MAX_ROWS:,} rows.")
                    row = dict(zip(header, cells, strict=False))
                    entry = {"sheet": key, "row": number, "key": cells[0] if cells else ""}
                    try:
                        with reading_columns(header), transaction.atomic():
                            entry["action"] = dataset.upsert(actor, row)
                    except RowRejected as exc:
                        entry.update(action="rejected", column=exc.column, reason=exc.message)
                        forget_lookups()
                    except DomainError as exc:
                        fields = [error["field"] for error in exc.errors if error["field"]]
                        entry.update(action="rejected", column=fields[0] if fields else None, reason=exc.detail)
                        forget_lookups()
                    counts[key][entry["action"]] += 1
                    rows_report.append(entry)
            rejected = sum(counter["rejected"] for counter in counts.values())
            if not commit or rejected:
                raise _RollBack
    except _RollBack:
        pass
    return {
        "rows": rows_report,
        "summary": {key: dict(counter) for key, counter in counts.items()},
        "rejected": sum(counter["rejected"] for counter in counts.values()),
        "total": total,
    }


def check_upload_size(size: int | None) -> None:
    """Refuse an upload that is too large or empty before its content is read."""
    tabular.check_size(size or 0)


def import_preview(*, actor, file_name: str, content: bytes, dataset: str = "") -> ImportBatch:
    """Read a spreadsheet and report what importing it would do, row by row, without changing anything."""
    require_perm(actor, "integrations.add_importbatch")
    tabular.check_size(len(content))
    file_format = tabular.detect_format(file_name, content[:8])
    batch = ImportBatch(
        created_by=actor,
        file_name=file_name[:255],
        file_format=file_format,
        dataset=dataset if file_format == "csv" else "",
        content=content,
    )
    batch.report = _run(actor, batch, commit=False)
    with transaction.atomic():
        batch.save()
        audit_record(actor, "import.previewed", batch, new=_summary(batch))
    return batch


def import_apply(*, actor, batch: ImportBatch) -> ImportBatch:
    """Apply a previewed import: every row, or (if any row is now rejected) nothing at all."""
    require_perm(actor, "integrations.add_importbatch")
    if batch.status == ImportBatchStatus.APPLIED:
        raise Conflict("This import is already applied.")
    report = _run(actor, batch, commit=True)
    with transaction.atomic():
        batch.report = report
        if report["rejected"]:
            batch.status = ImportBatchStatus.REFUSED
            batch.save(update_fields=["report", "status", "updated_at"])
            audit_record(actor, "import.refused", batch, new=_summary(batch))
        else:
            batch.status = ImportBatchStatus.APPLIED
            batch.applied_at = timezone.now()
            batch.save(update_fields=["report", "status", "applied_at", "updated_at"])
            audit_record(actor, "import.applied", batch, new=_summary(batch))
    if report["rejected"]:
        raise ValidationFailed(
            f"Nothing was imported: {report['rejected']} row(s) are rejected. Fix them and upload the file again.",
            errors=[(None, f"{row['sheet']} row {row['row']}: {row['reason']}") for row in _rejected(report)[:50]],
        )
    return batch


def _rejected(report: dict) -> list[dict]:
    return [row for row in report["rows"] if row["action"] == "rejected"]


def _summary(batch: ImportBatch) -> dict:
    return {"file": batch.file_name, "summary": batch.report.get("summary"), "rejected": batch.report.get("rejected")}


def export_file(*, user, datasets: list[str], file_format: str, template: bool = False) -> tuple[str, bytes]:
    """The named datasets as a CSV (one dataset) or a workbook (a sheet each), as the user may see them.

    A `template` has the header rows only: the file to fill in for a first import.
    """
    unknown = [key for key in datasets if key not in DATASETS]
    if unknown or not datasets:
        raise ValidationFailed.field("dataset", f"Choose from {', '.join(DATASETS)}.")
    if file_format == "csv":
        if len(datasets) != 1:
            raise ValidationFailed.field("dataset", "A CSV file holds one dataset; export several as xlsx.")
        dataset = DATASETS[datasets[0]]
        rows = [] if template else dataset.export(user)
        return f"{dataset.key}{'-template' if template else ''}.csv", tabular.write_csv(dataset.header, rows)
    if file_format != "xlsx":
        raise ValidationFailed.field("format", "The format is csv or xlsx.")
    sheets = [(key, DATASETS[key].header, [] if template else DATASETS[key].export(user)) for key in ordered(datasets)]
    return ("launchdeck-template.xlsx" if template else "launchdeck.xlsx"), tabular.write_xlsx(sheets)
