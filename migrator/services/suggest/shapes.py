"""shape_of: a value's outline with the value itself gone ("99.99.9999", "email-like", "Aa:w2:len<=16").

Digits become 9 and letters A/a only for short codes and date-like text, where the mask is the point and carries no
identity; longer free text keeps only case, word count and a length bucket."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(https?://|www\.)\S+$", re.IGNORECASE)
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_DATEISH = re.compile(r"^\d{1,4}[./\-]\d{1,2}[./\-]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$")
_NUMBER = re.compile(r"^[-+]?[\d.,\s]*\d([.,]\d+)?$")

SHAPES_EMAIL = "email-like"
SHAPES_PHONE = "phone-like"
SHAPES_URL = "url-like"


def mask(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit():
            out.append("9")
        elif ch.isalpha():
            out.append("A" if ch.isupper() else "a")
        else:
            out.append(ch)
    return "".join(out)


def _bucket(n: int) -> str:
    for limit in (1, 4, 16, 64, 255, 2000, 32000):
        if n <= limit:
            return f"len<={limit}"
    return "len>32000"


def shape_of(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list | dict):
        return "json"
    text = str(value).strip()
    if not text:
        return "empty"
    if _EMAIL.match(text):
        return SHAPES_EMAIL
    if _URL.match(text):
        return SHAPES_URL
    if _DATEISH.match(text):
        return mask(text)
    digits = sum(ch.isdigit() for ch in text)
    if _PHONE.match(text) and digits >= 7 and (not text.isdigit() or text.startswith(("0", "+"))):
        return SHAPES_PHONE
    if text.isdigit():
        return mask(text) if len(text) <= 12 else f"digits:{_bucket(len(text))}"
    if _NUMBER.match(text):
        return "number"
    if text.lower() in {"true", "false", "yes", "no", "y", "n", "evet", "hayır", "hayir"}:
        return "boolean"
    if len(text) <= 6 and " " not in text:
        return mask(text)                   # codes: "A", "D2391", "MOD"
    if text.startswith(("{", "[")):
        return "json"
    if "<" in text and ">" in text:
        return f"html:{_bucket(len(text))}"
    words = text.split()
    case = "A" if text.isupper() else "a" if text.islower() else "Aa"
    return f"{case}:w{min(len(words), 5)}:{_bucket(len(text))}"
