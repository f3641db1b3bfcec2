"""CSV / XLSX exports of what a list page shows, safe against formula injection."""

import csv
import io

from django.http import Http404, HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from .auth import client_ip
from .files import safe_filename
from .services import audit

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix a quote to cells a spreadsheet would run as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return value
    if hasattr(value, "isoformat") and not isinstance(value, str):
        if hasattr(value, "tzinfo") and getattr(value, "hour", None) is not None and value.tzinfo is not None:
            value = timezone.localtime(value)
        return value.strftime("%d/%m/%Y %H:%M") if hasattr(value, "hour") else value.strftime("%d/%m/%Y")
    text = str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


def csv_bytes(headers, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([neutralise(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    # BOM so that spreadsheet software opens the UTF-8 accents correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx_cell(value):
    """Drop the control characters a worksheet cannot hold (openpyxl would raise), then neutralise."""

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralise(value)


def xlsx_bytes(headers, rows, sheet_title="Export"):
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    sheet.append([_xlsx_cell(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    # Cells are written as values: openpyxl would otherwise treat a leading "=" as a formula.
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(*, filename, headers, rows, fmt):
    base = safe_filename(filename, default="export")
    if fmt == "xlsx":
        content = xlsx_bytes(headers, rows)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        content = csv_bytes(headers, rows)
        content_type = "text/csv; charset=utf-8"
    else:
        raise ValueError(f"Unknown export format {fmt!r}")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{base}.{fmt}"'
    return response


def audited_export_response(request, *, filename, headers, rows, fmt, **data):
    """`export_response`, written first in the audit journal (who took which list, how many rows, in
    which format): a list leaving the application carries the names it shows."""

    rows = list(rows)
    audit(
        actor=request.user,
        action="list.exported",
        ip_address=client_ip(request),
        export=filename,
        count=len(rows),
        format=fmt,
        **data,
    )
    return export_response(filename=filename, headers=headers, rows=rows, fmt=fmt)


EXPORT_FORMATS = ("csv", "xlsx")


def requested_format(request, param="format"):
    """The export asked for by `?format=csv|xlsx` on a list page (None: show the page; other values: 404)."""
    fmt = request.GET.get(param)
    if fmt is None:
        return None
    if fmt not in EXPORT_FORMATS:
        raise Http404
    return fmt
