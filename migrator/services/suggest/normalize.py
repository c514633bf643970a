"""Names and labels to comparable words: snake_case, camelCase, PascalCase and "Doğum Tarihi" alike.

Turkish letters fold properly (İ→i, ı→i, ş→s, ğ→g, ç→c, ö→o, ü→u) through transforms.text.fold; NFKD alone
would drop "ı" and turn "Soyadı" into "soyad"."""

from __future__ import annotations

import re

from migrator.services.transforms.text import fold

_CAMEL_1 = re.compile(r"([a-zçğıöşü0-9])([A-ZÇĞİÖŞÜ])")        # firstName -> first Name
_CAMEL_2 = re.compile(r"([A-ZÇĞİÖŞÜ]+)([A-ZÇĞİÖŞÜ][a-zçğıöşü])")   # LName -> L Name, DOBDate -> DOB Date
_DIGITS = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])")
_SEPARATORS = re.compile(r"[\s_\-./:()\[\]#,;'\"’&+]+")


def words(text: str) -> tuple[str, ...]:
    """'PatFirstName' -> ('pat', 'first', 'name'); 'Doğum_Tarihi' -> ('dogum', 'tarihi'); 'line1' -> ('line', '1')."""
    text = _CAMEL_2.sub(r"\1 \2", _CAMEL_1.sub(r"\1 \2", text))
    text = _DIGITS.sub(" ", text)
    return tuple(w for w in _SEPARATORS.split(fold(text)) if w)


def phrase(text: str) -> str:
    return " ".join(words(text))


def compact(text: str) -> str:
    return "".join(words(text))


def ascii_words(text: str) -> list[str]:
    """Words for an api name: folded to ASCII letters and digits only."""
    return [re.sub(r"[^a-z0-9]", "", w) for w in words(text) if re.sub(r"[^a-z0-9]", "", w)]
