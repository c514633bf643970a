"""Full load, end to end: a generated Dentrix export through the whole lifecycle into the Zoho CRM simulator over
real HTTP, the runs' work units taken by real RQ worker processes on real PostgreSQL and Redis.

    .venv/bin/python bench/full_load.py --patients 1000 --latency-ms 0 [--workers 2] [--delta] [--rollback]
    .venv/bin/python bench/full_load.py --source-records 100000 --latency-ms 150 --workers 20

(`--source-records` sizes the export by records rather than patients; `--workers` at the edition's concurrency —
20 on Enterprise — keeps that many calls in flight when each takes 150 ms.)

Creates (and afterwards drops) its own PostgreSQL database `bench_full_load`; starts a private `redis-server` on a
free port (RQ workers take any job of their queue, so a shared Redis db lets another process's workers steal the
benchmark's jobs; `--redis-url` uses an existing one instead); serves the simulator from this process (the
edition's concurrency and credits, with `--latency-ms` added to every call); starts `--workers`
`manage.py rqworker migrations` processes and samples their peak RSS (VmHWM of each worker and of the work horse
it forks per job). The lifecycle runs through Autopilot; the sample and the full run (and with --delta a 1% delta,
with --rollback a rollback of everything) go through the workers while this process only waits and dispatches on
a tick, as a scheduler would.

Reports records/s (distinct source records the full run accounted for — created, updated, skipped or failed with
a reason — per second of the full run, planning included), API calls and credits per such record against the
lower bound (per destination module: ceil(records written / 100) batch calls, one call per
attachment; credits by the reference's table, 1 per 10 records of a call — forecast.rest_cost), peak RSS per
worker, the load on the machine while it ran; writes bench/results/full_load_<patients>_<latency>ms.json
(full_load_src<records>_<latency>ms.json with --source-records).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "bench_full_load"
REDIS_SERVER = "redis-server"


# --------------------------------------------------------------------------------------------------- set-up


def fresh_database(server: str, name: str) -> str:
    """Drop and create `name` on the server; its DATABASE_URL."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port, without persistence, stopped at the end."""
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 — redis-server with fixed arguments
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def django_setup(database_url: str, redis_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def patients_for(source_records: int, *, calibration: int = 2000) -> int:
    """Patients whose Dentrix export holds about `source_records` records: the records a patient brings, measured
    on a `calibration`-patient export of the benchmark's seed."""
    sys.path.insert(0, str(ROOT))
    from connectors.sources.generate import generate

    with tempfile.TemporaryDirectory(prefix="full_load_calibrate_") as tmp:
        manifest = generate("dentrix", patients=calibration, seed=2026, out=Path(tmp) / "export")
    per_patient = sum(manifest["counts"].values()) / calibration
    return max(1, round(source_records / per_patient))


# --------------------------------------------------------------------------------------------------- measuring


class CallCounter:
    """WSGI middleware in front of the simulator: every API call by kind (and module for writes), 429s apart.
    The simulator's own /__sim__/ endpoints are not counted."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    @staticmethod
    def kind(method: str, path: str) -> str:
        parts = path.strip("/").split("/")
        if path.startswith("/oauth/"):
            return "token"
        if path.startswith("/crm/bulk/"):
            return "bulk"
        if len(parts) < 3 or parts[2] in ("settings", "org", "users", "upload"):
            return "metadata" if parts[-1] != "upload" else "upload"
        module = parts[2]
        if "Attachments" in parts:
            return f"attachment:{module}"
        if method in ("POST", "PUT"):
            return f"write:{module}"
        if method == "DELETE":
            return f"delete:{module}"
        return f"read:{module}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__sim__/"):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        kind = self.kind(environ.get("REQUEST_METHOD", "GET"), path)

        def start(status: str, headers: Any, *rest: Any) -> Any:
            with self.lock:
                self.counts[kind] += 1
                if status.startswith("429"):
                    self.counts["rejected_429"] += 1
            return start_response(status, headers, *rest)

        return self.app(environ, start)  # type: ignore[no-any-return]

    def snapshot(self) -> Counter[str]:
        with self.lock:
            return Counter(self.counts)


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _status_kb(int(entry.name), "PPid") == pid:
            kids.append(int(entry.name))
    return kids


class MemorySampler:
    """Every `interval` s: each worker's VmHWM and that of its work horses (RQ forks one per job), kept as the
    peak per worker; and the 1-minute load average, to say how busy the machine was."""

    def __init__(self, pids: list[int], interval: float = 0.5) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_kb = dict.fromkeys(pids, 0)
        self.parent_kb = dict.fromkeys(pids, 0)
        self.loads: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)

    def _loop(self) -> None:
        ticks = 0
        while not self._stop.wait(self.interval):
            for pid in self.pids:
                parent = _status_kb(pid, "VmHWM")
                horses = [_status_kb(kid, "VmHWM") for kid in _children(pid)]
                self.parent_kb[pid] = max(self.parent_kb[pid], parent)
                self.peak_kb[pid] = max(self.peak_kb[pid], parent, *horses)
            ticks += 1
            if ticks % max(1, int(5 / self.interval)) == 0:
                self.loads.append(os.getloadavg()[0])

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def report(self) -> dict[str, Any]:
        return {
            "workers": [{"pid": pid, "peak_rss_mb": round(self.peak_kb[pid] / 1024, 1),
                         "worker_process_peak_rss_mb": round(self.parent_kb[pid] / 1024, 1)} for pid in self.pids],
            "load_average_1m": {"min": min(self.loads, default=None), "max": max(self.loads, default=None),
                                "mean": round(sum(self.loads) / len(self.loads), 2) if self.loads else None},
        }


class Phase:
    """Calls, 429s and credits between two points."""

    def __init__(self, counter: CallCounter, state: Any) -> None:
        self.counter, self.state = counter, state
        self.calls0 = counter.snapshot()
        self.credits0 = state.credits_total
        self.t0 = time.perf_counter()

    def end(self) -> dict[str, Any]:
        calls = self.counter.snapshot() - self.calls0
        rejected = calls.pop("rejected_429", 0)
        return {"seconds": round(time.perf_counter() - self.t0, 2), "api_calls": sum(calls.values()),
                "rejected_429": rejected, "credits": self.state.credits_total - self.credits0,
                "calls_by_kind": dict(sorted(calls.items()))}


# --------------------------------------------------------------------------------------------------- lower bound


def lower_bound(run: Any) -> dict[str, Any]:
    """The fewest calls and credits that could have written what this run wrote: per destination module,
    ceil(records / 100) batch calls (one call per attachment), credits by rest_cost — or, where the module takes
    Bulk Write and jobs cost fewer credits for that many records, the jobs (each an upload, the job, a poll and the
    result) and the read-back of what they wrote, a call per 100 records."""
    from django.db.models import Count

    from migrator.models import AuditEntry, Edition
    from migrator.services.forecast import Allowance, Load, LoadKind, forecast_load, module_supports_bulk

    migration = run.migration
    dest = migration.pair.destination
    edition = Edition.objects.get(platform=dest, slug=migration.destination_connection.edition)
    allowance = Allowance.from_limits(edition.limits, edition.features)
    Op = AuditEntry.Op
    rows = (AuditEntry.objects.filter(run=run, op__in=[Op.CREATE, Op.UPDATE, Op.ATTACH])
            .values("destination_module", "op").annotate(n=Count("id")))
    per_module: Counter[tuple[str, bool]] = Counter()
    for r in rows:
        per_module[(r["destination_module"] or "?", r["op"] == Op.ATTACH)] += r["n"]
    modules, calls, credits = {}, 0, 0
    for (module, attach), n in sorted(per_module.items()):
        f = forecast_load(Load(name=module, records=n, kind=LoadKind.ATTACHMENTS if attach else LoadKind.RECORDS,
                               bulk_capable=module_supports_bulk(dest.slug, module)), allowance)
        c = f.rest_calls
        if f.method == "bulk":
            c = f.bulk_jobs * 4 + (-(-n // allowance.bulk_read_back) if allowance.bulk_read_back else 0)
        modules[module + (" (attachments)" if attach else "")] = {"records_written": n, "calls": c,
                                                                  "credits": f.cost, "method": f.method}
        calls, credits = calls + c, credits + f.cost
    return {"calls": calls, "credits": credits, "records_written": sum(per_module.values()), "modules": modules}


def accounted(run: Any) -> dict[str, int]:
    """Source records the run accounted for: units' processed sum (a record read by two mappings counts twice)
    and distinct source records in its audit."""
    from django.db.models import Sum

    from migrator.models import AuditEntry, WorkUnit

    processed = WorkUnit.objects.filter(run=run).aggregate(n=Sum("processed"))["n"] or 0
    distinct = (AuditEntry.objects.filter(run=run).values("source_object", "source_id").distinct().count())
    return {"unit_records_processed": int(processed), "distinct_source_records": distinct}


# --------------------------------------------------------------------------------------------------- the run


def _progress_printer(label: str) -> Callable[[Any], None]:
    from django.db.models import Sum

    last = [0.0]

    def show(run: Any) -> None:
        if time.monotonic() - last[0] < 15:
            return
        last[0] = time.monotonic()
        totals = run.work_units.aggregate(done=Sum("processed"), total=Sum("total"))
        print(f"  {label}: {totals['done'] or 0}/{totals['total'] or 0} records, run {run.state}",
              file=sys.stderr, flush=True)

    return show


def timed_run(pilot: Any, kind: str, workers: Any, counter: CallCounter, state: Any) -> tuple[Any, dict[str, Any]]:
    from migrator.local_workers import run_wait
    from migrator.models import Run
    from migrator.services.runs import run_start

    phase = Phase(counter, state)
    run = run_start(migration=pilot.migration, kind=kind, user=pilot.user)
    planned = time.perf_counter() - phase.t0
    run = run_wait(run_id=run.pk, workers=workers, timeout=6 * 3600, tick=2.0, on_tick=_progress_printer(kind))
    out = phase.end()
    pilot.migration.refresh_from_db()
    if run.state != Run.State.COMPLETED:
        raise RuntimeError(f"{kind} run {run.pk} ended {run.state}: {run.error}")
    out["planning_seconds"] = round(planned, 2)
    out["run_seconds"] = round((run.finished_at - run.started_at).total_seconds(), 2)
    out["units"] = run.work_units.count()
    return run, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--source-records", type=int,
                        help="size the export by source records instead of patients: as many patients as give about "
                             "this many records (the ratio measured on a 2,000-patient export of the same seed)")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every simulator call (0)")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes (2)")
    parser.add_argument("--edition", default="enterprise", help="Zoho edition of the simulator (enterprise)")
    parser.add_argument("--users", type=int, default=200,
                        help="licensed users: sets the daily credits, sized so the budget never pauses the load (200)")
    parser.add_argument("--delta", action="store_true", help="then change 1%% of the patients and run a delta")
    parser.add_argument("--rollback", action="store_true", help="then roll the whole migration back")
    parser.add_argument("--pg", default=PG_SERVER, help=f"PostgreSQL server ({PG_SERVER})")
    parser.add_argument("--db-name", default=DB_NAME, help=f"database created and dropped ({DB_NAME})")
    parser.add_argument("--redis-url", help="an existing Redis for queues and the budget (default: a private "
                        "redis-server started for the run)")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--out", type=Path, help="result file (bench/results/full_load_<patients>_<latency>ms.json)")
    args = parser.parse_args(argv)
    command = "python bench/full_load.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    size = f"{args.patients}"
    if args.source_records:
        args.patients = patients_for(args.source_records)
        size = f"src{args.source_records}"
        print(f"{args.patients} patients for about {args.source_records} source records", file=sys.stderr, flush=True)
    out = args.out or RESULTS / f"full_load_{size}_{args.latency_ms}ms.json"

    load_before = os.getloadavg()

    def write(result: dict[str, Any]) -> dict[str, Any]:
        result = {"bench": "full_load", "command": command,
                  "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
                  "machine": {"platform": platform.platform(), "python": platform.python_version(),
                              "cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in load_before],
                              "load_average_after": [round(x, 2) for x in os.getloadavg()]},
                  **result}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return result

    with ExitStack() as stack:
        redis_url = args.redis_url or stack.enter_context(private_redis())
        django_setup(fresh_database(args.pg, args.db_name), redis_url)
        try:
            result = write(bench(args, checkpoint=write))
        finally:
            from django.db import connections

            connections.close_all()
            if not args.keep_db:
                drop_database(args.pg, args.db_name)
    print(json.dumps({k: result[k] for k in ("patients", "latency_ms", "source_records", "records_per_s",
                                              "calls_per_record", "credits_per_record")}))
    print(f"written to {out}")
    return 0


def bench(args: argparse.Namespace, checkpoint: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """The measurements; after the full run and after the delta, `checkpoint` gets them as they stand (with the
    phases still to come under "phases_pending"), so a long benchmark stopped in a later phase keeps its full run."""
    import django_rq
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from connectors.simulators.common import Faults, start_server
    from connectors.simulators.zoho.app import ZohoSimulator
    from connectors.simulators.zoho.state import SimConfig
    from connectors.sources.generate import generate
    from migrator.local_workers import local_workers
    from migrator.services.autopilot import Autopilot, export_touch
    from migrator.services.catalog import catalog_load
    from migrator.services.clients import migration_create, pair_by_slug

    catalog_load()
    django_rq.get_queue("migrations").empty()   # jobs left by an interrupted earlier run name rows that are gone
    with tempfile.TemporaryDirectory(prefix="full_load_") as tmp:
        export = Path(tmp) / "export"
        started = time.perf_counter()
        manifest = generate("dentrix", patients=args.patients, seed=2026, out=export)
        generate_seconds = time.perf_counter() - started
        counts = dict(manifest["counts"])
        source_records = sum(counts.values())
        print(f"generated {args.patients} patients: {source_records} source records in {generate_seconds:.0f} s",
              file=sys.stderr, flush=True)

        sim = ZohoSimulator(SimConfig(edition=args.edition, users=args.users),
                            faults=Faults(latency_ms=args.latency_ms))
        for user, crm in zip(sim.state.users[1:], manifest.get("crm_users", []), strict=False):
            user.update(email=crm["crm_email"], full_name=crm["name"])
        counter = CallCounter(sim)
        handle = start_server(counter)
        cfg = sim.state.config
        try:
            migration = migration_create(
                client_name=f"Bench full load {args.patients}", pair=pair_by_slug("dentrix:zoho-crm"),
                source_config={"path": str(export)},
                destination_config={"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url,
                                    "budget_key": f"bench-full-load-{uuid.uuid4().hex}"},
                destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                                     "refresh_token": cfg.refresh_token},
                edition=args.edition, users=args.users, sample_size=100)
            ops = get_user_model().objects.create_user("bench-ops", is_staff=True)
            pilot = Autopilot(migration=migration, user=ops, say=lambda line: print(line, file=sys.stderr),
                              threshold=0.9)
            setup = Phase(counter, sim.state)
            pilot.discover(routing_as_of=date.fromisoformat(str(manifest["now"])[:10]))
            pilot.map()
            pilot.owners()
            pilot.schema()
            phases: dict[str, Any] = {"setup": setup.end()}
            log_dir = Path(settings.VAR_DIR) / "bench" / f"full_load_{args.patients}"
            with local_workers(count=args.workers, log_dir=log_dir) as workers, \
                    MemorySampler(workers.pids) as memory:
                _, phases["sample"] = timed_run(pilot, "sample", workers, counter, sim.state)
                pilot.approve()
                memory.loads.clear()
                full, phases["full"] = timed_run(pilot, "full", workers, counter, sim.state)
                full_loads = list(memory.loads)
                phases["full"]["lower_bound"] = lower_bound(full)
                phases["full"] |= accounted(full)
                pending = [name for name, wanted in (("delta", args.delta), ("rollback", args.rollback)) if wanted]

                def measured() -> dict[str, Any]:
                    memory_report = memory.report()
                    memory_report["load_average_1m"] = {"during_full_run": _summary(full_loads),
                                                        "whole_bench": memory_report["load_average_1m"]}
                    destination = {module: len(rows) for module, rows in sim.state.records.items() if rows}
                    return _result(args, sim.state, counts, generate_seconds, phases, memory_report, destination,
                                   pending=[name for name in pending if name not in phases])

                checkpoint(measured())
                if args.delta:
                    changed = export_touch(export, file_name="v_patient.csv", id_column="patient_id",
                                           column="address_line1", share=0.01)
                    delta, phases["delta"] = timed_run(pilot, "delta", workers, counter, sim.state)
                    phases["delta"] |= {"patients_changed": changed, "lower_bound": lower_bound(delta)}
                    checkpoint(measured())
                if args.rollback:
                    phases["rollback"] = rollback(pilot, workers, counter, sim.state)
                return measured()
        finally:
            handle.stop()


def _result(args: argparse.Namespace, state: Any, counts: dict[str, int], generate_seconds: float,
            phases: dict[str, Any], memory_report: dict[str, Any], destination: dict[str, int], *,
            pending: list[str]) -> dict[str, Any]:
    f = phases["full"]
    source_records = sum(counts.values())
    records = f["distinct_source_records"]     # the denominator of every "per record" figure
    return {
        "patients": args.patients, "source_records_target": args.source_records,
        "latency_ms": args.latency_ms, "workers": args.workers,
        "edition": args.edition, "users": args.users, "concurrency": state.concurrency,
        "max_calls_in_flight": state.max_in_flight,
        "source_records": source_records, "source_counts": counts, "generate_seconds": round(generate_seconds, 1),
        "records_per_s": round(records / f["seconds"], 1),
        "unit_records_per_s": round(f["unit_records_processed"] / f["seconds"], 1),
        "calls_per_record": round(f["api_calls"] / records, 4),
        "credits_per_record": round(f["credits"] / records, 4),
        "lower_bound_calls_per_record": round(f["lower_bound"]["calls"] / records, 4),
        "lower_bound_credits_per_record": round(f["lower_bound"]["credits"] / records, 4),
        "calls_over_lower_bound": round(f["api_calls"] / f["lower_bound"]["calls"], 2)
        if f["lower_bound"]["calls"] else None,
        "credits_over_lower_bound": round(f["credits"] / f["lower_bound"]["credits"], 2)
        if f["lower_bound"]["credits"] else None,
        "peak_rss_mb_per_worker": [w["peak_rss_mb"] for w in memory_report["workers"]],
        "memory": memory_report, "phases": phases, "destination_records_at_end": destination,
        **({"phases_pending": pending} if pending else {}),
    }


def _summary(values: list[float]) -> dict[str, float | None]:
    return {"min": min(values, default=None), "max": max(values, default=None),
            "mean": round(sum(values) / len(values), 2) if values else None}


def rollback(pilot: Any, workers: Any, counter: CallCounter, state: Any) -> dict[str, Any]:
    from migrator.local_workers import run_wait
    from migrator.models import Run
    from migrator.services.rollback import rollback_counts, rollback_start

    phase = Phase(counter, state)
    run = rollback_start(migration=pilot.migration, user=pilot.user)
    run = run_wait(run_id=run.pk, workers=workers, timeout=6 * 3600, on_tick=_progress_printer("rollback"))
    out = phase.end()
    left = sum(len(records) for records in state.records.values())
    out |= {"state": run.state, "destination_records_left": left, **rollback_counts(run=run)}
    if run.state != Run.State.COMPLETED:
        raise RuntimeError(f"rollback run {run.pk} ended {run.state}: {run.error}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
