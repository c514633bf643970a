"""A reconciliation report as files: JSON, CSV, XLSX, PDF (tables as real text) and HTML with a bar chart of
source vs destination counts per object, drawn here as inline SVG (nothing loaded from outside).

Built on the portal's Document (migrator/portal/documents.py) so staff and customers read the same tables. Only
counts, codes, field names and record ids are rendered; keys that could carry record values are never read."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from migrator.models import ReconciliationReport
from migrator.portal import documents
from migrator.portal.documents import Document, Table

FORMATS = ("json", "csv", "xlsx", "pdf", "html")

# The report's own sections, in reading order: (data key, heading, [(column key, column label)]).
_SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    # One object's row in two tables, so that neither is too wide for a page.
    ("objects", "Objects: source vs destination", (
        ("object", "Object"), ("source", "Source"),
        ("expected_in_destination", "Expected"), ("found_in_destination", "Found"), ("created", "Created"),
        ("updated", "Updated"), ("skipped", "Skipped"), ("failed", "Failed"), ("unaccounted", "Unaccounted"))),
    ("objects", "Objects: where, and why not", (
        ("object", "Object"), ("modules", "Destination"), ("skip_reasons", "Skip reasons"),
        ("fail_reasons", "Failure reasons"), ("counted_from", "Counted from"))),
    ("modules", "Destination modules", (
        ("module", "Module"), ("linked", "Our records"), ("present", "Present"), ("missing", "Missing"),
        ("module_total", "All records in module"), ("counted_from", "Counted from"))),
    ("orphans", "Orphans (children without their parent)", (
        ("object", "Object"), ("parent", "Parent"), ("lookup", "Lookup"), ("not_loaded", "Parent not loaded"),
        ("empty_in_destination", "Empty in destination"), ("parent_gone", "Parent gone from destination"),
        ("orphans", "Orphans"))),
    ("owners", "Owners: source vs destination", (
        ("destination_user", "Destination user"), ("source_owners", "Source owners"),
        ("source_records", "Source records"), ("destination_records", "Destination records"),
        ("difference", "Difference"))),
    ("field_diff", "Field-level diff of a random sample", (
        ("object", "Object"), ("module", "Module"), ("field", "Field"), ("compared", "Compared"),
        ("different", "Different"))),
    ("mismatches", "Differing fields (record ids only)", (
        ("object", "Object"), ("source_id", "Source id"), ("module", "Module"),
        ("destination_id", "Destination id"), ("field", "Field"))),
)


def _rows(items: Any, columns: Sequence[tuple[str, str]]) -> list[list[Any]]:
    if not isinstance(items, list):
        return []
    return [[documents._cell(item.get(key)) for key, _label in columns] for item in items
            if isinstance(item, Mapping)]


def reconciliation_document(report: ReconciliationReport) -> Document:
    """The report as titled tables. Sections the report does not know are rendered generically (and still
    without value-bearing keys)."""
    data: Mapping[str, Any] = report.data or {}
    migration = report.migration
    tables = [Table("Verdict reasons", ["Reason"], [[documents._cell(r)] for r in report.reasons or []])]
    summary = data.get("summary")
    if isinstance(summary, Mapping):
        tables.append(Table("Summary", ["", "Count"], [[documents._label(str(k)), documents._cell(v)]
                                                      for k, v in summary.items()
                                                      if k not in documents._VALUE_KEYS]))
    handled = {"summary", "attachments", "notes"}
    for key, heading, columns in _SECTIONS:
        items = data.get(key)
        if not isinstance(items, list):
            continue  # absent, or an older shape: rendered generically below
        handled.add(key)
        # Partial rows may lack columns: keep the ones some row has, in our order (all of them when empty).
        present = [c for c in columns if any(isinstance(r, Mapping) and c[0] in r for r in items)] or list(columns)
        # The first column names the row (an object, a module …): give it room.
        widths = [2.0] + [1.0] * (len(present) - 1)
        tables.append(Table(heading, [label for _k, label in present], _rows(items, present), widths=widths))
    attachments = data.get("attachments")
    if isinstance(attachments, Mapping):
        tables.append(Table("Attachments", ["", "Count"], [[documents._label(str(k)), documents._cell(v)]
                                                          for k, v in attachments.items()]))
    notes = data.get("notes")
    if isinstance(notes, list) and notes:
        tables.append(Table("Notes", ["Note"], [[documents._cell(n)] for n in notes]))
    tables += documents._tables_from({k: v for k, v in data.items() if k not in handled})
    signed = (f"Signed off {report.signed_off_at:%Y-%m-%d %H:%M} UTC by {_signer(report)}"
              if report.signed_off_at else "Not signed off yet")
    return Document(
        title=f"Reconciliation report #{report.pk}",
        subtitle=f"{migration.client.name} — {migration.name} ({migration.pair})",
        slug=f"reconciliation-{report.pk}",
        summary=[f"Verdict: {report.get_verdict_display()}", f"Created {report.created_at:%Y-%m-%d %H:%M} UTC",
                 signed],
        tables=tables,
    )


def _signer(report: ReconciliationReport) -> str:
    user = report.signed_off_by
    if user is None:
        return "a former staff member"
    return user.get_full_name() or user.get_username()


# --------------------------------------------------------------------------------------------------- chart


def chart_bars(report: ReconciliationReport) -> list[tuple[str, int, int]]:
    """(object, source count, found in the destination) for the chart."""
    rows = (report.data or {}).get("objects") or []
    bars = []
    for r in rows:
        if isinstance(r, Mapping):
            found = r.get("found_in_destination", r.get("created", 0))
            bars.append((str(r.get("object", "")), int(r.get("source") or 0), int(found or 0)))
    return bars


def bar_chart_svg(bars: Sequence[tuple[str, int, int]], *, title: str = "Source vs destination") -> SafeString:
    """A grouped horizontal bar chart as a self-contained SVG element (text is escaped)."""
    label_w, bar_h, gap, width, top = 160, 12, 10, 640, 36
    plot_w = width - label_w - 70
    biggest = max([max(s, d) for _n, s, d in bars] or [0]) or 1
    height = top + len(bars) * (2 * bar_h + gap) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="14" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<rect x="{label_w}" y="20" width="10" height="10" fill="#7a8ca3"/>'
             f'<text x="{label_w + 14}" y="29">source</text>',
             f'<rect x="{label_w + 70}" y="20" width="10" height="10" fill="#2f7d4f"/>'
             f'<text x="{label_w + 84}" y="29">destination</text>']
    y = top
    for name, source, dest in bars:
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h + 4}" text-anchor="end">{escape(name)}</text>')
        for value, colour, offset in ((source, "#7a8ca3", 0), (dest, "#2f7d4f", bar_h)):
            w = round(plot_w * value / biggest, 1)
            parts.append(f'<rect x="{label_w}" y="{y + offset}" width="{w}" height="{bar_h - 1}" fill="{colour}"/>'
                         f'<text x="{label_w + w + 4}" y="{y + offset + bar_h - 2}">{value}</text>')
        y += 2 * bar_h + gap
    parts.append("</svg>")
    # Every piece of text above went through escape(); numbers are ints.
    return mark_safe("".join(parts))  # noqa: S308


# --------------------------------------------------------------------------------------------------- renderers


def render_json(report: ReconciliationReport) -> str:
    return json.dumps({
        "report": report.pk, "migration": report.migration_id, "verdict": report.verdict,
        "reasons": list(report.reasons or []), "created_at": report.created_at.isoformat(),
        "signed_off_by": _signer(report) if report.signed_off_at else None,
        "signed_off_at": report.signed_off_at.isoformat() if report.signed_off_at else None,
        "data": report.data or {},
    }, indent=2, default=str)


def render_html(report: ReconciliationReport) -> str:
    document = reconciliation_document(report)
    return render_to_string("reports/reconciliation.html", {
        "document": document, "chart": bar_chart_svg(chart_bars(report)), "verdict": report.verdict,
    })


def render(report: ReconciliationReport, fmt: str) -> str | bytes:
    """The report in one of FORMATS."""
    if fmt == "json":
        return render_json(report)
    if fmt == "html":
        return render_html(report)
    document = reconciliation_document(report)
    if fmt == "csv":
        return documents.render_csv(document)
    if fmt == "xlsx":
        return documents.render_xlsx(document)
    if fmt == "pdf":
        return documents.render_pdf(document)
    raise ValueError(f"unknown format {fmt!r}; expected one of: {', '.join(FORMATS)}")
