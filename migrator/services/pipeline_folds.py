"""Rows folded into their parent's record: several source rows of one parent become one value on the parent — Zoho
subform rows (`Insurance_Benefits.Carrier` → `{"Insurance_Benefits": [{"Carrier": …}, …]}`), or a JSON list
collected from every row (a tooth chart's entries, JsonSpec.collect). Mixed into the pipeline's UnitLoader.

A write of such a field replaces the parent's whole list (reference/zoho-crm-v8.md: a subform given in an update
is the subform), so each write sends every row of the parent: the rows of this batch, and the rows earlier
batches wrote, kept on their crosswalk rows (RecordLink.folded). Memory stays bounded by the batch whatever the
source's order; a parent whose rows span batches is written once per batch, each time whole. Re-runs send the
same list (idempotent); rollback restores the list the parent held before (its before-image) or deletes the
parent with its rows when we created it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.base import WriteResult
from migrator.models import AuditEntry, MappingStrategy, RecordLink

if TYPE_CHECKING:
    from migrator.services.pipeline import BatchResult, Item
    from migrator.services.plan import MappingPlan

Op = AuditEntry.Op


def folds(plan: MappingPlan) -> bool:
    """Whether a mapping's rows are folded per parent rather than merged field by field."""
    return plan.strategy == MappingStrategy.SUBFORM or bool(collected_fields(plan))


def collected_fields(plan: MappingPlan) -> set[str]:
    return {fp.destination_field for fp in plan.fields if getattr(fp.spec, "collect", False)}


def order_key(plan: MappingPlan, data: Mapping[str, Any], source_id: str) -> list[str]:
    """Rows of a parent in the source's time order (its modified field, else its first date field), then by id:
    "the latest" row is the last one."""
    name = plan.source.modified_field or next(
        (f.name for f in plan.source.fields if f.type in ("date", "datetime")), "")
    value = data.get(name) if name else None
    when = value.isoformat() if hasattr(value, "isoformat") else str(value or "")
    return [when, f"{len(source_id):04d}{source_id}"]


def fold(plan: MappingPlan, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The parent's values from its rows (each {"order", "payload"}), oldest first: subform fields (`Sub.Field`)
    become one row object each, collected JSON fields one list, other fields take the latest row's value."""
    collected = collected_fields(plan)
    out: dict[str, Any] = {}
    subforms = {name.split(".", 1)[0] for fp in plan.fields if "." in (name := fp.destination_field)}
    for sub in subforms:
        out[sub] = []
    for name in collected:
        out[name] = []
    for row in sorted(rows, key=lambda r: r["order"]):
        payload: dict[str, Any] = row["payload"]
        per_sub: dict[str, dict[str, Any]] = {}
        for key, value in payload.items():
            if "." in key:
                sub, field = key.split(".", 1)
                per_sub.setdefault(sub, {})[field] = value
            elif key in collected:
                out[key].append(json.loads(value) if isinstance(value, str) else value)
            else:
                out[key] = value
        for sub, values in per_sub.items():
            out[sub].append(values)
    for name in collected:
        out[name] = json.dumps(out[name], ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return out


class FoldWrites:
    """The folded-rows writer of UnitLoader (pipeline.py); uses its migration, run, dest and accounting."""

    def _write_folds(self, items: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        loader: Any = self
        plan = items[0].plan if items else None
        if plan is None:
            return
        here: list[Item] = []
        for i in items:
            if i.parent_module != plan.module:
                result.audit(loader.run, i, Op.SKIP, destination_module=i.parent_module, destination_id=i.parent_id,
                             error_code="PARENT_IN_OTHER_MODULE",
                             error_message=f"its parent was loaded as {i.parent_module}; these fields exist on "
                                           f"{plan.module} only")
                continue
            here.append(i)
        changed = [i for i in here if not loader._unchanged(i, result)]
        parents = sorted({i.parent_id for i in changed})
        if not parents:
            return
        batch_ids = {i.record.source_id for i in here}
        rows: dict[str, dict[str, dict[str, Any]]] = {pid: {} for pid in parents}
        earlier = (RecordLink.objects.filter(migration=loader.migration, role=RecordLink.Role.MERGE,
                                             destination_module=plan.link_module, destination_id__in=parents,
                                             source_object=plan.source.name, source_deleted_at__isnull=True)
                   .exclude(folded=None).exclude(source_id__in=batch_ids)
                   .values_list("source_id", "destination_id", "folded"))
        for source_id, parent_id, folded in earlier:
            rows[parent_id][source_id] = folded
        for i in here:
            if i.parent_id in rows:
                rows[i.parent_id][i.record.source_id] = self._folded_row(i)
        payloads = [{"id": pid, **fold(plan, list(rows[pid].values()))} for pid in parents]
        answers: list[WriteResult] = loader.dest.update(plan.module, payloads)
        outcome = dict(zip(parents, answers, strict=False))
        for i in changed:
            r = outcome.get(i.parent_id)
            if r is None:
                continue
            loader._account_one(i, r, result, position, Op.UPDATE, role=RecordLink.Role.MERGE, dest_id=i.parent_id,
                                module=plan.link_module)
            if r.ok and i.link is not None:
                i.link.folded = self._folded_row(i)
        for pid in parents:
            r = outcome.get(pid)
            if r is not None and r.ok:
                loader._our_write(plan.module, pid, r.modified_at)

    @staticmethod
    def _folded_row(item: Item) -> dict[str, Any]:
        return {"order": order_key(item.plan, item.record.data, item.record.source_id), "payload": item.payload}
