"""Runs and their durable work units: planning, claiming, finishing, pausing, progress and forecast.

A run is a set of WorkUnit rows (object mapping × slice of source records) in load-order levels; a unit of level
n is claimable only when every unit of lower levels is done. Workers claim a unit with a conditional update; a
unit whose lease (`in_flight_since`, renewed at every batch) is older than WORK_UNIT_STUCK_AFTER belongs to a dead
worker and is put back. Redis holds queues; the database holds progress."""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F, Min, Q, Sum
from django.utils import timezone

from connectors.base import DestinationConnector, PermanentError, SourceIssue, SourceRecord, TemporaryError
from migrator.models import Edition, MappingStrategy, Migration, ObjectMapping, ReviewStatus, Run, WorkUnit
from migrator.services.connections import migration_connectors
from migrator.services.forecast import Allowance, Load, LoadKind, api_forecast, module_supports_bulk
from migrator.services.lifecycle import migration_transition, register_gate
from migrator.services.load_order import load_order_compute
from migrator.services.pipeline import UnitStopped, work_unit_load
from migrator.services.plan import RECORD_STRATEGIES, PlanError

log = logging.getLogger(__name__)

SLICE_SIZE = 5_000
# Files cost one upload call each: smaller slices let every worker take a share of them (at 150 ms a call, one
# 5,000-file unit kept one worker busy while the others idled).
ATTACHMENT_SLICE_SIZE = 500
State = Migration.State
UnitState = WorkUnit.State

# Which migration states each run kind may start from, and where a finished run moves the migration.
STARTS_FROM = {
    Run.Kind.SAMPLE: {State.SCHEMA_VERIFIED, State.SAMPLE_LOADED},
    Run.Kind.FULL: {State.SAMPLE_APPROVED, State.LOADING},
    Run.Kind.DELTA: {State.LOADED, State.DELTA, State.RECONCILED},
}
FINISHES_AT = {Run.Kind.SAMPLE: State.SAMPLE_LOADED, Run.Kind.FULL: State.LOADED, Run.Kind.DELTA: State.DELTA,
               Run.Kind.ROLLBACK: State.ROLLED_BACK}
ACTIVE = (Run.State.PENDING, Run.State.RUNNING, Run.State.WAITING_BUDGET, Run.State.PAUSED)


class RunRefused(Exception):
    pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------------------------------- planning


def _loadable(migration: Migration) -> list[ObjectMapping]:
    """Confirmed mappings in load order; one per routed group (its first mapping drives every branch)."""
    mappings = list(ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
                    .order_by("load_order", "id"))
    chosen: list[ObjectMapping] = []
    groups: dict[tuple[tuple[str, ...], Any], ObjectMapping] = {}
    for m in mappings:
        if m.strategy == MappingStrategy.ROUTED_RECORDS:
            key = (tuple(m.source_objects[:1]), (m.route or {}).get("rule"))
            if key in groups:
                # The group loads in one unit, so it waits for every branch's parents (Contacts → Accounts even
                # when the Leads branch has no lookup): its level is its latest branch's (not saved).
                groups[key].load_order = max(groups[key].load_order, m.load_order)
                continue
            groups[key] = m
        chosen.append(m)
    return chosen


def _levels(mappings: list[ObjectMapping]) -> dict[int, int]:
    """Dense levels from load_order (0, 1, 2 …) so a level waits only for the ones before it."""
    orders = sorted({m.load_order for m in mappings})
    rank = {order: i for i, order in enumerate(orders)}
    return {m.pk: rank[m.load_order] for m in mappings}


