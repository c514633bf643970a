"""The sweep that keeps runs moving when no unit will ever finish: a dead worker's unit goes back after its lease
runs out and is queued again; one sweep per period across every worker; burst workers do not sweep."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone
from rq import Queue

from migrator import jobs
from migrator.models import Migration, Run, WorkUnit
from migrator.services.runs import runs_sweep
from migrator.worker import SWEEP_KEY, MigrationWorker, sweep_every
from tests.factories import MigrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    ids: list[int] = []

    def enqueue(run: Run, unit_ids: list[int]) -> int:
        ids.extend(unit_ids)
        return len(unit_ids)

    monkeypatch.setattr(jobs, "enqueue_units", enqueue)
    return ids


def _unit(run: Run, *, state: str, since_seconds: float | None, worker: str = "") -> WorkUnit:
    since = timezone.now() - timedelta(seconds=since_seconds) if since_seconds is not None else None
    return WorkUnit.objects.create(run=run, source_object="patient", state=state, in_flight_since=since,
                                   worker=worker, total=10)


def test_the_sweep_puts_back_a_dead_workers_unit_and_queues_it_again(settings: Any, queued: list[int]) -> None:
    settings.WORK_UNIT_STUCK_AFTER = 30
    run = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.RUNNING)
    dead = _unit(run, state=WorkUnit.State.IN_FLIGHT, since_seconds=45, worker="host:1")
    alive = _unit(run, state=WorkUnit.State.IN_FLIGHT, since_seconds=5, worker="host:2")
    finished = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.COMPLETED)
    _unit(finished, state=WorkUnit.State.IN_FLIGHT, since_seconds=45, worker="host:3")

    assert runs_sweep() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert queued == [dead.pk]
    assert dead.state == WorkUnit.State.PENDING and dead.worker == ""
    assert "lease" in dead.last_error
    assert alive.state == WorkUnit.State.IN_FLIGHT and alive.worker == "host:2"


def test_a_run_waiting_for_a_not_before_that_passed_is_queued_by_the_sweep(queued: list[int]) -> None:
    run = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.RUNNING)
    later = _unit(run, state=WorkUnit.State.PENDING, since_seconds=None)
    WorkUnit.objects.filter(pk=later.pk).update(not_before=timezone.now() + timedelta(minutes=5))
    assert runs_sweep() == 0
    WorkUnit.objects.filter(pk=later.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    assert runs_sweep() == 1
    assert queued == [later.pk]


def test_one_sweep_per_period_across_workers_and_none_from_burst_workers(monkeypatch: pytest.MonkeyPatch,
                                                                         settings: Any) -> None:
    settings.WORK_UNIT_STUCK_AFTER = 600
    sweeps: list[str] = []
    monkeypatch.setattr(jobs, "enqueue_sweep", lambda: sweeps.append("sweep"))
    conn = redis.Redis.from_url(os.environ.get("REDIS_URL") or settings.REDIS_URL or "redis://127.0.0.1:6379/5")
    conn.delete(SWEEP_KEY)
    queue = Queue("sweep-test", connection=conn)
    first, second = MigrationWorker([queue], connection=conn), MigrationWorker([queue], connection=conn)
    try:
        for worker in (first, second):
            worker._sweeping = True
            assert worker.should_run_maintenance_tasks
            worker._sweep()
        assert sweeps == ["sweep"]                                  # the second found this period's sweep queued
        assert 0 < conn.ttl(SWEEP_KEY) <= sweep_every() == 60
        assert first.dequeue_timeout <= 60                          # an idle worker wakes up to sweep

        burst = MigrationWorker([queue], connection=conn)
        burst.work(burst=True)
        assert sweeps == ["sweep"]
    finally:
        conn.delete(SWEEP_KEY)


def test_a_unit_whose_workers_keep_dying_fails_instead_of_looping(settings: Any, queued: list[int]) -> None:
    settings.WORK_UNIT_STUCK_AFTER, settings.WORK_UNIT_MAX_CRASHES = 30, 3
    run = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.RUNNING)
    unit = _unit(run, state=WorkUnit.State.IN_FLIGHT, since_seconds=45, worker="host:1")

    runs_sweep()
    unit.refresh_from_db()
    assert (unit.state, unit.crashes) == (WorkUnit.State.PENDING, 1)

    for expected in (WorkUnit.State.PENDING, WorkUnit.State.FAILED):   # lost again: 2 crashes, then 3
        WorkUnit.objects.filter(pk=unit.pk).update(state=WorkUnit.State.IN_FLIGHT, worker="host:2",
                                                   in_flight_since=timezone.now() - timedelta(seconds=45))
        runs_sweep()
        unit.refresh_from_db()
        assert unit.state == expected
    assert unit.crashes == 3 and "lost 3 times" in unit.last_error
    run.refresh_from_db()
    assert run.state == Run.State.FAILED and "lost 3 times" in run.error


def test_an_unexpected_error_is_retried_later_then_fails_the_unit_without_quoting_its_message(
        settings: Any, queued: list[int], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from migrator.services import runs

    settings.WORK_UNIT_MAX_CRASHES = 2
    run = Run.objects.create(migration=MigrationFactory(), kind=Run.Kind.FULL, state=Run.State.RUNNING)
    unit = _unit(run, state=WorkUnit.State.PENDING, since_seconds=None)

    def load(*, unit: WorkUnit, should_stop: Any) -> None:
        raise ValueError("patient Ayşe Yılmaz, born 02.03.1981")

    monkeypatch.setattr(runs, "work_unit_load", load)
    assert runs.work_unit_execute(unit_id=unit.pk, worker="host:1")
    unit.refresh_from_db()
    assert unit.state == WorkUnit.State.PENDING and unit.crashes == 1 and unit.worker == ""
    assert unit.not_before is not None and unit.not_before > timezone.now()       # not at once: in a while
    assert "ValueError" in unit.last_error and "Ayşe" not in unit.last_error

    WorkUnit.objects.filter(pk=unit.pk).update(not_before=None)
    assert runs.work_unit_execute(unit_id=unit.pk, worker="host:1")
    unit.refresh_from_db()
    assert unit.state == WorkUnit.State.FAILED and unit.crashes == 2
    assert "ValueError" in caplog.text and "Ayşe" not in caplog.text            # frames logged, never the message


def test_a_run_whose_process_died_before_its_follow_up_is_followed_up_by_the_sweep(settings: Any) -> None:
    """The run closed, the process died before the migration moved on: the sweep does it once the run has been
    over for the lease time, and only once."""
    settings.WORK_UNIT_STUCK_AFTER = 30
    migration = MigrationFactory(state=Migration.State.LOADING)
    long_ago = timezone.now() - timedelta(seconds=45)
    orphan = Run.objects.create(migration=migration, kind=Run.Kind.FULL, state=Run.State.COMPLETED,
                                finished_at=long_ago)
    other = MigrationFactory(state=Migration.State.LOADING)
    recent = Run.objects.create(migration=other, kind=Run.Kind.FULL, state=Run.State.COMPLETED,
                                finished_at=timezone.now())   # its own process may still be on it

    runs_sweep()

    migration.refresh_from_db()
    other.refresh_from_db()
    orphan.refresh_from_db()
    assert migration.state == Migration.State.LOADED and orphan.followed_up
    recent.refresh_from_db()
    assert other.state == Migration.State.LOADING and not recent.followed_up
    events = migration.events.count()
    runs_sweep()
    assert migration.events.count() == events
