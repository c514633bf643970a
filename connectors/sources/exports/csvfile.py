"""Streaming CSV with a byte-offset cursor, a sniffed delimiter and row-level recovery.

Lines are read as bytes and decoded one by one (a newline byte never sits inside a UTF-8 or single-byte
character), so the cursor is an exact byte offset that `seek` can resume from. The csv module pulls one
physical line at a time and hands back a record as soon as it is complete, which is what tells us where each
record starts and ends. A record that swallows lines (an unterminated quote) is detected by its column count
or by the end of the file, reported, and reading restarts on the line after its first one."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from connectors.sources.exports.encoding import EncodingChoice

DELIMITERS = (",", ";", "\t", "|")
# A quoted field may hold a long note with newlines; a bigger record is taken as an unterminated quote.
MAX_RECORD_BYTES = 4 << 20


@dataclass(frozen=True)
class RawRow:
    line: int                          # where it starts: physical line (CSV, NDJSON), row (XLSX), item (JSON)
    cursor: str                        # the position after this record
    values: dict[str, object] | None   # None when the record is malformed
    error: str = ""
    field: str = ""


class _RecordTooLong(Exception):
    pass


def sniff_delimiter(header: str) -> str:
    """The candidate that splits the header into the most columns (outside quotes)."""
    counts = {d: 0 for d in DELIMITERS}
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Lines:
    """Decoded physical lines from a binary file, counting the bytes and lines handed out."""

    def __init__(self, fh: BinaryIO, encoding: str, offset: int, line: int) -> None:
        self.fh = fh
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self.offset = offset
        self.line = line
        self.record_start = offset

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        raw = self.fh.readline()
        if not raw:
            raise StopIteration
        self.offset += len(raw)
        self.line += 1
        if self.offset - self.record_start > MAX_RECORD_BYTES:
            raise _RecordTooLong
        # surrogateescape keeps stray bytes visible so the row can be reported instead of silently garbled.
        return raw.decode(self.encoding, errors="surrogateescape")


def _has_stray(values: list[str]) -> int:
    for index, value in enumerate(values):
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            return index
    return -1


def read_header(path: Path, choice: EncodingChoice) -> tuple[list[str], str, int]:
    """(column names, delimiter, byte offset of the first data line)."""
    with path.open("rb") as fh:
        if choice.bom:
            fh.read(3)
        raw = fh.readline()
        offset = fh.tell()
    text = raw.decode("utf-8" if choice.encoding == "utf-8-sig" else choice.encoding, errors="replace")
    delimiter = sniff_delimiter(text)
    header = next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])
    return [name.strip() for name in header], delimiter, offset


def iter_csv(path: Path, choice: EncodingChoice, cursor: str | None = None) -> Iterator[RawRow]:
    """Rows of `path` as dicts keyed by the header, from `cursor` ("csv:<byte offset>:<line>") on."""
    columns, delimiter, offset = read_header(path, choice)
    line = 1
    if cursor:
        _, off, ln = cursor.split(":")
        offset, line = int(off), int(ln)
    with path.open("rb") as fh:
        while True:
            fh.seek(offset)
            lines = _Lines(fh, choice.encoding, offset, line)
            reader = csv.reader(lines, delimiter=delimiter, strict=True)
            restart: tuple[int, int] | None = None
            while True:
                start_offset, start_line = lines.offset, lines.line + 1
                lines.record_start = start_offset
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except (csv.Error, _RecordTooLong) as exc:
                    if isinstance(exc, _RecordTooLong) or "EOF" in str(exc) or "end of data" in str(exc):
                        reason = "unterminated quote"
                    elif lines.line > start_line:
                        reason = "unterminated quote (record runs over several lines)"
                    else:
                        reason = f"malformed CSV ({exc})"
                    restart = _after_first_line(fh, start_offset, start_line)
                    after = f"csv:{restart[0]}:{restart[1]}"
                    yield RawRow(line=start_line, cursor=after, values=None, error=reason)
                    break
                end = f"csv:{lines.offset}:{lines.line}"
                if not values or values == [""]:
                    continue
                spanned = lines.line - start_line + 1
                if len(values) != len(columns):
                    if spanned > 1:
                        restart = _after_first_line(fh, start_offset, start_line)
                        yield RawRow(line=start_line, cursor=f"csv:{restart[0]}:{restart[1]}", values=None,
                                     error="unterminated quote (record runs over several lines)")
                        break
                    yield RawRow(line=start_line, cursor=end, values=None,
                                 error=f"wrong column count: expected {len(columns)}, found {len(values)}")
                    continue
                stray = _has_stray(values)
                record: dict[str, object] = dict(zip(columns, values, strict=True))
                if stray >= 0:
                    yield RawRow(line=start_line, cursor=end, values=record, error="undecodable bytes",
                                 field=columns[stray])
                    continue
                yield RawRow(line=start_line, cursor=end, values=record)
            if restart is None:
                return
            offset, line = restart


def _after_first_line(fh: BinaryIO, start_offset: int, start_line: int) -> tuple[int, int]:
    fh.seek(start_offset)
    first = fh.readline()
    return start_offset + len(first), start_line
