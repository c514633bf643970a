"""Thin django-rq jobs: they take ids, call one service, and hand the run back to the dispatcher.

Without Redis (the embedded default) the queues are synchronous, so `enqueue_units` drives the run in this process
instead of nesting jobs inside jobs."""

from __future__ import annotations

from typing import Any

import django_rq

from migrator.models import Run

QUEUE = "migrations"


def _queue() -> Any:
    return django_rq.get_queue(QUEUE)


def enqueue_units(run: Run, unit_ids: list[int]) -> int:
    queue = _queue()
    if not queue.is_async:
        from migrator.services.runs import run_drive

        run_drive(run_id=run.pk)
        return len(unit_ids)
    from migrator.services.runs import work_units_mark_queued

    queued = work_units_mark_queued(unit_ids=unit_ids)
    for unit_id in queued:
        # One job per unit; a duplicate would be harmless (the claim is a conditional update).
        queue.enqueue(load_unit, unit_id, job_timeout=3600, result_ttl=600, failure_ttl=86400)
    return len(queued)


def load_unit(unit_id: int) -> bool:
    from migrator.models import WorkUnit
    from migrator.services.runs import run_dispatch, work_unit_execute

    ran = work_unit_execute(unit_id=unit_id)
    run_id = WorkUnit.objects.filter(pk=unit_id).values_list("run_id", flat=True).first()
    if run_id is not None:
        run_dispatch(run_id=run_id)
    return ran


def enqueue_sweep() -> None:
    """Queue one sweep (migrator.worker.MigrationWorker calls this on a timer)."""
    _queue().enqueue(sweep_runs, job_timeout=600, result_ttl=60, failure_ttl=86400)


def sweep_runs() -> int:
    """Put back stuck units and dispatch every active run again; returns how many units were queued."""
    from migrator.services.runs import runs_sweep

    return runs_sweep()


def reconcile_migration(migration_id: int, user_id: int | None = None) -> int:
    """Reconcile one migration; returns the report's id."""
    from django.contrib.auth import get_user_model

    from migrator.models import Migration
    from migrator.services.reconcile import reconciliation_run

    migration = Migration.objects.get(pk=migration_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id is not None else None
    return reconciliation_run(migration=migration, user=user).pk
