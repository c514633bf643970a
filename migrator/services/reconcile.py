"""Reconciliation: does the destination hold what the source had, after routing and merges? One report per call,
with a verdict (pass or fail, with reasons) that staff sign off.

What it compares, per source object of a confirmed mapping:
- source count (the source connector; discovery's count when the source cannot be read),
- final outcomes from the audit (created, updated, skipped with codes, failed with codes),
- expected in the destination = source - skipped by design (routing, not migrated, files too large …),
- found in the destination = linked records the destination lists (crosswalk when it cannot list, and said so).
Plus orphans (children whose parent failed, whose lookup is empty or names a record gone from the destination),
owner tallies, attachments and a field-level diff of a random sample. The report data holds counts, codes, field
names and record ids only — never record values, since it reaches the customer portal.

Lifecycle (decision): the RECONCILED gate needs the latest report to pass *and* be signed off, and no load run
to have started after it. The reconcile run never moves the migration itself; signing off a passing report does.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError, DestinationConnector, SourceConnector, SourceObject
from connectors.destinations.links import ALTERNATE_PARENT_FIELDS
from migrator.models import (
    DiscoveredObject,
    FieldMap,
    MappingStrategy,
    Migration,
    ObjectMapping,
    ReconciliationReport,
    RecordLink,
    ReviewStatus,
    Run,
)
from migrator.services import plan as plans
from migrator.services import reconcile_parts as parts
from migrator.services.connections import migration_connectors
from migrator.services.lifecycle import TransitionRefused, migration_transition, register_gate
from migrator.services.reconcile_scan import (
    OWNER_FIELDS,
    ModuleScan,
    ObjectOutcomes,
    audit_outcomes,
    base_module,
    module_scan,
    record_id,
)

log = logging.getLogger(__name__)

DEFAULT_SAMPLE = 500
# Skips that mean "by design this record has no destination record of its own".
ABSENT_BY_DESIGN = {"ROUTED_OUT", "NO_BRANCH", "NOT_MIGRATED", "PARENT_IN_OTHER_MODULE", "FILE_TOO_LARGE",
                    "NO_FILE"}
ACTIVE_RUNS = (Run.State.PENDING, Run.State.RUNNING, Run.State.WAITING_BUDGET, Run.State.PAUSED)
State = Migration.State


class ReconcileRefused(Exception):
    pass


def _objects(migration: Migration) -> list[parts.ReconObject]:
    mappings = list(ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
                    .order_by("load_order", "id"))
    lookups: dict[int, list[tuple[str, str]]] = {}
    for fm in FieldMap.objects.filter(object_mapping__in=mappings, status=ReviewStatus.CONFIRMED,
                                      transform__kind="lookup").exclude(destination_field=""):
        lookups.setdefault(fm.object_mapping_id, []).append((fm.source_field, fm.destination_field))
    grouped: dict[str, list[ObjectMapping]] = {}
    for m in mappings:
        if m.source_object:
            grouped.setdefault(m.source_object, []).append(m)
    out = []
    for name, group in grouped.items():
        strategy = group[0].strategy
        if strategy in plans.MERGE_STRATEGIES:
            role = RecordLink.Role.MERGE
        elif strategy in plans.CHILD_STRATEGIES:
            role = RecordLink.Role.CHILD
        else:
            role = RecordLink.Role.RECORD
        modules = sorted({m.destination_module for m in group if m.destination_module})
        if strategy == MappingStrategy.ATTACHMENTS:
            modules = ["Attachments"]  # the loader links files under this name (pipeline, _write_attachments)
        obj = parts.ReconObject(name, group, strategy, modules, role)
        for m in group:
            if m.pk in lookups and strategy in plans.RECORD_STRATEGIES:
                pairs = obj.lookups.setdefault(m.destination_module, [])
                for pair in lookups[m.pk]:
                    if pair not in pairs:
                        pairs.append(pair)
                    obj.lookup_mappings.setdefault((m.destination_module, *pair), []).append(m)
        out.append(obj)
    return out


# --------------------------------------------------------------------------------------------------- the run


def reconciliation_run(
    *, migration: Migration, user: AbstractBaseUser | AnonymousUser | None = None,
    sample_size: int = DEFAULT_SAMPLE, source: SourceConnector | None = None,
    destination: DestinationConnector | None = None, seed: int | None = None,
) -> ReconciliationReport:
    """Reconcile the migration now and store the report (with a reconcile Run that records it). Connectors may
    be passed in (tests, the demo); otherwise they are built from the migration's connections and closed here."""
    migration.refresh_from_db()
    by: Any = user if user is not None and user.is_authenticated else None
    if (source is None) != (destination is None):
        raise ReconcileRefused("pass both connectors, or neither")
    run = Run.objects.create(migration=migration, kind=Run.Kind.RECONCILE, state=Run.State.RUNNING,
                             started_at=timezone.now(), created_by=by, options={"sample_size": sample_size})
    # A sample for review, not a secret: the standard generator (seedable for tests) is what is wanted.
    rng = random.Random(seed)  # noqa: S311
    opened: tuple[SourceConnector, DestinationConnector] | None = None
    try:
        if source is None or destination is None:
            opened = source, destination = migration_connectors(migration)
        data, reasons, passed = _reconcile(migration, source, destination, sample_size, rng)
    except Exception as exc:
        # The error type and code only: messages of connectors may echo record values.
        code = getattr(exc, "code", "")
        Run.objects.filter(pk=run.pk).update(state=Run.State.FAILED, finished_at=timezone.now(),
                                             error=f"reconciliation stopped: {type(exc).__name__} {code}".strip())
        raise
    finally:
        if opened is not None:
            for end in opened:
                end.close()
    with transaction.atomic():
        run.state, run.finished_at, run.followed_up = Run.State.COMPLETED, timezone.now(), True   # the report
        run.save(update_fields=["state", "finished_at", "followed_up"])
        report = ReconciliationReport.objects.create(
            migration=migration, run=run, verdict="pass" if passed else "fail", reasons=reasons, data=data)
    log.info("reconciliation: migration=%s report=%s verdict=%s reasons=%d", migration.pk, report.pk,
             report.verdict, len(reasons))
    return report


