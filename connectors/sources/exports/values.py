"""Value parsing per source locale: dates in the system's order, two-digit years, "no date" sentinels, decimal
commas, and local times made aware in the system's zone (Dr.DENTES: Europe/Istanbul).

Every parser takes the raw cell (a string from CSV/JSON, or a typed value from XLSX) and returns the parsed
value or None for empty; an impossible value raises ValueRejected with a reason that names no value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from connectors.base import FieldType


class ValueRejected(ValueError):
    """The raw value cannot be what the column says (an impossible date, a non-number)."""


@dataclass(frozen=True)
class Locale:
    date_order: str = "YMD"          # the order of day/month/year in slashed or dotted dates: DMY, MDY or YMD
    decimal_comma: bool = False      # 1.234,50 rather than 1,234.50
    tz: str = "UTC"                  # the zone naive local times are in
    pivot: int = 30                  # two-digit years: yy < pivot -> 20yy, else 19yy
    sentinels: frozenset[str] = frozenset(
        {"0001-01-01", "01.01.1900", "1900-01-01", "01/01/1900", "1/1/1900", "00.00.0000", "00/00/0000"}
    )
    true_words: frozenset[str] = frozenset({"1", "true", "yes", "y", "t", "evet", "x", "-1"})
    false_words: frozenset[str] = frozenset({"0", "false", "no", "n", "f", "hayır", "hayir", ""})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SEP_DATE = re.compile(r"^(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*([AaPp][Mm])?$")
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def _year(raw: str, locale: Locale) -> int:
    year = int(raw)
    if len(raw) <= 2:
        year += 2000 if year < locale.pivot else 1900
    return year


def parse_date(raw: Any, locale: Locale) -> date | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return None if _is_sentinel(raw.date()) else raw.date()
    if isinstance(raw, date):
        return None if _is_sentinel(raw) else raw
    text = str(raw).strip()
    if not text or text in locale.sentinels:
        return None
    text = text.split("T")[0].split(" ")[0]
    if text in locale.sentinels:
        return None
    if m := _ISO_DATE.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _SEP_DATE.match(text):
        a, b, c = m[1], m[2], m[3]
        if len(a) == 4:
            y, mo, d = int(a), int(b), int(c)
        elif locale.date_order == "MDY":
            mo, d, y = int(a), int(b), _year(c, locale)
        else:
            d, mo, y = int(a), int(b), _year(c, locale)
    else:
        raise ValueRejected("not a date in the expected format")
    try:
        value = date(y, mo, d)
    except ValueError:
        raise ValueRejected("impossible date") from None
    return None if _is_sentinel(value) else value


def _is_sentinel(value: date) -> bool:
    return value.year <= 1 or (value.year == 1900 and value.month == 1 and value.day == 1)


def parse_time(text: str) -> time:
    m = _TIME.match(text.strip())
    if not m:
        raise ValueRejected("not a time")
    hour, minute = int(m[1]), int(m[2])
    if m[5]:
        hour = hour % 12 + (12 if m[5].lower() == "pm" else 0)
    try:
        return time(hour, minute, int(m[3] or 0), int((m[4] or "0").ljust(6, "0")))
    except ValueError:
        raise ValueRejected("impossible time") from None


def parse_datetime(raw: Any, locale: Locale) -> datetime | None:
    """Aware datetime. Naive local times are placed in the locale's zone; explicit offsets are kept."""
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=locale.zone)
    if isinstance(raw, date):
        return datetime.combine(raw, time(), tzinfo=locale.zone)
    text = str(raw).strip()
    if not text or text in locale.sentinels:
        return None
    offset: tzinfo | None = None
    if (m := _TZ_SUFFIX.search(text)) and ("T" in text or " " in text):
        suffix = m[1]
        text = text[: m.start()].strip()
        if suffix == "Z":
            offset = ZoneInfo("UTC")
        else:
            sign = 1 if suffix[0] == "+" else -1
            digits = suffix[1:].replace(":", "")
            offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    day_part, _, time_part = text.replace("T", " ", 1).partition(" ")
    day = parse_date(day_part, locale)
    if day is None:
        return None
    moment = parse_time(time_part) if time_part.strip() else time()
    return datetime.combine(day, moment, tzinfo=offset or locale.zone)


def parse_decimal(raw: Any, locale: Locale) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueRejected("not a number")
    if isinstance(raw, int | float | Decimal):
        return Decimal(str(raw))
    text = str(raw).strip().replace("\xa0", "").replace(" ", "")
    for symbol in ("₺", "TL", "$", "€", "USD", "TRY"):
        text = text.replace(symbol, "")
    if not text:
        return None
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if locale.decimal_comma or re.fullmatch(r"-?\d{1,3}(\.\d{3})+,\d+|-?\d+,\d{1,2}", text):
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueRejected("not a number") from None
    if not value.is_finite():
        raise ValueRejected("not a number")
    return -value if negative else value


def parse_integer(raw: Any, locale: Locale) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw != int(raw):
            raise ValueRejected("not a whole number")
        return int(raw)
    text = str(raw).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        number = parse_decimal(text, locale)
        if number is None or number != number.to_integral_value():
            raise ValueRejected("not a whole number") from None
        return int(number)


def parse_boolean(raw: Any, locale: Locale) -> bool | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return raw != 0
    text = str(raw).strip().lower()
    if text == "":
        return None
    if text in locale.true_words:
        return True
    if text in locale.false_words:
        return False
    raise ValueRejected("not a yes/no value")


def parse_text(raw: Any, locale: Locale) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw if raw.strip() else None
    if isinstance(raw, float) and raw == int(raw):
        return str(int(raw))
    if isinstance(raw, list | dict):
        return raw
    return str(raw)


def parse_value(raw: Any, kind: FieldType, locale: Locale) -> Any:
    """Parse one raw cell as `kind`. Strings stay exactly as read (Turkish text untouched)."""
    if kind == "date":
        return parse_date(raw, locale)
    if kind == "datetime":
        return parse_datetime(raw, locale)
    if kind in ("decimal", "currency"):
        return parse_decimal(raw, locale)
    if kind == "integer":
        return parse_integer(raw, locale)
    if kind == "boolean":
        return parse_boolean(raw, locale)
    if kind == "json":
        return raw if raw not in ("", None) else None
    return parse_text(raw, locale)
