"""Text helpers: Turkish-aware case, e-mail normalisation, name split/join, long text and HTML.

Python's str.lower() turns "İ" into "i" + a combining dot and str.upper() turns "i" into "I", both wrong for
Turkish (reference/dental-data.md, "Encoding traps"); these helpers map the dotted/dotless pairs first."""

from __future__ import annotations

import html
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

_TR_LOWER = str.maketrans({"İ": "i", "I": "ı"})
_TR_UPPER = str.maketrans({"i": "İ", "ı": "I"})
_TURKISH_LETTERS = set("ğĞşŞıİ")


def looks_turkish(text: str) -> bool:
    return any(ch in _TURKISH_LETTERS for ch in text)


def lower(text: str, *, turkish: bool | None = None) -> str:
    """Lower-case; Turkish rules when asked, or when the text itself holds a Turkish-only letter."""
    if turkish is None:
        turkish = looks_turkish(text)
    if turkish:
        return text.translate(_TR_LOWER).lower()
    # Even outside Turkish text, never leave a combining dot behind "İ".
    return text.replace("İ", "i").lower()


def upper(text: str, *, turkish: bool | None = None) -> str:
    if turkish is None:
        turkish = looks_turkish(text)
    return text.translate(_TR_UPPER).upper() if turkish else text.upper()


def title(text: str, *, turkish: bool | None = None) -> str:
    """'AYŞE IŞIK' -> 'Ayşe Işık'; 'mary o'neil-smith' -> "Mary O'Neil-Smith"."""
    if turkish is None:
        turkish = looks_turkish(text)

    def word(match: re.Match[str]) -> str:
        w = match.group(0)
        return upper(w[0], turkish=turkish) + lower(w[1:], turkish=turkish)

    return re.sub(r"[^\W\d_]+", word, text)


_FOLD = str.maketrans({"ı": "i", "ş": "s", "ğ": "g", "ç": "c", "ö": "o", "ü": "u", "â": "a", "î": "i", "û": "u"})


def fold(text: str) -> str:
    """Comparison key: Turkish-aware lower case, then Turkish and common accented letters to ASCII, spaces squeezed.
    "İSTANBUL", "Istanbul" and "İstanbul" fold alike; "Işık" becomes "isik", not NFKD's "isk"."""
    folded = lower(text, turkish=True).translate(_FOLD)
    folded = unicodedata.normalize("NFKD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(folded.split())


# ------------------------------------------------------------------------------------------------ e-mail

_EMAIL_SPLIT = re.compile(r"[;,\s]+")


def normalise_email(raw: str, *, lowercase: bool) -> tuple[str | None, bool]:
    """-> (normalised address or None when invalid, whether several addresses were given)."""
    text = raw.strip().strip("<>").replace("mailto:", "")
    candidates = [c for c in _EMAIL_SPLIT.split(text) if c]
    if not candidates:
        return None, False
    first = candidates[0].strip("<>.")
    try:
        info = validate_email(first, check_deliverability=False)
    except EmailNotValidError:
        return None, len(candidates) > 1
    local, domain = info.local_part, info.ascii_domain.lower()
    return (f"{local.lower() if lowercase else local}@{domain}"), len(candidates) > 1


# ------------------------------------------------------------------------------------------------ names

SALUTATIONS = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam",
    "bay", "bayan", "sayın", "sayin", "dt", "uzm", "doç", "doc",
})


def split_name(full: str) -> dict[str, str]:
    """'Dr. Ayşe Nur Yılmaz' -> salutation Dr., first Ayşe, middle Nur, last Yılmaz; 'Smith, John A' too.

    The last word is the surname (Turkish and US practice alike); a comma means 'Last, First Middle'."""
    text = " ".join(full.split())
    parts: dict[str, str] = {"salutation": "", "first": "", "middle": "", "last": ""}
    if "," in text:
        last, _, rest = text.partition(",")
        parts["last"] = last.strip()
        words = rest.split()
    else:
        words = text.split()
        if words:
            parts["last"] = words.pop()
    if words and lower(words[0].rstrip(".")) in SALUTATIONS:
        parts["salutation"] = words.pop(0)
    if words:
        parts["first"] = words.pop(0)
    parts["middle"] = " ".join(words)
    return parts


# ------------------------------------------------------------------------------------------------ long text

_TAG = re.compile(r"<[^>]+>")
_BLOCK = re.compile(r"(?i)<\s*(br|/p|/div|/li|/tr|/h\d)\s*/?>")


def strip_html(text: str) -> str:
    """Rich-text notes to plain text: block ends become new lines, inline images and tags vanish."""
    text = _BLOCK.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def chunks(text: str, size: int) -> list[str]:
    """Split at the last blank line, new line or space before `size`, so notes break between words."""
    out: list[str] = []
    rest = text
    while len(rest) > size:
        cut = max(rest.rfind("\n\n", 0, size), rest.rfind("\n", 0, size), rest.rfind(" ", 0, size))
        if cut <= size // 2:
            cut = size
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out
