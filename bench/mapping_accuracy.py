"""Mapping suggester accuracy on the labelled set in tests/data/mapping_eval/.

    .venv/bin/python bench/mapping_accuracy.py [--split all|train|heldout]

Prints, per system and overall: top-1 accuracy, precision at confidence >= 0.9 and coverage at >= 0.9; writes
bench/results/mapping_accuracy.json. A suggestion is right when its target is the labelled one, or when it proposes
a new field and the label is "create". Targets are judged against the vocabulary's standard fields."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "mapping_eval" / "fields.json"
RESULT = ROOT / "bench" / "results" / "mapping_accuracy.json"
HIGH = 0.9


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def predictions(split: str = "all") -> list[dict[str, Any]]:
    """One row per labelled item: expected, predicted target (or "create") and confidence."""
    from migrator.services.suggest import RuleBasedSuggester, SourceFieldDesc, SourceObjectDesc, destination_fields

    items = [i for i in json.loads(DATA.read_text(encoding="utf-8"))["items"] if split in ("all", i["split"])]
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        groups[(item["system"], item["object"], item["destination"], item["module"])].append(item)
    suggester = RuleBasedSuggester()
    rows = []
    for (system, obj, destination, module), group in groups.items():
        desc = SourceObjectDesc(name=obj, label=group[0]["object_label"], fields=tuple(
            SourceFieldDesc(name=i["field"]["name"], label=i["field"]["label"], type=i["field"]["type"],
                            shapes=tuple(i["field"]["shapes"])) for i in group))
        # The whole object is suggested at once, as the workbench does, so conflicts resolve as they would live.
        out = suggester.suggest_fields(desc, destination_fields(destination, module), system=system,
                                       destination=destination, module=module)
        for item, s in zip(group, out, strict=True):
            predicted = s.target if s.target is not None else "create"
            rows.append({"system": system, "object": obj, "destination": destination, "field": s.source,
                         "expected": item["expected"], "predicted": predicted, "confidence": s.confidence,
                         "split": item["split"], "right": predicted == item["expected"]})
    return rows


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    high = [r for r in rows if r["confidence"] >= HIGH]
    return {
        "items": len(rows),
        "top1_accuracy": round(sum(r["right"] for r in rows) / len(rows), 4) if rows else None,
        "precision_at_0_9": round(sum(r["right"] for r in high) / len(high), 4) if high else None,
        "coverage_at_0_9": round(len(high) / len(rows), 4) if rows else None,
        "errors_at_0_9": len([r for r in high if not r["right"]]),
    }


def report(split: str) -> dict[str, Any]:
    rows = predictions(split)
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_system[r["system"]].append(r)
    return {
        "split": split,
        "overall": summarise(rows),
        "by_system": {name: summarise(rs) for name, rs in sorted(by_system.items())},
        "by_split": {name: summarise([r for r in rows if r["split"] == name]) for name in ("train", "heldout")},
        "mistakes": [{k: r[k] for k in ("system", "object", "destination", "field", "expected", "predicted",
                                         "confidence")} for r in rows if not r["right"]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all", choices=["all", "train", "heldout"])
    parser.add_argument("--show-mistakes", action="store_true")
    args = parser.parse_args()
    _setup()
    result = report(args.split)
    print(f"{'system':<14}{'items':>6}{'top-1':>8}{'prec@0.9':>10}{'cov@0.9':>9}")
    for name, s in [*result["by_system"].items(), ("overall", result["overall"]),
                    *((f"[{k}]", v) for k, v in result["by_split"].items())]:
        prec = "-" if s["precision_at_0_9"] is None else f"{s['precision_at_0_9']:.3f}"
        print(f"{name:<14}{s['items']:>6}{s['top1_accuracy'] or 0:>8.3f}{prec:>10}{s['coverage_at_0_9'] or 0:>9.3f}")
    if args.show_mistakes:
        for m in result["mistakes"]:
            print(f"  {m['system']}/{m['object']} {m['destination']}: {m['field']} -> {m['predicted']} "
                  f"({m['confidence']}) expected {m['expected']}")
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
