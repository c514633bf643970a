"""The schema-setup checklist as files an account manager hands to the customer's CRM admin: CSV, XLSX, PDF.
The PDF carries the rows as text (not an image), so it can be searched and copied."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from migrator.models import Migration
from migrator.services.checklist import checklist_rows

COLUMNS: list[tuple[str, str]] = [
    ("module", "Module"), ("what", "What"), ("label", "Label"), ("api_name", "API name"), ("type", "Type"),
    ("length", "Length"), ("picklist", "Picklist values"), ("lookup", "Lookup to"), ("unique", "Unique"),
    ("status", "Status"), ("why", "Why"),
]


def _title(migration: Migration) -> str:
    return f"Schema setup checklist — {migration.client.name}: {migration.pair}"


def checklist_csv(migration: Migration) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([label for _, label in COLUMNS])
    for row in checklist_rows(migration):
        writer.writerow([row[key] for key, _ in COLUMNS])
    # A BOM so spreadsheet programs open the UTF-8 file with its accents intact.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def checklist_xlsx(migration: Migration) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101  (a new workbook always has its first sheet)
    sheet.title = "Schema checklist"
    sheet.append([label for _, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in checklist_rows(migration):
        sheet.append([row[key] for key, _ in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def checklist_pdf(migration: Migration) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                            topMargin=10 * mm, bottomMargin=10 * mm, title=_title(migration),
                            # Uncompressed: the rows stay plain text in the file, for search and copy.
                            pageCompression=0)
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    shown = [c for c in COLUMNS if c[0] not in ("unique",)]
    data = [[Paragraph(f"<b>{label}</b>", cell) for _, label in shown]]
    for row in checklist_rows(migration):
        data.append([Paragraph(_escape(str(row[key])), cell) for key, _ in shown])
    widths = [28, 14, 32, 32, 18, 12, 40, 20, 18, 63]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    intro = ("Create these modules and fields in the CRM before the migration loads any record. "
             "Keep the API names exactly as listed; the migration writes to them.")
    doc.build([Paragraph(_escape(_title(migration)), styles["Title"]), Paragraph(intro, styles["BodyText"]),
               Spacer(1, 4 * mm), table])
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
