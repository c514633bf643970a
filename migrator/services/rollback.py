"""Rollback: put the destination back as it was before the migration touched it (ARCHITECTURE.md, invariant 4).

What the migration did is in its RecordLinks: records it created (deleted here, in batches of at most 100; Freshsales
deletes for good), records it updated (restored from their before-images), notes and attachments it added
(removed), fields it merged onto another record (they go with that record, or are cleared when only the merged
object is rolled back). A record edited in the destination since our last write is not touched: it is audited
as NEEDS_REVIEW and its link is kept.

A rollback is a Run of kind ROLLBACK whose WorkUnits are (role, source object, destination module) groups in
reverse load order: children first, then merged fields, then records of the highest load-order level first. Each
unit works in batches; per batch one transaction writes the audit, deletes the handled links and moves the unit's
checkpoint (the last link id looked at), so a rollback killed midway continues where it stopped and a second
rollback finds nothing left to do.

Unit layout (WorkUnit has no module column): `slice_start` holds the destination module, `slice_end` the role.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet
from django.utils import timezone

from connectors.base import (
    BudgetExhausted,
    ConnectorError,
    DestinationConnector,
    DestRecord,
    PermanentError,
    TemporaryError,
    WriteResult,
)
from migrator.models import AuditEntry, FieldMap, Migration, ObjectMapping, RecordLink, ReviewStatus, Run, WorkUnit
from migrator.services.connections import destination_connector
from migrator.services.lifecycle import TRANSITIONS, register_gate
from migrator.services.pipeline import LeaseLost, UnitStopped
from migrator.services.plan import MERGE_STRATEGIES, PlanError

log = logging.getLogger(__name__)

BATCH = 100                    # links per batch: one delete call of at most 100 records (Zoho's limit)
TEMPORARY_RETRIES = 3
RETRY_BASE_SECONDS = 0.5
NEEDS_REVIEW = "NEEDS_REVIEW"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
ATTACHMENTS = "Attachments"    # the pipeline's module name for files it attached to a parent record
# Freshsales keeps files as documents (reference/freshsales.md, "Documents"); Zoho under the parent record.
ATTACHMENT_MODULES = {"freshsales": "documents"}
# Keys a destination sets itself: never part of a restore.
SYSTEM_KEYS = {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "created_at", "updated_at",
               "Last_Activity_Time", "deleted_at"}
LOAD_KINDS = (Run.Kind.SAMPLE, Run.Kind.FULL, Run.Kind.DELTA)
ACTIVE = (Run.State.PENDING, Run.State.RUNNING, Run.State.WAITING_BUDGET, Run.State.PAUSED)
Role = RecordLink.Role
Op = AuditEntry.Op
State = Migration.State


class RollbackRefused(Exception):
    pass


# --------------------------------------------------------------------------------------------------- scope


def links_in_scope(*, migration: Migration, run: Run | None = None,
                   source_object: str | None = None) -> QuerySet[RecordLink]:
    """The links a rollback of `migration` (optionally only what `run` created, only `source_object`) covers."""
    links = RecordLink.objects.filter(migration=migration)
    if run is not None:
        links = links.filter(created_run=run)
    if source_object:
        links = links.filter(source_object=source_object)
    return links


def _run_scope(run: Run) -> QuerySet[RecordLink]:
    return links_in_scope(migration=run.migration, run=run.target_run,
                          source_object=(run.options or {}).get("source_object") or None)


def module_of(link_module: str) -> tuple[str, int | None]:
    """A link's destination module and, for merged fields, the mapping they came from: merge links are keyed
    `<module>~<mapping id>` (plan.MappingPlan.link_module) so they never collide with the record's own link."""
    module, _, mapping = link_module.partition("~")
    return module, int(mapping) if mapping.isdigit() else None


def _on_module(module: str) -> Q:
    return Q(destination_module=module) | Q(destination_module__startswith=f"{module}~")


# --------------------------------------------------------------------------------------------------- comparing


def _flat(value: Any) -> Any:
    """A destination value as a restore payload carries it: lookups as their id."""
    if isinstance(value, Mapping) and "id" in value and "module" not in value:
        return str(value["id"])
    return value


