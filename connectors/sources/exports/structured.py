"""Streaming XLSX (openpyxl read-only), JSON arrays and NDJSON, each with a resumable cursor.

XLSX cursors are row numbers; JSON cursors are byte offsets of the next element, found by decoding one element
at a time with `JSONDecoder.raw_decode` over a sliding buffer; NDJSON cursors are byte offset and line."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from datetime import time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from connectors.sources.exports.csvfile import RawRow

_CHUNK = 1 << 16
_DECODER = json.JSONDecoder()


def read_xlsx_header(path: Path, sheet: str = "") -> list[str]:
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        for row in ws.iter_rows(min_row=1, max_row=1, values_only=True):
            return [str(v).strip() if v is not None else "" for v in row]
        return []
    finally:
        wb.close()


def iter_xlsx(path: Path, cursor: str | None = None, sheet: str = "") -> Iterator[RawRow]:
    """Rows after the header as dicts; cells keep openpyxl's types (datetime, int, float, str)."""
    start = int(cursor.split(":")[1]) + 1 if cursor else 2
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        columns: list[str] = []
        for row in ws.iter_rows(min_row=1, max_row=1, values_only=True):
            columns = [str(v).strip() if v is not None else "" for v in row]
        for number, row in enumerate(ws.iter_rows(min_row=start, values_only=True), start=start):
            cells = list(row)
            while cells and cells[-1] is None and len(cells) > len(columns):
                cells.pop()
            if all(c is None for c in cells):
                continue
            cursor_after = f"xlsx:{number}"
            if len(cells) > len(columns):
                yield RawRow(line=number, cursor=cursor_after, values=None,
                             error=f"wrong column count: expected {len(columns)}, found {len(cells)}")
                continue
            cells += [None] * (len(columns) - len(cells))
            values: dict[str, object] = {}
            for name, cell in zip(columns, cells, strict=True):
                # A time-only cell comes back as datetime.time; dates keep their type for the value parser.
                values[name] = cell.isoformat() if isinstance(cell, time) else cell
            yield RawRow(line=number, cursor=cursor_after, values=values)
    finally:
        wb.close()


def _json_value(value: Any) -> dict[str, object] | None:
    return value if isinstance(value, dict) else None


def iter_json_array(path: Path, cursor: str | None = None) -> Iterator[RawRow]:
    """Objects of a top-level JSON array, one at a time; cursor "json:<byte offset>:<index>"."""
    offset, index = (int(cursor.split(":")[1]), int(cursor.split(":")[2])) if cursor else (0, 0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        if not cursor and fh.read(3) == b"\xef\xbb\xbf":
            offset = 3
        fh.seek(offset)
        buffer = ""
        eof = False

        def fill() -> bool:
            nonlocal buffer, eof
            chunk = fh.read(_CHUNK)
            eof = not chunk
            buffer += decoder.decode(chunk, final=eof)
            return not eof

        def skip(chars: int) -> None:
            nonlocal buffer, offset
            offset += len(buffer[:chars].encode("utf-8"))
            buffer = buffer[chars:]

        started = bool(cursor)
        while True:
            stripped = buffer.lstrip(" \t\r\n,")
            skip(len(buffer) - len(stripped))
            if not buffer:
                if eof or not fill():
                    if not buffer:
                        return
                continue
            if not started:
                if buffer[0] != "[":
                    yield RawRow(line=1, cursor=f"json:{offset}:{index}", values=None,
                                 error="not a JSON array of objects")
                    return
                skip(1)
                started = True
                continue
            if buffer[0] == "]":
                return
            try:
                value, end = _DECODER.raw_decode(buffer)
            except json.JSONDecodeError:
                if not eof and fill():
                    continue
                here = f"json:{offset}:{index}"
                yield RawRow(line=index + 1, cursor=here, values=None, error="malformed JSON")
                return
            if end == len(buffer) and not eof and fill():
                continue  # a number at the very end of the buffer may go on in the next chunk
            skip(end)
            index += 1
            record = _json_value(value)
            yield RawRow(line=index, cursor=f"json:{offset}:{index}", values=record,
                         error="" if record is not None else "not a JSON object")


def iter_ndjson(path: Path, cursor: str | None = None) -> Iterator[RawRow]:
    offset, line = (int(cursor.split(":")[1]), int(cursor.split(":")[2])) if cursor else (0, 0)
    with path.open("rb") as fh:
        fh.seek(offset)
        for raw in fh:
            offset += len(raw)
            line += 1
            text = raw.strip()
            if line == 1 and text.startswith(b"\xef\xbb\xbf"):
                text = text[3:]
            if not text:
                continue
            after = f"ndjson:{offset}:{line}"
            try:
                value = json.loads(text.decode("utf-8"))
            except UnicodeDecodeError:
                yield RawRow(line=line, cursor=after, values=None, error="undecodable bytes")
                continue
            except json.JSONDecodeError:
                yield RawRow(line=line, cursor=after, values=None, error="malformed JSON")
                continue
            record = _json_value(value)
            error = "" if record is not None else "not a JSON object"
            yield RawRow(line=line, cursor=after, values=record, error=error)
