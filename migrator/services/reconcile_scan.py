"""What reconciliation reads: the final outcome of every source record from the audit, and what the destination
holds for the records we linked (presence, owner, empty lookups), one listing pass per module.

No patient value is kept: only record ids, codes, counts and destination user ids."""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.base import ConnectorError, DestinationConnector, PermanentError
from migrator.models import AuditEntry, MappingStrategy, Migration, ObjectMapping, Run

log = logging.getLogger(__name__)

Op = AuditEntry.Op
LOAD_RUNS = (Run.Kind.SAMPLE, Run.Kind.FULL, Run.Kind.DELTA)
OUTCOME_OPS = (Op.CREATE, Op.UPDATE, Op.SKIP, Op.FAIL, Op.ATTACH)
SELF_MERGE_STRATEGIES = (MappingStrategy.CUSTOM_FIELDS, MappingStrategy.MERGE_FIELDS)
# The destination's owner field per platform (reference/zoho-crm-v8.md "Records"; reference/freshsales.md).
OWNER_FIELDS = {"zoho-crm": "Owner", "freshsales": "owner_id"}
# Where a child names its parent when the lookup field cannot hold the parent's module (a Zoho event of a patient
# who became a Lead): connectors/destinations/links.py re-targets the lookup to these fields.
# Files hang off their parent record (reference/zoho-crm-v8.md "Notes, attachments, activities"): no module list.
PER_PARENT_MODULES = {"Attachments"}


@dataclass
class Outcome:
    """The last word on one source record: created, updated, skipped or failed, with the code that explains it."""

    bucket: str
    code: str = ""
    module: str = ""
    ever_created: bool = False
    error_field: str = ""    # the field a failure names


@dataclass
class ObjectOutcomes:
    records: dict[str, Outcome] = field(default_factory=dict)

    def tally(self) -> dict[str, int]:
        counts = Counter(o.bucket for o in self.records.values())
        return {b: counts.get(b, 0) for b in ("created", "updated", "skipped", "failed")}

    def codes(self, bucket: str) -> dict[str, int]:
        counts = Counter(o.code or "UNKNOWN" for o in self.records.values() if o.bucket == bucket)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def ids(self, bucket: str, codes: Iterable[str] | None = None, *, fields: Iterable[str] | None = None) -> set[str]:
        wanted = set(codes) if codes is not None else None
        named = set(fields) if fields is not None else None
        return {sid for sid, o in self.records.items() if o.bucket == bucket
                and (wanted is None or o.code in wanted) and (named is None or o.error_field in named)}


_RANK = {"failed": 3, "created": 2, "updated": 1, "skipped": 0}
_PART = re.compile(r"#\d+$")
# Skips that mean the record itself is not loaded, by design: a merge of its own fields onto it cannot happen.
NOT_LOADED_BY_DESIGN = {"ROUTED_OUT", "NO_BRANCH"}


def base_module(module: str) -> str:
    """The CRM module of a crosswalk entry: merge links are kept apart per mapping as `Contacts~<mapping id>`."""
    return module.split("~", 1)[0]


def record_id(source_id: str) -> str:
    """The source record of an audit or link id: a long note split in parts is written as `id#2`, `id#3`…"""
    return _PART.sub("", source_id)


def _one(op: str, code: str, module: str, error_field: str) -> Outcome | None:
    if op in (Op.CREATE, Op.ATTACH):
        return Outcome("created", module=module, ever_created=True)
    if op == Op.UPDATE:
        return Outcome("updated", module=module)
    if op == Op.SKIP:
        return None if code == "UNCHANGED" else Outcome("skipped", code=code, module=module)
    return Outcome("failed", code=code, module=module, error_field=error_field)


def _worse(outcome: Outcome | None, than: Outcome | None) -> bool:
    return outcome is not None and (than is None or _RANK[outcome.bucket] > _RANK[than.bucket])


def _worse_in_run(outcome: Outcome | None, than: Outcome | None) -> bool:
    """Within one run of one mapping, None is UNCHANGED: the record is as before. It outranks a skip (one field
    of an unchanged record skipped with its reason does not skip the record); any write or failure outranks it."""
    def rank(o: Outcome | None) -> float:
        return 0.5 if o is None else _RANK[o.bucket]

    return rank(outcome) > rank(than)