def _same(a: Any, b: Any) -> bool:
    a, b = _flat(a), _flat(b)
    if a in (None, "", []) and b in (None, "", []):
        return True
    if isinstance(a, int | float | str) and isinstance(b, int | float | str) and not isinstance(a, bool):
        try:
            return float(a) == float(b)
        except ValueError:
            return str(a) == str(b)
    return bool(a == b)


def _edited(our_write: datetime | None, record: DestRecord) -> bool:
    """Changed in the destination after our last write (no time recorded counts as unedited)."""
    return our_write is not None and record.modified_at is not None and record.modified_at > our_write


def _holds(record: DestRecord, image: Mapping[str, Any]) -> bool:
    return all(_same(record.data.get(k), v) for k, v in image.items())


# --------------------------------------------------------------------------------------------------- one batch


@dataclass
class Outcome:
    """What one batch did: the audit rows, the links it is done with, and counts for the unit."""

    audits: list[AuditEntry] = field(default_factory=list)
    done: list[int] = field(default_factory=list)          # link ids to delete
    kept: int = 0                                          # needs review (link kept)
    failed: int = 0                                        # failed for good (link kept)
    stop_at: int | None = None                             # the first link id that failed temporarily
    handled: set[int] = field(default_factory=set)         # link ids audited in this batch
    pending: tuple[str, list[RecordLink]] = ("", [])       # the call in progress: its op and links, in order
    touched: list[tuple[str, str, datetime]] = field(default_factory=list)  # (module, id, modified) we restored


