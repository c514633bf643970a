# ruff: noqa: RUF001 -- Turkish and Western letters are the subject of this module
"""Which text encoding an export file is in, decided from its bytes and the system's language, never guessed.

Exports arrive as UTF-8 with or without BOM, cp1254 (Turkish Windows), cp1252 or Latin-1
(reference/dental-data.md, "Dr.DENTES": "Detect, never guess silently"). UTF-8 is recognised by its structure.
The single-byte code pages agree on most bytes; they differ on a handful (cp1254 İ ı Ş ş Ğ ğ where
cp1252/Latin-1 have the Icelandic Ý ý Þ þ Ð ð) and on 0x80-0x9F (C1 controls in Latin-1). A candidate
survives when it decodes every high byte of the file into letters plausible for the system's language; exactly
one must survive, or the candidates decode identically. Anything else is refused with the candidates named, so
a human sets the encoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from connectors.base import PermanentError

UTF8_BOM = b"\xef\xbb\xbf"
SINGLE_BYTE = ("cp1254", "cp1252", "latin-1")
_CHUNK = 1 << 20

# A well-formed UTF-8 multi-byte sequence (no overlongs, no surrogates).
_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_HIGH = re.compile(rb"[\x80-\xff]")

_WESTERN_LETTERS = set("àáâãäåæçèéêëìíîïñòóôõöøùúûüÿßÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜŸŒœŠšŽž")
_TURKISH_LETTERS = set("çğıöşüÇĞİÖŞÜâîûÂÎÛ")
# Punctuation and symbols the Windows code pages put in 0x80-0xBF and that any language may use.
_SYMBOLS = set("€‚ƒ„…†‡ˆ‰‹‘’“”•–—˜™›\xa0¡¢£¤¥¦§¨©ª«¬\xad®¯°±²³´µ¶·¸¹º»¼½¾¿×÷")

PLAUSIBLE: dict[str, frozenset[str]] = {
    "tr": frozenset(_TURKISH_LETTERS | _SYMBOLS | set("éèäëïÉÄ")),
    "en": frozenset(_WESTERN_LETTERS | _SYMBOLS),
}
PREFERRED: dict[str, tuple[str, ...]] = {
    "tr": ("cp1254", "cp1252", "latin-1"),
    "en": ("cp1252", "cp1254", "latin-1"),
}


class EncodingRefused(PermanentError):
    """The file's encoding cannot be decided, or no candidate decodes it. Set `encoding` in the connection."""

    def __init__(self, message: str, *, candidates: tuple[str, ...] = ()) -> None:
        super().__init__(message, code="ENCODING_REFUSED")
        self.candidates = candidates


@dataclass(frozen=True)
class EncodingChoice:
    encoding: str          # a Python codec name: utf-8-sig, utf-8, cp1254, cp1252, latin-1
    reason: str            # why, for the discovery report
    bom: bool = False
    invalid_bytes: int = 0  # UTF-8 files only: stray bytes that the row reader reports as undecodable rows


def _scan(path: Path) -> tuple[bool, int, int, set[int]]:
    """One streaming pass: (BOM?, well-formed UTF-8 sequences, stray high bytes, distinct high bytes)."""
    seqs = stray = 0
    distinct: set[int] = set()
    tail = b""
    with path.open("rb") as fh:
        head = fh.read(3)
        bom = head == UTF8_BOM
        data = b"" if bom else head
        while True:
            chunk = fh.read(_CHUNK)
            data = tail + data + chunk
            if not chunk:
                tail = b""
            else:
                # Keep an incomplete trailing sequence (at most 3 bytes) for the next round.
                cut = len(data)
                for back in range(1, min(4, len(data)) + 1):
                    if data[-back] >= 0xC0:
                        cut = len(data) - back
                        break
                    if data[-back] < 0x80:
                        break
                data, tail = data[:cut], data[cut:]
            distinct.update(m[0] for m in _HIGH.findall(data))
            matches = _UTF8_SEQ.findall(data)
            covered = sum(len(m) for m in matches)
            seqs += len(matches)
            stray += len(_HIGH.findall(data)) - covered
            data = b""
            if not chunk:
                break
    return bom, seqs, stray, distinct


def detect_encoding(path: Path, *, language: str = "en", declared: str = "") -> EncodingChoice:
    """Decide the encoding of `path` for a system whose text is in `language` ("tr" or "en").

    `declared` (from the connection's config) wins when given. Raises EncodingRefused when undecidable."""
    if declared:
        return EncodingChoice(encoding=declared, reason="declared in the connection settings")
    bom, seqs, stray, distinct = _scan(path)
    if bom:
        return EncodingChoice(
            encoding="utf-8-sig", reason="UTF-8 byte-order mark", bom=True, invalid_bytes=stray
        )
    if not distinct:
        return EncodingChoice(encoding="utf-8", reason="plain ASCII (read as UTF-8)")
    if seqs and stray <= seqs:
        reason = "valid UTF-8" if not stray else f"UTF-8 with {stray} undecodable byte(s), reported per row"
        return EncodingChoice(encoding="utf-8", reason=reason, invalid_bytes=stray)

    plausible = PLAUSIBLE.get(language, PLAUSIBLE["en"])
    high = bytes(sorted(distinct))
    decoded: dict[str, str] = {}
    survivors: list[str] = []
    undecodable: list[str] = []
    for codec in PREFERRED.get(language, PREFERRED["en"]):
        try:
            text = high.decode(codec)
        except UnicodeDecodeError:
            undecodable.append(codec)
            continue
        if any("\x80" <= ch <= "\x9f" for ch in text):
            undecodable.append(codec)  # C1 control characters: Latin-1 reading Windows punctuation
            continue
        decoded[codec] = text
        if all(ch in plausible for ch in text):
            survivors.append(codec)
    if not decoded:
        raise EncodingRefused(
            f"{path.name}: cannot be decoded as UTF-8, cp1254, cp1252 or latin-1 "
            f"(bytes {', '.join(f'0x{b:02X}' for b in high[:8])} are undefined); set the encoding explicitly",
            candidates=(),
        )
    if len(survivors) > 1 and len({decoded[c] for c in survivors}) == 1:
        codec = survivors[0]
        same = ", ".join(survivors)
        return EncodingChoice(encoding=codec, reason=f"single-byte; {same} decode it identically")
    if len(survivors) == 1:
        others = ", ".join(c for c in decoded if c != survivors[0])
        return EncodingChoice(
            encoding=survivors[0], reason=f"only {survivors[0]} gives {language} letters (not {others})"
        )
    candidates = tuple(survivors or decoded)
    shown = "; ".join(f"{c} reads {decoded[c]!r}" for c in candidates)
    raise EncodingRefused(
        f"{path.name}: ambiguous encoding, candidates {', '.join(candidates)} ({shown}); "
        "set the connection's encoding explicitly",
        candidates=candidates,
    )
