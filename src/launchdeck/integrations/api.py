from typing import Annotated, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile

from launchdeck.core.api import ERROR_RESPONSES, MAX_ID, READ_RESPONSES
from launchdeck.integrations import services
from launchdeck.integrations.datasets import DATASETS
from launchdeck.integrations.models import ImportBatch

router = Router(tags=["Import and export"])

DatasetKey = Literal[tuple(DATASETS)]  # type: ignore[valid-type]
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportRowOut(Schema):
    sheet: str
    row: int
    key: str
    action: Literal["created", "updated", "unchanged", "rejected"]
    column: str | None = None
    reason: str | None = None


class ImportBatchOut(Schema):
    id: int
    file_name: str
    file_format: str
    dataset: str
    status: str
    total: int = Field(description="Rows read (blank rows are skipped).")
    rejected: int
    summary: dict[str, dict[str, int]] = Field(
        description="Per dataset: how many rows would be (or were) created, updated, left unchanged or rejected."
    )
    rows: list[ImportRowOut]

    @staticmethod
    def resolve_total(obj) -> int:
        return obj.report.get("total", 0)

    @staticmethod
    def resolve_rejected(obj) -> int:
        return obj.report.get("rejected", 0)

    @staticmethod
    def resolve_summary(obj) -> dict:
        return obj.report.get("summary", {})

    @staticmethod
    def resolve_rows(obj) -> list:
        return obj.report.get("rows", [])


class DatasetOut(Schema):
    key: str
    title: str
    columns: list[str]
    required: list[str]


@router.get("/imports/datasets", response={200: list[DatasetOut], **READ_RESPONSES}, operation_id="list_datasets")
def list_datasets(request: HttpRequest):
    """What can be imported and exported, with each dataset's columns (in export order)."""
    return [
        {
            "key": dataset.key,
            "title": dataset.title,
            "columns": dataset.header,
            "required": [column.name for column in dataset.columns if column.required],
        }
        for dataset in DATASETS.values()
    ]


@router.post("/imports", response={201: ImportBatchOut, **ERROR_RESPONSES}, operation_id="preview_import")
def preview_import(
    request: HttpRequest,
    file: File[UploadedFile],
    dataset: Form[str] = "",
):
    """Upload a CSV (name its `dataset`) or an XLSX workbook (one sheet per dataset, named after it) and get a dry
    run: every row that would be created, updated, left unchanged or rejected, with the reason. Nothing changes."""
    services.check_upload_size(file.size)
    batch = services.import_preview(
        actor=request.auth, file_name=file.name or "upload", content=file.read(), dataset=dataset.strip()
    )
    return Status(201, batch)


@router.get("/imports/{batch_id}", response={200: ImportBatchOut, **READ_RESPONSES}, operation_id="get_import")
def get_import(request: HttpRequest, batch_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    return ImportBatch.objects.restrict(request.auth).get_visible(pk=batch_id)


@router.post(
    "/imports/{batch_id}/apply", response={200: ImportBatchOut, **ERROR_RESPONSES}, operation_id="apply_import"
)
def apply_import(request: HttpRequest, batch_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    """Apply a previewed import: all rows in one transaction, or nothing if any row is rejected (422 listing them)."""
    batch = ImportBatch.objects.restrict(request.auth).get_visible(pk=batch_id)
    return services.import_apply(actor=request.auth, batch=batch)


class ExportQuery(Schema):
    dataset: list[DatasetKey] = Field(default_factory=list, description="Datasets to export; all when omitted.")
    format: Literal["csv", "xlsx"] = "xlsx"
    template: bool = Field(False, description="Headers only: an empty file to fill in.")


@router.get(
    "/exports",
    response={200: bytes, **READ_RESPONSES},
    operation_id="export_data",
    openapi_extra={"responses": {200: {"content": {"text/csv": {}, CONTENT_TYPES["xlsx"]: {}}}}},
)
def export_data(request: HttpRequest, query: Query[ExportQuery]):
    """Download datasets as a CSV file (exactly one dataset) or an XLSX workbook (a sheet each)."""
    keys = list(query.dataset) or list(DATASETS)
    name, content = services.export_file(
        user=request.auth, datasets=keys, file_format=query.format, template=query.template
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[query.format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
