"""The map of one migration: proposed from the catalog and the suggester, reviewed and confirmed by staff.

`mapping_propose` instantiates the pair's catalog rows as ObjectMappings with their default field maps
(fixtures/catalog/fields/), then lets the suggester fill the discovered fields the defaults leave out. Re-proposing
keeps what people touched: confirmed or rejected rows and manual edits are never overwritten. The MAPPED gate
refuses while anything is unconfirmed or a mandatory destination field is unmapped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connectors.base import DestField, DestinationConnector
from migrator.models import (
    DiscoveredField,
    DiscoveredObject,
    FieldMap,
    MappingStrategy,
    Migration,
    ObjectMapping,
    Origin,
    PairCustomField,
    PairObjectMapping,
    ReviewStatus,
    ValueMap,
)
from migrator.services import destination_meta
from migrator.services.lifecycle import register_gate
from migrator.services.mapping_defaults import DefaultRow, default_fields
from migrator.services.mapping_suggest import LocalSuggester, Suggestion, WorkbenchSuggester
from migrator.services.transforms.specs import parse_transform

User = AbstractBaseUser | AnonymousUser | None

# Rows whose records carry fields the suggester may complete; the others move a fixed shape (notes, files…).
NO_FIELD_STRATEGIES = frozenset({MappingStrategy.USERS, MappingStrategy.REBUILD_REFERENCE})
SUGGESTED_STRATEGIES = frozenset({
    MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE,
    MappingStrategy.CUSTOM_FIELDS,
})


# Modules whose custom fields the destination cannot report (reference/freshsales.md, "Field metadata": only
# contacts, sales_accounts, deals and sales_activities have a fields endpoint): no new field is suggested there.
NO_CUSTOM_FIELD_MODULES: dict[str, frozenset[str]] = {
    "freshsales": frozenset({"tasks", "appointments", "notes", "products", "documents"}),
}


# Records the destination creates keep the source's last-modified time in a custom date-time field: neither CRM
# lets an import set its own created/modified times (reference: Zoho "Records", Freshsales "Limits").
SOURCE_TIME_STRATEGIES = frozenset({
    MappingStrategy.RECORDS, MappingStrategy.ROUTED_RECORDS, MappingStrategy.CUSTOM_MODULE,
})
SOURCE_TIME_FIELD = {"zoho-crm": ("Source Modified Time", "Source_Modified_Time"),
                     "freshsales": ("Source modified time", "cf_source_modified_time")}


class MappingError(ValueError):
    """A mapping cannot be confirmed as it stands; the message names the rows."""


@dataclass
class ProposeSummary:
    object_mappings_created: int = 0
    object_mappings_kept: int = 0
    field_maps_created: int = 0
    field_maps_updated: int = 0
    field_maps_kept: int = 0
    value_maps_created: int = 0
    suggestions: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object_mappings_created": self.object_mappings_created,
            "object_mappings_kept": self.object_mappings_kept,
            "field_maps_created": self.field_maps_created,
            "field_maps_updated": self.field_maps_updated,
            "field_maps_kept": self.field_maps_kept,
            "value_maps_created": self.value_maps_created,
            "suggestions": self.suggestions,
        }


@dataclass
class Confirmed:
    object_mappings: list[int] = field(default_factory=list)
    field_maps: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"object_mappings": self.object_mappings, "field_maps": self.field_maps,
                "count": len(self.object_mappings) + len(self.field_maps)}


# --------------------------------------------------------------------------------------------------- transforms


def transform_problem(spec: Any) -> str | None:
    """Why a stored transform spec is invalid (None when it parses). The admin shows it beside the field."""
    try:
        parse_transform(spec)
    except ValueError as exc:
        return str(exc)
    return None


def transform_kind(spec: Any) -> str:
    return str(spec.get("kind", "copy")) if isinstance(spec, dict) and spec else "copy"


def _editable(row: FieldMap | ObjectMapping) -> bool:
    """Proposals nobody touched yet: a re-propose may refresh them."""
    return row.status == ReviewStatus.PROPOSED and row.origin != Origin.MANUAL


# --------------------------------------------------------------------------------------------------- propose


@dataclass(frozen=True)
class _Move:
    """One ObjectMapping to instantiate from a catalog row (a routed row with several targets gives several)."""

    row: PairObjectMapping
    strategy: str
    source_objects: list[str]
    module: str
    parent: str
    route: dict[str, Any] | None
    companion: bool


def _moves(row: PairObjectMapping) -> list[_Move]:
    moves: list[_Move] = []
    targets = list((row.route or {}).get("targets") or {}) or [row.destination_module]
    for module in targets:
        route = None
        if row.route:
            # Each branch of the rule becomes its own mapping, so each module gets its own field maps.
            route = {**row.route, "targets": {module: row.route["targets"][module]}}
        moves.append(_Move(row, row.strategy, list(row.source_objects), module, row.parent_source_object, route,
                           companion=False))
    companion = getattr(row, "companion", None)
    if companion:
        moves.append(_Move(row, companion["strategy"], list(companion["source_objects"]),
                           companion.get("destination_module", ""), companion.get("parent_source_object", ""),
                           None, companion=True))
    return moves


def _create_spec(cf: PairCustomField) -> dict[str, Any]:
    return {"module": cf.module, "label": cf.label, "api_name": cf.api_name, "type": cf.type, "length": cf.length,
            "picklist": list(cf.picklist), "lookup_module": cf.lookup_module, "unique": cf.unique, "why": cf.why,
            "subform": cf.subform}


def mapping_propose(
    *, migration: Migration, destination: DestinationConnector | None = None,
    suggester: WorkbenchSuggester | None = None,
) -> ProposeSummary:
    """Instantiate (or refresh) the migration's map from its pair's catalog rows, default field maps and the
    suggester. Confirmed, rejected and manually edited rows stay as they are."""
    suggester = suggester or LocalSuggester()
    summary = ProposeSummary()
    pair = migration.pair
    defaults = default_fields(pair.source.slug, pair.destination.slug)
    custom = {(cf.module, cf.api_name): cf for cf in PairCustomField.objects.filter(pair=pair)}
    custom |= {(cf.module, cf.label): cf for cf in custom.values()}
    discovered = {
        o.key: o for o in DiscoveredObject.objects.filter(migration=migration).prefetch_related("fields")
    }
    field_cache: dict[str, list[DestField]] = {}

    def fields_of(module: str) -> list[DestField]:
        if module not in field_cache:
            field_cache[module] = destination_meta.module_fields(migration, module, destination)
        return field_cache[module]

    with transaction.atomic():
        for row in PairObjectMapping.objects.filter(pair=pair).order_by("position"):
            for move in _moves(row):
                entry = defaults.row_for(row.position, move.module, companion=move.companion) if defaults else None
                om = _object_mapping(migration, move, summary, route_params=entry.route_params if entry else {})
                if om.status == ReviewStatus.REJECTED:
                    continue
                if entry is not None:
                    _apply_defaults(om, entry, custom, summary)
                if move.strategy in SOURCE_TIME_STRATEGIES and move.module:
                    _source_modified_time(om, discovered.get(om.source_object), pair.destination.slug, summary)
                if move.strategy in SUGGESTED_STRATEGIES and move.module:
                    _apply_suggestions(migration, om, move, discovered, fields_of(move.module), custom, suggester,
                                       summary)
                # Rows that create no records (users, rebuild references) have no destination fields to ask for.
                writes = move.module and move.strategy not in NO_FIELD_STRATEGIES
                _propose_values(om, discovered, fields_of(move.module) if writes else [], suggester, summary)
    return summary


def _object_mapping(migration: Migration, move: _Move, summary: ProposeSummary, *,
                    route_params: dict[str, Any]) -> ObjectMapping:
    om = ObjectMapping.objects.filter(
        migration=migration, catalog_row=move.row, strategy=move.strategy, destination_module=move.module
    ).first()
    route = move.route
    if route is not None and route_params:
        # The pair's default field-map file knows the source's real status/type columns and codes.
        route = {**route, "params": {**(route.get("params") or {}), **route_params}}
    values = {
        "source_label": move.row.source_label, "source_objects": move.source_objects,
        "cardinality": move.row.cardinality, "parent_source_object": move.parent, "route": route,
        "notes": move.row.notes,
    }
    if om is None:
        summary.object_mappings_created += 1
        return ObjectMapping.objects.create(
            migration=migration, catalog_row=move.row, strategy=move.strategy, destination_module=move.module,
            origin=Origin.CATALOG, confidence=1.0, **values,
        )
    if _editable(om):
        for key, value in values.items():
            setattr(om, key, value)
        om.save()
    else:
        summary.object_mappings_kept += 1
    return om


def _put_field_map(om: ObjectMapping, source: str, destination: str, values: dict[str, Any],
                   summary: ProposeSummary) -> FieldMap | None:
    """Create or refresh one field map; None when a person already decided on it."""
    fm = FieldMap.objects.filter(object_mapping=om, source_field=source, destination_field=destination).first()
    if fm is None:
        summary.field_maps_created += 1
        return FieldMap.objects.create(object_mapping=om, source_field=source, destination_field=destination,
                                       **values)
    if not _editable(fm):
        summary.field_maps_kept += 1
        return None
    changed = [k for k, v in values.items() if getattr(fm, k) != v]
    if changed:
        for key in changed:
            setattr(fm, key, values[key])
        fm.save(update_fields=changed)
        summary.field_maps_updated += 1
    return fm


def _apply_defaults(om: ObjectMapping, entry: DefaultRow, custom: dict[tuple[str, str], PairCustomField],
                    summary: ProposeSummary) -> None:
    for item in entry.fields:
        cf = custom.get((om.destination_module, item.destination))
        values: dict[str, Any] = {
            "transform": item.transform, "origin": Origin.CATALOG, "confidence": 1.0,
            "create_field": cf is not None, "create_spec": _create_spec(cf) if cf is not None else None,
        }
        fm = _put_field_map(om, item.source, item.destination, values, summary)
        if fm is None:
            continue
        for source_value, destination_value in item.values.items():
            _, created = ValueMap.objects.get_or_create(
                field_map=fm, source_value=source_value,
                defaults={"destination_value": destination_value, "origin": Origin.CATALOG, "confidence": 1.0},
            )
            summary.value_maps_created += int(created)


def _source_modified_time(om: ObjectMapping, obj: DiscoveredObject | None, destination: str,
                          summary: ProposeSummary) -> None:
    """Propose `<modified field> → Source Modified Time` (created with the schema checklist) for an object whose
    source records carry a modification time, unless the map already sends that field somewhere."""
    names = SOURCE_TIME_FIELD.get(destination)
    if obj is None or not obj.modified_field or names is None:
        return
    if om.destination_module in NO_CUSTOM_FIELD_MODULES.get(destination, frozenset()):
        return
    if om.field_maps.filter(source_field=obj.modified_field).exists():
        return
    label, api_name = names
    spec = {"module": om.destination_module, "label": label, "api_name": api_name, "type": "datetime",
            "length": None, "picklist": [], "lookup_module": "", "unique": False, "subform": "",
            "why": f"the source's last-modified time of each {om.source_label or om.source_object} record "
                   "(the CRM sets its own on import)"}
    _put_field_map(om, obj.modified_field, api_name, {
        "transform": {"kind": "datetime"}, "origin": Origin.CATALOG, "confidence": 1.0,
        "create_field": True, "create_spec": spec,
    }, summary)


def _covered(om: ObjectMapping) -> set[str]:
    """Source fields already used by this mapping, templates and joins included."""
    covered: set[str] = set()
    for fm in om.field_maps.all():
        covered.add(fm.source_field)
        spec = fm.transform or {}
        covered.update(spec.get("fields") or [])
        for key in ("time_field", "hour_field", "minute_field", "plus_minutes_field"):
            if spec.get(key):
                covered.add(spec[key])
        if spec.get("kind") == "template":
            covered.update(_template_fields(str(spec.get("template", ""))))
    return covered


def _template_fields(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _candidates(om: ObjectMapping, move: _Move, obj: DiscoveredObject,
                has_custom_fields_row: bool) -> list[DiscoveredField]:
    covered = _covered(om)
    out = []
    for f in obj.fields.all():
        if f.name in covered or f.name == obj.id_field:
            continue
        if move.strategy == MappingStrategy.CUSTOM_FIELDS and not f.custom:
            continue
        if move.strategy != MappingStrategy.CUSTOM_FIELDS and f.custom and has_custom_fields_row:
            continue   # the practice's own fields go to the custom_fields row of the same object
        out.append(f)
    return out


def _apply_suggestions(
    migration: Migration, om: ObjectMapping, move: _Move, discovered: dict[str, DiscoveredObject],
    destination_fields: list[DestField], custom: dict[tuple[str, str], PairCustomField],
    suggester: WorkbenchSuggester, summary: ProposeSummary,
) -> None:
    pair = migration.pair
    object_name = move.parent if move.strategy == MappingStrategy.CUSTOM_FIELDS else move.source_objects[0]
    obj = discovered.get(object_name)
    if obj is None:
        return
    has_custom_row = PairObjectMapping.objects.filter(
        pair=pair, strategy=MappingStrategy.CUSTOM_FIELDS, parent_source_object=object_name
    ).exists()
    candidates = _candidates(om, move, obj, has_custom_row)
    if not candidates:
        return
    taken = set(om.field_maps.exclude(destination_field="").values_list("destination_field", flat=True))
    found = suggester.fields(
        object_name=obj.key, label=obj.label or obj.key, fields=candidates, destination_fields=destination_fields,
        system=pair.source.slug, destination=pair.destination.slug, module=move.module,
    )
    by_name = {f.name: f for f in candidates}
    no_custom = NO_CUSTOM_FIELD_MODULES.get(pair.destination.slug, frozenset())
    for s in found:
        if s.source not in by_name:
            continue
        values = _suggestion_values(s, om.destination_module, taken, custom)
        if values is None or (values["create_field"] and om.destination_module in no_custom):
            continue
        referenced = by_name[s.source].references
        if values["transform"].get("kind") == "lookup" and referenced:
            # The suggester names a generic concept ("practice"); the source says which object the field refers to.
            values["transform"] = {**values["transform"], "source_object": referenced}
        destination = values.pop("destination_field")
        taken.add(destination)
        _put_field_map(om, s.source, destination, values, summary)
        summary.suggestions.append({
            "object_mapping": om.pk, "module": om.destination_module, "source": s.source,
            "target": destination, "confidence": round(s.confidence, 3), "create": bool(values["create_field"]),
        })


def _suggestion_values(s: Suggestion, module: str, taken: set[str],
                       custom: dict[tuple[str, str], PairCustomField]) -> dict[str, Any] | None:
    if s.target and s.target not in taken:
        cf = custom.get((module, s.target))
        return {"destination_field": s.target, "transform": s.transform, "origin": Origin.SUGGESTED,
                "confidence": s.confidence, "alternatives": s.alternatives, "create_field": cf is not None,
                "create_spec": _create_spec(cf) if cf else None, "type_mismatch": False}
    if s.create:
        spec = {"module": module, "label": s.create.get("label", s.source), "api_name": s.create.get("api_name", ""),
                "type": s.create.get("type", "text"), "length": s.create.get("length"),
                "picklist": list(s.create.get("picklist") or []), "lookup_module": "", "unique": False,
                "why": f"No {module} field fits source field {s.source}; suggested as a custom field"}
        if not spec["api_name"] or spec["api_name"] in taken:
            return None
        return {"destination_field": spec["api_name"], "transform": s.transform, "origin": Origin.SUGGESTED,
                "confidence": s.confidence, "alternatives": s.alternatives, "create_field": True,
                "create_spec": spec, "type_mismatch": False}
    return None


def _propose_values(om: ObjectMapping, discovered: dict[str, DiscoveredObject], destination_fields: list[DestField],
                    suggester: WorkbenchSuggester, summary: ProposeSummary) -> None:
    """Coded source fields mapped with value_map transforms get ValueMap proposals for their distinct codes."""
    picklists = {f.api_name: f.picklist for f in destination_fields}
    objects = [discovered[o] for o in om.source_objects if o in discovered]
    for fm in om.field_maps.all():
        if transform_kind(fm.transform) != "value_map" or not fm.source_field:
            continue
        codes: list[str] = []
        for obj in objects:
            df = next((f for f in obj.fields.all() if f.name == fm.source_field), None)
            if df is not None:
                codes.extend(str(v) for v in df.coded_values or [])
        picklist = picklists.get(fm.destination_field) or tuple((fm.create_spec or {}).get("picklist") or ())
        existing = set(fm.value_maps.values_list("source_value", flat=True))
        missing = [c for c in dict.fromkeys(codes) if c not in existing]
        if not missing:
            continue
        for vs in suggester.values(coded_values=missing, picklist=list(picklist)):
            ValueMap.objects.create(field_map=fm, source_value=vs.source_value,
                                    destination_value=vs.destination_value, origin=Origin.SUGGESTED,
                                    confidence=vs.confidence)
            summary.value_maps_created += 1


# --------------------------------------------------------------------------------------------------- confirm


def _confirm(rows: Iterable[FieldMap | ObjectMapping], user: User, confirmed: list[int]) -> None:
    now = timezone.now()
    by = user if user is not None and user.is_authenticated else None
    for row in rows:
        row.status = ReviewStatus.CONFIRMED
        row.confirmed_by = by  # type: ignore[assignment]
        row.confirmed_at = now
        row.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        confirmed.append(row.pk)


def _check_transforms(field_maps: Sequence[FieldMap]) -> None:
    bad = []
    for fm in field_maps:
        problem = transform_problem(fm.transform)
        if problem:
            bad.append(f"field map #{fm.pk} ({fm}): {problem}")
    if bad:
        raise MappingError("invalid transform specs: " + "; ".join(bad))


def mapping_confirm(
    *, user: User, field_maps: Iterable[FieldMap] = (), object_mappings: Iterable[ObjectMapping] = ()
) -> Confirmed:
    """Confirm the given rows (a rejected one too, when it is named explicitly). Refuses invalid transforms."""
    fms, oms = list(field_maps), list(object_mappings)
    result = Confirmed()
    with transaction.atomic():
        _check_transforms(fms)
        _confirm(oms, user, result.object_mappings)
        _confirm(fms, user, result.field_maps)
    return result


def mapping_confirm_above(*, migration: Migration, threshold: float, user: User) -> Confirmed:
    """Confirm every proposed catalog row and every suggestion whose confidence is at or above `threshold`."""
    if not 0.0 <= threshold <= 1.0:
        raise MappingError(f"threshold must be between 0 and 1, not {threshold}")
    wanted = Q(status=ReviewStatus.PROPOSED) & (Q(origin=Origin.CATALOG) | Q(confidence__gte=threshold))
    oms = ObjectMapping.objects.filter(wanted, migration=migration).order_by("pk")
    fms = (FieldMap.objects.filter(wanted, object_mapping__migration=migration)
           .exclude(object_mapping__status=ReviewStatus.REJECTED).order_by("pk"))
    result = Confirmed()
    with transaction.atomic():
        valid = [fm for fm in fms if transform_problem(fm.transform) is None]
        _confirm(list(oms), user, result.object_mappings)
        _confirm(valid, user, result.field_maps)
    return result


def mapping_reject(*, user: User, field_maps: Iterable[FieldMap] = (),
                   object_mappings: Iterable[ObjectMapping] = ()) -> int:
    """Reject rows: they do not move data and a re-propose leaves them rejected."""
    count = 0
    now = timezone.now()
    by = user if user is not None and user.is_authenticated else None
    with transaction.atomic():
        for row in [*object_mappings, *field_maps]:
            row.status = ReviewStatus.REJECTED
            row.confirmed_by = by  # type: ignore[assignment]
            row.confirmed_at = now
            row.save(update_fields=["status", "confirmed_by", "confirmed_at"])
            count += 1
    return count


# --------------------------------------------------------------------------------------------------- gate


def mapping_problems(migration: Migration, destination: DestinationConnector | None = None) -> list[str]:
    """Everything that keeps the map from being complete, one line each."""
    problems: list[str] = []
    oms = list(migration.object_mappings.exclude(status=ReviewStatus.REJECTED).prefetch_related("field_maps"))
    if not oms:
        return ["no mapping has been proposed: run `manage.py propose_mapping` or the admin action"]
    for om in oms:
        if om.status != ReviewStatus.CONFIRMED:
            problems.append(f"object mapping #{om.pk} {om} is not confirmed")
        live = [fm for fm in om.field_maps.all() if fm.status != ReviewStatus.REJECTED]
        problems.extend(
            f"field map #{fm.pk} {om.destination_module or om.source_label}: {fm} is not confirmed"
            for fm in live if fm.status != ReviewStatus.CONFIRMED
        )
        if om.strategy in destination_meta.RECORD_STRATEGIES and om.destination_module:
            fields = destination_meta.module_fields(migration, om.destination_module, destination)
            mapped = {fm.destination_field for fm in live if fm.status == ReviewStatus.CONFIRMED}
            required = destination_meta.mandatory_fields(
                fields, custom_module=om.strategy == MappingStrategy.CUSTOM_MODULE
            )
            missing = [name for name in required if name not in mapped]
            if missing:
                problems.append(
                    f"object mapping #{om.pk} {om}: mandatory {om.destination_module} field(s) unmapped: "
                    + ", ".join(missing)
                )
    return problems


def _reachable_destination(migration: Migration) -> DestinationConnector | None:
    """The live connector when the connection names an endpoint; the gate falls back to the catalog otherwise."""
    config = migration.destination_connection.config or {}
    if not any(config.get(k) for k in ("api_base", "base_url", "bundle_alias")):
        return None
    from connectors.base import ConnectorError
    from migrator.services.connections import destination_connector

    try:
        connector = destination_connector(migration.destination_connection)
        connector.modules()
    except (ConnectorError, ImportError, OSError, ValueError):
        return None
    return connector


@register_gate(Migration.State.MAPPED)
def _mapped_gate(migration: Migration) -> list[str]:
    destination = _reachable_destination(migration)
    try:
        return mapping_problems(migration, destination)
    finally:
        if destination is not None:
            destination.close()
