"""The schema-setup checklist: every custom module and field the destination needs before any record moves.

Built from the confirmed map (field maps that need their destination field created, custom-module rows) and the
destination's metadata, stored as SchemaPlanItem rows. Zoho creates fields and modules through its API ("Apply");
Freshsales has none, so there the checklist is what the customer's admin works through. Zoho derives api_names from
labels (reference/zoho-crm-v8.md, "Metadata and schema"): after Apply the field maps use the real api_name.

Subforms (a subform row per insurance plan) cannot be created through Zoho's Fields API (the reference documents no
subform creation): the checklist lists the subform and every field of it for the customer's Zoho admin (a manual
item Apply leaves alone), and preflight refuses until they exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError, DestField, DestinationConnector, FieldSpec, ModuleSpec
from migrator.models import FieldMap, MappingStrategy, Migration, PairCustomField, ReviewStatus, SchemaPlanItem
from migrator.services.destination_meta import dest_type

KEEP = (SchemaPlanItem.Status.CREATED,)


@dataclass
class ApplyResult:
    created: list[SchemaPlanItem] = field(default_factory=list)
    existing: list[SchemaPlanItem] = field(default_factory=list)
    manual: list[SchemaPlanItem] = field(default_factory=list)     # no API creates them: the customer's admin does
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": [{"module": i.module, "label": i.label, "api_name": i.created_api_name} for i in self.created],
            "existing": [{"module": i.module, "label": i.label} for i in self.existing],
            "manual": [{"module": i.module, "label": i.label, "api_name": i.api_name} for i in self.manual],
            "errors": self.errors,
        }


def is_manual(item: SchemaPlanItem) -> bool:
    """A subform, or a field inside one: built by hand in the CRM's layout editor."""
    return item.type == "subform" or " > " in item.module


def _confirmed_field_maps(migration: Migration) -> list[FieldMap]:
    return list(
        FieldMap.objects.filter(object_mapping__migration=migration, status=ReviewStatus.CONFIRMED,
                                object_mapping__status=ReviewStatus.CONFIRMED)
        .select_related("object_mapping").order_by("object_mapping__destination_module", "destination_field")
    )


def _wanted(migration: Migration) -> dict[tuple[str, str], dict[str, Any]]:
    """(module, label) → the item's values, modules first."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    custom_rows = migration.object_mappings.filter(
        status=ReviewStatus.CONFIRMED, strategy=MappingStrategy.CUSTOM_MODULE
    ).select_related("catalog_row")
    for om in custom_rows:
        spec = (om.catalog_row.custom_module if om.catalog_row else None) or {}
        label = spec.get("plural_label") or om.destination_module.replace("_", " ")
        wanted[(om.destination_module, label)] = {
            "is_module": True, "api_name": om.destination_module, "type": "module", "length": None,
            "picklist": [], "lookup_module": "", "unique": False,
            "why": f"{om.source_label or om.source_object} records have no standard module "
                   f"(singular label {spec.get('singular_label') or label})",
        }
    for fm in _confirmed_field_maps(migration):
        if fm.object_mapping.strategy == MappingStrategy.SUBFORM and "." in fm.destination_field:
            _want_subform(migration, fm, wanted)
            continue
        if not fm.create_field:
            continue
        spec = fm.create_spec or {}
        module = spec.get("module") or fm.object_mapping.destination_module
        subform = spec.get("subform") or ""
        if subform:
            # A subform is created once, then its fields inside it.
            wanted.setdefault((module, subform), {
                "is_module": False, "api_name": subform.replace(" ", "_"), "type": "subform", "length": None,
                "picklist": [], "lookup_module": "", "unique": False,
                "why": f"Subform holding {fm.object_mapping.source_label} rows on each {module} record",
            })
            module = f"{module} > {subform}"
        label = spec.get("label") or fm.destination_field
        wanted.setdefault((module, label), {
            "is_module": False, "api_name": spec.get("api_name") or fm.destination_field,
            "type": spec.get("type") or "text", "length": spec.get("length"),
            "picklist": list(spec.get("picklist") or []), "lookup_module": spec.get("lookup_module") or "",
            "unique": bool(spec.get("unique")),
            "why": spec.get("why") or f"Holds {fm.object_mapping.source_object}.{fm.source_field}",
        })
    return wanted


def _want_subform(migration: Migration, fm: FieldMap, wanted: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The subform a subform row's field map writes into, with every field the pair gives it (the ones no map
    fills stay blank, as the seed promises), for the customer's admin."""
    module = fm.object_mapping.destination_module
    api_name = fm.destination_field.split(".", 1)[0]
    fields = [cf for cf in PairCustomField.objects.filter(pair=migration.pair, module=module).exclude(subform="")
              if cf.subform.replace(" ", "_") == api_name]
    label = fields[0].subform if fields else api_name.replace("_", " ")
    wanted.setdefault((module, label), {
        "is_module": False, "api_name": api_name, "type": "subform", "length": None, "picklist": [],
        "lookup_module": "", "unique": False,
        "why": f"Subform holding one {fm.object_mapping.source_label} row each on every {module} record; no API "
               f"creates subforms: add it in Zoho's layout editor ({module} layout → Subform) with the fields below",
    })
    for cf in fields:
        wanted.setdefault((f"{module} > {label}", cf.label), {
            "is_module": False, "api_name": cf.api_name, "type": cf.type, "length": cf.length,
            "picklist": list(cf.picklist), "lookup_module": cf.lookup_module, "unique": False, "why": cf.why,
        })


