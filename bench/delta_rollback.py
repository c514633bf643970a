"""Delta cost against full cost, and rollback time, on the Zoho simulator over real HTTP.

    .venv/bin/python bench/delta_rollback.py --patients 10000 [100000] [--share 0.01] [--out bench/results/x.json]

Per patient count: generate a Dentrix export; take the migration through the real lifecycle (discover, map — the
patients' main routing only: active → Contacts, lapsed → Leads —, owners, schema, sample, approve); the full load;
change `share` of the patients in the export (CSV rows rewritten) and run the delta; then roll the whole migration
back. Calls are counted by a request log in front of the simulator (every request that reaches it), credits by the
simulator's own counter, seconds by the wall clock. Runs are driven in this process (no Redis, no RQ workers: the
embedded default), so the figures are the engine's, not a queue's. Prints one JSON line per measurement and writes
them all to --out. Uses DATABASE_URL (the default SQLite file otherwise)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS: list[dict[str, Any]] = []


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["REDIS_URL"] = ""          # jobs run in this process: the measurement is the engine, not a queue
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _emit(measure: str, **values: Any) -> None:
    row = {"bench": "delta_rollback", "measure": measure, **values}
    RESULTS.append(row)
    print(json.dumps(row), flush=True)


class RequestLog:
    """WSGI middleware: every request that reaches the simulator, as (method, path)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.calls.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)

    def since(self, mark: int) -> Counter[str]:
        with self._lock:
            calls = self.calls[mark:]
        kinds: Counter[str] = Counter()
        for method, path in calls:
            if path.startswith("/oauth/"):
                kinds["token"] += 1
            elif path.startswith(("/crm/v8/settings/", "/crm/v8/users", "/crm/v8/org")):
                kinds["metadata"] += 1
            else:
                kinds["write" if method in ("POST", "PUT", "DELETE") else "read"] += 1
        kinds["total"] = len(calls)
        return kinds


def _measured(log: RequestLog, sim: Any, action: Any) -> tuple[Any, dict[str, Any]]:
    mark, credits, started = len(log.calls), sim.state.credits_total, time.perf_counter()
    result = action()
    seconds = time.perf_counter() - started
    return result, {"seconds": round(seconds, 2), "credits": sim.state.credits_total - credits,
                    "calls": dict(log.since(mark))}


def bench_one(patients: int, share: float, work: Path) -> bool:
    from django.contrib.auth import get_user_model

    from connectors.simulators.common import start_server
    from connectors.simulators.zoho.app import ZohoSimulator
    from connectors.simulators.zoho.state import SimConfig
    from connectors.sources.generate import generate
    from migrator.models import AuditEntry, ObjectMapping, ReviewStatus, Run
    from migrator.services.autopilot import Autopilot, export_touch
    from migrator.services.clients import migration_create, pair_by_slug
    from migrator.services.mapping import mapping_reject
    from migrator.services.rollback import rollback_counts, rollback_start
    from migrator.services.runs import run_drive

    out = work / f"dentrix-{patients}"
    started = time.perf_counter()
    manifest = generate("dentrix", patients=patients, seed=29, out=out)
    _emit("generate", patients=patients, seconds=round(time.perf_counter() - started, 2))
    # Ultimate with 100 users: the credit allowance is not what is measured.
    sim = ZohoSimulator(SimConfig(edition="ultimate", users=100))
    log = RequestLog(sim)
    handle = start_server(log)
    try:
        cfg = sim.state.config
        migration = migration_create(
            client_name=f"Bench delta {uuid.uuid4().hex[:8]}", pair=pair_by_slug("dentrix:zoho-crm"),
            source_config={"path": str(out)},
            destination_config={"api_base": handle.url, "accounts_url": handle.url, "content_url": handle.url,
                                "redis_url": None, "budget_key": f"bench-delta-{uuid.uuid4().hex}"},
            destination_secrets={"client_id": cfg.client_id, "client_secret": cfg.client_secret,
                                 "refresh_token": cfg.refresh_token},
            edition="ultimate", users=100, sample_size=20)
        user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
        pilot = Autopilot(migration=migration, user=user, say=lambda _line: None)
        started = time.perf_counter()
        pilot.discover(routing_as_of=date.fromisoformat(str(manifest["now"])[:10]))
        pilot.map()
        main_rule = "no_treatment_18_months"
        others = [m for m in ObjectMapping.objects.filter(migration=migration, status=ReviewStatus.CONFIRMED)
                  if m.source_object != "patient" or (m.route or {}).get("rule") != main_rule]
        mapping_reject(user=user, object_mappings=others)
        pilot.owners()
        pilot.schema()
        pilot.run("sample")
        pilot.approve()
        _emit("prepare", patients=patients, seconds=round(time.perf_counter() - started, 2))

        full, cost = _measured(log, sim, lambda: pilot.run("full"))
        written = AuditEntry.objects.filter(run=full, op__in=["create", "update"]).count()
        _emit("full", patients=patients, state=full.state, records_written=written, **cost)

        changed = export_touch(out, file_name="v_patient.csv", id_column="patient_id", column="address_line1",
                               share=share)
        delta, delta_cost = _measured(log, sim, lambda: pilot.run("delta"))
        updated = AuditEntry.objects.filter(run=delta, op="update").count()
        _emit("delta", patients=patients, changed_in_source=changed, records_updated=updated, state=delta.state,
              **delta_cost, vs_full={k: round(delta_cost[k] / cost[k], 4) if cost[k] else None
                                     for k in ("seconds", "credits")}
              | {"calls": round(delta_cost["calls"]["total"] / cost["calls"]["total"], 4)})

        def roll_back() -> Run:
            run = rollback_start(migration=migration, user=user)
            return run_drive(run_id=run.pk, max_wait=7200)

        rollback, rb_cost = _measured(log, sim, roll_back)
        counts = rollback_counts(run=rollback)
        left = sum(len(v) for v in sim.state.records.values())
        deleted = counts.get("deleted", 0)
        _emit("rollback", patients=patients, state=rollback.state, destination_records_left=left,
              records_per_second=round(deleted / rb_cost["seconds"], 1) if rb_cost["seconds"] else None,
              **counts, **rb_cost)
        return bool(full.state == delta.state == rollback.state == Run.State.COMPLETED and left == 0)
    finally:
        handle.stop()
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[10_000])
    parser.add_argument("--share", type=float, default=0.01, help="share of patients changed before the delta")
    parser.add_argument("--out", type=Path, help="write the measurements here as JSON")
    parser.add_argument("--note", default="", help="kept with the results (e.g. what else loaded the machine)")
    args = parser.parse_args(argv)
    _setup()
    from migrator.services.catalog import catalog_load

    catalog_load()
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-delta-") as tmp:
        for n in args.patients:
            ok = bench_one(n, args.share, Path(tmp)) and ok
    if args.out:
        args.out.write_text(json.dumps({
            "machine": platform.platform(), "python": platform.python_version(),
            "command": " ".join(sys.argv[1:]), "note": args.note, "results": RESULTS}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
