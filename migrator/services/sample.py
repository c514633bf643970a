"""The sample run: choose a representative slice of the source, and after loading it read every sampled record
back from the destination and compare it field by field with what the map should have produced."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError, SourceConnector, SourceObject, SourceRecord
from connectors.destinations.links import ALTERNATE_PARENT_FIELDS
from migrator.models import (
    AuditEntry,
    MappingStrategy,
    Migration,
    ObjectMapping,
    RecordLink,
    ReviewStatus,
    Run,
    SampleDiff,
)
from migrator.services import plan as plans
from migrator.services.connections import migration_connectors
from migrator.services.lifecycle import migration_transition

PER_BRANCH = 5          # at least this many records of every routing branch
RARE = 3                # a coded value seen at most this often in the first pass is "rare"
LONGEST = 3             # the parents of the longest notes


def _root(migration: Migration) -> tuple[str, list[ObjectMapping]]:
    """The object the sample is drawn from: the one most mappings hang on (patients)."""
    mappings = list(ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED))
    parents = Counter(m.parent_source_object for m in mappings if m.parent_source_object)
    records = [m for m in mappings if m.strategy in plans.RECORD_STRATEGIES]
    if parents:
        root = parents.most_common(1)[0][0]
    elif records:
        root = records[0].source_object
    else:
        root = mappings[0].source_object if mappings else ""
    return root, mappings


def sample_select(*, migration: Migration) -> dict[str, list[str]]:
    """Ids of the root object to load in the sample: every route, every owner, rare coded values, records with
    notes and attachments, the longest notes, family links — plus the parents they need — up to sample_size."""
    root, mappings = _root(migration)
    if not root:
        return {}
    size = migration.sample_size
    source, dest = migration_connectors(migration)
    try:
        objects = {o.name: o for o in source.discover()}
        root_obj = objects[root]
        chosen: dict[str, str] = {}           # id -> why (insertion order is priority order)

        def take(source_id: str, why: str) -> None:
            if source_id and source_id not in chosen and len(chosen) < size:
                chosen[source_id] = why

        for why, ids in _child_signals(source, objects, mappings, root):
            for source_id in ids:
                take(source_id, why)
        branches: dict[str, list[str]] = {}
        owners: set[str] = set()
        values: Counter[tuple[str, str]] = Counter()
        rare: dict[tuple[str, str], str] = {}
        family: list[tuple[str, str]] = []
        coded = _coded_fields(mappings, root)
        routed = [m for m in mappings if m.strategy == MappingStrategy.ROUTED_RECORDS and m.source_object == root]
        self_refs = [f.name for f in root_obj.fields if f.references == root]
        first: list[str] = []
        as_of = migration.routing_as_of or timezone.now().date()
        for r in _records(source, root):
            for m in routed[:1]:
                try:
                    branch = plans.route_of(m, r.data, as_of=as_of)
                except ValueError:
                    branch = ""
                bucket = branches.setdefault(branch, [])
                if len(bucket) < PER_BRANCH:
                    bucket.append(r.source_id)
            if r.owner_id and r.owner_id not in owners:
                owners.add(r.owner_id)
                take(r.source_id, "owner")
            for name in coded:
                value = str(r.data.get(name) or "")
                if value:
                    values[(name, value)] += 1
                    rare.setdefault((name, value), r.source_id)
            for name in self_refs:
                other = str(r.data.get(name) or "")
                if other and other != r.source_id and len(family) < PER_BRANCH:
                    family.append((r.source_id, other))
            if len(first) < size:
                first.append(r.source_id)
        for ids in branches.values():
            for source_id in ids:
                take(source_id, "route")
        for key, source_id in rare.items():
            if values[key] <= RARE:
                take(source_id, "rare value")
        for member, guarantor in family:
            take(guarantor, "family")
            take(member, "family")
        for source_id in first:
            take(source_id, "fill")
        return {root: list(chosen)}
    finally:
        source.close()
        dest.close()


def _records(source: SourceConnector, name: str) -> Iterator[SourceRecord]:
    for item in source.iter_records(name):
        if isinstance(item, SourceRecord):
            yield item


def _coded_fields(mappings: list[ObjectMapping], root: str) -> list[str]:
    from migrator.models import FieldMap

    return list(FieldMap.objects.filter(object_mapping__in=[m for m in mappings if m.source_object == root],
                                        transform__kind="value_map").values_list("source_field", flat=True))


def _child_signals(source: SourceConnector, objects: Mapping[str, SourceObject], mappings: list[ObjectMapping],
                   root: str) -> Iterator[tuple[str, list[str]]]:
    """Parents of the longest notes, of notes and of attachments, one pass over each child object."""
    for m in mappings:
        if m.strategy not in plans.CHILD_STRATEGIES or m.parent_source_object != root:
            continue
        child = objects.get(m.source_object)
        if child is None:
            continue
        try:
            ref = plans.reference_field(child, root)
        except plans.PlanError:
            continue
        longest: list[tuple[int, str]] = []
        some: list[str] = []
        for r in _records(source, child.name):
            parent = str(r.data.get(ref) or "")
            if not parent:
                continue
            if len(some) < PER_BRANCH:
                some.append(parent)
            size = sum(len(v) for v in r.data.values() if isinstance(v, str))
            heapq.heappush(longest, (size, parent))
            if len(longest) > LONGEST:
                heapq.heappop(longest)
        yield (f"longest {child.name}", [p for _, p in sorted(longest, reverse=True)])
        yield (f"has {child.name}", some)


# --------------------------------------------------------------------------------------------------- diff


def sample_diff(*, run: Run) -> int:
    """Read every record the sample loaded back from the destination; one SampleDiff row per mapped field."""
    migration = run.migration
    source, dest = migration_connectors(migration)
    rows: list[SampleDiff] = []
    try:
        objects = {o.name: o for o in source.discover()}
        links = RecordLink.objects.filter(migration=migration, last_run=run, role=RecordLink.Role.RECORD) \
            .exclude(destination_id="")
        by_object: dict[str, dict[str, RecordLink]] = {}
        for link in links:
            by_object.setdefault(link.source_object, {})[link.source_id] = link
        mappings = ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED,
                                                strategy__in=list(plans.RECORD_STRATEGIES))
        owner = owner_fn(migration)
        lookup = lookup_fn(migration)
        for m in mappings:
            candidates = {sid: lk for sid, lk in by_object.get(m.source_object, {}).items()
                          if lk.destination_module == m.destination_module}
            # The audit names a routing group's first mapping for every branch: routing decides for those.
            routed = m.strategy == MappingStrategy.ROUTED_RECORDS
            mine = set(candidates) if routed else written_by(migration, m, candidates, run=run)
            wanted = {sid: lk for sid, lk in candidates.items() if sid in mine}
            as_of = migration.routing_as_of or timezone.now().date()
            if not wanted:
                continue
            plan = plans.build_plan(mapping=m, source_objects=objects, dest_fields=dest.fields(m.destination_module),
                                    lookup=lookup, owner=owner)
            stored_form = getattr(dest, "stored_form", None)  # how the CRM holds a payload (Freshsales ids …)
            stored = partial(stored_form, m.destination_module) if stored_form is not None else None
            actual: dict[str, Mapping[str, Any]] = {}
            ids = [lk.destination_id for lk in wanted.values()]
            for start in range(0, len(ids), 100):
                for rec in dest.get(m.destination_module, ids[start:start + 100]):
                    actual[rec.id] = rec.data
            for r in _records(source, m.source_object):
                link = wanted.get(r.source_id)
                if link is None or (routed and not loaded_by([m], r.data, as_of=as_of)):
                    continue
                for d in field_diff(plan=plan, record=r.data, actual=actual.get(link.destination_id, {}),
                                    dest_slug=dest.slug, stored=stored):
                    rows.append(SampleDiff(
                        run=run, object_mapping=m, source_object=r.object_name, source_id=r.source_id,
                        destination_module=m.destination_module, destination_id=link.destination_id,
                        field=d.field, source_value=d.source_value, expected=d.expected, actual=d.actual,
                        equal=d.equal,
                    ))
    finally:
        source.close()
        dest.close()
    with transaction.atomic():
        SampleDiff.objects.filter(run=run).delete()
        SampleDiff.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


@dataclass(frozen=True)
class FieldDiff:
    """One mapped field of one record: the source value, what the map should give, what the CRM holds (as text)."""

    field: str
    source_value: str
    expected: str
    actual: str
    equal: bool


def field_diff(*, plan: plans.MappingPlan, record: Mapping[str, Any], actual: Mapping[str, Any],
               dest_slug: str = "", stored: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
               ) -> list[FieldDiff]:
    """Compare what `plan` makes of a source record with the destination record read back, field by field.
    Shared by the sample diff and reconciliation.

    A lookup the loader re-targeted (a Zoho event of a patient who became a Lead is related through What_Id, not
    Who_Id: connectors/destinations/links.py) reads back empty in its own field and holds the expected parent in
    the destination's alternate parent field: that is equal.

    `stored`: how the destination holds a payload it was sent (Freshsales: choices as ids, emails as a list),
    when that differs from the payload; the expected values are compared in that form."""
    out = plan.transform(record)
    alternates = ALTERNATE_PARENT_FIELDS.get(dest_slug, ())
    held = {_text(actual.get(f)) for f in alternates} - {""}
    payload: Mapping[str, Any] = out.payload
    if stored is not None and out.ok:
        try:
            payload = {**out.payload, **stored({k: plans.wire_value(v) for k, v in out.payload.items()})}
        except ConnectorError:
            pass  # a value the destination would refuse: compared as the map gives it
    diffs = []
    for fp in plan.fields:
        expected = payload.get(fp.destination_field)
        value = actual.get(fp.destination_field)
        equal = _same(expected, value)
        wanted = _text(plans.wire_value(expected))
        if not equal and fp.spec.kind == "lookup" and value in (None, "") and wanted and wanted in held:
            value, equal = wanted, True
        diffs.append(FieldDiff(field=fp.destination_field, source_value=_text(record.get(fp.source_field)),
                               expected=wanted, actual=_text(value), equal=equal))
    return diffs


def loaded_by(mappings: list[ObjectMapping], data: Mapping[str, Any], *, as_of: date) -> bool:
    """Whether one of `mappings` is the one that writes this record (routed mappings: the record's branch)."""
    for m in mappings:
        if m.strategy != MappingStrategy.ROUTED_RECORDS:
            return True
        try:
            if plans.route_of(m, data, as_of=as_of) == plans.branch_of(m):
                return True
        except ValueError:
            return True  # a rule that cannot decide here: count the record rather than hide it
    return not mappings


def written_by(migration: Migration, mapping: ObjectMapping, links: Mapping[str, Any], *,
               run: Run | None = None) -> set[str]:
    """The source ids among `links` whose destination record `mapping` wrote. Several mappings may send one
    source object to one module (patients → Contacts, and guarantors who are not patients → Contacts with their
    own fields): a record is compared only with the mapping that loaded it, read from the audit."""
    if not links:
        return set()
    audits = AuditEntry.objects.filter(migration=migration, source_object=mapping.source_object,
                                       source_id__in=list(links), destination_module=mapping.destination_module,
                                       op__in=(AuditEntry.Op.CREATE, AuditEntry.Op.UPDATE))
    if run is not None:
        audits = audits.filter(run=run)
    writers: dict[str, set[int | None]] = {}
    for source_id, mapping_id in audits.values_list("source_id", "object_mapping_id"):
        writers.setdefault(source_id, set()).add(mapping_id)
    # A record with no audit row naming its mapping (written before mappings were recorded) counts as this one's.
    return {sid for sid in links if not writers.get(sid) or mapping.pk in writers[sid] or writers[sid] == {None}}


def owner_fn(migration: Migration) -> Any:
    from migrator.services.owners import OwnerUnresolved, owner_resolver

    resolver = owner_resolver(migration=migration)

    def owner(source_id: str) -> str | None:
        try:
            return resolver(source_id)
        except OwnerUnresolved:
            return None

    return owner


def lookup_fn(migration: Migration) -> Any:
    def lookup(source_object: str, source_id: str) -> str | None:
        link = RecordLink.objects.filter(migration=migration, source_object=source_object, source_id=source_id,
                                         role=RecordLink.Role.RECORD).exclude(destination_id="").first()
        return link.destination_id if link else None

    return lookup


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping) and "id" in value:
        return str(value["id"])
    return str(value)