def run_plan(*, run: Run) -> int:
    """Create the run's work units: per mapping, slices of SLICE_SIZE source records (ATTACHMENT_SLICE_SIZE files)
    with their start cursors."""
    migration = run.migration
    load_order_compute(migration=migration)
    mappings = _loadable(migration)
    levels = _levels(mappings)
    source, dest = migration_connectors(migration)
    try:
        counts: dict[str, int] = {}
        units: list[WorkUnit] = []
        for m in mappings:
            obj = m.source_object
            if obj not in counts:
                counts[obj] = source.count(obj)
            size = ATTACHMENT_SLICE_SIZE if m.strategy == MappingStrategy.ATTACHMENTS else SLICE_SIZE
            bulk = _bulk_rows(dest, m, counts[obj]) if run.kind == Run.Kind.FULL else 0
            size = bulk or size
            slices = [("", counts[obj], False)]
            if run.kind == Run.Kind.FULL and counts[obj] > size:
                slices = _slices(source.iter_records(obj), size)
            for index, (start, total, bounded) in enumerate(slices):
                units.append(WorkUnit(run=run, object_mapping=m, source_object=obj, level=levels[m.pk],
                                      slice_index=index, slice_start=start, total=total,
                                      slice_end="bounded" if bounded else "", bulk=bool(bulk)))
            if _refers_to_itself(m):
                # Links between records of one object (guarantors) are set once all of them are loaded.
                units.append(WorkUnit(run=run, object_mapping=m, source_object=obj, level=max(levels.values()) + 1,
                                      slice_index=len(slices), total=counts[obj], slice_end="relations"))
        WorkUnit.objects.bulk_create(units)
        run.forecast = _forecast(run, mappings, counts)
        run.save(update_fields=["forecast"])
        return len(units)
    finally:
        source.close()
        dest.close()


def _group(mapping: ObjectMapping) -> list[ObjectMapping]:
    """The mappings one unit of `mapping` writes: itself, or every branch of its routed object."""
    if mapping.strategy != MappingStrategy.ROUTED_RECORDS:
        return [mapping]
    return [m for m in ObjectMapping.objects.filter(migration=mapping.migration, status=ReviewStatus.CONFIRMED,
                                                    strategy=MappingStrategy.ROUTED_RECORDS)
            if m.source_objects[:1] == mapping.source_objects[:1]]


def _refers_to_itself(mapping: ObjectMapping) -> bool:
    from migrator.models import FieldMap

    return FieldMap.objects.filter(object_mapping__in=_group(mapping), status=ReviewStatus.CONFIRMED,
                                   transform__kind="lookup", transform__source_object=mapping.source_object).exists()


def _bulk_rows(dest: DestinationConnector, mapping: ObjectMapping, records: int) -> int:
    """Records a full run's unit takes when the mapping's records go through the destination's bulk jobs (Zoho
    Bulk Write): plain records only (a bulk file is flat: no line items), and only where a job of this many records
    costs fewer credits than batches of 100 in some module the unit writes; 0 for batches of 100. The loader decides
    again per module and unit from the records it actually writes there."""
    from migrator.models import FieldMap

    if mapping.strategy not in RECORD_STRATEGIES:
        return 0
    group = _group(mapping)
    if FieldMap.objects.filter(object_mapping__in=group, status=ReviewStatus.CONFIRMED,
                               transform__kind="line_items").exists():
        return 0
    sizes = [n for n in (dest.bulk_rows(m.destination_module, records) for m in group if m.destination_module) if n]
    return min(sizes, default=0)


def _slices(stream: Any, size: int) -> list[tuple[str, int, bool]]:
    """(start cursor, records, bounded) per slice; the last slice reads to the end of the stream."""
    slices: list[tuple[str, int, bool]] = []
    start, count = "", 0
    for item in stream:
        if not isinstance(item, SourceRecord | SourceIssue):
            continue
        count += 1
        if count == size:
            slices.append((start, count, True))
            start, count = item.cursor, 0
    slices.append((start, count, False))
    return slices


def _forecast(run: Run, mappings: list[ObjectMapping], counts: dict[str, int]) -> dict[str, Any]:
    migration = run.migration
    conn = migration.destination_connection
    dest_slug = migration.pair.destination.slug
    edition = Edition.objects.filter(platform=migration.pair.destination, slug=conn.edition).first()
    if edition is None:
        return {"note": f"no edition {conn.edition!r} in the catalog: no credit forecast"}
    loads = []
    for m in mappings:
        if m.strategy in (MappingStrategy.USERS, MappingStrategy.PICKLIST_VALUES, MappingStrategy.REBUILD_REFERENCE):
            continue
        n = counts.get(m.source_object, 0)
        if run.kind == Run.Kind.SAMPLE:
            n = min(n, migration.sample_size)
        kind = {MappingStrategy.NOTES: LoadKind.NOTES,
                MappingStrategy.ATTACHMENTS: LoadKind.ATTACHMENTS}.get(m.strategy, LoadKind.RECORDS)
        loads.append(Load(name=f"{m.source_object} → {m.destination_module}", records=n, kind=kind,
                          bulk_capable=module_supports_bulk(dest_slug, m.destination_module),
                          modules=(m.destination_module,)))
    forecast = api_forecast(loads=loads, allowance=Allowance.from_limits(edition.limits, edition.features),
                            users=conn.users, addon=conn.addon_credits, reserve=conn.reserve)
    data = forecast.as_dict()
    data["records"] = sum(load.records for load in loads)
    data["edition"] = edition.slug
    return data