def _reconcile(migration: Migration, source: SourceConnector, dest: DestinationConnector, sample_size: int,
               rng: random.Random) -> tuple[dict[str, Any], list[str], bool]:
    objects = _objects(migration)
    outcomes = audit_outcomes(migration=migration)
    source_objects = {o.name: o for o in source.discover()}
    discovered = dict(DiscoveredObject.objects.filter(migration=migration).values_list("key", "record_count"))
    owner_field = OWNER_FIELDS.get(dest.slug, "")
    owned_modules = _owned_modules(migration, owner_field)
    links = _links(migration)
    notes: list[str] = []
    scans: dict[str, ModuleScan] = {}
    for module in sorted({m for o in objects if o.strategy not in plans.NO_WRITE_REASONS for m in o.modules}):
        linked = {d for (_o, mod), ids in links.items() if mod == module for dids in ids.values() for d in dids}
        lookup_fields = [d for o in objects for _s, d in o.lookups.get(module, [])]
        scans[module] = module_scan(dest=dest, module=module, linked=linked,
                                    owner_field=owner_field if module in owned_modules else "",
                                    lookup_fields=lookup_fields,
                                    alternates=_alternates(dest, module) if lookup_fields else ())
        if scans[module].note:
            notes.append(scans[module].note)
    as_of = _routing_as_of(migration)
    # Our records the destination no longer lists: a child whose lookup still names one has lost its parent.
    gone = {did for scan in scans.values() if scan.counted_from == "destination" for did in scan.linked - scan.present}
    rows, orphans, reasons = [], [], []
    for obj in objects:
        row, orphan_rows = _object_row(obj, outcomes.get(obj.name, ObjectOutcomes()), source, source_objects,
                                       discovered, links, scans, notes, as_of=as_of, gone=gone)
        rows.append(row)
        orphans += orphan_rows
    attachments = parts.attachments(objects, outcomes, source)
    owners = parts.owner_rows(migration, objects, links, scans, owner_field)
    diff_rows, mismatches, diff_summary = parts.field_diffs(migration, objects, source, dest, source_objects,
                                                            sample_size, rng, as_of=as_of)
    reasons = _verdict(migration, rows, orphans, diff_summary)
    summary = {
        "source_records": sum(r["source"] for r in rows),
        "expected_in_destination": sum(r["expected_in_destination"] for r in rows),
        "found_in_destination": sum(r["found_in_destination"] for r in rows),
        "created": sum(r["created"] for r in rows), "updated": sum(r["updated"] for r in rows),
        "skipped": sum(r["skipped"] for r in rows), "failed": sum(r["failed"] for r in rows),
        "unaccounted": sum(r["unaccounted"] for r in rows),
        "orphans": sum(o["orphans"] for o in orphans),
        "sampled_records": diff_summary["records"], "sampled_fields": diff_summary["fields"],
        "differing_fields": diff_summary["different"],
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    data = {
        "summary": summary,
        "objects": rows,
        "modules": [_module_row(s) for s in scans.values()],
        "orphans": orphans,
        "owners": owners,
        "attachments": attachments,
        "field_diff": diff_rows,
        "mismatches": mismatches,
        "notes": sorted(set(notes)),
    }
    passed = not reasons
    if passed:
        reasons = ["every source record is accounted for in the audit",
                   "every record expected in the destination was found there",
                   "no orphaned child records", f"{diff_summary['fields']} sampled fields match"]
    return data, reasons, passed



def _routing_as_of(migration: Migration) -> date:
    """The day routing rules were applied with, as the loader does (pipeline, UnitLoader.as_of)."""
    if migration.routing_as_of:
        return migration.routing_as_of
    full = Run.objects.filter(migration=migration, kind=Run.Kind.FULL).exclude(started_at=None).order_by("-id").first()
    return (full.started_at if full and full.started_at else timezone.now()).date()


def _links(migration: Migration) -> parts.Links:
    """(source object, CRM module) -> source record id -> destination ids, for resolved links (a record may
    have several: its own record and the record its fields were merged onto; a split note one per part)."""
    out: parts.Links = {}
    rows = (RecordLink.objects.filter(migration=migration).exclude(destination_id="")
            .values_list("source_object", "destination_module", "source_id", "destination_id"))
    for obj, module, sid, did in rows.iterator(chunk_size=5000):
        out.setdefault((obj, base_module(module)), {}).setdefault(record_id(sid), []).append(did)
    return out


def _alternates(dest: DestinationConnector, module: str) -> list[str]:
    """The module's fields that can name a parent instead of a re-targeted lookup (only those it has)."""
    wanted = ALTERNATE_PARENT_FIELDS.get(dest.slug, ())
    if not wanted:
        return []
    names = {f.api_name for f in dest.fields(module)}
    return [f for f in wanted if f in names]


def _owned_modules(migration: Migration, owner_field: str) -> set[str]:
    if not owner_field:
        return set()
    rows = FieldMap.objects.filter(object_mapping__migration=migration, status=ReviewStatus.CONFIRMED,
                                   object_mapping__status=ReviewStatus.CONFIRMED)
    by_name = rows.filter(destination_field=owner_field).values_list("object_mapping__destination_module", flat=True)
    by_kind = rows.filter(transform__kind="owner").values_list("object_mapping__destination_module", flat=True)
    return set(by_name) | set(by_kind)


def _source_count(name: str, source: SourceConnector, discovered: Mapping[str, int], notes: list[str]) -> int:
    try:
        return int(source.count(name))
    except ConnectorError as exc:
        notes.append(f"{name}: the source could not be counted ({exc.code or 'error'}); discovery's count is used")
        return int(discovered.get(name, 0))


def _object_row(obj: parts.ReconObject, outcome: ObjectOutcomes, source: SourceConnector,
                source_objects: Mapping[str, SourceObject], discovered: Mapping[str, int],
                links: parts.Links, scans: Mapping[str, ModuleScan], notes: list[str], *, as_of: date,
                gone: AbstractSet[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    count = _source_count(obj.name, source, discovered, notes)
    tally = outcome.tally()
    accounted = sum(tally.values())
    by_design = sum(n for code, n in outcome.codes("skipped").items() if code in ABSENT_BY_DESIGN)
    delivered = outcome.ids("created") | outcome.ids("updated")
    found: set[str] = set()
    counted_from = set()
    for module in obj.modules:
        scan = scans.get(module)
        if scan is None:
            continue
        counted_from.add(scan.counted_from)
        for sid, dids in links.get((obj.name, module), {}).items():
            if sid in delivered and any(did in scan.present for did in dids):
                found.add(sid)
    no_write = obj.strategy in plans.NO_WRITE_REASONS
    row = {
        "object": obj.name,
        "strategy": obj.strategy,
        "modules": ", ".join(obj.modules) or "—",
        "source": count,
        "expected_in_destination": 0 if no_write else max(count - by_design, 0),
        "found_in_destination": len(found),
        "created": tally["created"], "updated": tally["updated"],
        "skipped": tally["skipped"], "failed": tally["failed"],
        "unaccounted": count - accounted,
        "skip_reasons": _codes_text(outcome.codes("skipped")),
        "fail_reasons": _codes_text(outcome.codes("failed")),
        "counted_from": " + ".join(sorted(counted_from)) or ("not written" if no_write else "destination"),
    }
    return row, parts.orphans(obj, outcome, source, source_objects, links, scans, as_of=as_of, gone=gone)


def _codes_text(codes: Mapping[str, int]) -> str:
    return "; ".join(f"{code} {n}" for code, n in codes.items())


def _module_row(scan: ModuleScan) -> dict[str, Any]:
    return {"module": scan.module, "linked": len(scan.linked), "present": len(scan.present),
            "missing": len(scan.linked - scan.present), "module_total": "" if scan.total is None else scan.total,
            "counted_from": scan.counted_from}


# --------------------------------------------------------------------------------------------------- verdict


def _verdict(migration: Migration, rows: list[dict[str, Any]], orphans: list[dict[str, Any]],
             diff: Mapping[str, int]) -> list[str]:
    """Every reason the migration does not reconcile; empty means pass."""
    reasons = []
    full = Run.objects.filter(migration=migration, kind=Run.Kind.FULL).order_by("-created_at", "-id").first()
    if full is None or full.state != Run.State.COMPLETED:
        reasons.append("no full run has completed" if full is None
                       else f"the latest full run is {full.get_state_display().lower()}")
    active = Run.objects.filter(migration=migration, state__in=ACTIVE_RUNS).exclude(kind=Run.Kind.RECONCILE)
    for run in active:
        reasons.append(f"{run} is still {run.get_state_display().lower()}")
    for r in rows:
        name = r["object"]
        if r["unaccounted"] > 0:
            reasons.append(f"{name}: {r['unaccounted']} source record(s) have no outcome in the audit")
        elif r["unaccounted"] < 0:
            reasons.append(f"{name}: the audit holds {-r['unaccounted']} more outcome(s) than the source has records")
        if r["failed"]:
            reasons.append(f"{name}: {r['failed']} record(s) failed ({r['fail_reasons']})")
        missing = r["expected_in_destination"] - r["failed"] - r["found_in_destination"]
        if r["unaccounted"] == 0 and missing > 0:
            reasons.append(f"{name}: {missing} record(s) we wrote are not in the destination any more")
    total_orphans = sum(o["orphans"] for o in orphans)
    if total_orphans:
        reasons.append(f"{total_orphans} child record(s) without their parent (see orphans)")
    if diff["different"]:
        reasons.append(f"{diff['different']} of {diff['fields']} sampled fields differ from what the map gives")
    if diff["missing"]:
        reasons.append(f"{diff['missing']} sampled record(s) could not be read back from the destination")
    return reasons


# --------------------------------------------------------------------------------------------------- sign-off


def reconciliation_sign_off(*, report: ReconciliationReport,
                            user: AbstractBaseUser | AnonymousUser) -> ReconciliationReport:
    """Staff accept a passing report; the migration then moves to reconciled when it is in a loaded state."""
    if not user.is_authenticated:
        raise ReconcileRefused("sign-off needs a signed-in staff member")
    with transaction.atomic():
        locked = ReconciliationReport.objects.select_for_update().select_related("migration").get(pk=report.pk)
        if locked.verdict != ReconciliationReport.Verdict.PASS:
            raise ReconcileRefused(f"report #{locked.pk} failed: fix the reasons and reconcile again before signing")
        latest = _latest_report(locked.migration)
        if latest is not None and latest.pk != locked.pk:
            raise ReconcileRefused(f"report #{locked.pk} is not the latest (#{latest.pk} is)")
        if locked.signed_off_at is None:
            locked.signed_off_by = user  # type: ignore[assignment]
            locked.signed_off_at = timezone.now()
            locked.save(update_fields=["signed_off_by", "signed_off_at"])
        migration = locked.migration
        if migration.state in (State.LOADED, State.DELTA):
            try:
                migration_transition(migration=migration, to_state=State.RECONCILED, user=user,
                                     note=f"reconciliation report #{locked.pk} signed off")
            except TransitionRefused as exc:
                raise ReconcileRefused("; ".join(exc.reasons)) from None
    report.refresh_from_db()
    return report


def _latest_report(migration: Migration) -> ReconciliationReport | None:
    return ReconciliationReport.objects.filter(migration=migration).order_by("-created_at", "-id").first()


@register_gate(State.RECONCILED)
def _reconciled_gate(migration: Migration) -> list[str]:
    report = _latest_report(migration)
    if report is None:
        return ["no reconciliation report: run `manage.py reconcile` or the admin action 'Reconcile'"]
    problems = []
    if report.verdict != ReconciliationReport.Verdict.PASS:
        problems.append(f"the latest reconciliation report (#{report.pk}) failed")
    if report.signed_off_at is None:
        problems.append(f"the latest reconciliation report (#{report.pk}) is not signed off")
    later = Run.objects.filter(migration=migration, kind__in=[Run.Kind.FULL, Run.Kind.DELTA],
                               created_at__gt=report.created_at).exists()
    if later:
        problems.append("a load run started after the latest reconciliation: reconcile again")
    return problems
