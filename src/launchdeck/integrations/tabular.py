"""Reading and writing spreadsheets (CSV and XLSX): limits, encodings and headers checked with clear messages.

Rows are streamed, so memory holds the rows being worked on, not the whole file's parsed form twice over.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from launchdeck.core.errors import ValidationFailed

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
XLSX_MAGIC = b"PK\x03\x04"


def check_size(size: int) -> None:
    """Refuse files above the limit before reading them."""
    if size > MAX_BYTES:
        raise ValidationFailed.field(
            "file", f"The file is {size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB."
        )
    if size == 0:
        raise ValidationFailed.field("file", "The file is empty.")


def detect_format(name: str, head: bytes) -> str:
    """`xlsx` or `csv`, from the content first and the file name second."""
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if name.lower().endswith((".xlsx", ".xlsm")):
        raise ValidationFailed.field("file", "This file is named .xlsx but is not an Excel workbook.")
    return "csv"


def cell_text(value) -> str:
    """One cell as text, the same whether it came from CSV or from a typed XLSX cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(Decimal(repr(value)).normalize()) if value != int(value) else str(int(value))
    return str(value).strip()


def read_csv(data: bytes) -> Iterator[list[str]]:
    """CSV rows as text; UTF-8 (with or without a byte-order mark), comma or semicolon separated."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed.field(
            "file",
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}). "
            "Save it as “CSV UTF-8” and try again.",
        ) from None
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if first_line.count(";") > first_line.count(",") else ",")
    try:
        for row in reader:
            yield [cell.strip() for cell in row]
    except csv.Error as exc:
        raise ValidationFailed.field("file", f"The CSV cannot be read at line {reader.line_num}: {exc}.") from None


def read_xlsx_sheets(data: bytes) -> dict[str, Iterator[list[str]]]:
    """Each worksheet's rows as text, by sheet name (read-only mode: rows stream from the file)."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ValidationFailed.field("file", f"The workbook cannot be opened: {exc}.") from None
    return {sheet.title: _sheet_rows(sheet) for sheet in workbook.worksheets}


def _sheet_rows(sheet) -> Iterator[list[str]]:
    for row in sheet.iter_rows(values_only=True):
        cells = [cell_text(value) for value in row]
        while cells and cells[-1] == "":
            cells.pop()
        yield cells


def write_csv(header: list[str], rows: Iterable[list]) -> bytes:
    """CSV bytes (UTF-8, comma separated, CRLF line ends as spreadsheets write them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell_text(value) for value in row])
    return out.getvalue().encode("utf-8")


def write_xlsx(sheets: Iterable[tuple[str, list[str], Iterable[list]]]) -> bytes:
    """A workbook with one sheet per (name, header, rows); numbers and dates stay typed."""
    workbook = Workbook(write_only=True)
    for name, header, rows in sheets:
        sheet = workbook.create_sheet(title=name)
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_value(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    return value
