"""The delta window with real Redis and RQ's scheduler: setting it schedules a tick, a due tick starts a delta and
schedules the next one until the end, cancel and cutover end it, and without Redis it is refused with the reason."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import django_rq
import pytest
from django.core.management import call_command
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from connectors.sources.generate import generate
from migrator.models import Migration, Run
from migrator.services import delta_window
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.delta_window import (
    WindowRefused,
    delta_cutover,
    delta_window_cancel,
    delta_window_set,
    delta_window_status,
    delta_window_tick,
)
from migrator.services.runs import RunRefused

pytestmark = [pytest.mark.django_db]
# Tests where a worker runs the jobs need committed rows (the worker forks and uses its own connection).
worker_sees_commits = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue() -> Iterator[Any]:
    """The real `migrations` queue (Redis); its scheduled and queued jobs are cleared around each test."""
    q = django_rq.get_queue("migrations")
    if not q.is_async:
        pytest.fail("these tests need REDIS_URL: the window is scheduled by RQ")

    def clear() -> None:
        registry = ScheduledJobRegistry(queue=q)
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=False)
        q.empty()

    clear()
    yield q
    clear()


@pytest.fixture
def loaded(catalog: None, tmp_path: Any) -> Migration:
    """A migration after its full load (a tiny export, no mapping confirmed: its deltas finish at once — what the
    delta writes is tested elsewhere; here it is when deltas start)."""
    generate("dentrix", patients=5, seed=3, out=tmp_path)
    migration = migration_create(
        client_name=f"Window {uuid.uuid4().hex[:6]}", pair=pair_by_slug("dentrix:zoho-crm"),
        source_config={"path": str(tmp_path)},
        destination_config={"api_base": "http://127.0.0.1:9", "redis_url": None, "budget_key": uuid.uuid4().hex},
        destination_secrets={"client_id": "window-test", "client_secret": "unused", "refresh_token": "unused"},
        edition="enterprise", users=20)
    now = timezone.now()
    Migration.objects.filter(pk=migration.pk).update(state=Migration.State.LOADED)
    Run.objects.create(migration=migration, kind=Run.Kind.FULL, state=Run.State.COMPLETED, watermark=now,
                       started_at=now, finished_at=now)
    migration.refresh_from_db()
    return migration


def _scheduled(queue: Any) -> dict[str, datetime]:
    registry = ScheduledJobRegistry(queue=queue)
    return {job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()}


def _work(queue: Any) -> None:
    """A worker as deployed (`rqworker migrations --with-scheduler`), in burst mode: due jobs move to the queue
    and run."""
    django_rq.get_worker("migrations").work(burst=True, with_scheduler=True)


def _deltas(migration: Migration) -> list[Run]:
    return list(Run.objects.filter(migration=migration, kind=Run.Kind.DELTA).order_by("id"))


@worker_sees_commits
def test_setting_a_window_schedules_its_first_delta_at_the_start_in_rqs_scheduler(loaded: Migration, queue: Any):
    start = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=4), every_minutes=30)

    loaded.refresh_from_db()
    assert loaded.delta_next_at == start and loaded.delta_interval_minutes == 30
    assert _scheduled(queue) == {loaded.delta_job_id: start.astimezone(UTC)}
    _work(queue)                                      # not due yet: nothing runs
    assert _deltas(loaded) == []
    status = delta_window_status(migration=loaded)
    assert status.set and status.scheduled and status.next_at == start and not status.needs_workers


@worker_sees_commits
def test_a_due_tick_starts_a_delta_and_schedules_the_next_one(loaded: Migration, queue: Any):
    start = timezone.now() - timedelta(minutes=1)
    delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=3), every_minutes=60)
    loaded.refresh_from_db()
    first_job, first_due = loaded.delta_job_id, loaded.delta_next_at

    _work(queue)

    [run] = _deltas(loaded)
    assert run.state == Run.State.COMPLETED and run.options.get("window") is True
    loaded.refresh_from_db()
    assert loaded.state == Migration.State.DELTA
    assert loaded.delta_job_id != first_job
    assert loaded.delta_next_at == first_due + timedelta(minutes=60)
    assert _scheduled(queue) == {loaded.delta_job_id: loaded.delta_next_at.astimezone(UTC).replace(microsecond=0)}


@worker_sees_commits
def test_the_last_tick_before_the_end_schedules_no_more(loaded: Migration, queue: Any):
    start = timezone.now() - timedelta(minutes=1)
    delta_window_set(migration=loaded, start=start, end=start + timedelta(minutes=20), every_minutes=30)

    _work(queue)

    assert len(_deltas(loaded)) == 1
    loaded.refresh_from_db()
    assert loaded.delta_job_id == "" and loaded.delta_next_at is None
    assert _scheduled(queue) == {}


def test_a_tick_while_a_run_is_active_starts_nothing_and_keeps_the_window(loaded: Migration, queue: Any,
                                                                         django_capture_on_commit_callbacks: Any):
    busy = Run.objects.create(migration=loaded, kind=Run.Kind.DELTA, state=Run.State.RUNNING)
    start = timezone.now() - timedelta(minutes=1)
    delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=2), every_minutes=30)
    loaded.refresh_from_db()
    due = loaded.delta_next_at

    with django_capture_on_commit_callbacks(execute=True):
        outcome = delta_window_tick(migration_id=loaded.pk, job_id=loaded.delta_job_id)

    assert outcome.startswith("busy")
    assert _deltas(loaded) == [busy]
    loaded.refresh_from_db()
    assert loaded.delta_next_at == due + timedelta(minutes=30)
    assert loaded.delta_job_id in _scheduled(queue)


def test_cancel_unschedules_the_tick_and_a_tick_that_still_fires_does_nothing(
        loaded: Migration, queue: Any, django_capture_on_commit_callbacks: Any):
    start = timezone.now() + timedelta(minutes=10)
    with django_capture_on_commit_callbacks(execute=True):
        delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=2), every_minutes=30)
    loaded.refresh_from_db()
    old_job = loaded.delta_job_id
    assert set(_scheduled(queue)) == {old_job}

    with django_capture_on_commit_callbacks(execute=True):
        assert delta_window_cancel(migration=loaded) is True

    assert _scheduled(queue) == {}
    loaded.refresh_from_db()
    assert loaded.delta_job_id == "" and loaded.delta_window_end is None
    assert delta_window_tick(migration_id=loaded.pk, job_id=old_job) == "stale"
    assert _deltas(loaded) == []
    assert delta_window_cancel(migration=loaded) is False


@worker_sees_commits
def test_cutover_runs_the_final_delta_and_ends_the_window(loaded: Migration, queue: Any):
    start = timezone.now() + timedelta(minutes=10)
    delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=2), every_minutes=30)

    run = delta_cutover(migration=loaded)
    _work(queue)

    run.refresh_from_db()
    assert run.options.get("cutover") is True and run.state == Run.State.COMPLETED
    loaded.refresh_from_db()
    assert loaded.delta_cutover_at is not None and loaded.delta_job_id == "" and loaded.delta_next_at is None
    assert _scheduled(queue) == {}
    with pytest.raises(RunRefused, match="already happened"):
        delta_cutover(migration=loaded)
    with pytest.raises(WindowRefused, match="cutover"):
        delta_window_set(migration=loaded, start=start, end=start + timedelta(hours=2), every_minutes=30)


def test_the_cutover_command_starts_the_final_delta(loaded: Migration, queue: Any, capsys: Any):
    call_command("run_migration", str(loaded.pk), "--action", "cutover", "--wait", "--json")
    out = capsys.readouterr().out
    assert '"kind": "delta"' in out and '"state": "completed"' in out
    loaded.refresh_from_db()
    assert loaded.delta_cutover_at is not None


def test_a_window_must_make_sense(loaded: Migration, queue: Any):
    now = timezone.now()
    with pytest.raises(WindowRefused, match="end after it starts"):
        delta_window_set(migration=loaded, start=now + timedelta(hours=2), end=now + timedelta(hours=1),
                         every_minutes=30)
    with pytest.raises(WindowRefused, match="already passed"):
        delta_window_set(migration=loaded, start=now - timedelta(hours=2), end=now - timedelta(hours=1),
                         every_minutes=30)
    with pytest.raises(WindowRefused, match="every 5 minutes"):
        delta_window_set(migration=loaded, start=now, end=now + timedelta(hours=1), every_minutes=1)


def test_without_redis_the_window_is_refused_and_deltas_run_on_demand(loaded: Migration, monkeypatch: Any):
    # The embedded default: the queue runs jobs in-process, so nothing could wake up at a later time.
    monkeypatch.setattr(delta_window, "_queue", lambda: django_rq.get_queue("migrations", is_async=False))
    now = timezone.now()
    with pytest.raises(WindowRefused, match="needs Redis and RQ workers"):
        delta_window_set(migration=loaded, start=now, end=now + timedelta(hours=1), every_minutes=30)
    assert delta_window_status(migration=loaded).needs_workers
