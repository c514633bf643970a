"""Source benchmark: for each system and patient count, generate an export and read it back, each in a fresh child
process, and report records/s and memory of each step separately: `start_rss_mb` (peak RSS once the modules are
imported) and `peak_rss_mb` (ru_maxrss at the end), so the growth due to the data is `peak - start`. Both steps
stream, so the peaks should not grow with the patient count.

    python bench/source_read.py --patients 2000 20000 --out bench/results/source_read.json
    python bench/source_read.py --patients 200000 --out bench/results/source_read_200k.json

`--verify` also profiles each export (as discovery does, in another child whose memory is not reported) and checks
that its counts and problems equal the manifest's. The results file is rewritten after every row."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYSTEMS = ("drdentes", "dentrix", "dental-exec", "dent-o-soft")


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _generate(system: str, patients: int, seed: int, out: str) -> dict[str, Any]:
    from connectors.sources.generate import generate

    start_rss = _rss_mb()
    start = time.perf_counter()
    manifest = generate(system, patients=patients, seed=seed, out=Path(out), large_files="index")
    seconds = time.perf_counter() - start
    records = sum(manifest["counts"].values())
    return {"seconds": round(seconds, 2), "records": records, "records_per_s": round(records / seconds),
            "start_rss_mb": start_rss, "peak_rss_mb": _rss_mb()}


def _read(system: str, out: str) -> dict[str, Any]:
    from connectors.base import SourceRecord, source_class

    records = issues = 0
    start_rss = _rss_mb()
    start = time.perf_counter()
    with source_class(system).from_connection({"path": out}, {}) as connector:
        for obj in connector.discover():
            for item in connector.iter_records(obj.name):
                if isinstance(item, SourceRecord):
                    records += 1
                else:
                    issues += 1
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "records": records, "issues": issues,
            "records_per_s": round(records / seconds), "start_rss_mb": start_rss, "peak_rss_mb": _rss_mb()}


def _verify(system: str, out: str) -> dict[str, Any]:
    from connectors.base import source_class
    from connectors.sources.profiling import profile_connector

    manifest = json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8"))
    with source_class(system).from_connection({"path": out}, {}) as connector:
        profile = profile_connector(connector)
    counts = {o.name: o.count for o in profile.objects}
    return {"counts_match": counts == manifest["counts"], "problems_match": profile.problems == manifest["problems"],
            "orphans_match": profile.orphans == manifest["orphans"], "problems": manifest["problems"]}


def _run(queue: mp.Queue, target: Any, args: tuple[Any, ...]) -> None:  # type: ignore[type-arg]
    queue.put(target(*args))


def _child(target: Any, *args: Any) -> dict[str, Any]:
    """Run target(*args) in a fresh interpreter (spawn), so its ru_maxrss is its own."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(queue, target, args))
    proc.start()
    result = queue.get()
    proc.join()
    if proc.exitcode:
        raise RuntimeError(f"{target.__name__} exited with {proc.exitcode}")
    return result  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verify", action="store_true", help="check discovery profiling against the manifest")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "source_read.json")
    parser.add_argument("--append", action="store_true", help="keep the rows already in --out")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    commands = [" ".join(sys.argv[1:])]
    if args.append and args.out.exists():
        previous = json.loads(args.out.read_text())
        results, commands = previous["results"], [*previous["commands"], *commands]
    failed = False
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for patients in args.patients:
        for system in args.systems:
            with tempfile.TemporaryDirectory() as tmp:
                row: dict[str, Any] = {"system": system, "patients": patients, "seed": args.seed,
                                       "generate": _child(_generate, system, patients, args.seed, tmp),
                                       "read": _child(_read, system, tmp)}
                if args.verify:
                    row["verify"] = _child(_verify, system, tmp)
                    failed |= not all(row["verify"][k] for k in ("counts_match", "problems_match", "orphans_match"))
            failed |= row["read"]["records"] != row["generate"]["records"] or row["read"]["issues"] > 0
            results.append(row)
            print(json.dumps(row), flush=True)
            args.out.write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                            "commands": commands, "results": results}, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
