"""Preflight: re-read the destination's metadata and check that the confirmed map can land there — every mapped
field exists with a compatible type, and every picklist value the value maps produce is offered. It gates the
SCHEMA_VERIFIED state and lists each problem, naming module, field and value map (never record values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from connectors.base import ConnectorError, DestField, DestinationConnector
from migrator.models import FieldMap, MappingStrategy, Migration, ReviewStatus, SchemaPlanItem
from migrator.services.lifecycle import register_gate

# Strategies that write no fields of their own (users are matched, rebuilds are documents).
NO_FIELDS = frozenset({MappingStrategy.USERS, MappingStrategy.REBUILD_REFERENCE, MappingStrategy.ATTACHMENTS})

_TEXT = {"text", "textarea", "other"}
# Destination types each transform kind can write (besides plain text, which takes anything but lookups).
COMPATIBLE: dict[str, set[str]] = {
    "lookup": {"lookup", "other"},
    "owner": {"owner", "lookup", "other"},
    "date": {"date", "datetime"} | _TEXT,
    "datetime": {"datetime"} | _TEXT,
    "phone": {"phone"} | _TEXT,
    "email": {"email"} | _TEXT,
    "number": {"integer", "decimal", "currency"} | _TEXT,
    "currency": {"currency", "decimal", "integer"} | _TEXT,
    "boolean": {"boolean"} | _TEXT,
    "value_map": {"picklist", "multiselect"} | _TEXT,
    "json": {"json"} | _TEXT,
}


@dataclass
class PreflightReport:
    problems: list[str] = field(default_factory=list)
    checked_fields: int = 0
    checked_values: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "checked_fields": self.checked_fields,
                "checked_values": self.checked_values}


def _produced_values(fm: FieldMap) -> set[str]:
    spec = fm.transform or {}
    kind = spec.get("kind", "copy")
    values: set[str] = set()
    if kind == "value_map":
        values.update(str(v) for v in (spec.get("map") or {}).values())
        values.update(fm.value_maps.values_list("destination_value", flat=True))
        if spec.get("default") is not None and spec.get("on_unmapped", "default") == "default":
            values.add(str(spec["default"]))
    elif kind == "constant" and isinstance(spec.get("value"), str):
        values.add(spec["value"])
    return {v for v in values if v != ""}


def _check_field(module: str, fm: FieldMap, fields: dict[str, DestField], report: PreflightReport,
                 subform_fields: Any = None) -> str | None:
    """The problem with one field map, or None; the name it found missing is returned for the plan's status."""
    name = fm.destination_field
    where = f"{module}.{name} (field map #{fm.pk})"
    lookup_name = name.split(".", 1)[0]   # subform fields: the subform must exist
    target = fields.get(lookup_name)
    report.checked_fields += 1
    if target is None:
        report.problems.append(f"{where}: field does not exist in the destination"
                               + (" (a subform: the customer's admin creates it, see the schema checklist)"
                                  if "." in name else ""))
        return lookup_name
    if "." in name:
        # A subform's fields are listed under the subform's own api_name (reference, "Metadata and schema").
        inner = subform_fields(lookup_name) if subform_fields is not None else None
        if target.type != "subform":
            report.problems.append(f"{where}: {lookup_name} is a {target.type} field, not a subform")
        elif inner is not None and name.split(".", 1)[1] not in inner:
            report.problems.append(f"{where}: the {lookup_name} subform has no field {name.split('.', 1)[1]}")
            return name
        return None
    kind = (fm.transform or {}).get("kind", "copy")
    allowed = COMPATIBLE.get(kind)
    if allowed is not None and target.type not in allowed:
        report.problems.append(f"{where}: type {target.type} cannot take a {kind} transform")
    elif allowed is None and target.type in {"lookup", "owner"} and kind != "constant":
        report.problems.append(f"{where}: a {target.type} field needs a lookup or owner transform, not {kind}")
    if target.type in {"picklist", "multiselect"}:
        offered = set(target.picklist)
        for value in sorted(_produced_values(fm)):
            report.checked_values += 1
            if offered and value not in offered:
                report.problems.append(f"{where}: picklist value {value!r} is not offered by the destination")
    return None


def preflight_run(*, migration: Migration, destination: DestinationConnector) -> PreflightReport:
    """Check the confirmed map against the destination as it is now; update the schema plan's statuses."""
    report = PreflightReport()
    missing: set[tuple[str, str]] = set()
    oms = migration.object_mappings.filter(status=ReviewStatus.CONFIRMED).exclude(strategy__in=NO_FIELDS)
    cache: dict[str, dict[str, DestField] | None] = {}
    for om in oms.order_by("load_order", "pk"):
        module = om.destination_module
        if not module:
            continue
        if module not in cache:
            try:
                cache[module] = {f.api_name: f for f in destination.fields(module)}
            except ConnectorError as exc:
                cache[module] = None
                report.problems.append(f"{module}: module cannot be read in the destination ({exc.code or 'error'})")
                missing.add((module, ""))
        fields = cache[module]
        if fields is None:
            continue
        def subform_fields(api_name: str) -> dict[str, DestField] | None:
            if api_name not in cache:
                try:
                    cache[api_name] = {f.api_name: f for f in destination.fields(api_name)}
                except ConnectorError:
                    cache[api_name] = None
            return cache[api_name]

        for fm in om.field_maps.filter(status=ReviewStatus.CONFIRMED).order_by("destination_field"):
            if not fm.destination_field:
                continue
            gone = _check_field(module, fm, fields, report, subform_fields)
            if gone:
                missing.add((module, gone))
    _update_plan(migration, missing)
    return report


def _update_plan(migration: Migration, missing: set[tuple[str, str]]) -> None:
    with transaction.atomic():
        for item in migration.schema_plan.all():
            name = item.created_api_name or item.api_name
            is_missing = (item.module, name) in missing or (item.is_module and (item.api_name, "") in missing)
            if is_missing and item.status != SchemaPlanItem.Status.MISSING:
                item.status = SchemaPlanItem.Status.MISSING
                item.save(update_fields=["status"])
            elif not is_missing and item.status == SchemaPlanItem.Status.MISSING:
                item.status = SchemaPlanItem.Status.EXISTS
                item.save(update_fields=["status"])


@register_gate(Migration.State.SCHEMA_VERIFIED)
def _schema_verified_gate(migration: Migration) -> list[str]:
    from migrator.services.connections import destination_connector

    try:
        destination = destination_connector(migration.destination_connection)
    except (ConnectorError, ImportError, ValueError) as exc:
        return [f"the destination connection cannot be opened: {type(exc).__name__}"]
    try:
        return preflight_run(migration=migration, destination=destination).problems
    except ConnectorError as exc:
        return [f"the destination could not be read ({exc.code or type(exc).__name__}); try preflight again"]
    finally:
        destination.close()
