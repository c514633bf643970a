"""The RQ worker `manage.py rqworker migrations` runs (settings.RQ["WORKER_CLASS"]): RQ's worker plus the sweep that
keeps runs moving when nothing else would.

A run moves on when a unit's job ends (it dispatches the next ready units). Nothing ends when the worker holding
the last unit in flight is killed (its job dies with it), nor when every remaining unit waits for a `not_before`
(a temporary failure, a spent budget). So every `sweep_every()` seconds one worker, on whichever machine, queues a
sweep job: it puts back units whose lease ran out and dispatches every active run again. The sweep is only a job
in the queue: the worker's own process never touches the database (its jobs run in forked children)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from rq import Worker

SWEEP_KEY = "migrator:runs-sweep"


def sweep_every() -> int:
    """Seconds between sweeps: often enough that a dead worker's unit is put back soon after its lease ends."""
    return max(1, min(60, settings.WORK_UNIT_STUCK_AFTER // 2))


class MigrationWorker(Worker):
    _sweeping = False
    _next_sweep = 0.0

    def work(self, burst: bool = False, *args: Any, **kwargs: Any) -> bool:
        # A burst worker (tests, benchmarks) ends when the queue is empty: it must not feed the queue itself.
        self._sweeping = not burst
        return bool(super().work(burst, *args, **kwargs))

    @property
    def dequeue_timeout(self) -> int:
        # Wake from waiting for a job at least once per sweep period, so an idle worker sweeps too.
        return max(1, min(super().dequeue_timeout, sweep_every()))

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return self._sweep_due() or bool(super().should_run_maintenance_tasks)

    def run_maintenance_tasks(self) -> None:
        if self._sweep_due():
            self._sweep()
        if super().should_run_maintenance_tasks:
            super().run_maintenance_tasks()

    def _sweep_due(self) -> bool:
        return self._sweeping and time.monotonic() >= self._next_sweep

    def _sweep(self) -> None:
        from migrator import jobs

        every = sweep_every()
        self._next_sweep = time.monotonic() + every
        # One sweep per period across every worker: whoever sets the key queues it.
        if self.connection.set(SWEEP_KEY, self.name, nx=True, ex=every):
            jobs.enqueue_sweep()