class Rollback:
    """Rolls back the links of one module for one run. Plain object: the unit, the preview and tests drive it."""

    def __init__(self, run: Run, dest: DestinationConnector) -> None:
        self.run = run
        self.migration = run.migration
        self.dest = dest
        self._writable: dict[str, set[str] | None] = {}

    # -------------------------------------------------------------- reading the destination

    def last_writes(self, module: str, ids: Iterable[str]) -> dict[str, datetime | None]:
        """Our latest write per destination record, over every link of the migration (a merge writes later)."""
        rows = (RecordLink.objects.filter(_on_module(module), migration=self.migration, destination_id__in=set(ids))
                .values("destination_id").annotate(at=Max("destination_modified_at")))
        return {r["destination_id"]: r["at"] for r in rows}

    def current(self, module: str, ids: Sequence[str]) -> dict[str, DestRecord]:
        if not ids or module == ATTACHMENTS:
            return {}
        return {r.id: r for r in self._call(lambda: self.dest.get(module, list(ids)))}

    def writable(self, module: str) -> set[str] | None:
        """Field names a restore may write (None when the destination gives no metadata)."""
        if module not in self._writable:
            try:
                fields = self._call(lambda: self.dest.fields(module))
            except PermanentError:
                fields = []
            self._writable[module] = {f.api_name for f in fields if not f.read_only} or None
        return self._writable[module]

    def restore_image(self, module: str, image: Mapping[str, Any]) -> dict[str, Any]:
        allowed = self.writable(module)
        return {k: _flat(v) for k, v in image.items()
                if k not in SYSTEM_KEYS and not k.startswith("$") and (allowed is None or k in allowed)}

    def merged_image(self, link: RecordLink) -> dict[str, Any]:
        """What the fields a merge wrote held before: the parent's before-image, or empty on a record we created."""
        module, mapping_id = module_of(link.destination_module)
        mappings = ObjectMapping.objects.filter(migration=self.migration, destination_module=module,
                                                strategy__in=MERGE_STRATEGIES)
        if mapping_id is not None:
            mappings = mappings.filter(pk=mapping_id)
        names = set(FieldMap.objects.filter(object_mapping__in=[m for m in mappings
                                                               if m.source_object == link.source_object],
                                            status=ReviewStatus.CONFIRMED)
                    .exclude(destination_field="").values_list("destination_field", flat=True))
        parent = (RecordLink.objects.filter(migration=self.migration, role=Role.RECORD, destination_module=module,
                                            destination_id=link.destination_id).first())
        before = (parent.before_image or {}) if parent is not None and not parent.created_by_us else {}
        # A subform row's field (`Insurance_Benefits.Carrier`) was written as part of the parent's whole list: the
        # list it held before comes back (an empty one where it had none).
        image = {name: before.get(name) for name in sorted(names) if "." not in name}
        image |= {sub: before.get(sub) or [] for sub in sorted({n.split(".", 1)[0] for n in names if "." in n})}
        return image

    # -------------------------------------------------------------- calls with retries

    def _call(self, call: Callable[[], Any]) -> Any:
        for attempt in range(TEMPORARY_RETRIES + 1):
            try:
                return call()
            except BudgetExhausted:
                raise
            except TemporaryError as exc:
                if attempt == TEMPORARY_RETRIES:
                    raise UnitStopped(f"temporary error: {exc.code or exc.message}") from None
                time.sleep(exc.retry_after if exc.retry_after and exc.retry_after < 5 else
                           RETRY_BASE_SECONDS * 2 ** attempt)
        raise AssertionError("unreachable")

    # -------------------------------------------------------------- the batch

    def audit(self, out: Outcome, link: RecordLink, op: str, **kw: Any) -> None:
        out.audits.append(AuditEntry(migration=self.migration, run=self.run, op=op, source_object=link.source_object,
                                     source_id=link.source_id, destination_module=link.destination_module,
                                     destination_id=link.destination_id, **kw))
        out.handled.add(link.pk)

    def review(self, out: Outcome, link: RecordLink, why: str) -> None:
        self.audit(out, link, Op.SKIP, error_code=NEEDS_REVIEW, error_message=why)
        out.kept += 1

    def batch(self, links: Sequence[RecordLink], out: Outcome, in_scope: Callable[[RecordLink], bool]) -> None:
        """Decide and do what each link needs. BudgetExhausted propagates after `out` holds what was done."""
        module, _ = module_of(links[0].destination_module)
        ids = [lk.destination_id for lk in links]
        checked = {lk.pk for lk in links if module != ATTACHMENTS}
        ours = self.last_writes(module, ids)
        found = self.current(module, [lk.destination_id for lk in links if lk.pk in checked])
        deletes: list[RecordLink] = []
        restores: list[tuple[RecordLink, dict[str, Any]]] = []
        for link in links:
            record = found.get(link.destination_id)
            if link.role == Role.MERGE and in_scope(link):
                # Its parent record is deleted or restored by this rollback; the merge has nothing of its own.
                self.audit(out, link, Op.SKIP, error_code="WITH_PARENT",
                           error_message="the fields merged here go with the parent record's rollback")
                out.done.append(link.pk)
                continue
            restoring = link.role == Role.MERGE or (link.role == Role.RECORD and not link.created_by_us)
            if link.pk in checked and record is None:
                if restoring:
                    self.review(out, link, "the record is no longer in the destination: nothing to restore")
                else:
                    self.audit(out, link, Op.DELETE, error_code="NOT_FOUND",
                               error_message="already gone from the destination")
                    out.done.append(link.pk)
                continue
            if restoring:
                image = self.merged_image(link) if link.role == Role.MERGE else \
                    self.restore_image(module, link.before_image or {})
                if link.role == Role.RECORD and link.before_image is None:
                    self.review(out, link, "updated by the migration but no before-image was kept")
                    continue
                if record is not None and _holds(record, image):
                    # Restored before a kill (the restore moved its modified time): nothing left to do.
                    self.audit(out, link, Op.RESTORE, error_code="ALREADY_RESTORED", before_image=image)
                    out.done.append(link.pk)
                elif record is not None and _edited(ours.get(link.destination_id), record):
                    self.review(out, link, "edited in the destination since the migration wrote it")
                else:
                    restores.append((link, image))
                continue
            if record is not None and _edited(ours.get(link.destination_id), record):
                self.review(out, link, "edited in the destination since the migration wrote it")
                continue
            deletes.append(link)
        if restores:
            self._restore(module, restores, found, out)
        if deletes:
            self._delete(module, deletes, out)

    def _restore(self, module: str, items: list[tuple[RecordLink, dict[str, Any]]], found: Mapping[str, DestRecord],
                 out: Outcome) -> None:
        payloads = [{"id": link.destination_id, **image} for link, image in items]
        out.pending = (Op.RESTORE, [link for link, _ in items])
        results = self._results(lambda: self.dest.update(module, payloads), len(items))
        for (link, image), r in zip(items, results, strict=False):
            current = found.get(link.destination_id)
            was = {k: current.data.get(k) for k in image} if current is not None else None
            self._account(out, link, r, Op.RESTORE, before_image=was)

    def _delete(self, module: str, links: list[RecordLink], out: Outcome) -> None:
        if module == ATTACHMENTS:
            self._delete_attachments(links, out)
            return
        ids = [lk.destination_id for lk in links]
        out.pending = (Op.DELETE, links)
        results = self._results(lambda: self.dest.delete(module, ids), len(links))
        failed = [lk.destination_id for lk, r in zip(links, results, strict=False) if not r.ok and r.permanent]
        # A delete refused for an id that no longer exists is done (a re-run after a kill): ask the destination.
        gone = set(failed) - set(self.current(module, failed)) if failed else set()
        for link, r in zip(links, results, strict=False):
            if not r.ok and link.destination_id in gone:
                r = WriteResult(index=r.index, ok=True, id=link.destination_id, action="delete", code="NOT_FOUND")
            self._account(out, link, r, Op.DELETE)

    def _delete_attachments(self, links: list[RecordLink], out: Outcome) -> None:
        by_parent: dict[tuple[str, str], list[RecordLink]] = {}
        for link in links:
            by_parent.setdefault((link.parent_module, link.parent_id), []).append(link)
        per_parent = getattr(self.dest, "delete_attachments", None)
        for (parent_module, parent_id), group in by_parent.items():
            ids = [lk.destination_id for lk in group]
            out.pending = (Op.DELETE, group)
            if per_parent is not None:
                call = partial(per_parent, parent_module, parent_id, ids)
            elif self.dest.slug in ATTACHMENT_MODULES:
                call = partial(self.dest.delete, ATTACHMENT_MODULES[self.dest.slug], ids)
            else:
                raise PlanError(f"{self.dest.slug} has no way to delete attachments")
            try:
                results = self._results(call, len(group))
            except PermanentError as exc:
                if exc.code != "INVALID_DATA":
                    raise
                # Zoho refuses the call when the parent record is gone; its files went with it.
                results = [WriteResult(index=i, ok=False, code="NOT_FOUND") for i in range(len(group))]
            for link, r in zip(group, results, strict=False):
                # Zoho answers INVALID_DATA for an attachment id that is not there any more (already deleted).
                if not r.ok and r.code in ("INVALID_DATA", "NOT_FOUND"):
                    r = WriteResult(index=r.index, ok=True, id=link.destination_id, action="delete", code="NOT_FOUND")
                self._account(out, link, r, Op.DELETE)

    def _results(self, call: Callable[[], list[WriteResult]], n: int) -> list[WriteResult]:
        results: list[WriteResult] = self._call(call)
        if len(results) != n:
            raise UnitStopped(f"the destination answered {len(results)} results for {n} records")
        return results

    def _account(self, out: Outcome, link: RecordLink, r: WriteResult, op: str, **kw: Any) -> None:
        if r.ok:
            self.audit(out, link, op, error_code=r.code if r.code == "NOT_FOUND" else "", **kw)
            out.done.append(link.pk)
            if op == Op.RESTORE and r.modified_at is not None:
                out.touched.append((link.destination_module, link.destination_id, r.modified_at))
        elif not r.permanent:
            out.stop_at = link.pk if out.stop_at is None else min(out.stop_at, link.pk)
        else:
            self.audit(out, link, Op.FAIL, error_code=r.code or "REJECTED", error_field=r.field,
                       error_message=r.message)
            out.failed += 1


