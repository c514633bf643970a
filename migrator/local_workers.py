"""RQ workers on this machine: what the demo and the benchmarks start when Redis is configured, so the runs'
work units are taken by real `manage.py rqworker migrations` processes (as in a deployment), not by the caller.

`local_workers(count=2)` starts them and stops them on exit (SIGTERM: RQ's warm shutdown lets a job in hand end);
`run_wait(run_id=…)` waits for a run while they work, dispatching again on each tick — the scheduler's job: it
wakes units whose `not_before` has passed, puts back stuck ones and closes a run whose units are all done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from migrator.jobs import QUEUE
from migrator.models import Run

FINISHED = (Run.State.COMPLETED, Run.State.FAILED, Run.State.CANCELLED, Run.State.PAUSED)


class WorkersGone(RuntimeError):
    """Every worker process exited while a run still had work."""


def database_url() -> str:
    """The database this process really uses, as a DATABASE_URL (under pytest: the test database), so worker
    processes started from here work on the same rows."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}{port}/{quote(str(db['NAME']), safe='')}"


@dataclass
class LocalWorkers:
    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]
    _files: list[IO[bytes]] = field(default_factory=list, repr=False)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.processes)

    def stop(self, timeout: float = 60.0) -> list[int | None]:
        """Warm shutdown (SIGTERM), then SIGKILL whatever is still there after `timeout`; the exit codes."""
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in self.processes:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for fh in self._files:
            fh.close()
        return [p.returncode for p in self.processes]


@contextmanager
def local_workers(*, count: int = 2, log_dir: Path, env: Mapping[str, str] | None = None,
                  extra_args: tuple[str, ...] = ()) -> Iterator[LocalWorkers]:
    """Start `count` `manage.py rqworker migrations` processes on this machine's database and Redis; their output
    goes to `log_dir/worker-<n>.log` (job ids and unit ids, no record values)."""
    if not settings.REDIS_URL:
        raise RuntimeError("RQ workers need REDIS_URL (without it the runs are driven in-process)")
    log_dir.mkdir(parents=True, exist_ok=True)
    # The settings module this process was started with (under pytest: the test settings and their key).
    module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "config.settings"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": module,
                   "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1",
                   **(env or {})}
    command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "rqworker", QUEUE, *extra_args]
    processes: list[subprocess.Popen[bytes]] = []
    files: list[IO[bytes]] = []
    logs = []
    try:
        for n in range(count):
            path = log_dir / f"worker-{n + 1}.log"
            fh = path.open("wb")
            files.append(fh)
            logs.append(path)
            processes.append(subprocess.Popen(  # noqa: S603 — our own manage.py with fixed arguments
                command, cwd=settings.BASE_DIR, env=environment, stdout=fh, stderr=subprocess.STDOUT))
    except BaseException:
        LocalWorkers(processes, logs, files).stop(timeout=5)
        raise
    workers = LocalWorkers(processes, logs, files)
    try:
        yield workers
    finally:
        workers.stop()


def run_wait(*, run_id: int, workers: LocalWorkers | None = None, timeout: float = 3600.0, tick: float = 2.0,
             on_tick: Any = None, settle: float = 120.0) -> Run:
    """Wait until the run ends while other processes take its units; dispatch again on every tick. Raises
    WorkersGone when the local workers all died with work left, TimeoutError after `timeout` seconds.

    A worker marks the run completed and then, after that commit, does what follows (the sample's field diff,
    the migration's next state): a completed run is returned once that is done too (at most `settle` s more)."""
    from migrator.services.runs import FINISHES_AT, run_dispatch

    deadline = time.monotonic() + timeout
    while True:
        run = Run.objects.get(pk=run_id)
        if run.state == Run.State.COMPLETED and run.kind in FINISHES_AT:
            _settled(run, settle)
            return run
        if run.state in FINISHED:
            return run
        if workers is not None and workers.alive() == 0:
            raise WorkersGone(f"every RQ worker exited while run {run_id} was {run.state}; see {workers.logs[0]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} still {run.state} after {timeout:.0f} s")
        run_dispatch(run_id=run_id)
        if on_tick is not None:
            on_tick(run)
        time.sleep(tick)


def _settled(run: Run, settle: float) -> None:
    """Wait for the migration event that run_completed records (note "<run> completed"), if it is due."""
    from migrator.models import MigrationEvent

    until = time.monotonic() + settle
    while time.monotonic() < until:
        if MigrationEvent.objects.filter(migration_id=run.migration_id, note=f"{run} completed").exists():
            return
        time.sleep(0.2)
