"""Numbers, amounts and booleans as practices export them: "1.234,50", "1,234.50", "(12.00)", "Evet"."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

_CLEAN = re.compile(r"[^\d,.\-+]")


class NumberParseError(ValueError):
    """Not a number. Carries no value."""


def parse_decimal(value: Any, *, separator: str = "auto", comma_decimal: bool = False) -> Decimal:
    """Decimal commas and thousands groups; currency signs, spaces and accounting parentheses ignored."""
    if isinstance(value, bool):
        raise NumberParseError("boolean is not a number")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if not isinstance(value, str):
        raise NumberParseError("unsupported value type")
    text = value.strip()
    negative = text.startswith("(") and text.endswith(")")
    text = _CLEAN.sub("", text)
    if text.count("-") + text.count("+") > 1 or not any(ch.isdigit() for ch in text):
        raise NumberParseError("not a number")
    sign = "-" if negative or text.startswith("-") or text.endswith("-") else ""
    text = text.strip("+-")
    if separator == "auto":
        separator = _guess_separator(text, comma_decimal=comma_decimal)
    thousands = "." if separator == "," else ","
    if separator == "," and text.count(",") > 1:
        raise NumberParseError("not a number")
    text = text.replace(thousands, "").replace(separator, ".")
    try:
        return Decimal(sign + text)
    except InvalidOperation:
        raise NumberParseError("not a number") from None


def _guess_separator(text: str, *, comma_decimal: bool) -> str:
    """The right-most of ',' and '.' is the decimal mark when both appear. A lone mark before exactly three
    digits ("1,234", "1.234") is ambiguous: it is a thousands group, read by the source region's convention."""
    last_comma, last_dot = text.rfind(","), text.rfind(".")
    if last_comma >= 0 and last_dot >= 0:
        return "," if last_comma > last_dot else "."
    mark = "," if last_comma >= 0 else "." if last_dot >= 0 else ""
    if not mark:
        return "."
    groups = text.split(mark)
    if len(groups) > 2:
        return "," if mark == "." else "."   # "1.234.567" / "1,234,567": several groups are thousands
    if len(groups[1]) == 3:
        # "1.234" in Turkey is one thousand two hundred thirty-four; in the US it is one point two three four.
        return "," if comma_decimal else "."
    return mark


def quantize(number: Decimal, places: int) -> Decimal:
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "x", "on", "evet", "e", "var", "aktif", "active", "checked"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "hayır", "hayir", "h", "yok", "pasif", "inactive",
                         "unchecked"})