# --------------------------------------------------------------------------------------------------- starting


def run_start(
    *, migration: Migration, kind: str, user: AbstractBaseUser | AnonymousUser | None = None,
    options: dict[str, Any] | None = None,
) -> Run:
    """Create and plan a sample, full or delta run, move the migration on, and dispatch its work after commit."""
    from migrator.services import sample as sample_service

    migration.refresh_from_db()
    if kind not in STARTS_FROM:
        raise RunRefused(f"{kind!r} is not a load run (sample, full or delta)")
    if migration.state not in STARTS_FROM[kind]:
        allowed = ", ".join(State(s).label for s in STARTS_FROM[kind])
        raise RunRefused(f"a {kind} run needs the migration in: {allowed} (it is {migration.get_state_display()})")
    if Run.objects.filter(migration=migration, state__in=ACTIVE).exclude(kind=Run.Kind.RECONCILE).exists():
        raise RunRefused("another run of this migration is still active: finish, resume or cancel it first")
    opts = dict(options or {})
    if kind == Run.Kind.DELTA:
        opts.setdefault("since", _delta_since(migration))
    with transaction.atomic():
        run = Run.objects.create(migration=migration, kind=kind, options=opts,
                                 created_by=user if user is not None and user.is_authenticated else None)
        if kind == Run.Kind.SAMPLE:
            run.options["sample"] = sample_service.sample_select(migration=migration)
            run.save(update_fields=["options"])
        run_plan(run=run)
        if kind == Run.Kind.FULL and migration.state == State.SAMPLE_APPROVED:
            migration_transition(migration=migration, to_state=State.LOADING, user=user)
        Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING, started_at=timezone.now(),
                                             watermark=timezone.now())
        transaction.on_commit(lambda: run_dispatch(run_id=run.pk))
    run.refresh_from_db()
    return run


def _delta_since(migration: Migration) -> str:
    last = (Run.objects.filter(migration=migration, kind__in=[Run.Kind.FULL, Run.Kind.DELTA],
                               state=Run.State.COMPLETED).order_by("-finished_at").first())
    if last is None or last.watermark is None:
        raise RunRefused("no completed full or delta run gives a watermark to start the delta from")
    return last.watermark.isoformat()


# --------------------------------------------------------------------------------------------------- claiming


def _stuck_reset(run: Run) -> int:
    """Units whose worker stopped renewing the lease go back, or fail when their workers keep dying on them
    without moving the checkpoint (a record that takes the process down must not loop for ever)."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORK_UNIT_STUCK_AFTER)
    WorkUnit.objects.filter(run=run, state=UnitState.PENDING, worker=QUEUED, in_flight_since__lt=cutoff).update(
        worker="")
    stuck = WorkUnit.objects.filter(run=run, state=UnitState.IN_FLIGHT, in_flight_since__lt=cutoff)
    limit = settings.WORK_UNIT_MAX_CRASHES
    stuck.filter(crashes__gte=limit - 1).update(
        state=UnitState.FAILED, worker="", crashes=F("crashes") + 1,
        last_error=f"failed: its worker was lost {limit} times without moving the checkpoint (killed, out of "
                   f"memory?); see the worker logs, fix the cause and start the run again")
    return stuck.update(state=UnitState.PENDING, worker="", crashes=F("crashes") + 1,
                        last_error="reset: its worker stopped renewing the lease")


def _unexpected(unit: WorkUnit, worker: str, exc: Exception) -> None:
    """A bug or an unforeseen answer: logged with where it happened (never the message or the source lines, which
    may quote patient values), tried again after a while, failed once it happened WORK_UNIT_MAX_CRASHES times
    without progress."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else "?"
    log.error("work unit %s (%s, run %s) raised %s at %s\n%s", unit.pk, unit.source_object, unit.run_id,
              type(exc).__name__, where, "\n".join(f"  {f.filename}:{f.lineno} in {f.name}" for f in frames))
    crashes = unit.crashes + 1
    error = f"unexpected {type(exc).__name__} at {where} ({crashes} without progress; see the worker log)"
    done = WorkUnit.objects.filter(pk=unit.pk, worker=worker)
    if crashes >= settings.WORK_UNIT_MAX_CRASHES:
        done.update(state=UnitState.FAILED, worker="", crashes=crashes, last_error=error)
    else:
        later = timezone.now() + timedelta(seconds=30 * crashes)
        done.update(state=UnitState.PENDING, worker="", crashes=crashes, last_error=error, not_before=later)


