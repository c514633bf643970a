"""The unmatched-owners report: source owners who own records and have no destination user yet, with what they
own per object and what to do about them — invite them to the CRM (still working at the practice) or reassign their
records (they left, or the source no longer lists them). CSV for spreadsheets, PDF with real text for the customer."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from migrator.models import Migration, OwnerMatch, SourceOwner
from migrator.pdf import PdfSection, PdfTable, pdf_document

INVITE = "invite"
REASSIGN = "reassign"


@dataclass(frozen=True)
class UnmatchedRow:
    source_id: str
    name: str
    role: str
    email: str
    active: bool
    record_counts: dict[str, int]
    action: str

    @property
    def total(self) -> int:
        return sum(self.record_counts.values())


def owners_unmatched(*, migration: Migration) -> list[UnmatchedRow]:
    """Owners with records whose match has no destination user (no proposal, no manual choice, no fallback)."""
    owners = (SourceOwner.objects.filter(migration=migration).select_related("match__destination_user")
              .order_by("source_id"))
    rows = []
    for owner in owners:
        match: OwnerMatch | None = getattr(owner, "match", None)
        if owner.record_count == 0 or (match is not None and match.destination_user_id is not None):
            continue
        rows.append(UnmatchedRow(
            source_id=owner.source_id, name=owner.name, role=owner.role, email=owner.email, active=owner.active,
            record_counts={k: int(v) for k, v in owner.record_counts.items() if int(v)},
            action=INVITE if owner.active else REASSIGN,
        ))
    return rows


def _objects(rows: list[UnmatchedRow]) -> list[str]:
    return sorted({name for row in rows for name in row.record_counts})


def _headers(objects: list[str]) -> list[str]:
    return ["source owner id", "name", "role", "email", *[f"{o} records" for o in objects], "total records",
            "proposed action"]


def _cells(row: UnmatchedRow, objects: list[str]) -> list[object]:
    return [row.source_id, row.name, row.role, row.email, *[row.record_counts.get(o, 0) for o in objects],
            row.total, row.action]


def unmatched_report_csv(*, migration: Migration) -> str:
    rows = owners_unmatched(migration=migration)
    objects = _objects(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers(objects))
    writer.writerows(_cells(row, objects) for row in rows)
    return out.getvalue()


def unmatched_report_pdf(*, migration: Migration) -> bytes:
    rows = owners_unmatched(migration=migration)
    objects = _objects(rows)
    fallback = migration.fallback_owner
    paragraphs = [
        f"{len(rows)} source owner(s) own records and have no user in the destination CRM.",
        "Invite: the person still works at the practice; create their CRM user, then match them. "
        "Reassign: the person left or is unknown; their records go to another user or the fallback owner.",
        f"Fallback owner: {fallback}" if fallback else "No fallback owner is set yet.",
    ]
    widths = [1.2, 2, 1.1, 2.4, *[1.0] * len(objects), 1.0, 1.1]
    table = PdfTable(_headers(objects), [_cells(row, objects) for row in rows], widths=widths)
    return pdf_document(
        title="Unmatched owners", subtitle=f"{migration.client} — {migration.name}",
        sections=[PdfSection("Owners without a CRM user", paragraphs, table)],
    )
