"""Row-by-row writers for generated exports (CSV in any encoding, XLSX, JSON array, NDJSON), each counting what
it writes: rows, rows pointing at deleted patients (orphans) and rows owned by inactive providers."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from connectors.sources.exports.tables import TableSpec

FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)


class Sink:
    def __init__(self, spec: TableSpec, root: Path, *, encoding: str = "utf-8", delimiter: str = ",",
                 newline: str = "\n") -> None:
        self.spec = spec
        self.path = root / spec.file
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self.orphans: Counter[str] = Counter()
        self.inactive_owned = 0
        self.names = [c.name for c in spec.columns]
        self._encoding = encoding
        self._delimiter = delimiter
        self._newline = newline
        self._fh: Any = None
        self._writer: Any = None
        self._wb: Workbook | None = None
        self._ws: Any = None
        self._open()

    def _open(self) -> None:
        fmt = self.spec.format
        if fmt == "xlsx":
            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet(self.spec.sheet or "Sayfa1")
            self._ws.append(self.names)
            return
        self._fh = self.path.open("w", encoding=self._encoding, newline="")
        if fmt == "csv":
            self._writer = csv.writer(self._fh, delimiter=self._delimiter, lineterminator=self._newline)
            self._writer.writerow(self.names)
        elif fmt == "json":
            self._fh.write("[")

    def write(self, row: dict[str, Any], *, deleted: set[str], inactive: set[str]) -> None:
        for column in self.spec.columns:
            if column.references == "patient" and str(row.get(column.name) or "") in deleted:
                self.orphans[column.name] += 1
        if self.spec.owner_field and str(row.get(self.spec.owner_field) or "") in inactive:
            self.inactive_owned += 1
        fmt = self.spec.format
        if fmt == "csv":
            self._writer.writerow(["" if row.get(n) is None else row.get(n) for n in self.names])
        elif fmt == "xlsx":
            self._ws.append([row.get(n) for n in self.names])
        elif fmt == "json":
            self._fh.write(("\n " if self.rows == 0 else ",\n ") + json.dumps(row, ensure_ascii=False))
        else:
            self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.rows += 1

    def close(self) -> None:
        if self._wb is not None:
            self._wb.save(self.path)
            _normalize_xlsx(self.path)
            return
        if self.spec.format == "json":
            self._fh.write("\n]\n")
        self._fh.close()


def _normalize_xlsx(path: Path) -> None:
    """Same seed, same bytes: fix the zip entry times and the workbook's created/modified stamps."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, data)
    path.write_bytes(buffer.getvalue())
