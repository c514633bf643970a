"""The load of one work unit: stream its source records from the checkpoint, route, transform, resolve owners and
lookups, write in batches through the destination connector, and record per-record results (RecordLink + audit)
with the checkpoint in one short transaction per batch.

Crash safety (ARCHITECTURE.md, invariants 1–3):
- records of modules with our unique source-id field are *upserted* on it, so a batch written before a crash and
  written again updates the same records;
- other writes (notes, attachments, modules without that field) first commit an *intent* (a RecordLink with no
  destination id); on resume an intent is resolved by finding the record we wrote before writing again;
- the checkpoint moves only past records that are accounted for: a temporary failure stops the unit there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.base import (
    BudgetExhausted,
    DestinationConnector,
    PermanentError,
    SourceConnector,
    SourceIssue,
    SourceObject,
    SourceRecord,
    TemporaryError,
    WriteResult,
)
from migrator.models import AuditEntry, MappingStrategy, ObjectMapping, RecordLink, ReviewStatus, Run, WorkUnit
from migrator.services import plan as plans
from migrator.services.connections import migration_connectors
from migrator.services.owners import OwnerUnresolved, owner_resolver
from migrator.services.pipeline_children import ChildWrites, HeldOutcome
from migrator.services.pipeline_folds import FoldWrites, folds
from migrator.services.plan import MappingPlan, PlanError, Transformed
from migrator.services.transforms.specs import LineItemsSpec

log = logging.getLogger(__name__)

RELATION_LINKED = "RELATION_LINKED"
DEFERRED = "\x00deferred"   # a self-reference to a record not loaded yet: left out now, linked by the relation pass
DELTA_READ_BATCH = 10_000     # source records a delta or sample reads per batch (its checkpoint moves per batch)
TEMPORARY_RETRIES = 3          # in-place retries of a batch's temporary failures before the unit steps back
RETRY_BASE_SECONDS = 0.5
Op = AuditEntry.Op
LINK_FIELDS = [f.name for f in RecordLink._meta.concrete_fields if not f.primary_key]


class UnitStopped(Exception):
    """The unit stops early (temporary failure, budget, pause); its checkpoint holds; it will be picked up again."""

    def __init__(self, reason: str, *, not_before: Any = None, budget: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.not_before = not_before
        self.budget = budget


class LeaseLost(UnitStopped):
    """The unit was taken back while this worker held it (its lease ran out): another worker goes on from the
    checkpoint, so this one must not commit the batch it holds."""

    def __init__(self) -> None:
        super().__init__("the unit's lease ran out while this worker held it: another worker goes on")


@dataclass(eq=False)
class Item:
    """One source record on its way through a batch."""

    record: SourceRecord
    plan: MappingPlan
    payload: dict[str, Any] = field(default_factory=dict)
    hash: str = ""
    parent_module: str = ""
    parent_id: str = ""
    link: RecordLink | None = None
    overflow: list[tuple[str, str]] = field(default_factory=list)
    deferred: bool = False                 # a self-reference waits for the relation pass


@dataclass
class BatchResult:
    mapping_id: int | None = None
    audits: list[AuditEntry] = field(default_factory=list)
    links: list[RecordLink] = field(default_factory=list)       # new or changed links, saved with the batch
    retry: list[int] = field(default_factory=list)             # positions in the batch that failed temporarily
    held: list[HeldOutcome] = field(default_factory=list)      # outcomes waiting for their overflow note

    def audit(self, run: Run, item_or_record: Item | SourceRecord | SourceIssue, op: str, **kw: Any) -> None:
        if isinstance(item_or_record, Item):
            source_object, source_id = item_or_record.record.object_name, item_or_record.record.source_id
        else:
            source_object = item_or_record.object_name
            source_id = item_or_record.source_id if isinstance(item_or_record, SourceRecord) else \
                item_or_record.record_id
        self.audits.append(AuditEntry(migration_id=run.migration_id, run=run, object_mapping_id=self.mapping_id,
                                      op=op, source_object=source_object, source_id=source_id, **kw))


# --------------------------------------------------------------------------------------------------- the unit


class UnitLoader(ChildWrites, FoldWrites):
    """Loads one claimed work unit. Plain object so tests and benchmarks can drive it directly."""

    def __init__(self, unit: WorkUnit, source: SourceConnector, dest: DestinationConnector) -> None:
        self.unit = unit
        self.relation_pass = unit.slice_end == "relations"
        self.run: Run = unit.run
        self.migration = self.run.migration
        self.source = source
        self.dest = dest
        self.as_of: date = self.migration.routing_as_of or (self.run.started_at or timezone.now()).date()
        self._lookup_cache: dict[tuple[str, str], tuple[str, str] | None] = {}
        self._no_upsert: set[str] = set()
        resolver = owner_resolver(migration=self.migration)

        def owner(source_owner_id: str) -> str | None:
            try:
                return resolver(source_owner_id)
            except OwnerUnresolved:
                return None

        self._owner = owner
        self.source_objects: dict[str, SourceObject] = {o.name: o for o in source.discover()}
        self.plans = self._plans()
        self.primary = self.plans[0]
        # Several routing rules on one object (patients → Contacts/Leads, guarantors → responsible parties):
        # a record one rule leaves out is another rule's to account for.
        rule = (self.primary.mapping.route or {}).get("rule")
        self.other_rules: list[ObjectMapping] = []
        self.first_rule = True
        if self.primary.strategy == MappingStrategy.ROUTED_RECORDS:
            others = [m for m in ObjectMapping.objects.filter(
                migration=self.migration, strategy=MappingStrategy.ROUTED_RECORDS, status=ReviewStatus.CONFIRMED,
            ).order_by("load_order", "id") if m.source_objects[:1] == self.primary.mapping.source_objects[:1]
                and (m.route or {}).get("rule") != rule]
            seen_rules: set[str] = set()
            for m in others:
                if (m.route or {}).get("rule") not in seen_rules:
                    seen_rules.add(str((m.route or {}).get("rule")))
                    self.other_rules.append(m)
            self.first_rule = all(self.primary.mapping.pk < m.pk for m in self.other_rules)
        raw_since = self.run.options.get("since") if self.run.kind == Run.Kind.DELTA else None
        self.since = datetime.fromisoformat(raw_since) if raw_since else None
        # The rows the unit's records join (a merge's invoice and insurance), only those: memory follows the slice.
        self.tables = plans.join_tables(
            connector=source, source=self.primary.source, others=self.unit.object_mapping.source_objects[1:],
            source_objects=self.source_objects, records=self.records,
        ) if self.unit.object_mapping and len(self.unit.object_mapping.source_objects) > 1 else []
        self.sample = self._sample_filter()
        self.line_specs = [fp.spec for p in self.plans for fp in p.fields if isinstance(fp.spec, LineItemsSpec)]
        self._lines: dict[str, dict[str, list[dict[str, Any]]]] | None = None

    # -------------------------------------------------------------- set-up

    def _plans(self) -> list[MappingPlan]:
        mapping = self.unit.object_mapping
        if mapping is None:
            raise PlanError("the work unit has no object mapping")
        group = [mapping]
        if mapping.strategy == MappingStrategy.ROUTED_RECORDS:
            rule = (mapping.route or {}).get("rule")
            siblings = ObjectMapping.objects.filter(
                migration=mapping.migration, strategy=MappingStrategy.ROUTED_RECORDS,
                status=ReviewStatus.CONFIRMED,
            ).exclude(pk=mapping.pk).order_by("load_order", "id")
            group += [m for m in siblings if m.source_objects[:1] == mapping.source_objects[:1]
                      and (m.route or {}).get("rule") == rule]
        built = []
        for m in group:
            writes = m.destination_module and m.strategy not in plans.NO_WRITE_REASONS
            dest_fields = self.dest.fields(m.destination_module) if writes else []
            built.append(plans.build_plan(mapping=m, source_objects=self.source_objects, dest_fields=dest_fields,
                                          lookup=self.lookup, owner=self._owner))
        return built

    def _sample_filter(self) -> Any:
        if self.run.kind != Run.Kind.SAMPLE:
            return None
        chosen: dict[str, set[str]] = {k: set(v) for k, v in (self.run.options.get("sample") or {}).items()}
        source = self.primary.source
        if source.name in chosen:
            ids = chosen[source.name]
            return lambda r: r.source_id in ids
        refs = [(f.name, chosen[f.references]) for f in source.fields if f.references in chosen]
        if refs:
            return lambda r: any(str(r.data.get(name) or "") in ids for name, ids in refs)
        limit = self.migration.sample_size
        seen = [0]

        def first_n(_r: SourceRecord) -> bool:
            seen[0] += 1
            return seen[0] <= limit

        return first_n

    # -------------------------------------------------------------- lookups

    def lookup(self, source_object: str, source_id: str) -> str | None:
        key = (source_object, source_id)
        if key not in self._lookup_cache:
            link = (RecordLink.objects.filter(migration=self.migration, source_object=source_object,
                                              source_id=source_id, role=RecordLink.Role.RECORD)
                    .exclude(destination_id="").only("destination_id", "destination_module").first())
            self._lookup_cache[key] = (link.destination_id, link.destination_module) if link else None
        found = self._lookup_cache[key]
        if found is None and source_object == self.unit.source_object and not self.relation_pass:
            return DEFERRED
        return found[0] if found else None

    def _prefetch_lookups(self, records: Sequence[SourceRecord]) -> None:
        wanted: dict[str, set[str]] = {}
        for p in self.plans:
            for fp in p.fields:
                target = getattr(fp.spec, "source_object", None)
                if fp.spec.kind == "lookup" and target:
                    ids = {str(r.data.get(fp.source_field) or "") for r in records} - {""}
                    wanted.setdefault(target, set()).update(ids)
            if p.parent_object:
                ids = {str(r.data.get(p.parent_ref_field) or "") for r in records} - {""}
                wanted.setdefault(p.parent_object, set()).update(ids)
        for obj, ids in wanted.items():
            missing = [i for i in ids if (obj, i) not in self._lookup_cache]
            if not missing:
                continue
            # Newest first, so where a record has links in two modules the oldest (its own record) wins.
            found = {sid: (did, mod) for sid, did, mod in RecordLink.objects.filter(
                migration=self.migration, source_object=obj, source_id__in=missing, role=RecordLink.Role.RECORD,
            ).exclude(destination_id="").order_by("-id").values_list("source_id", "destination_id",
                                                                     "destination_module")}
            for i in missing:
                self._lookup_cache[(obj, i)] = found.get(i)

    def _retarget(self, plan: MappingPlan, record: SourceRecord, payload: dict[str, Any],
                  dropped: list[tuple[str, str]] | None = None) -> str:
        """A lookup that points at a module its field cannot hold (a Zoho event's Who_Id is a Contact, but this
        patient became a Lead) is re-expressed the way the destination relates the two (What_Id + $se_module).
        Where the module has no such field (a custom module's Patient lookup), a required lookup cannot be kept:
        the reason is returned and the record fails with it rather than landing without its parent; an optional
        one is left empty and (field, reason) is added to `dropped` for the audit."""
        from connectors.destinations.links import ALTERNATE_PARENT_FIELDS, parent_fields

        for fp in plan.fields:
            target = getattr(fp.spec, "source_object", None)
            if fp.spec.kind != "lookup" or not target or fp.destination_field not in payload:
                continue
            dest = plan.dest_fields.get(fp.destination_field)
            found = self._lookup_cache.get((target, str(record.data.get(fp.source_field) or "")))
            if dest is None or not found or not dest.lookup_module or dest.lookup_module.startswith("$"):
                continue
            dest_id, module = found
            if module != dest.lookup_module and plan.module not in ("Notes",):
                alternates = ALTERNATE_PARENT_FIELDS.get(self.dest.slug, ())
                reason = (f"{fp.destination_field} looks up {dest.lookup_module}, but its {target} was loaded as "
                          f"{module} and {plan.module} has no field relating to {module}")
                payload.pop(fp.destination_field)
                if any(a in plan.dest_fields for a in alternates):
                    payload.update(parent_fields(self.dest.slug, plan.module, module, dest_id))
                elif getattr(fp.spec, "required", False):
                    return reason
                elif dropped is not None:
                    dropped.append((fp.destination_field, reason + ": left empty"))
        return ""

    def _taken_elsewhere(self, record: SourceRecord) -> bool:
        for m in self.other_rules:
            try:
                if not plans.is_skip(plans.route_of(m, record.data, as_of=self.as_of)):
                    return True
            except ValueError:
                continue
        return False

    def _our_write(self, module: str, destination_id: str, modified_at: Any) -> None:
        """Remember the CRM's modified time after a write of ours to a record another link owns (merged fields),
        so the delta's three-way check does not take our own write for a user's edit."""
        if modified_at is not None:
            RecordLink.objects.filter(migration=self.migration, destination_module=module,
                                      destination_id=destination_id, role=RecordLink.Role.RECORD).update(
                destination_modified_at=modified_at)

    def _parent_link(self, parent_object: str, parent_source_id: str) -> tuple[str, str] | None:
        """(destination id, module) of the parent's record: prefetched for the batch; a parent not found then is
        asked for again (it may have been written since), so only found parents are taken from the cache."""
        key = (parent_object, parent_source_id)
        found = self._lookup_cache.get(key)
        if found is None:
            link = (RecordLink.objects.filter(migration=self.migration, source_object=parent_object,
                                              source_id=parent_source_id, role=RecordLink.Role.RECORD)
                    .exclude(destination_id="").order_by("id").only("destination_id", "destination_module").first())
            found = (link.destination_id, link.destination_module) if link else None
            if found is not None:
                self._lookup_cache[key] = found
        return found

    # -------------------------------------------------------------- the stream

    def records(self) -> Iterator[SourceRecord | SourceIssue]:
        """The unit's records from its checkpoint, at most the slice's remaining count."""
        bounded = self.unit.slice_end == "bounded"
        remaining = self.unit.total - self.unit.processed
        if bounded and remaining <= 0:
            return
        cursor = self.unit.checkpoint or self.unit.slice_start or None
        for item in self.source.iter_records(self.primary.source.name, since=self.since, cursor=cursor):
            yield item
            remaining -= 1
            if bounded and remaining <= 0:
                return

    def load(self, *, should_stop: Any = None) -> None:
        """Process the unit to its end, a batch at a time. Raises UnitStopped to step back."""
        size = max(1, min(self.dest.batch_size(self.primary.module) if self.primary.module else 100, 100))
        if self.unit.bulk:
            # The unit is one bulk job's worth (run_plan): read it whole, so each module it writes is one job.
            size = max(1, self.unit.total)
        if self.run.kind in (Run.Kind.DELTA, Run.Kind.SAMPLE):
            # Most records of a delta are unchanged and cost nothing, most of a sample's objects are not in the
            # sample; reading many at a time lets the few written share write calls (the connector splits writes
            # by its batch limit) and a batch's bookkeeping: calls and time follow what is written.
            size = DELTA_READ_BATCH
        batch: list[SourceRecord | SourceIssue] = []
        for item in self.records():
            batch.append(item)
            if len(batch) >= size:
                self._batch(batch)
                batch = []
                if should_stop is not None and should_stop():
                    raise UnitStopped("the run was paused or cancelled")
        if batch:
            self._batch(batch)

    # -------------------------------------------------------------- one batch

    def _batch(self, batch: list[SourceRecord | SourceIssue]) -> None:
        for attempt in range(TEMPORARY_RETRIES + 1):
            result = BatchResult(mapping_id=self.primary.mapping.pk)
            try:
                self._process(batch, result)
            except BudgetExhausted as exc:
                # Keep what was written before the pause (the connector hands back those results), but move
                # the checkpoint over none of this batch: a resumed batch recognises them from the audit.
                self._commit(batch, result, 0)
                raise UnitStopped(f"API budget spent: {exc.message}", not_before=exc.resume_at, budget=True) \
                    from None
            except TemporaryError as exc:
                if attempt == TEMPORARY_RETRIES:
                    raise UnitStopped(f"temporary error: {exc.code or exc.message}") from None
                time.sleep(RETRY_BASE_SECONDS * 2 ** attempt)
                continue
            if not result.retry:
                self._commit(batch, result, len(batch))
                return
            # The checkpoint stops before the first temporary failure; the rest is read again.
            first = min(result.retry)
            self._commit(batch, result, first)
            if attempt == TEMPORARY_RETRIES:
                raise UnitStopped(f"records still failing temporarily after {TEMPORARY_RETRIES} retries")
            batch = batch[first:]
            time.sleep(RETRY_BASE_SECONDS * 2 ** attempt)

    def _commit(self, batch: Sequence[SourceRecord | SourceIssue], result: BatchResult, upto: int) -> None:
        """Links, audit and checkpoint of the first `upto` records in one transaction."""
        audits, links = result.audits, result.links
        if self.run.kind == Run.Kind.DELTA:
            audits = self._new_outcomes(audits)
        counts = {"created": 0, "updated": 0, "skipped": 0, "failed": 0}
        for a in audits:
            key = {Op.CREATE: "created", Op.ATTACH: "created", Op.UPDATE: "updated", Op.SKIP: "skipped",
                   Op.FAIL: "failed"}.get(a.op)
            if key:
                counts[key] += 1
        # Every outcome we know is a fact and is kept; the checkpoint moves only over the accounted prefix, so
        # a record that failed temporarily is read again (records after it are then recognised as done).
        progress: dict[str, Any] = {"in_flight_since": timezone.now()}
        if upto > 0:
            progress |= {"checkpoint": batch[upto - 1].cursor, "processed": F("processed") + upto, "crashes": 0}
        # One statement each for the batch's new and changed crosswalk rows (a link may be listed twice).
        unique = list({id(link): link for link in links}.values())
        now = timezone.now()
        for link in unique:
            link.last_run, link.loaded_at = self.run, now
        # Split before saving: bulk_create gives the new links their ids, and they are not to be updated too.
        new, changed = [link for link in unique if link.pk is None], [link for link in unique if link.pk is not None]
        with transaction.atomic():
            RecordLink.objects.bulk_create(new)
            # An upsert on the primary key: one plain statement, where bulk_update's CASE per field and row cost
            # milliseconds a row to build.
            RecordLink.objects.bulk_create(changed, update_conflicts=True, unique_fields=["id"],
                                           update_fields=LINK_FIELDS)
            AuditEntry.objects.bulk_create(audits)
            held = WorkUnit.objects.filter(pk=self.unit.pk, state=WorkUnit.State.IN_FLIGHT, worker=self.unit.worker)
            if not held.update(created=F("created") + counts["created"], updated=F("updated") + counts["updated"],
                               skipped=F("skipped") + counts["skipped"], failed=F("failed") + counts["failed"],
                               **progress):
                raise LeaseLost
        if upto > 0:
            self.unit.checkpoint = batch[upto - 1].cursor
            self.unit.processed += upto

    def _accounted(self, batch: Sequence[SourceRecord | SourceIssue]) -> set[tuple[str, str]]:
        """Records of this batch that this run already accounted for (a batch read again after a stop)."""
        ids = {b.source_id if isinstance(b, SourceRecord) else b.record_id for b in batch}
        rows = AuditEntry.objects.filter(run=self.run, object_mapping=self.primary.mapping,
                                         source_object=self.primary.source.name, source_id__in=ids)
        if self.relation_pass:
            # What the relation pass itself wrote: linked, refused, or left out as a Lead in a Contacts lookup.
            rows = rows.filter(Q(error_code=RELATION_LINKED) | Q(error_code="LOOKUP_IN_OTHER_MODULE")
                               | Q(op=Op.FAIL, destination_id__gt=""))
        return set(rows.values_list("source_object", "source_id"))

    def _new_outcomes(self, audits: list[AuditEntry]) -> list[AuditEntry]:
        """A delta reports a skip only when it is news: the same record skipped for the same reason before is not
        written again (its cost must follow the changes, and so must its audit)."""
        skips = [a for a in audits if a.op == Op.SKIP]
        if not skips:
            return audits
        seen = set(AuditEntry.objects.filter(
            migration=self.migration, op=Op.SKIP, source_object__in={a.source_object for a in skips},
            source_id__in={a.source_id for a in skips}).values_list("source_object", "source_id", "error_code"))
        return [a for a in audits if a.op != Op.SKIP or (a.source_object, a.source_id, a.error_code) not in seen]

    def _process(self, batch: Sequence[SourceRecord | SourceIssue], result: BatchResult) -> None:
        done = self._accounted(batch)
        batch = [b for b in batch if (b.object_name, b.source_id if isinstance(b, SourceRecord) else b.record_id)
                 not in done or (isinstance(b, SourceIssue) and not b.record_id)]
        records = [b for b in batch if isinstance(b, SourceRecord)]
        if self.sample is not None:
            records = [r for r in records if self.sample(r)]
        self._prefetch_lookups(records)
        position = {id(b): i for i, b in enumerate(batch)}
        for b in batch:
            if isinstance(b, SourceIssue):
                where = f"{b.file}:{b.line}" if b.file else ""
                result.audit(self.run, b, Op.FAIL, error_code="SOURCE_ROW", error_field=b.field,
                             error_message=f"{where} {b.reason}".strip())
        strategy = self.primary.strategy
        if self.relation_pass:
            self._link_relations(records, result)
            return
        if strategy in plans.NO_WRITE_REASONS:
            for r in records:
                result.audit(self.run, r, Op.SKIP, error_code="NOT_MIGRATED",
                             error_message=plans.NO_WRITE_REASONS[strategy])
            return
        items = self._items(records, result)
        if strategy in plans.RECORD_STRATEGIES:
            self._write_records(items, result, position)
        elif strategy in plans.MERGE_STRATEGIES and folds(self.primary):
            self._write_folds(items, result, position)
        elif strategy in plans.MERGE_STRATEGIES:
            self._write_merges(items, result, position)
        elif strategy == MappingStrategy.NOTES:
            self._write_children(items, result, position)
        elif strategy == MappingStrategy.ATTACHMENTS:
            self._write_attachments(items, result, position)
        else:
            raise PlanError(f"strategy {strategy!r} cannot be loaded")
        self._write_overflow(result, position)

    def _items(self, records: Sequence[SourceRecord], result: BatchResult) -> list[Item]:
        """Route and transform; records that fail here are accounted at once."""
        items: list[Item] = []
        for r in records:
            plan = self.primary
            if plan.strategy == MappingStrategy.ROUTED_RECORDS:
                try:
                    branch = plans.route_of(plan.mapping, r.data, as_of=self.as_of)
                except ValueError as exc:
                    raise PlanError(str(exc)) from None
                if plans.is_skip(branch):
                    # Several rules may route one object (patients → Contacts/Leads; guarantors → responsible
                    # parties): a record no rule takes is accounted once, by the first rule.
                    if self.first_rule and not self._taken_elsewhere(r):
                        result.audit(self.run, r, Op.SKIP, error_code="ROUTED_OUT",
                                     error_message="no routing rule loads this record (e.g. archived or duplicate)")
                    continue
                chosen = next((p for p in self.plans if p.branch == branch), None)
                if chosen is None:
                    result.audit(self.run, r, Op.SKIP, error_code="NO_BRANCH",
                                 error_message=f"routed to {branch}, which has no confirmed mapping")
                    continue
                plan = chosen
            data = plans.joined(r, self.tables) if self.tables else r.data
            if self.line_specs:
                data = self._with_lines(data, r.source_id)
            out: Transformed = plan.transform(data)
            if not out.ok:
                result.audit(self.run, r, Op.FAIL, destination_module=plan.module, error_code=out.error_code,
                             error_field=out.error_field, error_message=out.error_message)
                continue
            deferred = any(v == DEFERRED for v in out.payload.values())
            payload = {k: plans.wire_value(v) for k, v in out.payload.items() if v != DEFERRED}
            dropped: list[tuple[str, str]] = []
            if reason := self._retarget(plan, r, payload, dropped):
                result.audit(self.run, r, Op.FAIL, destination_module=plan.module,
                             error_code="LOOKUP_IN_OTHER_MODULE", error_message=reason)
                continue
            for field_name, why in dropped:
                # The record still loads; the one relation the CRM cannot hold is reported on its own.
                result.audit(self.run, r, Op.SKIP, destination_module=plan.module, error_code="LOOKUP_IN_OTHER_MODULE",
                             error_field=field_name, error_message=why)
            item = Item(record=r, plan=plan, payload=payload, overflow=out.overflow, deferred=deferred)
            item.hash = plan.record_hash(data)
            if plan.parent_object:
                parent_source_id = str(r.data.get(plan.parent_ref_field) or "")
                parent = self._parent_link(plan.parent_object, parent_source_id) if parent_source_id else None
                if parent is None:
                    result.audit(self.run, r, Op.FAIL, destination_module=plan.module,
                                 error_code="PARENT_NOT_LOADED", error_field=plan.parent_ref_field,
                                 error_message=f"its {plan.parent_object} is not in the destination "
                                               "(missing in the source, or failed to load)")
                    continue
                item.parent_id, item.parent_module = parent
            items.append(item)
        self._attach_links(items)
        return items

    def _with_lines(self, data: Mapping[str, Any], source_id: str) -> dict[str, Any]:
        """The record with its line rows (`<object>[]`), which also makes a changed line a changed record."""
        if self._lines is None:
            self._lines = self._line_index()
        return {**data, **{key: rows.get(source_id, []) for key, rows in self._lines.items()}}

    def _line_index(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        """The line rows of this unit's records, per line object: one pass over the unit's ids, one over each line
        object. Memory is bounded by the unit's slice, not by the source."""
        ids = {r.source_id for r in self.records() if isinstance(r, SourceRecord)}
        index: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for spec in self.line_specs:
            lines = self.source_objects.get(spec.source_object)
            if lines is None:
                raise PlanError(f"the source has no object {spec.source_object!r} for line items")
            ref = plans.reference_field(lines, self.primary.source.name)
            keep = [lines.id_field, *spec.fields]
            rows = index.setdefault(spec.rows_key, {})
            for row in self.source.iter_records(spec.source_object):
                if isinstance(row, SourceRecord) and (owner := str(row.data.get(ref) or "")) in ids:
                    rows.setdefault(owner, []).append({k: row.data.get(k) for k in keep})
        return index

    def _attach_links(self, items: list[Item]) -> None:
        if not items:
            return
        keys = {(i.record.object_name, i.record.source_id) for i in items}
        modules = {i.plan.link_module for i in items}
        existing = RecordLink.objects.filter(
            migration=self.migration, source_object__in={k[0] for k in keys},
            source_id__in={k[1] for k in keys}, destination_module__in=modules,
        )
        by_key = {(lk.source_object, lk.source_id, lk.destination_module): lk for lk in existing}
        for i in items:
            i.link = by_key.get((i.record.object_name, i.record.source_id, i.plan.link_module))

    # -------------------------------------------------------------- delta: the three-way check

    def _without_conflicts(self, module: str, items: list[Item], result: BatchResult) -> list[Item]:
        """Records changed in the destination after our last write are not overwritten: each opens a Conflict
        (source, ours, theirs per field) for staff to resolve. One read per 100 records."""
        items = self._not_waiting(items)
        if not items:
            return []
        current = {r.id: r for r in self.dest.get(module, [i.link.destination_id for i in items])}  # type: ignore[union-attr]
        return [i for i in items if i.link is not None and not self._opens_conflict(
            i, current.get(i.link.destination_id), i.link.destination_modified_at, module, i.link.destination_id,
            result)]

    def _merges_without_conflicts(self, items: list[Item], result: BatchResult) -> list[Item]:
        """The three-way check for fields merged onto a parent's record: the parent's own link holds the CRM's
        modified time after our last write to it (merges included, see `_our_write`); a parent edited in the CRM
        since then keeps its values and each merged row opens a Conflict on its merge link."""
        items = self._not_waiting(items)
        written = [i for i in items if i.link is not None and i.link.destination_id]
        if not written:
            return items
        ours = {(m, d): at for m, d, at in RecordLink.objects.filter(
            migration=self.migration, role=RecordLink.Role.RECORD, destination_id__in={i.parent_id for i in written},
        ).values_list("destination_module", "destination_id", "destination_modified_at")}
        current: dict[tuple[str, str], Any] = {}
        for module in {i.parent_module for i in written}:
            ids = sorted({i.parent_id for i in written if i.parent_module == module})
            current |= {(module, r.id): r for r in self.dest.get(module, ids)}
        return [i for i in items if i.link is None or not i.link.destination_id or not self._opens_conflict(
            i, current.get((i.parent_module, i.parent_id)), ours.get((i.parent_module, i.parent_id)),
            i.parent_module, i.parent_id, result)]

    def _not_waiting(self, items: list[Item]) -> list[Item]:
        """Leave out what already waits for staff with this same source content: neither read nor reported again."""
        from migrator.models import Conflict

        waiting = dict(Conflict.objects.filter(
            record_link__in=[i.link for i in items if i.link is not None], status=Conflict.Status.OPEN,
        ).values_list("record_link_id", "source_hash"))
        return [i for i in items if i.link is None or waiting.get(i.link.pk) != i.hash]

    def _opens_conflict(self, item: Item, theirs: Any, ours_at: Any, module: str, destination_id: str,
                        result: BatchResult) -> bool:
        """True when the CRM record was changed after our last write and differs from what we would write: one
        open Conflict per link (a source that changed again updates it, services/conflicts.py), audited."""
        from migrator.models import Conflict

        if theirs is None or theirs.modified_at is None or ours_at is None or theirs.modified_at <= ours_at:
            return False
        fields = {name: {"source": _jsonable(value), "theirs": _jsonable(theirs.data.get(name))}
                  for name, value in item.payload.items() if _jsonable(theirs.data.get(name)) != _jsonable(value)}
        if not fields and item.link is not None and item.link.role == RecordLink.Role.MERGE:
            return False   # the CRM was edited elsewhere on the record: these fields still hold our values
        Conflict.objects.update_or_create(
            record_link=item.link, status=Conflict.Status.OPEN,
            defaults={"migration": self.migration, "run": self.run, "fields": fields, "source_payload": item.payload,
                      "source_hash": item.hash, "destination_modified_at": theirs.modified_at})
        result.audit(self.run, item, Op.CONFLICT, destination_module=module, destination_id=destination_id,
                     payload_hash=item.hash, error_code="EDITED_IN_DESTINATION",
                     error_message="changed in the CRM after our last write; kept for review")
        return True

    def _not_refused_before(self, items: list[Item]) -> list[Item]:
        """A delta does not send again what the destination refused with this same content (its failure stands in
        the audit; a full run retries it): otherwise every delta would pay for the source's old errors."""
        refused = set(AuditEntry.objects.filter(
            migration=self.migration, op=Op.FAIL, source_object__in={i.record.object_name for i in items},
            source_id__in={i.record.source_id for i in items}, payload_hash__in={i.hash for i in items},
        ).values_list("source_object", "source_id", "payload_hash"))
        return [i for i in items if (i.record.object_name, i.record.source_id, i.hash) not in refused]

    # -------------------------------------------------------------- the relation pass

    def _link_relations(self, records: Sequence[SourceRecord], result: BatchResult) -> None:
        """Second pass over an object that refers to itself (a patient's guarantor is a patient): set the lookups
        the first pass left out because the other record was not loaded yet. Idempotent: it writes only fields
        whose target is now known."""
        self._prefetch_lookups(records)
        updates: dict[str, list[tuple[SourceRecord, dict[str, Any]]]] = {}
        gone: dict[str, list[str]] = {}     # records left with no relation the CRM can hold: no longer pending

        def plan_for(r: SourceRecord) -> MappingPlan:
            if self.primary.strategy != MappingStrategy.ROUTED_RECORDS:
                return self.primary
            branch = plans.route_of(self.primary.mapping, r.data, as_of=self.as_of)
            return next((p for p in self.plans if p.branch == branch), self.primary)

        for r in records:
            plan = plan_for(r)
            fields: dict[str, Any] = {}
            for fp in plan.fields:
                if fp.spec.kind == "lookup" and getattr(fp.spec, "source_object", "") == self.unit.source_object:
                    raw = str(r.data.get(fp.source_field) or "").strip()
                    dest_id = self.lookup(self.unit.source_object, raw) if raw else None
                    if dest_id and dest_id != DEFERRED:
                        fields[fp.destination_field] = dest_id
            if fields:
                # A guarantor routed to Leads cannot sit in a lookup that holds Contacts: same rule as a first write.
                dropped: list[tuple[str, str]] = []
                self._retarget(plan, r, fields, dropped)
                for field_name, why in dropped:
                    result.audit(self.run, r, Op.SKIP, destination_module=plan.module,
                                 error_code="LOOKUP_IN_OTHER_MODULE", error_field=field_name, error_message=why)
                if not fields:
                    gone.setdefault(plan.module, []).append(r.source_id)
                    continue
                updates.setdefault(plan.module, []).append((r, fields))
        for module, ids in gone.items():
            for lk in RecordLink.objects.filter(migration=self.migration, source_object=self.unit.source_object,
                                                destination_module=module, source_id__in=ids, relations_pending=True):
                lk.relations_pending = False
                result.links.append(lk)
        for module, pairs in updates.items():
            links = {lk.source_id: lk for lk in RecordLink.objects.filter(
                migration=self.migration, source_object=self.unit.source_object, destination_module=module,
                source_id__in=[r.source_id for r, _ in pairs], relations_pending=True).exclude(destination_id="")}
            todo = [(r, f, links[r.source_id]) for r, f in pairs if r.source_id in links]
            if not todo:
                continue
            answers = self.dest.update(module, [{"id": lk.destination_id, **f} for _, f, lk in todo])
            for (r, f, lk), a in zip(todo, answers, strict=False):
                if a.ok:
                    # Our own write moves the CRM's modified time: remember it for the delta's three-way check.
                    lk.relations_pending = False
                    lk.destination_modified_at = a.modified_at or lk.destination_modified_at
                    result.links.append(lk)
                    result.audit(self.run, r, Op.UPDATE, destination_module=module, destination_id=lk.destination_id,
                                 error_code=RELATION_LINKED, error_field=",".join(f))
                elif a.permanent:
                    # Refused for good (audited): no longer pending, or every delta would pay to be refused again.
                    lk.relations_pending = False
                    result.links.append(lk)
                    result.audit(self.run, r, Op.FAIL, destination_module=module, destination_id=lk.destination_id,
                                 error_code=a.code or "RELATION_REJECTED", error_field=a.field, error_message=a.message)

    # -------------------------------------------------------------- writers

    def _unchanged(self, item: Item, result: BatchResult) -> bool:
        link = item.link
        if link is None or not link.destination_id or link.content_hash != item.hash:
            return False
        if not self._overflow_kept(item):
            return False  # written before a stop that left its overflow note unwritten
        if self.run.kind == Run.Kind.DELTA:
            return True  # a delta accounts for what changed only: its cost follows the changes
        result.audit(self.run, item, Op.SKIP, destination_module=item.plan.module,
                     destination_id=link.destination_id, payload_hash=item.hash,
                     error_code="UNCHANGED", error_message="the destination already holds this content")
        link.last_run = self.run
        result.links.append(link)
        return True

    def _write_records(self, items: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        by_module: dict[str, list[Item]] = {}
        for i in items:
            if not self._unchanged(i, result):
                by_module.setdefault(i.plan.module, []).append(i)
        for module, group in by_module.items():
            updates = [i for i in group if i.link is not None and i.link.destination_id]
            news = [i for i in group if i not in updates]
            if news and self.run.kind == Run.Kind.DELTA:
                news = self._not_refused_before(news)
            if updates and self.run.kind == Run.Kind.DELTA:
                updates = self._without_conflicts(module, updates, result)
            if updates:
                payloads = [{"id": i.link.destination_id, **i.payload} for i in updates]  # type: ignore[union-attr]
                self._account(updates, partial(self.dest.update, module, payloads), result, position, Op.UPDATE)
            if news:
                key = news[0].plan.key_field
                if key and module not in self._no_upsert and all(key in i.payload for i in news):
                    payloads = [i.payload for i in news]
                    upsert = self.dest.bulk_upsert if self._bulk_pays(module, payloads) else self.dest.upsert
                    write = partial(upsert, module, payloads, key_field=key)
                    try:
                        self._account(news, write, result, position, Op.CREATE)
                        continue
                    except PermanentError as exc:
                        if exc.code != "NO_UPSERT":
                            raise
                        # Freshsales upserts contacts and accounts only (reference/freshsales.md, "Resources").
                        self._no_upsert.add(module)
                self._insert_with_intents(module, news, result, position)

    def _bulk_pays(self, module: str, payloads: Sequence[Mapping[str, Any]]) -> bool:
        """A bulk unit writes a module's new records in one bulk job when, for this many, the job costs fewer
        credits than batches of 100 and every value fits a CSV cell (no subform rows, no multi-module lookups)."""
        if not self.unit.bulk or not self.dest.bulk_rows(module, len(payloads)):
            return False
        return all(not key.startswith("$") and not isinstance(value, Mapping)
                   and not (isinstance(value, list) and any(isinstance(v, Mapping) for v in value))
                   for p in payloads for key, value in p.items())

    def _write_merges(self, items: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        """Fields onto the parent's record: one update per parent (later rows win), each row audited."""
        pending = [i for i in items if not self._unchanged(i, result)]
        by_parent: dict[tuple[str, str], dict[str, Any]] = {}
        for i in pending:
            if i.parent_module != i.plan.module:
                result.audit(self.run, i, Op.SKIP, destination_module=i.parent_module, destination_id=i.parent_id,
                             error_code="PARENT_IN_OTHER_MODULE",
                             error_message=f"its parent was loaded as {i.parent_module}; these fields exist on "
                                           f"{i.plan.module} only")
                continue
            by_parent.setdefault((i.parent_module, i.parent_id), {}).update(i.payload)
        if self.run.kind == Run.Kind.DELTA and by_parent:
            clean = self._merges_without_conflicts([i for i in pending if (i.parent_module, i.parent_id) in by_parent],
                                                   result)
            by_parent = {}
            for i in clean:
                by_parent.setdefault((i.parent_module, i.parent_id), {}).update(i.payload)
            pending = clean
        if not by_parent:
            return
        parents = list(by_parent)
        for module in {m for m, _ in parents}:
            ids = [pid for m, pid in parents if m == module]
            results = self.dest.update(module, [{"id": pid, **by_parent[(module, pid)]} for pid in ids])
            outcome = {pid: r for pid, r in zip(ids, results, strict=False)}
            for i in pending:
                if i.parent_module != module or i.parent_id not in outcome:
                    continue
                r = outcome[i.parent_id]
                self._account_one(i, r, result, position, Op.UPDATE, role=RecordLink.Role.MERGE,
                                  dest_id=i.parent_id, module=i.plan.link_module)
                if r.ok:
                    self._our_write(module, i.parent_id, r.modified_at)

    def _write_children(self, items: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        from connectors.destinations.links import parent_fields

        fresh = []
        for i in items:
            if self._unchanged(i, result) or not self._rehost_images(i, result, position):
                continue
            i.payload = {**i.payload, **parent_fields(self.dest.slug, i.plan.module, i.parent_module, i.parent_id)}
            fresh.extend(_parts(i))
        try:
            self._write_notes(fresh, result, position)
        finally:
            self._audit_images(items, result)

    def _write_notes(self, fresh: list[Item], result: BatchResult, position: Mapping[int, int]) -> None:
        self._attach_links([f for f in fresh if "#" in f.record.source_id])
        updates = [i for i in fresh if i.link is not None and i.link.destination_id]
        if updates:
            payloads = [{"id": i.link.destination_id, **i.payload} for i in updates]  # type: ignore[union-attr]
            self._account(updates, lambda: self.dest.update(updates[0].plan.module, payloads), result, position,
                          Op.UPDATE, role=RecordLink.Role.CHILD)
        news = [i for i in fresh if i not in updates]
        if news:
            self._insert_with_intents(news[0].plan.module, news, result, position, role=RecordLink.Role.CHILD)

    def _insert_with_intents(self, module: str, items: list[Item], result: BatchResult,
                             position: Mapping[int, int], role: str = RecordLink.Role.RECORD) -> None:
        """Writes that cannot be keyed on our source id: commit an intent first, resolve old intents first."""
        old = [i for i in items if i.link is not None and not i.link.destination_id]
        if old:
            try:
                found = self._recover(module, old)
            except PermanentError:
                # The destination cannot list this module: writing again could duplicate, so a person checks.
                for i in old:
                    result.audit(self.run, i, Op.FAIL, destination_module=module, error_code="OUTCOME_UNKNOWN",
                                 error_message="a write was interrupted and the destination cannot be searched "
                                               "for it; check the parent record and re-run the record by hand")
                unknown = {id(i) for i in old}
                items = [i for i in items if id(i) not in unknown]
                old, found = [], {}
            recovered = {id(i) for i in old if i.record.source_id in found}
            for i in old:
                if id(i) in recovered:
                    r = WriteResult(index=0, ok=True, id=found[i.record.source_id], action="insert")
                    self._account_one(i, r, result, position, Op.CREATE, role=role)
            items = [i for i in items if id(i) not in recovered]
        if not items:
            return
        with transaction.atomic():
            for i in items:
                if i.link is None:
                    i.link = RecordLink.objects.create(
                        migration=self.migration, role=role, source_object=i.record.object_name,
                        source_id=i.record.source_id, destination_module=module, destination_id="",
                        content_hash=i.hash, parent_module=i.parent_module, parent_id=i.parent_id,
                        created_run=self.run, last_run=self.run,
                    )
        self._account(items, lambda: self.dest.insert(module, [i.payload for i in items]), result, position,
                      Op.CREATE, role=role)

    def _recover(self, module: str, items: list[Item]) -> dict[str, str]:
        """Find records an interrupted write created: match on the text we wrote."""
        wanted = {i.record.source_id: _fingerprint(i.payload) for i in items}
        fields = sorted({k for i in items for k, v in i.payload.items() if isinstance(v, str)})[:50]
        found: dict[str, str] = {}
        taken = set(RecordLink.objects.filter(migration=self.migration, destination_module=module)
                    .exclude(destination_id="").values_list("destination_id", flat=True))
        for rec in self.dest.iter_records(module, fields):
            if rec.id in taken:
                continue
            fp = _fingerprint({k: v for k, v in rec.data.items() if k in fields})
            for source_id, want in wanted.items():
                if source_id not in found and want and want == fp:
                    found[source_id] = rec.id
                    taken.add(rec.id)
                    break
            if len(found) == len(wanted):
                break
        return found

    # -------------------------------------------------------------- results

    def _account(self, items: Sequence[Item], results: Sequence[WriteResult] | Any, result: BatchResult,
                 position: Mapping[int, int], op: str, *, role: str = RecordLink.Role.RECORD) -> None:
        if callable(results):
            try:
                results = results()
            except BudgetExhausted as exc:
                partial = list(getattr(exc, "results", None) or [])
                for item, r in zip(items, partial, strict=False):
                    self._account_one(item, r, result, position, op, role=role)
                raise
        if len(results) != len(items):
            raise TemporaryError(f"the destination answered {len(results)} results for {len(items)} records",
                                 code="RESULT_COUNT")
        for item, r in zip(items, results, strict=True):
            self._account_one(item, r, result, position, op, role=role)

    def _account_one(self, item: Item, r: WriteResult, result: BatchResult, position: Mapping[int, int], op: str,
                     *, role: str = RecordLink.Role.RECORD, dest_id: str = "", module: str = "") -> None:
        module = module or item.plan.module
        if not r.ok:
            if not r.permanent:
                result.retry.append(position.get(id(item.record), 0))
                return
            result.audit(self.run, item, Op.FAIL, destination_module=module, payload_hash=item.hash,
                         error_code=r.code or "REJECTED", error_field=r.field, error_message=r.message)
            return
        link = item.link
        if link is None:
            link = RecordLink(migration=self.migration, role=role, source_object=item.record.object_name,
                              source_id=item.record.source_id, destination_module=module, created_run=self.run)
            item.link = link
        # An upsert that "updated" a record we hold no link for found the one we created before a crash (only we
        # write our source-id field), so it still counts as created by this migration: `op` stands as given.
        link.destination_id = dest_id or r.id or link.destination_id
        link.content_hash = item.hash
        link.parent_module, link.parent_id = item.parent_module, item.parent_id
        link.destination_modified_at = r.modified_at
        link.relations_pending = item.deferred
        link.last_run = self.run
        result.links.append(link)
        audit_module = item.plan.module if role == RecordLink.Role.MERGE else module
        audit = {"op": op, "destination_module": audit_module, "destination_id": link.destination_id,
                 "payload_hash": item.hash}
        # Text that did not fit goes to a note on the same record; the record's outcome waits for it.
        if not self._hold_for_overflow(item, result, audit, role, module):
            result.audit(self.run, item, **audit)


def _parts(item: Item) -> list[Item]:
    """A note whose text was split to fit (long_text in split mode gives a list) becomes numbered notes
    "(1/3)", "(2/3)"…; parts after the first are linked as `<source id>#<n>` so each has its crosswalk row."""
    split = {k: v for k, v in item.payload.items() if isinstance(v, list)}
    if not split:
        return [item]
    count = max(len(v) for v in split.values())
    parts = []
    for n in range(count):
        payload = {k: v for k, v in item.payload.items() if k not in split}
        payload |= {k: (v[n] if n < len(v) else "") for k, v in split.items()}
        for title in ("Note_Title", "title"):
            if title in payload:
                payload[title] = f"{payload[title]} ({n + 1}/{count})"
        record = item.record if n == 0 else SourceRecord(
            object_name=item.record.object_name, source_id=f"{item.record.source_id}#{n + 1}",
            data=item.record.data, cursor=item.record.cursor)
        # Parts share the record's content hash (part n: derived from it), so "unchanged" is decided once.
        part_hash = item.hash if n == 0 else plans.content_hash({"of": item.hash, "part": n + 1})
        part = Item(record=record, plan=item.plan, payload=payload, hash=part_hash,
                    parent_module=item.parent_module, parent_id=item.parent_id,
                    overflow=item.overflow if n == 0 else [])
        part.link = item.link if n == 0 else None
        parts.append(part)
    return parts


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping) and "id" in value:
        return str(value["id"])
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _fingerprint(data: Mapping[str, Any]) -> str:
    texts = sorted(f"{k}={v}" for k, v in data.items() if isinstance(v, str) and v)
    return "\x1f".join(texts)


# --------------------------------------------------------------------------------------------------- entry


def work_unit_load(*, unit: WorkUnit, should_stop: Any = None) -> None:
    """Load a claimed unit with fresh connectors; raises UnitStopped or PlanError."""
    source, dest = migration_connectors(unit.run.migration)
    try:
        UnitLoader(unit, source, dest).load(should_stop=should_stop)
    finally:
        source.close()
        dest.close()
