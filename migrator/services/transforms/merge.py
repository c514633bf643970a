"""many:1 helpers: several source rows folded into one destination record (subform rows, or fields plus a note).

Each helper runs the ordinary transforms per column so the rules (dates, amounts, phones) are the same as for
plain fields, and stops at the first failure with the row number (never the value)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from migrator.services.transforms.apply import apply_transform
from migrator.services.transforms.base import TransformContext, TransformError
from migrator.services.transforms.specs import CopySpec, CurrencySpec, DateSpec, TransformSpec


@dataclass(frozen=True)
class SubformOutcome:
    rows: list[dict[str, Any]] = field(default_factory=list)
    flags: tuple[str, ...] = ()
    error: TransformError | None = None


def rows_to_subform(
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, tuple[str, TransformSpec] | str],
    *,
    context: TransformContext,
) -> SubformOutcome:
    """Child rows (e.g. insurance plans) -> subform rows. `columns` maps a subform field to a source column, or to
    (source column, transform spec). Rows that come out entirely empty are dropped."""
    out: list[dict[str, Any]] = []
    flags: list[str] = []
    plain = context.with_destination(None)
    for number, row in enumerate(rows, start=1):
        made: dict[str, Any] = {}
        for target, how in columns.items():
            source, spec = (how, CopySpec()) if isinstance(how, str) else how
            outcome = apply_transform(spec, row, source_field=source, context=plain)
            if outcome.error is not None:
                return SubformOutcome(error=TransformError(
                    code=outcome.error.code, message=f"row {number}: {outcome.error.message}", field=source))
            flags.extend(f for f in outcome.flags if f not in flags)
            made[target] = outcome.value
        if any(v is not None for v in made.values()):
            out.append(made)
    return SubformOutcome(rows=out, flags=tuple(flags))


@dataclass(frozen=True)
class ProcedureMerge:
    fields: dict[str, Any]
    note: str
    error: TransformError | None = None


def merge_procedures(
    rows: Sequence[Mapping[str, Any]],
    *,
    context: TransformContext,
    code_field: str = "adacode",
    date_field: str = "proc_date",
    fee_field: str = "amt",
    tooth_fields: tuple[str, ...] = ("toothrangestart", "toothrangeend"),
    surface_field: str = "surfacestring",
    description_field: str = "description",
    targets: Mapping[str, str] | None = None,
) -> ProcedureMerge:
    """Procedure rows -> summary fields on the patient plus one note listing every procedure, oldest first.

    `targets` names the destination fields of the summary: keys `last_code`, `last_date`, `total_fee`, `count`
    (default CDT_Code, Last_Procedure_Date, Procedure_Fee, Procedure_Count; seed 001 "Procedure / Treatment")."""
    names = {"last_code": "CDT_Code", "last_date": "Last_Procedure_Date", "total_fee": "Procedure_Fee",
             "count": "Procedure_Count", **(targets or {})}
    plain = context.with_destination(None)
    lines: list[tuple[str, str]] = []
    total = Decimal(0)
    last: tuple[str, str] = ("", "")
    for number, row in enumerate(rows, start=1):
        day = apply_transform(DateSpec(), row, source_field=date_field, context=plain)
        fee = apply_transform(CurrencySpec(), row, source_field=fee_field, context=plain)
        for outcome, name in ((day, date_field), (fee, fee_field)):
            if outcome.error is not None:
                return ProcedureMerge(fields={}, note="", error=TransformError(
                    code=outcome.error.code, message=f"row {number}: {outcome.error.message}", field=name))
        day_text = day.value or ""
        code = str(row.get(code_field) or "").strip()
        if isinstance(fee.value, Decimal):
            total += fee.value
        teeth = "-".join(dict.fromkeys(str(row[f]).strip() for f in tooth_fields if row.get(f) not in (None, "")))
        parts = [day_text or "undated", code]
        if teeth:
            parts.append(f"tooth {teeth}")
        if row.get(surface_field):
            parts.append(str(row[surface_field]).strip())
        if isinstance(fee.value, Decimal):
            parts.append(f"{fee.value:.2f}")
        if row.get(description_field):
            parts.append(f"— {str(row[description_field]).strip()}")
        lines.append((day_text, " ".join(p for p in parts if p)))
        if day_text >= last[0]:
            last = (day_text, code)
    lines.sort(key=lambda item: item[0])
    fields: dict[str, Any] = {names["count"]: len(rows)}
    if rows:
        fields.update({names["last_code"]: last[1] or None, names["last_date"]: last[0] or None,
                       names["total_fee"]: total})
    return ProcedureMerge(fields=fields, note="\n".join(text for _, text in lines))