def _ready_level(run: Run) -> int | None:
    """The lowest level with unfinished units; units above it wait."""
    return (WorkUnit.objects.filter(run=run).exclude(state=UnitState.DONE)
            .aggregate(level=Min("level"))["level"])


def ready_units(run: Run, *, include_queued: bool = True) -> list[int]:
    level = _ready_level(run)
    if level is None or run.state not in (Run.State.RUNNING, Run.State.WAITING_BUDGET):
        return []
    now = timezone.now()
    units = WorkUnit.objects.filter(run=run, level=level, state=UnitState.PENDING)
    if not include_queued:
        units = units.filter(worker="")
    return list(units
                .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
                .order_by("slice_index", "id").values_list("pk", flat=True))


QUEUED = "queued"


def work_units_mark_queued(*, unit_ids: list[int]) -> list[int]:
    """Mark pending units as handed to the queue, so each finishing job does not enqueue them again. A mark
    older than the stuck timeout is cleared by _stuck_reset (a job lost with Redis is enqueued again)."""
    marked = []
    for unit_id in unit_ids:
        if WorkUnit.objects.filter(pk=unit_id, state=UnitState.PENDING, worker="").update(
                worker=QUEUED, in_flight_since=timezone.now()):
            marked.append(unit_id)
    return marked


def work_unit_claim(*, unit_id: int, worker: str) -> WorkUnit | None:
    """Take a ready unit for this worker, or None when someone else has it (or it is not ready)."""
    unit = WorkUnit.objects.select_related("run").filter(pk=unit_id).first()
    if unit is None or unit_id not in ready_units(unit.run):
        return None
    taken = WorkUnit.objects.filter(pk=unit_id, state=UnitState.PENDING).update(
        state=UnitState.IN_FLIGHT, in_flight_since=timezone.now(), attempts=F("attempts") + 1, worker=worker,
    )
    if not taken:
        return None
    return WorkUnit.objects.select_related("run__migration__pair__source", "run__migration__pair__destination",
                                           "object_mapping").get(pk=unit_id)


class _Lease:
    """Renews the lease on a claimed unit from a thread while the worker is busy with it, so a long batch (a slow
    CRM, large attachments, a Bulk Write job) is not taken for a dead worker's; a killed worker stops renewing and
    its unit goes back after WORK_UNIT_STUCK_AFTER. Not on SQLite (the embedded default runs one process, and a
    second writer there only waits on the first)."""

    def __init__(self, unit_id: int, worker: str) -> None:
        import threading

        from django.db import connection

        self.unit_id, self.worker = unit_id, worker
        self.stopped = threading.Event()
        self.thread = None if connection.vendor == "sqlite" else threading.Thread(
            target=self._renew, name=f"lease-{unit_id}", daemon=True)

    def __enter__(self) -> _Lease:
        if self.thread is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()

    def _renew(self) -> None:
        from django.db import DatabaseError, connection

        every = max(0.5, settings.WORK_UNIT_STUCK_AFTER / 3)
        try:
            while not self.stopped.wait(every):
                try:
                    with transaction.atomic():
                        # Never queue behind the unit's own batch commit for long: the next beat will do.
                        with connection.cursor() as cursor:
                            cursor.execute("SET LOCAL lock_timeout = '2s'")
                        WorkUnit.objects.filter(pk=self.unit_id, state=UnitState.IN_FLIGHT,
                                                worker=self.worker).update(in_flight_since=timezone.now())
                except DatabaseError as exc:   # a hiccup: the batch commits renew the lease too
                    log.warning("work unit %s: the lease was not renewed (%s)", self.unit_id, type(exc).__name__)
        finally:
            connection.close()