# --------------------------------------------------------------------------------------------------- the unit


def _in_scope_of(run: Run) -> Callable[[RecordLink], bool]:
    """For merge links: is their parent record rolled back by this same run?"""
    scope = _run_scope(run)

    def check(link: RecordLink) -> bool:
        return scope.filter(role=Role.RECORD, destination_module=module_of(link.destination_module)[0],
                            destination_id=link.destination_id).exists()

    return check


def _unit_links(unit: WorkUnit) -> QuerySet[RecordLink]:
    return _run_scope(unit.run).filter(role=unit.slice_end, source_object=unit.source_object,
                                       destination_module=unit.slice_start)


def _report_intents(unit: WorkUnit, rollback: Rollback) -> None:
    """Writes interrupted before their outcome was known: nothing says which destination record they made."""
    intents = list(_unit_links(unit).filter(destination_id=""))
    if not intents:
        return
    seen = set(AuditEntry.objects.filter(run=unit.run, error_code=OUTCOME_UNKNOWN, source_object=unit.source_object,
                                         destination_module=unit.slice_start).values_list("source_id", flat=True))
    out = Outcome()
    for link in intents:
        if link.source_id not in seen:
            rollback.audit(out, link, Op.SKIP, error_code=OUTCOME_UNKNOWN,
                           error_message="a write of the migration was interrupted and its record is unknown: "
                                         "check the parent record by hand")
    with transaction.atomic():
        AuditEntry.objects.bulk_create(out.audits)
        WorkUnit.objects.filter(pk=unit.pk).update(skipped=F("skipped") + len(out.audits))


