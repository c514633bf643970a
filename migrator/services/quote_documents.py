"""A quote as a PDF (real text tables) — the same content the admin quote page shows."""

from __future__ import annotations

from decimal import Decimal

from migrator.pdf import PdfSection, PdfTable, pdf_document
from migrator.services.quotes import QuoteResult


def _money(amount: Decimal | None, currency: str) -> str:
    return "Scoped individually" if amount is None else f"{currency} {amount:,.2f}"


def quote_sections(result: QuoteResult) -> list[PdfSection]:
    forecast = result.forecast
    unit = forecast["unit"]
    if result.scoped_individually:
        price = PdfSection("Price", [
            f"{result.total_records:,} records: migrations of 2,000,000 records or more are scoped individually. "
            "An engineer will prepare a written quote."
        ])
    else:
        rows = [[line.label, f"{line.quantity:g} {line.unit}", _money(line.unit_price, result.currency),
                 _money(line.amount, result.currency)] for line in result.lines]
        rows.append(["Total", "", "", _money(result.total, result.currency)])
        price = PdfSection("Price", ["Rule-based pricing: a volume band plus add-ons, no per-record fee."],
                           PdfTable(["Line", "Quantity", "Unit price", "Amount"], rows, widths=[4, 2, 2, 2]))
    grade = PdfSection(
        f"Complexity: {result.grade.grade} — {result.grade.label}",
        [f"Catalog grade for this pair: {result.grade.catalog_grade}."],
        PdfTable(["Reason", "Assessment", "For this quote"],
                 [[r.label, r.text, " ".join(r.adjustments) or "—"] for r in result.grade.reasons],
                 widths=[2, 4, 4]),
    )
    timeline = PdfSection(f"Timeline: {result.timeline.text}", list(result.timeline.why))
    loads = [[f["name"], f"{f['records']:,}", ", ".join(f["modules"]) or "—", f"{f['rest_cost']:,}",
              "—" if f["bulk_cost"] is None else f"{f['bulk_cost']:,}", f["method"], f"{f['cost']:,}"]
             for f in forecast["loads"]]
    per_day = forecast["per_day"]
    summary = [
        f"{unit.capitalize()} needed: {forecast['cost']:,} (REST only: {forecast['rest_only_cost']:,}; "
        f"bulk saving: {forecast['saving']:,}).",
        f"Allowance on {result.edition_name} with {result.users} users: "
        + (f"{per_day:,} {unit} a day" if per_day is not None else "unknown")
        + (f" — about {forecast['days']} calendar day(s) of API allowance." if forecast["days"] is not None else "."),
    ]
    api = PdfSection(
        "API forecast", summary + list(forecast["notes"]),
        PdfTable(["Object", "Records", "Lands in", f"REST {unit}", f"Bulk {unit}", "Method", unit.capitalize()],
                 loads, widths=[2, 1.3, 2.5, 1.5, 1.5, 1, 1.5]),
        notes=[f"Not in the catalog (priced at REST rates): {', '.join(result.unknown_objects)}"]
        if result.unknown_objects else [],
    )
    findings = PdfSection(
        "Warnings and blockers", [] if result.findings else ["None for this edition."],
        PdfTable(["Severity", "Issue", "Detail"],
                 [[f.severity.capitalize(), f.title, f.detail] for f in result.findings], widths=[1, 3, 6])
        if result.findings else None,
    )
    return [price, grade, timeline, api, findings]


def quote_pdf(result: QuoteResult, *, title: str) -> bytes:
    subtitle = f"{result.pair_title} · {result.edition_name}, {result.users} users · {result.total_records:,} records"
    return pdf_document(title=title, subtitle=subtitle, sections=quote_sections(result))