def audit_outcomes(*, migration: Migration) -> dict[str, ObjectOutcomes]:
    """Per source object, each record's final outcome over every sample, full and delta run.

    Kept per mapping first: a later run replaces an earlier one, except that a run that found the content
    UNCHANGED keeps what was there, and an update of a record we created earlier still counts as created. Within
    one run the worst entry of a mapping stands (parts of a split note, a record and its relation pass).

    Then per record over its mappings (routed record, its own fields merged onto it, …) the worst stands: failed,
    created, updated, skipped — so a Lead created in the sample, unchanged later, whose Contact-only fields are
    skipped every run, stays created. A record routed out by design has no record to merge its own fields onto:
    that merge's PARENT_NOT_LOADED is the routing's skip, not a failure of its own."""
    self_merges = {m.pk for m in ObjectMapping.objects.filter(migration=migration, strategy__in=SELF_MERGE_STRATEGIES)
                   if m.parent_source_object and m.parent_source_object == m.source_object}
    rows = (AuditEntry.objects.filter(migration=migration, run__kind__in=LOAD_RUNS, op__in=OUTCOME_OPS)
            .order_by("run_id", "id").values_list("id", "run_id", "source_object", "source_id", "op", "error_code",
                                                  "destination_module", "error_field", "object_mapping_id"))
    lanes: dict[tuple[str, str], dict[int | None, Outcome]] = {}
    current_run: int | None = None
    in_run: dict[tuple[str, str, int | None], Outcome | None] = {}

    def settle() -> None:
        for (obj, key, mapping_id), outcome in in_run.items():
            per_mapping = lanes.setdefault((obj, key), {})
            prior = per_mapping.get(mapping_id)
            if outcome is None:  # only UNCHANGED in this run: the content was already there
                if prior is None:
                    per_mapping[mapping_id] = Outcome("updated")
                continue
            ever = outcome.ever_created or (prior.ever_created if prior else False)
            if outcome.bucket == "updated" and ever:
                outcome = Outcome("created", module=outcome.module, ever_created=True)
            outcome.ever_created = ever
            per_mapping[mapping_id] = outcome
        in_run.clear()

    for audit_id, run_id, obj, sid, op, code, module, error_field, mapping_id in rows.iterator(chunk_size=5000):
        if run_id != current_run:
            settle()
            current_run = run_id
        # An unreadable source row may carry no record id: each one is its own record.
        lane = (obj, record_id(sid) if sid else f"row#{audit_id}", mapping_id)
        outcome = _one(op, code, module, error_field)
        if lane not in in_run or _worse_in_run(outcome, in_run[lane]):
            in_run[lane] = outcome
    settle()
    out: dict[str, ObjectOutcomes] = {}
    for (name, record), per_mapping in lanes.items():
        by_design = any(o.bucket == "skipped" and o.code in NOT_LOADED_BY_DESIGN for o in per_mapping.values())
        final: Outcome | None = None
        for lane_mapping, outcome in per_mapping.items():
            if by_design and lane_mapping in self_merges and outcome.code == "PARENT_NOT_LOADED":
                continue
            if _worse(outcome, final):
                final = outcome
        out.setdefault(name, ObjectOutcomes()).records[record] = final or Outcome("skipped", code="UNKNOWN")
    return out


@dataclass
class ModuleScan:
    """What one listing pass over a destination module found about the records we linked."""

    module: str
    linked: set[str]
    present: set[str] = field(default_factory=set)
    total: int | None = None                                  # every record of the module, ours or not
    owners: dict[str, str] = field(default_factory=dict)      # destination id -> owner user id
    empty: dict[str, set[str]] = field(default_factory=dict)  # lookup field -> destination ids where it is empty
    refs: dict[str, dict[str, str]] = field(default_factory=dict)  # lookup field -> destination id -> parent id
    counted_from: str = "destination"
    note: str = ""


def _user_id(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value in (None, "") else str(value)


def module_scan(*, dest: DestinationConnector, module: str, linked: set[str], owner_field: str = "",
                lookup_fields: Iterable[str] = (), alternates: Iterable[str] = ()) -> ModuleScan:
    """List `module` once: which linked ids exist, who owns them, which lookups read back empty (and none of the
    `alternates` names a parent instead). When the destination cannot list the module, presence is taken from
    the crosswalk and the scan says so."""
    lookups = sorted(set(lookup_fields))
    others = sorted(set(alternates) - set(lookups)) if lookups else []
    scan = ModuleScan(module=module, linked=set(linked), empty={f: set() for f in lookups},
                      refs={f: {} for f in lookups})
    fields = [f for f in [owner_field, *lookups, *others] if f]
    if module in PER_PARENT_MODULES:
        return _from_crosswalk(dest, scan, f"{module} are listed per parent record only")
    try:
        total = 0
        for rec in dest.iter_records(module, fields):
            total += 1
            if rec.id not in scan.linked:
                continue
            scan.present.add(rec.id)
            if owner_field:
                scan.owners[rec.id] = _user_id(rec.data.get(owner_field))
            elsewhere = next((p for p in (_user_id(rec.data.get(name)) for name in others) if p), "")
            for name in lookups:
                parent = _user_id(rec.data.get(name)) or elsewhere
                if parent:
                    scan.refs[name][rec.id] = parent
                else:
                    scan.empty[name].add(rec.id)
        scan.total = total
        return scan
    except PermanentError as exc:
        reason = (f"{dest.slug} has no API to list {module}" if exc.code == "NO_LIST_API"
                  else f"{module} could not be listed ({exc.code or 'error'})")
    except ConnectorError as exc:
        reason = f"{module} could not be listed ({exc.code or 'temporary error'})"
    return _from_crosswalk(dest, scan, reason)


def _from_crosswalk(dest: DestinationConnector, scan: ModuleScan, reason: str) -> ModuleScan:
    log.warning("reconciliation: %s; counting from the crosswalk", reason)
    module = scan.module
    scan.present = set(scan.linked)
    scan.owners, scan.empty, scan.refs = {}, {}, {}
    scan.counted_from = "crosswalk"
    scan.note = f"{reason}: counted from the crosswalk (our record of each write), not read back"
    try:
        scan.total = dest.count(module)
    except ConnectorError:
        scan.total = None
    return scan