def _commit(unit: WorkUnit, out: Outcome, upto: int | None) -> None:
    """The batch's audit, the links it is done with and the unit's checkpoint, in one transaction."""
    progress: dict[str, Any] = {"in_flight_since": timezone.now()}
    if upto is not None:
        progress |= {"checkpoint": str(upto), "crashes": 0}
    with transaction.atomic():
        AuditEntry.objects.bulk_create(out.audits)
        RecordLink.objects.filter(pk__in=out.done).delete()
        for module, dest_id, modified in out.touched:
            # Our restore is our write: links still on that record must not take it for a clinic's edit.
            RecordLink.objects.filter(_on_module(module), migration_id=unit.run.migration_id,
                                      destination_id=dest_id).update(destination_modified_at=modified)
        held = WorkUnit.objects.filter(pk=unit.pk, state=WorkUnit.State.IN_FLIGHT, worker=unit.worker)
        if not held.update(processed=F("processed") + len(out.done) + out.kept + out.failed,
                           skipped=F("skipped") + out.kept, failed=F("failed") + out.failed, **progress):
            raise LeaseLost
    if upto is not None:
        unit.checkpoint = str(upto)


def rollback_unit_run(*, unit: WorkUnit, dest: DestinationConnector,
                      should_stop: Callable[[], bool] | None = None) -> None:
    """Roll back one unit's links from its checkpoint with the given connector. Raises UnitStopped to step back."""
    rollback = Rollback(unit.run, dest)
    in_scope = _in_scope_of(unit.run)
    _report_intents(unit, rollback)
    while True:
        after = int(unit.checkpoint or 0)
        links = list(_unit_links(unit).exclude(destination_id="").filter(pk__gt=after).order_by("pk")[:BATCH])
        if not links:
            return
        out = Outcome()
        try:
            rollback.batch(links, out, in_scope)
        except BudgetExhausted as exc:
            partial = list(getattr(exc, "results", None) or [])
            _commit(unit, _partial(rollback, partial, out), None)
            raise UnitStopped(f"API budget spent: {exc.message}", not_before=exc.resume_at, budget=True) from None
        except UnitStopped:
            _commit(unit, out, None)
            raise
        except PermanentError as exc:
            # The whole call was refused (module gone, permission): these records stay, a person looks.
            for link in links:
                if link.pk not in out.handled:
                    rollback.audit(out, link, Op.FAIL, error_code=exc.code or "REJECTED", error_field=exc.field,
                                   error_message=exc.message)
                    out.failed += 1
        if out.stop_at is not None:
            _commit(unit, out, out.stop_at - 1)
            raise UnitStopped("records still failing temporarily: retried later")
        _commit(unit, out, links[-1].pk)
        if should_stop is not None and should_stop():
            raise UnitStopped("the run was paused or cancelled")


def _partial(rollback: Rollback, results: list[WriteResult], out: Outcome) -> Outcome:
    """Writes done before the budget ran out mid-call (Freshsales hands back that prefix's results)."""
    op, links = out.pending
    for link, r in zip(links, results, strict=False):
        if r.ok and link.pk not in out.handled:
            rollback.audit(out, link, op, error_code=r.code if r.code == "NOT_FOUND" else "")
            out.done.append(link.pk)
    return out


def rollback_unit_load(*, unit: WorkUnit, should_stop: Callable[[], bool] | None = None) -> None:
    """The engine's entry for a rollback unit (runs.work_unit_execute): fresh connector, UnitStopped to step back,
    PlanError for a configuration problem."""
    try:
        dest = destination_connector(unit.run.migration.destination_connection)
    except ConnectorError as exc:
        raise PlanError(f"the destination connection cannot be opened: {exc.message}") from None
    try:
        rollback_unit_run(unit=unit, dest=dest, should_stop=should_stop)
    finally:
        dest.close()


# --------------------------------------------------------------------------------------------------- planning


