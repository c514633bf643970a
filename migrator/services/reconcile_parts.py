"""Reconciliation's parts beyond the per-object counts: orphans, owner tallies, attachments and the field-level
diff of a random sample. Used by migrator.services.reconcile; counts, codes, field names and record ids only."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from connectors.base import DestinationConnector, SourceConnector, SourceObject, SourceRecord
from migrator.models import (
    DestinationUser,
    MappingStrategy,
    Migration,
    ObjectMapping,
    OwnerMatch,
    RecordLink,
    SourceOwner,
)
from migrator.services import plan as plans
from migrator.services.reconcile_scan import ModuleScan, ObjectOutcomes
from migrator.services.sample import field_diff, loaded_by, lookup_fn, owner_fn, written_by

MISMATCH_LIST = 100        # mismatching fields listed by record id (the rest only counted)
ORPHAN_CODES = {"PARENT_NOT_LOADED", "lookup_unresolved"}

Links = dict[tuple[str, str], dict[str, list[str]]]


@dataclass
class ReconObject:
    """One source object and the confirmed mappings that load it."""

    name: str
    mappings: list[ObjectMapping]
    strategy: str
    modules: list[str]
    role: str
    lookups: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # module -> [(source field, dest field)]
    # (module, source field, dest field) -> the mappings that write that lookup (routed objects: only some records)
    lookup_mappings: dict[tuple[str, str, str], list[ObjectMapping]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------- orphans


def orphans(obj: ReconObject, outcome: ObjectOutcomes, source: SourceConnector,
            source_objects: Mapping[str, SourceObject], links: Links,
            scans: Mapping[str, ModuleScan], *, as_of: date,
            gone: AbstractSet[str] = frozenset()) -> list[dict[str, Any]]:
    """Children whose parent is missing: failed for it (PARENT_NOT_LOADED, its parent lookup unresolved), or
    loaded with a lookup that reads back empty, or names one of our records that is gone from the destination,
    although the source record names a parent. `gone`: destination ids we wrote that the destination no longer
    lists."""
    rows = []
    parent = obj.mappings[0].parent_source_object
    src = source_objects.get(obj.name)
    if obj.strategy in plans.CHILD_STRATEGIES | plans.MERGE_STRATEGIES:
        # A note names its parent through a lookup transform: unresolved there means the parent is not loaded.
        ref_fields = {_reference_field(src, parent)} if src is not None and parent else set()
        not_loaded = len(outcome.ids("failed", ["PARENT_NOT_LOADED"])
                         | outcome.ids("failed", ["lookup_unresolved"], fields=ref_fields - {""}))
        if not_loaded:
            rows.append({"object": obj.name, "parent": parent or "—", "lookup": "(parent record)",
                         "not_loaded": not_loaded, "empty_in_destination": 0, "parent_gone": 0,
                         "orphans": not_loaded})
    wanted = sorted({(module, s, d) for module, pairs in obj.lookups.items() for s, d in pairs if module in scans})
    if src is None or not wanted:
        return rows
    with_ref = _ids_with_values(source, obj, wanted, as_of)
    counted: set[str] = set()  # a lookup failure is counted once, under the first module whose lookup it is
    for module, source_field, dest_field in wanted:
        scan = scans[module]
        ids = links.get((obj.name, module), {})
        target = next((f.references for f in src.fields if f.name == source_field), "")
        empty_ids, refs = scan.empty.get(dest_field, set()), scan.refs.get(dest_field, {})
        # Per source record: its own link and links of fields merged onto it name the same destination record.
        named = [set(ids.get(sid, [])) for sid in with_ref[(module, source_field, dest_field)]]
        empty = sum(1 for dids in named if dids & empty_ids)
        dangling = sum(1 for dids in named if any(refs.get(did) in gone for did in dids))
        not_loaded = 0
        if source_field not in counted:
            counted.add(source_field)
            # A failure that names no field is the lookup's when the object has only one lookup.
            named_fields = [source_field, dest_field] + ([""] if len({w[1] for w in wanted}) == 1 else [])
            not_loaded = len(outcome.ids("failed", ["lookup_unresolved"], fields=named_fields))
        if empty or dangling or not_loaded:
            rows.append({"object": obj.name, "parent": target or "—", "lookup": f"{module}.{dest_field}",
                         "not_loaded": not_loaded, "empty_in_destination": empty, "parent_gone": dangling,
                         "orphans": empty + dangling + not_loaded})
    return rows


def _reference_field(src: SourceObject, parent: str) -> str:
    try:
        return plans.reference_field(src, parent)
    except plans.PlanError:
        return ""


def _ids_with_values(source: SourceConnector, obj: ReconObject, wanted: list[tuple[str, str, str]],
                     as_of: date) -> dict[tuple[str, str, str], set[str]]:
    """Per (module, source field, dest field), the ids of source records where the field is filled and that
    a mapping writing that lookup loads (routing decides for routed objects). One pass over the object."""
    out: dict[tuple[str, str, str], set[str]] = {key: set() for key in wanted}
    for item in source.iter_records(obj.name):
        if not isinstance(item, SourceRecord):
            continue
        for key in wanted:
            if item.data.get(key[1]) not in (None, "") and _loads(obj.lookup_mappings.get(key, []), item, as_of):
                out[key].add(item.source_id)
    return out


def _loads(mappings: list[ObjectMapping], item: SourceRecord, as_of: date) -> bool:
    return loaded_by(mappings, item.data, as_of=as_of)


# --------------------------------------------------------------------------------------------------- owners


def owner_rows(migration: Migration, objects: list[ReconObject], links: Links,
               scans: Mapping[str, ModuleScan], owner_field: str) -> list[dict[str, Any]]:
    """Per destination user: records its source owners hold (objects loaded as records) vs records it owns
    among ours in the destination. Skipped and failed records explain a shortfall."""
    if not owner_field:
        return []
    record_objects = {o.name for o in objects if o.strategy in plans.RECORD_STRATEGIES}
    matches = {m.source_owner_id: m for m in OwnerMatch.objects.filter(migration=migration)
               .select_related("destination_user")}
    fallback = migration.fallback_owner
    users: dict[str, dict[str, Any]] = {}

    def user_row(key: str, label: str) -> dict[str, Any]:
        return users.setdefault(key, {"destination_user": label, "source_owners": [], "source_records": 0,
                                      "destination_records": 0})

    names: dict[str, str] = {}
    for owner in SourceOwner.objects.filter(migration=migration):
        n = sum(int(v) for k, v in owner.record_counts.items() if k in record_objects)
        match = matches.get(owner.pk)
        target = match.destination_user if match and match.status == OwnerMatch.Status.CONFIRMED else fallback
        key = target.dest_id if target else ""
        label = (target.email or target.name) if target else "(no owner)"
        names[key] = label
        row = user_row(key, label)
        row["source_owners"].append(owner.name or owner.source_id)
        row["source_records"] += n
    owned: Counter[str] = Counter()
    counted: set[tuple[str, str]] = set()  # a record holds its own link and links of fields merged onto it
    for obj in objects:
        if obj.name not in record_objects:
            continue
        for module in obj.modules:
            scan = scans.get(module)
            if scan is None:
                continue
            for dids in links.get((obj.name, module), {}).values():
                for did in dids:
                    if did in scan.owners and (module, did) not in counted:
                        counted.add((module, did))
                        owned[scan.owners[did]] += 1
    known = dict(DestinationUser.objects.filter(connection=migration.destination_connection, dest_id__in=list(owned))
                 .values_list("dest_id", "email"))
    for key, n in owned.items():
        user_row(key, names.get(key) or known.get(key) or f"user {key}")["destination_records"] += n
    rows = []
    for row in sorted(users.values(), key=lambda r: str(r["destination_user"])):
        rows.append({**row, "source_owners": ", ".join(sorted(row["source_owners"])),
                     "difference": row["destination_records"] - row["source_records"]})
    return rows


# --------------------------------------------------------------------------------------------------- attachments


def attachments(objects: list[ReconObject], outcomes: Mapping[str, ObjectOutcomes],
                source: SourceConnector) -> dict[str, Any]:
    files = size = large = large_bytes = 0
    failed = 0
    for obj in objects:
        if obj.strategy != MappingStrategy.ATTACHMENTS:
            continue
        outcome = outcomes.get(obj.name, ObjectOutcomes())
        created, too_large = set(outcome.ids("created")), set(outcome.ids("skipped", ["FILE_TOO_LARGE"]))
        wanted = created | too_large
        # One pass over the source's file records (a look-up per id would read the index once per file).
        for record in source.iter_records(obj.name):
            if not isinstance(record, SourceRecord) or record.source_id not in wanted:
                continue
            refs = source.attachments_of(record)
            if record.source_id in created:
                files += len(refs)
                size += sum(r.size for r in refs)
            else:
                large += len(refs)
                large_bytes += sum(r.size for r in refs)
        failed += len(outcome.ids("failed"))
    return {"files_attached": files, "bytes_attached": size, "files_too_large": large,
            "bytes_too_large": large_bytes, "records_failed": failed}


# --------------------------------------------------------------------------------------------------- field diff


def field_diffs(migration: Migration, objects: list[ReconObject], source: SourceConnector,
                dest: DestinationConnector, source_objects: Mapping[str, SourceObject], sample_size: int,
                rng: random.Random, *, as_of: date) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                             dict[str, int]]:
    """Read a random sample of loaded records back and compare every mapped field with what the map gives."""
    candidates: list[tuple[ObjectMapping, str, str]] = []
    for obj in objects:
        if obj.strategy not in plans.RECORD_STRATEGIES:
            continue
        for m in obj.mappings:
            pairs = RecordLink.objects.filter(migration=migration, role=RecordLink.Role.RECORD,
                                              source_object=obj.name, destination_module=m.destination_module) \
                .exclude(destination_id="").values_list("source_id", "destination_id")
            candidates += [(m, sid, did) for sid, did in pairs]
    chosen = rng.sample(candidates, min(sample_size, len(candidates))) if sample_size > 0 else []
    by_mapping: dict[int, tuple[ObjectMapping, dict[str, str]]] = {}
    for m, sid, did in chosen:
        by_mapping.setdefault(m.pk, (m, {}))[1][sid] = did
    stats: dict[tuple[str, str, str], list[int]] = {}
    mismatches: list[dict[str, Any]] = []
    summary = {"records": 0, "fields": 0, "different": 0, "missing": 0}
    # A record its own fields were merged onto is compared under both mappings: count it once.
    compared: set[tuple[str, str]] = set()
    unread: set[tuple[str, str]] = set()
    owner, lookup = owner_fn(migration), lookup_fn(migration)
    for m, chosen_ids in by_mapping.values():
        # One source object may reach one module through several mappings: compare with the one that wrote it.
        # The audit names the unit's first mapping for every routed branch, so routing decides for those.
        routed = m.strategy == MappingStrategy.ROUTED_RECORDS
        mine = set(chosen_ids) if routed else written_by(migration, m, chosen_ids)
        wanted = {sid: did for sid, did in chosen_ids.items() if sid in mine}
        plan = plans.build_plan(mapping=m, source_objects=source_objects, dest_fields=dest.fields(m.destination_module),
                                lookup=lookup, owner=owner)
        ids = list(wanted.values())
        # How the destination holds what it was sent, where that is not the payload (Freshsales choice ids …).
        stored_form = getattr(dest, "stored_form", None)
        stored = partial(stored_form, m.destination_module) if stored_form is not None else None
        actual: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(ids), 100):
            for rec in dest.get(m.destination_module, ids[start:start + 100]):
                actual[rec.id] = rec.data
        for item in source.iter_records(m.source_object):
            if not isinstance(item, SourceRecord) or item.source_id not in wanted:
                continue
            if routed and not _loads([m], item, as_of):
                continue
            did = wanted[item.source_id]
            if did not in actual:
                unread.add((m.destination_module, did))
                continue
            compared.add((m.destination_module, did))
            for d in field_diff(plan=plan, record=item.data, actual=actual[did], dest_slug=dest.slug,
                                stored=stored):
                counts = stats.setdefault((m.source_object, m.destination_module, d.field), [0, 0])
                counts[0] += 1
                summary["fields"] += 1
                if not d.equal:
                    counts[1] += 1
                    summary["different"] += 1
                    if len(mismatches) < MISMATCH_LIST:
                        mismatches.append({"object": m.source_object, "source_id": item.source_id,
                                           "module": m.destination_module, "destination_id": did,
                                           "field": d.field})
    rows = [{"object": o, "module": mod, "field": f, "compared": c, "different": d}
            for (o, mod, f), (c, d) in sorted(stats.items())]
    summary["records"], summary["missing"] = len(compared), len(unread)
    return rows, mismatches, summary
