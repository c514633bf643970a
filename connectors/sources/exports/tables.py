"""A declared export table (file, columns, types) read into SourceRecords, with bad rows as SourceIssues.

Each system's schema.py declares its tables; the connectors, the generator and profiling share them, so a column
is named and typed in exactly one place."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.base import FieldType, SourceField, SourceIssue, SourceObject, SourceRecord
from connectors.sources.exports.csvfile import RawRow, iter_csv, read_header
from connectors.sources.exports.encoding import UTF8_BOM, EncodingChoice, detect_encoding
from connectors.sources.exports.structured import iter_json_array, iter_ndjson, iter_xlsx, read_xlsx_header
from connectors.sources.exports.values import Locale, ValueRejected, parse_value


@dataclass(frozen=True)
class Column:
    name: str                       # exactly as in the file's header (or JSON key)
    type: FieldType = "string"
    references: str = ""            # the parent object for reference columns
    label: str = ""
    api: str = ""                   # Dr.DENTES: the JSON key of the same field in its REST API

    def field(self, *, api: bool = False, custom: bool = False) -> SourceField:
        return SourceField(name=self.api if api and self.api else self.name, label=self.label or self.name,
                           type=self.type, references=self.references, custom=custom)


@dataclass(frozen=True)
class TableSpec:
    object_name: str
    label: str
    file: str                       # path inside the export folder; the extension decides the format
    columns: tuple[Column, ...]
    id_field: str
    owner_field: str = ""
    modified_field: str = ""
    has_attachments: bool = False
    custom_columns: bool = False    # unknown header columns are the practice's own fields (Dentrix v_patient)
    sheet: str = ""

    @property
    def format(self) -> str:
        suffix = self.file.rsplit(".", 1)[-1].lower()
        return {"txt": "csv", "tsv": "csv", "jsonl": "ndjson"}.get(suffix, suffix)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def source_object(self, header: list[str] | None = None) -> SourceObject:
        fields = [c.field() for c in self.columns]
        if header and self.custom_columns:
            known = {c.name for c in self.columns}
            fields += [SourceField(name=h, label=h, type="string", custom=True) for h in header if h not in known]
        return SourceObject(name=self.object_name, label=self.label, fields=tuple(fields), id_field=self.id_field,
                            owner_field=self.owner_field, modified_field=self.modified_field,
                            has_attachments=self.has_attachments)


class TableReader:
    """Reads the tables of one export folder; remembers each file's detected encoding."""

    def __init__(self, root: Path, locale: Locale, *, language: str, encoding: str = "") -> None:
        self.root = root
        self.locale = locale
        self.language = language
        self.declared = encoding
        self._encodings: dict[str, EncodingChoice] = {}

    def path(self, spec: TableSpec) -> Path:
        return self.root / spec.file

    def exists(self, spec: TableSpec) -> bool:
        return self.path(spec).is_file()

    def encoding(self, spec: TableSpec) -> EncodingChoice:
        if spec.format != "csv":
            return EncodingChoice(encoding="utf-8", reason=f"{spec.format} is always UTF-8")
        if spec.file not in self._encodings:
            self._encodings[spec.file] = detect_encoding(self.path(spec), language=self.language,
                                                         declared=self.declared)
        return self._encodings[spec.file]

    def _header_encoding(self, spec: TableSpec) -> EncodingChoice:
        """How to read the header line. One of plain ASCII (after a UTF-8 mark) reads the same in every encoding
        we accept, so the column names need no scan of the whole file: discover() runs at the start of every work
        unit, and scanning every file of a large export for each unit made the run's cost grow with units × export
        size. Any other header line waits for the file's encoding."""
        if spec.file in self._encodings or self.declared:
            return self.encoding(spec)
        with self.path(spec).open("rb") as fh:
            head = fh.readline()
        bom = head.startswith(UTF8_BOM)
        if (head[len(UTF8_BOM):] if bom else head).isascii():
            return EncodingChoice(encoding="utf-8-sig" if bom else "utf-8", reason="ASCII header line", bom=bom)
        return self.encoding(spec)

    def header(self, spec: TableSpec) -> list[str]:
        path = self.path(spec)
        if spec.format == "csv":
            return read_header(path, self._header_encoding(spec))[0]
        if spec.format == "xlsx":
            return read_xlsx_header(path, spec.sheet)
        return [c.name for c in spec.columns]

    def raw_rows(self, spec: TableSpec, cursor: str | None = None) -> Iterator[RawRow]:
        path = self.path(spec)
        if spec.format == "csv":
            return iter_csv(path, self.encoding(spec), cursor)
        if spec.format == "xlsx":
            return iter_xlsx(path, cursor, spec.sheet)
        if spec.format == "ndjson":
            return iter_ndjson(path, cursor)
        return iter_json_array(path, cursor)

    def iter_records(
        self, spec: TableSpec, *, since: datetime | None = None, cursor: str | None = None
    ) -> Iterator[SourceRecord | SourceIssue]:
        for raw in self.raw_rows(spec, cursor):
            item = self.to_record(spec, raw)
            if isinstance(item, SourceRecord) and since is not None and spec.modified_field:
                if item.modified_at is None or item.modified_at < since:
                    continue
            yield item

    def count(self, spec: TableSpec) -> int:
        return sum(1 for raw in self.raw_rows(spec) if raw.values is not None and not raw.error)

    def to_record(self, spec: TableSpec, raw: RawRow) -> SourceRecord | SourceIssue:
        def issue(reason: str, record_id: str = "", field: str = "") -> SourceIssue:
            return SourceIssue(object_name=spec.object_name, reason=reason, file=spec.file, line=raw.line,
                               record_id=record_id, field=field, cursor=raw.cursor)

        record_id = ""
        if raw.values is not None:
            record_id = str(raw.values.get(spec.id_field) or "").strip()
        if raw.values is None or raw.error:
            return issue(raw.error or "unreadable row", record_id, raw.field)
        if not record_id:
            return issue("missing record id", "", spec.id_field)
        data: dict[str, Any] = {}
        for name, value in raw.values.items():
            column = spec.column(name)
            try:
                data[name] = parse_value(value, column.type if column else "string", self.locale)
            except ValueRejected as exc:
                return issue(str(exc), record_id, name)
        modified = data.get(spec.modified_field) if spec.modified_field else None
        owner = data.get(spec.owner_field) if spec.owner_field else None
        return SourceRecord(object_name=spec.object_name, source_id=record_id, data=data, cursor=raw.cursor,
                            modified_at=modified if isinstance(modified, datetime) else None,
                            owner_id=str(owner) if owner not in (None, "") else None)