def _levels(migration: Migration, groups: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """Reverse load order: children (0), merged fields (1), then records of the highest load order first."""
    orders: dict[tuple[str, str], int] = {}
    for m in ObjectMapping.objects.filter(migration=migration).order_by("load_order"):
        orders[(m.source_object, m.destination_module)] = m.load_order
    record_orders = sorted({orders.get((g["source_object"], g["destination_module"]), 0)
                            for g in groups if g["role"] == Role.RECORD}, reverse=True)
    rank = {order: 2 + i for i, order in enumerate(record_orders)}
    levels = {}
    for g in groups:
        key = (g["role"], g["source_object"], g["destination_module"])
        if g["role"] == Role.CHILD:
            levels[key] = 0
        elif g["role"] == Role.MERGE:
            levels[key] = 1
        else:
            levels[key] = rank[orders.get((g["source_object"], g["destination_module"]), 0)]
    return levels


def rollback_plan(*, run: Run) -> int:
    rows = (_run_scope(run).values("role", "source_object", "destination_module").annotate(n=Count("id"))
            .order_by("role", "source_object", "destination_module"))
    groups: list[dict[str, Any]] = [dict(r) for r in rows]
    levels = _levels(run.migration, groups)
    mappings = {(m.source_object, m.destination_module): m
                for m in ObjectMapping.objects.filter(migration=run.migration).order_by("-id")}
    units = [WorkUnit(run=run, source_object=g["source_object"], level=levels[(g["role"], g["source_object"],
                                                                                g["destination_module"])],
                      object_mapping=mappings.get((g["source_object"], g["destination_module"])),
                      slice_start=g["destination_module"], slice_end=g["role"], total=g["n"])
             for g in groups]
    WorkUnit.objects.bulk_create(units)
    return len(units)


def rollback_start(
    *, migration: Migration, run: Run | None = None, source_object: str | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> Run:
    """Create and plan a rollback run (all of the migration, one run's records, or one source object's), and
    dispatch it after commit. The migration moves to rolled_back when it completes."""
    from migrator.services.runs import run_dispatch

    migration.refresh_from_db()
    if migration.state != State.ROLLED_BACK and State.ROLLED_BACK not in TRANSITIONS[migration.state]:
        raise RollbackRefused(f"a migration that is {migration.get_state_display().lower()} cannot be rolled back "
                              "(only after a sample or load)")
    if run is not None and (run.migration_id != migration.pk or run.kind not in LOAD_KINDS):
        raise RollbackRefused(f"run {run.pk} is not a sample, full or delta run of this migration")
    if Run.objects.filter(migration=migration, state__in=ACTIVE).exclude(kind=Run.Kind.RECONCILE).exists():
        raise RollbackRefused("another run of this migration is still active: finish, pause or cancel it first")
    with transaction.atomic():
        rollback = Run.objects.create(
            migration=migration, kind=Run.Kind.ROLLBACK, target_run=run,
            options={"source_object": source_object or ""},
            created_by=user if user is not None and user.is_authenticated else None,  # type: ignore[misc]
        )
        rollback_plan(run=rollback)
        Run.objects.filter(pk=rollback.pk).update(state=Run.State.RUNNING, started_at=timezone.now())
        transaction.on_commit(lambda: run_dispatch(run_id=rollback.pk))
    rollback.refresh_from_db()
    return rollback


def rollback_reclaim(*, run: Run) -> int:
    """Put back units held by a worker of this machine whose process is gone (killed), so a rollback started
    again continues at once instead of waiting for the lease to expire. Returns how many were put back."""
    host = socket.gethostname()
    dead = []
    for unit in WorkUnit.objects.filter(run=run, state=WorkUnit.State.IN_FLIGHT):
        name, _, pid = unit.worker.rpartition(":")
        if name != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)        # signal 0: only asks whether the process exists
        except ProcessLookupError:
            dead.append(unit.pk)
        except PermissionError:
            continue                    # alive, someone else's
    return WorkUnit.objects.filter(pk__in=dead, state=WorkUnit.State.IN_FLIGHT).update(
        state=WorkUnit.State.PENDING, worker="", last_error="reset: its worker process is gone")


# --------------------------------------------------------------------------------------------------- preview


@dataclass(frozen=True)
class ModulePreview:
    module: str
    delete: int = 0
    restore: int = 0
    needs_review: int = 0
    unresolved: int = 0            # interrupted writes whose record is unknown


@dataclass(frozen=True)
class RollbackPreview:
    migration_id: int
    run_id: int | None
    source_object: str
    modules: tuple[ModulePreview, ...]

    @property
    def totals(self) -> ModulePreview:
        return ModulePreview("total", sum(m.delete for m in self.modules), sum(m.restore for m in self.modules),
                             sum(m.needs_review for m in self.modules), sum(m.unresolved for m in self.modules))

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "totals": asdict(self.totals)}