def work_unit_execute(*, unit_id: int, worker: str | None = None) -> bool:
    """Claim and load one unit; record how it ended. False when the unit was not ours to run."""
    worker = worker or worker_name()
    unit = work_unit_claim(unit_id=unit_id, worker=worker)
    if unit is None:
        return False
    run = unit.run

    def should_stop() -> bool:
        return Run.objects.filter(pk=run.pk, state__in=[Run.State.PAUSED, Run.State.CANCELLED]).exists()

    try:
        with _Lease(unit.pk, worker):
            if run.kind == Run.Kind.ROLLBACK:
                from migrator.services.rollback import rollback_unit_load

                rollback_unit_load(unit=unit, should_stop=should_stop)
            else:
                work_unit_load(unit=unit, should_stop=should_stop)
    except UnitStopped as stop:
        WorkUnit.objects.filter(pk=unit.pk, worker=worker).update(
            state=UnitState.PENDING, worker="", last_error=stop.reason, not_before=stop.not_before,
        )
        if stop.budget:
            Run.objects.filter(pk=run.pk, state=Run.State.RUNNING).update(
                state=Run.State.WAITING_BUDGET, resume_at=stop.not_before)
        return True
    except (PlanError, PermanentError) as exc:
        # The mapping or the connection is wrong: no retry can help; its level's children wait for a fix.
        WorkUnit.objects.filter(pk=unit.pk).update(state=UnitState.FAILED, worker="", last_error=str(exc))
        return True
    except TemporaryError as exc:
        later = timezone.now() + timedelta(seconds=exc.retry_after or 30)
        WorkUnit.objects.filter(pk=unit.pk, worker=worker).update(
            state=UnitState.PENDING, worker="", last_error=f"temporary: {exc.code or exc.message}", not_before=later)
        return True
    except Exception as exc:  # anything else: counted, tried again later, failed at the limit
        unit.refresh_from_db(fields=["crashes"])
        _unexpected(unit, worker, exc)
        return True
    WorkUnit.objects.filter(pk=unit.pk, worker=worker).update(state=UnitState.DONE, worker="", last_error="",
                                                              in_flight_since=None)
    return True


# --------------------------------------------------------------------------------------------------- driving


def run_dispatch(*, run_id: int) -> int:
    """Reset stuck units, finish the run when nothing is left, and enqueue every ready unit. Returns how many
    units were enqueued (in-process mode runs them here, one after another)."""
    from migrator import jobs

    run = Run.objects.get(pk=run_id)
    if run.state in (Run.State.COMPLETED, Run.State.FAILED, Run.State.CANCELLED, Run.State.PAUSED):
        return 0
    _stuck_reset(run)
    if run.state == Run.State.WAITING_BUDGET and (run.resume_at is None or run.resume_at <= timezone.now()):
        Run.objects.filter(pk=run.pk, state=Run.State.WAITING_BUDGET).update(state=Run.State.RUNNING)
        run.state = Run.State.RUNNING
    if run_finish_if_done(run=run):
        return 0
    return jobs.enqueue_units(run, ready_units(run, include_queued=False))


def runs_sweep() -> int:
    """Dispatch every active run again: units of dead workers go back (their lease ran out), units whose
    `not_before` passed are queued, runs waiting for the budget resume, runs with nothing left are closed. What a
    finishing unit does for its run, done on a timer for the runs whose last unit will never finish."""
    active = Run.objects.filter(state__in=[Run.State.RUNNING, Run.State.WAITING_BUDGET]).values_list("pk", flat=True)
    queued = sum(run_dispatch(run_id=run_id) for run_id in list(active))
    runs_follow_up()
    return queued


