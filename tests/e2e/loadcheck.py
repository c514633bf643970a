"""What the chaos and fault tests share: a Dentrix → Zoho migration taken through the real lifecycle, real RQ worker
processes (`manage.py rqworker migrations`) that a test can SIGKILL, and the checks that a run's result is the same
as an undisturbed one: the destination's content keyed by our source ids, no duplicates, every source record
accounted once, no checkpoint past a failed record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from connectors.simulators.common import Faults, start_server
from connectors.simulators.zoho.app import ZohoSimulator
from connectors.simulators.zoho.state import SimConfig
from migrator.models import AuditEntry, Migration, RecordLink, Run, WorkUnit
from migrator.services.autopilot import Autopilot
from migrator.services.clients import migration_create, pair_by_slug
from migrator.services.runs import run_start

ROOT = Path(settings.BASE_DIR)
# Stamped by the destination on every write: never part of "the same content".
VOLATILE = {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By", "Last_Activity_Time",
            "$file_id", "$state", "$editable", "$link_url", "$sharing_permission", "$attachment_type"}
FINISHED = (Run.State.COMPLETED, Run.State.FAILED, Run.State.CANCELLED, Run.State.PAUSED)


# --------------------------------------------------------------------------------------------------- simulator


@contextmanager
def served_zoho(faults: Faults | None = None) -> Iterator[tuple[ZohoSimulator, str]]:
    sim = ZohoSimulator(SimConfig(edition="enterprise", users=20), faults=faults)
    handle = start_server(sim)
    try:
        yield sim, handle.url
    finally:
        handle.stop()


# --------------------------------------------------------------------------------------------------- workers


def database_url() -> str:
    """The test database pytest-django created, for the worker processes (data must be committed: transaction=True)."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("worker processes share the test database: these tests need PostgreSQL (set DATABASE_URL)")
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db.get("PASSWORD") else f"{db['USER']}@"
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Workers:
    """`manage.py rqworker migrations` processes, each in its own process group so a kill takes the work horse
    (the forked child running the job) down with it, as a machine dying would."""

    log_dir: Path
    stuck_after: int
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started: list[float] = field(default_factory=list)    # wall time each worker started
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": database_url(),
               "REDIS_URL": settings.REDIS_URL, "WORK_UNIT_STUCK_AFTER": str(self.stuck_after),
               "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}
        log = (self.log_dir / f"worker-{len(self.processes) + 1}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(  # noqa: S603 — our own manage.py with fixed arguments
            [sys.executable, str(ROOT / "manage.py"), "rqworker", "migrations"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(proc)
        self.started.append(time.time())
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its work horse, as a machine dying would (RQ puts the horse, the forked child
        that runs the job, in a process group of its own)."""
        for pid in [*_children(proc.pid), proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def stop(self) -> None:
        for proc in self.alive():
            self.kill(proc)
        for log in self._logs:
            log.close()

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}"
                         for p in sorted(self.log_dir.glob("worker-*.log")))


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def rq_workers(log_dir: Path, *, stuck_after: int) -> Iterator[Workers]:
    if not settings.REDIS_URL:
        pytest.fail("these tests run real RQ worker processes: set REDIS_URL")
    queue = django_rq.get_queue("migrations")
    queue.empty()   # jobs left by an earlier test point at rows that no longer exist
    log_dir.mkdir(parents=True, exist_ok=True)
    workers = Workers(log_dir=log_dir, stuck_after=stuck_after)
    try:
        yield workers
    finally:
        workers.stop()
        queue.empty()


def wait_for(what: str, check: Callable[[], bool], *, timeout: float, workers: Workers, run: Run | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            units = ""
            if run is not None:
                run.refresh_from_db()
                rows = WorkUnit.objects.filter(run=run).order_by("level", "pk").values_list(
                    "pk", "source_object", "level", "state", "worker", "processed", "total", "not_before",
                    "in_flight_since", "last_error")
                units = f"run {run.state} {run.error}\n" + "\n".join(map(str, rows))
            pytest.fail(f"{what}: not within {timeout:.0f} s\n{units}\n{workers.log_tail()}")
        time.sleep(0.1)


def aware(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def run_ended(run: Run) -> Callable[[], bool]:
    def check() -> bool:
        run.refresh_from_db()
        return run.state in FINISHED
    return check


def migration_at(migration: Migration, state: str) -> Callable[[], bool]:
    def check() -> bool:
        migration.refresh_from_db()
        return bool(migration.state == state)
    return check


# --------------------------------------------------------------------------------------------------- the migration


def migration_to_loading(*, sim: ZohoSimulator, url: str, export: Path, manifest: dict[str, Any], workers: Workers,
                         destination: dict[str, Any] | None = None, faults: dict[str, Any] | None = None,
                         ) -> Migration:
    """Discover, map, owners, schema, a sample run (by the workers), approve: ready for the full run. `faults`
    are switched on in the simulator from the sample run on."""
    cfg = sim.state.config
    migration = migration_create(
        client_name=f"Chaos {uuid.uuid4().hex[:8]}", pair=pair_by_slug("dentrix:zoho-crm"),
        source_config={"path": str(export)},
        # A budget of its own: slots leased by killed workers, credits of earlier sessions stay elsewhere.
        destination_config={"api_base": url, "accounts_url": url, "content_url": url, "backoff_base": 0.05,
                            "backoff_cap": 0.5, "budget_key": f"chaos-{uuid.uuid4().hex}", **(destination or {})},
        destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                             "refresh_token": cfg.refresh_token},
        edition="enterprise", users=20, sample_size=10,
    )
    staff, _ = get_user_model().objects.get_or_create(username="chaos-ops", defaults={"is_staff": True})
    pilot = Autopilot(migration=migration, user=staff, say=lambda _line: None, threshold=0.9)
    pilot.discover(routing_as_of=date.fromisoformat(manifest["now"][:10]))
    pilot.map()
    pilot.owners()
    pilot.schema()
    sim.faults.update(faults or {})
    sample = run_start(migration=migration, kind="sample", user=staff)
    wait_for("the sample run", run_ended(sample), timeout=120, workers=workers, run=sample)
    assert sample.state == Run.State.COMPLETED, sample.error
    wait_for("the migration at sample loaded", migration_at(migration, Migration.State.SAMPLE_LOADED), timeout=30,
             workers=workers)
    pilot.approve()
    return migration


@dataclass(frozen=True)
class Outcome:
    """What a full run left: the CRM's content and counts, and the run's audit outcomes record by record."""

    content: dict[str, Any]
    counts: dict[str, int]
    audit: dict[tuple[str, str], tuple[tuple[str, str, str], ...]]


_UNDISTURBED: dict[tuple[int, int], Outcome] = {}


def undisturbed(*, patients: int, seed: int, export: Path, manifest: dict[str, Any], workers: Workers) -> Outcome:
    """A full run of the export into its own CRM with nothing in the way: what a disturbed run must equal. The
    same export always loads the same way, so it is made once per test session."""
    key = (patients, seed)
    if key not in _UNDISTURBED:
        with served_zoho() as (sim, url):
            migration = migration_to_loading(sim=sim, url=url, export=export, manifest=manifest, workers=workers)
            run = run_start(migration=migration, kind="full")
            wait_for("the undisturbed full run", run_ended(run), timeout=300, workers=workers, run=run)
            assert run.state == Run.State.COMPLETED, run.error
            assert_no_duplicates(sim, migration)
            assert_accounted_once(run)
            assert_every_source_record_has_an_outcome(run)
            _UNDISTURBED[key] = Outcome(destination_content(sim), counts(sim), outcomes(run))
    return _UNDISTURBED[key]


# --------------------------------------------------------------------------------------------------- the checks


def destination_content(sim: ZohoSimulator) -> dict[str, Any]:
    """Everything in the simulated CRM, keyed so two loads of one export compare equal whatever ids and order the
    CRM gave: records by (module, Source_System_ID), lookups as the key of their target, notes and attachments as
    sorted lists per parent."""
    state = sim.state
    keys: dict[str, Any] = {}
    for module, records in state.records.items():
        for rid, rec in records.items():
            keys[rid] = (module, rec.get("Source_System_ID") or f"?{rid}")
    keys.update({u["id"]: ("user", u["email"]) for u in state.users})

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("id") in keys:
                return keys[value["id"]]
            return {k: norm(v) for k, v in sorted(value.items()) if k not in VOLATILE and k != "name"}
        if isinstance(value, list):
            return [norm(v) for v in value]
        return value

    content: dict[str, Any] = {}
    for module, records in state.records.items():
        if not records:
            continue
        if module == "Notes":
            by_parent: dict[Any, list[Any]] = {}
            for rec in records.values():
                clean = {k: norm(v) for k, v in rec.items() if k not in VOLATILE and k != "Parent_Id"}
                by_parent.setdefault(norm(rec.get("Parent_Id")), []).append(clean)
            content[module] = {str(p): sorted(map(repr, notes)) for p, notes in by_parent.items()}
            continue
        content[module] = {rec.get("Source_System_ID") or f"?{rid}":
                           {k: norm(v) for k, v in rec.items() if k not in VOLATILE}
                           for rid, rec in records.items()}
    files: dict[str, list[tuple[str, str]]] = {}
    for att in state.attachments.values():
        files.setdefault(str(norm(att["Parent_Id"])), []).append((att["File_Name"], att["Size"]))
    content["Attachments"] = {p: sorted(f) for p, f in files.items()}
    return content


def counts(sim: ZohoSimulator) -> dict[str, int]:
    return {**{m: len(r) for m, r in sim.state.records.items() if r}, "Attachments": len(sim.state.attachments)}


def assert_no_duplicates(sim: ZohoSimulator, migration: Migration) -> None:
    """One CRM record per source id per module, one crosswalk row per CRM record, every link resolved."""
    for module, records in sim.state.records.items():
        ids = Counter(r.get("Source_System_ID") for r in records.values() if r.get("Source_System_ID"))
        assert not [k for k, n in ids.items() if n > 1], f"duplicate {module} records"
    links = RecordLink.objects.filter(migration=migration).exclude(role=RecordLink.Role.MERGE)
    assert not links.filter(destination_id="").exists(), "an intent was never resolved"
    written = Counter(links.values_list("destination_module", "destination_id"))
    assert not [k for k, n in written.items() if n > 1], "two crosswalk rows point at one CRM record"
    for module, records in sim.state.records.items():
        if module == "Attachments":
            continue   # files live in sim.state.attachments, checked below
        linked = {d for m, d in written if m == module}
        assert set(records) == linked, f"{module}: CRM records and crosswalk rows differ"
    assert set(sim.state.attachments) == {d for m, d in written if m == "Attachments"}


def outcomes(run: Run) -> dict[tuple[str, str], tuple[tuple[str, str, str], ...]]:
    """(source object, source id) → the run's audit outcomes (op, code, module), relation passes included: what
    two full loads of one export must agree on, record by record."""
    found: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    rows = AuditEntry.objects.filter(run=run).values_list("source_object", "source_id", "op", "error_code",
                                                          "destination_module")
    for obj, sid, op, code, module in rows:
        found.setdefault((obj, sid), []).append((op, code, module))
    return {key: tuple(sorted(ops)) for key, ops in found.items()}


def assert_accounted_once(run: Run) -> None:
    """Every unit read its whole slice, and every record it read has one outcome per mapping in the run's audit,
    however often its batch was started. Notes about one field of a record sit beside its outcome: a relation the
    CRM cannot hold (LOOKUP_IN_OTHER_MODULE), and the relation pass's own lines (RELATION_LINKED, or a refusal
    naming the CRM record it could not link)."""
    for unit in WorkUnit.objects.filter(run=run):
        assert unit.state == WorkUnit.State.DONE, (unit.source_object, unit.state, unit.last_error)
        if unit.slice_end != "relations":
            assert unit.processed == unit.total, (unit.source_object, unit.processed, unit.total)
    main_pass = (AuditEntry.objects.filter(run=run).exclude(error_code="RELATION_LINKED")
                 .exclude(op=AuditEntry.Op.SKIP, error_code="LOOKUP_IN_OTHER_MODULE")
                 .exclude(op=AuditEntry.Op.FAIL, destination_id__gt=""))
    seen = Counter(main_pass.values_list("source_object", "source_id", "object_mapping_id"))
    twice = [key for key, n in seen.items() if n > 1]
    if twice:
        obj, sid, _m = twice[0]
        rows = AuditEntry.objects.filter(run=run, source_object=obj, source_id=sid).values_list(
            "op", "destination_module", "error_code", "error_field", "object_mapping_id")
        pytest.fail(f"{len(twice)} records accounted more than once, e.g. {obj} {sid}: {list(rows)}")


def assert_every_source_record_has_an_outcome(run: Run) -> None:
    """Nothing lost, and no checkpoint passed a record that failed: every record of every object the run loaded
    ends in the run's audit as created, updated, skipped or failed, with a reason."""
    from connectors.base import SourceIssue, SourceRecord
    from migrator.services.connections import source_connector

    audited = set(outcomes(run))
    source = source_connector(run.migration.source_connection)
    try:
        for obj in set(WorkUnit.objects.filter(run=run).values_list("source_object", flat=True)):
            for item in source.iter_records(obj):
                if isinstance(item, SourceRecord):
                    assert (obj, item.source_id) in audited, f"{obj} record {item.source_id}: no outcome"
                elif isinstance(item, SourceIssue) and item.record_id:
                    assert (obj, item.record_id) in audited, f"{obj} row {item.record_id}: no outcome"
    finally:
        source.close()
