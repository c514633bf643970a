"""The delta window: repeat deltas every N minutes between a start and an end time, then a final delta at cutover.

The window lives on the Migration row (start, end, every N minutes, when the next delta is due, the id of the RQ job
that will run it). RQ's scheduler holds the job: `queue.enqueue_at` puts it in the queue's scheduled registry and a
worker started with `--with-scheduler` moves it to the queue when it is due. Each tick starts a delta when no run of
the migration is active, then schedules the next tick, until the end time. A tick whose job id is not the one the
row names is stale (the window was cancelled or set again) and does nothing, so the database decides, not Redis.

Without Redis (the embedded default) nothing can wake up later: the window cannot be set, and staff run deltas on
demand instead (`run_migration ID --kind delta`, or the admin's "Run a delta now")."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import django_rq
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from migrator.models import Migration, Run
from migrator.services.runs import ACTIVE, RunRefused, run_start

log = logging.getLogger(__name__)

QUEUE = "migrations"
MIN_EVERY_MINUTES = 5
CLOSED_STATES = (Migration.State.CLOSED, Migration.State.ROLLED_BACK)
NEEDS_WORKERS = ("A delta window needs Redis and RQ workers started with --with-scheduler (`manage.py rqworker "
                 "migrations --with-scheduler`); this installation runs jobs in-process, so run deltas on demand.")
User = AbstractBaseUser | AnonymousUser | None


class WindowRefused(Exception):
    pass


@dataclass(frozen=True)
class WindowStatus:
    set: bool
    start: datetime | None
    end: datetime | None
    every_minutes: int
    next_at: datetime | None
    scheduled: bool | None          # the RQ job is in the scheduled registry (None: no Redis to ask)
    cutover_at: datetime | None
    needs_workers: bool
    last_delta: Run | None


def _queue() -> Any:
    return django_rq.get_queue(QUEUE)


def window_available() -> bool:
    """True when scheduled jobs can run (Redis and workers), False in the embedded default."""
    return bool(_queue().is_async)


def _user(user: User) -> AbstractBaseUser | None:
    return user if user is not None and user.is_authenticated else None  # type: ignore[return-value]


def _schedule(migration_id: int, job_id: str, at: datetime) -> None:
    from migrator import delta_jobs

    _queue().enqueue_at(at, delta_jobs.delta_window_tick, migration_id, job_id, job_id=job_id, job_timeout=600,
                        result_ttl=3600, failure_ttl=86400)


def _unschedule(job_id: str) -> None:
    """Remove a scheduled tick from Redis (best effort: a tick that survives is stale and does nothing)."""
    if not job_id or not window_available():
        return
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    queue = _queue()
    ScheduledJobRegistry(queue=queue).remove(job_id, delete_job=False)
    job = Job.fetch_many([job_id], connection=queue.connection)[0]
    if job is not None:
        job.delete()


def _arm(migration: Migration, at: datetime) -> None:
    """Point the row at a new tick due `at` and schedule it once the row is committed."""
    job_id = f"delta-window-{migration.pk}-{uuid.uuid4().hex[:12]}"
    Migration.objects.filter(pk=migration.pk).update(delta_next_at=at, delta_job_id=job_id)
    transaction.on_commit(lambda: _schedule(migration.pk, job_id, at))


def delta_window_set(*, migration: Migration, start: datetime, end: datetime, every_minutes: int,
                     user: User = None) -> Migration:
    """Set (or replace) the window; the first delta is due at `start` (or now, when `start` has passed)."""
    if not window_available():
        raise WindowRefused(NEEDS_WORKERS)
    now = timezone.now()
    if every_minutes < MIN_EVERY_MINUTES:
        raise WindowRefused(f"deltas repeat at most every {MIN_EVERY_MINUTES} minutes")
    if end <= start:
        raise WindowRefused("the window must end after it starts")
    if end <= now:
        raise WindowRefused("the window's end has already passed")
    with transaction.atomic():
        locked = Migration.objects.select_for_update().get(pk=migration.pk)
        if locked.state in CLOSED_STATES:
            raise WindowRefused(f"the migration is {locked.get_state_display().lower()}")
        if locked.delta_cutover_at is not None:
            raise WindowRefused("the cutover has happened: the window is over")
        old_job = locked.delta_job_id
        Migration.objects.filter(pk=locked.pk).update(delta_window_start=start, delta_window_end=end,
                                                      delta_interval_minutes=every_minutes)
        _arm(locked, max(start, now))
        transaction.on_commit(lambda: _unschedule(old_job))
    log.info("delta window set: migration=%s every=%s by=%s", migration.pk, every_minutes,
             getattr(_user(user), "pk", None))
    migration.refresh_from_db()
    return migration


def delta_window_cancel(*, migration: Migration, user: User = None) -> bool:
    """Stop the window: no further deltas are scheduled (a delta already running goes on). False if none was set."""
    with transaction.atomic():
        locked = Migration.objects.select_for_update().get(pk=migration.pk)
        old_job = locked.delta_job_id
        cancelled = Migration.objects.filter(pk=locked.pk).exclude(delta_job_id="").update(
            delta_job_id="", delta_next_at=None, delta_window_start=None, delta_window_end=None)
        transaction.on_commit(lambda: _unschedule(old_job))
    log.info("delta window cancelled: migration=%s by=%s", migration.pk, getattr(_user(user), "pk", None))
    migration.refresh_from_db()
    return bool(cancelled)


def delta_window_tick(*, migration_id: int, job_id: str) -> str:
    """One scheduled tick: start a delta unless one is running, then schedule the next tick before the end.
    Returns what happened (for the job's result and the log)."""
    now = timezone.now()
    with transaction.atomic():
        migration = Migration.objects.select_for_update().filter(pk=migration_id).first()
        if migration is None or migration.delta_job_id != job_id:
            return "stale"
        end = migration.delta_window_end
        if end is None or now >= end or migration.delta_cutover_at is not None or migration.state in CLOSED_STATES:
            Migration.objects.filter(pk=migration.pk).update(delta_job_id="", delta_next_at=None)
            return "ended"
        due = migration.delta_next_at or now
        every = timedelta(minutes=max(MIN_EVERY_MINUTES, migration.delta_interval_minutes))
        following = due + every
        while following <= now:   # a tick that ran late does not fire the missed ones at once
            following += every
        if following < end:
            _arm(migration, following)
        else:
            Migration.objects.filter(pk=migration.pk).update(delta_job_id="", delta_next_at=None)
    # The delta starts outside the row lock: planning reads the source.
    if Run.objects.filter(migration_id=migration_id, state__in=ACTIVE).exclude(kind=Run.Kind.RECONCILE).exists():
        outcome = "busy: a run of this migration is still active"
    else:
        try:
            run = run_start(migration=migration, kind=Run.Kind.DELTA, options={"window": True})
            outcome = f"started delta run {run.pk}"
        except RunRefused as exc:
            outcome = f"refused: {exc}"
    log.info("delta window tick: migration=%s %s", migration_id, outcome)
    return outcome


def delta_cutover(*, migration: Migration, user: User = None) -> Run:
    """The final delta: the window ends (no further ticks) and one last delta starts now."""
    if Run.objects.filter(migration=migration, state__in=ACTIVE).exclude(kind=Run.Kind.RECONCILE).exists():
        raise RunRefused("a run of this migration is still active: let it finish (or cancel it), then cut over")
    with transaction.atomic():
        locked = Migration.objects.select_for_update().get(pk=migration.pk)
        if locked.delta_cutover_at is not None:
            raise RunRefused(f"the cutover already happened at {locked.delta_cutover_at:%Y-%m-%d %H:%M} UTC")
        old_job = locked.delta_job_id
        run = run_start(migration=locked, kind=Run.Kind.DELTA, user=user, options={"cutover": True})
        Migration.objects.filter(pk=locked.pk).update(delta_cutover_at=timezone.now(), delta_job_id="",
                                                      delta_next_at=None)
        transaction.on_commit(lambda: _unschedule(old_job))
    migration.refresh_from_db()
    return run


def delta_window_status(*, migration: Migration) -> WindowStatus:
    scheduled: bool | None = None
    if migration.delta_job_id and window_available():
        from rq.registry import ScheduledJobRegistry

        try:
            registry = ScheduledJobRegistry(queue=_queue())
            scheduled = registry.connection.zscore(registry.key, migration.delta_job_id) is not None
        except Exception:  # the admin page must render when Redis does not answer
            log.warning("delta window: the scheduled registry could not be read (migration %s)", migration.pk)
    last = (Run.objects.filter(migration=migration, kind=Run.Kind.DELTA).order_by("-created_at", "-id").first())
    return WindowStatus(
        set=bool(migration.delta_job_id), start=migration.delta_window_start, end=migration.delta_window_end,
        every_minutes=migration.delta_interval_minutes, next_at=migration.delta_next_at, scheduled=scheduled,
        cutover_at=migration.delta_cutover_at, needs_workers=not window_available(), last_delta=last,
    )
