"""Generated practice data for the four source systems: `generate(system, patients=, seed=, out=)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.sources.generate.practice import Options, Rates

SYSTEMS = ("drdentes", "dentrix", "dental-exec", "dent-o-soft")


def generate(system: str, *, patients: int, seed: int, out: Path, encoding: str = "",
             large_files: str = "sparse", rates: Rates | None = None) -> dict[str, Any]:
    """Write an export folder for `system` and its manifest.json; return the manifest."""
    from connectors.sources.generate.systems import make

    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; one of {', '.join(SYSTEMS)}")
    opts = Options(system=system, patients=patients, seed=seed, out=out, encoding=encoding,
                   large_files=large_files, rates=rates or Rates())
    return make(opts).run()


__all__ = ["SYSTEMS", "Options", "Rates", "generate"]
