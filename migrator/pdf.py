"""A small shared helper for tabular PDFs with real (selectable, searchable) text, built with reportlab.

Callers describe a document as a title and sections (a heading, some paragraphs, at most one table) and get the
PDF bytes back. Text is escaped here, so values never turn into reportlab markup. DejaVu Sans is used when the
machine has it, because the Helvetica base font cannot draw Turkish letters (ş, ğ, ı, İ); Helvetica otherwise.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True)
class PdfTable:
    headers: Sequence[str]
    rows: Sequence[Sequence[object]]
    # Relative column widths (any unit; scaled to the page). None: equal widths.
    widths: Sequence[float] | None = None


@dataclass(frozen=True)
class PdfSection:
    heading: str
    paragraphs: Sequence[str] = ()
    table: PdfTable | None = None
    notes: Sequence[str] = field(default_factory=tuple)


@cache
def _fonts() -> tuple[str, str]:
    """(regular, bold) font names, registering DejaVu once per process when it is installed."""
    regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
    if regular.exists() and bold.exists():
        pdfmetrics.registerFont(TTFont("DejaVuSans", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(bold)))
        return "DejaVuSans", "DejaVuSans-Bold"
    return "Helvetica", "Helvetica-Bold"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontName=bold, fontSize=16, leading=20),
        "subtitle": ParagraphStyle("s", parent=base["Normal"], fontName=regular, fontSize=9, textColor=colors.grey),
        "heading": ParagraphStyle("h", parent=base["Heading2"], fontName=bold, fontSize=12, leading=15),
        "body": ParagraphStyle("b", parent=base["Normal"], fontName=regular, fontSize=9, leading=12),
        "cell": ParagraphStyle("c", parent=base["Normal"], fontName=regular, fontSize=8, leading=10),
        "head": ParagraphStyle("hc", parent=base["Normal"], fontName=bold, fontSize=8, leading=10),
        "note": ParagraphStyle("n", parent=base["Normal"], fontName=regular, fontSize=8, textColor=colors.grey),
    }


def _text(value: object) -> str:
    return escape("" if value is None else str(value))


def _table(table: PdfTable, width: float, styles: dict[str, ParagraphStyle]) -> Table:
    weights = list(table.widths) if table.widths else [1.0] * len(table.headers)
    total = sum(weights) or 1.0
    col_widths = [width * w / total for w in weights]
    data = [[Paragraph(_text(h), styles["head"]) for h in table.headers]]
    data += [[Paragraph(_text(v), styles["cell"]) for v in row] for row in table.rows]
    result = Table(data, colWidths=col_widths, repeatRows=1)
    result.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b0b8c4")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f9fb")]),
            ]
        )
    )
    return result


def pdf_document(*, title: str, sections: Sequence[PdfSection], subtitle: str = "") -> bytes:
    """Render `sections` under `title` as an A4 PDF and return its bytes."""
    styles = _styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    story: list[Flowable] = [Paragraph(_text(title), styles["title"])]
    if subtitle:
        story.append(Paragraph(_text(subtitle), styles["subtitle"]))
    for section in sections:
        story += [Spacer(1, 4 * mm), Paragraph(_text(section.heading), styles["heading"])]
        story += [Paragraph(_text(p), styles["body"]) for p in section.paragraphs]
        if section.table is not None:
            story += [Spacer(1, 2 * mm), _table(section.table, doc.width, styles)]
        story += [Paragraph(_text(n), styles["note"]) for n in section.notes]
    doc.build(story)
    return buffer.getvalue()