def run_finish_if_done(*, run: Run) -> bool:
    """Close the run when every unit is done (completed) or no unit can move any more (failed)."""
    units = WorkUnit.objects.filter(run=run)
    if units.filter(state__in=[UnitState.PENDING, UnitState.IN_FLIGHT]).exclude(
            level__gt=_blocked_level(run)).exists():
        return False
    failed = list(units.filter(state=UnitState.FAILED).values_list("source_object", "last_error"))
    state = Run.State.FAILED if failed else Run.State.COMPLETED
    error = "; ".join(f"{obj}: {err}" for obj, err in failed[:10])
    with transaction.atomic():
        closed = Run.objects.filter(pk=run.pk, state__in=ACTIVE).update(
            state=state, finished_at=timezone.now(), error=error)
        if closed and state == Run.State.COMPLETED:
            transaction.on_commit(lambda: run_completed(run_id=run.pk))
    return True


def _blocked_level(run: Run) -> int:
    """Units above a failed unit's level can never start."""
    failed = WorkUnit.objects.filter(run=run, state=UnitState.FAILED).aggregate(level=Min("level"))["level"]
    return 10_000 if failed is None else int(failed)


def run_completed(*, run_id: int) -> None:
    """After a run completes: the sample's field diff, and the migration's next state. Marked done at the end, so
    a process that dies on the way leaves it to the workers' sweep (`runs_follow_up`); each step is idempotent."""
    from migrator.services import sample as sample_service

    run = Run.objects.select_related("migration").get(pk=run_id)
    if run.followed_up:
        return
    if run.kind == Run.Kind.SAMPLE:
        sample_service.sample_diff(run=run)
    target = FINISHES_AT.get(run.kind)
    if target and (run.migration.state != target or run.kind == Run.Kind.DELTA):
        migration_transition(migration=run.migration, to_state=target, note=f"{run} completed")
    Run.objects.filter(pk=run.pk).update(followed_up=True)


def runs_follow_up() -> int:
    """Completed runs whose follow-up never ran (their process died between closing the run and that step), once
    WORK_UNIT_STUCK_AFTER has passed since they finished; returns how many were followed up."""
    cutoff = timezone.now() - timedelta(seconds=settings.WORK_UNIT_STUCK_AFTER)
    done = 0
    for run_id in Run.objects.filter(state=Run.State.COMPLETED, followed_up=False, finished_at__lt=cutoff) \
            .order_by("finished_at").values_list("pk", flat=True):
        try:
            run_completed(run_id=run_id)
            done += 1
        except Exception as exc:  # tried again on the next sweep; one bad run must not stop the others
            log.warning("run %s: its follow-up failed again (%s)", run_id, type(exc).__name__)
    return done


def run_drive(*, run_id: int, worker: str | None = None, max_wait: float = 3600.0) -> Run:
    """Run every unit in this process, one after another: the embedded default (no Redis), and `--wait`."""
    import time

    worker = worker or worker_name()
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.state in (Run.State.COMPLETED, Run.State.FAILED, Run.State.CANCELLED, Run.State.PAUSED):
            return run
        _stuck_reset(run)
        if run.state == Run.State.WAITING_BUDGET and run.resume_at and run.resume_at > timezone.now():
            time.sleep(min(5.0, (run.resume_at - timezone.now()).total_seconds()))
            continue
        if run.state == Run.State.WAITING_BUDGET:
            Run.objects.filter(pk=run.pk).update(state=Run.State.RUNNING)
        if run_finish_if_done(run=run):
            continue
        ready = ready_units(run)
        if not ready:
            time.sleep(0.2)  # units in flight elsewhere, or waiting for not_before
            continue
        for unit_id in ready:
            work_unit_execute(unit_id=unit_id, worker=worker)
    return Run.objects.get(pk=run_id)


# --------------------------------------------------------------------------------------------------- control


def run_pause(*, run: Run) -> bool:
    """Stop handing out units; units in flight stop after their current batch. The checkpoint holds."""
    return bool(Run.objects.filter(pk=run.pk, state__in=[Run.State.RUNNING, Run.State.WAITING_BUDGET,
                                                         Run.State.PENDING]).update(state=Run.State.PAUSED))


