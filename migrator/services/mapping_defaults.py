"""Default field maps per platform pair: fixtures/catalog/fields/<source>__<destination>.json.

For every seed row that moves data, the canonical source object's columns (as the source connector names them) →
destination fields, with transform specs. A map starts from these at confidence 1.0 (origin catalog); the suggester
only fills what they leave out. A row is addressed by its catalog position; `module` picks one branch of a routed
row that sends records to several modules, and `companion` addresses the row's second move (images of a notes row).

File shape:
    {"source": "dentrix", "destination": "zoho-crm",
     "rows": [{"position": 6, "source_object": "appointment", "module": "", "companion": false,
               "route_params": {},
               "fields": [{"source": "appointment_id", "destination": "Source_System_ID",
                           "transform": {"kind": "copy"}, "values": {"1": "Confirmed"}}]}]}
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from migrator.services.transforms.specs import parse_transform

FIELDS_DIR = Path(settings.BASE_DIR) / "fixtures" / "catalog" / "fields"


class DefaultFieldsError(ValueError):
    """A default field-map file is malformed; the message names the file and the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultField(_Strict):
    source: str = ""                     # empty for constants and templates
    destination: str = Field(min_length=1)
    transform: dict[str, Any] = Field(default_factory=lambda: {"kind": "copy"})
    values: dict[str, str] = Field(default_factory=dict)   # value map rows for value_map transforms


class DefaultRow(_Strict):
    position: int = Field(ge=1)
    source_object: str = Field(min_length=1)
    module: str = ""
    companion: bool = False
    # Parameters of the row's routing rule (migrator/services/transforms/routing.py), copied into
    # ObjectMapping.route["params"], e.g. {"status_field": "Durum", "lead_values": ["Yeni Başvuru"]}.
    route_params: dict[str, Any] = Field(default_factory=dict)
    fields: list[DefaultField] = Field(min_length=1)


class DefaultFieldsFile(_Strict):
    source: str
    destination: str
    rows: list[DefaultRow]

    def row_for(self, position: int, module: str, *, companion: bool) -> DefaultRow | None:
        """The row entry for a catalog position (and routed branch, when the entry names one)."""
        for row in self.rows:
            if row.position == position and row.companion == companion and row.module in ("", module):
                return row
        return None


def fields_path(source: str, destination: str, directory: Path = FIELDS_DIR) -> Path:
    return directory / f"{source}__{destination}.json"


def load_default_fields(path: Path) -> DefaultFieldsFile:
    """Read and validate one file, every transform included. Raises DefaultFieldsError naming the entry."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        parsed = DefaultFieldsFile.model_validate(data)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise DefaultFieldsError(f"{path}: {exc}") from exc
    for row in parsed.rows:
        for entry in row.fields:
            try:
                parse_transform(entry.transform)
            except ValueError as exc:
                raise DefaultFieldsError(
                    f"{path}: row {row.position} {row.source_object}.{entry.source or '∅'} → "
                    f"{entry.destination}: {exc}"
                ) from exc
    return parsed


@lru_cache(maxsize=16)
def _cached(path: Path, mtime: float) -> DefaultFieldsFile:
    return load_default_fields(path)


def default_fields(source: str, destination: str, directory: Path = FIELDS_DIR) -> DefaultFieldsFile | None:
    """The pair's default field maps, or None when the pair has no file yet."""
    path = fields_path(source, destination, directory)
    if not path.exists():
        return None
    return _cached(path, path.stat().st_mtime)