def _existing(fields: list[DestField], item: SchemaPlanItem) -> DestField | None:
    for f in fields:
        if f.api_name in (item.api_name, item.created_api_name) or f.label == item.label:
            return f
    return None


def checklist_build(*, migration: Migration, destination: DestinationConnector | None = None) -> list[SchemaPlanItem]:
    """Make the migration's SchemaPlanItem rows match the confirmed map; with a connector, mark what exists."""
    wanted = _wanted(migration)
    with transaction.atomic():
        current = {(i.module, i.label): i for i in migration.schema_plan.all()}
        for key, item in current.items():
            if key not in wanted and item.status not in KEEP:
                item.delete()
        for (module, label), values in wanted.items():
            plan = current.get((module, label)) or SchemaPlanItem(migration=migration, module=module, label=label)
            if plan.status not in KEEP:
                for name, value in values.items():
                    setattr(plan, name, value)
                plan.save()
        items = list(migration.schema_plan.all())
        if destination is not None:
            _mark_existing(destination, items)
    return items


def _mark_existing(destination: DestinationConnector, items: list[SchemaPlanItem]) -> None:
    modules = {m.api_name for m in destination.modules()} | {m.label for m in destination.modules()}
    cache: dict[str, list[DestField]] = {}
    for item in items:
        if item.status in KEEP:
            continue
        if item.is_module:
            exists = item.api_name in modules or item.label in modules
        elif " > " in item.module:
            # A subform's fields are listed under the subform's api_name (reference, "Metadata and schema").
            parent, label = item.module.split(" > ", 1)
            subform = next((i for i in items if i.module == parent and i.label == label), None)
            if subform is None or subform.status != SchemaPlanItem.Status.EXISTS:
                continue
            fields = cache.setdefault(item.module, destination.fields(subform.created_api_name or subform.api_name))
            exists = _existing(fields, item) is not None
        elif item.module not in modules:
            continue    # fields of modules still to create cannot be looked up yet
        else:
            fields = cache.setdefault(item.module, destination.fields(item.module))
            found = _existing(fields, item)
            exists = found is not None
            if found is not None and found.api_name != item.api_name:
                item.created_api_name = found.api_name
        new_status = SchemaPlanItem.Status.EXISTS if exists else SchemaPlanItem.Status.PLANNED
        if item.status != new_status or item.created_api_name:
            item.status = new_status
            item.save(update_fields=["status", "created_api_name"])


def checklist_apply(*, migration: Migration, destination: DestinationConnector) -> ApplyResult:
    """Create every planned module and field through the destination's API, modules first; record the api_name
    the CRM gave each one and make the field maps use it. Destinations without a schema API report why."""
    items = checklist_build(migration=migration, destination=destination)
    result = ApplyResult()
    for item in sorted(items, key=lambda i: (not i.is_module, i.module, i.label)):
        if item.status == SchemaPlanItem.Status.EXISTS:
            result.existing.append(item)
            continue
        if item.status != SchemaPlanItem.Status.PLANNED:
            continue
        if is_manual(item):
            result.manual.append(item)
            continue
        try:
            created_name = _create(destination, item)
        except ConnectorError as exc:
            # The connector's message names the module/field and the vendor code, never record values.
            result.errors.append(f"{item.module}.{item.label}: {exc.message}")
            continue
        with transaction.atomic():
            item.status = SchemaPlanItem.Status.CREATED
            item.created_api_name = created_name
            item.created_at = timezone.now()
            item.save(update_fields=["status", "created_api_name", "created_at"])
            if not item.is_module and created_name != item.api_name:
                _rename(migration, item.module, item.api_name, created_name)
        result.created.append(item)
    return result


def _create(destination: DestinationConnector, item: SchemaPlanItem) -> str:
    if item.is_module:
        singular = item.label[:-1] if item.label.endswith("s") else item.label
        module = destination.create_module(ModuleSpec(singular_label=singular, plural_label=item.label,
                                                      api_name=item.api_name))
        return module.api_name
    spec = FieldSpec(module=item.module, label=item.label, type=dest_type(item.type), api_name=item.api_name,
                     length=item.length, picklist=tuple(item.picklist), lookup_module=item.lookup_module)
    created = destination.create_field(spec)
    return created.api_name


def _rename(migration: Migration, module: str, old: str, new: str) -> None:
    """Field maps written against the intended name now use the name the CRM derived from the label."""
    for fm in FieldMap.objects.filter(object_mapping__migration=migration, object_mapping__destination_module=module,
                                      destination_field=old):
        fm.destination_field = new
        spec = dict(fm.create_spec or {})
        spec["created_api_name"] = new
        fm.create_spec = spec
        fm.save(update_fields=["destination_field", "create_spec"])


def checklist_rows(migration: Migration) -> list[dict[str, Any]]:
    """The checklist as plain rows, for the page, the downloads and the CLI."""
    return [
        {
            "module": i.module, "what": "Module" if i.is_module else "Field", "label": i.label,
            "api_name": i.created_api_name or i.api_name, "type": i.type, "length": i.length or "",
            "picklist": ", ".join(i.picklist), "lookup": i.lookup_module, "unique": "yes" if i.unique else "",
            "status": i.get_status_display(), "why": i.why,
        }
        for i in migration.schema_plan.all()
    ]