def rollback_preview(*, migration: Migration, run: Run | None = None, source_object: str | None = None,
                     dest: DestinationConnector | None = None) -> RollbackPreview:
    """Per module: records a rollback would delete, restore from before-images, and leave for review because
    they were edited in the destination since we wrote them. Reads modified times through connector.get."""
    scope = links_in_scope(migration=migration, run=run, source_object=source_object)
    own = dest is None
    connector = dest or destination_connector(migration.destination_connection)
    probe = Rollback(Run(migration=migration, kind=Run.Kind.ROLLBACK), connector)
    counts: dict[str, dict[str, int]] = {}
    try:
        for link_module in (scope.values_list("destination_module", flat=True).distinct()
                            .order_by("destination_module")):
            module, _ = module_of(link_module)
            c = counts.setdefault(module, {"delete": 0, "restore": 0, "needs_review": 0, "unresolved": 0})
            c["unresolved"] += scope.filter(destination_module=link_module, destination_id="").count()
            links = scope.filter(destination_module=link_module).exclude(destination_id="").order_by("pk")
            after = 0
            while True:
                batch = list(links.filter(pk__gt=after)[:BATCH])
                if not batch:
                    break
                after = batch[-1].pk
                _preview_batch(probe, scope, batch, c)
    finally:
        if own:
            connector.close()
    modules = tuple(ModulePreview(module, **c) for module, c in counts.items())
    return RollbackPreview(migration.pk, run.pk if run else None, source_object or "", modules)


def _preview_batch(probe: Rollback, scope: QuerySet[RecordLink], batch: list[RecordLink],
                   c: dict[str, int]) -> None:
    module, _ = module_of(batch[0].destination_module)
    ours = probe.last_writes(module, [lk.destination_id for lk in batch])
    found = probe.current(module, [lk.destination_id for lk in batch if lk.role != Role.MERGE])
    for link in batch:
        if link.role == Role.MERGE:
            # Merged fields go with their parent's rollback; alone (one object rolled back) they are cleared.
            if not scope.filter(role=Role.RECORD, destination_module=module,
                                destination_id=link.destination_id).exists():
                c["restore"] += 1
            continue
        restoring = link.role == Role.RECORD and not link.created_by_us
        record = found.get(link.destination_id)
        if module == ATTACHMENTS:
            c["delete"] += 1
        elif record is None:
            c["needs_review" if restoring else "delete"] += 1
        elif restoring and link.before_image is not None and \
                _holds(record, probe.restore_image(module, link.before_image)):
            c["restore"] += 1
        elif _edited(ours.get(link.destination_id), record) or (restoring and link.before_image is None):
            c["needs_review"] += 1
        else:
            c["restore" if restoring else "delete"] += 1


# --------------------------------------------------------------------------------------------------- gate


@register_gate(State.ROLLED_BACK)
def _rolled_back_gate(migration: Migration) -> list[str]:
    latest = (Run.objects.filter(migration=migration, kind=Run.Kind.ROLLBACK).order_by("-created_at", "-id")
              .first())
    if latest is None:
        return ["no rollback run has been made"]
    if latest.state != Run.State.COMPLETED:
        return [f"the latest rollback run is {latest.get_state_display().lower()}"]
    return []


def rollback_counts(*, run: Run) -> dict[str, int]:
    """Deleted, restored, needs review and failed records of a rollback run, from its audit."""
    rows = dict(AuditEntry.objects.filter(run=run).values_list("op").annotate(n=Count("id")).order_by())
    review = AuditEntry.objects.filter(run=run, op=Op.SKIP).filter(
        Q(error_code=NEEDS_REVIEW) | Q(error_code=OUTCOME_UNKNOWN)).count()
    return {"deleted": rows.get(Op.DELETE, 0), "restored": rows.get(Op.RESTORE, 0), "needs_review": review,
            "failed": rows.get(Op.FAIL, 0)}
