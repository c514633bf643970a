"""How long `NO_SERVE=1 make demo` takes, on the embedded default (SQLite, no Redis: runs in-process) and with Redis
(REDIS_URL: the demo starts 2 RQ worker processes for the runs and stops them).

    .venv/bin/python bench/demo_time.py [--redis-url URL] [--modes embedded redis]

Each mode runs in a fresh VAR_DIR (a new SQLite file, as on a new machine: migrations included). Wall time, the CPU
time of the demo and every process it started (workers included), and the load average before and after are
written to bench/results/demo.json; the target is under five minutes on a 2-core machine. The Redis mode uses a
private redis-server on a free port unless --redis-url is given (workers of any other process on a shared Redis db
would take the demo's jobs)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from full_load import private_redis  # bench/ is on sys.path when this script runs

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "demo.json"
LIMIT_SECONDS = 300


def measure(mode: str, redis_url: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"demo_{mode}_") as var:
        env = {**os.environ, "NO_SERVE": "1", "VAR_DIR": var, "DATABASE_URL": "",
               "REDIS_URL": redis_url if mode == "redis" else ""}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run(["make", "demo"], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S607
                              check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    said = re.search(r"Demo finished in (\d+) s", done.stdout)
    return {
        "mode": mode, "ok": done.returncode == 0 and said is not None, "wall_seconds": round(wall, 1),
        "under_five_minutes": wall < LIMIT_SECONDS,
        "demo_says_seconds": int(said.group(1)) if said else None,
        "cpu_seconds": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1),
        "workers_started": "started 2 RQ workers" in done.stdout,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "stderr_tail": done.stderr[-2000:] if done.returncode else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="an existing Redis (default: a private redis-server)")
    parser.add_argument("--modes", nargs="+", default=["embedded", "redis"], choices=["embedded", "redis"])
    args = parser.parse_args()
    rows = []
    with ExitStack() as stack:
        redis_url = args.redis_url or ("redis" in args.modes and stack.enter_context(private_redis())) or ""
        for mode in args.modes:
            row = measure(mode, redis_url)
            print(json.dumps({k: v for k, v in row.items() if k != "stderr_tail"}), flush=True)
            rows.append(row)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps({
        "bench": "demo", "command": "python bench/demo_time.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "limit_seconds": LIMIT_SECONDS, "results": rows}, indent=2) + "\n", encoding="utf-8")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
