"""Long notes become several notes: "(1/3) …", "(2/3) …", "(3/3) …", each within the byte threshold.

reference/freshsales.md, "Limits": the note size limit is unconfirmed; the seeds split notes over 32 KB. The parts'
bodies, markers removed, concatenate to exactly the original text (`join_note_parts`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

_MARKER = re.compile(r"^\((\d+)/(\d+)\) ")
# When a part would end mid-word, end it at the last whitespace within this share of its tail.
_SOFT_BREAK_SHARE = 0.1


def _marker(index: int, total: int) -> str:
    return f"({index}/{total}) "


def _chunks(data: bytes, room: int) -> list[bytes]:
    chunks: list[bytes] = []
    start = 0
    while start < len(data):
        cut = min(len(data), start + room)
        if cut < len(data):
            while cut > start and (data[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
                cut -= 1
            soft_floor = cut - int(room * _SOFT_BREAK_SHARE)
            space = max(data.rfind(b" ", soft_floor, cut), data.rfind(b"\n", soft_floor, cut))
            if space > start:
                cut = space + 1
        chunks.append(data[start:cut])
        start = cut
    return chunks


def split_note(text: str, limit_bytes: int) -> list[str]:
    """The descriptions to send: `[text]` when it fits in `limit_bytes` (UTF-8), else numbered parts."""
    data = text.encode("utf-8")
    if len(data) <= limit_bytes:
        return [text]
    total = 2
    while True:
        room = limit_bytes - len(_marker(total, total).encode())
        if room < 16:
            raise ValueError(f"note split threshold {limit_bytes} bytes leaves no room for text")
        chunks = _chunks(data, room)
        if len(str(len(chunks))) <= len(str(total)):
            total = len(chunks)
            return [_marker(i, total) + c.decode("utf-8") for i, c in enumerate(chunks, start=1)]
        total = len(chunks)


def join_note_parts(descriptions: Sequence[str]) -> str:
    """Undo `split_note`: the parts in order, markers removed."""
    if len(descriptions) == 1 and not _MARKER.match(descriptions[0]):
        return descriptions[0]
    return "".join(_MARKER.sub("", d, count=1) for d in descriptions)
