"""The customer's documents as data (title + tables), and their renderings: HTML, PDF, CSV and XLSX.

Each builder takes model rows and returns a Document; renderers never query. No patient values: the reconciliation
report is rendered from counts and reasons, and keys that could hold record values are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from openpyxl import Workbook

from migrator.models import Migration, OwnerMatch, ReconciliationReport, SchemaPlanItem
from migrator.pdf import PdfSection, PdfTable, pdf_document

# Keys of reconciliation data that may carry record values (field diffs): never shown to the portal.
_VALUE_KEYS = frozenset({"value", "values", "source_value", "expected", "actual", "before", "after", "payload",
                         "source_payload", "data", "record", "sample"})


@dataclass(frozen=True)
class Table:
    heading: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    intro: Sequence[str] = ()
    widths: Sequence[float] | None = None     # relative column widths in the PDF; None: equal


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    slug: str
    summary: Sequence[str] = ()
    tables: Sequence[Table] = field(default_factory=tuple)


# --------------------------------------------------------------------------------------------------- builders


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items() if k not in _VALUE_KEYS)
    return str(value)


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _tables_from(data: Mapping[str, Any]) -> list[Table]:
    """Turn report JSON into tables: a list of dicts becomes rows, a dict of dicts a keyed table, a dict of
    scalars a two-column table. Anything under a value-bearing key is skipped."""
    tables: list[Table] = []
    scalars: list[tuple[str, Any]] = []
    for key, value in data.items():
        if key in _VALUE_KEYS:
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            headers = [k for k in dict.fromkeys(k for row in value for k in row) if k not in _VALUE_KEYS]
            tables.append(Table(_label(key), [_label(h) for h in headers],
                                [[_cell(row.get(h)) for h in headers] for row in value]))
        elif isinstance(value, Mapping) and value and all(isinstance(v, Mapping) for v in value.values()):
            headers = [k for k in dict.fromkeys(k for row in value.values() for k in row) if k not in _VALUE_KEYS]
            tables.append(Table(_label(key), ["", *[_label(h) for h in headers]],
                                [[name, *[_cell(row.get(h)) for h in headers]] for name, row in value.items()]))
        elif isinstance(value, Mapping):
            tables.append(Table(_label(key), ["", "Value"],
                                [[_label(str(k)), _cell(v)] for k, v in value.items() if k not in _VALUE_KEYS]))
        else:
            scalars.append((key, value))
    if scalars:
        tables.insert(0, Table("Summary", ["", "Value"], [[_label(k), _cell(v)] for k, v in scalars]))
    return tables


def reconciliation_document(report: ReconciliationReport) -> Document:
    migration = report.migration
    reasons = [_cell(r) for r in report.reasons or []]
    tables = [Table("Verdict reasons", ["Reason"], [[r] for r in reasons])] if reasons else []
    tables += _tables_from(report.data or {})
    signed = f"Signed off {report.signed_off_at:%Y-%m-%d}" if report.signed_off_at else "Not signed off yet"
    return Document(
        title=f"Reconciliation report #{report.pk}",
        subtitle=f"{migration.client.name} — {migration.name} ({migration.pair})",
        slug=f"reconciliation-{report.pk}",
        summary=[f"Verdict: {report.get_verdict_display()}", f"Created {report.created_at:%Y-%m-%d %H:%M} UTC",
                 signed],
        tables=tables,
    )


def schema_checklist_document(migration: Migration, items: Iterable[SchemaPlanItem]) -> Document:
    rows = [[i.module, "Module" if i.is_module else "Field", i.label, i.api_name, i.type, _cell(i.length),
             _cell(i.picklist), i.lookup_module, _cell(i.unique), i.get_status_display(), i.created_api_name, i.why]
            for i in items]
    headers = ["Module", "Kind", "Label", "API name", "Type", "Length", "Pick-list values", "Lookup to", "Unique",
               "Status", "Created as", "Why"]
    return Document(
        title="Schema-setup checklist",
        subtitle=f"{migration.client.name} — {migration.name} ({migration.pair.destination.name})",
        slug=f"schema-checklist-{migration.pk}",
        summary=["Create these modules and fields in the CRM before any record moves; the API names must match.",
                 f"{len(rows)} item(s)."],
        tables=[Table("Modules and fields", headers, rows)],
    )


def unmatched_owners_document(migration: Migration, matches: Iterable[OwnerMatch]) -> Document:
    rows = [[m.source_owner.name or m.source_owner.source_id, m.source_owner.role, m.record_count,
             m.get_status_display(), m.get_method_display(),
             m.destination_user.email if m.destination_user else "", _cell(m.flags)] for m in matches]
    return Document(
        title="Unmatched owners",
        subtitle=f"{migration.client.name} — {migration.name}",
        slug=f"unmatched-owners-{migration.pk}",
        summary=["Source owners with no confirmed CRM user. Invite them to the CRM or assign their records to the "
                 "fallback owner.", f"{len(rows)} owner(s) without a confirmed match."],
        tables=[Table("Owners", ["Source owner", "Role", "Records", "Status", "Method", "Suggested user", "Flags"],
                      rows)],
    )


# --------------------------------------------------------------------------------------------------- renderers


def render_html(document: Document) -> str:
    return render_to_string("portal/document.html", {"document": document})


def render_pdf(document: Document) -> bytes:
    sections = [PdfSection("Summary", list(document.summary))] if document.summary else []
    sections += [PdfSection(t.heading, list(t.intro), PdfTable(list(t.headers), [list(r) for r in t.rows],
                                                               widths=t.widths))
                 for t in document.tables]
    return pdf_document(title=document.title, subtitle=document.subtitle, sections=sections)


def render_csv(document: Document) -> str:
    """All tables in one CSV; the first column names the table each row comes from."""
    out = io.StringIO()
    writer = csv.writer(out)
    for table in document.tables:
        writer.writerow(["Table", *table.headers])
        writer.writerows([table.heading, *(_cell(v) for v in row)] for row in table.rows)
    return out.getvalue()


def render_xlsx(document: Document) -> bytes:
    """One sheet per table (sheet names trimmed to Excel's 31 characters)."""
    workbook = Workbook(write_only=True)
    used: set[str] = set()
    for index, table in enumerate(document.tables or [Table("Empty", [], [])]):
        name = "".join(c for c in table.heading if c not in "[]:*?/\\")[:28] or "Sheet"
        if name in used:
            name = f"{name[:25]}-{index}"
        used.add(name)
        sheet = workbook.create_sheet(title=name)
        sheet.append(list(table.headers))
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