def run_resume(*, run: Run) -> bool:
    resumed = Run.objects.filter(pk=run.pk, state=Run.State.PAUSED).update(state=Run.State.RUNNING)
    if resumed:
        transaction.on_commit(lambda: run_dispatch(run_id=run.pk))
    return bool(resumed)


def run_cancel(*, run: Run) -> bool:
    with transaction.atomic():
        cancelled = Run.objects.filter(pk=run.pk, state__in=ACTIVE).update(
            state=Run.State.CANCELLED, finished_at=timezone.now())
        WorkUnit.objects.filter(run=run, state=UnitState.PENDING).update(state=UnitState.CANCELLED)
    return bool(cancelled)


# --------------------------------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class ObjectProgress:
    source_object: str
    module: str
    done: int
    total: int
    created: int
    updated: int
    skipped: int
    failed: int


@dataclass(frozen=True)
class RunProgress:
    run_id: int
    kind: str
    state: str
    done: int
    total: int
    failed: int
    rate: float                  # records per second since the run started
    eta_seconds: float | None
    credits_used: int | None
    credits_left: int | None
    objects: tuple[ObjectProgress, ...]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def run_progress(*, run: Run) -> RunProgress:
    rows = (WorkUnit.objects.filter(run=run)
            .values("source_object", "object_mapping__destination_module")
            .annotate(done=Sum("processed"), total=Sum("total"), created=Sum("created"), updated=Sum("updated"),
                      skipped=Sum("skipped"), failed=Sum("failed"))
            .order_by("level", "source_object"))
    objects = tuple(ObjectProgress(r["source_object"], r["object_mapping__destination_module"] or "", r["done"],
                                   max(r["total"], r["done"]), r["created"], r["updated"], r["skipped"],
                                   r["failed"]) for r in rows)
    done = sum(o.done for o in objects)
    total = sum(o.total for o in objects)
    failed = sum(o.failed for o in objects)
    started: datetime | None = run.started_at
    end = run.finished_at or timezone.now()
    elapsed = (end - started).total_seconds() if started else 0.0
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if rate > 0 and run.state in ACTIVE else None
    used, left = _credits(run)
    return RunProgress(run.pk, run.kind, run.state, done, total, failed, round(rate, 2), eta, used, left, objects)


def _credits(run: Run) -> tuple[int | None, int | None]:
    """Credits used and left on the destination's shared budget (the same counter every worker charges)."""
    try:
        source, dest = migration_connectors(run.migration)
        source.close()
    except Exception:  # progress must render even when a connection is misconfigured or unreachable
        log.warning("run %s: credits unknown (the destination connector could not be opened)", run.pk)
        return None, None
    try:
        budget = getattr(dest, "budget", None)
        if budget is None:
            return None, None
        return int(budget.used()), int(budget.remaining())
    except Exception:  # a Redis hiccup must not break the progress page
        log.warning("run %s: credits unknown (the budget store did not answer)", run.pk)
        return None, None
    finally:
        dest.close()


# --------------------------------------------------------------------------------------------------- gates


def _latest(migration: Migration, kind: str) -> Run | None:
    return Run.objects.filter(migration=migration, kind=kind).order_by("-created_at", "-id").first()


def _completed_gate(kind: str) -> Any:
    def gate(migration: Migration) -> list[str]:
        run = _latest(migration, kind)
        if run is None:
            return [f"no {kind} run has been made"]
        if run.state != Run.State.COMPLETED:
            return [f"the latest {kind} run is {run.get_state_display().lower()}"]
        return []

    return gate


register_gate(State.SAMPLE_LOADED)(_completed_gate(Run.Kind.SAMPLE))
register_gate(State.LOADED)(_completed_gate(Run.Kind.FULL))
register_gate(State.DELTA)(_completed_gate(Run.Kind.DELTA))


@register_gate(State.SAMPLE_APPROVED)
def _sample_approved_gate(migration: Migration) -> list[str]:
    return _completed_gate(Run.Kind.SAMPLE)(migration)


@register_gate(State.LOADING)
def _loading_gate(migration: Migration) -> list[str]:
    if migration.state != State.SAMPLE_APPROVED:
        return ["the sample must be approved first"]
    return []
