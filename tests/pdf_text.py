"""Read back the text a reportlab PDF draws, so tests can check that tables are real text (not images)."""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.DOTALL)
_SHOW = re.compile(rb"\((.*?)(?<!\\)\)\s*Tj")


def pdf_strings(data: bytes) -> list[str]:
    """Every string shown with Tj in the PDF's content streams (ASCII runs; other glyphs come out as escapes)."""
    shown: list[str] = []
    for raw in _STREAM.findall(data):
        content = raw
        if raw.rstrip().endswith(b"~>"):  # reportlab may frame compressed streams in ASCII85
            content = base64.a85decode(raw.strip(), adobe=True)
        try:
            content = zlib.decompress(content)
        except zlib.error:
            pass
        shown += [m.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for m in _SHOW.findall(content)]
    return shown


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_strings(data))
