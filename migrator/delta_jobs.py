"""Thin django-rq job of the delta window: it takes ids and calls one service (migrator/services/delta_window.py).
RQ's scheduler enqueues it when due (workers run with `--with-scheduler`)."""

from __future__ import annotations


def delta_window_tick(migration_id: int, job_id: str) -> str:
    from migrator.services.delta_window import delta_window_tick as tick

    return tick(migration_id=migration_id, job_id=job_id)
