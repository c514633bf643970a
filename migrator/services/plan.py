"""What the loader needs to know about one object mapping before it reads a record: the parsed field maps, the
destination's field metadata, the key that makes writes idempotent, the parent a child hangs on, the routing
branches and the lookup tables of many:1 merges. Built once per work unit, then applied to every record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connectors.base import DestField, SourceConnector, SourceObject, SourceRecord
from migrator.models import FieldMap, MappingStrategy, Migration, ObjectMapping, ReviewStatus, ValueMap
from migrator.services.transforms import (
    SKIP,
    TransformContext,
    TransformSpec,
    apply_transform,
    parse_transform,
    route_record,
)

# Strategies whose records become destination records of their own (created or upserted).
RECORD_STRATEGIES = {MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE}
# Strategies that write fields onto the parent's destination record.
MERGE_STRATEGIES = {MappingStrategy.MERGE_FIELDS, MappingStrategy.CUSTOM_FIELDS, MappingStrategy.SUBFORM}
# Strategies that add a child (note, attachment) to the parent's destination record.
CHILD_STRATEGIES = {MappingStrategy.NOTES, MappingStrategy.ATTACHMENTS}
# Strategies that move no record through the API; each source record is accounted as skipped with this reason.
NO_WRITE_REASONS = {
    MappingStrategy.USERS: "resolved to a destination user through owner matching; no record is created",
    MappingStrategy.PICKLIST_VALUES: "carried as picklist values through the field's value map",
    MappingStrategy.REBUILD_REFERENCE: "documented in the workflow rebuild reference; rebuilt by hand",
}
SOURCE_ID_LABELS = ("Source_System_ID", "Source_Patient_ID", "cf_source_system_id")

# Region and time zone of each source's data (reference/dental-data.md): phones and local dates need them.
SOURCE_LOCALES = {
    "drdentes": ("TR", "Europe/Istanbul"),
    "dentrix": ("US", "America/New_York"),
    "dental-exec": ("US", "America/New_York"),
    "dent-o-soft": ("US", "America/Chicago"),
}


class PlanError(Exception):
    """The mapping cannot be loaded as configured (a configuration problem, not a record problem)."""


@dataclass(frozen=True)
class FieldPlan:
    field_map_id: int
    source_field: str
    destination_field: str
    spec: TransformSpec
    context: TransformContext


@dataclass
class Transformed:
    payload: dict[str, Any]
    flags: list[str] = field(default_factory=list)
    overflow: list[tuple[str, str]] = field(default_factory=list)     # (destination field, text that did not fit)
    error_code: str = ""
    error_field: str = ""
    error_message: str = ""

    @property
    def ok(self) -> bool:
        return not self.error_code


@dataclass
class MappingPlan:
    mapping: ObjectMapping
    source: SourceObject
    fields: list[FieldPlan]
    dest_fields: dict[str, DestField]
    key_field: str                       # the destination's unique source-id field; "" when the module has none
    parent_object: str = ""
    parent_ref_field: str = ""           # the source field holding the parent's id
    branch: str = ""                     # for routed mappings: the branch this mapping takes
    signature: str = ""                  # hash of the field maps and value maps: a changed map means a rewrite
    key_prefix: str = ""                 # set when other source objects load into the same module (see build_plan)

    def record_hash(self, data: Mapping[str, Any]) -> str:
        """What decides "unchanged": the source content and the map applied to it (not the payload, whose lookups
        may resolve later), so a delta touches only records changed in the source or remapped."""
        return content_hash({"source": data, "map": self.signature})

    @property
    def module(self) -> str:
        return self.mapping.destination_module

    @property
    def strategy(self) -> str:
        return self.mapping.strategy

    @property
    def link_module(self) -> str:
        """The crosswalk key of this mapping's links. Merged fields land on a record another link owns (for
        custom fields, the same source record), so their links carry the mapping too, never colliding."""
        if self.strategy in MERGE_STRATEGIES:
            return f"{self.module}~{self.mapping.pk}"
        return self.module

    def transform(self, record: Mapping[str, Any]) -> Transformed:
        out = Transformed(payload={})
        for fp in self.fields:
            outcome = apply_transform(fp.spec, record, source_field=fp.source_field, context=fp.context)
            if outcome.error is not None:
                out.error_code = outcome.error.code
                out.error_field = outcome.error.field or fp.destination_field
                out.error_message = outcome.error.message
                return out
            out.flags.extend(outcome.flags)
            if outcome.overflow:
                out.overflow.append((fp.destination_field, outcome.overflow))
            if outcome.value is not None and outcome.value != "":
                out.payload[fp.destination_field] = outcome.value
        if self.key_prefix and self.key_field in out.payload:
            out.payload[self.key_field] = f"{self.key_prefix}:{out.payload[self.key_field]}"
        return out


def content_hash(payload: Mapping[str, Any]) -> str:
    """A stable hash of what we write: equal hashes mean the destination already holds this content."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=_json_default).encode()).hexdigest()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def wire_value(value: Any) -> Any:
    """Values as JSON can carry them (dates ISO 8601, decimals as numbers)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def find_key_field(dest_fields: Mapping[str, DestField]) -> str:
    for name in SOURCE_ID_LABELS:
        if name in dest_fields:
            return name
    for f in dest_fields.values():
        if f.unique and f.custom and "source" in f.api_name.lower():
            return f.api_name
    return ""


def reference_field(source: SourceObject, parent_object: str) -> str:
    """The field of `source` that holds the id of a `parent_object` record (its own id when they are the same)."""
    if source.name == parent_object:
        return source.id_field
    for f in source.fields:
        if f.references == parent_object:
            return f.name
    raise PlanError(f"source object {source.name!r} has no field referring to {parent_object!r}")


def branch_of(mapping: ObjectMapping) -> str:
    """Which value of the routing rule sends a record to this mapping."""
    route = mapping.route or {}
    if route.get("branch"):
        return str(route["branch"])
    stage = str(route.get("lifecycle_stage") or "")
    if stage:
        # Freshsales has no Leads module: a lead is a contact in the Lead stage (reference/freshsales.md).
        return "Leads" if stage.lower() == "lead" else "Contacts"
    return mapping.destination_module


def route_of(mapping: ObjectMapping, record: Mapping[str, Any], *, as_of: date) -> str:
    route = mapping.route or {}
    params = {"as_of": as_of, **(route.get("params") or {})}
    return route_record(str(route.get("rule", "")), record, params)


def build_plan(
    *, mapping: ObjectMapping, source_objects: Mapping[str, SourceObject], dest_fields: Iterable[DestField],
    lookup: Callable[[str, str], str | None], owner: Callable[[str], str | None],
) -> MappingPlan:
    """Parse and check everything about one confirmed mapping; a PlanError names what is wrong."""
    migration: Migration = mapping.migration
    try:
        source = source_objects[mapping.source_object]
    except KeyError:
        raise PlanError(f"the source has no object {mapping.source_object!r}") from None
    region, zone = SOURCE_LOCALES.get(migration.pair.source.slug, ("US", "UTC"))
    by_name = {f.api_name: f for f in dest_fields}
    values: dict[int, dict[str, str]] = {}
    for vm in ValueMap.objects.filter(field_map__object_mapping=mapping):
        values.setdefault(vm.field_map_id, {})[vm.source_value] = vm.destination_value
    plans: list[FieldPlan] = []
    field_maps = FieldMap.objects.filter(object_mapping=mapping, status=ReviewStatus.CONFIRMED).order_by("id")
    for fm in field_maps:
        if not fm.destination_field:
            continue
        try:
            spec = parse_transform(fm.transform or {"kind": "copy"})
        except ValueError as exc:
            raise PlanError(f"field map {fm.source_field} → {fm.destination_field}: {exc}") from None
        dest = by_name.get(fm.destination_field)
        context = TransformContext(value_map=values.get(fm.pk, {}), region=region, time_zone=zone, lookup=lookup,
                                   owner=owner, destination=dest)
        plans.append(FieldPlan(fm.pk, fm.source_field, fm.destination_field, spec, context))
    signature = content_hash({
        "fields": [(fm.source_field, fm.destination_field, fm.transform) for fm in field_maps],
        "values": {str(k): v for k, v in sorted(values.items())},
    })
    plan = MappingPlan(mapping=mapping, source=source, fields=plans, dest_fields=by_name,
                       key_field=find_key_field(by_name), branch=branch_of(mapping), signature=signature)
    if plan.key_field and mapping.strategy in RECORD_STRATEGIES and _module_shared(mapping):
        # Ids of two source objects collide in one module (Dr.DENTES appointment 10 and recall 10 both become
        # Tasks): the upsert key names the object too, or one would overwrite the other.
        plan.key_prefix = mapping.source_object
    parent = mapping.parent_source_object
    if mapping.strategy in MERGE_STRATEGIES | CHILD_STRATEGIES:
        if not parent:
            raise PlanError(f"{mapping} has no parent object to attach to")
        plan.parent_object = parent
        plan.parent_ref_field = reference_field(source, parent)
    return plan


def _module_shared(mapping: ObjectMapping) -> bool:
    """Whether another source object's confirmed records land in this mapping's module."""
    return ObjectMapping.objects.filter(
        migration_id=mapping.migration_id, status=ReviewStatus.CONFIRMED, strategy__in=list(RECORD_STRATEGIES),
        destination_module=mapping.destination_module,
    ).exclude(source_objects__0=mapping.source_object).exists()


def join_tables(
    *, connector: SourceConnector, source: SourceObject, others: Iterable[str],
    source_objects: Mapping[str, SourceObject], records: Callable[[], Iterable[SourceRecord | Any]] | None = None,
) -> list[tuple[str, str, str, dict[str, Mapping[str, Any]]]]:
    """Lookup tables for the secondary objects of a many:1 merge, as (object, referring object, referring field,
    key → record). An object joins the one that refers to it (a treatment's invoice), or else a sibling that refers
    to the same record (the insurance of a treatment's patient: keyed by its patient, first row per patient).
    With `records` (the unit's own), a table keeps only the rows those records reach, so memory follows the unit's
    slice, not the source; without, whole tables (small reference tables). Read once per work unit."""
    tables: list[tuple[str, str, str, dict[str, Mapping[str, Any]]]] = []
    known = {source.name: source}
    rows_of: dict[str, Callable[[], Iterable[Mapping[str, Any]]] | None] = {
        source.name: (lambda: (r.data for r in records() if isinstance(r, SourceRecord))) if records else None}
    pending = list(others)
    while pending:
        progressed = False
        for name in list(pending):
            other = source_objects.get(name)
            if other is None:
                raise PlanError(f"the source has no object {name!r}")
            found = _join_of(other, list(known.values()))
            if found is None:
                continue
            holder, ref, key = found
            reach = rows_of.get(holder)
            wanted = None if reach is None else {str(row.get(ref) or "") for row in reach()} - {""}
            table: dict[str, Mapping[str, Any]] = {}
            for r in connector.iter_records(name):
                if not isinstance(r, SourceRecord):
                    continue
                k = r.source_id if not key else str(r.data.get(key) or "")
                if k and (wanted is None or k in wanted) and k not in table:
                    table[k] = r.data
            tables.append((name, holder, ref, table))
            known[name] = other
            rows_of[name] = table.values
            pending.remove(name)
            progressed = True
        if not progressed:
            raise PlanError(f"no field links {', '.join(pending)} to {source.name}")
    return tables


def _join_of(other: SourceObject, known: list[SourceObject]) -> tuple[str, str, str] | None:
    """(holder, holder's field, other's key field or "" for its id): a known object referring to `other`, else one
    referring to the same record as `other` does."""
    for holder in known:
        ref = next((f.name for f in holder.fields if f.references == other.name), "")
        if ref:
            return holder.name, ref, ""
    for holder in known:
        for f in holder.fields:
            mine = next((o.name for o in other.fields if f.references and o.references == f.references), "")
            if mine:
                return holder.name, f.name, mine
    return None


def joined(record: SourceRecord, tables: list[tuple[str, str, str, dict[str, Mapping[str, Any]]]]) -> dict[str, Any]:
    """The record's fields plus `object.field` keys from the joined tables."""
    data: dict[str, Any] = dict(record.data)
    rows: dict[str, Mapping[str, Any]] = {record.object_name: record.data}
    for name, holder, ref, table in tables:
        holder_row = rows.get(holder)
        row = table.get(str(holder_row.get(ref) or "")) if holder_row is not None else None
        if row is None:
            continue
        rows[name] = row
        for key, value in row.items():
            data.setdefault(f"{name}.{key}", value)
    return data


def is_skip(branch: str) -> bool:
    return branch == SKIP