def _same(expected: Any, actual: Any) -> bool:
    """Equal after the destination's own formatting: lookups read back as {id, name}, numbers as floats,
    date-times in another offset, strings padded."""
    if isinstance(actual, Mapping) and "id" in actual:
        actual = actual["id"]
    if expected in (None, "") and actual in (None, "", [], {}):
        return True
    if expected is None or actual is None:
        return False
    if isinstance(expected, datetime) or (isinstance(actual, str) and isinstance(expected, str) and "T" in expected):
        try:
            e = expected if isinstance(expected, datetime) else datetime.fromisoformat(str(expected))
            a = datetime.fromisoformat(str(actual))
            return e == a
        except ValueError:
            pass
    if isinstance(expected, date) and not isinstance(expected, datetime):
        return expected.isoformat() == str(actual)[:10]
    if isinstance(expected, Decimal | int | float) and not isinstance(expected, bool):
        try:
            return Decimal(str(expected)) == Decimal(str(actual))
        except InvalidOperation:
            return False
    if isinstance(expected, list | tuple) and expected and all(isinstance(x, Mapping) for x in expected):
        # Rows (line items, subform rows): the CRM adds its own keys (row id, computed totals); ours must match.
        rows = actual if isinstance(actual, list) else []
        return len(rows) == len(expected) and all(
            isinstance(got, Mapping) and all(_same(value, got.get(key)) for key, value in want.items())
            for want, got in zip(expected, rows, strict=False))
    if isinstance(expected, list | tuple):
        return [str(x) for x in expected] == [str(x) for x in (actual if isinstance(actual, list) else [actual])]
    return str(expected).strip() == str(actual).strip()


def sample_approve(*, migration: Migration, user: AbstractBaseUser | AnonymousUser | None = None) -> Migration:
    """Staff approve the sample: the gate to the full run."""
    return migration_transition(migration=migration, to_state=Migration.State.SAMPLE_APPROVED, user=user,
                                note="sample approved")
