"""Regenerate docs/benchmarks.md from bench/results/*.json: one table per benchmark, with the exact command that
produced each row and the load the machine was under.

    .venv/bin/python bench/summarise.py

Only figures found in the result files are printed; a projection is computed from a measured rate and labelled so."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
PY = ".venv/bin/python"


def _load(name: str) -> Any:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    return ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(cell(v) for v in row) + " |" for row in rows), ""]


def _load_text(machine: dict[str, Any] | None, during: dict[str, Any] | None = None) -> str:
    if not machine:
        return ""
    parts = [f"{machine.get('cpus', '?')} CPUs"]
    if during and during.get("mean") is not None:
        parts.append(f"load average {during['min']:.1f}–{during['max']:.1f} (mean {during['mean']:.1f}) during the run")
    elif machine.get("load_average_before"):
        parts.append(f"load average {machine['load_average_before'][0]:.1f} at the start")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------------- sections


def source_read() -> list[str]:
    out = ["## Source read", "",
           "Generate a whole export, then read every record through the source connector (each in a child process; "
           "peak RSS is the child's ru_maxrss).", ""]
    for name in ("source_read.json", "source_read_200k.json"):
        data = _load(name)
        if not data:
            continue
        if data.get("command"):
            command = f"bench/source_read.py {data['command']}"
        else:
            patients = sorted({r["patients"] for r in data["results"]})
            systems = sorted({r["system"] for r in data["results"]})
            extra = "" if name == "source_read.json" else f" --out bench/results/{name}"
            command = f"bench/source_read.py --patients {' '.join(map(str, patients))} --systems {' '.join(systems)}"\
                      f"{extra}"
        out += [f"`{PY} {command}` → `bench/results/{name}` ({data.get('machine', '')})", ""]
        out += _table(["system", "patients", "source records", "generate rec/s", "read rec/s", "read peak RSS MB"],
                      [[r["system"], r["patients"], r["read"]["records"], _rate(r, "generate"), _rate(r, "read"),
                        round(r["read"]["peak_rss_mb"], 1)] for r in data["results"]])
    return out


def _rate(row: dict[str, Any], step: str) -> Any:
    return row.get(f"{step}_records_per_s") or row[step].get("records_per_s")


def mapping_accuracy() -> list[str]:
    data = _load("mapping_accuracy.json")
    if not data:
        return []
    out = ["## Mapping accuracy", "",
           f"`{PY} bench/mapping_accuracy.py --split {data['split']}` → `bench/results/mapping_accuracy.json`: the "
           "rule-based suggester against the labelled fields of tests/data/mapping_eval/.", ""]
    rows = [[name, s["items"], s["top1_accuracy"], s["precision_at_0_9"], s["coverage_at_0_9"], s["errors_at_0_9"]]
            for name, s in [*data["by_system"].items(), ("**overall**", data["overall"]),
                            *((f"[{k}]", v) for k, v in data["by_split"].items())]]
    return out + _table(["system", "items", "top-1 accuracy", "precision ≥ 0.9", "coverage ≥ 0.9", "errors ≥ 0.9"],
                        rows)


def _full_loads() -> list[dict[str, Any]]:
    rows = [json.loads(p.read_text(encoding="utf-8")) | {"file": p.name} for p in RESULTS.glob("full_load_*.json")]
    return sorted(rows, key=lambda d: (d["latency_ms"], d["source_records"]))


def _per_record(d: dict[str, Any]) -> dict[str, Any]:
    """Figures per distinct source record the full run accounted for (recomputed from the phases)."""
    f = d["phases"]["full"]
    n = f["distinct_source_records"]
    lb = f["lower_bound"]
    return {"n": n, "rate": n / f["seconds"], "calls": f["api_calls"] / n, "credits": f["credits"] / n,
            "lb_calls": lb["calls"] / n, "lb_credits": lb["credits"] / n,
            "calls_x": f["api_calls"] / lb["calls"] if lb["calls"] else None,
            "credits_x": f["credits"] / lb["credits"] if lb["credits"] else None}


def full_load() -> list[str]:
    loads = _full_loads()
    out = ["## Full load (end to end)", "",
           "A generated Dentrix export through the whole lifecycle (discover, map, owners, schema, sample, approve, "
           "full) into the Zoho CRM simulator over HTTP on 127.0.0.1, on a fresh PostgreSQL database, the work units "
           "taken by real `manage.py rqworker migrations` processes over real Redis. *records/s*: distinct source "
           "records the full run accounted for (created, updated, skipped or failed with a reason) per second of the "
           "full run, planning included. *Lower bound*: per destination module ceil(records written / 100) batch "
           "calls (one call per attachment), credits by the reference's table (1 credit per 10 records of a call) — "
           "or, where the module takes Zoho Bulk Write and jobs cost fewer credits for that many records, 4 calls "
           "and 503 credits a job of up to 25,000 plus a call per 100 records reading back what they wrote. "
           "*Peak RSS*: VmHWM of each worker process and of the work horses it forks, sampled every 0.5 s.", ""]
    if not loads:
        return [*out, "No result yet: run the commands below.", ""]
    rows = []
    for d in loads:
        p = _per_record(d)
        f = d["phases"]["full"]
        rows.append([d["patients"], d["source_records"], p["n"], f"{d['latency_ms']} ms", d["workers"],
                     round(f["seconds"], 1), round(p["rate"], 1),
                     f"{p['calls']:.4f} / {p['lb_calls']:.4f} ({p['calls_x']:.2f}×)" if p["calls_x"] else "–",
                     f"{p['credits']:.4f} / {p['lb_credits']:.4f} ({p['credits_x']:.2f}×)" if p["credits_x"] else "–",
                     f"{d['max_calls_in_flight']} / {d['concurrency']}",
                     " / ".join(f"{m:.0f}" for m in d["peak_rss_mb_per_worker"]),
                     _load_text(d["machine"], d["memory"]["load_average_1m"].get("during_full_run"))])
    out += _table(["patients", "source records (manifest)", "accounted", "latency", "workers", "full run s",
                   "records/s", "calls/record vs lower bound", "credits/record vs lower bound",
                   "calls in flight max / edition limit", "peak RSS MB/worker",
                   "machine load"], rows)
    out += ["Commands (one per row; each creates and drops its own database `bench_full_load`):", ""]
    out += [f"- `{PY} {d['command'].removeprefix('python ')}` → `bench/results/{d['file']}` ({d['date']})"
            + (f" — **stopped before its {' and '.join(d['phases_pending'])}**" if d.get("phases_pending") else "")
            for d in loads]
    out += ["", *projection(loads), *where_calls_go(loads), *delta_rollback_rows(loads)]
    return out


def projection(loads: list[dict[str, Any]]) -> list[str]:
    """100,000 patients from the largest measured run at 0 ms: a projection, never a measurement."""
    measured = [d for d in loads if d["latency_ms"] == 0]
    if not measured or any(d["patients"] >= 100_000 for d in measured):
        return []
    d = max(measured, key=lambda x: x["patients"])
    p = _per_record(d)
    per_patient = d["source_records"] / d["patients"]
    records = 100_000 * per_patient
    accounted = records * p["n"] / d["source_records"]
    seconds = accounted / p["rate"]
    return [f"**100,000 patients — projection, not a measurement:** at the rate measured with {d['patients']:,} "
            f"patients ({p['rate']:.1f} records/s, {per_patient:.1f} source records a patient) the full run of "
            f"≈{records:,.0f} source records would take ≈{seconds / 60:,.0f} min "
            f"({math.ceil(seconds / 3600)} h) on the same machine under the same load; it was therefore not run "
            f"here. Command: `{PY} bench/full_load.py --patients 100000 --latency-ms 0 --delta --rollback`.", ""]


def where_calls_go(loads: list[dict[str, Any]]) -> list[str]:
    d = max(loads, key=lambda x: (x["latency_ms"] == 0, x["patients"]))
    f = d["phases"]["full"]
    lb = f["lower_bound"]["modules"]
    calls = f["calls_by_kind"]
    rows = []
    for module, bound in lb.items():
        name = module.removesuffix(" (attachments)")
        kind = "attachment" if module.endswith("(attachments)") else "write"
        made = sum(v for k, v in calls.items() if k.startswith(f"{kind}:") and (kind == "attachment" or
                                                                               k == f"write:{name}"))
        rows.append([module, bound["records_written"], bound.get("method", "rest"), made, bound["calls"]])
    jobs = sum(v for k, v in calls.items() if k in ("bulk", "upload"))
    if jobs:
        rows.append(["Bulk Write (uploads, jobs, polls, results)", None, "bulk", jobs, None])
    others = sum(v for k, v in calls.items() if not k.startswith(("write:", "attachment:")) and k not in ("bulk",
                                                                                                        "upload"))
    rows.append(["other calls (metadata, reads and read-backs, tokens)", None, None, others, 0])
    return [f"Where the full run's calls went ({d['patients']:,} patients, {d['latency_ms']} ms; *lower bound* by "
            "the cheaper method for the records written, *calls made* REST writes or uploads to the module):", "",
            *_table(["destination module", "records written", "lower bound method", "calls made", "lower bound"],
                    rows)]


def delta_rollback_rows(loads: list[dict[str, Any]]) -> list[str]:
    rows = []
    for d in loads:
        delta, rollback = d["phases"].get("delta"), d["phases"].get("rollback")
        if not delta and not rollback:
            continue
        rows.append([d["patients"], f"{d['latency_ms']} ms",
                     delta and delta["patients_changed"], delta and delta["seconds"], delta and delta["api_calls"],
                     delta and delta["credits"], delta and delta["lower_bound"]["credits"],
                     rollback and rollback["deleted"], rollback and rollback["seconds"],
                     rollback and rollback["api_calls"], rollback and rollback["destination_records_left"]])
    if not rows:
        return []
    return ["Delta cost and rollback time in the same runs (`--delta`: 1% of the patients changed, then a delta run; "
            "`--rollback`: everything rolled back through the workers):", "",
            *_table(["patients", "latency", "patients changed", "delta s", "delta calls", "delta credits",
                     "delta credits lower bound", "rolled back (deleted)", "rollback s", "rollback calls",
                     "records left in the CRM"], rows)]


def other_results() -> list[str]:
    """Result files of benchmarks this script has no table for (e.g. delta_rollback): shown as they are."""
    known = {"source_read.json", "source_read_200k.json", "mapping_accuracy.json", "demo.json"}
    out: list[str] = []
    for path in sorted(RESULTS.glob("*.json")):
        if path.name in known or path.name.startswith("full_load_"):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data.get("results", data if isinstance(data, list) else [data])
        rows = [r for r in rows if isinstance(r, dict)]
        keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k != "bench" and all(
            not isinstance(r.get(k), dict | list) for r in rows)]
        script = next((r["bench"] for r in rows if isinstance(r.get("bench"), str)), path.stem)
        command = data.get("command") if isinstance(data, dict) else None
        if command and not command.startswith(("python", PY)):
            command = f"{PY} bench/{script}.py {command}"
        note = data.get("note") if isinstance(data, dict) else None
        out += [f"## {script.replace('_', ' ').capitalize()} (`{path.name}`)", "",
                (f"`{command}` → " if command else "") + f"`bench/results/{path.name}`" + (f". {note}" if note else ""),
                "", *_table(keys, [[r.get(k) for k in keys] for r in rows])]
    return out


def demo() -> list[str]:
    data = _load("demo.json")
    out = ["## The demo", "", "`NO_SERVE=1 make demo` in a fresh VAR_DIR (new SQLite file, migrations included): "
           "embedded (no Redis, runs in-process) and with REDIS_URL (the demo starts 2 `manage.py rqworker "
           "migrations` processes and stops them at the end). Target: under five minutes on a 2-core machine. "
           "CPU s counts the demo and every process it started.", ""]
    if not data:
        return [*out, f"Not measured yet: `{PY} bench/demo_time.py`.", ""]
    out += [f"`{PY} {data['command'].removeprefix('python ')}` → `bench/results/demo.json` ({data['date']})", ""]
    return out + _table(
        ["mode", "wall s", "under 5 min", "CPU s", "workers started", "load average before → after"],
        [[r["mode"], r["wall_seconds"], "yes" if r["under_five_minutes"] else "**no**", r["cpu_seconds"],
          "yes" if r["workers_started"] else "no",
          f"{r['load_average_before'][0]:.1f} → {r['load_average_after'][0]:.1f}"] for r in data["results"]])


# The other benchmarks, after the full loads (whose commands come from their result files), then this script.
COMMANDS = (
    "bench/delta_rollback.py --patients 10000 --out bench/results/delta_rollback_10k.json",
    "bench/delta_rollback.py --patients 100000 --out bench/results/delta_rollback_100k.json",
    "bench/demo_time.py",
    "bench/source_read.py --patients 2000 20000 --verify --out bench/results/source_read.json",
    "bench/mapping_accuracy.py --split all",
    "bench/summarise.py",
)
# Measured nowhere yet: the largest sizes take hours of this 2-core machine.
NOT_YET = (
    "bench/full_load.py --source-records 1000000 --latency-ms 0 --users 500 --delta --rollback "
    "--db-name bench_full_load_1m",
    "bench/full_load.py --source-records 1000000 --latency-ms 150 --workers 10 --users 500 --delta --rollback "
    "--db-name bench_full_load_1m_150",
)


def rerun() -> list[str]:
    loads = [d["command"].removeprefix("python ") for d in _full_loads()]
    measured = set(loads)
    return ["## Re-running", "",
            "One command per row; each full-load run creates and drops its own database (`bench_full_load`, "
            "`--db-name` to change) and starts a private redis-server (as does bench/demo_time.py), so nothing else "
            "can take their jobs. Run them one at a time on an otherwise idle machine for comparable rates.", "",
            "```", *(f"{PY} {c}" for c in (*loads, *COMMANDS)), "```", "",
            "Not measured yet (each takes hours of a 2-core machine):", "",
            "```", *(f"{PY} {c}" for c in NOT_YET if c not in measured), "```", ""]


def main() -> int:
    lines = ["# Benchmarks", "",
             "Generated by `.venv/bin/python bench/summarise.py` from `bench/results/*.json`; do not edit by hand. "
             "Every figure comes from a result file, with the command that wrote it. The machine is a shared 2-core "
             "VM: the load average next to each figure says how much else was running (a load above 2 means the "
             "benchmark got a fraction of the CPUs, so rates are lower and times longer than on an idle machine).",
             "", *full_load(), *demo(), *source_read(), *mapping_accuracy(), *other_results(), *rerun()]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"written {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
